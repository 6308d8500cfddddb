/* Tests of the agent runtime (agents/runtime.c, route.c, run.c, tools.c)
 * in one process: the real store at the ONE schema, the scheduler, and the
 * model client talking to the fake model server on loopback. Messages are
 * posted through the domain's messages_send, so routing starts where it
 * does in the API. Scenarios of issue 5: mentions, the Director, delegation
 * inside and outside delegatesTo, the depth limit, delegation loops, the
 * step limit, budgets, no model configured, tool use announced with bad
 * arguments refused, usage rows, the thinking status, and a scheduled task
 * that fires after the scheduler restarts. No test asserts on time. */
#include "agents/runtime.h"
#include "domain/conversations.h"
#include "domain/dq.h"
#include "fakellm.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *dir;
static struct store *st;
static struct fakellm *fake;
static struct sched *sc;
static struct runtime *rt;
static struct runtime_limits lim;
static struct actor alice;
static char director[CID_MAX], sage[CID_MAX], writer[CID_MAX];

static int insert_tx(struct store_tx *tx, void *arg, struct err *err)
{
  void **a = arg;
  return store_insert(tx, a[0], a[1], 0, a[2], err);
}

static void insert(const char *table, const char *json, char id[CID_MAX])
{
  json_t *v = tu_json(json);
  void *a[3] = {(void *)table, v, id};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, insert_tx, a, &err), 0, "%s: %s %s", table, err.msg,
               err.ndetails ? err.details[0].message : "");
  json_decref(v);
}

static int set_schema_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return store_set_schema(tx, "one", arg, err);
}

static void start_runtime(int with_model)
{
  struct sched_options o = {.lease_ms = 2000, .retry_base_ms = 20, .retry_max_ms = 100};
  struct err err = ERR_INIT;
  cr_assert_eq(sched_new(st, &o, &sc, &err), 0, "%s", err.msg);
  struct llm_config cfg = {0};
  cfg.base_url = fakellm_url(fake);
  cfg.model = "fake-model";
  cfg.retry_base_ms = 5;
  cr_assert_eq(runtime_new(st, sc, with_model ? &cfg : NULL, &lim, &rt, &err), 0, "%s", err.msg);
  cr_assert_eq(sched_start(sc, &err), 0, "%s", err.msg);
}

static void stop_runtime(void)
{
  sched_stop(sc, 5000);
  runtime_free(rt);
  sched_free(sc);
  sc = NULL;
  rt = NULL;
}

static void setup_with(int with_model)
{
  dir = tu_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF};
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&so, &st, &err), 0, "%s", err.msg);
  struct schema *one = NULL;
  cr_assert_eq(schema_load("one", &one, &err), 0, "%s", err.msg);
  cr_assert_eq(store_run(st, STORE_WRITE, set_schema_tx, one, &err), 0, "%s", err.msg);
  schema_free(one);
  cr_assert(fake = fakellm_start(0));
  insert("users", "{\"name\":\"Alice\",\"email\":\"alice@example.com\",\"createdAt\":1.0}",
         alice.user);
  insert("agents", "{\"name\":\"Director\",\"description\":\"the lead\",\"kind\":\"system_agent\","
                   "\"prompt\":\"You orchestrate.\",\"createdAt\":1.0}", director);
  insert("agents", "{\"name\":\"Sage\",\"description\":\"knows your facts\",\"kind\":\"system_agent\","
                   "\"createdAt\":1.0}", sage);
  insert("agents", "{\"name\":\"Writer\",\"description\":\"drafts assets\",\"kind\":\"system_agent\","
                   "\"createdAt\":1.0}", writer);
  lim.max_depth = 5;
  lim.max_steps = 10;
  lim.runs_per_minute = 64;
  lim.history = 20;
  lim.tokens_per_day = 0;
  lim.cost_per_day = 0;
  (void)with_model;
}

static void setup(void) { setup_with(1); }

