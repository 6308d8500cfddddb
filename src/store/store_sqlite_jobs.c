/* store_sqlite_jobs: the job queue of the SQLite backend, in one_jobs.
 *
 * A job's run_at is when it is next due: for a PENDING job when it may
 * start, for a RUNNING one when its lease ends. So one partial index on
 * run_at (state < 2) finds both the jobs to start and the ones whose owner
 * died, and a claim is one UPDATE ... RETURNING of the earliest of them
 * whose lane has no unfinished job before it. The statements are prepared
 * on a connection's first use of the queue. */
#include "store/store_sqlite_int.h"
#include "util/mem.h"

#include <string.h>

#define COLS "id, kind, key, lane, args, saved, error, owner, state, run_at, created_at," \
             " finished_at, attempts, max_attempts"

enum {
  J_ADD, J_BY_KEY, J_CLAIM, J_RENEW, J_SAVE, J_FINISH, J_CANCEL, J_GET, J_LIST_ALL, J_LIST_STATE,
  J_COUNTS, J_NEXT, J_PRUNE, J_COUNT_STMTS
};

static const char *const sql[J_COUNT_STMTS] = {
  [J_ADD] = "INSERT INTO one_jobs(kind, key, lane, args, state, run_at, max_attempts, created_at)"
            " VALUES(?1, ?2, ?3, ?4, 0, ?5, ?6, ?7) ON CONFLICT(key) DO NOTHING",
  [J_BY_KEY] = "SELECT id FROM one_jobs WHERE key = ?1",
  [J_CLAIM] = "UPDATE one_jobs SET state = 1, attempts = attempts + 1, owner = ?3, run_at = ?2"
              " WHERE id = (SELECT id FROM one_jobs j WHERE state < 2 AND run_at <= ?1"
              "   AND (lane IS NULL OR NOT EXISTS (SELECT 1 FROM one_jobs p WHERE p.lane = j.lane"
              "        AND p.state < 2 AND p.id < j.id))"
              "   ORDER BY run_at, id LIMIT 1)"
              " RETURNING " COLS,
  [J_RENEW] = "UPDATE one_jobs SET run_at = ?3 WHERE id = ?1 AND owner = ?2 AND state = 1",
  [J_SAVE] = "UPDATE one_jobs SET saved = ?3 WHERE id = ?1 AND owner = ?2 AND state = 1",
  /* a job that is over keeps no progress: its row shrinks to what the list shows */
  [J_FINISH] = "UPDATE one_jobs SET state = ?3, error = coalesce(?4, error), run_at = ?5,"
               " owner = NULL, saved = CASE WHEN ?3 IN (2, 3) THEN NULL ELSE saved END,"
               " finished_at = CASE WHEN ?3 IN (2, 3) THEN ?6 ELSE 0 END"
               " WHERE id = ?1 AND owner = ?2 AND state = 1",
  [J_CANCEL] = "UPDATE one_jobs SET state = 4, finished_at = ?2, owner = NULL"
               " WHERE id = ?1 AND state < 2",
  [J_GET] = "SELECT " COLS " FROM one_jobs WHERE id = ?1",
  [J_LIST_ALL] = "SELECT " COLS " FROM one_jobs WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
  [J_LIST_STATE] = "SELECT " COLS " FROM one_jobs WHERE state = ?3 AND id < ?1"
                   " ORDER BY id DESC LIMIT ?2",
  [J_COUNTS] = "SELECT state, count(*) FROM one_jobs GROUP BY state",
  [J_NEXT] = "SELECT coalesce(min(run_at), 0) FROM one_jobs WHERE state < 2",
  [J_PRUNE] = "DELETE FROM one_jobs WHERE id IN (SELECT id FROM one_jobs"
              " WHERE state IN (2, 4) AND finished_at < ?1 LIMIT ?2)",
};

struct sq_jobs {
  sqlite3_stmt *st[J_COUNT_STMTS];
};

void sq_jobs_free(struct sq_jobs *j)
{
  if (!j)
    return;
  for (int i = 0; i < J_COUNT_STMTS; i++)
    sqlite3_finalize(j->st[i]);
  one_free(j);
}

/* The statement `which`, reset and unbound, prepared when first asked for;
 * NULL with err set when it cannot be. */
