/* chain: the engine that runs the migration steps up and down. */
#include "migrate/chain.h"

#include "migrate/steps.h"
#include "schema/schema.h"
#include "util/clock.h"
#include "util/jv.h"
#include "util/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BATCH 1000     /* the most documents a batch takes */
#define DEFAULT_BATCH_MS 5      /* how long a batch may hold the write lock */
#define FIRST_BATCH 100
#define MIN_BATCH 8
#define REST_MIN_US 250         /* the least rest between batches (see store_sqlite's busy_wait) */
#define LOG_STREAM "migration.log"
#define LOCK_KEY "migrate.lock"

/* --- state in the database --- */

static void state_key(const char *step, char *out, size_t n)
{
  snprintf(out, n, "migrate.step.%s", step);
}

static json_t *state_get(struct store_tx *tx, const char *step)
{
  char key[128], *text = NULL;
  state_key(step, key, sizeof key);
  struct err e = ERR_INIT;
  json_t *st = NULL;
  if (store_meta_get(tx, key, &text, &e) == 0)
    st = json_loads(text, 0, NULL);
  one_free(text);
  err_clear(&e);
  return st ? st : json_pack("{s:s}", "state", "pending");
}

static int state_set(struct store_tx *tx, const char *step, const json_t *st, struct err *err)
{
  char key[128];
  state_key(step, key, sizeof key);
  char *text = st ? json_dumps(st, JSON_COMPACT) : NULL;
  if (st && !text)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = store_meta_set(tx, key, text, err);
  one_free(text);
  return rc;
}

static int is_done(const json_t *st)
{
  return strcmp(json_string_value(json_object_get(st, "state")), "done") == 0;
}

int migrate_log_add(struct store_tx *tx, const char *step, const char *event, json_t *extra,
                    struct err *err)
{
  json_t *e = json_pack("{s:f,s:s,s:s}", "at", clock_now_ms(), "step", step, "event", event);
  if (e && extra)
    json_object_update(e, extra);
  json_decref(extra);
  char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
  json_decref(e);
  int rc = text ? store_journal_add(tx, LOG_STREAM, text, NULL, err)
                : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  return rc;
}

struct log_arg {
  const char *step, *event;
  json_t *extra;
};

static int log_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct log_arg *a = arg;
  json_t *extra = a->extra;
  a->extra = NULL; /* migrate_log_add takes it, even on failure */
  return migrate_log_add(tx, a->step, a->event, extra, err);
}

/* Appends to the log in a transaction of its own. */
static int log_event(struct store *s, const char *step, const char *event, json_t *extra,
                     struct err *err)
{
  struct log_arg a = {step, event, extra};
  int rc = store_run(s, STORE_WRITE, log_tx, &a, err);
  json_decref(a.extra); /* when the transaction never started */
  return rc;
}

/* --- the lock --- */

static int lock_take(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  char *text = NULL, host[256] = "";
  gethostname(host, sizeof host - 1);
  struct err e = ERR_INIT;
  if (store_meta_get(tx, LOCK_KEY, &text, &e) == 0) {
    json_t *l = json_loads(text, 0, NULL);
    one_free(text);
    long pid = (long)json_integer_value(json_object_get(l, "pid"));
    int same_host = strcmp(json_string_value(json_object_get(l, "host")) ?
                           json_string_value(json_object_get(l, "host")) : "", host) == 0;
    int alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    if (!same_host || alive) {
      int rc = err_set(err, E_CONFLICT, "another migration is running (pid %ld on %s, since "
                       "%s); wait for it to finish", pid,
                       json_string_value(json_object_get(l, "host")),
                       json_string_value(json_object_get(l, "since")));
      json_decref(l);
      return rc;
    }
    json_decref(l); /* its process is gone: the lock is stale */
  }
  err_clear(&e);
  char since[64];
  time_t now = time(NULL);
  strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  json_t *l = json_pack("{s:I,s:s,s:s}", "pid", (json_int_t)getpid(), "host", host, "since",
                        since);
  char *lt = l ? json_dumps(l, JSON_COMPACT) : NULL;
  json_decref(l);
  int rc = lt ? store_meta_set(tx, LOCK_KEY, lt, err) : err_set(err, E_NOMEM, "out of memory");
  one_free(lt);
  return rc;
}

static int lock_drop(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  return store_meta_set(tx, LOCK_KEY, NULL, err);
}

