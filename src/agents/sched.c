/* sched: the scheduler (sched.h): one thread that claims jobs and keeps
 * their leases, and a pool of workers that run handlers.
 *
 * An attempt's life, with the function for each transition:
 *   claimed (claim_some: a batch in one lazy write; a claim lost to a power
 *   failure is only a job that is due again) -> queued for a worker (enqueue) ->
 *   running its handler (worker) -> [waiting elsewhere -> queued again
 *   (sched_post)]* -> ended (end_run, from sched_done, sched_retry,
 *   sched_fail), which frees a place and wakes the scheduler thread.
 * Invariants: every claimed attempt is in `inflight` until it ends, and
 * ends once; `running` is inflight's length; only the scheduler thread
 * claims and renews; sc->lock guards the lists, the queue and the flags. */
#include "agents/sched.h"
#include "util/clock.h"
#include "util/env.h"
#include "util/log.h"
#include "util/mem.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PRUNE_EVERY_MS (3600 * 1000)
#define KEEP_FINISHED_MS (7LL * 24 * 3600 * 1000)
#define MAX_HANDLERS 64

struct sched_run {
  struct sched *sc;
  struct store_job job;
  struct sched_run *prev, *next;   /* in sc->inflight */
  struct sched_run *qnext;         /* in the workers' queue */
  sched_fn post_fn;                /* what a worker runs next */
  void *post_arg;
};

struct handler {
  char kind[STORE_JOB_KIND_MAX];
  sched_fn fn;
  void *arg;
};

struct sched {
  struct store *s;
  struct sched_options o;
  char owner[128];
  struct handler handlers[MAX_HANDLERS];
  size_t nhandlers;
  pthread_mutex_t lock;
  pthread_cond_t wake;             /* the scheduler thread: kicked, a place freed, stop */
  pthread_cond_t work;             /* workers: the queue has work, or stop */
  pthread_cond_t idle;             /* the last attempt in flight ended */
  struct sched_run *inflight;
  unsigned running;
  struct sched_run *qhead, *qtail;
  int kicked, stopping, stopped, workers_stop, started;
  pthread_t thread;
  pthread_t *workers;
  unsigned nworkers;
  int64_t next_renew, next_prune;
  atomic_long claimed, done, retried, failed, lost;
};

static int64_t now_ms(void) { return (int64_t)clock_now_ms(); }

int sched_new(struct store *s, const struct sched_options *o, struct sched **out,
              struct err *err)
{
  struct sched *sc = one_calloc(1, sizeof *sc);
  if (!sc)
    return err_set(err, E_NOMEM, "out of memory");
  sc->s = s;
  if (o)
    sc->o = *o;
  if (!sc->o.workers)
    sc->o.workers = 2;
  if (!sc->o.max_running)
    sc->o.max_running = 2048;
  if (!sc->o.lease_ms)
    sc->o.lease_ms = env_int("ONE_JOB_LEASE_MS", 30000, 1, INT64_MAX);
  if (!sc->o.poll_ms)
    sc->o.poll_ms = 1000;
  if (!sc->o.retry_base_ms)
    sc->o.retry_base_ms = 1000;
  if (!sc->o.retry_max_ms)
    sc->o.retry_max_ms = 300000;
  if (sc->o.owner) {
    snprintf(sc->owner, sizeof sc->owner, "%s", sc->o.owner);
  } else {
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(sc->owner, sizeof sc->owner, "%s:%ld:%08x", host[0] ? host : "one", (long)getpid(),
             randombytes_random());
  }
  sc->o.owner = sc->owner;
  pthread_mutex_init(&sc->lock, NULL);
  pthread_cond_init(&sc->wake, NULL);
  pthread_cond_init(&sc->work, NULL);
  pthread_cond_init(&sc->idle, NULL);
  *out = sc;
  return 0;
}

int sched_on(struct sched *sc, const char *kind, sched_fn fn, void *arg, struct err *err)
{
  if (sc->started)
    return err_set(err, E_INVALID, "handlers are registered before the scheduler starts");
  if (!kind || !kind[0] || strlen(kind) >= STORE_JOB_KIND_MAX)
    return err_set(err, E_INVALID, "a job's kind must have 1 to %d characters",
                   STORE_JOB_KIND_MAX - 1);
  for (size_t i = 0; i < sc->nhandlers; i++)
    if (strcmp(sc->handlers[i].kind, kind) == 0)
      return err_set(err, E_CONFLICT, "jobs of kind '%s' have a handler already", kind);
  if (sc->nhandlers == MAX_HANDLERS)
    return err_set(err, E_TOOBIG, "at most %d kinds of job", MAX_HANDLERS);
  struct handler *h = &sc->handlers[sc->nhandlers++];
  snprintf(h->kind, sizeof h->kind, "%s", kind);
  h->fn = fn;
  h->arg = arg;
  return 0;
}

