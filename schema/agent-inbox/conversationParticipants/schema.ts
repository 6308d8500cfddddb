import { v } from "convex/values";

export const participantStatus = v.union(v.literal("inactive"), v.literal("thinking"));

const common = {
  conversationId: v.id("conversations"),
  addedAt: v.number(),
  status: participantStatus,
  isRemoved: v.boolean(),
};

export const conversationParticipantsSchemaValidator = v.union(
  v.object({ ...common, kind: v.literal("agent"), agentId: v.id("agents") }),
  v.object({ ...common, kind: v.literal("user"), userId: v.id("users") }),
);
