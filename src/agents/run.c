/* run: one agent's run, the handler of a reply job (runtime.h).
 *
 * States, with the function for each transition:
 *   begun (run_job: the agent, its row, budget and model checked; context
 *   built, or the saved progress of an earlier attempt read back)
 *   -> asking (ask: a model call in flight; no thread waits)
 *   -> answered (after: usage written; on a worker again)
 *      -> tool step (tool_step: each call checked, run and announced, the
 *         results appended; progress saved) -> asking
 *      -> last call (the step limit or a repeated call: asked once more,
 *         without tools) -> asking
 *      -> finished (finish: the reply, the status back and any hand-offs
 *         committed with the job's end).
 * Invariants: a run ends its job exactly once (sched_done, sched_retry or
 * sched_fail) and frees itself right after; every model call writes one
 * inferenceUsage row, whatever its outcome. */
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/mentions.h"
#include "domain/replies.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

struct run {
  struct runtime *rt;
  struct sched_run *job;
  struct chain c;
  json_t *agent;
  char row[CID_MAX];
  int active;
  json_t *messages, *tools;
  int steps, final_call, no_output, repeats;
  double tokens, cost;
  char last_call[600];
  struct llm_result *res;
  size_t partial;          /* bytes of the reply streamed so far in this call */
  const struct llm_result *usage; /* the last call's usage, not yet written */
  double usage_cost;
  struct { char tool[64]; char error[520]; } notes[16]; /* this step's tool uses */
  size_t nnotes;
  char limit_note[300];    /* this step's limit notice, "" when none */
  char stop[400];          /* why the run does not ask the model at all */
  const char *stop_limit;  /* and the limit it is (meta.limit) */
};

static void run_free(struct run *r)
{
  chain_release(&r->c);
  json_decref(r->agent);
  json_decref(r->messages);
  json_decref(r->tools);
  llm_result_free(r->res);
  one_free(r);
}

static const char *agent_name(const struct run *r) { return dq_str(r->agent, "name"); }

/* A system notice in the conversation, authored by the agent's row. */
static int notice(struct store_tx *tx, const char *conv, const char *row, const char *text,
                  json_t *meta, struct err *err)
{
  struct reply rep = {conv, row, 1, text, meta, 0, 0};
  int rc = replies_post(tx, &rep, NULL, err);
  json_decref(meta);
  return rc;
}

/* --- hand-offs --- */

/* A hash of what a hand-off says, blind to case, digits, spaces and
 * punctuation, so that two near-identical messages ("over to you (3)",
 * "Over to you (4)!") hash alike: the same pair handing them back and forth
 * is a loop. */
static unsigned long text_hash(const char *s)
{
  unsigned long h = 5381;
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch >= 0x80 || isalpha(ch))
      h = h * 33 + (unsigned long)tolower(ch);
  }
  return h;
}

int run_delegate(struct runtime *rt, struct store_tx *tx, const struct chain *c,
                 const json_t *from, const char *from_row, const char *to, const char *content,
                 int post, char *why, size_t n, struct err *err)
{
  why[0] = '\0';
  const char *self = dq_str(from, "_id");
  if (strcmp(self, to) == 0)
    return 0;
  json_t *target = NULL;
  int rc = dq_get(tx, "agents", to, "agent", &target, err);
  if (rc)
    return rc;
  const char *to_name = dq_str(target, "name");
  const json_t *allowed = json_object_get(from, "delegatesTo");
  char pid[CID_MAX], handoff[2 * CID_MAX + 24];
  int active = 0;
  snprintf(handoff, sizeof handoff, "%s>%s#%lx", self, to, text_hash(content));
  rc = replies_agent_row(tx, c->conv, to, pid, &active, err);
  int repeated = 0;
  size_t i;
  json_t *h;
  json_array_foreach(c->handoffs, i, h) repeated |= strcmp(json_string_value(h), handoff) == 0;
  const char *limit = NULL;
  if (rc) {
  } else if (json_is_array(allowed) && !dq_list_has(allowed, to)) {
    snprintf(why, n, "%s may not hand work to %s: %s is not in its delegatesTo",
             dq_str(from, "name"), to_name, to_name);
    limit = "delegatesTo";
  } else if (!active) {
    snprintf(why, n, "%s does not take part in this conversation (add it first)", to_name);
    limit = "participant";
  } else if (c->depth + 1 > rt->lim.max_depth) {
    snprintf(why, n, "the limit of %d hand-offs from the person's message is reached, so %s "
             "was not asked", rt->lim.max_depth, to_name);
    limit = "depth";
  } else if (repeated) {
    snprintf(why, n, "%s handed %s the same work before in this exchange: stopped a "
             "delegation loop", dq_str(from, "name"), to_name);
    limit = "repeat";
  }
  if (!rc && limit) {
    char text[600];
    snprintf(text, sizeof text, "Hand-off to %s stopped: %s.", to_name, why);
    rc = notice(tx, c->conv, from_row, text,
                json_pack("{s:s,s:s,s:s}", "limit", limit, "agentId", self, "to", to), err);
  } else if (!rc) {
    char msg[CID_MAX];
    snprintf(msg, sizeof msg, "%s", c->message);
    if (post) {
      struct reply rep = {c->conv, from_row, 0, content, NULL, 0, 0};
      rc = replies_post(tx, &rep, msg, err);
    }
    if (!rc)
      rc = runtime_add_reply_job(tx, c, post ? msg : c->message, to, c->depth + 1, handoff, err);
  }
  json_decref(target);
  return rc;
}

