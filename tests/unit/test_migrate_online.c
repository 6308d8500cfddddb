/* Zero downtime: `one serve` answers while `one migrate up` and
 * `one migrate contract` run beside it on the same database. A client posts
 * and reads messages, lists agents and reads legacy conversations the whole
 * time; every request must succeed and every write must be there after. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static struct api_server srv;

/* the server goes, whatever the test's outcome */
static void teardown(void)
{
  if (srv.pid > 0)
    api_stop(&srv);
}

TestSuite(migrate_online, .fini = teardown, .timeout = 600);

/* `one migrate ARGS` on the server's database, in the background. */
static pid_t spawn_migrate(const struct api_server *s, const char *args)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && exec '%s' --db t.db migrate %s >>migrate.out 2>&1",
                     s->dir, ONE_BINARY, args) > 0);
  pid_t pid = fork();
  cr_assert_neq(pid, -1);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  free(cmd);
  return pid;
}

/* 1 while pid runs; its exit status into *status when it has ended. */
static int running(pid_t pid, int *status)
{
  int st = 0;
  if (waitpid(pid, &st, WNOHANG) == 0)
    return 1;
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return 0;
}

struct client {
  const struct api_server *srv;
  struct api_user admin;
  char conv[64];        /* a conversation the client writes to */
  char legacy_conv[64]; /* an imported one it reads */
  char agent[64];       /* an imported agent it edits while the backfills rewrite it */
  int posted;           /* messages posted so far: m0, m1, ... */
  int requests;
};

static void expect_ok(struct client *c, json_t *j) { json_decref(j); c->requests++; }

/* One round of what a user of the app does: post, read back, browse. */
static void client_round(struct client *c)
{
  const struct api_server *s = c->srv;
  const char *tok = c->admin.token;
  char path[256];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", c->conv);
  expect_ok(c, api_expect(s, tok, 201, "POST", path, "{\"content\":\"m%d\"}", c->posted));
  c->posted++;
  /* read your write: the newest message is the one just posted (the
   * Director's notices aside: it answers in this conversation) */
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages?limit=5", c->conv);
  json_t *page = api_expect(s, tok, 200, "GET", path, NULL);
  char want[32];
  snprintf(want, sizeof want, "m%d", c->posted - 1);
  const char *got = NULL;
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(page, "items"), i, m) {
    if (!got && strcmp(json_string_value(json_object_get(m, "kind")), "system") != 0)
      got = json_string_value(json_object_get(m, "content"));
  }
  cr_assert(got && strcmp(got, want) == 0, "newest message %s, expected %s", got, want);
  expect_ok(c, page);
  expect_ok(c, api_expect(s, tok, 200, "GET", "/api/v1/agents?limit=50", NULL));
  snprintf(path, sizeof path, "/api/v1/agents/%s", c->agent);
  expect_ok(c, api_expect(s, tok, 200, "PATCH", path, "{\"description\":\"d%d\"}",
                          c->posted - 1));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages?limit=20", c->legacy_conv);
  expect_ok(c, api_expect(s, tok, 200, "GET", path, NULL));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", c->legacy_conv);
  expect_ok(c, api_expect(s, tok, 200, "GET", path, NULL));
  expect_ok(c, api_expect(s, tok, 200, "GET", "/api/v1/tables/users?limit=20", NULL));
  expect_ok(c, api_expect(s, tok, 200, "GET", "/api/v1/conversations?limit=10", NULL));
}

/* Runs client rounds until `migrate ARGS` ends; it must succeed. */
static void client_while(struct client *c, const char *args)
{
  pid_t pid = spawn_migrate(c->srv, args);
  int status = 0, rounds = 0;
  do {
    client_round(c);
    rounds++;
  } while (running(pid, &status));
  cr_assert_eq(status, 0, "migrate %s failed; see %s/migrate.out", args, c->srv->dir);
  cr_log_info("migrate %s: %d client rounds ran beside it", args, rounds);
}