/* --- backups --- */

void migrate_backup_dir(const char *db_path, const char *override, char *out, size_t n)
{
  if (override) {
    snprintf(out, n, "%s", override);
    return;
  }
  const char *slash = strrchr(db_path, '/');
  snprintf(out, n, "%.*sbackups", slash ? (int)(slash - db_path + 1) : 0, db_path);
}

static int backup(struct store *s, const struct migrate_opts *o, const char *step,
                  const char *dir_word, struct err *err)
{
  char dir[4096];
  migrate_backup_dir(o->db_path ? o->db_path : "one.db", o->backup_dir, dir, sizeof dir);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return err_set(err, E_IO, "cannot create the backup folder %s: %s", dir, strerror(errno));
  char stamp[32], path[4400];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime(&ts.tv_sec));
  const char *db = o->db_path ? o->db_path : "one.db";
  const char *base = strrchr(db, '/') ? strrchr(db, '/') + 1 : db;
  snprintf(path, sizeof path, "%s/%s.%s.%03ld.before-%s-%s.db", dir, base, stamp,
           ts.tv_nsec / 1000000, step, dir_word);
  int rc = store_backup(s, path, err);
  if (!rc)
    rc = log_event(s, step, "backup", json_pack("{s:s}", "path", path), err);
  return rc;
}

/* --- schema switches --- */

struct switch_arg {
  const char *name;
  struct schema *schema;
};

static int switch_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct switch_arg *a = arg;
  return store_set_schema(tx, a->name, a->schema, err);
}

static int switch_schema(struct store *s, const char *name, struct err *err)
{
  struct switch_arg a = {name, NULL};
  int rc = schema_load(name, &a.schema, err);
  if (!rc)
    rc = store_run(s, STORE_WRITE, switch_tx, &a, err);
  schema_free(a.schema);
  return rc;
}

/* Every document of every table the database holds validates against the
 * schema `name` (tables it lacks must be empty, unless kept untyped). */
struct check_arg {
  const struct schema *schema;
  const char *table;
  struct id_resolver ids;
  size_t bad;
  char first[512];
};

static int check_doc(void *arg, const json_t *doc, const char *text, size_t len, struct err *err)
{
  (void)text;
  (void)len;
  (void)err;
  struct check_arg *a = arg;
  struct err e = ERR_INIT;
  if (schema_validate(a->schema, a->table, doc, &a->ids, VALIDATE_SYSTEM_FIELDS, &e)) {
    if (!a->bad++)
      snprintf(a->first, sizeof a->first, "%s", e.msg);
  }
  err_clear(&e);
  return 0;
}

static int check_all(struct store_tx *tx, void *arg, struct err *err)
{
  struct check_arg *a = arg;
  json_t *tables = store_tables(tx);
  size_t i;
  json_t *t;
  int rc = 0;
  a->ids = store_id_resolver(tx);
  json_array_foreach(tables, i, t) {
    a->table = json_string_value(json_object_get(t, "name"));
    if (schema_table(a->schema, a->table))
      rc = store_each(tx, a->table, 0, check_doc, a, err);
    if (rc)
      break;
  }
  json_decref(tables);
  return rc;
}

static int check_schema(struct store *s, const char *name, struct err *err)
{
  struct check_arg a = {0};
  struct schema *sc = NULL;
  int rc = schema_load(name, &sc, err);
  a.schema = sc;
  if (!rc)
    rc = store_run(s, STORE_READ, check_all, &a, err);
  schema_free(sc);
  if (!rc && a.bad)
    rc = err_set(err, E_SCHEMA, "%zu document%s would not fit schema %s (first: %s); nothing "
                 "was changed", a.bad, a.bad == 1 ? "" : "s", name, a.first);
  return rc;
}

/* --- walking a step's tables --- */

static int64_t table_count(struct store *s, const char *const *tables)
{
  struct store_tx *tx = NULL;
  struct err e = ERR_INIT;
  int64_t total = 0;
  if (store_begin(s, STORE_READ, &tx, &e) == 0) {
    for (size_t i = 0; tables && tables[i]; i++) {
      int64_t n = 0;
      if (store_count(tx, tables[i], &n, &e) == 0)
        total += n;
    }
    store_rollback(tx);
  }
  err_clear(&e);
  return total;
}

