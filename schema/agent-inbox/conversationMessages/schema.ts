import { v } from "convex/values";

const common = {
  conversationId: v.id("conversations"),
  content: v.string(),
};

export const conversationMessagesSchemaValidator = v.union(
  v.object({
    ...common,
    kind: v.literal("participant"),
    authorParticipantId: v.id("conversationParticipants"),
  }),
  v.object({
    ...common,
    kind: v.literal("system"),
    // e.g. { toolName, agentName } for tool-use notices
    meta: v.optional(v.any()),
  }),
);
