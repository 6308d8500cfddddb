/* Tests of the store's job queue (store/store_jobs.c, store_sqlite_jobs.c):
 * adding with keys, claims in due order under leases, a lost lease that
 * refuses the finish, lanes that run one job at a time in order, retries,
 * jobs whose runs keep dying, cancelling, listing, counts, pruning, and
 * jobs that outlive the process that added them. */
#include "testutil.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n" \
  "export default defineSchema({ notes: defineTable({ text: v.string() }) });\n"

static char *dir;
static struct store *st;

static void setup(void)
{
  dir = tu_tmpdir();
  st = tu_store(dir, SCHEMA);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(store_jobs, .init = setup, .fini = teardown);

static struct store_tx *begin(void)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0, "%s", err.msg);
  return tx;
}

static void commit(struct store_tx *tx)
{
  struct err err = ERR_INIT;
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
}

static int64_t add(const char *kind, const char *key, const char *lane, int64_t run_at)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  struct store_job_new j = {kind, "{\"n\":1}", key, lane, run_at, 0};
  int64_t id = 0;
  cr_assert_eq(store_job_add(tx, &j, &id, NULL, &err), 0, "%s", err.msg);
  commit(tx);
  return id;
}

/* Claims for owner at now (lease 1000 ms): the job's id, or 0 when none. */
static int64_t claim(const char *owner, int64_t now)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  struct store_job j;
  int rc = store_job_claim(tx, now, now + 1000, owner, &j, &err);
  cr_assert(rc == 0 || rc == E_NOTFOUND, "%s", err.msg);
  commit(tx);
  int64_t id = rc ? 0 : j.id;
  if (!rc) {
    cr_expect_str_eq(j.owner, owner);
    cr_expect_eq(j.state, STORE_JOB_RUNNING);
    cr_expect_eq(j.run_at, now + 1000, "a running job is due again when its lease ends");
    store_job_release(&j);
  }
  return id;
}

static int finish(int64_t id, const char *owner, enum store_job_state state, int64_t run_at,
                  int64_t now)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  int rc = store_job_finish(tx, id, owner, state, state == STORE_JOB_DONE ? NULL : "it broke",
                            run_at, now, &err);
  if (rc)
    store_rollback(tx);
  else
    commit(tx);
  return rc;
}

static struct store_job get(int64_t id)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0, "%s", err.msg);
  struct store_job j;
  cr_assert_eq(store_job_get(tx, id, &j, &err), 0, "%s", err.msg);
  store_rollback(tx);
  return j;
}

Test(store_jobs, a_job_is_added_with_defaults_and_read_back)
{
  int64_t id = add("agent.reply", NULL, NULL, 5000);
  struct store_job j = get(id);
  cr_expect_str_eq(j.kind, "agent.reply");
  cr_expect_str_eq(j.args, "{\"n\":1}");
  cr_expect_eq(j.state, STORE_JOB_PENDING);
  cr_expect_eq(j.run_at, 5000);
  cr_expect_eq(j.max_attempts, 5);
  cr_expect_eq(j.attempts, 0);
  cr_expect_null(j.key);
  cr_expect_null(j.owner);
  cr_expect_gt(j.created_at, 0);
  store_job_release(&j);
}

Test(store_jobs, a_key_adds_a_job_once)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  struct store_job_new j = {"reply", NULL, "msg1:agentA", NULL, 0, 0};
  int64_t a = 0, b = 0;
  int added_a = 0, added_b = 1;
  cr_assert_eq(store_job_add(tx, &j, &a, &added_a, &err), 0, "%s", err.msg);
  cr_assert_eq(store_job_add(tx, &j, &b, &added_b, &err), 0, "%s", err.msg);
  commit(tx);
  cr_expect(added_a);
  cr_expect_not(added_b);
  cr_expect_eq(a, b, "the second add names the job that has the key");
}

Test(store_jobs, bad_jobs_are_refused_with_a_reason)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  struct store_job_new none = {"", NULL, NULL, NULL, 0, 0};
  cr_expect_eq(store_job_add(tx, &none, NULL, NULL, &err), E_INVALID);
  cr_expect(strstr(err.msg, "kind"), "%s", err.msg);
  struct store_job_new array = {"k", "[1]", NULL, NULL, 0, 0};
  cr_expect_eq(store_job_add(tx, &array, NULL, NULL, &err), E_INVALID);
  cr_expect(strstr(err.msg, "JSON object"), "%s", err.msg);
  struct store_job_new broken = {"k", "{\"a\":", NULL, NULL, 0, 0};
  cr_expect_eq(store_job_add(tx, &broken, NULL, NULL, &err), E_INVALID);
  struct store_job_new empty_key = {"k", NULL, "", NULL, 0, 0};
  cr_expect_eq(store_job_add(tx, &empty_key, NULL, NULL, &err), E_INVALID);
  store_rollback(tx);

  struct store_tx *rtx = NULL;
  cr_assert_eq(store_begin(st, STORE_READ, &rtx, &err), 0);
  struct store_job_new ok = {"k", NULL, NULL, NULL, 0, 0};
  cr_expect_eq(store_job_add(rtx, &ok, NULL, NULL, &err), E_INVALID, "a read cannot add");
  struct store_job j;
  cr_expect_eq(store_job_get(rtx, 12345, &j, &err), E_NOTFOUND);
  store_rollback(rtx);
}

