/* Tests of the scheduler (agents/sched.c) on a real store: a job's writes
 * and its completion land together, retries back off and give up, delayed
 * jobs wait for their time, attempts that wait elsewhere hold no worker,
 * a lane's jobs never overlap, a stalled runner's late finish commits
 * nothing once another took its job over, and a job with no handler is
 * retried with the reason. No test asserts on how long anything took. */
#include "agents/sched.h"
#include "testutil.h"
#include "util/clock.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHEMA \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n" \
  "export default defineSchema({ notes: defineTable({ text: v.optional(v.string()), n: v.optional(v.number()) }) });\n"

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

TestSuite(sched, .init = setup, .fini = teardown, .timeout = 60);

static struct sched *start(struct sched_options *o, const char *kind, sched_fn fn, void *arg)
{
  struct sched *sc = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(sched_new(st, o, &sc, &err), 0, "%s", err.msg);
  if (kind)
    cr_assert_eq(sched_on(sc, kind, fn, arg, &err), 0, "%s", err.msg);
  cr_assert_eq(sched_start(sc, &err), 0, "%s", err.msg);
  return sc;
}

static int64_t add(struct sched *sc, const char *kind, const char *lane, int64_t run_at,
                   int max_attempts)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0, "%s", err.msg);
  struct store_job_new j = {kind, "{\"text\":\"hello\"}", NULL, lane, run_at, max_attempts};
  int64_t id = 0;
  cr_assert_eq(store_job_add(tx, &j, &id, NULL, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  if (sc)
    sched_kick(sc);
  return id;
}

static struct store_job job(int64_t id)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0, "%s", err.msg);
  struct store_job j;
  cr_assert_eq(store_job_get(tx, id, &j, &err), 0, "%s", err.msg);
  store_rollback(tx);
  return j;
}

/* Waits (up to 30 s, a guard against hanging, not a timing assertion) for
 * the job to reach a final state; returns it. */
static enum store_job_state wait_final(int64_t id)
{
  for (int i = 0; i < 3000; i++) {
    struct store_job j = job(id);
    enum store_job_state s = j.state;
    store_job_release(&j);
    if (s == STORE_JOB_DONE || s == STORE_JOB_FAILED || s == STORE_JOB_CANCELLED)
      return s;
    tu_sleep_ms(10);
  }
  cr_assert_fail("job %lld never finished", (long long)id);
  return STORE_JOB_PENDING;
}

static int64_t notes(void)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0, "%s", err.msg);
  int64_t n = 0;
  cr_assert_eq(store_count(tx, "notes", &n, &err), 0, "%s", err.msg);
  store_rollback(tx);
  return n;
}

/* A job's effect: a note with its arguments, written with its completion. */
static int write_note(struct store_tx *tx, void *arg, struct err *err)
{
  const struct store_job *j = arg;
  json_error_t je;
  json_t *fields = json_loads(j->args, 0, &je);
  int rc = store_insert(tx, "notes", fields, 0, NULL, err);
  json_decref(fields);
  return rc;
}

struct counter {
  atomic_int calls;
  int fail_first;          /* attempts that fail before one succeeds */
};

static void note_job(void *arg, struct sched_run *run)
{
  struct counter *c = arg;
  int n = atomic_fetch_add(&c->calls, 1) + 1;
  if (n <= c->fail_first) {
    sched_retry(run, "the model was busy", 0);
    return;
  }
  struct err err = ERR_INIT;
  sched_done(run, write_note, (void *)sched_job(run), &err);
  err_clear(&err);
}

Test(sched, a_job_writes_and_completes_together)
{
  struct counter c = {0};
  struct sched *sc = start(NULL, "note", note_job, &c);
  int64_t id = add(sc, "note", NULL, 0, 0);
  cr_expect_eq(wait_final(id), STORE_JOB_DONE);
  cr_expect_eq(notes(), 1);
  cr_expect_eq(atomic_load(&c.calls), 1);
  struct sched_stats s;
  sched_stats(sc, &s);
  cr_expect_eq(s.claimed, 1);
  cr_expect_eq(s.done, 1);
  sched_free(sc);
}