static void teardown(void)
{
  if (sc)
    stop_runtime();
  fakellm_stop(fake);
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(agents, .init = setup, .fini = teardown, .timeout = 120);

/* A conversation of Alice with the given agents. */
static void conversation(const char *agents_json, char conv[CID_MAX])
{
  char body[1000];
  snprintf(body, sizeof body, "{\"title\":\"t\",\"agents\":%s}", agents_json);
  json_t *in = tu_json(body);
  struct op op;
  memset(&op, 0, sizeof op);
  op.who = &alice;
  op.in = in;
  struct err err = ERR_INIT;
  cr_assert_eq(conversations_create(st, &op, &err), 0, "%s", err.msg);
  snprintf(conv, CID_MAX, "%s", dq_str(op.out, "_id"));
  json_decref(op.out);
  json_decref(in);
}

static void say(const char *conv, const char *content)
{
  json_t *in = json_pack("{s:s}", "content", content);
  struct op op;
  memset(&op, 0, sizeof op);
  op.who = &alice;
  op.id = conv;
  op.in = in;
  struct err err = ERR_INIT;
  cr_assert_eq(messages_send(st, &op, &err), 0, "%s", err.msg);
  one_free(op.text);
  json_decref(op.out);
  json_decref(in);
}

static int counts_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return store_job_counts(tx, arg, NULL, err);
}

/* Waits (a guard of 60 s against hanging) until no job is pending or
 * running. */
static void wait_idle(void)
{
  for (int i = 0; i < 6000; i++) {
    int64_t c[STORE_JOB_STATES];
    struct err err = ERR_INIT;
    cr_assert_eq(store_run(st, STORE_READ, counts_tx, c, &err), 0);
    if (!c[STORE_JOB_PENDING] && !c[STORE_JOB_RUNNING])
      return;
    tu_sleep_ms(10);
  }
  cr_assert_fail("jobs never finished");
}

struct listing {
  const char *table, *index;
  json_t *eq;
  json_t *docs;
};

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct listing *l = arg;
  struct store_query q = {.table = l->table, .index = l->index, .eq = l->eq, .limit = 1000};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  l->docs = json_incref(page.docs);
  store_page_release(&page);
  return rc;
}

static json_t *list(const char *table, const char *index, const char *key)
{
  struct listing l = {table, index, key ? json_pack("[s]", key) : NULL, NULL};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_READ, list_tx, &l, &err), 0, "%s", err.msg);
  json_decref(l.eq);
  return l.docs;
}

static json_t *messages(const char *conv)
{
  return list("conversationMessages", "by_conversationId", conv);
}

/* The participant row id of agent in conv. */
static const char *row_of(const char *conv, const char *agent, char out[CID_MAX])
{
  json_t *rows = list("conversationParticipants", "by_conversationId", conv);
  size_t i;
  json_t *r;
  out[0] = '\0';
  json_array_foreach(rows, i, r) if (strcmp(dq_str(r, "agentId"), agent) == 0)
    snprintf(out, CID_MAX, "%s", dq_str(r, "_id"));
  json_decref(rows);
  return out;
}

/* Messages of conv by author row and kind ("participant" or "system"). */
static size_t count_by(const json_t *msgs, const char *row, const char *kind)
{
  size_t n = 0, i;
  json_t *m;
  json_array_foreach(msgs, i, m) n += strcmp(dq_str(m, "authorParticipantId"), row) == 0 &&
                                      strcmp(dq_str(m, "kind"), kind) == 0;
  return n;
}

static int has_text(const json_t *msgs, const char *kind, const char *needle)
{
  size_t i;
  json_t *m;
  json_array_foreach(msgs, i, m) if (strcmp(dq_str(m, "kind"), kind) == 0 &&
                                     strstr(dq_str(m, "content"), needle)) return 1;
  return 0;
}

static void script(const char *rules) { cr_assert_eq(fakellm_script(fake, rules), 0, "%s", rules); }