Test(store_jobs, claims_take_due_jobs_earliest_first)
{
  int64_t later = add("k", NULL, NULL, 300);
  int64_t first = add("k", NULL, NULL, 100);
  add("k", NULL, NULL, 10000);
  cr_expect_eq(claim("w1", 50), 0, "nothing is due before 100");
  cr_expect_eq(claim("w1", 400), first);
  cr_expect_eq(claim("w1", 400), later);
  cr_expect_eq(claim("w1", 400), 0, "the third is not due yet");
}

Test(store_jobs, a_lost_lease_refuses_the_old_owners_finish)
{
  int64_t id = add("k", NULL, NULL, 100);
  cr_assert_eq(claim("w1", 100), id);
  cr_expect_eq(claim("w2", 500), 0, "the lease holds until 1100");
  cr_expect_eq(claim("w2", 1100), id, "a lease that ended is taken over");
  cr_expect_eq(finish(id, "w1", STORE_JOB_DONE, 0, 1200), E_CONFLICT,
               "the first owner lost it: its finish must not count");
  cr_expect_eq(finish(id, "w2", STORE_JOB_DONE, 0, 1200), 0);
  struct store_job j = get(id);
  cr_expect_eq(j.state, STORE_JOB_DONE);
  cr_expect_eq(j.attempts, 2);
  cr_expect_eq(j.finished_at, 1200);
  cr_expect_null(j.owner);
  store_job_release(&j);
  cr_expect_eq(finish(id, "w2", STORE_JOB_DONE, 0, 1300), E_CONFLICT, "done once only");
}

Test(store_jobs, renewing_keeps_the_lease_and_saving_keeps_progress)
{
  int64_t id = add("k", NULL, NULL, 100);
  cr_assert_eq(claim("w1", 100), id);
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  cr_assert_eq(store_job_renew(tx, id, "w1", 5000, &err), 0, "%s", err.msg);
  cr_assert_eq(store_job_save(tx, id, "w1", "{\"step\":3}", &err), 0, "%s", err.msg);
  cr_expect_eq(store_job_renew(tx, id, "w2", 9000, &err), E_CONFLICT, "not w2's to renew");
  commit(tx);
  cr_expect_eq(claim("w2", 2000), 0, "renewed until 5000");
  cr_expect_eq(claim("w2", 5000), id);
  struct store_job j = get(id);
  cr_expect_str_eq(j.saved, "{\"step\":3}", "the next attempt starts from the saved step");
  store_job_release(&j);
}

Test(store_jobs, a_lane_runs_one_job_at_a_time_in_order)
{
  int64_t a = add("k", NULL, "conv1/agentA", 200);
  int64_t b = add("k", NULL, "conv1/agentA", 100);
  int64_t other = add("k", NULL, "conv1/agentB", 150);
  cr_expect_eq(claim("w1", 300), other, "b waits behind a, which was added first");
  cr_expect_eq(claim("w1", 300), a);
  cr_expect_eq(claim("w1", 300), 0, "b waits while a runs");
  cr_assert_eq(finish(a, "w1", STORE_JOB_DONE, 0, 400), 0);
  cr_expect_eq(claim("w1", 400), b);
}

Test(store_jobs, a_retry_is_due_at_its_time_and_counts_attempts)
{
  int64_t id = add("k", NULL, NULL, 100);
  cr_assert_eq(claim("w1", 100), id);
  cr_assert_eq(finish(id, "w1", STORE_JOB_PENDING, 2000, 150), 0);
  struct store_job j = get(id);
  cr_expect_eq(j.state, STORE_JOB_PENDING);
  cr_expect_str_eq(j.error, "it broke");
  cr_expect_eq(j.finished_at, 0);
  store_job_release(&j);
  cr_expect_eq(claim("w1", 1999), 0);
  cr_expect_eq(claim("w1", 2000), id);
  j = get(id);
  cr_expect_eq(j.attempts, 2);
  store_job_release(&j);
}

Test(store_jobs, a_job_whose_runs_keep_dying_fails_after_its_attempts)
{
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  struct store_job_new n = {"k", NULL, NULL, NULL, 100, 2};
  int64_t id = 0;
  cr_assert_eq(store_job_add(tx, &n, &id, NULL, &err), 0, "%s", err.msg);
  commit(tx);
  cr_assert_eq(claim("w1", 100), id);
  cr_assert_eq(claim("w2", 1100), id, "the first run died");
  cr_expect_eq(claim("w3", 2100), 0, "the second died too: no third");
  struct store_job j = get(id);
  cr_expect_eq(j.state, STORE_JOB_FAILED);
  cr_expect(j.error && strstr(j.error, "2 attempts"), "%s", j.error ? j.error : "(none)");
  store_job_release(&j);
}