/* --- usage --- */

/* The inferenceUsage row of the call whose result is r->usage. */
static int usage_write(struct store_tx *tx, struct run *r, struct err *err)
{
  const struct llm_result *res = r->usage;
  const char *model = res->model ? res->model : r->rt->model;
  json_t *doc = json_pack("{s:s,s:s,s:s,s:f,s:f,s:s,s:f,s:{s:b,s:i,s:i,s:i}}", "agentId",
                          r->c.agent, "conversationId", r->c.conv, "messageId", r->c.message,
                          "tokensUsed", (double)res->total_tokens, "cost", r->usage_cost,
                          "model", model, "createdAt", clock_now_ms(), "meta", "ok",
                          res->code == 0, "promptTokens", (int)res->prompt_tokens,
                          "completionTokens", (int)res->completion_tokens, "attempts",
                          res->attempts);
  if (doc && r->c.user[0])
    json_object_set_new(doc, "userId", json_string(r->c.user));
  if (doc && res->code)
    json_object_set_new(json_object_get(doc, "meta"), "error", json_string(res->error));
  int rc = doc ? store_insert(tx, "inferenceUsage", doc, 0, NULL, err)
               : err_set(err, E_NOMEM, "out of memory");
  json_decref(doc);
  return rc;
}

static int usage_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return usage_write(tx, arg, err);
}

/* Writes the pending usage row in a transaction of its own: when the
 * transaction that should have carried it did not commit. */
static void usage_alone(struct run *r)
{
  if (!r->usage)
    return;
  struct err err = ERR_INIT;
  store_run(r->rt->s, STORE_WRITE_LAZY, usage_tx, r, &err);
  err_clear(&err);
  r->usage = NULL;
}

/* --- finishing --- */

struct finish {
  struct run *r;
  const char *content;     /* the reply, or NULL */
  const char *problem;     /* a notice instead (the run could not answer), or NULL */
  const char *limit;       /* the notice's meta.limit, or NULL */
};

static int finish_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct finish *f = arg;
  struct run *r = f->r;
  int rc = r->usage ? usage_write(tx, r, err) : 0;
  if (!rc && r->row[0])
    rc = replies_set_status(tx, r->row, "inactive", err);
  if (!rc && f->problem)
    rc = notice(tx, r->c.conv, r->row, f->problem,
                f->limit ? json_pack("{s:s,s:s}", "limit", f->limit, "agentId", r->c.agent)
                         : json_pack("{s:s,s:s}", "error", "run", "agentId", r->c.agent),
                err);
  if (rc || !f->content || !f->content[0] || r->no_output)
    return rc;
  char id[CID_MAX];
  struct reply rep = {r->c.conv, r->row, 0, f->content, NULL, r->cost, r->tokens};
  rc = replies_post(tx, &rep, id, err);
  /* the agents the reply mentions are handed the work, within the rules */
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(f->content, strlen(f->content), m, MENTION_MAX_PER_MESSAGE);
  struct chain next = r->c;
  snprintf(next.message, sizeof next.message, "%s", id);
  for (size_t i = 0; !rc && i < n; i++) {
    if (m[i].kind != MENTION_AGENT)
      continue;
    char why[400];
    rc = run_delegate(r->rt, tx, &next, r->agent, r->row, m[i].id, f->content, 0, why,
                      sizeof why, err);
  }
  return rc;
}

