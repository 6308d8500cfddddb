/* store_jobs: the job queue's store functions (store.h, "jobs"): they check
 * their arguments and the transaction, then call the backend's queue. The
 * rules (leases, lanes, keys) are stated in store.h. */
#include "store/store_int.h"
#include "util/clock.h"
#include "util/mem.h"

#include <string.h>

static const char *const state_names[STORE_JOB_STATES] = {"pending", "running", "done", "failed",
                                                          "cancelled"};

const char *store_job_state_name(enum store_job_state state)
{
  return (unsigned)state < STORE_JOB_STATES ? state_names[state] : "unknown";
}

static int need_write(struct store_tx *tx, const char *fn, struct err *err)
{
  return tx->write ? 0 : err_set(err, E_INVALID, "%s needs a write transaction", fn);
}

static int check_owner(const char *owner, struct err *err)
{
  return owner && owner[0] ? 0 : err_set(err, E_INVALID, "a job's owner must be named");
}

int store_job_add(struct store_tx *tx, const struct store_job_new *j, int64_t *id, int *added,
                  struct err *err)
{
  int rc = need_write(tx, "store_job_add", err);
  if (rc)
    return rc;
  size_t klen = j->kind ? strlen(j->kind) : 0;
  if (klen == 0 || klen >= STORE_JOB_KIND_MAX)
    return err_set(err, E_INVALID, "a job's kind must have 1 to %d characters",
                   STORE_JOB_KIND_MAX - 1);
  if ((j->key && (!j->key[0] || strlen(j->key) >= STORE_JOB_KEY_MAX)) ||
      (j->lane && (!j->lane[0] || strlen(j->lane) >= STORE_JOB_KEY_MAX)))
    return err_set(err, E_INVALID, "a job's key and lane must have 1 to %d characters",
                   STORE_JOB_KEY_MAX - 1);
  if (j->args) {
    size_t alen = strlen(j->args);
    if (alen > STORE_JOB_ARGS_MAX)
      return err_set(err, E_TOOBIG, "a job's arguments may take %d bytes at most",
                     STORE_JOB_ARGS_MAX);
    json_error_t je;
    json_t *v = json_loadb(j->args, alen, 0, &je);
    int object = json_is_object(v);
    json_decref(v);
    if (!object)
      return err_set(err, E_INVALID, "a job's arguments must be a JSON object");
  }
  if (j->run_at < 0 || j->max_attempts < 0)
    return err_set(err, E_INVALID, "a job's run_at and max_attempts cannot be negative");
  struct store_job_new n = *j;
  if (!n.max_attempts)
    n.max_attempts = 5;
  int64_t got = 0;
  int was_added = 0;
  rc = tx->s->be->jobs->add(tx->c, &n, (int64_t)(clock_now_ms()), &got, &was_added, err);
  if (rc)
    return rc;
  tx->jobs_added |= was_added;
  if (id)
    *id = got;
  if (added)
    *added = was_added;
  return 0;
}

int store_job_claim(struct store_tx *tx, int64_t now, int64_t lease_until, const char *owner,
                    struct store_job *out, struct err *err)
{
  int rc = need_write(tx, "store_job_claim", err);
  if (!rc)
    rc = check_owner(owner, err);
  if (rc)
    return rc;
  if (lease_until <= now)
    return err_set(err, E_INVALID, "a lease must end after it starts");
  for (;;) {
    rc = tx->s->be->jobs->claim(tx->c, now, lease_until, owner, out, err);
    if (rc || out->attempts <= out->max_attempts)
      return rc;
    /* its runs died max_attempts times (each claim that never finished) */
    char why[200];
    snprintf(why, sizeof why, "gave up after %d attempts that did not finish (the process "
             "running each stopped before it ended)", out->max_attempts);
    rc = tx->s->be->jobs->finish(tx->c, out->id, owner, STORE_JOB_FAILED, why, out->run_at, now,
                                 err);
    store_job_release(out);
    if (rc)
      return rc;
  }
}

