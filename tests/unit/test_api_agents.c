/* End-to-end tests of the agent runtime through the real `one serve` (its
 * seeded team) and the fake model server on loopback: a mention answered
 * live on the conversation's stream, a server killed with -9 in the middle
 * of a run that answers exactly once after the restart, and a scheduled
 * task that fires after a restart. */
#include "apiutil.h"
#include "fakellm.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct fakellm *fake;
static struct api_server srv;
static struct api_user alice, admin;

static void setup(void)
{
  cr_assert(fake = fakellm_start(0));
  setenv("ONE_LLM_BASE_URL", fakellm_url(fake), 1);
  setenv("ONE_LLM_MODEL", "fake-model", 1);
  setenv("ONE_JOB_LEASE_MS", "1500", 1); /* a killed server's runs are taken over soon */
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_admin(&srv, "admin@example.com", &admin);
}

static void teardown(void)
{
  api_stop(&srv);
  fakellm_stop(fake);
  unsetenv("ONE_LLM_BASE_URL");
  unsetenv("ONE_LLM_MODEL");
  unsetenv("ONE_JOB_LEASE_MS");
}

TestSuite(api_agents, .init = setup, .fini = teardown, .timeout = 180);

static void conversation_with(const char *agent, char out[64])
{
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"work\",\"agents\":[\"%s\"]}", agent);
  snprintf(out, 64, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
}

/* Waits (a guard of 60 s, not a timing assertion) until the queue holds no
 * pending or running job. */
static void wait_jobs_idle(void)
{
  for (int i = 0; i < 6000; i++) {
    json_t *j = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/jobs?limit=1", NULL);
    json_t *counts = json_object_get(j, "counts");
    double busy = json_number_value(json_object_get(counts, "pending")) +
                  json_number_value(json_object_get(counts, "running"));
    json_decref(j);
    if (busy == 0)
      return;
    tu_sleep_ms(10);
  }
  cr_assert_fail("the job queue never emptied");
}

static void wait_content(const char *conv, const char *needle)
{
  for (int i = 0; i < 6000 && !api_count_content(&srv, &alice, conv, needle); i++)
    tu_sleep_ms(10);
  cr_assert(api_count_content(&srv, &alice, conv, needle), "'%s' never arrived", needle);
}

Test(api_agents, a_mention_is_answered_live_on_the_stream)
{
  char sage[64], conv[64], path[200];
  api_agent_id(&srv, &alice, "Sage", sage);
  conversation_with(sage, conv);
  /* the model answers only once the stream has shown Sage thinking */
  cr_assert_eq(fakellm_script(fake, "[{\"match\":\"You are Sage\",\"gate\":\"thought\","
                                    "\"chunks\":[\"Slow \",\"delivery, \",\"hidden fees.\"]}]"), 0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/stream", conv);
  struct api_stream *st = api_stream_open(&srv, path, alice.token, NULL);
  cr_assert(api_stream_wait(st, ": connected", 60000), "the stream is open before the post");
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"@[Sage](agent:%s) what were the pains?\"}", sage));
  cr_expect(api_stream_wait(st, "\"status\":\"thinking\"", 60000), "Sage is thinking");
  fakellm_open(fake, "thought");
  cr_expect(api_stream_wait(st, "event: partial", 60000), "pieces arrive as they are written");
  cr_expect(api_stream_wait(st, "\"text\":\"delivery, \"", 60000), "the second piece on its own");
  cr_expect(api_stream_wait(st, "Slow delivery, hidden fees.", 60000),
            "the reply arrives on the stream");
  api_stream_close(st);
  wait_jobs_idle();
  cr_expect_eq(api_count_content(&srv, &alice, conv, "Slow delivery, hidden fees."), 1);
  json_t *jobs = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/jobs?state=done", NULL);
  cr_expect_eq(json_array_size(json_object_get(jobs, "items")), 1, "the run");
  json_decref(jobs);
}

Test(api_agents, killed_mid_run_the_message_gets_exactly_one_reply)
{
  char sage[64], conv[64], path[200];
  api_agent_id(&srv, &alice, "Sage", sage);
  conversation_with(sage, conv);
  /* the first attempt waits long enough to be killed; the next answers */
  cr_assert_eq(fakellm_script(fake, "[{\"match\":\"You are Sage\",\"delay_ms\":60000},"
                                    "{\"match\":\"You are Sage\",\"reply\":\"Answered once.\"}]"), 0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"@[Sage](agent:%s) are you there?\"}", sage));
  for (int i = 0; i < 6000 && fakellm_request_count(fake) < 1; i++)
    tu_sleep_ms(10);
  cr_assert_eq(fakellm_request_count(fake), 1, "the run never asked the model");
  api_kill9(&srv);
  api_relaunch(&srv);
  wait_content(conv, "Answered once.");
  wait_jobs_idle();
  cr_expect_eq(api_count_content(&srv, &alice, conv, "Answered once."), 1, "exactly one reply");
  cr_expect_eq(fakellm_request_count(fake), 2, "asked again once, after the restart");
}

