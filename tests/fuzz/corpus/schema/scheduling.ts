import { defineTable } from "convex/server";
import { v } from "convex/values";

export const schedulingTables = {
  events: defineTable({
    title: v.string(),
    description: v.optional(v.string()),
    startTime: v.number(),
    endTime: v.number(),
    createdBy: v.string(), // a user or agent id
    participants: v.optional(v.array(v.string())),
    tags: v.optional(v.array(v.string())),
    createdAt: v.number(),
  })
    .index("by_creator_and_start", ["createdBy", "startTime"])
    .index("by_start", ["startTime"]),

  reminders: defineTable({
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    message: v.string(),
    remindAt: v.number(),
    relatedEntity: v.optional(v.string()), // a message id, event id…
    createdAt: v.number(),
  })
    .index("by_remindAt", ["remindAt"])
    .index("by_user", ["userId", "remindAt"])
    .index("by_agent", ["agentId", "remindAt"]),
};