/* Every message the client posted is there, once, in order. */
static void expect_all_writes(struct client *c)
{
  char path[512];
  char *cursor = NULL;
  int seen = 0;
  for (;;) {
    snprintf(path, sizeof path, "/api/v1/conversations/%s/messages?limit=100%s%s", c->conv,
             cursor ? "&cursor=" : "", cursor ? cursor : "");
    free(cursor);
    cursor = NULL;
    json_t *page = api_expect(c->srv, c->admin.token, 200, "GET", path, NULL);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(page, "items"), i, m) {
      if (strcmp(json_string_value(json_object_get(m, "kind")), "system") == 0)
        continue; /* the Director's notices (no model is configured here) */
      char want[32];
      snprintf(want, sizeof want, "m%d", c->posted - 1 - seen);
      cr_assert_str_eq(json_string_value(json_object_get(m, "content")), want);
      seen++;
    }
    const char *next = json_string_value(json_object_get(page, "cursor"));
    int done = json_is_true(json_object_get(page, "done")) || !next;
    cursor = done ? NULL : strdup(next);
    json_decref(page);
    if (done)
      break;
  }
  cr_assert_eq(seen, c->posted, "%d messages posted, %d read back", c->posted, seen);
  /* the agent edited beside the backfills keeps the last edit */
  snprintf(path, sizeof path, "/api/v1/agents/%s", c->agent);
  json_t *a = api_expect(c->srv, c->admin.token, 200, "GET", path, NULL);
  char want[32];
  snprintf(want, sizeof want, "d%d", c->posted - 1);
  cr_assert_str_eq(json_string_value(json_object_get(a, "description")), want);
  json_decref(a);
}

static void cli(const struct api_server *s, const char *args, char **out)
{
  char *cmd = NULL, *errout = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && '%s' --db t.db %s", s->dir, ONE_BINARY, args) > 0);
  char *o = NULL;
  int rc = tu_run(cmd, &o, &errout);
  cr_assert_eq(rc, 0, "%s: %s%s", args, o, errout);
  if (out)
    *out = o;
  else
    free(o);
  free(cmd);
  free(errout);
}

Test(migrate_online, the_api_answers_every_request_while_the_chain_runs)
{
  char *prep = NULL;
  cr_assert(asprintf(&prep, "python3 '%s/tests/fixtures/gen_agent_inbox.py' in.zip --seed 31 "
                     "--messages 4000 2>/dev/null && '%s' --db t.db import in.zip >/dev/null && "
                     "'%s' --db t.db migrate up --to expand >/dev/null",
                     ONE_SOURCE_DIR, ONE_BINARY, ONE_BINARY) > 0);
  api_start_in(&srv, prep);
  free(prep);
  struct client c = {.srv = &srv};
  api_admin(&srv, "admin@example.org", &c.admin);
  json_t *j = api_expect(&srv, NULL, 200, "GET", "/readyz", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(j, "schema")), "one-expand");
  json_decref(j);
  /* an imported conversation to read, and an imported agent to talk to */
  j = api_expect(&srv, c.admin.token, 200, "GET", "/api/v1/tables/conversations?limit=1", NULL);
  snprintf(c.legacy_conv, sizeof c.legacy_conv, "%s",
           json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "_id")));
  json_decref(j);
  j = api_expect(&srv, c.admin.token, 200, "GET", "/api/v1/agents?limit=1", NULL);
  snprintf(c.agent, sizeof c.agent, "%s",
           json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "_id")));
  json_t *conv = api_expect(&srv, c.admin.token, 201, "POST", "/api/v1/conversations",
                            "{\"title\":\"during the migration\",\"agents\":[\"%s\"]}",
                            c.agent);
  snprintf(c.conv, sizeof c.conv, "%s", json_string_value(json_object_get(conv, "_id")));
  json_decref(conv);
  json_decref(j);

  /* the backfills, in small batches, beside the client */
  client_while(&c, "up --batch 5");
  expect_all_writes(&c);
  char *out = NULL;
  cli(&srv, "migrate verify", &out);
  cr_expect(strstr(out, "verify: passed"), "%s", out);
  free(out);
  /* contract narrows the schema under the running server */
  client_while(&c, "contract --confirm --batch 5");
  j = api_expect(&srv, NULL, 200, "GET", "/readyz", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(j, "schema")), "one");
  json_decref(j);
  client_round(&c);
  expect_all_writes(&c);
  cli(&srv, "migrate verify", &out);
  cr_expect(strstr(out, "verify: passed"), "%s", out);
  free(out);
  cr_log_info("%d requests, none failed; %d messages posted, all read back", c.requests,
              c.posted);
  cr_assert_eq(api_stop(&srv), 0, "one serve did not stop gracefully");
  srv.pid = 0;
}