Test(agents, a_mention_gets_a_reply_from_exactly_the_mentioned_agent)
{
  setenv("ONE_LLM_PRICES", "other=1/1,fake-model=2/10", 1); /* per million tokens */
  start_runtime(1);
  unsetenv("ONE_LLM_PRICES");
  char conv[CID_MAX], msg[300], srow[CID_MAX], wrow[CID_MAX], drow[CID_MAX];
  char agents[200];
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\",\"%s\"]", director, sage, writer);
  conversation(agents, conv);
  script("[{\"match\":\"You are Sage\",\"reply\":\"Slow delivery is their main pain.\","
         "\"usage\":{\"prompt_tokens\":40,\"completion_tokens\":8}}]");
  snprintf(msg, sizeof msg, "@[Sage](agent:%s) what were my customer's main pains?", sage);
  say(conv, msg);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect_eq(count_by(m, row_of(conv, sage, srow), "participant"), 1);
  cr_expect_eq(count_by(m, row_of(conv, writer, wrow), "participant"), 0);
  cr_expect_eq(count_by(m, row_of(conv, director, drow), "participant"), 0,
               "a message that mentions an agent is not the Director's");
  cr_expect(has_text(m, "participant", "Slow delivery is their main pain."));
  size_t i;
  json_t *x;
  json_array_foreach(m, i, x) if (strcmp(dq_str(x, "authorParticipantId"), srow) == 0) {
    cr_expect_eq(dq_num(x, "tokensUsed", 0), 48, "the reply carries its tokens");
    cr_expect(fabs(dq_num(x, "cost", 0) - 160e-6) < 1e-12, "and its cost: %g", dq_num(x, "cost", 0));
  }
  json_decref(m);
  json_t *usage = list("inferenceUsage", "by_conversation", conv);
  cr_assert_eq(json_array_size(usage), 1, "one row per model call");
  json_t *u = json_array_get(usage, 0);
  cr_expect_eq(dq_num(u, "tokensUsed", 0), 48, "as the fake server reported");
  cr_expect_str_eq(dq_str(u, "userId"), alice.user);
  cr_expect_str_eq(dq_str(u, "agentId"), sage);
  cr_expect_str_eq(dq_str(u, "model"), "fake-model");
  cr_expect(fabs(dq_num(u, "cost", 0) - 160e-6) < 1e-12, "40 in at 2, 8 out at 10 a million");
  json_decref(usage);
  json_t *reqs = fakellm_requests(fake);
  cr_assert_eq(json_array_size(reqs), 1);
  char *text = json_dumps(json_array_get(reqs, 0), 0);
  cr_expect(strstr(text, "Alice: @[Sage]"), "the model sees who said what: %s", text);
  cr_expect(strstr(text, "listConversationParticipants"), "the always-available tools go along");
  free(text);
  json_decref(reqs);
  row_of(conv, sage, srow);
  json_t *rows = list("conversationParticipants", "by_conversationId", conv);
  json_array_foreach(rows, i, x) cr_expect_str_eq(dq_str(x, "status"),
                                                  strcmp(dq_str(x, "kind"), "agent") ? dq_str(x, "status")
                                                                                     : "inactive");
  json_decref(rows);
}

Test(agents, no_mention_the_director_answers_and_delegates_to_sage_and_writer)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], rules[1200], r1[CID_MAX], r2[CID_MAX], r3[CID_MAX];
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\",\"%s\"]", director, sage, writer);
  conversation(agents, conv);
  snprintf(rules, sizeof rules,
           "[{\"match\":\"You are Director\",\"reply\":\"@[Sage](agent:%s) find the facts; "
           "@[Writer](agent:%s) draft a headline.\"},"
           "{\"match\":\"You are Sage\",\"reply\":\"The facts: slow delivery.\"},"
           "{\"match\":\"You are Writer\",\"reply\":\"Headline: Fast at last.\"}]",
           sage, writer);
  script(rules);
  say(conv, "Where do I start?");
  wait_idle();
  json_t *m = messages(conv);
  cr_expect_eq(count_by(m, row_of(conv, director, r1), "participant"), 1);
  cr_expect_eq(count_by(m, row_of(conv, sage, r2), "participant"), 1);
  cr_expect_eq(count_by(m, row_of(conv, writer, r3), "participant"), 1);
  cr_expect(has_text(m, "participant", "Headline: Fast at last."));
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 3);
}

Test(agents, a_hand_off_outside_delegates_to_is_refused_with_a_notice)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], rules[800], body[200], wrow[CID_MAX];
  snprintf(body, sizeof body, "{\"delegatesTo\":[\"%s\"]}", sage);
  json_t *patch = tu_json(body);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_patch(tx, director, patch, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0);
  json_decref(patch);
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\",\"%s\"]", director, sage, writer);
  conversation(agents, conv);
  snprintf(rules, sizeof rules,
           "[{\"match\":\"You are Director\",\"reply\":\"@[Writer](agent:%s) write it.\"}]",
           writer);
  script(rules);
  say(conv, "Write me something");
  wait_idle();
  json_t *m = messages(conv);
  cr_expect_eq(count_by(m, row_of(conv, writer, wrow), "participant"), 0, "Writer was not asked");
  cr_expect(has_text(m, "system", "Writer is not in its delegatesTo"), "a notice says why");
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 1);
}

