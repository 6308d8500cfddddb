/* store_group: group commit, for a server's many concurrent writers.
 *
 * Each write of store_run is queued. The first writer to find no group
 * running becomes the leader: it takes what is queued (up to GROUP_MAX) and
 * runs it in one transaction, each job inside a savepoint of its own, then
 * commits once, so that one sync of the log makes every job of the group
 * durable. Then it wakes the group's writers, and a waiting writer leads
 * the next group. The jobs run in queue order: the group writes what the
 * same transactions would write one after another.
 *
 * Each writer gets its own result. A job whose fn fails has its writes
 * taken back (ROLLBACK TO its savepoint), with the transaction's own
 * bookkeeping: the changes it recorded, a failed write, its origin, a
 * schema it put in force. A commit that fails, or a savepoint that cannot
 * be set or undone, fails every job of the group that had not failed. */
#include "store/store_int.h"

#include <string.h>

#define GROUP_MAX 128

struct group_job {
  store_fn fn;
  void *arg;
  struct err *err;
  int rc;
  int done;                 /* set under group_lock: the writer may return */
  pthread_cond_t wake;      /* its writer waits here */
  struct group_job *next;
};

/* Runs j in tx, inside a savepoint when the group has more than one job.
 * Returns nonzero when the transaction is broken (fatal says why). */
static int run_job(struct store_tx *tx, struct group_job *j, int origin, int alone,
                   struct err *fatal)
{
  const struct backend *be = tx->s->be;
  tx->origin = origin;
  if (alone) {
    j->rc = j->fn(tx, j->arg, j->err);
    if (j->rc == 0 && tx->failed)
      j->rc = err_set(j->err, E_STORE, "the transaction failed part-way and was rolled back");
    return 0;
  }
  if (be->savepoint(tx->c, SP_MARK, fatal))
    return 1;
  size_t nchanges = tx->nchanges;
  struct sstate *state = tx->state;
  atomic_fetch_add(&state->refs, 1);
  j->rc = j->fn(tx, j->arg, j->err);
  if (j->rc == 0 && tx->failed)
    j->rc = err_set(j->err, E_STORE, "the transaction failed part-way and was rolled back");
  int broken = be->savepoint(tx->c, j->rc ? SP_UNDO : SP_KEEP, fatal) != 0;
  if (j->rc && !broken) {
    tx->nchanges = nchanges;
    tx->failed = 0;
    if (tx->state != state) { /* the job put a schema in force: back to ours */
      state_unref(tx->state);
      tx->state = state;
      state = NULL;
    }
  }
  state_unref(state);
  return broken;
}

/* Runs the n jobs from head in one transaction and commits it. */
static void run_group(struct store *s, struct group_job *head, size_t n)
{
  struct err fatal = ERR_INIT;
  struct store_tx *tx = NULL;
  int broken = store_begin(s, STORE_WRITE, &tx, &fatal) != 0;
  int origin = tx ? tx->origin : 0;
  struct group_job *j = head;
  for (size_t i = 0; i < n && !broken; i++, j = j->next)
    broken = run_job(tx, j, origin, n == 1, &fatal);
  if (broken) {
    store_rollback(tx);
  } else if (n == 1 && head->rc) {
    store_rollback(tx); /* alone, as store_run does it */
  } else {
    broken = store_commit(tx, &fatal) != 0;
    if (!broken && n > 1)
      atomic_fetch_add(&s->grouped, (long)n);
  }
  if (broken) {
    j = head;
    for (size_t i = 0; i < n; i++, j = j->next)
      if (j->rc == 0)
        j->rc = err_set(j->err, fatal.code ? fatal.code : E_STORE, "%s",
                        fatal.msg[0] ? fatal.msg : "the write could not be committed");
  }
  err_clear(&fatal);
}

int group_run(struct store *s, store_fn fn, void *arg, struct err *err)
{
  struct group_job me = {.fn = fn, .arg = arg, .err = err};
  pthread_cond_init(&me.wake, NULL);
  pthread_mutex_lock(&s->group_lock);
  if (s->queue_tail)
    s->queue_tail->next = &me;
  else
    s->queue = &me;
  s->queue_tail = &me;
  s->queued++;
  while (!me.done) {
    if (s->leading) { /* woken when done, or when at the head with no leader */
      pthread_cond_wait(&me.wake, &s->group_lock);
      continue;
    }
    s->leading = 1; /* not done and no leader: this job is still queued */
    struct group_job *head = s->queue, *last = head;
    size_t n = 1;
    while (n < GROUP_MAX && last->next) {
      last = last->next;
      n++;
    }
    s->queue = last->next;
    if (!s->queue)
      s->queue_tail = NULL;
    last->next = NULL;
    s->queued -= n;
    pthread_mutex_unlock(&s->group_lock);
    run_group(s, head, n);
    pthread_mutex_lock(&s->group_lock);
    /* wake each writer of the group, not every waiting thread */
    for (struct group_job *j = head, *next; j; j = next) {
      next = j->next; /* a job marked done may be gone once the lock is let go */
      j->done = 1;
      pthread_cond_signal(&j->wake);
    }
    s->leading = 0;
    if (s->queue) /* the next group's leader */
      pthread_cond_signal(&s->queue->wake);
  }
  pthread_mutex_unlock(&s->group_lock);
  pthread_cond_destroy(&me.wake);
  return me.rc;
}

void store_stats(struct store *s, struct store_stats *out)
{
  memset(out, 0, sizeof *out);
  out->commits = atomic_load(&s->commits);
  out->grouped = atomic_load(&s->grouped);
  pthread_mutex_lock(&s->group_lock);
  out->waiting = s->queued;
  pthread_mutex_unlock(&s->group_lock);
}
