/* sched: the scheduler, which runs the store's durable jobs (store.h,
 * "jobs") in this process: agent replies, scheduled tasks, reminders, and
 * migrations' background work.
 *
 * A thread claims due jobs under a lease, renews the leases of the attempts
 * in flight, and hands each attempt to the handler registered for its kind
 * on a small pool of worker threads. An attempt (struct sched_run) ends with
 * exactly one of sched_done, sched_retry or sched_fail, called by the
 * handler before it returns or later from any thread: an attempt that waits
 * on the network (a model call) holds no thread while it waits, and goes on
 * on a worker with sched_post.
 *
 * sched_done commits the handler's own writes and the job's completion in
 * one transaction; when the lease was lost meanwhile (this process stalled
 * past it and another took the job over) neither commits. So a job's effects
 * land once however often processes die: after a crash the lease ends and
 * the job runs again, from the progress it saved with sched_save.
 *
 * Retries back off: base * 2^(attempt-1), at most retry_max, plus up to a
 * quarter more at random; a job out of attempts fails for good.
 *
 * Threads: sched_on before sched_start; the rest from any thread. Whoever
 * starts attempts that outlive the handler's return must end them before
 * sched_stop returns (sched_stop waits for them up to its limit). */
#ifndef ONE_AGENTS_SCHED_H
#define ONE_AGENTS_SCHED_H

#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

struct sched;
struct sched_run;

/* A job's handler: runs on a worker thread; must end run, now or later. */
typedef void (*sched_fn)(void *arg, struct sched_run *run);

struct sched_options {
  const char *owner;      /* this process's name on leases; NULL: host:pid:random */
  unsigned workers;       /* handler threads; 0: 2 */
  unsigned max_running;   /* attempts in flight at once; 0: 2048 */
  int64_t lease_ms;       /* 0: ONE_JOB_LEASE_MS or 30,000 */
  int64_t poll_ms;        /* how often to look for jobs other processes add; 0: 1,000 */
  int64_t retry_base_ms;  /* 0: 1,000 */
  int64_t retry_max_ms;   /* 0: 300,000 */
};

struct sched_stats {
  long claimed, done, retried, failed, lost; /* attempts since start, by how they ended */
  unsigned running;                          /* attempts in flight now */
};

int sched_new(struct store *s, const struct sched_options *o, struct sched **out,
              struct err *err);
/* Registers fn for jobs of kind (before sched_start). E_CONFLICT when kind
 * has a handler already. */
int sched_on(struct sched *sc, const char *kind, sched_fn fn, void *arg, struct err *err);
int sched_start(struct sched *sc, struct err *err);
/* Looks for due jobs now: call after committing a job that is due. */
void sched_kick(struct sched *sc);
/* Stops claiming and waits up to wait_ms for the attempts in flight; those
 * still running after it are left to their leases (another start takes them
 * over). Idempotent. */
void sched_stop(struct sched *sc, int64_t wait_ms);
void sched_free(struct sched *sc); /* stops first; accepts NULL */
void sched_stats(struct sched *sc, struct sched_stats *out);
const char *sched_owner(const struct sched *sc);

/* --- an attempt --- */

/* The job as claimed (borrowed for the life of run). */
const struct store_job *sched_job(const struct sched_run *run);
/* Keeps saved as the job's progress for a later attempt, inside the
 * caller's write transaction tx with its other writes (run's copy of the
 * job is updated when it returns 0: call it last). E_CONFLICT when the
 * lease is lost: end the run then. */
int sched_save(struct store_tx *tx, struct sched_run *run, const char *saved, struct err *err);
/* Ends run: fn (may be NULL) and the job's completion in one write
 * transaction. fn's error rolls both back and retries the job (the error
 * kept as its reason); E_CONFLICT when the lease was lost (nothing commits). */
int sched_done(struct sched_run *run, store_fn fn, void *arg, struct err *err);
/* sched_done committed without a sync: for a job whose effects are only
 * other jobs (a crash of the process keeps it; after a power failure the
 * job runs again and its effects, keyed, are not doubled). */
int sched_done_lazy(struct sched_run *run, store_fn fn, void *arg, struct err *err);
/* Ends run: the job runs again at at_ms (0: after the back-off) with why
 * as its last error, or fails for good when out of attempts. */
void sched_retry(struct sched_run *run, const char *why, int64_t at_ms);
/* Ends run: the job fails for good with why. */
void sched_fail(struct sched_run *run, const char *why);
/* Runs fn(arg, run) on a worker thread: how an attempt that waited on
 * something goes on. */
void sched_post(struct sched_run *run, sched_fn fn, void *arg);

#endif
