// The Node peer of bench/agents.c: N concurrent runs of the Vercel AI SDK's
// generateText with one tool against the same fake model server, which
// answers each call after a delay with a tool call first, then a reply
// (two model steps a run). Measures what bench/agents.c measures: wall
// time, this process's CPU time (user + system) per model step, and peak
// resident memory (VmHWM). Prints one JSON line.
import { readFileSync } from "node:fs";
import { generateText, jsonSchema, stepCountIs, tool } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";

const [base, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 1000);
const provider = createOpenAICompatible({ name: "fake", baseURL: base, apiKey: "bench" });
const model = provider.chatModel("fake-model");
const tools = {
  listConversationParticipants: tool({
    description: "List the people and agents in this conversation.",
    inputSchema: jsonSchema({ type: "object", properties: {}, additionalProperties: false }),
    execute: async () => ({ participants: [{ kind: "user", name: "Alice" }, { kind: "agent", name: "Sage" }] }),
  }),
};
const system =
  "You are Sage, an agent in ONE. You keep what is known about the user's business; answer only from the knowledge base and the conversation.";

function peakMb() {
  const m = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)/);
  return m ? Number(m[1]) / 1024 : 0;
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const results = await Promise.allSettled(
  Array.from({ length: runs }, (_, i) =>
    generateText({
      model,
      system,
      prompt: `Alice: @[Sage] question ${i}: what were my customers' pains?`,
      tools,
      stopWhen: stepCountIs(3),
    }),
  ),
);
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const ok = results.filter((r) => r.status === "fulfilled");
const steps = ok.reduce((n, r) => n + r.value.steps.length, 0);
const failed = results.length - ok.length;
if (failed) console.error(String(results.find((r) => r.status === "rejected").reason).slice(0, 300));
console.log(JSON.stringify({
  peer: "node-ai-sdk",
  runs,
  failed,
  steps,
  wall_s: Number(wall.toFixed(3)),
  cpu_s: Number(cpuS.toFixed(3)),
  overhead_ms_per_step: steps ? Number(((cpuS * 1000) / steps).toFixed(4)) : 0,
  runs_per_s: Number((runs / wall).toFixed(1)),
  peak_rss_mb: Number(peakMb().toFixed(1)),
}));