Test(agents, agents_that_hand_work_back_and_forth_stop_at_the_depth_limit)
{
  lim.max_depth = 3;
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  struct buf rules;
  buf_init(&rules, BUF_UNBOUNDED);
  buf_puts(&rules, "[");
  static const char *const words[] = {"alpha", "bravo", "charlie", "delta", "echo",
                                      "foxtrot", "golf", "hotel", "india", "juliet"};
  for (int i = 0; i < 10; i++) /* each reply differs: only the depth limit can stop them */
    buf_printf(&rules, "%s{\"match\":\"You are Sage\",\"reply\":\"@[Writer](agent:%s) over to "
               "you, %s\"},{\"match\":\"You are Writer\",\"reply\":\"@[Sage](agent:%s) no, "
               "you, %s\"}", i ? "," : "", writer, words[i], sage, words[i]);
  buf_puts(&rules, "]");
  script(buf_str(&rules));
  buf_release(&rules);
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\"]", sage, writer);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) sort this out with Writer", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "the limit of 3 hand-offs"), "the limit is announced");
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 4, "Sage, Writer, Sage, Writer: depth 0 to 3");
}

Test(agents, the_same_hand_off_twice_is_a_loop_and_stops)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], rules[600], say_it[300];
  snprintf(rules, sizeof rules,
           "[{\"match\":\"You are Sage\",\"reply\":\"@[Writer](agent:%s) yours\",\"times\":0},"
           "{\"match\":\"You are Writer\",\"reply\":\"@[Sage](agent:%s) yours\",\"times\":0}]",
           writer, sage);
  script(rules);
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\"]", sage, writer);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) go", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "stopped a delegation loop"));
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 3, "Sage, Writer, Sage: then the repeat is seen");
}

Test(agents, a_run_that_keeps_calling_tools_stops_at_the_step_limit)
{
  lim.max_steps = 3;
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"No more tools in this run\",\"reply\":\"My best answer.\"},"
         "{\"match\":\"You are Sage\",\"times\":0,\"tool_calls\":[{\"name\":\"listAgents\","
         "\"arguments\":{\"query\":\"x\"}},{\"name\":\"listConversationParticipants\","
         "\"arguments\":{}}]}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) look around", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "reached the limit of 3 tool steps"));
  cr_expect(has_text(m, "participant", "My best answer."), "one last call gives an answer");
  cr_expect(has_text(m, "system", "Sage used listAgents"), "tool use is announced");
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 4, "three tool steps, then the last call");
  json_t *reqs = fakellm_requests(fake);
  cr_expect_null(json_object_get(json_array_get(reqs, 3), "tools"), "the last call has no tools");
  json_t *usage = list("inferenceUsage", "by_conversation", conv);
  cr_expect_eq(json_array_size(usage), 4, "every model call is counted");
  json_decref(usage);
  json_decref(reqs);
}

Test(agents, tool_arguments_are_checked_and_failures_go_back_to_the_model)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"arguments.title: required\",\"reply\":\"Sorry, I will name it next time.\"},"
         "{\"match\":\"You are Sage\",\"tool_calls\":[{\"name\":\"updateConversationTitle\","
         "\"arguments\":{\"name\":\"wrong\"}}]}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) rename this", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Sage tried updateConversationTitle: arguments.name: no such "
                                  "parameter") ||
              has_text(m, "system", "Sage tried updateConversationTitle: arguments.title: required"),
            "the failed use is shown");
  cr_expect(has_text(m, "participant", "Sorry, I will name it next time."));
  size_t i;
  json_t *x;
  int meta_ok = 0;
  json_array_foreach(m, i, x) if (strcmp(dq_str(x, "kind"), "system") == 0) {
    json_t *meta = json_object_get(x, "meta");
    meta_ok |= strcmp(dq_str(meta, "tool"), "updateConversationTitle") == 0 &&
               strcmp(dq_str(meta, "agentId"), sage) == 0 && !dq_bool(meta, "ok");
  }
  cr_expect(meta_ok, "the notice's meta names the tool and the agent");
  json_decref(m);
}

Test(agents, the_budget_stops_a_users_runs_when_spent)
{
  lim.tokens_per_day = 20;
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"You are Sage\",\"reply\":\"ok\",\"times\":0}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) once more", sage);
  for (int i = 0; i < 3; i++) {
    say(conv, say_it);
    wait_idle();
  }
  cr_expect_eq(fakellm_request_count(fake), 2, "15 then 30 tokens: the third run is refused");
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "today's budget of 20 tokens is spent"));
  json_decref(m);
}

Test(agents, with_no_model_an_agent_says_how_to_configure_one)
{
  start_runtime(0);
  char conv[CID_MAX], agents[200];
  snprintf(agents, sizeof agents, "[\"%s\"]", director);
  conversation(agents, conv);
  say(conv, "Hello?");
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Director cannot answer: no language model is configured. Set "
                                  "ONE_LLM_BASE_URL"));
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 0);
}

