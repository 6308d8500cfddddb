import { defineTable } from "convex/server";
import { v } from "convex/values";

export const conversationsTable = defineTable({
  title: v.string(),
  createdBy: v.id("users"),
  lastMessageTime: v.number(),
}).index("by_user_and_time", ["createdBy", "lastMessageTime"]);