/* Ends the run with its reply or a notice, and frees it. */
static void finish(struct run *r, const char *content, const char *problem, const char *limit)
{
  struct finish f = {r, content, problem, limit};
  struct err err = ERR_INIT;
  if (sched_done(r->job, finish_tx, &f, &err))
    usage_alone(r); /* the call happened, whatever became of the run */
  err_clear(&err);
  run_free(r);
}

struct status_arg {
  const struct run *r;
  const char *status;
};

static int status_tx(struct store_tx *tx, void *arg, struct err *err)
{
  const struct status_arg *a = arg;
  return replies_set_status(tx, a->r->row, a->status, err);
}

/* The agent's participant status, in a transaction of its own. */
static int set_status(const struct run *r, const char *status, struct err *err)
{
  struct status_arg a = {r, status};
  return store_run(r->rt->s, STORE_WRITE_LAZY, status_tx, &a, err);
}

/* Ends the attempt for a later one (the status back meanwhile). */
static void retry(struct run *r, const char *why, int64_t at)
{
  struct err err = ERR_INIT;
  usage_alone(r);
  if (r->row[0])
    set_status(r, "inactive", &err);
  err_clear(&err);
  sched_retry(r->job, why, at);
  run_free(r);
}

/* --- the model --- */

static void after(void *arg, struct sched_run *job);

static void on_done(void *arg, struct llm_result *res)
{
  struct run *r = arg;
  r->res = res;
  sched_post(r->job, after, r); /* off the client's thread */
}

/* A piece of the reply as the model writes it (on the client's thread). */
static void on_delta(void *arg, const char *text, size_t len)
{
  struct run *r = arg;
  json_t *data = json_pack("{s:s,s:s,s:s,s:s%,s:f,s:b}", "conversationId", r->c.conv,
                           "participantId", r->row, "agentId", r->c.agent, "text",
                           text ? text : "", text ? len : 0, "offset", (double)r->partial,
                           "restart", text == NULL);
  r->partial = text ? r->partial + len : 0;
  if (data)
    runtime_partial(r->rt, r->c.conv, data);
  json_decref(data);
}

static void ask(struct run *r)
{
  struct err err = ERR_INIT;
  const char *model = dq_str(r->agent, "model");
  r->partial = 0;
  if (llm_chat(r->rt->llm, model[0] ? model : NULL, r->messages,
               r->final_call ? NULL : r->tools, 1, on_delta, on_done, r, &err)) {
    char text[700];
    snprintf(text, sizeof text, "%s could not ask the model: %s", agent_name(r), err.msg);
    err_clear(&err);
    finish(r, NULL, text, NULL);
  }
}

/* The notice of the step's i-th tool use. */
static int announce(struct store_tx *tx, struct run *r, size_t i, struct err *err)
{
  const char *tool = r->notes[i].tool, *error = r->notes[i].error[0] ? r->notes[i].error : NULL;
  char text[800];
  if (error)
    snprintf(text, sizeof text, "%s tried %s: %s", agent_name(r), tool, error);
  else
    snprintf(text, sizeof text, "%s used %s", agent_name(r), tool);
  json_t *meta = json_pack("{s:s,s:s,s:s,s:b}", "tool", tool, "agentId", r->c.agent,
                           "agentName", agent_name(r), "ok", error == NULL);
  return notice(tx, r->c.conv, r->row, text, meta, err);
}

#define STEP_CALLS 16 /* tool calls a step runs; the model's others are refused */

/* A tool step's calls: the ones that wait on the network run before its
 * transaction (pre), the others inside it, so that their writes commit
 * with the step's progress: a step redone after a crash is redone whole. */
struct step {
  struct run *r;
  const struct llm_result *res;
  int pre[STEP_CALLS];            /* done before the transaction */
  int pre_rc[STEP_CALLS];
  char *pre_out[STEP_CALLS];
  char pre_err[STEP_CALLS][520];
};

/* The tool message of call i, run in tx unless it ran before; recorded
 * for the step's notices. */
