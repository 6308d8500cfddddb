/* store_sqlite: the SQLite backend of the store (the embedded default).
 *
 * Layout: one_meta (key, value), one_tables (number, name), one_indexes
 * (ix, tbl, name, fields), one_documents (id, tbl, body) WITHOUT ROWID,
 * one_index_entries (ix, key, id) WITHOUT ROWID with primary key (ix, key),
 * with an index on (tbl, id) for walks of a whole table in storage order,
 * one_changes (seq, tbl, id, kind), the change log, and one_journal (seq,
 * stream, body), append-only records of migrations (their log and undo
 * batches), and one_jobs, the job queue (store_sqlite_jobs.c). WAL mode, so readers
 * never wait for the writer; write transactions start with BEGIN IMMEDIATE
 * and wait for the write lock (busy timeout plus retries), so SQLITE_BUSY
 * does not reach the store. Each connection prepares its statements once. */
#include "store/store_int.h"
#include "store/store_sqlite_int.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 250
#define BUSY_GIVE_UP_MS (10 * 60 * 1000)

enum {
  S_BEGIN_READ, S_BEGIN_WRITE, S_COMMIT, S_ROLLBACK, S_SP_MARK, S_SP_KEEP, S_SP_UNDO, S_META_GET, S_META_SET, S_DOC_GET,
  S_DOC_INSERT, S_DOC_UPDATE, S_DOC_DELETE, S_ENTRY_PUT, S_ENTRY_DELETE, S_SCAN_ASC,
  S_SCAN_DESC, S_SCAN_ASC_OPEN, S_SCAN_DESC_OPEN, S_COUNT, S_TABLES, S_TABLE_ADD, S_INDEXES,
  S_INDEX_ADD, S_INDEX_DROP_ENTRIES, S_INDEX_DROP, S_CHANGE_ADD, S_CHANGES, S_CHANGES_PRUNE,
  S_CHANGE_BOUNDS, S_META_DEL, S_META_LIST, S_JOURNAL_ADD, S_JOURNAL_ASC, S_JOURNAL_DESC,
  S_JOURNAL_DROP, S_DOC_SCAN,
  S_COUNT_STMTS
};

