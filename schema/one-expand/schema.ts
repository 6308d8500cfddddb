// The expanded schema ("v1"), in force between the expand and contract
// steps of the agent-inbox -> ONE migration. It accepts both shapes of every
// document: the legacy agent-inbox one, the ONE one, and any mix of the two
// that a half-done backfill leaves. New tables are ONE's as they are; in the
// five tables both schemas have, every field of either is here, optional
// unless both require it, with validators widened to accept both (agents'
// tools as names or ids). Both sets of indexes are kept so that old and new
// queries work while both versions are served.
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { authTables } from "@convex-dev/auth/server";
import { peopleTables, address } from "../one/people";
import { agentTables } from "../one/agents";
import { socialTables } from "../one/social";
import { schedulingTables } from "../one/scheduling";
import { learningTables } from "../one/learning";
import { commerceTables } from "../one/commerce";
import { accountTables } from "../one/accounts";
import { migrationTables } from "../one/migration";
import { step } from "../one/steps";

const participantCommon = {
  conversationId: v.id("conversations"),
  status: v.string(),
  isRemoved: v.boolean(),
  addedAt: v.number(),
};

export default defineSchema({
  ...authTables,
  ...peopleTables,
  ...agentTables,
  ...socialTables,
  ...schedulingTables,
  ...learningTables,
  ...commerceTables,
  ...accountTables,
  ...migrationTables,

  users: defineTable({
    name: v.optional(v.string()),
    email: v.optional(v.string()),
    image: v.optional(v.string()),
    // agent-inbox (Convex Auth) fields, kept until contract
    emailVerificationTime: v.optional(v.number()),
    phone: v.optional(v.string()),
    phoneVerificationTime: v.optional(v.number()),
    isAnonymous: v.optional(v.boolean()),
    // ONE fields
    phoneNumbers: v.optional(v.array(v.string())),
    emails: v.optional(v.array(v.string())),
    addresses: v.optional(v.array(address)),
    organization: v.optional(v.string()),
    jobTitle: v.optional(v.string()),
    birthday: v.optional(v.string()),
    notes: v.optional(v.string()),
    photoUrl: v.optional(v.string()),
    createdAt: v.optional(v.number()),
  })
    .index("email", ["email"])
    .index("phone", ["phone"])
    .index("by_email", ["email"]),

  agents: defineTable({
    name: v.string(),
    description: v.string(),
    kind: v.union(v.literal("system_agent"), v.literal("user_agent")),
    // agent-inbox fields, kept until contract
    personality: v.optional(v.string()),
    goal: v.optional(v.string()),
    systemPrompt: v.optional(v.string()),
    instructions: v.optional(v.string()),
    lastActiveTime: v.optional(v.number()),
    systemAgentKind: v.optional(v.literal("triage")),
    // tool names (agent-inbox) or tool ids (ONE), also mixed during backfill
    tools: v.optional(v.array(v.union(v.id("tools"), v.string()))),
    // ONE fields
    prompt: v.optional(v.string()),
    avatarUrl: v.optional(v.string()),
    delegatesTo: v.optional(v.array(v.id("agents"))),
    tags: v.optional(v.array(v.string())),
    model: v.optional(v.string()),
    knowledge: v.optional(v.any()),
    memories: v.optional(v.any()),
    attachedPrompts: v.optional(v.array(v.id("prompts"))),
    canGuideSteps: v.optional(v.array(step)),
    visibility: v.optional(v.union(v.literal("public"), v.literal("private"))),
    sharedWith: v.optional(v.array(v.id("users"))),
    createdBy: v.optional(v.id("users")),
    createdAt: v.optional(v.number()),
    updatedAt: v.optional(v.number()),
    updatedBy: v.optional(v.id("users")),
  })
    .index("by_creator", ["createdBy"])
    .index("by_name", ["name"])
    .index("by_system_agent_kind", ["systemAgentKind"])
    .index("by_kind", ["kind"])
    .index("by_visibility", ["visibility"]),

  conversations: defineTable({
    title: v.string(),
    createdBy: v.id("users"),
    createdAt: v.optional(v.number()),
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
    // optional until every system message has an author (backfill)
    authorParticipantId: v.optional(v.id("conversationParticipants")),
    kind: v.union(v.literal("participant"), v.literal("system")),
    type: v.optional(v.string()),
    step: v.optional(step),
    status: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    content: v.string(),
    attachments: v.optional(v.array(v.any())),
    createdAt: v.optional(v.number()),
    vector: v.optional(v.array(v.number())),
    meta: v.optional(v.any()),
    cost: v.optional(v.number()),
    tokensUsed: v.optional(v.number()),
  })
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_kind", ["conversationId", "kind"])
    .index("by_author", ["authorParticipantId"]),
});