/* tests: dies like a process killed with -9 at the kill_at-th document of
 * this process's run (one runner per process, so one counter). */
static void kill_point(const struct migrate_opts *o)
{
  static size_t seen;
  if (o->kill_at && ++seen == o->kill_at)
    raise(SIGKILL);
}

/* How far back before its start a step's tail pass looks, for the clocks of
 * other processes on the machine. */
#define TAIL_MARGIN_MS 60000.0

/* The next page of a step's walk, from where its state says it stands.
 *
 * A walk has two passes. The id pass visits each table's documents in id
 * order, the order they are stored in, so that a batch reads and writes a
 * few pages instead of one page per document ("table" is the table's place
 * in st->tables, "cursor" the last id done). A document the service creates
 * meanwhile gets a random id, which may sort before the cursor; so the tail
 * pass ("pass": "tail"; "ids" before) then visits each table again by _creationTime from
 * "since", the step's start less TAIL_MARGIN_MS (its cursor is an index
 * cursor). Rewrites are idempotent, so what both passes see is changed once.
 * Sets *more to 0 when the walk is over (the page is then empty). */
static int walk_page(struct store_tx *tx, const struct mstep *st, json_t *state, size_t limit,
                     struct store_page *page, size_t *ti, int *more, struct err *err)
{
  memset(page, 0, sizeof *page);
  if (!json_object_get(state, "since"))
    json_object_set_new(state, "since", json_real(clock_now_ms() - TAIL_MARGIN_MS));
  const char *pass = json_string_value(json_object_get(state, "pass"));
  if (!pass && json_object_get(state, "cursor"))
    json_object_del(state, "cursor"); /* an index cursor of an older ONE: start the table again */
  int tail = pass && strcmp(pass, "tail") == 0;
  *ti = (size_t)json_integer_value(json_object_get(state, "table"));
  if (!st->tables[*ti] && !tail) {
    json_object_set_new(state, "table", json_integer(0));
    json_object_del(state, "cursor");
    tail = 1;
    *ti = 0;
  }
  json_object_set_new(state, "pass", json_string(tail ? "tail" : "ids"));
  *more = st->tables[*ti] != NULL;
  if (!*more)
    return 0;
  const char *cursor = json_string_value(json_object_get(state, "cursor"));
  if (!tail)
    return store_scan(tx, st->tables[*ti], cursor, limit, 0, page, err);
  struct store_query q = {.table = st->tables[*ti], .lower_op = STORE_GTE,
                          .lower = json_object_get(state, "since"), .limit = limit,
                          .cursor = cursor};
  return store_query(tx, &q, page, err);
}

/* One batch: the next page of the walk, rewritten in one transaction with
 * its undo record and the walk's new place. Sets *more. */
static int walk_batch(struct store *s, const struct mstep *st, json_t *memo,
                      const struct schema *target, const struct migrate_opts *o, size_t limit,
                      int *more, size_t *done, struct err *err)
{
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_WRITE_LAZY, &tx, err);
  if (rc)
    return rc;
  store_tx_set_origin(tx, STORE_ORIGIN_MIGRATION);
  char seed[MIGRATE_SEED_MAX];
  if ((rc = migrate_seed(tx, seed, err))) {
    store_rollback(tx);
    return rc;
  }
  json_t *state = state_get(tx, st->name);
  json_t *undo = json_pack("{s:[],s:[]}", "docs", "created");
  struct mctx m = {tx, st->name, json_object_get(undo, "created"), memo, target, seed, 0};
  struct store_page page;
  size_t ti = 0;
  rc = walk_page(tx, st, state, limit, &page, &ti, more, err);
  size_t i;
  json_t *doc;
  json_array_foreach(page.docs, i, doc) {
    if (rc)
      break;
    json_t *patch = NULL;
    m.at = json_number_value(json_object_get(doc, "_creationTime"));
    rc = st->rewrite(&m, st->tables[ti], doc, &patch, err);
    if (rc || !patch)
      continue;
    json_t *before = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
      json_t *old = json_object_get(doc, k);
      json_object_set_new(before, k, old ? json_incref(old) : store_undefined());
    }
    const char *id = json_string_value(json_object_get(doc, "_id"));
    json_array_append_new(json_object_get(undo, "docs"),
                          json_pack("{s:s,s:o,s:O}", "id", id, "before", before, "after", patch));
    rc = store_patch_doc(tx, doc, patch, err);
    json_decref(patch);
    kill_point(o);
  }
  if (!rc && *more) {
    size_t n = json_array_size(page.docs);
    *done += n;
    json_object_set_new(state, "state", json_string("running"));
    json_object_set_new(state, "processed", json_integer(
                          json_integer_value(json_object_get(state, "processed")) + (json_int_t)n));
    json_object_set_new(state, "changed", json_integer(
                          json_integer_value(json_object_get(state, "changed")) +
                          (json_int_t)json_array_size(json_object_get(undo, "docs"))));
    if (page.done || !page.cursor) {
      json_object_set_new(state, "table", json_integer((json_int_t)ti + 1));
      json_object_del(state, "cursor");
    } else {
      json_object_set_new(state, "cursor", json_string(page.cursor));
    }
    if (json_array_size(json_object_get(undo, "docs")) ||
        json_array_size(json_object_get(undo, "created"))) {
      char *text = json_dumps(undo, JSON_COMPACT);
      char stream[128];
      snprintf(stream, sizeof stream, "undo:%s", st->name);
      rc = text ? store_journal_add(tx, stream, text, NULL, err)
                : err_set(err, E_NOMEM, "out of memory");
      one_free(text);
    }
    if (!rc)
      rc = state_set(tx, st->name, state, err);
  }
  store_page_release(&page);
  json_decref(undo);
  json_decref(state);
  if (!rc) {
    rc = store_commit(tx, err);
    tx = NULL;
  }
  store_rollback(tx);
  return rc;
}

