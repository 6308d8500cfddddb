// The legacy agent-inbox schema ("v0"): the Convex schema existing
// deployments hold their data in. ONE reads it, serves it and migrates it to
// the ONE schema. Split over files as the original project was.
import { defineSchema, defineTable } from "convex/server";
import { authTables } from "@convex-dev/auth/server";
import { conversationsTable } from "./conversations/schema";
import { agentsSchemaValidator } from "./agents/schema";
import { conversationParticipantsSchemaValidator } from "./conversationParticipants/schema";
import { conversationMessagesSchemaValidator } from "./conversationMessages/schema";

export default defineSchema({
  ...authTables,
  conversations: conversationsTable,
  agents: defineTable(agentsSchemaValidator)
    .index("by_creator", ["createdBy"])
    .index("by_name", ["name"])
    .index("by_system_agent_kind", ["systemAgentKind"]),
  conversationParticipants: defineTable(conversationParticipantsSchemaValidator)
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_isRemoved", ["conversationId", "isRemoved"])
    .index("by_userId", ["userId"])
    .index("by_conversationId_kind_agentId", ["conversationId", "kind", "agentId"])
    .index("by_conversationId_kind_userId", ["conversationId", "kind", "userId"])
    .index("by_conversationId_status", ["conversationId", "status"]),
  conversationMessages: defineTable(conversationMessagesSchemaValidator)
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_kind", ["conversationId", "kind"]),
});