static const char *const sql[S_COUNT_STMTS] = {
  [S_BEGIN_READ] = "BEGIN DEFERRED",
  [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
  [S_COMMIT] = "COMMIT",
  [S_ROLLBACK] = "ROLLBACK",
  [S_SP_MARK] = "SAVEPOINT one_member",
  [S_SP_KEEP] = "RELEASE one_member",
  [S_SP_UNDO] = "ROLLBACK TO one_member",
  [S_META_GET] = "SELECT value FROM one_meta WHERE key = ?1",
  [S_META_SET] = "INSERT INTO one_meta(key, value) VALUES(?1, ?2) "
                 "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  [S_DOC_GET] = "SELECT tbl, body FROM one_documents WHERE id = ?1",
  [S_DOC_INSERT] = "INSERT INTO one_documents(id, tbl, body) VALUES(?1, ?2, ?3)",
  [S_DOC_UPDATE] = "UPDATE one_documents SET body = ?2 WHERE id = ?1",
  [S_DOC_DELETE] = "DELETE FROM one_documents WHERE id = ?1",
  [S_DOC_SCAN] = "SELECT id, body FROM one_documents WHERE tbl = ?1 AND id > ?2 ORDER BY id "
                 "LIMIT ?3",
  [S_ENTRY_PUT] = "INSERT INTO one_index_entries(ix, key, id) VALUES(?1, ?2, ?3)",
  [S_ENTRY_DELETE] = "DELETE FROM one_index_entries WHERE ix = ?1 AND key = ?2",
  [S_SCAN_ASC] = "SELECT e.key, e.id, d.body FROM one_index_entries e JOIN one_documents d "
                 "ON d.id = e.id WHERE e.ix = ?1 AND e.key >= ?2 AND e.key < ?3 "
                 "ORDER BY e.key ASC LIMIT ?4",
  [S_SCAN_DESC] = "SELECT e.key, e.id, d.body FROM one_index_entries e JOIN one_documents d "
                  "ON d.id = e.id WHERE e.ix = ?1 AND e.key >= ?2 AND e.key < ?3 "
                  "ORDER BY e.key DESC LIMIT ?4",
  [S_SCAN_ASC_OPEN] = "SELECT e.key, e.id, d.body FROM one_index_entries e JOIN one_documents d "
                      "ON d.id = e.id WHERE e.ix = ?1 AND e.key >= ?2 "
                      "ORDER BY e.key ASC LIMIT ?4",
  [S_SCAN_DESC_OPEN] = "SELECT e.key, e.id, d.body FROM one_index_entries e JOIN one_documents d "
                       "ON d.id = e.id WHERE e.ix = ?1 AND e.key >= ?2 "
                       "ORDER BY e.key DESC LIMIT ?4",
  [S_COUNT] = "SELECT count(*) FROM one_index_entries WHERE ix = ?1",
  [S_TABLES] = "SELECT number, name FROM one_tables ORDER BY number",
  [S_TABLE_ADD] = "INSERT INTO one_tables(number, name) VALUES(?1, ?2)",
  [S_INDEXES] = "SELECT ix, tbl, name, fields FROM one_indexes ORDER BY ix",
  [S_INDEX_ADD] = "INSERT INTO one_indexes(tbl, name, fields) VALUES(?1, ?2, ?3)",
  [S_INDEX_DROP_ENTRIES] = "DELETE FROM one_index_entries WHERE ix = ?1",
  [S_INDEX_DROP] = "DELETE FROM one_indexes WHERE ix = ?1",
  [S_CHANGE_ADD] = "INSERT INTO one_changes(tbl, id, kind, origin) VALUES(?1, ?2, ?3, ?4)",
  [S_CHANGES] = "SELECT seq, tbl, id, kind, origin FROM one_changes WHERE seq > ?1 ORDER BY seq "
                "LIMIT ?2",
  /* the service's changes after changes_keep_since stay (store_changes_keep) */
  [S_CHANGES_PRUNE] = "DELETE FROM one_changes WHERE seq < (SELECT max(seq) FROM one_changes) - ?1"
                      " AND (origin <> 0 OR seq <= coalesce((SELECT CAST(value AS INTEGER) FROM"
                      " one_meta WHERE key = 'changes_keep_since'), 9223372036854775807))",
  /* one aggregate per subquery: SQLite answers each from the b-tree's end */
  [S_CHANGE_BOUNDS] = "SELECT coalesce((SELECT min(seq) FROM one_changes), 0),"
                      " coalesce((SELECT max(seq) FROM one_changes), 0)",
  [S_META_DEL] = "DELETE FROM one_meta WHERE key = ?1",
  [S_META_LIST] = "SELECT key, value FROM one_meta WHERE key >= ?1 AND key < ?1 || x'ff' "
                  "ORDER BY key",
  [S_JOURNAL_ADD] = "INSERT INTO one_journal(stream, body) VALUES(?1, ?2)",
  [S_JOURNAL_ASC] = "SELECT seq, body FROM one_journal WHERE stream = ?1 ORDER BY seq ASC",
  [S_JOURNAL_DESC] = "SELECT seq, body FROM one_journal WHERE stream = ?1 ORDER BY seq DESC",
  [S_JOURNAL_DROP] = "DELETE FROM one_journal WHERE stream = ?1",
};

static const char schema_sql[] =
  "CREATE TABLE IF NOT EXISTS one_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS one_tables(number INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
  "CREATE TABLE IF NOT EXISTS one_indexes(ix INTEGER PRIMARY KEY, tbl INTEGER NOT NULL,"
  "  name TEXT NOT NULL, fields TEXT NOT NULL, UNIQUE(tbl, name));"
  "CREATE TABLE IF NOT EXISTS one_documents(id TEXT PRIMARY KEY, tbl INTEGER NOT NULL,"
  "  body TEXT NOT NULL) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS one_index_entries(ix INTEGER NOT NULL, key BLOB NOT NULL,"
  "  id TEXT NOT NULL, PRIMARY KEY(ix, key)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS one_changes(seq INTEGER PRIMARY KEY, tbl INTEGER NOT NULL,"
  "  id TEXT NOT NULL, kind INTEGER NOT NULL, origin INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE IF NOT EXISTS one_journal(seq INTEGER PRIMARY KEY, stream TEXT NOT NULL,"
  "  body TEXT NOT NULL);"
  "CREATE INDEX IF NOT EXISTS one_journal_stream ON one_journal(stream, seq);"
  /* (tbl, id): a table's documents in storage order, for whole-table walks */
  "CREATE INDEX IF NOT EXISTS one_documents_by_table ON one_documents(tbl);"
  SQ_JOBS_SCHEMA SQ_SEARCH_SCHEMA;

/* Changes kept in the log by default; older ones are pruned now and then
 * (every prune_every appends of a connection). */
#define CHANGES_KEPT 100000

struct conn {
  sqlite3 *db;
  sqlite3_stmt *st[S_COUNT_STMTS];
  unsigned writes;
  size_t kept, prune_every;
  int sync;                     /* the configured level: 0 FULL, 1 NORMAL, 2 OFF */
  int lazy;                     /* synchronous is NORMAL for lazy commits now */
  struct sq_jobs *jobs;         /* the job queue's statements, prepared on first use */
  struct sq_search *search;     /* the search statements, likewise */
};

sqlite3 *sq_db(struct conn *c) { return c->db; }
struct sq_jobs **sq_jobs_slot(struct conn *c) { return &c->jobs; }
struct sq_search **sq_search_slot(struct conn *c) { return &c->search; }

sqlite3_stmt *sq_stmt(struct conn *c, sqlite3_stmt **s, const char *text, const char *what,
                      struct err *err)
{
  if (!*s && sqlite3_prepare_v3(c->db, text, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK) {
    sq_fail(c, err, what);
    return NULL;
  }
  sqlite3_reset(*s);
  sqlite3_clear_bindings(*s);
  return *s;
}

static const char *const sync_sql[] = {"PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL",
                                       "PRAGMA synchronous=OFF"};

int sq_fail(struct conn *c, struct err *err, const char *what)
{
  int code = sqlite3_errcode(c->db);
  int e = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? E_BUSY
          : (code == SQLITE_FULL || code == SQLITE_IOERR) ? E_IO
          : code == SQLITE_CONSTRAINT ? E_CONFLICT
          : code == SQLITE_NOMEM ? E_NOMEM
                                 : E_STORE;
  return err_set(err, e, "%s: %s", what, sqlite3_errmsg(c->db));
}

static sqlite3_stmt *stmt(struct conn *c, int which)
{
  sqlite3_stmt *s = c->st[which];
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return s;
}

static void sleep_us(long us)
{
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
  nanosleep(&ts, NULL);
}

static void sleep_ms(long ms) { sleep_us(ms * 1000L); }

/* Waits for a lock another connection holds in short sleeps, for up to
 * BUSY_TIMEOUT_MS: 0.1 ms for the first 2 ms (a migration batch rests about
 * that long between two transactions, and a waiter that sleeps longer would
 * miss the gap), then 1 ms to 52 ms, then 2 ms. SQLite's own busy timeout
 * sleeps up to 100 ms at a time, so a request behind a batch of a few
 * milliseconds would wait for tens. */
static int busy_wait(void *arg, int tries)
{
  (void)arg;
  long slept_us = tries < 20 ? tries * 100L
                  : tries < 70 ? 2000L + (tries - 20) * 1000L
                               : 52000L + (long)(tries - 70) * 2000L;
  if (slept_us >= BUSY_TIMEOUT_MS * 1000L)
    return 0;
  sleep_us(tries < 20 ? 100 : tries < 70 ? 1000 : 2000);
  return 1;
}

static int exec_retry(struct conn *c, const char *what, const char *text, struct err *err)
{
  long waited = 0;
  for (;;) {
    int rc = sqlite3_exec(c->db, text, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
      return 0;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited > BUSY_GIVE_UP_MS)
      return sq_fail(c, err, what);
    sleep_ms(10);
    waited += 10 + BUSY_TIMEOUT_MS;
  }
}

static void sq_disconnect(void *p)
{
  struct conn *c = p;
  if (!c)
    return;
  for (int i = 0; i < S_COUNT_STMTS; i++)
    sqlite3_finalize(c->st[i]);
  sq_jobs_free(c->jobs);
  sq_search_free(c->search);
  sqlite3_close(c->db);
  one_free(c);
}

/* After each commit: how many pages the log holds, for the checkpointer. */
static int report_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
  (void)db;
  (void)name;
  atomic_store((atomic_long *)arg, pages);
  return SQLITE_OK;
}

/* Before SQLite starts: no allocation statistics, which would take one
 * process-wide mutex on every allocation of every connection (the request
 * threads would queue on it); ONE never reads them. */
static void sq_configure(void)
{
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_initialize();
}

static int sq_connect(const struct store_options *opt, int first, atomic_long *wal_frames,
                      void **out, struct err *err)
{
  static pthread_once_t configured = PTHREAD_ONCE_INIT;
  pthread_once(&configured, sq_configure);
  struct conn *c = one_calloc(1, sizeof *c);
  if (!c)
    return err_set(err, E_NOMEM, "out of memory");
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (opt->must_exist ? 0 : SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(opt->path, &c->db, flags, NULL) != SQLITE_OK) {
    int rc = c->db ? err_set(err, opt->must_exist ? E_NOTFOUND : E_IO, "cannot open database "
                             "'%s': %s", opt->path, sqlite3_errmsg(c->db))
                   : err_set(err, E_NOMEM, "out of memory");
    sq_disconnect(c);
    return rc;
  }
  sqlite3_extended_result_codes(c->db, 0);
  c->kept = opt->changes_kept ? opt->changes_kept : CHANGES_KEPT;
  c->prune_every = c->kept / 2 < 4096 ? c->kept / 2 + 1 : 4096;
  sqlite3_busy_handler(c->db, busy_wait, NULL);
  c->sync = (int)opt->sync;
  int rc = 0;
  if (first) {
    rc = exec_retry(c, "cannot switch the database to WAL mode", "PRAGMA journal_mode=WAL", err);
    if (!rc)
      rc = exec_retry(c, "cannot create ONE's tables", schema_sql, err);
    sqlite3_stmt *probe = NULL; /* a database from before the change log had origins */
    if (!rc && sqlite3_prepare_v2(c->db, "SELECT origin FROM one_changes LIMIT 0", -1, &probe,
                                  NULL) != SQLITE_OK)
      rc = exec_retry(c, "cannot add origins to the change log", "ALTER TABLE one_changes ADD "
                      "COLUMN origin INTEGER NOT NULL DEFAULT 0", err);
    sqlite3_finalize(probe);
  }
  if (!rc)
    rc = exec_retry(c, "cannot set synchronous", sync_sql[opt->sync], err);
  if (!rc && (opt->background_checkpoints || opt->bulk) && wal_frames) /* the store's checkpointer does it */
    sqlite3_wal_hook(c->db, report_wal, wal_frames); /* in place of the automatic checkpoint */
  if (!rc)
    rc = exec_retry(c, "cannot set pragmas", "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-16384;"
                    "PRAGMA temp_store=MEMORY", err);
  /* A bulk writer reads through a memory map, not copied by read(), and lets
   * the log file keep its size (truncating it after every restart of the log
   * cost a tenth of a migration's time in allocating it again); everyone else
   * cuts it back to 64 MiB when the log starts over, so that the file a
   * migration grew shrinks once it has gone. */
  if (!rc)
    rc = exec_retry(c, "cannot size the database's files", opt->bulk
                    ? "PRAGMA mmap_size=2147418112" : "PRAGMA journal_size_limit=67108864", err);
  for (int i = 0; !rc && i < S_COUNT_STMTS; i++)
    if (sqlite3_prepare_v3(c->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL) != SQLITE_OK)
      rc = sq_fail(c, err, "cannot prepare a statement (is this a ONE database?)");
  if (rc) {
    sq_disconnect(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int step_done(struct conn *c, sqlite3_stmt *s, const char *what, struct err *err)
{
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    int e = sq_fail(c, err, what);
    sqlite3_reset(s);
    return e;
  }
  sqlite3_reset(s);
  return 0;
}

static int sq_begin(void *p, int write, struct err *err)
{
  struct conn *c = p;
  long waited = 0;
  /* In WAL mode NORMAL writes the commit to the log without a sync: atomic,
   * made durable by the next sync of the log (a FULL commit, a checkpoint). */
  int lazy = write == 2 && c->sync == 0;
  if (write && lazy != c->lazy) {
    int rc = sqlite3_exec(c->db, sync_sql[lazy ? 1 : c->sync], NULL, NULL, NULL);
    if (rc != SQLITE_OK)
      return sq_fail(c, err, "cannot set synchronous");
    c->lazy = lazy;
  }
  for (;;) {
    sqlite3_stmt *s = stmt(c, write ? S_BEGIN_WRITE : S_BEGIN_READ);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
      return 0;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited > BUSY_GIVE_UP_MS)
      return sq_fail(c, err, "cannot begin a transaction");
    sleep_ms(5);
    waited += 5 + BUSY_TIMEOUT_MS;
  }
}

static int sq_commit(void *p, struct err *err)
{
  struct conn *c = p;
  long waited = 0;
  for (;;) {
    sqlite3_stmt *s = stmt(c, S_COMMIT);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_DONE)
      return 0;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited > BUSY_GIVE_UP_MS)
      return sq_fail(c, err, "cannot commit");
    sleep_ms(5);
    waited += 5 + BUSY_TIMEOUT_MS;
  }
}