/* Batches are sized by time: the next holds as many documents as the last
 * rewrote in DEFAULT_BATCH_MS (or o->batch_ms), within [MIN_BATCH, o->batch],
 * so that a request waiting for the write lock waits a few milliseconds
 * whatever the documents cost. */
static size_t next_limit(size_t limit, size_t max, double took_ms, unsigned budget_ms)
{
  double want = (double)limit * (double)budget_ms / (took_ms > 0.05 ? took_ms : 0.05);
  if (want > 2.0 * (double)limit)
    want = 2.0 * (double)limit; /* grow gently: one cheap batch says little */
  size_t next = (size_t)want;
  return next < MIN_BATCH ? (max < MIN_BATCH ? max : MIN_BATCH) : next > max ? max : next;
}

/* After a batch, the walk rests: o->pause_ms when given, else a twentieth of
 * the batch's time and at least REST_MIN_US, so that a request polling for
 * the write lock gets it before the next batch does. */
static void rest(const struct migrate_opts *o, double took_ms)
{
  long us = o->pause_ms ? (long)o->pause_ms * 1000L : (long)(took_ms * 1000.0 / 20.0);
  if (us < REST_MIN_US)
    us = REST_MIN_US;
  struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
  nanosleep(&ts, NULL);
}

/* Expand's new indexes, built before the schema that declares them goes in
 * force (store_indexes_prepare and _fill), in batches paced like a walk's,
 * so that the switch itself is a short transaction. */
static int build_indexes(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                         struct err *err)
{
  struct schema *sc = NULL;
  int rc = schema_load(st->schema_up, &sc, err);
  size_t indexes = 0, documents = 0, done = 0;
  if (!rc)
    rc = store_indexes_prepare(s, sc, &indexes, &documents, err);
  if (!rc && indexes)
    rc = log_event(s, st->name, "indexes", json_pack("{s:I,s:I}", "building", (json_int_t)indexes,
                                                     "documents", (json_int_t)documents), err);
  size_t max = o->batch ? o->batch : DEFAULT_BATCH;
  size_t limit = max < FIRST_BATCH ? max : FIRST_BATCH;
  unsigned budget = o->batch_ms ? o->batch_ms : DEFAULT_BATCH_MS;
  int more = indexes > 0;
  while (!rc && more) {
    double t0 = clock_mono_s();
    rc = store_indexes_fill(s, limit, &more, &done, err);
    double took_ms = (clock_mono_s() - t0) * 1000.0;
    if (!rc && o->progress)
      o->progress(o->arg, st->name, done, documents > done ? documents : done);
    limit = next_limit(limit, max, took_ms, budget);
    if (!rc && more)
      rest(o, took_ms);
  }
  schema_free(sc);
  return rc;
}

