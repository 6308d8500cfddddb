import { defineTable } from "convex/server";
import { v } from "convex/values";

const priceRange = v.object({
  min: v.number(),
  max: v.number(),
  currencyCode: v.optional(v.string()),
});

const variant = v.object({
  id: v.optional(v.string()),
  title: v.optional(v.string()),
  sku: v.optional(v.string()),
  price: v.optional(v.number()),
  compareAtPrice: v.optional(v.number()),
  inventoryQuantity: v.optional(v.number()),
  available: v.optional(v.boolean()),
  selectedOptions: v.optional(v.array(v.object({ name: v.string(), value: v.string() }))),
  imageId: v.optional(v.string()),
  weight: v.optional(v.number()),
  weightUnit: v.optional(v.string()),
  barcode: v.optional(v.string()),
  taxable: v.optional(v.boolean()),
  requiresShipping: v.optional(v.boolean()),
  createdAt: v.optional(v.string()),
  updatedAt: v.optional(v.string()),
});

const image = v.object({
  id: v.optional(v.string()),
  src: v.string(),
  alt: v.optional(v.string()),
  position: v.optional(v.number()),
  createdAt: v.optional(v.string()),
  updatedAt: v.optional(v.string()),
});

export const commerceTables = {
  // Shopify-compatible products.
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
    options: v.optional(
      v.array(v.object({ id: v.optional(v.string()), name: v.string(), values: v.array(v.string()) })),
    ),
    variants: v.optional(v.array(variant)),
    images: v.optional(v.array(image)),
    featuredMedia: v.optional(v.any()),
    priceRange: v.optional(priceRange),
    compareAtPriceRange: v.optional(priceRange),
    totalInventory: v.optional(v.number()),
    tracksInventory: v.optional(v.boolean()),
    available: v.optional(v.boolean()),
    seo: v.optional(v.object({ title: v.optional(v.string()), description: v.optional(v.string()) })),
    onlineStoreUrl: v.optional(v.string()),
    collections: v.optional(v.array(v.string())),
    category: v.optional(v.string()),
    metafields: v.optional(
      v.array(
        v.object({
          namespace: v.string(),
          key: v.string(),
          value: v.any(),
          type: v.optional(v.string()),
        }),
      ),
    ),
  })
    .index("by_handle", ["handle"])
    .index("by_status", ["status"]),

  // Scheduled social posts.
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
};