static void sq_rollback(void *p)
{
  struct conn *c = p;
  if (!sqlite3_get_autocommit(c->db)) {
    sqlite3_stmt *s = stmt(c, S_ROLLBACK);
    sqlite3_step(s);
    sqlite3_reset(s);
  }
}

static int sq_savepoint(void *p, int op, struct err *err)
{
  struct conn *c = p;
  static const char *const what[] = {"cannot set a savepoint", "cannot release a savepoint",
                                     "cannot roll back to a savepoint"};
  sqlite3_stmt *s = stmt(c, op == SP_MARK ? S_SP_MARK : op == SP_KEEP ? S_SP_KEEP : S_SP_UNDO);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return sq_fail(c, err, what[op]);
  if (op == SP_UNDO) /* ROLLBACK TO keeps the savepoint open */
    return sq_savepoint(p, SP_KEEP, err);
  return 0;
}

static char *column_text(sqlite3_stmt *s, int col)
{
  const char *t = (const char *)sqlite3_column_text(s, col);
  return one_strndup(t ? t : "", (size_t)sqlite3_column_bytes(s, col));
}

static int sq_meta_get(void *p, const char *key, char **value, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_META_GET);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *value = column_text(s, 0);
    sqlite3_reset(s);
    return *value ? 0 : err_set(err, E_NOMEM, "out of memory");
  }
  sqlite3_reset(s);
  if (rc == SQLITE_DONE)
    return E_NOTFOUND;
  return sq_fail(c, err, "cannot read metadata");
}