static int walk(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                struct err *err)
{
  struct schema *target = NULL;
  int rc = st->schema_up ? schema_load(st->schema_up, &target, err) : 0;
  json_t *memo = json_object();
  size_t total = (size_t)table_count(s, st->tables), done = 0;
  size_t max = o->batch ? o->batch : DEFAULT_BATCH;
  size_t limit = max < FIRST_BATCH ? max : FIRST_BATCH;
  unsigned budget = o->batch_ms ? o->batch_ms : DEFAULT_BATCH_MS;
  int more = 1;
  while (!rc && more) {
    double t0 = clock_mono_s();
    rc = walk_batch(s, st, memo, target, o, limit, &more, &done, err);
    double took_ms = (clock_mono_s() - t0) * 1000.0;
    if (!rc && o->progress)
      o->progress(o->arg, st->name, done, total > done ? total : done);
    limit = next_limit(limit, max, took_ms, budget);
    if (!rc && more)
      rest(o, took_ms);
  }
  json_decref(memo);
  schema_free(target);
  return rc;
}

/* --- undo --- */

struct undo_pick {
  int64_t below, seq;
  char *body;
};

static int pick_newest(void *arg, int64_t seq, const char *body)
{
  struct undo_pick *p = arg;
  if (seq >= p->below)
    return 0;
  p->seq = seq;
  p->body = one_strdup(body);
  return 1;
}

/* Applies one undo record; counts values a later write changed (kept). */
static int apply_undo(struct store_tx *tx, json_t *rec, const struct migrate_opts *o,
                      size_t *kept, struct err *err)
{
  size_t i;
  json_t *d;
  int rc = 0;
  json_array_foreach(json_object_get(rec, "docs"), i, d) {
    const char *id = json_string_value(json_object_get(d, "id"));
    json_t *cur = NULL;
    rc = store_get(tx, id, &cur, NULL, err);
    if (rc == E_NOTFOUND) {
      (*kept)++; /* deleted since: nothing to put back */
      rc = 0;
      err_clear(err);
      continue;
    }
    if (rc)
      break;
    json_t *patch = json_object(), *after = json_object_get(d, "after");
    const char *k;
    json_t *v;
    json_object_foreach(after, k, v) {
      json_t *now = json_object_get(cur, k);
      int same = store_is_undefined(v) ? now == NULL : now && json_equal(now, v);
      if (same)
        json_object_set(patch, k, json_object_get(json_object_get(d, "before"), k));
      else
        (*kept)++;
    }
    if (json_object_size(patch))
      rc = store_patch(tx, id, patch, err);
    json_decref(patch);
    json_decref(cur);
    if (rc)
      break;
    kill_point(o);
  }
  json_t *created = json_object_get(rec, "created");
  for (size_t j = json_array_size(created); !rc && j > 0; j--) {
    rc = store_delete(tx, json_string_value(json_array_get(created, j - 1)), err);
    if (rc == E_NOTFOUND) {
      rc = 0;
      err_clear(err);
    }
  }
  return rc;
}

static int unwalk(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                  struct err *err)
{
  char stream[128];
  snprintf(stream, sizeof stream, "undo:%s", st->name);
  size_t kept = 0, batches = 0;
  int rc = 0;
  for (;;) {
    struct store_tx *tx = NULL;
    double t0 = clock_mono_s();
    if ((rc = store_begin(s, STORE_WRITE_LAZY, &tx, err))) /* the log entry after is synced */
      break;
    store_tx_set_origin(tx, STORE_ORIGIN_MIGRATION);
    json_t *state = state_get(tx, st->name);
    json_t *below = json_object_get(state, "below");
    struct undo_pick p = {below ? (int64_t)json_integer_value(below) : INT64_MAX, 0, NULL};
    rc = store_journal_scan(tx, stream, 1, pick_newest, &p, err);
    if (rc == 1)
      rc = 0; /* pick_newest stopped the scan at the record it took */
    int finished = !rc && !p.body;
    if (!rc && p.body) {
      json_t *rec = json_loads(p.body, 0, NULL);
      rc = rec ? apply_undo(tx, rec, o, &kept, err) : err_set(err, E_STORE, "a damaged undo record");
      json_decref(rec);
      json_object_set_new(state, "state", json_string("reverting"));
      json_object_set_new(state, "below", json_integer(p.seq));
      if (!rc)
        rc = state_set(tx, st->name, state, err);
    } else if (finished) {
      rc = store_journal_drop(tx, stream, err);
      if (!rc)
        rc = state_set(tx, st->name, NULL, err); /* back to pending */
    }
    one_free(p.body);
    json_decref(state);
    if (!rc) {
      rc = store_commit(tx, err);
      tx = NULL;
    }
    store_rollback(tx);
    if (rc || finished)
      break;
    if (o->progress)
      o->progress(o->arg, st->name, ++batches, 0);
    rest(o, (clock_mono_s() - t0) * 1000.0);
  }
  if (!rc && kept)
    rc = log_event(s, st->name, "kept", json_pack("{s:I}", "values",
                                                  (json_int_t)kept), err);
  return rc;
}

