import { defineTable } from "convex/server";
import { v } from "convex/values";

export const socialTables = {
  // One of each type per person per message; "like", "love", "laugh", emoji…
  reactions: defineTable({
    messageId: v.id("conversationMessages"),
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    type: v.string(),
    createdAt: v.number(),
  })
    .index("by_message", ["messageId"])
    .index("by_message_and_user", ["messageId", "userId", "type"])
    .index("by_message_and_agent", ["messageId", "agentId", "type"])
    .index("by_user", ["userId"]),

  comments: defineTable({
    messageId: v.id("conversationMessages"),
    authorParticipantId: v.id("conversationParticipants"),
    content: v.string(),
    createdAt: v.number(),
  }).index("by_message", ["messageId"]),

  // followerId and followeeId are user or agent ids.
  follows: defineTable({
    followerId: v.string(),
    followeeId: v.string(),
    kind: v.union(v.literal("user"), v.literal("agent")),
    createdAt: v.number(),
  })
    .index("by_follower", ["followerId"])
    .index("by_followee", ["followeeId"])
    .index("by_follower_and_followee", ["followerId", "followeeId"]),
};
