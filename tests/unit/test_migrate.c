/* Tests of the migration chain as an operator runs it: up and down give
 * back the imported documents exactly; a killed run resumes; a second
 * runner is refused; contract is refused without --confirm and before a
 * verification. On fixtures from tests/fixtures/gen_agent_inbox.py. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void)
{
  tu_rmdir(dir);
  free(dir);
}

TestSuite(migrate, .init = setup, .fini = teardown, .timeout = 300);

static int sh(const char *cmdline, char **out, char **err)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && %s", dir, cmdline) > 0);
  int rc = tu_run(cmd, out, err);
  free(cmd);
  return rc;
}

static int one(const char *args, char **out, char **err)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "'%s' --db a.db %s", ONE_BINARY, args) > 0);
  int rc = sh(cmd, out, err);
  free(cmd);
  return rc;
}

static void import_fixture(const char *args)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "python3 '%s/tests/fixtures/gen_agent_inbox.py' in.zip %s 2>/dev/null "
                     "&& '%s' --db a.db import in.zip >/dev/null", ONE_SOURCE_DIR, args,
                     ONE_BINARY) > 0);
  cr_assert_eq(sh(cmd, NULL, NULL), 0, "%s", cmd);
  free(cmd);
}

static char *docs(const char *zip)
{
  char *cmd = NULL, *out = NULL;
  cr_assert(asprintf(&cmd, "python3 '%s/tests/fixtures/snapshot_docs.py' %s", ONE_SOURCE_DIR,
                     zip) > 0);
  cr_assert_eq(sh(cmd, &out, NULL), 0);
  free(cmd);
  return out;
}

/* The database holds exactly the documents the fixture was imported with. */
static void expect_imported_documents(void)
{
  sh("rm -f back.zip", NULL, NULL);
  cr_assert_eq(one("export back.zip", NULL, NULL), 0);
  char *want = docs("in.zip"), *got = docs("back.zip");
  cr_expect_str_eq(got, want);
  free(want);
  free(got);
}

Test(migrate, up_then_down_gives_back_the_imported_documents)
{
  import_fixture("--seed 21 --messages 400");
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("migrate up --batch 37", &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "schema    one-expand") && strstr(out, "7 of 8 steps done"), "%s", out);
  free(out);
  free(err);
  /* the backfilled data has what ONE needs */
  cr_assert_eq(one("schema diff one-expand one --data --json", &out, NULL), 0);
  json_t *j = tu_json(out);
  free(out);
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(j, "findings"), i, f) {
    const char *cls = json_string_value(json_object_get(f, "class"));
    if (strcmp(cls, "narrowing") == 0)
      cr_expect_eq(json_integer_value(json_object_get(f, "documents")), 0,
                   "%s.%s still refused by one", json_string_value(json_object_get(f, "table")),
                   json_string_value(json_object_get(f, "name")));
  }
  json_decref(j);
  /* two backups: before expand, and before the backfills (one for all six) */
  cr_assert_eq(sh("ls backups | wc -l", &out, NULL), 0);
  cr_expect_eq(atoi(out), 2);
  free(out);
  cr_assert_eq(one("migrate down --batch 50", &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "schema    agent-inbox") && strstr(out, "0 of 8"), "%s", out);
  free(out);
  free(err);
  expect_imported_documents();
  cr_assert_eq(one("migrate log", &out, NULL), 0);
  cr_expect(strstr(out, "\"event\": \"backup\"") && strstr(out, "\"direction\": \"down\""));
  free(out);
}

/* The steps' bookkeeping: per step, state, processed and changed. */
static char *step_counts(const char *db)
{
  char *cmd = NULL, *out = NULL;
  cr_assert(asprintf(&cmd, "'%s' --db %s migrate status --json | python3 -c \"import json,sys;"
                     "print([(s['name'],s['state'],s.get('processed'),s.get('changed')) "
                     "for s in json.load(sys.stdin)['steps']])\"", ONE_BINARY, db) > 0);
  cr_assert_eq(sh(cmd, &out, NULL), 0, "%s", cmd);
  free(cmd);
  return out;
}

/* Batches of 13 documents, never cut short by time. */
#define BATCH_13 "--batch 13 --batch-ms 60000"

