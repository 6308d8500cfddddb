import { defineTable } from "convex/server";
import { v } from "convex/values";
import { step } from "./steps";

export const agentTables = {
  agents: defineTable({
    name: v.string(),
    description: v.string(),
    kind: v.union(v.literal("system_agent"), v.literal("user_agent")),
    // One field replacing goal, systemPrompt, personality and instructions.
    prompt: v.optional(v.string()),
    avatarUrl: v.optional(v.string()),
    delegatesTo: v.optional(v.array(v.id("agents"))),
    tools: v.optional(v.array(v.id("tools"))),
    tags: v.optional(v.array(v.string())),
    model: v.optional(v.string()),
    knowledge: v.optional(v.any()),
    memories: v.optional(v.any()),
    attachedPrompts: v.optional(v.array(v.id("prompts"))),
    canGuideSteps: v.optional(v.array(step)),
    // Permissions: public unless "private"; a private agent can be added or
    // mentioned only by its creator and the users in sharedWith.
    visibility: v.optional(v.union(v.literal("public"), v.literal("private"))),
    sharedWith: v.optional(v.array(v.id("users"))),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
    updatedBy: v.optional(v.id("users")),
  })
    .index("by_creator", ["createdBy"])
    .index("by_name", ["name"])
    .index("by_kind", ["kind"])
    .index("by_visibility", ["visibility"]),

  tools: defineTable({
    name: v.string(),
    description: v.string(),
    config: v.optional(v.any()),
    createdBy: v.optional(v.id("users")),
  }).index("by_name", ["name"]),

  agentTools: defineTable({
    agentId: v.id("agents"),
    toolId: v.id("tools"),
    config: v.optional(v.any()),
    createdAt: v.number(),
  })
    .index("by_agent", ["agentId"])
    .index("by_tool", ["toolId"])
    .index("by_agent_and_tool", ["agentId", "toolId"]),

  prompts: defineTable({
    title: v.string(),
    template: v.string(),
    step: step,
    learningFlowId: v.optional(v.id("learningFlows")),
    orderInFlow: v.optional(v.number()),
    description: v.optional(v.string()),
    requiredContext: v.optional(v.array(v.string())),
    outputType: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    status: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
  })
    .index("by_step", ["step"])
    .index("by_learningFlow", ["learningFlowId", "orderInFlow"]),

  // A prompt attached to an agent or a group.
  attachments: defineTable({
    ownerType: v.union(v.literal("agent"), v.literal("group")),
    ownerId: v.string(),
    promptId: v.id("prompts"),
    createdAt: v.number(),
    createdBy: v.optional(v.id("users")),
  })
    .index("by_owner", ["ownerType", "ownerId"])
    .index("by_prompt", ["promptId"]),

  // The knowledge base that agents retrieve from.
  knowledge: defineTable({
    ownerType: v.union(v.literal("agent"), v.literal("user")),
    ownerId: v.string(),
    content: v.string(),
    vector: v.optional(v.array(v.number())),
    vectorModel: v.optional(v.string()), // the remote model that made vector (docs/knowledge.md)
    tags: v.optional(v.array(v.string())),
    createdAt: v.number(),
  }).index("by_owner", ["ownerType", "ownerId"]),

  tags: defineTable({
    name: v.string(),
    color: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
  }).index("by_name", ["name"]),
};
