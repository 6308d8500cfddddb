import { defineTable } from "convex/server";
import { v } from "convex/values";
import { step } from "./steps";

export const progressStatus = v.union(
  v.literal("Not Started"),
  v.literal("In Progress"),
  v.literal("Completed"),
  v.literal("Blocked"),
  v.literal("Skipped"),
);

export const learningTables = {
  learningFlows: defineTable({
    title: v.string(),
    description: v.optional(v.string()),
    createdBy: v.optional(v.id("users")),
    createdAt: v.number(),
    steps: v.array(
      v.object({
        promptId: v.optional(v.id("prompts")),
        stepName: step,
        instructions: v.optional(v.string()),
        order: v.number(),
      }),
    ),
  }).index("by_creator", ["createdBy"]),

  assignments: defineTable({
    learningFlowId: v.id("learningFlows"),
    step: step,
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    role: v.optional(v.string()), // owner, reviewer, contributor…
    assignedAt: v.number(),
    assignedBy: v.optional(v.id("users")),
  })
    .index("by_learningFlow_and_step", ["learningFlowId", "step"])
    .index("by_user", ["userId"])
    .index("by_agent", ["agentId"]),

  progress: defineTable({
    learningFlowId: v.id("learningFlows"),
    step: step,
    userId: v.optional(v.id("users")),
    agentId: v.optional(v.id("agents")),
    status: progressStatus,
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
  }).index("by_creator", ["createdBy"]),

  lessons: defineTable({
    id: v.optional(v.string()),
    courseId: v.id("courses"),
    title: v.string(),
    content: v.optional(v.string()),
    order: v.optional(v.number()),
    createdAt: v.number(),
    updatedAt: v.optional(v.number()),
  }).index("by_course", ["courseId", "order"]),

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
};