/* Runs `args` on a.db again and again, each run killed with -9 at a random
 * document (mid-transaction) of its own, `kills` times. Returns how many of
 * the kills left a step half done ('running' or 'reverting'): a kill inside
 * a step's first batch leaves it 'pending', so not every kill does. The
 * callers pass --batch-ms 60000, so that batches are cut by count alone and
 * a seed reproduces the same kills on any machine. */
static int run_killed(const char *args, int kills, unsigned *seed)
{
  int mid_step = 0;
  for (int k = 0; k < kills; k++) {
    int at = 1 + (int)(rand_r(seed) % 40);
    char *cmd = NULL;
    cr_assert(asprintf(&cmd, "ONE_TEST_KILL_AT=%d '%s' --db a.db %s; exit $?", at, ONE_BINARY,
                       args) > 0);
    int rc = sh(cmd, NULL, NULL);
    cr_assert_eq(rc, 128 + 9, "run %d (%s) should have died of SIGKILL, exit %d", k + 1, cmd, rc);
    free(cmd);
    char *counts = step_counts("a.db");
    mid_step += strstr(counts, "'running'") || strstr(counts, "'reverting'");
    free(counts);
  }
  return mid_step;
}

Test(migrate, killed_at_20_random_points_ends_identical_to_an_uninterrupted_run)
{
  unsigned seed = getenv("ONE_TEST_SEED") ? (unsigned)atoi(getenv("ONE_TEST_SEED"))
                                          : (unsigned)time(NULL) ^ (unsigned)getpid();
  cr_log_info("kill points from seed %u (ONE_TEST_SEED reproduces)", seed);
  /* 700 messages: about 900 documents rewritten, more than 20 runs killed
   * at document 40 or before can commit (20 x 39), so every run dies */
  import_fixture("--seed 22 --messages 700");
  cr_assert_eq(sh("'" ONE_BINARY "' --db b.db import in.zip >/dev/null", NULL, NULL), 0);
  /* b: the uninterrupted run */
  cr_assert_eq(sh("'" ONE_BINARY "' --db b.db migrate up " BATCH_13, NULL, NULL), 0);
  /* a: killed with -9 at 20 random documents, restarted each time */
  int mid_step = run_killed("migrate up " BATCH_13, 20, &seed);
  cr_log_info("%d of 20 kills left a step half done", mid_step);
  cr_expect_gt(mid_step, 0, "no kill left a step half done (seed %u)", seed);
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("migrate up " BATCH_13, &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "7 of 8 steps done"), "%s", out);
  free(out);
  free(err);
  /* the same documents, ids and times included, and the same bookkeeping */
  cr_assert_eq(sh("rm -f a.zip b.zip && '" ONE_BINARY "' --db a.db export a.zip && '"
                  ONE_BINARY "' --db b.db export b.zip", NULL, NULL), 0);
  char *a = docs("a.zip"), *b = docs("b.zip");
  cr_expect(strcmp(a, b) == 0, "a killed run differs from an uninterrupted one (seed %u)", seed);
  free(a);
  free(b);
  char *ca = step_counts("a.db"), *cb = step_counts("b.db");
  cr_expect_str_eq(ca, cb, "seed %u", seed);
  free(ca);
  free(cb);
  cr_assert_eq(one("migrate verify", &out, NULL), 0, "%s", out);
  free(out);
  /* a down killed half-way through a step: up refuses until down finishes */
  cr_assert_eq(sh("ONE_TEST_KILL_AT=20 '" ONE_BINARY "' --db a.db migrate down " BATCH_13 "; "
                  "exit $?", NULL, NULL), 128 + 9);
  cr_expect_eq(one("migrate up", NULL, &err), 1);
  cr_expect(strstr(err, "'backfill-system-authors' was being reverted"), "%s", err);
  free(err);
  /* and down, killed 5 more times, gives back the imported documents */
  (void)run_killed("migrate down " BATCH_13, 5, &seed);
  cr_assert_eq(one("migrate down", NULL, &err), 0, "%s", err);
  free(err);
  expect_imported_documents();
}

/* processed of step in a.db's status, -1 before the step has run a batch. */
static long step_processed(const char *step)
{
  char *cmd = NULL, *out = NULL;
  cr_assert(asprintf(&cmd, "'%s' --db a.db migrate status --json | python3 -c \"import json,sys;"
                     "print(next((s.get('processed', -1) for s in json.load(sys.stdin)['steps'] "
                     "if s['name'] == '%s'), -1))\"", ONE_BINARY, step) > 0);
  cr_assert_eq(sh(cmd, &out, NULL), 0, "%s", cmd);
  long n = atol(out);
  free(cmd);
  free(out);
  return n;
}