/* 1 when the user or agent id takes part in conv. */
static int has_participant(const char *token, const char *conv, const char *id)
{
  char path[256];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants?limit=100", conv);
  json_t *page = api_expect(&srv, token, 200, "GET", path, NULL);
  size_t i;
  json_t *p;
  int found = 0;
  json_array_foreach(json_object_get(page, "items"), i, p) {
    const char *a = json_string_value(json_object_get(p, "agentId"));
    const char *u = json_string_value(json_object_get(p, "userId"));
    found |= (a && strcmp(a, id) == 0) || (u && strcmp(u, id) == 0);
  }
  json_decref(page);
  return found;
}

Test(migrate_online, flags_and_the_admin_views_of_a_migration)
{
  char *prep = NULL;
  cr_assert(asprintf(&prep, "python3 '%s/tests/fixtures/gen_agent_inbox.py' in.zip --seed 32 "
                     "--messages 100 2>/dev/null && '%s' --db t.db import in.zip >/dev/null && "
                     "'%s' --db t.db migrate up --to expand >/dev/null",
                     ONE_SOURCE_DIR, ONE_BINARY, ONE_BINARY) > 0);
  api_start_in(&srv, prep);
  free(prep);
  struct api_user admin, member;
  api_admin(&srv, "admin@example.org", &admin);
  api_signup(&srv, "member@example.org", &member);
  /* administrators only */
  json_decref(api_expect(&srv, member.token, 403, "GET", "/api/v1/admin/migrations", NULL));
  json_decref(api_expect(&srv, member.token, 403, "GET", "/api/v1/admin/flags", NULL));
  json_decref(api_expect(&srv, member.token, 403, "PUT", "/api/v1/admin/flags/read.one-shape",
                         "{\"on\":true}"));
  json_t *m = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/migrations", NULL);
  json_t *st = json_object_get(m, "status");
  cr_expect_str_eq(json_string_value(json_object_get(st, "schema")), "one-expand");
  cr_expect_eq(json_number_value(json_object_get(st, "position")), 1);
  cr_expect(json_array_size(json_object_get(m, "log")) > 0);
  json_decref(m);

  /* read.one-shape: an imported agent reads with ONE's prompt before the backfill */
  json_t *j = api_expect(&srv, admin.token, 200, "GET", "/api/v1/agents?limit=1", NULL);
  json_t *agent = json_array_get(json_object_get(j, "items"), 0);
  char aid[64], path[128];
  snprintf(aid, sizeof aid, "%s", json_string_value(json_object_get(agent, "_id")));
  cr_assert(json_object_get(agent, "personality") && !json_object_get(agent, "prompt"),
            "an imported agent, not yet backfilled");
  json_decref(j);
  snprintf(path, sizeof path, "/api/v1/agents/%s", aid);
  j = api_expect(&srv, admin.token, 200, "PUT", "/api/v1/admin/flags/read.one-shape",
                 "{\"on\":true}");
  cr_expect(json_is_true(json_object_get(j, "on")));
  json_decref(j);
  j = api_expect(&srv, admin.token, 200, "GET", path, NULL);
  cr_expect_str_eq(json_string_value(json_object_get(j, "prompt")),
                   json_string_value(json_object_get(j, "personality")));
  cr_expect(json_object_get(j, "createdAt") != NULL);
  json_decref(j);
  /* shown, not written */
  char *out = NULL, *cmd = NULL;
  cr_assert(asprintf(&cmd, "data get %s", aid) > 0);
  cli(&srv, cmd, &out);
  free(cmd);
  cr_expect(!strstr(out, "\"prompt\""), "%s", out);
  free(out);

  /* mentions.add-participants off: a mention of a non-participant is refused */
  json_t *conv = api_expect(&srv, member.token, 201, "POST", "/api/v1/conversations",
                            "{\"title\":\"flags\"}");
  char cid[64], mpath[128];
  snprintf(cid, sizeof cid, "%s", json_string_value(json_object_get(conv, "_id")));
  json_decref(conv);
  snprintf(mpath, sizeof mpath, "/api/v1/conversations/%s/messages", cid);
  json_decref(api_expect(&srv, admin.token, 200, "PUT",
                         "/api/v1/admin/flags/mentions.add-participants", "{\"on\":false}"));
  j = api_expect(&srv, member.token, 422, "POST", mpath,
                 "{\"content\":\"hello @[A](agent:%s)\"}", aid);
  cr_expect(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                   "mentions.add-participants"));
  json_decref(j);
  cr_expect(!has_participant(member.token, cid, aid));
  json_decref(api_expect(&srv, admin.token, 200, "PUT",
                         "/api/v1/admin/flags/mentions.add-participants", "{\"on\":true}"));
  json_decref(api_expect(&srv, member.token, 201, "POST", mpath,
                         "{\"content\":\"hello @[A](agent:%s)\"}", aid));
  cr_expect(has_participant(member.token, cid, aid));
  /* the CLI sees what the API set */
  cli(&srv, "flags list --json", &out);
  j = tu_json(out);
  free(out);
  cr_expect(json_is_true(json_object_get(json_array_get(j, 0), "on")), "read.one-shape is on");
  json_decref(j);

  /* /metrics shows the migration */
  struct api_reply r = api_call(&srv, "GET", "/metrics", NULL, 0, NULL);
  cr_expect(strstr(r.body, "one_migration_steps_done 1\n") &&
            strstr(r.body, "one_migration_running 0\n") &&
            strstr(r.body, "one_migration_failures_total 0\n"), "%s", r.body);
  api_reply_free(&r);
  cli(&srv, "migrate up", NULL);
  r = api_call(&srv, "GET", "/metrics", NULL, 0, NULL);
  cr_expect(strstr(r.body, "one_migration_steps_done 7\n") &&
            strstr(r.body, "one_migration_step_documents{step=\"backfill-agent-prompts\","
                           "state=\"done\",count=\"changed\"}"), "%s", r.body);
  api_reply_free(&r);
}