static int sq_meta_set(void *p, const char *key, const char *value, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_META_SET);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot write metadata", err);
}

static int sq_meta_del(void *p, const char *key, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_META_DEL);
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot write metadata", err);
}

/* Runs a prepared statement, handing each row's (integer, text) columns to
 * fn; fn returns nonzero to stop with that code. */
static int each_row(struct conn *c, sqlite3_stmt *s, const char *what,
                    int (*fn)(void *arg, sqlite3_stmt *row), void *arg, struct err *err)
{
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int stop = fn(arg, s);
    if (stop) {
      sqlite3_reset(s);
      return stop;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, what);
}

struct kv_arg {
  int (*fn)(void *arg, const char *key, const char *value);
  void *arg;
};

static int kv_row(void *p, sqlite3_stmt *row)
{
  struct kv_arg *a = p;
  return a->fn(a->arg, (const char *)sqlite3_column_text(row, 0),
               (const char *)sqlite3_column_text(row, 1));
}

static int sq_meta_list(void *p, const char *prefix,
                        int (*fn)(void *arg, const char *key, const char *value), void *arg,
                        struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_META_LIST);
  sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
  struct kv_arg a = {fn, arg};
  return each_row(c, s, "cannot read metadata", kv_row, &a, err);
}

static int sq_journal_add(void *p, const char *stream, const char *body, int64_t *seq,
                          struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_JOURNAL_ADD);
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, body, -1, SQLITE_STATIC);
  int rc = step_done(c, s, "cannot write the journal", err);
  if (!rc && seq)
    *seq = sqlite3_last_insert_rowid(c->db);
  return rc;
}