/* A backfill walks each table in id order, and a document the service
 * creates meanwhile may get an id the walk has passed: the tail pass (the
 * documents created since the step began) rewrites it too. Here the new
 * user arrives once the walk is past every user, so only the tail pass can
 * see it. */
Test(migrate, a_document_created_behind_the_walk_is_backfilled_too)
{
  import_fixture("--seed 24 --users 12 --agents 6 --messages 400");
  cr_assert_eq(one("migrate up --to expand", NULL, NULL), 0);
  cr_assert_eq(sh("('" ONE_BINARY "' --db a.db migrate up --to backfill-created-at --batch 5 "
                  "--pause 40 >up.out 2>up.err; echo $? >up.rc) &", NULL, NULL), 0);
  long processed = -1;
  for (int i = 0; i < 3000 && processed <= 12; i++) {
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    processed = step_processed("backfill-created-at");
  }
  cr_assert_gt(processed, 12, "the walk never got past the users");
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("data insert users '{\"name\":\"Late\",\"email\":\"late@example.org\"}'",
                   &out, &err), 0, "%s", err);
  char id[64] = "";
  sscanf(out, "%63s", id);
  free(out);
  free(err);
  cr_assert_eq(sh("test ! -e up.rc", NULL, NULL), 0, "the step ended before the insert");
  cr_assert_eq(sh("while [ ! -s up.rc ]; do sleep 0.05; done; cat up.rc", &out, NULL), 0);
  cr_assert_eq(atoi(out), 0, "migrate up failed");
  free(out);
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "data get %s", id) > 0);
  cr_assert_eq(one(cmd, &out, &err), 0, "%s: %s", cmd, err);
  cr_expect(strstr(out, "\"createdAt\""), "the late user has no createdAt: %s", out);
  free(cmd);
  free(out);
  free(err);
  cr_assert_eq(one("migrate verify", &out, NULL), 0, "%s", out);
  free(out);
}

Test(migrate, refusals)
{
  import_fixture("--seed 23 --messages 50");
  char *err = NULL;
  cr_expect_eq(one("migrate contract", NULL, &err), 1);
  cr_expect(strstr(err, "--confirm"), "%s", err);
  free(err);
  cr_expect_eq(one("migrate contract --confirm", NULL, &err), 1);
  cr_expect(strstr(err, "after every backfill"), "%s", err);
  free(err);
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  cr_expect_eq(one("migrate contract --confirm", NULL, &err), 1);
  cr_expect(strstr(err, "verify"), "%s", err);
  free(err);
  cr_expect_eq(one("migrate up --to nothing", NULL, &err), 1);
  cr_expect(strstr(err, "no step 'nothing'"), "%s", err);
  free(err);
  /* a lock held by a live process refuses a second runner */
  char host[256] = "", *sql = NULL;
  gethostname(host, sizeof host - 1);
  cr_assert(asprintf(&sql, "insert into one_meta values('app:migrate.lock', "
                     "'{\"pid\":1,\"host\":\"%s\",\"since\":\"x\"}');\n", host) > 0);
  tu_write(dir, "lock.sql", sql);
  free(sql);
  cr_assert_eq(sh("sqlite3 a.db < lock.sql", NULL, NULL), 0);
  cr_expect_eq(one("migrate down", NULL, &err), 1);
  cr_expect(strstr(err, "another migration is running (pid 1"), "%s", err);
  free(err);
}

