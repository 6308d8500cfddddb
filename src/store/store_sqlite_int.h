/* store_sqlite_int: what the SQLite backend's files share (store_sqlite.c,
 * the core; store_sqlite_jobs.c, the job queue; store_sqlite_search.c, the
 * search spaces). A connection is used by one thread at a time. */
#ifndef ONE_STORE_SQLITE_INT_H
#define ONE_STORE_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store_int.h"

struct conn;
struct sq_jobs;
struct sq_search;

/* The connection's handle, and its slot for the job queue's statements. */
sqlite3 *sq_db(struct conn *c);
struct sq_jobs **sq_jobs_slot(struct conn *c);
struct sq_search **sq_search_slot(struct conn *c);
/* Fills err from the connection's last SQLite error ("what: message") with
 * the matching code, and returns it. */
int sq_fail(struct conn *c, struct err *err, const char *what);
/* *s prepared on c when it is not yet (persistent), reset and unbound;
 * NULL with err set ("what: message") when it cannot be. */
sqlite3_stmt *sq_stmt(struct conn *c, sqlite3_stmt **s, const char *text, const char *what,
                      struct err *err);

/* The job queue's table and indexes, created with the others. */
#define SQ_JOBS_SCHEMA                                                                       \
  "CREATE TABLE IF NOT EXISTS one_jobs(id INTEGER PRIMARY KEY, kind TEXT NOT NULL,"         \
  "  key TEXT UNIQUE, lane TEXT, args TEXT NOT NULL, state INTEGER NOT NULL,"              \
  "  run_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"                        \
  "  max_attempts INTEGER NOT NULL, owner TEXT, saved TEXT, error TEXT,"                   \
  "  created_at INTEGER NOT NULL, finished_at INTEGER NOT NULL DEFAULT 0);"                \
  "CREATE INDEX IF NOT EXISTS one_jobs_due ON one_jobs(run_at) WHERE state < 2;"           \
  "CREATE INDEX IF NOT EXISTS one_jobs_lane ON one_jobs(lane, id) WHERE state < 2;"        \
  "CREATE INDEX IF NOT EXISTS one_jobs_state ON one_jobs(state, id);"                      \
  "CREATE INDEX IF NOT EXISTS one_jobs_finished ON one_jobs(finished_at) WHERE state IN (2, 4);"

extern const struct job_backend sq_job_backend;
void sq_jobs_free(struct sq_jobs *j); /* accepts NULL */

/* The search spaces' tables (store_sqlite_search.c), created with the others. */
#define SQ_SEARCH_SCHEMA                                                                     \
  "CREATE VIRTUAL TABLE IF NOT EXISTS one_fts USING fts5(body, content = '',"                \
  "  tokenize = 'porter unicode61');"                                                        \
  "CREATE TABLE IF NOT EXISTS one_search(fts INTEGER PRIMARY KEY, space TEXT NOT NULL,"     \
  "  id TEXT NOT NULL, scope TEXT NOT NULL, vec BLOB);"                                      \
  "CREATE UNIQUE INDEX IF NOT EXISTS one_search_id ON one_search(space, id);"                \
  "CREATE INDEX IF NOT EXISTS one_search_scope ON one_search(space, scope)"                  \
  "  WHERE vec IS NOT NULL;"

extern const struct search_backend sq_search_backend;
void sq_search_free(struct sq_search *q); /* accepts NULL */

#endif