Test(agents, an_agent_thinks_while_it_works)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300], srow[CID_MAX];
  script("[{\"match\":\"You are Sage\",\"reply\":\"done\",\"gate\":\"seen\"}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  row_of(conv, sage, srow);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) think", sage);
  say(conv, say_it);
  int thinking = 0;
  for (int i = 0; i < 3000 && !thinking; i++) {
    json_t *rows = list("conversationParticipants", "by_conversationId", conv);
    size_t k;
    json_t *x;
    json_array_foreach(rows, k, x) thinking |= strcmp(dq_str(x, "_id"), srow) == 0 &&
                                               strcmp(dq_str(x, "status"), "thinking") == 0;
    json_decref(rows);
    if (!thinking)
      tu_sleep_ms(5);
  }
  cr_expect(thinking, "Sage's status was never thinking");
  fakellm_open(fake, "seen"); /* the model answers once the status was seen */
  wait_idle();
  json_t *rows = list("conversationParticipants", "by_conversationId", conv);
  size_t k;
  json_t *x;
  json_array_foreach(rows, k, x) if (strcmp(dq_str(x, "_id"), srow) == 0)
    cr_expect_str_eq(dq_str(x, "status"), "inactive", "back after the reply");
  json_decref(rows);
}

Test(agents, a_scheduled_task_fires_after_the_scheduler_restarts)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300], tool[CID_MAX], body[300], link[CID_MAX];
  insert("tools", "{\"name\":\"scheduleTask\",\"description\":\"later\"}", tool);
  snprintf(body, sizeof body, "{\"agentId\":\"%s\",\"toolId\":\"%s\",\"createdAt\":1.0}", sage, tool);
  insert("agentTools", body, link);
  script("[{\"match\":\"Scheduled task due now: send the weekly summary\","
         "\"reply\":\"Here is the weekly summary.\"},"
         "{\"match\":\"You are Sage\",\"tool_calls\":[{\"name\":\"scheduleTask\",\"arguments\":"
         "{\"task\":\"send the weekly summary\",\"delayMinutes\":0.02}}]},"
         "{\"match\":\"You are Sage\",\"reply\":\"Scheduled.\"}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) remind me in a moment", sage);
  say(conv, say_it);
  for (int i = 0; i < 3000 && fakellm_request_count(fake) < 2; i++)
    tu_sleep_ms(10);
  tu_sleep_ms(100);
  stop_runtime(); /* the task waits in the store */
  start_runtime(1);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Sage used scheduleTask"));
  cr_expect(has_text(m, "system", "Scheduled task due now: send the weekly summary"));
  cr_expect(has_text(m, "participant", "Here is the weekly summary."));
  json_decref(m);
}

Test(agents, a_malformed_model_answer_becomes_a_clear_message)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"You are Sage\",\"raw\":\"{\\\"choices\\\": [oops\"}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) hello", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Sage could not answer: the model server sent a malformed"),
            "the error is said in the conversation");
  json_decref(m);
  json_t *usage = list("inferenceUsage", "by_conversation", conv);
  cr_assert_eq(json_array_size(usage), 1, "a failed call is counted too");
  cr_expect(!dq_bool(json_object_get(json_array_get(usage, 0), "meta"), "ok"));
  json_decref(usage);
}

Test(agents, runs_per_conversation_per_minute_are_limited)
{
  lim.runs_per_minute = 2;
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"You are Sage\",\"reply\":\"here\",\"times\":0}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) again", sage);
  for (int i = 0; i < 3; i++) {
    say(conv, say_it);
    wait_idle();
  }
  cr_expect_eq(fakellm_request_count(fake), 2);
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "reached its limit of 2 agent runs a minute"));
  json_decref(m);
}

Test(agents, a_tool_without_its_service_says_what_to_set)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300], tool[CID_MAX], body[300], link[CID_MAX];
  insert("tools", "{\"name\":\"webSearch\",\"description\":\"search\"}", tool);
  snprintf(body, sizeof body, "{\"agentId\":\"%s\",\"toolId\":\"%s\",\"createdAt\":1.0}", sage, tool);
  insert("agentTools", body, link);
  script("[{\"match\":\"ONE_WEB_SEARCH_URL\",\"reply\":\"I cannot search the web here.\"},"
         "{\"match\":\"You are Sage\",\"tool_calls\":[{\"name\":\"webSearch\",\"arguments\":"
         "{\"query\":\"competitors\"}},{\"name\":\"sendEmail\",\"arguments\":{\"to\":\"a@b.c\","
         "\"subject\":\"s\",\"body\":\"b\"}}]}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) research my competitors", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "webSearch is not configured: set ONE_WEB_SEARCH_URL"));
  cr_expect(has_text(m, "system", "the tool sendEmail is not enabled for Sage"),
            "a tool the agent does not have is refused");
  cr_expect(has_text(m, "participant", "I cannot search the web here."));
  json_decref(m);
}

