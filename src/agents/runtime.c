/* runtime: the agent runtime's set-up (runtime.h) and what its parts
 * share: limits from the environment, the price table, the per-minute run
 * window of each conversation, daily budgets from inferenceUsage, and
 * reply jobs with the chain they carry. */
#include "agents/outbound.h"
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/evals.h"
#include "domain/replies.h"
#include "domain/schedule.h"
#include "util/clock.h"
#include "util/env.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void runtime_limits_from_env(struct runtime_limits *lim)
{
  lim->max_depth = (int)env_int("ONE_AGENT_MAX_DEPTH", 5, 0, 100);
  lim->max_steps = (int)env_int("ONE_AGENT_MAX_STEPS", 10, 1, 1000);
  lim->runs_per_minute = (int)env_int("ONE_AGENT_RUNS_PER_MINUTE", 30, 1, 64);
  lim->tokens_per_day = env_int("ONE_BUDGET_TOKENS_PER_DAY", 0, 0, 1L << 50);
  const char *cost = getenv("ONE_BUDGET_COST_PER_DAY");
  lim->cost_per_day = cost && *cost ? strtod(cost, NULL) : 0;
  if (lim->cost_per_day < 0)
    lim->cost_per_day = 0;
  lim->history = 20;
}

/* "model=in/out,…" (per million tokens) into rt's table; bad entries are
 * skipped. */
static void read_prices(struct runtime *rt, const char *spec)
{
  while (spec && *spec && rt->nprices < sizeof rt->prices / sizeof rt->prices[0]) {
    size_t len = strcspn(spec, ",");
    char item[200];
    snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), spec);
    char *eq = strchr(item, '='), *slash = eq ? strchr(eq, '/') : NULL;
    if (eq && slash && eq > item) {
      struct price *p = &rt->prices[rt->nprices];
      snprintf(p->model, sizeof p->model, "%.*s", (int)(eq - item), item);
      p->in = strtod(eq + 1, NULL);
      p->out = strtod(slash + 1, NULL);
      if (p->in >= 0 && p->out >= 0)
        rt->nprices++;
    }
    spec += len + (spec[len] == ',');
  }
}

double runtime_cost(const struct runtime *rt, const char *model, long in, long out)
{
  for (size_t i = 0; model && i < rt->nprices; i++)
    if (strcmp(rt->prices[i].model, model) == 0)
      return ((double)in * rt->prices[i].in + (double)out * rt->prices[i].out) / 1e6;
  return 0;
}

int runtime_rate_take(struct runtime *rt, const char *conv)
{
  double now = clock_mono_s();
  size_t h = 5381;
  for (const char *p = conv; *p; p++)
    h = h * 33 + (unsigned char)*p;
  pthread_mutex_lock(&rt->lock);
  struct rate_slot *slot = &rt->rate[h % RATE_SLOTS];
  if (strcmp(slot->conv, conv) != 0) { /* a new conversation takes the slot over */
    snprintf(slot->conv, sizeof slot->conv, "%s", conv);
    slot->n = 0;
  }
  size_t kept = 0;
  for (size_t i = 0; i < slot->n; i++)
    if (now - slot->starts[i] < 60.0)
      slot->starts[kept++] = slot->starts[i];
  slot->n = kept;
  int ok = (int)slot->n < rt->lim.runs_per_minute;
  if (ok)
    slot->starts[slot->n++] = now;
  pthread_mutex_unlock(&rt->lock);
  return ok;
}

struct spent {
  double tokens, cost;
};

static int add_spent(void *arg, const char *text, size_t len, struct err *err)
{
  (void)err;
  struct spent *s = arg;
  s->tokens += dq_text_num(text, len, "tokensUsed", 0);
  s->cost += dq_text_num(text, len, "cost", 0);
  return 0;
}

int runtime_over_budget(struct runtime *rt, struct store_tx *tx, const char *user, char *why,
                        size_t n, struct err *err)
{
  if (!user[0] || (!rt->lim.tokens_per_day && rt->lim.cost_per_day <= 0))
    return 0;
  double now = clock_now_ms(), day = now - fmod(now, 86400000.0); /* since 00:00 UTC */
  json_t *eq = json_pack("[s]", user), *lo = json_real(day);
  struct spent s = {0, 0};
  struct store_query q = {.table = "inferenceUsage", .index = "by_user", .eq = eq,
                          .lower_op = STORE_GTE, .lower = lo, .limit = STORE_MAX_PAGE,
                          .each = add_spent, .each_arg = &s};
  struct store_page page = {0};
  int rc = 0;
  for (;;) {
    rc = store_query(tx, &q, &page, err);
    if (rc || page.done || !page.cursor)
      break;
    one_free((void *)q.cursor);
    q.cursor = page.cursor;
    page.cursor = NULL;
    store_page_release(&page);
  }
  one_free((void *)q.cursor);
  store_page_release(&page);
  json_decref(eq);
  json_decref(lo);
  if (rc)
    return rc;
  if (rt->lim.tokens_per_day && s.tokens >= (double)rt->lim.tokens_per_day) {
    snprintf(why, n, "today's budget of %ld tokens is spent (%.0f used); it renews at 00:00 UTC",
             rt->lim.tokens_per_day, s.tokens);
    return 1;
  }
  if (rt->lim.cost_per_day > 0 && s.cost >= rt->lim.cost_per_day) {
    snprintf(why, n, "today's budget of %.4f is spent (%.4f used); it renews at 00:00 UTC",
             rt->lim.cost_per_day, s.cost);
    return 1;
  }
  return 0;
}

