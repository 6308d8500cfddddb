// Accounts: how people sign in to ONE. Kept apart from `users` (the public
// profile) so that profile reads never touch a password hash, and so that
// migrating from agent-inbox's Convex Auth tables maps onto one table.
// Secrets are never stored: sessions and API tokens are kept as BLAKE2b
// hashes of the token the client holds; passwords as argon2id strings.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const accountTables = {
  accounts: defineTable({
    userId: v.id("users"),
    email: v.string(), // lower-cased; the sign-in name
    passwordHash: v.string(), // argon2id, libsodium's crypto_pwhash_str format
    role: v.union(v.literal("admin"), v.literal("member")),
    createdAt: v.number(),
    passwordChangedAt: v.optional(v.number()),
  })
    .index("by_email", ["email"])
    .index("by_user", ["userId"]),

  sessions: defineTable({
    userId: v.id("users"),
    tokenHash: v.string(), // hex BLAKE2b-256 of the session token
    createdAt: v.number(),
    expiresAt: v.number(),
    userAgent: v.optional(v.string()),
  })
    .index("by_token", ["tokenHash"])
    .index("by_user", ["userId"]),

  apiTokens: defineTable({
    userId: v.id("users"),
    name: v.string(),
    tokenHash: v.string(),
    prefix: v.string(), // the first characters of the token, to recognise it
    createdAt: v.number(),
    lastUsedAt: v.optional(v.number()),
    revokedAt: v.optional(v.number()),
  })
    .index("by_token", ["tokenHash"])
    .index("by_user", ["userId"]),
};
