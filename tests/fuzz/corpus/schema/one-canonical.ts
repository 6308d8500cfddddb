import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  users: defineTable({
    name: v.string(),
    email: v.string(),
    image: v.optional(v.string()),
    phoneNumbers: v.optional(v.array(v.string())),
    emails: v.optional(v.array(v.string())),
    addresses: v.optional(v.array(v.object({
      street: v.optional(v.string()),
      city: v.optional(v.string()),
      region: v.optional(v.string()),
      postalCode: v.optional(v.string()),
      country: v.optional(v.string()),
    }))),
    organization: v.optional(v.string()),
    jobTitle: v.optional(v.string()),
    birthday: v.optional(v.string()),
    notes: v.optional(v.string()),
    photoUrl: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_email", ["email"]),
  groups: defineTable({
    name: v.string(),
    ownerId: v.id("users"),
    createdAt: v.number(),
  })
    .index("by_owner", ["ownerId"]),
  groupMembers: defineTable({
    groupId: v.id("groups"),
    kind: v.union(v.literal("user"), v.literal("agent")),
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    role: v.optional(v.string()),
    addedBy: v.id("users"),
    addedAt: v.number(),
  })
    .index("by_group", ["groupId"])
    .index("by_user", ["userId"])
    .index("by_agent", ["agentId"]),
  agents: defineTable({
    name: v.string(),
    description: v.string(),
    kind: v.union(v.literal("system_agent"), v.literal("user_agent")),
    prompt: v.optional(v.string()),
    avatarUrl: v.optional(v.string()),
    delegatesTo: v.optional(v.array(v.id("agents"))),
    tools: v.optional(v.array(v.id("tools"))),
    tags: v.optional(v.array(v.string())),
    model: v.optional(v.string()),
    knowledge: v.optional(v.any()),
    memories: v.optional(v.any()),
    attachedPrompts: v.optional(v.array(v.id("prompts"))),
    canGuideSteps: v.optional(v.array(v.union(
      v.literal("Foundation"),
      v.literal("Hook"),
      v.literal("Gift"),
      v.literal("Identify"),
      v.literal("Engage"),
      v.literal("Sell"),
      v.literal("Nurture"),
      v.literal("Upsell"),
      v.literal("Educate"),
      v.literal("Share"),
    ))),
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
  })
    .index("by_name", ["name"]),
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
    step: v.union(
      v.literal("Foundation"),
      v.literal("Hook"),
      v.literal("Gift"),
      v.literal("Identify"),
      v.literal("Engage"),
      v.literal("Sell"),
      v.literal("Nurture"),
      v.literal("Upsell"),
      v.literal("Educate"),
      v.literal("Share"),
    ),
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
  attachments: defineTable({
    ownerType: v.union(v.literal("agent"), v.literal("group")),
    ownerId: v.string(),
    promptId: v.id("prompts"),
    createdAt: v.number(),
    createdBy: v.optional(v.id("users")),
  })
    .index("by_owner", ["ownerType", "ownerId"])
    .index("by_prompt", ["promptId"]),
  knowledge: defineTable({
    ownerType: v.union(v.literal("agent"), v.literal("user")),
    ownerId: v.string(),
    content: v.string(),
    vector: v.optional(v.array(v.number())),
    tags: v.optional(v.array(v.string())),
    createdAt: v.number(),
  })
    .index("by_owner", ["ownerType", "ownerId"]),
  tags: defineTable({
    name: v.string(),
    color: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
  })
    .index("by_name", ["name"]),
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
  conversationParticipants: defineTable(v.union(
    v.object({
      conversationId: v.id("conversations"),
      status: v.string(),
      isRemoved: v.boolean(),
      addedAt: v.number(),
      kind: v.literal("user"),
      userId: v.id("users"),
    }),
    v.object({
      conversationId: v.id("conversations"),
      status: v.string(),
      isRemoved: v.boolean(),
      addedAt: v.number(),
      kind: v.literal("agent"),
      agentId: v.id("agents"),
    }),
  ))
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_isRemoved", ["conversationId", "isRemoved"])
    .index("by_userId", ["userId"])
    .index("by_agentId", ["agentId"])
    .index("by_conversationId_kind_agentId", ["conversationId", "kind", "agentId"])
    .index("by_conversationId_kind_userId", ["conversationId", "kind", "userId"])
    .index("by_conversationId_status", ["conversationId", "status"]),
  conversationMessages: defineTable({
    conversationId: v.id("conversations"),
    authorParticipantId: v.id("conversationParticipants"),
    kind: v.union(v.literal("participant"), v.literal("system")),
    type: v.optional(v.string()),
    step: v.optional(v.union(
      v.literal("Foundation"),
      v.literal("Hook"),
      v.literal("Gift"),
      v.literal("Identify"),
      v.literal("Engage"),
      v.literal("Sell"),
      v.literal("Nurture"),
      v.literal("Upsell"),
      v.literal("Educate"),
      v.literal("Share"),
    )),
    status: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    content: v.string(),
    attachments: v.optional(v.array(v.any())),
    createdAt: v.number(),
    vector: v.optional(v.array(v.number())),
    meta: v.optional(v.any()),
    cost: v.optional(v.number()),
    tokensUsed: v.optional(v.number()),
  })
    .index("by_conversationId", ["conversationId"])
    .index("by_conversationId_kind", ["conversationId", "kind"])
    .index("by_author", ["authorParticipantId"]),
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
  })
    .index("by_message", ["messageId"]),
  follows: defineTable({
    followerId: v.string(),
    followeeId: v.string(),
    kind: v.union(v.literal("user"), v.literal("agent")),
    createdAt: v.number(),
  })
    .index("by_follower", ["followerId"])
    .index("by_followee", ["followeeId"])
    .index("by_follower_and_followee", ["followerId", "followeeId"]),
  events: defineTable({
    title: v.string(),
    description: v.optional(v.string()),
    startTime: v.number(),
    endTime: v.number(),
    createdBy: v.string(),
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
    relatedEntity: v.optional(v.string()),
    createdAt: v.number(),
  })
    .index("by_remindAt", ["remindAt"])
    .index("by_user", ["userId", "remindAt"])
    .index("by_agent", ["agentId", "remindAt"]),
  learningFlows: defineTable({
    title: v.string(),
    description: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
    steps: v.array(v.object({
      promptId: v.optional(v.id("prompts")),
      stepName: v.union(
        v.literal("Foundation"),
        v.literal("Hook"),
        v.literal("Gift"),
        v.literal("Identify"),
        v.literal("Engage"),
        v.literal("Sell"),
        v.literal("Nurture"),
        v.literal("Upsell"),
        v.literal("Educate"),
        v.literal("Share"),
      ),
      instructions: v.optional(v.string()),
      order: v.number(),
    })),
  })
    .index("by_creator", ["createdBy"]),
  assignments: defineTable({
    learningFlowId: v.id("learningFlows"),
    step: v.union(
      v.literal("Foundation"),
      v.literal("Hook"),
      v.literal("Gift"),
      v.literal("Identify"),
      v.literal("Engage"),
      v.literal("Sell"),
      v.literal("Nurture"),
      v.literal("Upsell"),
      v.literal("Educate"),
      v.literal("Share"),
    ),
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    role: v.optional(v.string()),
    assignedAt: v.number(),
    assignedBy: v.optional(v.id("users")),
  })
    .index("by_learningFlow_and_step", ["learningFlowId", "step"])
    .index("by_user", ["userId"])
    .index("by_agent", ["agentId"]),
  progress: defineTable({
    learningFlowId: v.id("learningFlows"),
    step: v.union(
      v.literal("Foundation"),
      v.literal("Hook"),
      v.literal("Gift"),
      v.literal("Identify"),
      v.literal("Engage"),
      v.literal("Sell"),
      v.literal("Nurture"),
      v.literal("Upsell"),
      v.literal("Educate"),
      v.literal("Share"),
    ),
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    status: v.union(
      v.literal("Not Started"),
      v.literal("In Progress"),
      v.literal("Completed"),
      v.literal("Blocked"),
      v.literal("Skipped"),
    ),
    notes: v.optional(v.string()),
    startedAt: v.optional(v.number()),
    completedAt: v.optional(v.number()),
    updatedAt: v.number(),
  })
    .index("by_learningFlow_and_step", ["learningFlowId", "step"])
    .index("by_user_and_flow", ["userId", "learningFlowId"])
    .index("by_agent_and_flow", ["agentId", "learningFlowId"]),
  courses: defineTable({
    id: v.optional(v.string()),
    title: v.string(),
    description: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
  })
    .index("by_creator", ["createdBy"]),
  lessons: defineTable({
    id: v.optional(v.string()),
    courseId: v.id("courses"),
    title: v.string(),
    content: v.optional(v.string()),
    order: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
  })
    .index("by_course", ["courseId", "order"]),
  enrollments: defineTable({
    id: v.optional(v.string()),
    courseId: v.id("courses"),
    userId: v.id("users"),
    enrolledAt: v.number(),
    progress: v.optional(v.number()),
    status: v.optional(v.string()),
  })
    .index("by_course", ["courseId"])
    .index("by_user_and_course", ["userId", "courseId"]),
  tasks: defineTable({
    id: v.optional(v.string()),
    title: v.string(),
    description: v.optional(v.string()),
    status: v.optional(v.string()),
    dueDate: v.optional(v.number()),
    assignedToUserId: v.optional(v.id("users")),
    assignedToAgentId: v.optional(v.id("agents")),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
    completedAt: v.optional(v.number()),
    priority: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
  })
    .index("by_assigned_user", ["assignedToUserId", "dueDate"])
    .index("by_assigned_agent", ["assignedToAgentId", "dueDate"])
    .index("by_creator", ["createdBy"])
    .index("by_status", ["status"]),
  products: defineTable({
    id: v.optional(v.string()),
    title: v.string(),
    handle: v.string(),
    description: v.optional(v.string()),
    descriptionHtml: v.optional(v.string()),
    vendor: v.optional(v.string()),
    productType: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    status: v.optional(v.string()),
    publishedAt: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
    options: v.optional(v.array(v.object({
      id: v.optional(v.string()),
      name: v.string(),
      values: v.array(v.string()),
    }))),
    variants: v.optional(v.array(v.object({
      id: v.optional(v.string()),
      title: v.optional(v.string()),
      sku: v.optional(v.string()),
      price: v.optional(v.number()),
      compareAtPrice: v.optional(v.number()),
      inventoryQuantity: v.optional(v.number()),
      available: v.optional(v.boolean()),
      selectedOptions: v.optional(v.array(v.object({
        name: v.string(),
        value: v.string(),
      }))),
      imageId: v.optional(v.string()),
      weight: v.optional(v.number()),
      weightUnit: v.optional(v.string()),
      barcode: v.optional(v.string()),
      taxable: v.optional(v.boolean()),
      requiresShipping: v.optional(v.boolean()),
      createdAt: v.optional(v.string()),
      updatedAt: v.optional(v.string()),
    }))),
    images: v.optional(v.array(v.object({
      id: v.optional(v.string()),
      src: v.string(),
      alt: v.optional(v.string()),
      position: v.optional(v.number()),
      createdAt: v.optional(v.string()),
      updatedAt: v.optional(v.string()),
    }))),
    featuredMedia: v.optional(v.any()),
    priceRange: v.optional(v.object({
      min: v.number(),
      max: v.number(),
      currencyCode: v.optional(v.string()),
    })),
    compareAtPriceRange: v.optional(v.object({
      min: v.number(),
      max: v.number(),
      currencyCode: v.optional(v.string()),
    })),
    totalInventory: v.optional(v.number()),
    tracksInventory: v.optional(v.boolean()),
    available: v.optional(v.boolean()),
    seo: v.optional(v.object({
      title: v.optional(v.string()),
      description: v.optional(v.string()),
    })),
    onlineStoreUrl: v.optional(v.string()),
    collections: v.optional(v.array(v.string())),
    category: v.optional(v.string()),
    metafields: v.optional(v.array(v.object({
      namespace: v.string(),
      key: v.string(),
      value: v.any(),
      type: v.optional(v.string()),
    }))),
  })
    .index("by_handle", ["handle"])
    .index("by_status", ["status"]),
  broadcasts: defineTable({
    platform: v.string(),
    content: v.string(),
    scheduledTime: v.number(),
    status: v.union(
      v.literal("scheduled"),
      v.literal("posted"),
      v.literal("failed"),
      v.literal("cancelled"),
    ),
    result: v.optional(v.string()),
    createdBy: v.id("users"),
    agentId: v.optional(v.id("agents")),
    groupId: v.optional(v.id("groups")),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
    meta: v.optional(v.any()),
  })
    .index("by_status_and_time", ["status", "scheduledTime"])
    .index("by_creator", ["createdBy"]),
  inferenceUsage: defineTable({
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    conversationId: v.optional(v.id("conversations")),
    messageId: v.optional(v.id("conversationMessages")),
    tokensUsed: v.number(),
    cost: v.number(),
    currency: v.optional(v.string()),
    model: v.optional(v.string()),
    createdAt: v.number(),
    meta: v.optional(v.any()),
  })
    .index("by_user", ["userId", "createdAt"])
    .index("by_agent", ["agentId", "createdAt"])
    .index("by_conversation", ["conversationId"])
    .index("by_model", ["model", "createdAt"]),
  evals: defineTable({
    id: v.optional(v.string()),
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    model: v.optional(v.string()),
    input: v.any(),
    expectedOutput: v.optional(v.any()),
    actualOutput: v.optional(v.any()),
    score: v.optional(v.number()),
    status: v.optional(v.string()),
    error: v.optional(v.string()),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
    meta: v.optional(v.any()),
  })
    .index("by_agent", ["agentId"])
    .index("by_user", ["userId"]),
});