const char *sched_owner(const struct sched *sc) { return sc->owner; }

const struct store_job *sched_job(const struct sched_run *run) { return &run->job; }

void sched_stats(struct sched *sc, struct sched_stats *out)
{
  out->claimed = atomic_load(&sc->claimed);
  out->done = atomic_load(&sc->done);
  out->retried = atomic_load(&sc->retried);
  out->failed = atomic_load(&sc->failed);
  out->lost = atomic_load(&sc->lost);
  pthread_mutex_lock(&sc->lock);
  out->running = sc->running;
  pthread_mutex_unlock(&sc->lock);
}

void sched_kick(struct sched *sc)
{
  pthread_mutex_lock(&sc->lock);
  sc->kicked = 1;
  pthread_cond_signal(&sc->wake);
  pthread_mutex_unlock(&sc->lock);
}

/* --- the workers' queue --- */

static void enqueue(struct sched_run *run, sched_fn fn, void *arg)
{
  struct sched *sc = run->sc;
  run->post_fn = fn;
  run->post_arg = arg;
  run->qnext = NULL;
  pthread_mutex_lock(&sc->lock);
  int inline_run = sc->workers_stop; /* no worker left to run it */
  if (!inline_run) {
    if (sc->qtail)
      sc->qtail->qnext = run;
    else
      sc->qhead = run;
    sc->qtail = run;
    pthread_cond_signal(&sc->work);
  }
  pthread_mutex_unlock(&sc->lock);
  if (inline_run)
    fn(arg, run);
}

void sched_post(struct sched_run *run, sched_fn fn, void *arg) { enqueue(run, fn, arg); }

/* A claimed attempt's first step: its kind's handler. */
static void dispatch(void *arg, struct sched_run *run)
{
  (void)arg;
  struct sched *sc = run->sc;
  for (size_t i = 0; i < sc->nhandlers; i++)
    if (strcmp(sc->handlers[i].kind, run->job.kind) == 0) {
      sc->handlers[i].fn(sc->handlers[i].arg, run);
      return;
    }
  char why[160];
  snprintf(why, sizeof why, "no handler for jobs of kind '%s' in this process", run->job.kind);
  sched_retry(run, why, 0);
}

static void *worker(void *arg)
{
  struct sched *sc = arg;
  pthread_mutex_lock(&sc->lock);
  for (;;) {
    while (!sc->qhead && !sc->workers_stop)
      pthread_cond_wait(&sc->work, &sc->lock);
    if (!sc->qhead)
      break;
    struct sched_run *run = sc->qhead;
    sc->qhead = run->qnext;
    if (!sc->qhead)
      sc->qtail = NULL;
    pthread_mutex_unlock(&sc->lock);
    run->post_fn(run->post_arg, run);
    pthread_mutex_lock(&sc->lock);
  }
  pthread_mutex_unlock(&sc->lock);
  return NULL;
}

/* --- ending an attempt --- */

enum outcome { ENDED_DONE, ENDED_RETRY, ENDED_FAILED, ENDED_LOST };

static void end_run(struct sched_run *run, enum outcome how)
{
  struct sched *sc = run->sc;
  atomic_long *count = how == ENDED_DONE ? &sc->done : how == ENDED_RETRY ? &sc->retried
                       : how == ENDED_FAILED ? &sc->failed : &sc->lost;
  atomic_fetch_add(count, 1);
  pthread_mutex_lock(&sc->lock);
  if (run->prev)
    run->prev->next = run->next;
  else
    sc->inflight = run->next;
  if (run->next)
    run->next->prev = run->prev;
  sc->running--;
  sc->kicked = 1; /* a place is free, and the job's lane may be too */
  pthread_cond_signal(&sc->wake);
  if (!sc->running)
    pthread_cond_broadcast(&sc->idle);
  pthread_mutex_unlock(&sc->lock);
  store_job_release(&run->job);
  one_free(run);
}

struct finish_arg {
  struct sched_run *run;
  enum store_job_state state;
  const char *error;
  int64_t run_at;
  store_fn fn;
  void *fn_arg;
  int fn_failed;
};