/* --- outside services --- */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* A one-message SMTP server on loopback: what it was given, for the test. */
struct smtp {
  int fd;
  unsigned port;
  pthread_t thread;
  char got[8192];
};

static void smtp_say(int c, const char *line) { (void)!write(c, line, strlen(line)); }

static void *smtp_serve(void *arg)
{
  struct smtp *m = arg;
  int c = accept(m->fd, NULL, NULL);
  if (c < 0)
    return NULL;
  smtp_say(c, "220 fake ESMTP\r\n");
  char buf[4096];
  size_t have = 0;
  int data = 0;
  for (;;) {
    ssize_t n = read(c, buf + have, sizeof buf - have - 1);
    if (n <= 0)
      break;
    have += (size_t)n;
    buf[have] = '\0';
    char *eol;
    while (!data && (eol = strstr(buf, "\r\n"))) {
      *eol = '\0';
      strncat(m->got, buf, sizeof m->got - strlen(m->got) - 3);
      strcat(m->got, "\n");
      if (strncmp(buf, "EHLO", 4) == 0)
        smtp_say(c, "250 fake\r\n");
      else if (strncmp(buf, "DATA", 4) == 0) {
        smtp_say(c, "354 go on\r\n");
        data = 1;
      } else if (strncmp(buf, "QUIT", 4) == 0) {
        smtp_say(c, "221 bye\r\n");
        close(c);
        return NULL;
      } else
        smtp_say(c, "250 ok\r\n");
      memmove(buf, eol + 2, have - (size_t)(eol + 2 - buf) + 1);
      have = strlen(buf);
    }
    char *end = data ? strstr(buf, "\r\n.\r\n") : NULL;
    if (end) {
      *end = '\0';
      strncat(m->got, buf, sizeof m->got - strlen(m->got) - 1);
      memmove(buf, end + 5, have - (size_t)(end + 5 - buf) + 1);
      have = strlen(buf);
      data = 0;
      smtp_say(c, "250 queued\r\n");
    }
  }
  close(c);
  return NULL;
}

static void smtp_start(struct smtp *m)
{
  memset(m, 0, sizeof *m);
  m->fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  cr_assert_eq(bind(m->fd, (struct sockaddr *)&a, sizeof a), 0);
  cr_assert_eq(listen(m->fd, 4), 0);
  getsockname(m->fd, (struct sockaddr *)&a, &len);
  m->port = ntohs(a.sin_port);
  pthread_create(&m->thread, NULL, smtp_serve, m);
}

/* Enables tool name for agent with its config (JSON text, or NULL). */
static void enable_tool(const char *agent, const char *name, const char *config)
{
  char tool[CID_MAX], body[600], link[CID_MAX];
  snprintf(body, sizeof body, "{\"name\":\"%s\",\"description\":\"d\"}", name);
  insert("tools", body, tool);
  snprintf(body, sizeof body, "{\"agentId\":\"%s\",\"toolId\":\"%s\",\"createdAt\":1.0%s%s}",
           agent, tool, config ? ",\"config\":" : "", config ? config : "");
  insert("agentTools", body, link);
}