Test(api_agents, a_scheduled_task_fires_after_a_restart)
{
  char director[64], conv[64], path[200];
  api_agent_id(&srv, &alice, "Director", director);
  conversation_with(director, conv);
  cr_assert_eq(fakellm_script(fake,
    "[{\"match\":\"Scheduled task due now: check in with Alice\",\"reply\":\"Checking in!\"},"
    "{\"match\":\"You are Director\",\"tool_calls\":[{\"name\":\"scheduleTask\",\"arguments\":"
    "{\"task\":\"check in with Alice\",\"delayMinutes\":0.05}}]},"
    "{\"match\":\"You are Director\",\"reply\":\"I will check in shortly.\"}]"), 0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"Please check in with me in a moment.\"}"));
  wait_content(conv, "I will check in shortly.");
  api_kill9(&srv); /* the task waits in the database */
  api_relaunch(&srv);
  wait_content(conv, "Checking in!");
  cr_expect_eq(api_count_content(&srv, &alice, conv, "Scheduled task due now: check in with Alice"), 1);
  cr_expect_eq(api_count_content(&srv, &alice, conv, "Director used scheduleTask"), 1);
}

/* Every name in the directory as holder sees it, paged 5 at a time. */
static json_t *directory(const struct api_user *holder)
{
  json_t *names = json_array();
  char path[400], *cursor = NULL;
  for (int pages = 0; pages < 50; pages++) {
    snprintf(path, sizeof path, "/api/v1/agents?limit=5%s%s", cursor ? "&cursor=" : "",
             cursor ? cursor : "");
    free(cursor);
    cursor = NULL;
    json_t *page = api_expect(&srv, holder->token, 200, "GET", path, NULL);
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(page, "items"), i, a)
      json_array_append(names, json_object_get(a, "name"));
    const char *next = json_string_value(json_object_get(page, "cursor"));
    if (!json_is_true(json_object_get(page, "done")) && next)
      cursor = strdup(next);
    json_decref(page);
    if (!cursor)
      break;
  }
  free(cursor);
  return names;
}

static int has_name(const json_t *names, const char *name)
{
  size_t i, n = 0;
  json_t *v;
  json_array_foreach(names, i, v) n += strcmp(json_string_value(v), name) == 0;
  return (int)n;
}

Test(api_agents, the_directory_lists_public_agents_marked_or_not_and_my_private_ones)
{
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Open\",\"description\":\"no visibility given\"}"));
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Marked\",\"description\":\"d\",\"visibility\":\"public\"}"));
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Mine\",\"description\":\"d\",\"visibility\":\"private\"}"));
  json_t *names = directory(&alice);
  cr_expect_eq(json_array_size(names), 15, "12 seeded, Open, Marked and Mine");
  cr_expect_eq(has_name(names, "Director"), 1, "the seeded team is marked public");
  cr_expect_eq(has_name(names, "Open"), 1);
  cr_expect_eq(has_name(names, "Marked"), 1);
  cr_expect_eq(has_name(names, "Mine"), 1);
  json_decref(names);
  names = directory(&admin);
  cr_expect_eq(has_name(names, "Mine"), 0, "a private agent is its creator's");
  cr_expect_eq(json_array_size(names), 14);
  json_decref(names);
}