static json_t *tool_result(struct step *st, struct store_tx *tx, size_t i)
{
  struct run *r = st->r;
  const struct llm_tool_call *call = &st->res->calls[i];
  char *out = NULL;
  struct err err = ERR_INIT;
  int rc;
  if (i >= STEP_CALLS) {
    rc = err_set(&err, E_LIMIT, "at most %d tool calls a step", STEP_CALLS);
  } else if (st->pre[i]) {
    rc = st->pre_rc[i];
    out = st->pre_out[i];
    st->pre_out[i] = NULL;
    if (rc)
      err_set(&err, rc, "%s", st->pre_err[i]);
  } else {
    struct tool_env env = {r->rt, &r->c, r->agent, r->row, sched_job(r->job)->id, call->id};
    rc = tools_call_in(tx, &env, call->name, call->arguments, &out, &err);
  }
  if (!rc && strcmp(call->name, "noOutput") == 0)
    r->no_output = 1;
  if (r->nnotes < sizeof r->notes / sizeof r->notes[0]) { /* announced with the step */
    snprintf(r->notes[r->nnotes].tool, sizeof r->notes[0].tool, "%s", call->name);
    snprintf(r->notes[r->nnotes].error, sizeof r->notes[0].error, "%s", rc ? err.msg : "");
    r->nnotes++;
  }
  char *content = out;
  if (rc) { /* the failure goes back to the model as the tool's result */
    json_t *e = json_pack("{s:s}", "error", err.msg);
    content = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
  }
  json_t *msg = json_pack("{s:s,s:s,s:s}", "role", "tool", "tool_call_id", call->id, "content",
                          content ? content : "{}");
  one_free(content);
  err_clear(&err);
  return msg;
}

/* Before the step's transaction: repeats refused, network tools run. */
static void step_prepare(struct step *st)
{
  struct run *r = st->r;
  for (size_t i = 0; i < st->res->ncalls && i < STEP_CALLS; i++) {
    const struct llm_tool_call *call = &st->res->calls[i];
    char key[600];
    snprintf(key, sizeof key, "%s %s", call->name, call->arguments);
    r->repeats = strcmp(key, r->last_call) == 0 ? r->repeats + 1 : 0;
    snprintf(r->last_call, sizeof r->last_call, "%s", key);
    struct err err = ERR_INIT;
    if (r->repeats >= 2) {
      st->pre[i] = 1;
      st->pre_rc[i] = err_set(&err, E_LIMIT, "the same call a third time in a row was "
                                            "refused; answer with what you have");
      r->final_call = 1;
    } else if (tools_outside(call->name)) {
      struct tool_env env = {r->rt, &r->c, r->agent, r->row, sched_job(r->job)->id, call->id};
      st->pre[i] = 1;
      st->pre_rc[i] = tools_call_outside(&env, call->name, call->arguments, &st->pre_out[i],
                                         &err);
    }
    snprintf(st->pre_err[i], sizeof st->pre_err[i], "%s", err.msg);
    err_clear(&err);
  }
}

/* What a tool step leaves, in one transaction: the call's usage, a notice
 * for each tool use and for a limit reached, and the run's progress. */
static int step_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct step *st = arg;
  struct run *r = st->r;
  for (size_t i = 0; i < st->res->ncalls; i++)
    json_array_append_new(r->messages, tool_result(st, tx, i));
  r->steps++;
  r->limit_note[0] = '\0';
  if (r->steps >= r->rt->lim.max_steps && !r->final_call) {
    r->final_call = 1;
    snprintf(r->limit_note, sizeof r->limit_note, "%s reached the limit of %d tool steps and "
             "answers without more tools.", agent_name(r), r->rt->lim.max_steps);
  }
  if (r->final_call)
    json_array_append_new(r->messages,
                          json_pack("{s:s,s:s}", "role", "user", "content",
                                    "[ONE] No more tools in this run: give your best final "
                                    "answer now."));
  int rc = r->usage ? usage_write(tx, r, err) : 0;
  for (size_t i = 0; !rc && i < r->nnotes; i++)
    rc = announce(tx, r, i, err);
  if (!rc && r->limit_note[0])
    rc = notice(tx, r->c.conv, r->row, r->limit_note,
                json_pack("{s:s,s:s}", "limit", "steps", "agentId", r->c.agent), err);
  json_t *state = rc ? NULL
                     : json_pack("{s:O,s:i,s:f,s:f,s:i,s:i}", "messages", r->messages, "steps",
                                 r->steps, "tokens", r->tokens, "cost", r->cost, "final",
                                 r->final_call, "noOutput", r->no_output);
  char *text = state ? json_dumps(state, JSON_COMPACT) : NULL;
  json_decref(state);
  if (!rc)
    rc = text ? sched_save(tx, r->job, text, err) : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  return rc;
}

