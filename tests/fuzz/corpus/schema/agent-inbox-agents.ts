import { v, type Infer } from "convex/values";

// Fields both agent shapes carry. `tools` holds tool NAMES ("webSearch").
// goal, systemPrompt and instructions appear only on deployments made from
// the intermediate design documents; they are legacy prompt parts.
const common = {
  name: v.string(),
  description: v.string(),
  personality: v.string(),
  avatarUrl: v.string(),
  tools: v.array(v.string()),
  lastActiveTime: v.number(),
  goal: v.optional(v.string()),
  systemPrompt: v.optional(v.string()),
  instructions: v.optional(v.string()),
};

export const userAgentValidator = v.object({
  ...common,
  kind: v.literal("user_agent"),
  createdBy: v.id("users"),
});

export const systemAgentValidator = v.object({
  ...common,
  kind: v.literal("system_agent"),
  systemAgentKind: v.literal("triage"),
});

export const agentsSchemaValidator = v.union(userAgentValidator, systemAgentValidator);

export type Agent = Infer<typeof agentsSchemaValidator>;