static int finish_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct finish_arg *a = p;
  if (a->fn) {
    int rc = a->fn(tx, a->fn_arg, err);
    if (rc) {
      a->fn_failed = 1;
      return rc;
    }
  }
  return store_job_finish(tx, a->run->job.id, a->run->sc->owner, a->state, a->error, a->run_at,
                          now_ms(), err);
}

static void log_job(enum log_level level, const struct sched_run *run, const char *msg,
                    const char *why)
{
  if (!log_enabled(level))
    return;
  json_t *extra = json_pack("{s:I,s:s,s:i}", "job", (json_int_t)run->job.id, "kind",
                            run->job.kind, "attempt", run->job.attempts);
  if (extra && why)
    json_object_set_new(extra, "error", json_string(why));
  log_json(level, NULL, msg, extra);
  json_decref(extra);
}

/* Ends run in state (its own transaction); a lost lease ends it as lost. */
static void finish_as(struct sched_run *run, enum store_job_state state, const char *why,
                      int64_t at, enum outcome how)
{
  struct finish_arg a = {run, state, why, at, NULL, NULL, 0};
  struct err err = ERR_INIT;
  int rc = store_run(run->sc->s, state == STORE_JOB_PENDING ? STORE_WRITE_LAZY : STORE_WRITE,
                     finish_tx, &a, &err);
  if (rc) {
    log_job(rc == E_CONFLICT ? LOG_INFO : LOG_ERROR, run,
            rc == E_CONFLICT ? "job attempt lost its lease" : "cannot record a job's end",
            err.msg);
    how = ENDED_LOST; /* the lease ends and the job runs again */
  } else if (how == ENDED_FAILED) {
    log_job(LOG_WARN, run, "job failed", why);
  }
  err_clear(&err);
  end_run(run, how);
}

static int64_t backoff(const struct sched *sc, int attempt)
{
  int64_t d = sc->o.retry_base_ms;
  for (int i = 1; i < attempt && d < sc->o.retry_max_ms; i++)
    d *= 2;
  if (d > sc->o.retry_max_ms)
    d = sc->o.retry_max_ms;
  return d + (int64_t)randombytes_uniform((uint32_t)(d / 4 + 1));
}

void sched_retry(struct sched_run *run, const char *why, int64_t at_ms)
{
  if (run->job.attempts >= run->job.max_attempts) {
    char last[1100];
    snprintf(last, sizeof last, "%s (gave up after %d attempts)", why ? why : "failed",
             run->job.attempts);
    finish_as(run, STORE_JOB_FAILED, last, 0, ENDED_FAILED);
    return;
  }
  int64_t at = at_ms > 0 ? at_ms : now_ms() + backoff(run->sc, run->job.attempts);
  finish_as(run, STORE_JOB_PENDING, why, at, ENDED_RETRY);
}

void sched_fail(struct sched_run *run, const char *why)
{
  finish_as(run, STORE_JOB_FAILED, why ? why : "failed", 0, ENDED_FAILED);
}

static int done_as(struct sched_run *run, enum store_mode mode, store_fn fn, void *arg,
                   struct err *err)
{
  struct finish_arg a = {run, STORE_JOB_DONE, NULL, 0, fn, arg, 0};
  int rc = store_run(run->sc->s, mode, finish_tx, &a, err);
  if (!rc) {
    end_run(run, ENDED_DONE);
  } else if (a.fn_failed) {
    sched_retry(run, err->msg, 0);
  } else {
    log_job(rc == E_CONFLICT ? LOG_INFO : LOG_ERROR, run,
            rc == E_CONFLICT ? "job attempt lost its lease" : "cannot record a job's end",
            err->msg);
    end_run(run, ENDED_LOST);
  }
  return rc;
}

int sched_done(struct sched_run *run, store_fn fn, void *arg, struct err *err)
{
  return done_as(run, STORE_WRITE, fn, arg, err);
}

int sched_done_lazy(struct sched_run *run, store_fn fn, void *arg, struct err *err)
{
  return done_as(run, STORE_WRITE_LAZY, fn, arg, err);
}

/* run's copy of its progress becomes saved. */
static int keep_copy(struct sched_run *run, const char *saved, struct err *err)
{
  char *copy = saved ? one_strdup(saved) : NULL;
  if (saved && !copy)
    return err_set(err, E_NOMEM, "out of memory");
  one_free(run->job.saved);
  run->job.saved = copy;
  return 0;
}