static void tool_step(struct run *r, struct llm_result *res)
{
  json_t *calls = json_array();
  for (size_t i = 0; i < res->ncalls; i++)
    json_array_append_new(calls, json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", res->calls[i].id,
                                           "type", "function", "function", "name",
                                           res->calls[i].name, "arguments",
                                           res->calls[i].arguments));
  json_t *asked = json_pack("{s:s,s:o,s:o}", "role", "assistant", "content",
                            res->content ? json_string(res->content) : json_null(),
                            "tool_calls", calls);
  json_array_append_new(r->messages, asked);
  int all_silent = 1;
  for (size_t i = 0; i < res->ncalls; i++)
    all_silent &= strcmp(res->calls[i].name, "noOutput") == 0;
  if (all_silent) { /* it chose to say nothing: nothing to run or announce */
    r->no_output = 1;
    finish(r, NULL, NULL, NULL);
    return;
  }
  struct step st;
  memset(&st, 0, sizeof st);
  st.r = r;
  st.res = res;
  step_prepare(&st);
  struct err err = ERR_INIT;
  int rc = store_run(r->rt->s, STORE_WRITE_LAZY, step_tx, &st, &err);
  r->nnotes = 0;
  for (size_t i = 0; i < STEP_CALLS; i++)
    one_free(st.pre_out[i]);
  if (rc) { /* the lease is lost (another runner has the job now), or the store failed */
    char why[600];
    snprintf(why, sizeof why, "%s", err.msg);
    err_clear(&err);
    retry(r, why, 0);
    return;
  }
  r->usage = NULL;
  ask(r);
}

/* A model call came back (on a worker). */
static void after(void *arg, struct sched_run *job)
{
  (void)job;
  struct run *r = arg;
  struct llm_result *res = r->res;
  r->res = NULL;
  r->usage = res; /* written with what the call leads to: res lives until r has ended */
  r->usage_cost = runtime_cost(r->rt, res->model ? res->model : r->rt->model,
                               res->prompt_tokens, res->completion_tokens);
  r->tokens += (double)res->total_tokens;
  r->cost += r->usage_cost;
  if (res->code && (r->rt->stopping || (res->code == E_LIMIT && res->retry_after_ms > 0))) {
    int64_t at = (int64_t)clock_now_ms() + (res->code == E_LIMIT ? res->retry_after_ms : 1000);
    char why[700];
    snprintf(why, sizeof why, "%s", res->error);
    retry(r, why, at); /* the model asked to come back later, or this process stops */
    llm_result_free(res); /* after: retry writes its usage */
    return;
  }
  if (res->code) {
    char text[800];
    snprintf(text, sizeof text, "%s could not answer: %s", agent_name(r), res->error);
    finish(r, NULL, text, NULL);
    llm_result_free(res); /* after: finish writes its usage */
    return;
  }
  if (res->ncalls && !r->final_call) {
    tool_step(r, res);
    llm_result_free(res);
    return;
  }
  finish(r, res->content, NULL, NULL);
  llm_result_free(res);
}

/* --- the start --- */

static int restore(struct run *r, const char *saved)
{
  json_error_t je;
  json_t *st = json_loads(saved, 0, &je);
  json_t *m = json_object_get(st, "messages");
  if (!json_is_array(m)) {
    json_decref(st);
    return -1;
  }
  r->messages = json_incref(m);
  r->steps = (int)json_integer_value(json_object_get(st, "steps"));
  r->tokens = json_number_value(json_object_get(st, "tokens"));
  r->cost = json_number_value(json_object_get(st, "cost"));
  r->final_call = (int)json_integer_value(json_object_get(st, "final"));
  r->no_output = (int)json_integer_value(json_object_get(st, "noOutput"));
  json_decref(st);
  return 0;
}

static int load_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct run *r = arg;
  int rc = dq_get(tx, "agents", r->c.agent, "agent", &r->agent, err);
  if (!rc)
    rc = replies_agent_row(tx, r->c.conv, r->c.agent, r->row, &r->active, err);
  if (rc || !r->active)
    return rc;
  if (!runtime_rate_take(r->rt, r->c.conv)) {
    snprintf(r->stop, sizeof r->stop, "Not answering: this conversation reached its limit of %d "
             "agent runs a minute. Ask again in a minute.", r->rt->lim.runs_per_minute);
    r->stop_limit = "runsPerMinute";
    return 0;
  }
  if ((rc = runtime_over_budget(r->rt, tx, r->c.user, r->stop, sizeof r->stop, err)) != 0) {
    r->stop_limit = "budget";
    return rc < 0 ? rc : 0;
  }
  if (!r->rt->llm) {
    r->stop_limit = "model";
    snprintf(r->stop, sizeof r->stop,
             "%s cannot answer: no language model is configured. Set ONE_LLM_BASE_URL (an "
             "OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 for Ollama), "
             "ONE_LLM_MODEL (e.g. llama3.1) and, if the endpoint needs one, ONE_LLM_API_KEY, "
             "then restart one serve.", dq_str(r->agent, "name"));
    return 0;
  }
  const char *saved = sched_job(r->job)->saved;
  if (!saved || restore(r, saved) != 0)
    rc = context_build(r->rt, tx, &r->c, r->agent, &r->messages, err);
  if (!rc)
    r->tools = tools_for(tx, r->agent);
  return rc;
}