struct journal_arg {
  int (*fn)(void *arg, int64_t seq, const char *body);
  void *arg;
};

static int journal_row(void *p, sqlite3_stmt *row)
{
  struct journal_arg *a = p;
  return a->fn(a->arg, sqlite3_column_int64(row, 0), (const char *)sqlite3_column_text(row, 1));
}

static int sq_journal_scan(void *p, const char *stream, int desc,
                           int (*fn)(void *arg, int64_t seq, const char *body), void *arg,
                           struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, desc ? S_JOURNAL_DESC : S_JOURNAL_ASC);
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  struct journal_arg a = {fn, arg};
  return each_row(c, s, "cannot read the journal", journal_row, &a, err);
}

static int sq_journal_drop(void *p, const char *stream, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_JOURNAL_DROP);
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot write the journal", err);
}

/* An online copy with SQLite's backup API: writers go on while it runs (a
 * write by another connection restarts the copy, which is why it goes in
 * steps with a pause between them). */
/* fsync of path (a file or a folder): 0, or -1 with errno set. */
static int sync_path(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

/* The copy goes to PATH.partial with no journal and no syncs of its own (it
 * is a new file: a failed copy is thrown away, not rolled back), then is
 * synced once and renamed, so that a file at path is always a whole backup. */
static int sq_backup(void *p, const char *path, struct err *err)
{
  struct conn *c = p;
  char tmp[4200], dir[4200];
  if (snprintf(tmp, sizeof tmp, "%s.partial", path) >= (int)sizeof tmp)
    return err_set(err, E_INVALID, "the backup path is too long");
  snprintf(dir, sizeof dir, "%s", path); /* the folder, to sync the new name */
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else
    slash[slash == dir] = '\0';
  unlink(tmp);
  sqlite3 *dest = NULL;
  if (sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    int rc = err_set(err, E_IO, "cannot create the backup %s: %s", path,
                     dest ? sqlite3_errmsg(dest) : "out of memory");
    sqlite3_close(dest);
    return rc;
  }
  sqlite3_exec(dest, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", NULL, NULL, NULL);
  /* every page in one step, under one read transaction: a copy taken in
   * slices starts over whenever another process writes between two slices,
   * which under a busy server is forever; in WAL mode one long read blocks
   * no writer */
  sqlite3_backup *b = sqlite3_backup_init(dest, "main", c->db, "main");
  int rc = b ? sqlite3_backup_step(b, -1) : sqlite3_errcode(dest);
  while (b && (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)) {
    sleep_ms(10);
    rc = sqlite3_backup_step(b, -1);
  }
  if (b)
    sqlite3_backup_finish(b);
  int out = 0;
  if (rc != SQLITE_DONE)
    out = err_set(err, E_IO, "backup to %s failed: %s", path, sqlite3_errmsg(dest));
  if (sqlite3_close(dest) != SQLITE_OK && !out)
    out = err_set(err, E_IO, "backup to %s failed: cannot close it", path);
  if (!out && (sync_path(tmp) || rename(tmp, path) || sync_path(dir)))
    out = err_set(err, E_IO, "backup to %s failed: %s", path, strerror(errno));
  if (out)
    unlink(tmp);
  return out;
}

static int sq_backup_hold(void *p, struct err *err)
{
  struct conn *c = p;
  int rc = sq_begin(c, 0, err);
  if (rc)
    return rc;
  sqlite3_stmt *s = stmt(c, S_META_GET); /* any read takes the snapshot */
  sqlite3_bind_text(s, 1, "", -1, SQLITE_STATIC);
  int step = sqlite3_step(s);
  sqlite3_reset(s);
  if (step == SQLITE_ROW || step == SQLITE_DONE)
    return 0;
  rc = sq_fail(c, err, "cannot begin the backup's read");
  sq_rollback(c);
  return rc;
}

static int sq_doc_get(void *p, const char *id, uint32_t *table, char **body, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_DOC_GET);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *table = (uint32_t)sqlite3_column_int64(s, 0);
    *body = column_text(s, 1);
    sqlite3_reset(s);
    return *body ? 0 : err_set(err, E_NOMEM, "out of memory");
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? E_NOTFOUND : sq_fail(c, err, "cannot read a document");
}

static int sq_doc_insert(void *p, const char *id, uint32_t table, const char *body, size_t len,
                         struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_DOC_INSERT);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, table);
  sqlite3_bind_text(s, 3, body, (int)len, SQLITE_STATIC);
  int rc = step_done(c, s, "cannot insert a document", err);
  if (rc == E_CONFLICT)
    return err_set(err, E_CONFLICT, "a document with id %s already exists", id);
  return rc;
}