int sched_save(struct store_tx *tx, struct sched_run *run, const char *saved,
               struct err *err)
{
  int rc = store_job_save(tx, run->job.id, run->sc->owner, saved, err);
  return rc ? rc : keep_copy(run, saved, err);
}


/* --- the scheduler thread --- */

#define CLAIM_BATCH 64

struct claim_arg {
  struct sched *sc;
  size_t room;                     /* claims this transaction may make */
  struct store_job jobs[CLAIM_BATCH];
  size_t n;
};

/* Claims up to a->room due jobs in one transaction. */
static int claim_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct claim_arg *a = p;
  int64_t now = now_ms();
  while (a->n < a->room) {
    int rc = store_job_claim(tx, now, now + a->sc->o.lease_ms, a->sc->owner, &a->jobs[a->n],
                             err);
    if (rc == E_NOTFOUND) {
      err_clear(err);
      return 0;
    }
    if (rc)
      return rc;
    a->n++;
  }
  return 0;
}

/* Claims due jobs (up to room, CLAIM_BATCH at most) in one lazy transaction
 * and queues them; returns how many. */
static size_t claim_some(struct sched *sc, size_t room)
{
  struct claim_arg *a = one_calloc(1, sizeof *a);
  if (!a)
    return 0;
  a->sc = sc;
  a->room = room < CLAIM_BATCH ? room : CLAIM_BATCH;
  struct err err = ERR_INIT;
  int rc = store_run(sc->s, STORE_WRITE_LAZY, claim_tx, a, &err);
  size_t got = rc ? 0 : a->n;
  if (rc) { /* rolled back: none of them is claimed */
    log_json(LOG_ERROR, NULL, "cannot claim jobs", NULL);
    for (size_t i = 0; i < a->n; i++)
      store_job_release(&a->jobs[i]);
  }
  err_clear(&err);
  for (size_t i = 0; i < got; i++) {
    struct sched_run *run = one_calloc(1, sizeof *run);
    if (!run) { /* its lease ends and it is claimed again */
      store_job_release(&a->jobs[i]);
      continue;
    }
    run->sc = sc;
    run->job = a->jobs[i];
    atomic_fetch_add(&sc->claimed, 1);
    pthread_mutex_lock(&sc->lock);
    run->next = sc->inflight;
    if (sc->inflight)
      sc->inflight->prev = run;
    sc->inflight = run;
    sc->running++;
    pthread_mutex_unlock(&sc->lock);
    enqueue(run, dispatch, NULL);
  }
  one_free(a);
  return got;
}

struct renew_arg {
  struct sched *sc;
  int64_t *ids;
  size_t n;
};

static int renew_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct renew_arg *a = p;
  int64_t until = now_ms() + a->sc->o.lease_ms;
  for (size_t i = 0; i < a->n; i++) {
    struct err e = ERR_INIT;
    int rc = store_job_renew(tx, a->ids[i], a->sc->owner, until, &e);
    err_clear(&e); /* a lost lease shows when the attempt ends */
    if (rc && rc != E_CONFLICT)
      return err_set(err, rc, "cannot renew the leases of running jobs");
  }
  return 0;
}

/* Moves the leases of every attempt in flight a whole lease ahead. */
static void renew_all(struct sched *sc)
{
  pthread_mutex_lock(&sc->lock);
  size_t n = sc->running, i = 0;
  int64_t *ids = n ? one_malloc(n * sizeof *ids) : NULL;
  for (struct sched_run *r = sc->inflight; ids && r && i < n; r = r->next)
    ids[i++] = r->job.id;
  pthread_mutex_unlock(&sc->lock);
  if (!ids)
    return;
  struct renew_arg a = {sc, ids, i};
  struct err err = ERR_INIT;
  if (store_run(sc->s, STORE_WRITE_LAZY, renew_tx, &a, &err))
    log_json(LOG_ERROR, NULL, "cannot renew the leases of running jobs", NULL);
  err_clear(&err);
  one_free(ids);
}

static int read_due_tx(struct store_tx *tx, void *p, struct err *err)
{
  return store_job_next_due(tx, p, err);
}

static int prune_tx(struct store_tx *tx, void *p, struct err *err)
{
  (void)p;
  return store_job_prune(tx, now_ms() - KEEP_FINISHED_MS, STORE_MAX_PAGE, NULL, err);
}