Test(sched, retries_back_off_then_succeed)
{
  struct counter c = {.fail_first = 2};
  struct sched_options o = {.retry_base_ms = 5, .retry_max_ms = 20};
  struct sched *sc = start(&o, "note", note_job, &c);
  int64_t id = add(sc, "note", NULL, 0, 0);
  cr_expect_eq(wait_final(id), STORE_JOB_DONE);
  struct store_job j = job(id);
  cr_expect_eq(j.attempts, 3);
  cr_expect_str_eq(j.error, "the model was busy", "the last error stays for people to see");
  store_job_release(&j);
  cr_expect_eq(notes(), 1, "failed attempts wrote nothing");
  sched_free(sc);
}

Test(sched, a_job_out_of_attempts_fails_with_its_reason)
{
  struct counter c = {.fail_first = 100};
  struct sched_options o = {.retry_base_ms = 2, .retry_max_ms = 5};
  struct sched *sc = start(&o, "note", note_job, &c);
  int64_t id = add(sc, "note", NULL, 0, 3);
  cr_expect_eq(wait_final(id), STORE_JOB_FAILED);
  struct store_job j = job(id);
  cr_expect_eq(j.attempts, 3);
  cr_expect(strstr(j.error, "the model was busy (gave up after 3 attempts)"), "%s", j.error);
  store_job_release(&j);
  cr_expect_eq(atomic_load(&c.calls), 3);
  sched_free(sc);
}

struct timed {
  atomic_llong started_at;
};

static void timed_job(void *arg, struct sched_run *run)
{
  struct timed *t = arg;
  atomic_store(&t->started_at, (long long)clock_now_ms());
  struct err err = ERR_INIT;
  sched_done(run, NULL, NULL, &err);
}

Test(sched, a_delayed_job_waits_for_its_time)
{
  struct timed t = {0};
  struct sched *sc = start(NULL, "later", timed_job, &t);
  int64_t at = (int64_t)clock_now_ms() + 300;
  int64_t id = add(sc, "later", NULL, at, 0);
  cr_expect_eq(wait_final(id), STORE_JOB_DONE);
  cr_expect_geq(atomic_load(&t.started_at), at, "it ran before its time");
  sched_free(sc);
}

/* An attempt that waits on another thread (as a model call does), then
 * goes on on a worker. */
struct waiting {
  struct sched_run *run;
  pthread_t thread;
};

static void go_on(void *arg, struct sched_run *run)
{
  (void)arg;
  struct err err = ERR_INIT;
  sched_done(run, write_note, (void *)sched_job(run), &err);
}

static void *elsewhere(void *arg)
{
  struct waiting *w = arg;
  tu_sleep_ms(50);
  sched_post(w->run, go_on, w);
  return NULL;
}

static void async_job(void *arg, struct sched_run *run)
{
  struct waiting *w = arg;
  w->run = run;
  pthread_create(&w->thread, NULL, elsewhere, w); /* and return: no worker waits */
}

Test(sched, an_attempt_that_waits_elsewhere_holds_no_worker)
{
  struct waiting w[3];
  memset(w, 0, sizeof w);
  struct sched_options o = {.workers = 1};
  struct sched *sc = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(sched_new(st, &o, &sc, &err), 0);
  cr_assert_eq(sched_on(sc, "a0", async_job, &w[0], &err), 0);
  cr_assert_eq(sched_on(sc, "a1", async_job, &w[1], &err), 0);
  cr_assert_eq(sched_on(sc, "a2", async_job, &w[2], &err), 0);
  cr_expect_eq(sched_on(sc, "a2", async_job, &w[2], &err), E_CONFLICT);
  cr_assert_eq(sched_start(sc, &err), 0);
  int64_t ids[3] = {add(sc, "a0", NULL, 0, 0), add(sc, "a1", NULL, 0, 0),
                    add(sc, "a2", NULL, 0, 0)};
  for (int i = 0; i < 3; i++)
    cr_expect_eq(wait_final(ids[i]), STORE_JOB_DONE);
  for (int i = 0; i < 3; i++)
    pthread_join(w[i].thread, NULL);
  cr_expect_eq(notes(), 3, "three waits on one worker");
  sched_free(sc);
}

struct lane_probe {
  atomic_int inside, most, order_ok;
  atomic_int next;           /* the job number expected next */
};

