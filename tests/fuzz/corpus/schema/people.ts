import { defineTable } from "convex/server";
import { v } from "convex/values";

export const address = v.object({
  street: v.optional(v.string()),
  city: v.optional(v.string()),
  region: v.optional(v.string()),
  postalCode: v.optional(v.string()),
  country: v.optional(v.string()),
});

export const peopleTables = {
  users: defineTable({
    name: v.string(),
    email: v.string(),
    image: v.optional(v.string()),
    phoneNumbers: v.optional(v.array(v.string())),
    emails: v.optional(v.array(v.string())),
    addresses: v.optional(v.array(address)),
    organization: v.optional(v.string()),
    jobTitle: v.optional(v.string()),
    birthday: v.optional(v.string()), // ISO date
    notes: v.optional(v.string()),
    photoUrl: v.optional(v.string()),
    createdAt: v.number(),
  }).index("by_email", ["email"]),

  groups: defineTable({
    name: v.string(),
    ownerId: v.id("users"),
    createdAt: v.number(),
  }).index("by_owner", ["ownerId"]),

  groupMembers: defineTable({
    groupId: v.id("groups"),
    kind: v.union(v.literal("user"), v.literal("agent")),
    userId: v.optional(v.id("users")), // when kind is "user"
    agentId: v.optional(v.id("agents")), // when kind is "agent"
    role: v.optional(v.string()),
    addedBy: v.id("users"),
    addedAt: v.number(),
  })
    .index("by_group", ["groupId"])
    .index("by_user", ["userId"])
    .index("by_agent", ["agentId"]),
};