/* The housekeeping due now: lease renewals, pruning of old finished jobs. */
static void housekeeping(struct sched *sc)
{
  int64_t now = now_ms();
  if (now >= sc->next_renew) {
    renew_all(sc);
    sc->next_renew = now + sc->o.lease_ms / 3;
  }
  if (now >= sc->next_prune) {
    struct err err = ERR_INIT;
    store_run(sc->s, STORE_WRITE_LAZY, prune_tx, NULL, &err);
    err_clear(&err);
    sc->next_prune = now + PRUNE_EVERY_MS;
  }
}

static void *loop(void *arg)
{
  struct sched *sc = arg;
  pthread_mutex_lock(&sc->lock);
  while (!sc->stopping) {
    sc->kicked = 0;
    size_t room = sc->running < sc->o.max_running ? sc->o.max_running - sc->running : 0;
    int full = room == 0;
    pthread_mutex_unlock(&sc->lock);
    while (!full && claim_some(sc, room) == (room < CLAIM_BATCH ? room : CLAIM_BATCH)) {
      pthread_mutex_lock(&sc->lock); /* a whole batch: there may be more */
      room = sc->running < sc->o.max_running ? sc->o.max_running - sc->running : 0;
      full = room == 0 || sc->stopping;
      pthread_mutex_unlock(&sc->lock);
    }
    housekeeping(sc);
    int64_t now = now_ms(), due = 0;
    struct err err = ERR_INIT;
    if (!full)
      store_run(sc->s, STORE_READ, read_due_tx, &due, &err);
    err_clear(&err);
    /* wake for the next due job (one due already waits for its lane: a run's
     * end kicks), the next renewal, or a look at what others added */
    int64_t until = now + sc->o.poll_ms;
    if (due > now && due < until)
      until = due;
    if (sc->next_renew < until)
      until = sc->next_renew;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t wait = until > now ? until - now : 1;
    ts.tv_sec += (time_t)(wait / 1000);
    ts.tv_nsec += (long)(wait % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&sc->lock);
    while (!sc->kicked && !sc->stopping)
      if (pthread_cond_timedwait(&sc->wake, &sc->lock, &ts) != 0)
        break;
  }
  pthread_mutex_unlock(&sc->lock);
  return NULL;
}

static void kick_hook(void *arg) { sched_kick(arg); }

int sched_start(struct sched *sc, struct err *err)
{
  if (sc->started)
    return 0;
  sc->workers = one_calloc(sc->o.workers, sizeof *sc->workers);
  if (!sc->workers)
    return err_set(err, E_NOMEM, "out of memory");
  sc->started = 1;
  for (sc->nworkers = 0; sc->nworkers < sc->o.workers; sc->nworkers++)
    if (pthread_create(&sc->workers[sc->nworkers], NULL, worker, sc) != 0)
      break;
  if (sc->nworkers && pthread_create(&sc->thread, NULL, loop, sc) == 0) {
    store_on_jobs(sc->s, kick_hook, sc); /* a job added in this process: look at once */
    return 0;
  }
  sc->stopped = 1; /* no loop thread to join */
  sched_stop(sc, 0);
  return err_set(err, E_INTERNAL, "cannot start the scheduler's threads");
}

void sched_stop(struct sched *sc, int64_t wait_ms)
{
  if (!sc || !sc->started)
    return;
  pthread_mutex_lock(&sc->lock);
  int was_stopping = sc->stopping;
  sc->stopping = 1;
  pthread_cond_signal(&sc->wake);
  pthread_mutex_unlock(&sc->lock);
  if (was_stopping)
    return;
  store_on_jobs(sc->s, NULL, sc);
  if (!sc->stopped)
    pthread_join(sc->thread, NULL);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += (time_t)(wait_ms / 1000);
  ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&sc->lock);
  while (sc->running && pthread_cond_timedwait(&sc->idle, &sc->lock, &ts) == 0)
    ;
  sc->workers_stop = 1;
  pthread_cond_broadcast(&sc->work);
  pthread_mutex_unlock(&sc->lock);
  for (unsigned i = 0; i < sc->nworkers; i++)
    pthread_join(sc->workers[i], NULL);
}

void sched_free(struct sched *sc)
{
  if (!sc)
    return;
  sched_stop(sc, 0);
  /* attempts still in flight are left to their leases */
  while (sc->inflight) {
    struct sched_run *r = sc->inflight;
    sc->inflight = r->next;
    store_job_release(&r->job);
    one_free(r);
  }
  one_free(sc->workers);
  pthread_mutex_destroy(&sc->lock);
  pthread_cond_destroy(&sc->wake);
  pthread_cond_destroy(&sc->work);
  pthread_cond_destroy(&sc->idle);
  one_free(sc);
}