int runtime_add_reply_job(struct store_tx *tx, const struct chain *c, const char *message,
                          const char *agent, int depth, const char *handoff, struct err *err)
{
  json_t *handoffs = c->handoffs ? json_deep_copy(c->handoffs) : json_array();
  if (handoffs && handoff)
    json_array_append_new(handoffs, json_string(handoff));
  int rc = handoffs ? replies_answer_later(tx, c->conv, message, agent, c->user, depth, handoffs,
                                           err)
                    : err_set(err, E_NOMEM, "out of memory");
  json_decref(handoffs);
  return rc;
}

int chain_parse(const char *args, struct chain *c, struct err *err)
{
  memset(c, 0, sizeof *c);
  json_error_t je;
  json_t *v = json_loads(args, 0, &je);
  const char *conv = json_string_value(json_object_get(v, "conversationId"));
  const char *msg = json_string_value(json_object_get(v, "messageId"));
  if (!conv || !msg || strlen(conv) >= CID_MAX || strlen(msg) >= CID_MAX) {
    json_decref(v);
    return err_set(err, E_INVALID, "the job's arguments name no conversation and message");
  }
  snprintf(c->conv, sizeof c->conv, "%s", conv);
  snprintf(c->message, sizeof c->message, "%s", msg);
  snprintf(c->agent, sizeof c->agent, "%s", dq_str(v, "agentId"));
  snprintf(c->user, sizeof c->user, "%s", dq_str(v, "userId"));
  c->depth = (int)json_integer_value(json_object_get(v, "depth"));
  json_t *h = json_object_get(v, "handoffs");
  c->handoffs = json_is_array(h) ? json_incref(h) : json_array();
  json_decref(v);
  return c->handoffs ? 0 : err_set(err, E_NOMEM, "out of memory");
}

void chain_release(struct chain *c)
{
  json_decref(c->handoffs);
  c->handoffs = NULL;
}

int runtime_new(struct store *s, struct sched *sc, const struct llm_config *llm,
                const struct runtime_limits *lim, struct runtime **out, struct err *err)
{
  struct runtime *rt = one_calloc(1, sizeof *rt);
  if (!rt)
    return err_set(err, E_NOMEM, "out of memory");
  rt->s = s;
  rt->sc = sc;
  if (lim)
    rt->lim = *lim;
  else
    runtime_limits_from_env(&rt->lim);
  if (rt->lim.history <= 0)
    rt->lim.history = 20;
  if (rt->lim.runs_per_minute <= 0 || rt->lim.runs_per_minute > 64)
    rt->lim.runs_per_minute = 64;
  if (rt->lim.max_steps <= 0)
    rt->lim.max_steps = 10;
  read_prices(rt, getenv("ONE_LLM_PRICES"));
  pthread_mutex_init(&rt->lock, NULL);
  pthread_mutex_init(&rt->partial_lock, NULL);
  int rc = 0;
  if (llm) {
    snprintf(rt->model, sizeof rt->model, "%s", llm->model ? llm->model : "");
    rc = llm_new(llm, &rt->llm, err);
  }
  if (!rc)
    rc = sched_on(sc, RUNTIME_REPLY_JOB, run_job, rt, err);
  if (!rc)
    rc = sched_on(sc, "agent.task", task_job, rt, err);
  if (!rc)
    rc = sched_on(sc, OUTBOUND_EMAIL_JOB, outbound_email_job, rt, err);
  if (!rc)
    rc = sched_on(sc, SCHEDULE_REMINDER_JOB, timed_reminder_job, rt, err);
  if (!rc)
    rc = sched_on(sc, SCHEDULE_BROADCAST_JOB, timed_broadcast_job, rt, err);
  if (!rc)
    rc = sched_on(sc, EVALS_RUN_JOB, evals_job, rt, err);
  if (rc) {
    runtime_free(rt);
    return rc;
  }
  *out = rt;
  return 0;
}

void runtime_on_partial(struct runtime *rt, runtime_partial_fn fn, void *arg)
{
  pthread_mutex_lock(&rt->partial_lock);
  rt->partial = fn;
  rt->partial_arg = arg;
  pthread_mutex_unlock(&rt->partial_lock);
}

void runtime_partial(struct runtime *rt, const char *conv, const json_t *data)
{
  pthread_mutex_lock(&rt->partial_lock);
  if (rt->partial)
    rt->partial(rt->partial_arg, conv, data);
  pthread_mutex_unlock(&rt->partial_lock);
}

void runtime_free(struct runtime *rt)
{
  if (!rt)
    return;
  rt->stopping = 1;
  llm_free(rt->llm);
  pthread_mutex_destroy(&rt->lock);
  pthread_mutex_destroy(&rt->partial_lock);
  one_free(rt);
}
