import { defineTable } from "convex/server";
import { v } from "convex/values";

export const migrationTables = {
  // Values the ONE schema has no field for, moved here (never dropped) by a
  // migration step: `one migrate verify` counts them, `down` puts them back.
  migrationLegacy: defineTable({
    table: v.string(), // the table of the document the values came from
    docId: v.string(), // that document's _id
    step: v.string(), // the migration step that moved them
    fields: v.any(), // the values by field name, exactly as they were
    reason: v.string(),
    createdAt: v.number(),
  })
    .index("by_doc", ["docId"])
    .index("by_step", ["step"]),
};