static int sq_doc_update(void *p, const char *id, const char *body, size_t len, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_DOC_UPDATE);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, body, (int)len, SQLITE_STATIC);
  return step_done(c, s, "cannot update a document", err);
}

static int sq_doc_delete(void *p, const char *id, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_DOC_DELETE);
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot delete a document", err);
}

static int sq_entry_put(void *p, int64_t ix, const uint8_t *key, size_t klen, const char *id,
                        struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_ENTRY_PUT);
  sqlite3_bind_int64(s, 1, ix);
  sqlite3_bind_blob(s, 2, key, (int)klen, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot write an index entry", err);
}

static int sq_entry_delete(void *p, int64_t ix, const uint8_t *key, size_t klen, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_ENTRY_DELETE);
  sqlite3_bind_int64(s, 1, ix);
  sqlite3_bind_blob(s, 2, key, (int)klen, SQLITE_STATIC);
  return step_done(c, s, "cannot delete an index entry", err);
}

/* Steps s to its end, handing each row to fn: the key, id and body are
 * columns key_col, id_col and body_col. fn returns nonzero to stop. */
static int scan_rows(struct conn *c, sqlite3_stmt *s, int key_col, int id_col, int body_col,
                     scan_row_fn fn, void *arg, const char *what, struct err *err)
{
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int stop = fn(arg, sqlite3_column_blob(s, key_col), (size_t)sqlite3_column_bytes(s, key_col),
                  (const char *)sqlite3_column_text(s, id_col),
                  (const char *)sqlite3_column_text(s, body_col),
                  (size_t)sqlite3_column_bytes(s, body_col));
    if (stop) {
      sqlite3_reset(s);
      return stop < 0 ? stop : 0;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, what);
}