static sqlite3_stmt *jstmt(struct conn *c, int which, struct err *err)
{
  struct sq_jobs **slot = sq_jobs_slot(c);
  if (!*slot) {
    *slot = one_calloc(1, sizeof **slot);
    if (!*slot) {
      err_set(err, E_NOMEM, "out of memory");
      return NULL;
    }
  }
  return sq_stmt(c, &(*slot)->st[which], sql[which], "cannot prepare the job queue's statements", err);
}

static void bind_opt(sqlite3_stmt *s, int i, const char *text)
{
  if (text)
    sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

static char *column_dup(sqlite3_stmt *s, int i)
{
  const unsigned char *t = sqlite3_column_text(s, i);
  return t ? one_strdup((const char *)t) : NULL;
}

/* A row of COLS into *out (its strings new); E_NOMEM leaves *out released. */
static int read_job(sqlite3_stmt *s, struct store_job *out, struct err *err)
{
  memset(out, 0, sizeof *out);
  out->id = sqlite3_column_int64(s, 0);
  const unsigned char *kind = sqlite3_column_text(s, 1);
  snprintf(out->kind, sizeof out->kind, "%s", kind ? (const char *)kind : "");
  out->key = column_dup(s, 2);
  out->lane = column_dup(s, 3);
  out->args = column_dup(s, 4);
  out->saved = column_dup(s, 5);
  out->error = column_dup(s, 6);
  out->owner = column_dup(s, 7);
  out->state = (enum store_job_state)sqlite3_column_int(s, 8);
  out->run_at = sqlite3_column_int64(s, 9);
  out->created_at = sqlite3_column_int64(s, 10);
  out->finished_at = sqlite3_column_int64(s, 11);
  out->attempts = sqlite3_column_int(s, 12);
  out->max_attempts = sqlite3_column_int(s, 13);
  if (!out->args || (sqlite3_column_type(s, 2) != SQLITE_NULL && !out->key) ||
      (sqlite3_column_type(s, 3) != SQLITE_NULL && !out->lane) ||
      (sqlite3_column_type(s, 5) != SQLITE_NULL && !out->saved) ||
      (sqlite3_column_type(s, 6) != SQLITE_NULL && !out->error) ||
      (sqlite3_column_type(s, 7) != SQLITE_NULL && !out->owner)) {
    store_job_release(out);
    return err_set(err, E_NOMEM, "out of memory");
  }
  return 0;
}

/* Steps an UPDATE or DELETE; *changed receives the rows it changed. */
static int run_change(struct conn *c, sqlite3_stmt *s, const char *what, int *changed,
                      struct err *err)
{
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sq_fail(c, err, what);
  *changed = sqlite3_changes(sq_db(c));
  return 0;
}

static int j_add(void *p, const struct store_job_new *j, int64_t now, int64_t *id, int *added,
                 struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_ADD, err);
  if (!s)
    return err->code;
  sqlite3_bind_text(s, 1, j->kind, -1, SQLITE_STATIC);
  bind_opt(s, 2, j->key);
  bind_opt(s, 3, j->lane);
  sqlite3_bind_text(s, 4, j->args ? j->args : "{}", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, j->run_at ? j->run_at : now);
  sqlite3_bind_int(s, 6, j->max_attempts);
  sqlite3_bind_int64(s, 7, now);
  int changed = 0;
  int rc = run_change(c, s, "cannot add a job", &changed, err);
  if (rc)
    return rc;
  *added = changed > 0;
  if (changed) {
    *id = sqlite3_last_insert_rowid(sq_db(c));
    return 0;
  }
  s = jstmt(c, J_BY_KEY, err); /* the key is taken: the job that has it */
  if (!s)
    return err->code;
  sqlite3_bind_text(s, 1, j->key, -1, SQLITE_STATIC);
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *id = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : sq_fail(c, err, "cannot read the job queue");
}

static int j_claim(void *p, int64_t now, int64_t lease_until, const char *owner,
                   struct store_job *out, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_CLAIM, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, now);
  sqlite3_bind_int64(s, 2, lease_until);
  sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    int e = read_job(s, out, err);
    while (rc == SQLITE_ROW)
      rc = sqlite3_step(s); /* RETURNING's update completes at the end */
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
      if (!e)
        store_job_release(out);
      return sq_fail(c, err, "cannot claim a job");
    }
    return e;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sq_fail(c, err, "cannot claim a job");
  return err_set(err, E_NOTFOUND, "no job is due");
}

