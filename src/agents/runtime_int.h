/* runtime_int: what the runtime's files share: runtime.c (set-up, limits,
 * usage and prices), run.c (one agent's run), context.c (what the model is
 * told), tools.c (the tools). Who answers a message is domain/replies.h. */
#ifndef ONE_AGENTS_RUNTIME_INT_H
#define ONE_AGENTS_RUNTIME_INT_H

#include <pthread.h>

#include "agents/runtime.h"
#include "util/cid.h"

#define RATE_SLOTS 256

struct price {
  char model[96];
  double in, out;         /* per million tokens */
};

struct rate_slot {
  char conv[CID_MAX];
  double starts[64];      /* when its runs in the last minute started */
  size_t n;
};

struct runtime {
  struct store *s;
  struct sched *sc;
  struct llm *llm;        /* NULL: no model configured */
  char model[128];
  struct runtime_limits lim;
  struct price prices[32];
  size_t nprices;
  int stopping;           /* llm_free is ending calls: their runs retry */
  pthread_mutex_t lock;   /* guards rate */
  pthread_mutex_t partial_lock; /* guards partial, held while it is called */
  runtime_partial_fn partial;
  void *partial_arg;
  struct rate_slot rate[RATE_SLOTS];
};

/* What a run knows of the chain that led to it (its job's arguments). */
struct chain {
  char conv[CID_MAX];
  char message[CID_MAX];  /* the message it answers */
  char agent[CID_MAX];    /* who answers */
  char user[CID_MAX];     /* who started the chain (the budget's owner), "" when unknown */
  int depth;              /* hops from the human message */
  json_t *handoffs;       /* "from>to#hash" of every hand-off so far (owned) */
};

/* runtime.c */
int runtime_rate_take(struct runtime *rt, const char *conv);
double runtime_cost(const struct runtime *rt, const char *model, long in, long out);
/* Whether user's spending today reached a budget: 1 (with why), 0 or < 0. */
int runtime_over_budget(struct runtime *rt, struct store_tx *tx, const char *user, char *why,
                        size_t n, struct err *err);
/* A reply job for agent answering message in c's conversation, one hop
 * further than c (depth) with c's hand-offs plus handoff (may be NULL). */
int runtime_add_reply_job(struct store_tx *tx, const struct chain *c, const char *message,
                          const char *agent, int depth, const char *handoff, struct err *err);
int chain_parse(const char *args, struct chain *c, struct err *err);
void chain_release(struct chain *c);

/* Hands a piece of a reply to the partial hook (runtime_on_partial). */
void runtime_partial(struct runtime *rt, const char *conv, const json_t *data);

/* run.c: reply jobs, and scheduled tasks (which post their notice and
 * start a reply run) */
void run_job(void *arg, struct sched_run *run);
void task_job(void *arg, struct sched_run *run);
/* timed.c: reminders that fire and broadcasts that post (domain/schedule.h) */
void timed_reminder_job(void *arg, struct sched_run *run);
void timed_broadcast_job(void *arg, struct sched_run *run);
/* evals.c: the eval runner (domain/evals.h) */
void evals_job(void *arg, struct sched_run *run);
/* Delegation from agent `from` (its row `from_row`) in chain c: posts
 * content (which mentions `to`) as from, and a reply job for `to`, or a
 * notice saying why not. *why receives the refusal ("" when delegated). */
int run_delegate(struct runtime *rt, struct store_tx *tx, const struct chain *c,
                 const json_t *from, const char *from_row, const char *to, const char *content,
                 int post, char *why, size_t n, struct err *err);

/* context.c: the chat messages that open a run (a new array), and the
 * participants' names. */
int context_build(struct runtime *rt, struct store_tx *tx, const struct chain *c,
                  const json_t *agent, json_t **messages, struct err *err);

/* tools.c */
struct tool_env {
  struct runtime *rt;
  const struct chain *chain;
  const json_t *agent;    /* the calling agent's document */
  const char *row;        /* its participant row */
  int64_t job;            /* the run's job and the model's id for this call: */
  const char *call;       /* together a side effect's idempotency key */
};
/* The OpenAI tool list for agent (a new array): the always-available tools
 * and the ones enabled for it. */
json_t *tools_for(struct store_tx *tx, const json_t *agent);
/* 1 when agent may call the tool name (always, in its tools, or an agentTools row). */
int tools_enabled(struct store_tx *tx, const json_t *agent, const char *name);
/* Runs tool `name` with the model's arguments text inside the caller's
 * write transaction tx (its writes commit with the caller's, and are taken
 * back alone when it fails): its result text into *out (one_free), or an
 * error that goes back to the model. Not for the tools that wait on the
 * network (tools_outside), which tools_call_outside runs with no
 * transaction open. */
int tools_call_in(struct store_tx *tx, const struct tool_env *env, const char *name,
                  const char *arguments, char **out, struct err *err);
int tools_call_outside(const struct tool_env *env, const char *name, const char *arguments,
                       char **out, struct err *err);
int tools_outside(const char *name);

#endif