/* --- running steps --- */

static int mark_done(struct store_tx *tx, void *arg, struct err *err)
{
  const struct mstep *st = arg;
  json_t *state = state_get(tx, st->name);
  json_object_set_new(state, "state", json_string("done"));
  json_object_set_new(state, "finished", json_real(clock_now_ms()));
  int rc = state_set(tx, st->name, state, err);
  json_decref(state);
  return rc;
}

static int clear_state(struct store_tx *tx, void *arg, struct err *err)
{
  const struct mstep *st = arg;
  return state_set(tx, st->name, NULL, err); /* back to pending */
}

static int run_up(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                  struct err *err)
{
  int rc = backup(s, o, st->name, "up", err);
  if (!rc)
    rc = log_event(s, st->name, "start", json_pack("{s:s}", "direction", "up"), err);
  if (!rc && st->kind == MSTEP_EXPAND)
    rc = build_indexes(s, st, o, err);
  if (!rc && st->kind == MSTEP_EXPAND)
    rc = switch_schema(s, st->schema_up, err);
  if (!rc && st->rewrite)
    rc = walk(s, st, o, err);
  if (!rc && st->kind == MSTEP_CONTRACT) {
    rc = check_schema(s, st->schema_up, err);
    if (!rc)
      rc = switch_schema(s, st->schema_up, err);
  }
  if (!rc)
    rc = store_run(s, STORE_WRITE, mark_done, (void *)st, err);
  struct err e2 = ERR_INIT;
  log_event(s, st->name, rc ? "fail" : "end",
            rc ? json_pack("{s:s,s:s}", "direction", "up", "error", err->msg)
               : json_pack("{s:s}", "direction", "up"), &e2);
  err_clear(&e2);
  return rc;
}

static int run_down(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                    struct err *err)
{
  int rc = 0;
  if (st->kind == MSTEP_EXPAND)
    rc = check_schema(s, st->schema_down, err); /* before anything: a refusal changes nothing */
  if (!rc)
    rc = backup(s, o, st->name, "down", err);
  if (!rc)
    rc = log_event(s, st->name, "start", json_pack("{s:s}", "direction", "down"), err);
  if (!rc && st->kind == MSTEP_CONTRACT)
    rc = switch_schema(s, st->schema_down, err);
  if (!rc && st->rewrite)
    rc = unwalk(s, st, o, err);
  if (!rc && st->kind == MSTEP_EXPAND) {
    rc = switch_schema(s, st->schema_down, err);
    if (!rc)
      rc = store_run(s, STORE_WRITE, clear_state, (void *)st, err);
  }
  struct err e2 = ERR_INIT;
  log_event(s, st->name, rc ? "fail" : "end",
            rc ? json_pack("{s:s,s:s}", "direction", "down", "error", err->msg)
               : json_pack("{s:s}", "direction", "down"), &e2);
  err_clear(&e2);
  return rc;
}

static int step_index(const char *name, size_t *out)
{
  size_t n;
  const struct mstep *st = steps_list(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(st[i].name, name) == 0) {
      *out = i;
      return 0;
    }
  return -1;
}

/* The number of steps done, from the start of the chain (they are done in
 * order, so this is the position). */
int migrate_position(struct store *s, size_t *pos, struct err *err)
{
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  size_t n;
  const struct mstep *st = steps_list(&n);
  *pos = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *state = state_get(tx, st[i].name);
    if (is_done(state))
      *pos = i + 1;
    json_decref(state);
  }
  store_rollback(tx);
  return 0;
}

/* How far the chain has left its marks: *reach is one past the last step
 * that is not pending (a step killed while running or reverting counts: it
 * has changes to take back), and *reverting the index of a step whose
 * reversal was stopped half-way (n when none). */