Test(migrate, the_whole_chain_with_verify_and_contract_and_back)
{
  import_fixture("--seed 24 --messages 300");
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  cr_assert_eq(one("migrate verify", &out, &err), 0, "%s%s", out, err);
  cr_expect(strstr(out, "verify: passed at schema one-expand, 7 steps done"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(one("migrate contract --confirm", &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "schema    one") && strstr(out, "8 of 8"), "%s", out);
  free(out);
  free(err);
  /* after contract: valid at one, and the moved values still add up */
  cr_assert_eq(one("migrate verify --json", &out, NULL), 0, "%s", out);
  json_t *v = tu_json(out);
  free(out);
  cr_expect(json_is_true(json_object_get(v, "ok")));
  cr_expect(json_integer_value(json_object_get(v, "migrationLegacy")) > 0);
  json_decref(v);
  cr_assert_eq(one("migrate down", NULL, &err), 0, "%s", err);
  free(err);
  expect_imported_documents();
}

Test(migrate, verify_catches_damage)
{
  import_fixture("--seed 25 --messages 200");
  char *out = NULL;
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  /* a backfilled value taken away again: the step is incomplete */
  cr_assert_eq(sh("'" ONE_BINARY "' --db a.db data list users --limit 1 --json | python3 -c "
                  "\"import json,sys;print(json.load(sys.stdin)['page'][0]['_id'])\" > uid", NULL,
                  NULL), 0);
  cr_assert_eq(sh("'" ONE_BINARY "' --db a.db data patch $(cat uid) --unset createdAt", NULL,
                  NULL), 0);
  cr_expect_eq(one("migrate verify", &out, NULL), 1);
  cr_expect(strstr(out, "backfill-created-at: 1 documents of users still need it"), "%s", out);
  free(out);
  cr_expect_eq(one("migrate contract --confirm", NULL, NULL), 1, "a failed verify blocks contract");
  cr_assert_eq(one("migrate down --to expand", NULL, NULL), 0); /* redo the step */
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  cr_assert_eq(one("migrate verify", NULL, NULL), 0);
  /* damage behind the store's back: a value no step writes, and a lost document */
  cr_assert_eq(sh("sqlite3 a.db \"update one_documents set body = replace(body, '\\\"title\\\":\\\"',"
                  " '\\\"title\\\":\\\"x') where id in (select id from one_documents where body like "
                  "'%\\\"title\\\":%' limit 1)\"", NULL, NULL), 0);
  cr_expect_eq(one("migrate verify", &out, NULL), 1);
  cr_expect(strstr(out, "conversations:") && strstr(out, "checksum"), "%s", out);
  free(out);
  tu_write(dir, "lose.sql", "delete from one_documents where id = (select id from one_documents "
                            "where tbl = (select number from one_tables where name = "
                            "'conversations') limit 1);\n");
  cr_assert_eq(sh("sqlite3 a.db < lose.sql", NULL, NULL), 0);
  cr_expect_eq(one("migrate verify", &out, NULL), 1);
  cr_expect(strstr(out, "dangling references") && strstr(out, "which does not exist"), "%s", out);
  free(out);
}

/* The backfills of one run share the backup taken before the first; a run
 * that starts in the middle of them, and every run down, takes its own. */
Test(migrate, every_run_and_every_stage_starts_with_a_backup)
{
  import_fixture("--seed 27 --messages 60");
  char *out = NULL;
  cr_assert_eq(one("migrate up --to backfill-users", NULL, NULL), 0);
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  cr_assert_eq(one("migrate down --to backfill-tools", NULL, NULL), 0);
  cr_assert_eq(one("backup list --json", &out, NULL), 0);
  json_t *list = tu_json(out);
  free(out);
  static const char *const want[] = {"expand-up", "backfill-created-at-up",
                                     "backfill-agent-prompts-up", "backfill-system-authors-down"};
  cr_assert_eq(json_array_size(list), 4);
  for (size_t i = 0; i < 4; i++)
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(list, i), "before")),
                     want[i]);
  json_decref(list);
  /* every step's start names the backup it runs after */
  cr_assert_eq(one("migrate log", &out, NULL), 0);
  json_t *log = tu_json(out);
  free(out);
  size_t i, starts = 0;
  json_t *e;
  json_array_foreach(log, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "event")), "start") != 0)
      continue;
    starts++;
    cr_expect(strstr(json_string_value(json_object_get(e, "backup")), ".before-"), "%s",
              json_string_value(json_object_get(e, "step")));
  }
  cr_expect_eq(starts, 7 + 2, "seven steps up, two down");
  json_decref(log);
}

/* Restores bk (an entry of `backup list --json`), the backup taken before
 * the backfills, and expects the database as they found it: expand done,
 * and no document with a createdAt. */