/* An update of owner's running job: E_CONFLICT when the lease is lost. */
static int owned_change(struct conn *c, sqlite3_stmt *s, int64_t id, const char *what,
                        struct err *err)
{
  int changed = 0;
  int rc = run_change(c, s, what, &changed, err);
  if (!rc && !changed)
    rc = err_set(err, E_CONFLICT, "job %lld is no longer held by this runner (its lease ended "
                 "and another took it over, or it was cancelled)", (long long)id);
  return rc;
}

static int j_renew(void *p, int64_t id, const char *owner, int64_t lease_until, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_RENEW, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, lease_until);
  return owned_change(c, s, id, "cannot renew a job's lease", err);
}

static int j_save(void *p, int64_t id, const char *owner, const char *saved, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_SAVE, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
  bind_opt(s, 3, saved);
  return owned_change(c, s, id, "cannot save a job's progress", err);
}

static int j_finish(void *p, int64_t id, const char *owner, int state, const char *error,
                    int64_t run_at, int64_t now, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_FINISH, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, state);
  bind_opt(s, 4, error);
  sqlite3_bind_int64(s, 5, run_at);
  sqlite3_bind_int64(s, 6, now);
  return owned_change(c, s, id, "cannot finish a job", err);
}

static int j_get(void *p, int64_t id, struct store_job *out, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_GET, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  int e = rc == SQLITE_ROW ? read_job(s, out, err)
          : rc == SQLITE_DONE ? err_set(err, E_NOTFOUND, "no job has id %lld", (long long)id)
                              : sq_fail(c, err, "cannot read the job queue");
  sqlite3_reset(s);
  return e;
}

static int j_cancel(void *p, int64_t id, int64_t now, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_CANCEL, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, now);
  int changed = 0;
  int rc = run_change(c, s, "cannot cancel a job", &changed, err);
  if (rc || changed)
    return rc;
  struct store_job j;
  rc = j_get(p, id, &j, err);
  if (rc)
    return rc;
  rc = err_set(err, E_CONFLICT, "job %lld has %s already", (long long)id,
               j.state == STORE_JOB_DONE ? "finished" : store_job_state_name(j.state));
  store_job_release(&j);
  return rc;
}

static int j_list(void *p, int state, int64_t before, size_t limit, store_job_fn fn, void *arg,
                  struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, state < 0 ? J_LIST_ALL : J_LIST_STATE, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, before > 0 ? before : INT64_MAX);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
  if (state >= 0)
    sqlite3_bind_int(s, 3, state);
  int rc, stop = 0;
  while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    struct store_job j;
    stop = read_job(s, &j, err);
    if (!stop) {
      stop = fn(arg, &j);
      store_job_release(&j);
    }
  }
  sqlite3_reset(s);
  if (stop)
    return stop;
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, "cannot read the job queue");
}

static int j_next_due(void *p, int64_t *next_due, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_NEXT, err);
  if (!s)
    return err->code;
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *next_due = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : sq_fail(c, err, "cannot read the job queue");
}

static int j_counts(void *p, int64_t counts[STORE_JOB_STATES], int64_t *next_due,
                    struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_COUNTS, err);
  if (!s)
    return err->code;
  memset(counts, 0, sizeof(int64_t) * STORE_JOB_STATES);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int state = sqlite3_column_int(s, 0);
    if (state >= 0 && state < STORE_JOB_STATES)
      counts[state] = sqlite3_column_int64(s, 1);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sq_fail(c, err, "cannot count jobs");
  return j_next_due(p, next_due, err);
}

static int j_prune(void *p, int64_t before, size_t limit, size_t *deleted, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = jstmt(c, J_PRUNE, err);
  if (!s)
    return err->code;
  sqlite3_bind_int64(s, 1, before);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)limit);
  int changed = 0;
  int rc = run_change(c, s, "cannot prune the job queue", &changed, err);
  *deleted = rc ? 0 : (size_t)changed;
  return rc;
}

const struct job_backend sq_job_backend = {
  j_add, j_claim, j_renew, j_save, j_finish, j_cancel, j_get, j_list, j_counts, j_prune,
  j_next_due,
};
