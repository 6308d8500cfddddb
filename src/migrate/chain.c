/* chain: the engine that runs the migration steps up and down. */
#include "migrate/chain.h"
#include "migrate/chain_int.h"

#include "migrate/steps.h"
#include "schema/schema.h"
#include "util/clock.h"
#include "util/jv.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_STREAM "migration.log"
#define LOCK_KEY "migrate.lock"

/* --- state in the database --- */

static void state_key(const char *step, char *out, size_t n)
{
  snprintf(out, n, "migrate.step.%s", step);
}

json_t *chain_state_get(struct store_tx *tx, const char *step)
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

int chain_state_set(struct store_tx *tx, const char *step, const json_t *st, struct err *err)
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
int chain_log_event(struct store *s, const char *step, const char *event, json_t *extra,
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

/* Removes the .partial files of backups a killed run left in dir: the
 * caller holds the migration lock, so none is being written. */
static void remove_partial_backups(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len > 8 && strcmp(e->d_name + len - 8, ".partial") == 0) {
      char path[4400];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  }
  if (d)
    closedir(d);
}

/* Takes the backup before a step (path: where it goes, for the log of the
 * steps it covers). With copying, the copy is started and left running on
 * a thread of its own (*copying; backup_finished logs it once over); it
 * holds the database as it is now, whatever is written after. */
static int backup(struct store *s, const struct migrate_opts *o, const char *step,
                  const char *dir_word, char *path, size_t pathlen,
                  struct store_backup **copying, struct err *err)
{
  char dir[4096];
  migrate_backup_dir(o->db_path ? o->db_path : "one.db", o->backup_dir, dir, sizeof dir);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return err_set(err, E_IO, "cannot create the backup folder %s: %s", dir, strerror(errno));
  remove_partial_backups(dir);
  char stamp[32];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime(&ts.tv_sec));
  const char *db = o->db_path ? o->db_path : "one.db";
  const char *base = strrchr(db, '/') ? strrchr(db, '/') + 1 : db;
  snprintf(path, pathlen, "%s/%s.%s.%03ld.before-%s-%s.db", dir, base, stamp,
           ts.tv_nsec / 1000000, step, dir_word);
  if (copying)
    return store_backup_start(s, path, copying, err);
  int rc = store_backup(s, path, err);
  if (!rc)
    rc = chain_log_event(s, step, "backup", json_pack("{s:s}", "path", path), err);
  return rc;
}

/* After a step that ran beside its backup: waits for the copy if it still
 * runs, and logs it (a copy that failed fails the step, when nothing else
 * did). */