Test(agents, configured_services_search_the_web_and_send_an_email_once)
{
  struct smtp mail;
  smtp_start(&mail);
  char url[200];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/search", fakellm_port(fake));
  setenv("ONE_WEB_SEARCH_URL", url, 1);
  snprintf(url, sizeof url, "smtp://127.0.0.1:%u", mail.port);
  setenv("ONE_SMTP_URL", url, 1);
  setenv("ONE_SMTP_FROM", "one@example.org", 1);
  start_runtime(1);
  enable_tool(sage, "webSearch", "{\"site\":\"example.org\"}");
  enable_tool(sage, "sendEmail", "{\"allowedRecipients\":[\"ann@example.org\"]}");
  char conv[CID_MAX], agents[200], say_it[300];
  script("[{\"match\":\"queued: it goes out\",\"reply\":\"Searched and sent.\"},"
         "{\"match\":\"You are Sage\",\"tool_calls\":[{\"name\":\"webSearch\",\"arguments\":"
         "{\"query\":\"slow delivery\"}},{\"name\":\"sendEmail\",\"arguments\":{\"to\":"
         "\"ann@example.org\",\"subject\":\"Your summary\",\"body\":\"Line one\\n.\\nLine three\"}},"
         "{\"name\":\"sendEmail\",\"arguments\":{\"to\":\"eve@elsewhere.example\","
         "\"subject\":\"x\",\"body\":\"y\"}}]}]");
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) research and email me", sage);
  say(conv, say_it);
  wait_idle();
  pthread_join(mail.thread, NULL);
  close(mail.fd);
  unsetenv("ONE_WEB_SEARCH_URL");
  unsetenv("ONE_SMTP_URL");
  unsetenv("ONE_SMTP_FROM");
  json_t *reqs = fakellm_requests(fake);
  char *second = json_dumps(json_array_get(reqs, 1), 0);
  cr_expect(strstr(second, "slow delivery site:example.org") && strstr(second, "A result"),
            "the search (kept to the agent's site) went back to the model: %s", second);
  free(second);
  json_decref(reqs);
  cr_expect(strstr(mail.got, "RCPT TO:<ann@example.org>"), "%s", mail.got);
  cr_expect(strstr(mail.got, "MAIL FROM:<one@example.org>"), "%s", mail.got);
  cr_expect(strstr(mail.got, "Subject: Your summary"), "%s", mail.got);
  cr_expect(strstr(mail.got, "Line one\r\n..\r\nLine three"), "the lone dot is escaped: %s",
            mail.got);
  json_t *m = messages(conv);
  cr_expect(has_text(m, "participant", "Searched and sent."));
  cr_expect(has_text(m, "system", "Sage used webSearch"));
  cr_expect(has_text(m, "system", "Sage used sendEmail"));
  cr_expect(has_text(m, "system", "Sage may email only 1 allowed address (its sendEmail config), "
                                  "not eve@elsewhere.example"));
  json_decref(m);
}

Test(agents, near_identical_hand_offs_are_a_loop_too)
{
  start_runtime(1);
  char conv[CID_MAX], agents[200], say_it[300];
  struct buf rules;
  buf_init(&rules, BUF_UNBOUNDED);
  buf_puts(&rules, "[");
  for (int i = 0; i < 10; i++) /* the same words, a new number each time */
    buf_printf(&rules, "%s{\"match\":\"You are Sage\",\"reply\":\"@[Writer](agent:%s) Over "
               "to you (%d)!\"},{\"match\":\"You are Writer\",\"reply\":\"@[Sage](agent:%s) "
               "back to you #%d\"}", i ? "," : "", writer, i, sage, i);
  buf_puts(&rules, "]");
  script(buf_str(&rules));
  buf_release(&rules);
  snprintf(agents, sizeof agents, "[\"%s\",\"%s\"]", sage, writer);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) sort it out", sage);
  say(conv, say_it);
  wait_idle();
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "stopped a delegation loop"));
  json_decref(m);
  cr_expect_eq(fakellm_request_count(fake), 3, "Sage, Writer, Sage: the third says it again");
}

/* The id of the message of conv whose content is content. */
static void message_id(const char *conv, const char *content, char out[CID_MAX])
{
  json_t *m = messages(conv);
  size_t i;
  json_t *x;
  out[0] = '\0';
  json_array_foreach(m, i, x) if (strcmp(dq_str(x, "content"), content) == 0)
    snprintf(out, CID_MAX, "%s", dq_str(x, "_id"));
  json_decref(m);
  cr_assert(out[0], "no message '%s'", content);
}