Test(store_jobs, cancelling_stops_a_job_and_refuses_a_finished_one)
{
  int64_t pending = add("k", NULL, NULL, 100);
  int64_t running = add("k", NULL, NULL, 100);
  int64_t done = add("k", NULL, NULL, 100);
  cr_assert_eq(claim("w1", 100), pending);
  cr_assert_eq(finish(pending, "w1", STORE_JOB_PENDING, 10000, 100), 0);
  cr_assert_eq(claim("w1", 100), running);
  cr_assert_eq(claim("w1", 100), done);
  cr_assert_eq(finish(done, "w1", STORE_JOB_DONE, 0, 100), 0);
  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  cr_expect_eq(store_job_cancel(tx, pending, 200, &err), 0, "%s", err.msg);
  cr_expect_eq(store_job_cancel(tx, running, 200, &err), 0, "%s", err.msg);
  cr_expect_eq(store_job_cancel(tx, done, 200, &err), E_CONFLICT);
  cr_expect(strstr(err.msg, "finished"), "%s", err.msg);
  cr_expect_eq(store_job_cancel(tx, 999999, 200, &err), E_NOTFOUND);
  commit(tx);
  cr_expect_eq(finish(running, "w1", STORE_JOB_DONE, 0, 300), E_CONFLICT,
               "a cancelled run cannot finish");
  cr_expect_eq(claim("w1", 20000), 0, "cancelled jobs are never due");
}

static int collect(void *arg, const struct store_job *j)
{
  int64_t *ids = arg;
  for (int i = 0; i < 8; i++)
    if (!ids[i]) {
      ids[i] = j->id;
      break;
    }
  return 0;
}

Test(store_jobs, lists_counts_and_pruning)
{
  int64_t a = add("k", NULL, NULL, 100);
  int64_t b = add("k", NULL, NULL, 100);
  int64_t c = add("k", NULL, NULL, 500);
  cr_assert_eq(claim("w1", 100), a);
  cr_assert_eq(finish(a, "w1", STORE_JOB_DONE, 0, 100), 0);
  cr_assert_eq(claim("w1", 100), b);

  struct store_tx *tx = begin();
  struct err err = ERR_INIT;
  int64_t counts[STORE_JOB_STATES], next = 0;
  cr_assert_eq(store_job_counts(tx, counts, &next, &err), 0, "%s", err.msg);
  cr_expect_eq(counts[STORE_JOB_PENDING], 1);
  cr_expect_eq(counts[STORE_JOB_RUNNING], 1);
  cr_expect_eq(counts[STORE_JOB_DONE], 1);
  cr_expect_eq(next, 500, "c at 500 comes before b's lease ends at 1100");

  int64_t all[8] = {0}, running[8] = {0}, older[8] = {0};
  cr_assert_eq(store_job_list(tx, -1, 0, 10, collect, all, &err), 0, "%s", err.msg);
  cr_expect(all[0] == c && all[1] == b && all[2] == a && !all[3], "newest first");
  cr_assert_eq(store_job_list(tx, STORE_JOB_RUNNING, 0, 10, collect, running, &err), 0);
  cr_expect(running[0] == b && !running[1]);
  cr_assert_eq(store_job_list(tx, -1, c, 1, collect, older, &err), 0);
  cr_expect(older[0] == b && !older[1], "a page after c");
  cr_expect_eq(store_job_list(tx, 9, 0, 10, collect, older, &err), E_INVALID);

  size_t deleted = 0;
  cr_assert_eq(store_job_prune(tx, 50, 0, &deleted, &err), 0, "%s", err.msg);
  cr_expect_eq(deleted, 0, "a finished at 100, after 50");
  cr_assert_eq(store_job_prune(tx, 101, 0, &deleted, &err), 0, "%s", err.msg);
  cr_expect_eq(deleted, 1, "only finished jobs go");
  commit(tx);
}

Test(store_jobs, jobs_outlive_the_process_that_added_them)
{
  int64_t id = add("k", "key1", NULL, 100);
  cr_assert_eq(claim("w1", 100), id);
  store_close(st);
  struct store_options o = {0};
  char path[4200];
  snprintf(path, sizeof path, "%s/test.db", dir);
  o.path = path;
  o.must_exist = 1;
  struct err err = ERR_INIT;
  st = NULL;
  cr_assert_eq(store_open(&o, &st, &err), 0, "%s", err.msg);
  cr_expect_eq(claim("w2", 1100), id, "the dead owner's lease ends and the job runs again");
}
