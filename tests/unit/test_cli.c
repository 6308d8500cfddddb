/* Tests of the `one` command run as a user runs it: help, exit codes,
 * schema show/check, data commands and db status, on a temporary database. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;

static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void)
{
  tu_rmdir(dir);
  free(dir);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 60);

/* Runs `one ARGS` in the test folder with ONE_DB pointing into it. */
static int one(const char *args, char **out, char **err)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && ONE_DB='%s/t.db' '%s' %s", dir, dir, ONE_BINARY, args) > 0);
  int rc = tu_run(cmd, out, err);
  free(cmd);
  return rc;
}

Test(cli, help_version_and_usage_codes)
{
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("--version", &out, NULL), 0);
  cr_assert(strncmp(out, "one ", 4) == 0);
  free(out);
  cr_assert_eq(one("help", &out, NULL), 0);
  cr_assert(strstr(out, "data insert") && strstr(out, "schema show") && strstr(out, "db status"));
  free(out);
  cr_assert_eq(one("help data list", &out, NULL), 0);
  cr_assert(strstr(out, "--cursor"));
  free(out);
  cr_assert_eq(one("data list --help", &out, NULL), 0);
  free(out);
  cr_assert_eq(one("", NULL, &err), 2);
  free(err);
  cr_assert_eq(one("frobnicate", NULL, &err), 2);
  cr_assert(strstr(err, "no command 'frobnicate'"), "%s", err);
  free(err);
  cr_assert_eq(one("data list", NULL, &err), 2, "missing argument");
  cr_assert(strstr(err, "usage: one data list"), "%s", err);
  free(err);
  cr_assert_eq(one("data list users --bogus", NULL, &err), 2);
  cr_assert(strstr(err, "unknown option --bogus"), "%s", err);
  free(err);
  cr_assert_eq(one("data list users --limit 0", NULL, &err), 2);
  free(err);
  cr_assert_eq(one("--sync sometimes db status", NULL, &err), 2);
  free(err);
}

Test(cli, schema_show_and_check)
{
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("schema show one", &out, NULL), 0);
  cr_assert(strstr(out, "conversationMessages: defineTable({"), "%.300s", out);
  tu_write(dir, "printed/schema.ts", out);
  free(out);
  cr_assert_eq(one("schema check printed", &out, NULL), 0, "the printed schema checks");
  cr_assert(strstr(out, "ok, 34 tables"), "%s", out);
  free(out);
  cr_assert_eq(one("schema show agent-inbox --json", &out, NULL), 0);
  cr_assert(strstr(out, "\"tableName\": \"conversationParticipants\""));
  free(out);
  tu_write(dir, "bad/schema.ts", "import { v } from \"convex/values\";\nconst x = v.strng();\n");
  cr_assert_eq(one("schema check bad", NULL, &err), 1);
  cr_assert(strstr(err, "bad/schema.ts:2:13: unknown validator v.strng"), "%s", err);
  free(err);
  cr_assert_eq(one("schema show nothing-here", NULL, &err), 1);
  free(err);
}

Test(cli, data_commands_on_a_new_database)
{
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("data list users", NULL, &err), 1, "no database yet");
  cr_assert(strstr(err, "one db init"), "%s", err);
  free(err);
  cr_assert_eq(one("db init", &out, NULL), 0);
  cr_assert(strstr(out, "schema    one"), "%s", out);
  free(out);
  cr_assert_eq(one("db init", &out, NULL), 0, "init twice is harmless");
  cr_assert(strstr(out, "already initialised"));
  free(out);

  cr_assert_eq(one("data insert users '{\"name\":\"Ada\",\"email\":\"ada@example.com\",\"createdAt\":1}'", &out, NULL), 0);
  char id[64];
  cr_assert_eq(sscanf(out, "%63s", id), 1);
  free(out);

  char args[512];
  snprintf(args, sizeof args, "data get %s", id);
  cr_assert_eq(one(args, &out, NULL), 0);
  cr_assert(strstr(out, "\"name\":\"Ada\"") && strstr(out, "\"createdAt\":1.0"), "%s", out);
  free(out);

  snprintf(args, sizeof args, "data insert agents '{\"name\":\"A\",\"description\":\"d\",\"kind\":\"user_agent\",\"createdAt\":1,\"delegatesTo\":[\"%s\"]}'", id);
  cr_assert_eq(one(args, NULL, &err), 1);
  cr_assert(strstr(err, "agents.delegatesTo[0]: expected id<agents>, got id<users>"), "%s", err);
  free(err);

  cr_assert_eq(one("data insert users '{\"name\":\"x\"'", NULL, &err), 1, "broken JSON");
  cr_assert(strstr(err, "invalid JSON"), "%s", err);
  free(err);

  snprintf(args, sizeof args, "data patch %s '{\"notes\":\"hi\"}'", id);
  cr_assert_eq(one(args, NULL, NULL), 0);
  snprintf(args, sizeof args, "data patch %s --unset email", id);
  cr_assert_eq(one(args, NULL, &err), 1, "email is required in the ONE schema");
  cr_assert(strstr(err, "users.email: missing required field"), "%s", err);
  free(err);

  cr_assert_eq(one("data list users --index by_email --eq ada@example.com --json", &out, NULL), 0);
  cr_assert(strstr(out, "\"isDone\":true") && strstr(out, "\"notes\":\"hi\""), "%s", out);
  free(out);

  snprintf(args, sizeof args, "--db '%s/t.db' db status", dir);
  cr_assert_eq(one(args, &out, NULL), 0);
  cr_assert(strstr(out, "users") && strstr(out, "10001"), "%s", out);
  free(out);

  snprintf(args, sizeof args, "data delete %s", id);
  cr_assert_eq(one(args, NULL, NULL), 0);
  snprintf(args, sizeof args, "data get %s", id);
  cr_assert_eq(one(args, NULL, &err), 1);
  cr_assert(strstr(err, "no document"), "%s", err);
  free(err);
}

Test(cli, list_pages_with_cursor)
{
  cr_assert_eq(one("db init", NULL, NULL), 0);
  for (int i = 0; i < 5; i++) {
    char args[256];
    snprintf(args, sizeof args, "data insert tags '{\"name\":\"t%d\",\"createdAt\":%d}'", i, i);
    cr_assert_eq(one(args, NULL, NULL), 0);
  }
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("data list tags --limit 2", &out, &err), 0);
  cr_assert(strstr(out, "\"t0\"") && strstr(out, "\"t1\"") && !strstr(out, "\"t2\""), "%s", out);
  char cursor[512];
  cr_assert_eq(sscanf(err, "more: add --cursor %511s", cursor), 1, "%s", err);
  free(out);
  free(err);
  char args[700];
  snprintf(args, sizeof args, "data list tags --limit 2 --cursor %s", cursor);
  cr_assert_eq(one(args, &out, NULL), 0);
  cr_assert(strstr(out, "\"t2\"") && strstr(out, "\"t3\"") && !strstr(out, "\"t1\""), "%s", out);
  free(out);
  cr_assert_eq(one("data list tags --index by_name --gte t3 --order desc", &out, NULL), 0);
  cr_assert(strstr(out, "\"t4\"") < strstr(out, "\"t3\"") && !strstr(out, "\"t2\""), "%s", out);
  free(out);
}