/* The migration's position as the admin API reports it. */
static int position(const char *token, char *schema, size_t n)
{
  json_t *j = api_expect(&srv, token, 200, "GET", "/api/v1/admin/migrations", NULL);
  json_t *st = json_object_get(j, "status");
  int pos = (int)json_number_value(json_object_get(st, "position"));
  if (schema)
    snprintf(schema, n, "%s", json_string_value(json_object_get(st, "schema")));
  json_decref(j);
  return pos;
}

/* Waits (a guard of 120 s, not a timing assertion) until the job of id
 * has finished; returns its state. */
static char *job_state(const char *token, const char *id)
{
  for (int i = 0; i < 12000; i++) {
    json_t *j = api_expect(&srv, token, 200, "GET", "/api/v1/admin/jobs?limit=50", NULL);
    size_t k;
    json_t *job;
    char *state = NULL;
    json_array_foreach(json_object_get(j, "items"), k, job) {
      const char *s = json_string_value(json_object_get(job, "state"));
      if (strcmp(json_string_value(json_object_get(job, "id")), id) == 0 &&
          (strcmp(s, "done") == 0 || strcmp(s, "failed") == 0))
        state = strdup(s);
    }
    json_decref(j);
    if (state)
      return state;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  cr_assert_fail("job %s never finished", id);
  return NULL;
}

static void start_action(const char *token, const char *action, const char *body, char id[32])
{
  char path[128];
  snprintf(path, sizeof path, "/api/v1/admin/migrations/%s", action);
  json_t *j = api_expect(&srv, token, 201, "POST", path, body ? "%s" : NULL, body);
  snprintf(id, 32, "%s", json_string_value(json_object_get(j, "id")));
  json_decref(j);
}

Test(migrate_online, the_server_runs_the_migration_as_a_job_and_goes_on_after_a_kill)
{
  char *prep = NULL;
  cr_assert(asprintf(&prep, "python3 '%s/tests/fixtures/gen_agent_inbox.py' in.zip --seed 5 "
                     "--messages 4000 2>/dev/null && '%s' --db t.db import in.zip >/dev/null && "
                     "'%s' --db t.db migrate up --to expand >/dev/null", /* accounts from here */
                     ONE_SOURCE_DIR, ONE_BINARY, ONE_BINARY) > 0);
  setenv("ONE_JOB_LEASE_MS", "1500", 1);
  api_start_in(&srv, prep);
  free(prep);
  struct api_user admin, member;
  api_admin(&srv, "admin@example.org", &admin);
  api_signup(&srv, "member@example.org", &member);
  json_decref(api_expect(&srv, member.token, 403, "POST", "/api/v1/admin/migrations/up", NULL));
  json_decref(api_expect(&srv, admin.token, 422, "POST", "/api/v1/admin/migrations/up",
                         "{\"to\":\"no-such-step\"}"));
  json_decref(api_expect(&srv, admin.token, 422, "POST", "/api/v1/admin/migrations/contract",
                         NULL));
  char id[32], schema[64];
  start_action(admin.token, "up", NULL, id);
  /* kill -9 once a step is done and the next is under way */
  for (int i = 0; i < 12000 && position(admin.token, NULL, 0) < 2; i++) {
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
  int at_kill = position(admin.token, NULL, 0);
  cr_assert(at_kill >= 2 && at_kill < 7, "killed at position %d: not in the middle", at_kill);
  api_kill9(&srv);
  api_relaunch(&srv); /* the job's lease ends; this server takes it over */
  char *state = job_state(admin.token, id);
  cr_expect_str_eq(state, "done");
  free(state);
  json_t *jobs = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/jobs?state=done", NULL);
  size_t k;
  json_t *job;
  json_array_foreach(json_object_get(jobs, "items"), k, job) if (strcmp(
    json_string_value(json_object_get(job, "id")), id) == 0)
    cr_expect_eq(json_number_value(json_object_get(job, "attempts")), 2,
                 "the killed attempt and the one that finished");
  json_decref(jobs);
  cr_expect_eq(position(admin.token, schema, sizeof schema), 7, "every step but contract");
  cr_expect_str_eq(schema, "one-expand");
  start_action(admin.token, "verify", NULL, id);
  state = job_state(admin.token, id);
  cr_expect_str_eq(state, "done");
  free(state);
  json_t *j = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/migrations", NULL);
  cr_expect(json_is_true(json_object_get(json_object_get(json_object_get(j, "status"),
                                                         "verified"), "ok")),
            "the verification passed");
  json_decref(j);
  start_action(admin.token, "contract", "{\"confirm\":true}", id);
  state = job_state(admin.token, id);
  cr_expect_str_eq(state, "done");
  free(state);
  position(admin.token, schema, sizeof schema);
  cr_expect_str_eq(schema, "one");
  unsetenv("ONE_JOB_LEASE_MS");
  cr_assert_eq(api_stop(&srv), 0, "one serve did not stop gracefully");
  srv.pid = 0;
}