static int chain_extent(struct store *s, size_t *reach, size_t *reverting, struct err *err)
{
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  size_t n;
  const struct mstep *st = steps_list(&n);
  *reach = 0;
  *reverting = n;
  for (size_t i = 0; i < n; i++) {
    json_t *state = state_get(tx, st[i].name);
    const char *v = json_string_value(json_object_get(state, "state"));
    if (strcmp(v, "pending") != 0)
      *reach = i + 1;
    if (strcmp(v, "reverting") == 0)
      *reverting = i;
    json_decref(state);
  }
  store_rollback(tx);
  return 0;
}

/* Up and contract refuse to go on from a half-reverted step. */
static int refuse_half_reverted(struct store *s, struct err *err)
{
  size_t n, reach, reverting;
  const struct mstep *st = steps_list(&n);
  int rc = chain_extent(s, &reach, &reverting, err);
  if (!rc && reverting < n)
    rc = err_set(err, E_CONFLICT, "step '%s' was being reverted when 'one migrate down' "
                 "stopped; run 'one migrate down --to %s' to finish reverting it first",
                 st[reverting].name, reverting ? st[reverting - 1].name : "agent-inbox");
  return rc;
}

static int with_lock(struct store *s, int (*fn)(struct store *s, void *arg, struct err *err),
                     void *arg, struct err *err)
{
  int rc = store_run(s, STORE_WRITE, lock_take, NULL, err);
  if (rc)
    return rc;
  rc = fn(s, arg, err);
  struct err e2 = ERR_INIT;
  store_run(s, STORE_WRITE, lock_drop, NULL, &e2);
  err_clear(&e2);
  return rc;
}

static int keep_no_changes(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  return store_changes_keep(tx, 0, err);
}

struct run_arg {
  size_t from, to;      /* up: run steps [from, to); down: reverse [to, from) */
  int down;
  const struct migrate_opts *o;
};

static int run_range(struct store *s, void *arg, struct err *err)
{
  struct run_arg *a = arg;
  size_t n;
  const struct mstep *st = steps_list(&n);
  /* the schema in force must be where the chain says it is */
  char name[128];
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  store_schema_name(tx, name, sizeof name);
  store_rollback(tx);
  size_t pos = 0;
  if ((rc = migrate_position(s, &pos, err)))
    return rc;
  const char *expected = pos == 0 ? "agent-inbox" : pos >= n ? "one" : "one-expand";
  if (strcmp(name, expected) != 0)
    return err_set(err, E_CONFLICT, "the database is at schema '%s', not '%s' as the migration "
                   "position (%zu of %zu steps done) says; nothing was changed",
                   name[0] ? name : "none", expected, pos, n);
  if (!a->down && a->from == 0)
    rc = migrate_baseline(s, err); /* what verify compares with, taken before anything changes */
  if (!a->down)
    for (size_t i = a->from; !rc && i < a->to; i++)
      rc = run_up(s, &st[i], a->o, err);
  else
    for (size_t i = a->from; !rc && i > a->to; i--)
      rc = run_down(s, &st[i - 1], a->o, err);
  if (!rc && a->down && a->to == 0) /* back at the start: no baseline to verify against */
    rc = store_run(s, STORE_WRITE, keep_no_changes, NULL, err);
  return rc;
}

int migrate_up(struct store *s, const char *to, const struct migrate_opts *o, struct err *err)
{
  size_t n, target = 0;
  steps_list(&n);
  if (to && step_index(to, &target))
    return err_set(err, E_INVALID, "no step '%s' (see 'one migrate plan')", to);
  target = to ? target + 1 : n - 1; /* without --to: every step but contract */
  if (target == n)
    return err_set(err, E_INVALID, "contract runs only with 'one migrate contract --confirm'");
  size_t pos = 0;
  int rc = refuse_half_reverted(s, err);
  if (!rc)
    rc = migrate_position(s, &pos, err);
  if (rc || target <= pos)
    return rc; /* already there */
  struct run_arg a = {pos, target, 0, o};
  return with_lock(s, run_range, &a, err);
}