static void lane_job(void *arg, struct sched_run *run)
{
  struct lane_probe *p = arg;
  int now_inside = atomic_fetch_add(&p->inside, 1) + 1;
  int most = atomic_load(&p->most);
  while (now_inside > most && !atomic_compare_exchange_weak(&p->most, &most, now_inside))
    ;
  json_error_t je;
  json_t *args = json_loads(sched_job(run)->args, 0, &je);
  int n = (int)json_integer_value(json_object_get(args, "n"));
  json_decref(args);
  if (atomic_fetch_add(&p->next, 1) != n)
    atomic_store(&p->order_ok, 0);
  tu_sleep_ms(5); /* long enough for a second worker to try to overlap */
  atomic_fetch_sub(&p->inside, 1);
  struct err err = ERR_INIT;
  sched_done(run, NULL, NULL, &err);
}

Test(sched, a_lanes_jobs_never_overlap_and_keep_their_order)
{
  struct lane_probe p = {0};
  atomic_store(&p.order_ok, 1);
  struct sched_options o = {.workers = 4};
  struct sched *sc = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(sched_new(st, &o, &sc, &err), 0);
  cr_assert_eq(sched_on(sc, "lane", lane_job, &p, &err), 0);
  int64_t ids[8];
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  for (int i = 0; i < 8; i++) {
    char args[32];
    snprintf(args, sizeof args, "{\"n\":%d}", i);
    struct store_job_new j = {"lane", args, NULL, "conv1/writer", 0, 0};
    cr_assert_eq(store_job_add(tx, &j, &ids[i], NULL, &err), 0, "%s", err.msg);
  }
  cr_assert_eq(store_commit(tx, &err), 0);
  cr_assert_eq(sched_start(sc, &err), 0);
  for (int i = 0; i < 8; i++)
    cr_expect_eq(wait_final(ids[i]), STORE_JOB_DONE);
  cr_expect_eq(atomic_load(&p.most), 1, "two runs of one lane overlapped");
  cr_expect(atomic_load(&p.order_ok), "a lane's jobs ran out of order");
  sched_free(sc);
}

/* The first runner stalls past its lease; a second takes the job over and
 * completes it; the first's late completion must commit nothing. */
struct stall {
  struct sched_run *held;
  atomic_int got;
};

static void stall_job(void *arg, struct sched_run *run)
{
  struct stall *s = arg;
  s->held = run;
  atomic_store(&s->got, 1);
}

Test(sched, a_stalled_runners_late_finish_commits_nothing)
{
  struct stall s = {0};
  struct sched_options oa = {.lease_ms = 200, .owner = "runner-a"};
  struct sched *a = start(&oa, "note", stall_job, &s);
  int64_t id = add(a, "note", NULL, 0, 0);
  while (!atomic_load(&s.got))
    tu_sleep_ms(5);
  sched_stop(a, 0); /* a stalls: it renews nothing from now on */

  struct counter c = {0};
  struct sched_options ob = {.lease_ms = 200, .owner = "runner-b"};
  struct sched *b = start(&ob, "note", note_job, &c);
  cr_expect_eq(wait_final(id), STORE_JOB_DONE);
  cr_expect_eq(notes(), 1);

  struct err err = ERR_INIT;
  cr_expect_eq(sched_done(s.held, write_note, (void *)sched_job(s.held), &err), E_CONFLICT);
  cr_expect_eq(notes(), 1, "the late finish wrote its note too");
  struct sched_stats st_a;
  sched_stats(a, &st_a);
  cr_expect_eq(st_a.lost, 1);
  cr_expect_eq(st_a.running, 0);
  sched_free(b);
  sched_free(a);
}

Test(sched, a_job_with_no_handler_is_retried_with_the_reason)
{
  struct sched_options o = {.retry_base_ms = 60000};
  struct sched *sc = start(&o, NULL, NULL, NULL);
  int64_t id = add(sc, "unknown.kind", NULL, 0, 0);
  struct store_job j = {0};
  for (int i = 0; i < 3000; i++) {
    j = job(id);
    if (j.attempts == 1 && j.state == STORE_JOB_PENDING)
      break;
    store_job_release(&j);
    tu_sleep_ms(10);
  }
  cr_expect_eq(j.state, STORE_JOB_PENDING);
  cr_expect(j.error && strstr(j.error, "no handler for jobs of kind 'unknown.kind'"), "%s",
            j.error ? j.error : "(none)");
  cr_expect_gt(j.run_at, (int64_t)clock_now_ms(), "the retry waits for its back-off");
  store_job_release(&j);
  sched_free(sc);
}
