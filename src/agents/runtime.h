/* runtime: the agent runtime. It answers messages with the agents of
 * spec/agents-and-workflow.md, on the scheduler (agents/sched.h) and the
 * model client (agents/llm.h):
 *
 * - a posted message leaves its reply jobs (domain/replies.h: one per
 *   mentioned agent that participates, or the Director's when the message
 *   mentions no agent and the Director participates, the legacy triage
 *   duty), each a run here;
 * - a run builds the agent's context, calls the model with the agent's
 *   tools, runs the tools it asks for (arguments checked against each
 *   tool's schema first; every use announced in the conversation), and
 *   posts the reply, with its cost and tokens; every model call writes an
 *   inferenceUsage row, failed calls too;
 * - an agent's reply that mentions another agent, or its
 *   messageAnotherAgent tool, delegates: only to agents in its delegatesTo
 *   when that is set, within the depth limit counted from the human
 *   message, never the same hand-off twice in a chain;
 * - limits (depth, tool steps, runs per conversation per minute, tokens and
 *   cost per user per day) are announced in the conversation when hit; a
 *   run that reaches its step limit gets one last call without tools;
 * - while an agent works its participant status is "thinking";
 * - runs of one agent in one conversation queue (a lane); a run's progress
 *   is saved before each model call, so a run cut by a crash goes on from
 *   there, and its reply is committed with the job's end, so it lands once.
 *   Only that end is synced to disk; what a run writes before it (its
 *   status, usage rows, tool steps and notices, saved progress) commits
 *   without a sync and becomes durable with the next synced commit: a
 *   crash of the process loses none of it, a power failure may lose the
 *   newest of it, and the run then redoes those steps.
 *
 * Configuration: ONE_LLM_* (llm.h), ONE_LLM_PRICES ("model=in/out" in a
 * currency per million tokens, comma-separated), ONE_AGENT_MAX_DEPTH (5),
 * ONE_AGENT_MAX_STEPS (10), ONE_AGENT_RUNS_PER_MINUTE (30),
 * ONE_BUDGET_TOKENS_PER_DAY and ONE_BUDGET_COST_PER_DAY (0: none). */
#ifndef ONE_AGENTS_RUNTIME_H
#define ONE_AGENTS_RUNTIME_H

#include "agents/llm.h"
#include "agents/sched.h"
#include "domain/replies.h"
#include "store/store.h"

#define RUNTIME_REPLY_JOB REPLIES_REPLY_JOB

struct runtime_limits {
  int max_depth;          /* delegation hops from the human message */
  int max_steps;          /* tool steps in one run */
  int runs_per_minute;    /* agent runs started per conversation */
  long tokens_per_day;    /* per user (the author of the human message); 0: none */
  double cost_per_day;    /* per user; 0: none */
  int history;            /* messages of the conversation in a run's context */
};

/* The limits from the environment, defaults where unset. */
void runtime_limits_from_env(struct runtime_limits *lim);

struct runtime;

/* Registers the runtime's jobs on sc (before sched_start). llm NULL: no
 * model is configured, and every agent says how to configure one. */
int runtime_new(struct store *s, struct sched *sc, const struct llm_config *llm,
                const struct runtime_limits *lim, struct runtime **out, struct err *err);
/* Where a reply goes while it is generated: fn(arg, conv, data) for each
 * piece, data (borrowed) {conversationId, participantId, agentId, text,
 * offset (bytes before this piece), restart (the text so far is void)}.
 * From the model client's thread; NULL stops it (waiting for a call in
 * progress to return). */
typedef void (*runtime_partial_fn)(void *arg, const char *conv, const json_t *data);
void runtime_on_partial(struct runtime *rt, runtime_partial_fn fn, void *arg);
/* Stops the model client: runs waiting on it end and run again later.
 * Call after sched_stop has stopped claiming, before sched_free. */
void runtime_free(struct runtime *rt);

#endif