int migrate_down(struct store *s, const char *to, const struct migrate_opts *o, struct err *err)
{
  size_t target = 0;
  if (to && strcmp(to, "agent-inbox") != 0) {
    if (step_index(to, &target))
      return err_set(err, E_INVALID, "no step '%s' (see 'one migrate plan')", to);
    target++; /* keep `to` itself */
  }
  size_t reach = 0, reverting;
  int rc = chain_extent(s, &reach, &reverting, err); /* a stopped step is taken back too */
  if (rc || target >= reach)
    return rc;
  struct run_arg a = {reach, target, 1, o};
  return with_lock(s, run_range, &a, err);
}

int migrate_contract(struct store *s, int confirm, const struct migrate_opts *o,
                     struct err *err)
{
  if (!confirm)
    return err_set(err, E_INVALID, "contract drops the deprecated fields from the schema (their "
                   "values move to migrationLegacy); run 'one migrate verify' first, then "
                   "'one migrate contract --confirm'");
  size_t n, pos = 0;
  steps_list(&n);
  int rc = refuse_half_reverted(s, err);
  if (!rc)
    rc = migrate_position(s, &pos, err);
  if (rc)
    return rc;
  if (pos >= n)
    return 0;
  if (pos != n - 1)
    return err_set(err, E_CONFLICT, "contract comes after every backfill: run 'one migrate up' "
                   "first (%zu of %zu steps done)", pos, n - 1);
  struct store_tx *tx = NULL;
  char *v = NULL;
  if ((rc = store_begin(s, STORE_READ, &tx, err)))
    return rc;
  struct err e = ERR_INIT;
  int have = store_meta_get(tx, "migrate.verified", &v, &e) == 0;
  store_rollback(tx);
  err_clear(&e);
  json_t *ver = have ? json_loads(v, 0, NULL) : NULL;
  one_free(v);
  int ok = ver && json_is_true(json_object_get(ver, "ok")) &&
           (size_t)json_integer_value(json_object_get(ver, "position")) == pos;
  json_decref(ver);
  if (!ok)
    return err_set(err, E_CONFLICT, "contract needs a passing 'one migrate verify' at the "
                   "current position first");
  struct run_arg a = {pos, n, 0, o};
  return with_lock(s, run_range, &a, err);
}

json_t *migrate_plan(void)
{
  size_t n;
  const struct mstep *st = steps_list(&n);
  static const char *const kinds[] = {"expand", "backfill", "contract"};
  json_t *a = json_array();
  for (size_t i = 0; a && i < n; i++)
    json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "name", st[i].name, "kind",
                                       kinds[st[i].kind], "summary", st[i].summary, "schema",
                                       st[i].schema_up ? st[i].schema_up : "one-expand"));
  return a;
}

static int collect_log(void *arg, int64_t seq, const char *body)
{
  (void)seq;
  json_t *e = json_loads(body, 0, NULL);
  if (e)
    json_array_append_new(arg, e);
  return 0;
}

int migrate_log(struct store *s, json_t **out, struct err *err)
{
  struct store_tx *tx = NULL;
  *out = json_array();
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (!rc)
    rc = store_journal_scan(tx, LOG_STREAM, 0, collect_log, *out, err);
  store_rollback(tx);
  return rc;
}

int migrate_status(struct store *s, json_t **out, struct err *err)
{
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  char name[128];
  store_schema_name(tx, name, sizeof name);
  size_t n, pos = 0;
  const struct mstep *st = steps_list(&n);
  json_t *plan = migrate_plan();
  for (size_t i = 0; i < n; i++) {
    json_t *state = state_get(tx, st[i].name), *row = json_array_get(plan, i);
    json_object_update(row, state);
    if (is_done(state))
      pos = i + 1;
    json_decref(state);
  }
  char *lock = NULL, *ver = NULL;
  struct err e = ERR_INIT;
  store_meta_get(tx, LOCK_KEY, &lock, &e);
  err_clear(&e);
  store_meta_get(tx, "migrate.verified", &ver, &e);
  err_clear(&e);
  store_rollback(tx);
  *out = json_pack("{s:s,s:I,s:I,s:o,s:o*,s:o*}", "schema", name, "position", (json_int_t)pos,
                   "count", (json_int_t)n, "steps", plan, "lock",
                   lock ? json_loads(lock, 0, NULL) : NULL, "verified",
                   ver ? json_loads(ver, 0, NULL) : NULL);
  one_free(lock);
  one_free(ver);
  return *out ? 0 : err_set(err, E_NOMEM, "out of memory");
}