static int backup_finished(struct store *s, const char *step, const char *path,
                           struct store_backup *copying, int rc, struct err *err)
{
  struct err e2 = ERR_INIT;
  int brc = store_backup_finish(copying, rc ? &e2 : err);
  if (!brc)
    brc = chain_log_event(s, step, "backup", json_pack("{s:s,s:b}", "path", path, "beside", 1),
                          rc ? &e2 : err);
  err_clear(&e2);
  return rc ? rc : brc;
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

static int mark_done(struct store_tx *tx, void *arg, struct err *err)
{
  const struct mstep *st = arg;
  json_t *state = chain_state_get(tx, st->name);
  json_object_set_new(state, "state", json_string("done"));
  json_object_set_new(state, "finished", json_real(clock_now_ms()));
  int rc = chain_state_set(tx, st->name, state, err);
  json_decref(state);
  return rc;
}

static int clear_state(struct store_tx *tx, void *arg, struct err *err)
{
  const struct mstep *st = arg;
  return chain_state_set(tx, st->name, NULL, err); /* back to pending */
}

/* A step runs after a backup: its own, or (a backfill that follows another
 * in the same run) the one taken before the first backfill, in *bk. */
static int run_up(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                  int own_backup, char *bk, size_t bklen, struct err *err)
{
  /* a backfill may run beside its backup (walk.c, beside_backup) */
  struct store_backup *copying = NULL;
  int rc = own_backup ? backup(s, o, st->name, "up", bk, bklen,
                               st->kind == MSTEP_BACKFILL ? &copying : NULL, err)
                      : 0;
  if (!rc)
    rc = chain_log_event(s, st->name, "start",
                         json_pack("{s:s,s:s}", "direction", "up", "backup", bk), err);
  if (!rc && st->kind == MSTEP_EXPAND)
    rc = walk_build_indexes(s, st, o, err);
  if (!rc && st->kind == MSTEP_EXPAND)
    rc = switch_schema(s, st->schema_up, err);
  if (!rc && (st->rewrite || st->rewrite_text))
    rc = walk_up(s, st, o, copying, err);
  if (copying)
    rc = backup_finished(s, st->name, bk, copying, rc, err);
  if (!rc && st->kind == MSTEP_CONTRACT) {
    rc = check_schema(s, st->schema_up, err);
    if (!rc)
      rc = switch_schema(s, st->schema_up, err);
  }
  if (!rc)
    rc = store_run(s, STORE_WRITE, mark_done, (void *)st, err);
  struct err e2 = ERR_INIT;
  chain_log_event(s, st->name, rc == E_STOPPED ? "stop" : rc ? "fail" : "end",
            rc ? json_pack("{s:s,s:s}", "direction", "up", "error", err->msg)
               : json_pack("{s:s}", "direction", "up"), &e2);
  err_clear(&e2);
  return rc;
}

static int run_down(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                    int own_backup, char *bk, size_t bklen, struct err *err)
{
  int rc = 0;
  if (st->kind == MSTEP_EXPAND)
    rc = check_schema(s, st->schema_down, err); /* before anything: a refusal changes nothing */
  if (!rc && own_backup)
    rc = backup(s, o, st->name, "down", bk, bklen, NULL, err);
  if (!rc)
    rc = chain_log_event(s, st->name, "start",
                         json_pack("{s:s,s:s}", "direction", "down", "backup", bk), err);
  if (!rc && st->kind == MSTEP_CONTRACT)
    rc = switch_schema(s, st->schema_down, err);
  if (!rc && (st->rewrite || st->rewrite_text))
    rc = walk_down(s, st, o, err);
  if (!rc && st->kind == MSTEP_EXPAND) {
    rc = switch_schema(s, st->schema_down, err);
    if (!rc)
      rc = store_run(s, STORE_WRITE, clear_state, (void *)st, err);
  }
  struct err e2 = ERR_INIT;
  chain_log_event(s, st->name, rc == E_STOPPED ? "stop" : rc ? "fail" : "end",
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
    json_t *state = chain_state_get(tx, st[i].name);
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
    json_t *state = chain_state_get(tx, st[i].name);
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

/* Whether b runs under the backup taken before a: both are backfills. */
static int same_stage(const struct mstep *a, const struct mstep *b)
{
  return a->kind == MSTEP_BACKFILL && b->kind == MSTEP_BACKFILL;
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
  /* A backup before each of the chain's three stages (expand, the
   * backfills, contract) and at the start of every run; the backfills of
   * one run share theirs (docs/decisions.md, "One backup before the
   * backfills"). */
  char bk[4400] = "";
  if (!a->down)
    for (size_t i = a->from; !rc && i < a->to; i++)
      rc = run_up(s, &st[i], a->o, !(i > a->from && same_stage(&st[i - 1], &st[i])), bk,
                  sizeof bk, err);
  else
    for (size_t i = a->from; !rc && i > a->to; i--)
      rc = run_down(s, &st[i - 1], a->o, !(i < a->from && same_stage(&st[i], &st[i - 1])), bk,
                    sizeof bk, err);
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
    json_t *state = chain_state_get(tx, st[i].name), *row = json_array_get(plan, i);
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