static int sq_scan(void *p, int64_t ix, const uint8_t *lo, size_t lolen, const uint8_t *hi,
                   size_t hilen, int desc, size_t limit, scan_row_fn fn, void *arg,
                   struct err *err)
{
  struct conn *c = p;
  int which = hi ? (desc ? S_SCAN_DESC : S_SCAN_ASC) : (desc ? S_SCAN_DESC_OPEN : S_SCAN_ASC_OPEN);
  sqlite3_stmt *s = stmt(c, which);
  static const uint8_t empty[1] = {0};
  sqlite3_bind_int64(s, 1, ix);
  sqlite3_bind_blob(s, 2, lo ? (const void *)lo : empty, (int)lolen, SQLITE_STATIC);
  if (hi)
    sqlite3_bind_blob(s, 3, hi, (int)hilen, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, limit ? (sqlite3_int64)limit : -1);
  return scan_rows(c, s, 0, 1, 2, fn, arg, "cannot scan an index", err);
}

/* A restarting checkpoint's wait: at most 5 ms for another process's
 * writer or a reader to leave the log (a migration's backup reads for
 * seconds), since the server's writers wait behind it; it is tried again
 * on the next round. */
static int brief_wait(void *arg, int tries)
{
  (void)arg;
  if (tries >= 50)
    return 0;
  sleep_us(100);
  return 1;
}

static int sq_checkpoint(void *p, int restart, int *log, int *copied, struct err *err)
{
  struct conn *c = p;
  *log = *copied = 0;
  if (restart)
    sqlite3_busy_handler(c->db, brief_wait, NULL);
  int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, restart ? SQLITE_CHECKPOINT_RESTART
                                                          : SQLITE_CHECKPOINT_PASSIVE, log, copied);
  if (restart)
    sqlite3_busy_handler(c->db, busy_wait, NULL);
  return rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
           ? 0 : sq_fail(c, err, "cannot checkpoint the write-ahead log");
}

static int sq_doc_scan(void *p, uint32_t table, const char *after, size_t limit, scan_row_fn fn,
                       void *arg, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_DOC_SCAN);
  sqlite3_bind_int64(s, 1, table);
  sqlite3_bind_text(s, 2, after ? after : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, limit ? (sqlite3_int64)limit : -1);
  return scan_rows(c, s, 0, 0, 1, fn, arg, "cannot scan a table", err); /* the id is the key */
}

static int sq_count(void *p, int64_t ix, int64_t *n, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_COUNT);
  sqlite3_bind_int64(s, 1, ix);
  int rc = sqlite3_step(s);
  *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : sq_fail(c, err, "cannot count documents");
}

