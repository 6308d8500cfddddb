import { defineTable } from "convex/server";
import { v } from "convex/values";
import { step } from "./steps";

const participantCommon = {
  conversationId: v.id("conversations"),
  status: v.string(), // "inactive", "thinking", …
  isRemoved: v.boolean(),
  addedAt: v.number(),
};

export const conversationTables = {
  conversations: defineTable({
    title: v.string(),
    createdBy: v.id("users"),
    createdAt: v.number(),
    lastMessageTime: v.optional(v.number()),
    tags: v.optional(v.array(v.string())),
    groupId: v.optional(v.id("groups")),
  })
    .index("by_user_and_time", ["createdBy", "lastMessageTime"])
    .index("by_group", ["groupId"]),

  conversationParticipants: defineTable(
    v.union(
      v.object({ ...participantCommon, kind: v.literal("user"), userId: v.id("users") }),
      v.object({ ...participantCommon, kind: v.literal("agent"), agentId: v.id("agents") }),
    ),
  )
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_isRemoved", ["conversationId", "isRemoved"])
    .index("by_userId", ["userId"])
    .index("by_agentId", ["agentId"])
    .index("by_conversationId_kind_agentId", ["conversationId", "kind", "agentId"])
    .index("by_conversationId_kind_userId", ["conversationId", "kind", "userId"])
    .index("by_conversationId_status", ["conversationId", "status"]),

  conversationMessages: defineTable({
    conversationId: v.id("conversations"),
    // Required for every message, system messages included.
    authorParticipantId: v.id("conversationParticipants"),
    kind: v.union(v.literal("participant"), v.literal("system")),
    type: v.optional(v.string()),
    step: v.optional(step),
    status: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    content: v.string(),
    attachments: v.optional(v.array(v.any())),
    createdAt: v.number(),
    vector: v.optional(v.array(v.number())),
    meta: v.optional(v.any()),
    cost: v.optional(v.number()), // cost of the AI generation behind it
    tokensUsed: v.optional(v.number()),
  })
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_kind", ["conversationId", "kind"])
    .index("by_author", ["authorParticipantId"]),
};
