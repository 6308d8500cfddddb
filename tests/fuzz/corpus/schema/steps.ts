import { v } from "convex/values";

// The ten steps of the Elevate framework, in order.
export const step = v.union(
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
);