void run_job(void *arg, struct sched_run *job)
{
  struct run *r = one_calloc(1, sizeof *r);
  if (!r) {
    sched_retry(job, "out of memory", 0);
    return;
  }
  r->rt = arg;
  r->job = job;
  struct err err = ERR_INIT;
  int rc = chain_parse(sched_job(job)->args, &r->c, &err);
  if (rc) {
    sched_fail(job, err.msg);
    err_clear(&err);
    run_free(r);
    return;
  }
  rc = store_run(r->rt->s, STORE_READ, load_tx, r, &err);
  if (rc == E_NOTFOUND || (!rc && !r->active)) { /* the agent or its place is gone */
    r->row[0] = '\0';
    err_clear(&err);
    finish(r, NULL, NULL, NULL);
    return;
  }
  if (rc) {
    char why[600];
    snprintf(why, sizeof why, "%s", err.msg);
    err_clear(&err);
    r->row[0] = '\0';
    retry(r, why, 0);
    return;
  }
  if (r->stop[0]) {
    char text[sizeof r->stop];
    snprintf(text, sizeof text, "%s", r->stop);
    finish(r, NULL, text, r->stop_limit);
    return;
  }
  if (set_status(r, "thinking", &err) != 0) {
    char why[600];
    snprintf(why, sizeof why, "%s", err.msg);
    err_clear(&err);
    retry(r, why, 0);
    return;
  }
  ask(r);
}

/* --- scheduled tasks (the scheduleTask tool) --- */

struct task {
  struct runtime *rt;
  struct chain c;
  const char *task;
};

static int task_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct task *t = arg;
  char row[CID_MAX], id[CID_MAX];
  int active = 0;
  int rc = replies_agent_row(tx, t->c.conv, t->c.agent, row, &active, err);
  if (rc || !active)
    return rc; /* the agent left: the task goes with it */
  size_t n = strlen(t->task) + 64;
  char *text = one_malloc(n);
  if (!text)
    return err_set(err, E_NOMEM, "out of memory");
  snprintf(text, n, "Scheduled task due now: %s", t->task);
  json_t *meta = json_pack("{s:s,s:s}", "scheduledTask", t->task, "agentId", t->c.agent);
  struct reply rep = {t->c.conv, row, 1, text, meta, 0, 0};
  rc = replies_post(tx, &rep, id, err);
  json_decref(meta);
  one_free(text);
  if (!rc)
    rc = runtime_add_reply_job(tx, &t->c, id, t->c.agent, 0, NULL, err);
  return rc;
}

void task_job(void *arg, struct sched_run *job)
{
  struct task t;
  memset(&t, 0, sizeof t);
  t.rt = arg;
  struct err err = ERR_INIT;
  json_error_t je;
  json_t *args = json_loads(sched_job(job)->args, 0, &je);
  const char *conv = json_string_value(json_object_get(args, "conversationId"));
  const char *agent = json_string_value(json_object_get(args, "agentId"));
  t.task = json_string_value(json_object_get(args, "task"));
  if (!conv || !agent || !t.task || strlen(conv) >= CID_MAX || strlen(agent) >= CID_MAX) {
    sched_fail(job, "a scheduled task needs a conversation, an agent and the task");
  } else {
    snprintf(t.c.conv, sizeof t.c.conv, "%s", conv);
    snprintf(t.c.agent, sizeof t.c.agent, "%s", agent);
    snprintf(t.c.user, sizeof t.c.user, "%s", dq_str(args, "userId"));
    t.c.handoffs = json_array();
    sched_done(job, task_tx, &t, &err);
    chain_release(&t.c);
  }
  err_clear(&err);
  json_decref(args);
}