static void restore_backfills_backup(const json_t *bk)
{
  char *out = NULL, *err = NULL, *args = NULL;
  cr_expect_str_eq(json_string_value(json_object_get(bk, "before")), "backfill-created-at-up");
  cr_assert(asprintf(&args, "restore '%s'", json_string_value(json_object_get(bk, "path"))) > 0);
  cr_assert_eq(one(args, &out, &err), 0, "%s", err);
  free(out);
  free(err);
  free(args);
  cr_assert_eq(one("migrate status", &out, NULL), 0);
  cr_expect(strstr(out, "schema    one-expand") && strstr(out, "1 of 8"), "%s", out);
  free(out);
  cr_assert_eq(sh("sqlite3 a.db \"select count(*) from one_documents where body like "
                  "'%\\\"createdAt\\\"%'\"", &out, NULL), 0);
  cr_expect_eq(atoi(out), 0, "no createdAt in the backup: %s", out);
  free(out);
}

/* With no one else writing, the first backfill runs beside its backup:
 * the copy is held back here (ONE_TEST_BACKUP_DELAY_MS) so that every
 * batch of createdAt commits before it copies a page, and the backup must
 * still hold the database as the backfills found it. */
Test(migrate, the_first_backfill_runs_beside_its_backup)
{
  import_fixture("--seed 28 --messages 300");
  char *out = NULL;
  cr_assert_eq(one("migrate up --to expand", NULL, NULL), 0);
  cr_assert_eq(sh("ONE_TEST_BACKUP_DELAY_MS=1500 '" ONE_BINARY "' --db a.db migrate up "
                  ">/dev/null", NULL, NULL), 0);
  cr_assert_eq(one("migrate verify", &out, NULL), 0, "%s", out);
  free(out);
  cr_assert_eq(one("migrate log", &out, NULL), 0);
  json_t *log = tu_json(out);
  free(out);
  size_t i;
  json_t *e;
  double start = 0, copied = 0;
  json_array_foreach(log, i, e) {
    if (strcmp(json_string_value(json_object_get(e, "step")), "backfill-created-at") != 0)
      continue;
    const char *ev = json_string_value(json_object_get(e, "event"));
    if (strcmp(ev, "start") == 0)
      start = json_number_value(json_object_get(e, "at"));
    if (strcmp(ev, "backup") == 0) {
      copied = json_number_value(json_object_get(e, "at"));
      cr_expect(json_is_true(json_object_get(e, "beside")), "the copy ran beside the step");
    }
  }
  json_decref(log);
  cr_expect(start > 0 && copied >= start + 1000, "the copy ended after the walk: %f %f", start,
            copied);
  cr_assert_eq(one("backup list --json", &out, NULL), 0);
  json_t *list = tu_json(out);
  free(out);
  cr_assert_eq(json_array_size(list), 2, "before expand, and before the backfills");
  restore_backfills_backup(json_array_get(list, 1));
  json_decref(list);
}

Test(migrate, a_backup_restores_the_database_as_it_was)
{
  import_fixture("--seed 26 --messages 100");
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("migrate up", NULL, NULL), 0);
  cr_assert_eq(one("backup list --json", &out, NULL), 0);
  json_t *list = tu_json(out);
  free(out);
  cr_assert_eq(json_array_size(list), 2, "a backup before expand and one before the backfills");
  json_t *first = json_array_get(list, 0);
  cr_expect_str_eq(json_string_value(json_object_get(first, "before")), "expand-up");
  /* the backfills' backup, taken while the first of them may already
   * write, holds the database as the backfills found it */
  restore_backfills_backup(json_array_get(list, 1));
  char *args = NULL;
  cr_assert(asprintf(&args, "restore '%s'", json_string_value(json_object_get(first, "path"))) > 0);
  json_decref(list);
  cr_assert_eq(one(args, &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "schema agent-inbox") && strstr(out, "before-restore.db"), "%s", out);
  free(out);
  free(err);
  free(args);
  cr_assert_eq(one("migrate status", &out, NULL), 0);
  cr_expect(strstr(out, "schema    agent-inbox") && strstr(out, "0 of 8"), "%s", out);
  free(out);
  expect_imported_documents();
  cr_assert_eq(sh("echo nothing > junk.db", NULL, NULL), 0);
  cr_expect_eq(one("restore junk.db", NULL, &err), 1);
  free(err);
  cr_assert_eq(one("migrate status", &out, NULL), 0, "a refused restore leaves the database");
  free(out);
}
