// The ONE schema ("v1"): people and agents working together in
// conversations, with knowledge, social features, scheduling, learning flows,
// commerce, usage and evaluation. Every request path ONE serves has its index
// here (see docs/schema.md for which query uses which).
import { defineSchema } from "convex/server";
import { peopleTables } from "./people";
import { agentTables } from "./agents";
import { conversationTables } from "./conversations";
import { socialTables } from "./social";
import { schedulingTables } from "./scheduling";
import { learningTables } from "./learning";
import { commerceTables } from "./commerce";
import { accountTables } from "./accounts";
import { migrationTables } from "./migration";

export default defineSchema({
  ...peopleTables,
  ...agentTables,
  ...conversationTables,
  ...socialTables,
  ...schedulingTables,
  ...learningTables,
  ...commerceTables,
  ...accountTables,
  ...migrationTables,
});