static int sq_tables(void *p, int (*fn)(void *, uint32_t, const char *), void *arg,
                     struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_TABLES);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int stop = fn(arg, (uint32_t)sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1));
    if (stop) {
      sqlite3_reset(s);
      return stop;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, "cannot read the table catalog");
}

static int sq_table_add(void *p, uint32_t number, const char *name, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_TABLE_ADD);
  sqlite3_bind_int64(s, 1, number);
  sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
  return step_done(c, s, "cannot add a table", err);
}

static int sq_indexes(void *p, int (*fn)(void *, int64_t, uint32_t, const char *, const char *),
                      void *arg, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_INDEXES);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int stop = fn(arg, sqlite3_column_int64(s, 0), (uint32_t)sqlite3_column_int64(s, 1),
                  (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3));
    if (stop) {
      sqlite3_reset(s);
      return stop;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, "cannot read the index catalog");
}

static int sq_index_add(void *p, uint32_t table, const char *name, const char *fields,
                        int64_t *ix, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_INDEX_ADD);
  sqlite3_bind_int64(s, 1, table);
  sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, fields, -1, SQLITE_STATIC);
  int rc = step_done(c, s, "cannot add an index", err);
  if (!rc)
    *ix = sqlite3_last_insert_rowid(c->db);
  return rc;
}

static int sq_index_drop(void *p, int64_t ix, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_INDEX_DROP_ENTRIES);
  sqlite3_bind_int64(s, 1, ix);
  int rc = step_done(c, s, "cannot drop index entries", err);
  if (rc)
    return rc;
  s = stmt(c, S_INDEX_DROP);
  sqlite3_bind_int64(s, 1, ix);
  return step_done(c, s, "cannot drop an index", err);
}

static int sq_change_add(void *p, uint32_t table, const char *id, int kind, int origin,
                         int64_t *seq, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_CHANGE_ADD);
  sqlite3_bind_int64(s, 1, table);
  sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, kind);
  sqlite3_bind_int(s, 4, origin);
  int rc = step_done(c, s, "cannot append to the change log", err);
  if (rc)
    return rc;
  *seq = sqlite3_last_insert_rowid(c->db);
  if (++c->writes % c->prune_every == 0) { /* keep the log bounded */
    s = stmt(c, S_CHANGES_PRUNE);
    sqlite3_bind_int64(s, 1, (sqlite3_int64)c->kept);
    rc = step_done(c, s, "cannot prune the change log", err);
  }
  return rc;
}

static int sq_changes(void *p, int64_t after, size_t max,
                      int (*fn)(void *, int64_t, uint32_t, const char *, int, int),
                      void *arg, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_CHANGES);
  sqlite3_bind_int64(s, 1, after);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    int stop = fn(arg, sqlite3_column_int64(s, 0), (uint32_t)sqlite3_column_int64(s, 1),
                  (const char *)sqlite3_column_text(s, 2), sqlite3_column_int(s, 3),
                  sqlite3_column_int(s, 4));
    if (stop) {
      sqlite3_reset(s);
      return stop;
    }
  }
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, "cannot read the change log");
}

static int sq_change_bounds(void *p, int64_t *oldest, int64_t *newest, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = stmt(c, S_CHANGE_BOUNDS);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *oldest = sqlite3_column_int64(s, 0);
    *newest = sqlite3_column_int64(s, 1);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : sq_fail(c, err, "cannot read the change log");
}

const struct backend store_sqlite_backend = {
  "sqlite", sq_connect, sq_disconnect, sq_begin, sq_commit, sq_rollback, sq_savepoint, sq_meta_get,
  sq_meta_set, sq_doc_get, sq_doc_insert, sq_doc_update, sq_doc_delete, sq_entry_put,
  sq_entry_delete, sq_scan, sq_count, sq_tables, sq_table_add, sq_indexes, sq_index_add,
  sq_index_drop, sq_change_add, sq_changes, sq_change_bounds, sq_meta_del, sq_meta_list,
  sq_journal_add, sq_journal_scan, sq_journal_drop, sq_backup, sq_backup_hold, sq_checkpoint, sq_doc_scan,
  &sq_job_backend,
  &sq_search_backend,
};