Test(api_agents, the_seeded_director_answers_and_hands_work_to_sage_and_writer)
{
  char director[64], sage[64], writer[64], conv[64], path[200], rules[1000];
  api_agent_id(&srv, &alice, "Director", director);
  api_agent_id(&srv, &alice, "Sage", sage);
  api_agent_id(&srv, &alice, "Writer", writer);
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"launch\",\"agents\":[\"%s\",\"%s\",\"%s\"]}", director,
                         sage, writer);
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
  snprintf(rules, sizeof rules,
           "[{\"match\":\"You are Director\",\"reply\":\"Welcome! @[Sage](agent:%s) what do we "
           "know? @[Writer](agent:%s) draft a hook.\"},"
           "{\"match\":\"You are Sage\",\"reply\":\"Nothing yet: tell me about your customers.\"},"
           "{\"match\":\"You are Writer\",\"reply\":\"Hook: Stop losing sales to slow delivery.\"}]",
           sage, writer);
  cr_assert_eq(fakellm_script(fake, rules), 0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path, "{\"content\":\"Where do I start?\"}"));
  wait_content(conv, "Hook: Stop losing sales");
  wait_content(conv, "Nothing yet");
  wait_jobs_idle();
  cr_expect_eq(api_count_content(&srv, &alice, conv, "Welcome!"), 1, "the Director answers once");
  cr_expect_eq(fakellm_request_count(fake), 3);
  json_t *reqs = fakellm_requests(fake);
  char *first = json_dumps(json_array_get(reqs, 0), 0);
  cr_expect(strstr(first, "You lead a team of specialist agents"), "the seeded prompt is used");
  free(first);
  json_t *tools = json_object_get(json_array_get(reqs, 0), "tools");
  int schedule = 0, progress = 0, reminder = 0;
  size_t i;
  json_t *t;
  json_array_foreach(tools, i, t) {
    const char *name = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
    schedule |= strcmp(name, "scheduleTask") == 0;
    progress |= strcmp(name, "updateProgress") == 0;
    reminder |= strcmp(name, "createReminder") == 0;
  }
  cr_expect(schedule && progress && reminder, "the Director's own tools go along");
  json_decref(reqs);
}

Test(api_agents, stopped_mid_run_the_server_exits_cleanly_and_answers_after_restart)
{
  char sage[64], conv[64], path[200];
  api_agent_id(&srv, &alice, "Sage", sage);
  conversation_with(sage, conv);
  /* the first attempt waits on the model when SIGTERM comes; the next answers */
  cr_assert_eq(fakellm_script(fake, "[{\"match\":\"You are Sage\",\"hang\":true},"
                                    "{\"match\":\"You are Sage\",\"reply\":\"After the restart.\"}]"), 0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"@[Sage](agent:%s) still there?\"}", sage));
  for (int i = 0; i < 6000 && fakellm_request_count(fake) < 1; i++)
    tu_sleep_ms(10);
  cr_assert_eq(fakellm_request_count(fake), 1, "the run never asked the model");
  int st = 0;
  kill(srv.pid, SIGTERM);
  waitpid(srv.pid, &st, 0);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a graceful stop exits 0 (status %d)", st);
  api_relaunch(&srv);
  wait_content(conv, "After the restart.");
  wait_jobs_idle();
  cr_expect_eq(api_count_content(&srv, &alice, conv, "After the restart."), 1, "answered once");
  cr_expect_eq(api_count_content(&srv, &alice, conv, "could not answer"), 0, "the stop is not an error to the user");
}

Test(api_agents, a_person_moves_their_progress_through_the_seeded_flow)
{
  json_t *flows = api_expect(&srv, alice.token, 200, "GET", "/api/v1/flows", NULL);
  json_t *elevate = json_array_get(json_object_get(flows, "items"), 0);
  char flow[64], path[256];
  snprintf(flow, sizeof flow, "%s", json_string_value(json_object_get(elevate, "_id")));
  cr_expect_eq(json_array_size(json_object_get(elevate, "steps")), 10, "the ten Elevate steps");
  json_decref(flows);
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/Foundation/progress", flow);
  json_t *p = api_expect(&srv, alice.token, 200, "PUT", path, "{\"status\":\"In Progress\"}");
  cr_expect_str_eq(json_string_value(json_object_get(p, "status")), "In Progress");
  cr_expect(json_object_get(p, "startedAt"));
  json_decref(p);
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/Hook/progress", flow);
  json_t *e = api_expect(&srv, alice.token, 409, "PUT", path, "{\"status\":\"Completed\"}");
  cr_expect(strstr(json_string_value(json_object_get(json_object_get(e, "error"), "message")),
                   "cannot become Completed"));
  json_decref(e);
  json_decref(api_expect(&srv, alice.token, 422, "PUT", path, "{\"status\":\"Done\"}"));
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/Nowhere/progress", flow);
  json_decref(api_expect(&srv, alice.token, 404, "PUT", path, "{\"status\":\"In Progress\"}"));
  json_t *me = api_expect(&srv, alice.token, 200, "GET", "/api/v1/me/progress", NULL);
  json_t *steps = json_object_get(json_array_get(json_object_get(me, "items"), 0), "steps");
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "status")),
                   "In Progress", "Foundation, where Alice stands");
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(steps, 1), "status")),
                   "Not Started");
  json_decref(me);
  json_t *bob = api_expect(&srv, admin.token, 200, "GET", "/api/v1/me/progress", NULL);
  steps = json_object_get(json_array_get(json_object_get(bob, "items"), 0), "steps");
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(steps, 0), "status")),
                   "Not Started", "progress is each person's own");
  json_decref(bob);
}
