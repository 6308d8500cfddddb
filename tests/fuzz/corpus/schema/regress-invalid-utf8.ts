import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({
    name: v.optional(v.string()),
    image: v.optional(v.string()),
    email: v.optional(v.string()),
    emailVerificationTime: v.optional(v.number()),
    phone: v.optional(v.string()),
    phoneVerificationTime: v.optional(v.number()),
    isAnonymous: v.optional(v.boolean()),
  })
    .index("email", ["email"])
    .index("phone", ["phone"]),
  authSessions: defineTable({
    userId: v.id("users"),
    expirationTime: v.number(),
  })
    .index("userId", ["userId"]),
  authAccounts: defineTable({
    userId: v.id("users"),
    provider: v.string(),
    providerAccountId: v.string(),
    secret: v.optional(v.string()),
    emailVerified: v.optional(v.string()),
    phoneVerified: v.optional(v.string()),
  })
    .index("userIdAndProvider", ["userId", "provider"])
    .index("providerAndAccountId", ["provider", "providerAccountId"]),
  authRefreshTokens: defineTable({
    sessionId: v.id("authSesÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿsions"),
    expirationTime: v.number(),
    firstUsedTime: v.optional(v.number()),
    parentRefreshTokenId: v.optional(v.id("authRefreshTokens")),
  })
    .index("sessionId", ["sessionId"])
    .index("sessionIdAndParentRefreshTokenId", ["sessionId", "parentRefreshTokenId"]),
  authVerificationCodes: defineTable({
    accountId: v.id("authAccounts"),
    provider: v.string(),
    code: v.string(),
    expirationTime: v.number(),
    verifier: v.optional(v.string()),
    emailVerified: v.optional(v.string()),
    phoneVerified: v.optional(v.string()),
  })
    .index("accountId", ["accountId"])
    .index("code", ["code"]),
  authVerifiers: defineTable({
    sessionId: v.optional(v.id("authSessions")),
    signature: v.optional(v.string()),
  })
    .index("signature", ["signature"]),
  authRateLimits: defineTable({
    identifier: v.string(),
    lastAttemptTime: v.number(),
    attemptsLeft: v.number(),
  })
    .index("identifier", ["identifier"]),
  conversations: defineTable({
    title: v.string(),
    createdBy: v.id("users"),
    lastMessageTime: v.number(),
  })
    .index("by_user_and_time", ["createdBy", "lastMessageTime"]),
  agents: defineTable(v.union(
    v.object({
      name: v.string(),
      description: v.string(),
      personality: v.string(),
      avatarUrl: v.string(),
      tools: v.array(v.string()),
      lastActiveTime: v.number(),
      goal: v.optional(v.string()),
      systemPrompt: v.optional(v.string()),
      instructions: v.optional(v.string()),
      kind: v.literal("user_agent"),
      createdBy: v.id("users"),
    }),
    v.object({
      name: v.string(),
      description: v.string(),
      personality: v.string(),
      avatarUrl: v.string(),
      tools: v.array(v.string()),
      lastActiveTime: v.number(),
      goal: v.optional(v.string()),
      systemPrompt: v.optional(v.string()),
      instructions: v.optional(v.string()),
      kind: v.literal("system_agent"),
      systemAgentKind: v.literal("triage"),
    }),
  ))
    .index("by_creator", ["createdBy"])
    .index("by_name", ["name"])
    .index("by_system_agent_kind", ["systemAgentKind"]),
  conversationParticipants: defineTable(v.union(
    v.object({
      conversationId: v.id("conversations"),
      addedAt: v.number(),
      status: v.union(v.literal("inactive"), v.literal("thinking")),
      isRemoved: v.boolean(),
      kind: v.literal("agent"),
      agentId: v.id("agents"),
    }),
    v.object({
      conversationId: v.id("conversations"),
      addedAt: v.number(),
      status: v.union(v.literal("inactive"), v.literal("thinking")),
      isRemoved: v.boolean(),
      kind: v.literal("user"),
      userId: v.id("users"),
    }),
  ))
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_isRemoved", ["conversationId", "isRemoved"])
    .index("by_userId", ["userId"])
    .index("by_conversationId_kind_agentId", ["conversationId", "kind", "agentId"])
    .index("by_conversationId_kind_userId", ["conversationId", "kind", "userId"])
    .index("by_conversationId_status", ["conversationId", "status"]),
  conversationMessages: defineTable(v.union(
    v.object({
      conversationId: v.id("conversations"),
      content: v.string(),
      kind: v.literal("participant"),
      authorParticipantId: v.id("conversationParticipants"),
    }),
    v.object({
      conversationId: v.id("conversations"),
      content: v.string(),
      kind: v.literal("system"),
      meta: v.optional(v.any()),
    }),
  ))
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_kind", ["conversationId", "kind"]),
});