Test(agents, an_agent_reacts_comments_and_makes_a_task)
{
  start_runtime(1);
  enable_tool(sage, "react", NULL);
  enable_tool(sage, "comment", NULL);
  enable_tool(sage, "createTask", NULL);
  char conv[CID_MAX], agents[200], first[300], rules[1600], mid[CID_MAX];
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  script("[{\"match\":\"You are Sage\",\"reply\":\"Hello.\"}]");
  snprintf(first, sizeof first, "@[Sage](agent:%s) we shipped the new site!", sage);
  say(conv, first);
  wait_idle();
  message_id(conv, first, mid);
  snprintf(rules, sizeof rules,
           "[{\"match\":\"\\\"role\\\":\\\"tool\\\"\",\"reply\":\"Done.\"},"
           "{\"match\":\"You are Sage\",\"tool_calls\":["
           "{\"name\":\"react\",\"arguments\":{\"messageId\":\"%s\",\"type\":\"celebrate\"}},"
           "{\"name\":\"comment\",\"arguments\":{\"messageId\":\"%s\",\"content\":\"Well done!\"}},"
           "{\"name\":\"createTask\",\"arguments\":{\"title\":\"Announce the site\","
           "\"assignToUserId\":\"%s\",\"priority\":\"high\"}},"
           "{\"name\":\"react\",\"arguments\":{\"messageId\":\"nope\",\"type\":\"x\"}}]}]",
           mid, mid, alice.user);
  script(rules);
  char second[300];
  snprintf(second, sizeof second, "@[Sage](agent:%s) celebrate it and give me a task", sage);
  say(conv, second);
  wait_idle();
  json_t *r = list("reactions", "by_message", mid);
  cr_assert_eq(json_array_size(r), 1);
  cr_expect_str_eq(dq_str(json_array_get(r, 0), "type"), "celebrate");
  cr_expect_str_eq(dq_str(json_array_get(r, 0), "agentId"), sage);
  json_decref(r);
  json_t *cm = list("comments", "by_message", mid);
  cr_assert_eq(json_array_size(cm), 1);
  cr_expect_str_eq(dq_str(json_array_get(cm, 0), "content"), "Well done!");
  json_decref(cm);
  json_t *t = list("tasks", "by_assigned_user", alice.user);
  cr_assert_eq(json_array_size(t), 1);
  cr_expect_str_eq(dq_str(json_array_get(t, 0), "title"), "Announce the site");
  cr_expect_str_eq(dq_str(json_array_get(t, 0), "priority"), "high");
  json_decref(t);
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Sage tried react: no message nope in this conversation"));
  cr_expect(has_text(m, "participant", "Done."));
  json_decref(m);
}

Test(agents, an_agent_moves_a_person_on_in_the_learning_flow)
{
  start_runtime(1);
  enable_tool(sage, "updateProgress", NULL);
  enable_tool(sage, "assignStep", NULL);
  char flow[CID_MAX], conv[CID_MAX], agents[200], say_it[300], rules[1400];
  insert("learningFlows", "{\"title\":\"Elevate\",\"createdAt\":1.0,\"steps\":["
                          "{\"stepName\":\"Foundation\",\"order\":1.0},"
                          "{\"stepName\":\"Hook\",\"order\":2.0}]}", flow);
  snprintf(rules, sizeof rules,
           "[{\"match\":\"\\\"role\\\":\\\"tool\\\"\",\"reply\":\"You are on Foundation now.\"},"
           "{\"match\":\"You are Sage\",\"tool_calls\":["
           "{\"name\":\"updateProgress\",\"arguments\":{\"flowId\":\"%s\",\"step\":\"Foundation\","
           "\"status\":\"In Progress\"}},"
           "{\"name\":\"assignStep\",\"arguments\":{\"flowId\":\"%s\",\"step\":\"Hook\",\"role\":\"owner\"}},"
           "{\"name\":\"updateProgress\",\"arguments\":{\"flowId\":\"%s\",\"step\":\"Hook\","
           "\"status\":\"Completed\"}}]}]", flow, flow, flow);
  script(rules);
  snprintf(agents, sizeof agents, "[\"%s\"]", sage);
  conversation(agents, conv);
  snprintf(say_it, sizeof say_it, "@[Sage](agent:%s) let's start", sage);
  say(conv, say_it);
  wait_idle();
  json_t *p = list("progress", "by_learningFlow_and_step", flow);
  size_t i;
  json_t *x;
  int started = 0;
  json_array_foreach(p, i, x) started |= strcmp(dq_str(x, "step"), "Foundation") == 0 &&
                                         strcmp(dq_str(x, "status"), "In Progress") == 0 &&
                                         strcmp(dq_str(x, "userId"), alice.user) == 0;
  cr_expect(started, "Alice's Foundation is In Progress");
  json_decref(p);
  json_t *a = list("assignments", "by_user", alice.user);
  cr_assert_eq(json_array_size(a), 1);
  cr_expect_str_eq(dq_str(json_array_get(a, 0), "role"), "owner");
  json_decref(a);
  json_t *m = messages(conv);
  cr_expect(has_text(m, "system", "Sage tried updateProgress: a step that is Not Started cannot "
                                  "become Completed"));
  cr_expect(has_text(m, "participant", "You are on Foundation now."));
  json_decref(m);
}