int store_job_renew(struct store_tx *tx, int64_t id, const char *owner, int64_t lease_until,
                    struct err *err)
{
  int rc = need_write(tx, "store_job_renew", err);
  if (!rc)
    rc = check_owner(owner, err);
  return rc ? rc : tx->s->be->jobs->renew(tx->c, id, owner, lease_until, err);
}

int store_job_save(struct store_tx *tx, int64_t id, const char *owner, const char *saved,
                   struct err *err)
{
  int rc = need_write(tx, "store_job_save", err);
  if (!rc)
    rc = check_owner(owner, err);
  if (!rc && saved && strlen(saved) > STORE_JOB_ARGS_MAX)
    rc = err_set(err, E_TOOBIG, "a job's saved progress may take %d bytes at most",
                 STORE_JOB_ARGS_MAX);
  return rc ? rc : tx->s->be->jobs->save(tx->c, id, owner, saved, err);
}

int store_job_finish(struct store_tx *tx, int64_t id, const char *owner,
                     enum store_job_state state, const char *error, int64_t run_at, int64_t now,
                     struct err *err)
{
  int rc = need_write(tx, "store_job_finish", err);
  if (!rc)
    rc = check_owner(owner, err);
  if (rc)
    return rc;
  if (state != STORE_JOB_DONE && state != STORE_JOB_FAILED && state != STORE_JOB_PENDING)
    return err_set(err, E_INVALID, "a job finishes done, failed, or pending again (a retry)");
  char cut[1024];
  if (error && strlen(error) >= sizeof cut) { /* the last error is for people: keep it short */
    snprintf(cut, sizeof cut, "%.*s...", (int)sizeof cut - 4, error);
    error = cut;
  }
  return tx->s->be->jobs->finish(tx->c, id, owner, (int)state, error,
                                 state == STORE_JOB_PENDING ? run_at : 0, now, err);
}

int store_job_cancel(struct store_tx *tx, int64_t id, int64_t now, struct err *err)
{
  int rc = need_write(tx, "store_job_cancel", err);
  return rc ? rc : tx->s->be->jobs->cancel(tx->c, id, now, err);
}

int store_job_get(struct store_tx *tx, int64_t id, struct store_job *out, struct err *err)
{
  return tx->s->be->jobs->get(tx->c, id, out, err);
}

int store_job_list(struct store_tx *tx, int state, int64_t before, size_t limit,
                   store_job_fn fn, void *arg, struct err *err)
{
  if (state < -1 || state >= STORE_JOB_STATES)
    return err_set(err, E_INVALID, "no job state has number %d", state);
  if (limit == 0 || limit > STORE_MAX_PAGE)
    return err_set(err, E_INVALID, "a page of jobs holds 1 to %d", STORE_MAX_PAGE);
  return tx->s->be->jobs->list(tx->c, state, before, limit, fn, arg, err);
}

int store_job_counts(struct store_tx *tx, int64_t counts[STORE_JOB_STATES], int64_t *next_due,
                     struct err *err)
{
  int64_t due = 0;
  int rc = tx->s->be->jobs->counts(tx->c, counts, &due, err);
  if (!rc && next_due)
    *next_due = due;
  return rc;
}

int store_job_next_due(struct store_tx *tx, int64_t *next_due, struct err *err)
{
  return tx->s->be->jobs->next_due(tx->c, next_due, err);
}

int store_job_prune(struct store_tx *tx, int64_t before, size_t limit, size_t *deleted,
                    struct err *err)
{
  int rc = need_write(tx, "store_job_prune", err);
  size_t n = 0;
  if (!rc)
    rc = tx->s->be->jobs->prune(tx->c, before, limit ? limit : STORE_MAX_PAGE, &n, err);
  if (deleted)
    *deleted = n;
  return rc;
}

void store_job_release(struct store_job *j)
{
  if (!j)
    return;
  one_free(j->key);
  one_free(j->lane);
  one_free(j->args);
  one_free(j->saved);
  one_free(j->error);
  one_free(j->owner);
  j->key = j->lane = j->args = j->saved = j->error = j->owner = NULL;
}
