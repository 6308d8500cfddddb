/* store: the backend-neutral store: connections, transactions, the schema
 * in force, and the change feed. Documents and queries are in store_docs.c.
 *
 * Invariants:
 * - a transaction holds one backend connection from begin to commit or
 *   rollback, and a reference to the schema state it began under;
 * - a write transaction holds store.write_lock from begin to its end, so
 *   writes of this process are serialized and listeners see commits in
 *   commit order; across processes the backend's own lock serializes;
 * - the schema state is reloaded whenever the database's schema epoch
 *   differs from the cached one (another process may have migrated);
 * - a transaction with `failed` set never commits. */
#include "store/keys.h"
#include "store/store_int.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- schema state --- */

void state_unref(struct sstate *st)
{
  if (!st || atomic_fetch_sub(&st->refs, 1) > 1)
    return;
  for (size_t i = 0; i < st->ntables; i++) {
    for (size_t j = 0; j < st->tables[i].nix; j++) {
      one_free(st->tables[i].ix[j].name);
      index_def_free(st->tables[i].ix[j].owned);
    }
    one_free(st->tables[i].ix);
    one_free(st->tables[i].name);
  }
  one_free(st->tables);
  schema_free(st->schema);
  one_free(st->name);
  one_free(st->epoch);
  one_free(st);
}

const struct stable *state_table(const struct sstate *st, const char *name)
{
  for (size_t i = 0; i < st->ntables; i++)
    if (strcmp(st->tables[i].name, name) == 0)
      return &st->tables[i];
  return NULL;
}

const struct stable *state_table_number(const struct sstate *st, uint32_t number)
{
  for (size_t i = 0; i < st->ntables; i++)
    if (st->tables[i].number == number)
      return &st->tables[i];
  return NULL;
}

static int add_table_cb(void *arg, uint32_t number, const char *name)
{
  struct sstate *st = arg;
  struct stable *t = one_realloc(st->tables, (st->ntables + 1) * sizeof *t);
  if (!t)
    return E_NOMEM;
  st->tables = t;
  t = &t[st->ntables];
  memset(t, 0, sizeof *t);
  if (!(t->name = one_strdup(name)))
    return E_NOMEM;
  t->number = number;
  t->def = schema_table(st->schema, name);
  st->ntables++;
  return 0;
}

struct load_ctx {
  struct sstate *st;
  json_t *building;             /* the building marks (store_index.c) */
};

static int add_index_cb(void *arg, int64_t ix, uint32_t number, const char *name,
                        const char *fields)
{
  struct load_ctx *l = arg;
  struct stable *t = (struct stable *)state_table_number(l->st, number);
  if (!t)
    return 0;
  if (strcmp(name, "by_creation_time") == 0) {
    t->by_ct = ix;
    return 0;
  }
  int building = index_is_building(l->building, ix);
  const struct index_def *def = table_index(t->def, name);
  char *want = def ? index_fields_text(def) : NULL;
  int same = want && strcmp(want, fields) == 0;
  one_free(want);
  if (!same && !building)
    return 0; /* an index the schema in force does not have (set_schema removes it) */
  struct index_def *owned = same ? NULL : index_def_parse(name, fields);
  if (!same && !owned)
    return E_NOMEM;
  struct sindex *x = one_realloc(t->ix, (t->nix + 1) * sizeof *x);
  if (!x) {
    index_def_free(owned);
    return E_NOMEM;
  }
  t->ix = x;
  x[t->nix] = (struct sindex){one_strdup(name), ix, owned ? owned : def, owned, building};
  if (!x[t->nix].name) {
    index_def_free(owned);
    return E_NOMEM;
  }
  t->nix++;
  return 0;
}

/* Builds the state the database holds now (inside a transaction on c). */
static int load_state(struct store *s, void *c, const char *epoch, struct sstate **out,
                      struct err *err)
{
  struct sstate *st = one_calloc(1, sizeof *st);
  char *source = NULL;
  struct load_ctx l = {st, NULL}; /* before the first goto out */
  int rc;
  if (!st)
    return err_set(err, E_NOMEM, "out of memory");
  atomic_init(&st->refs, 1);
  if (!(st->epoch = one_strdup(epoch))) {
    rc = err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
  rc = s->be->meta_get(c, "schema_name", &st->name, err);
  if (rc == E_NOTFOUND) {
    rc = 0;
    st->name = one_strdup("");
  } else if (!rc) {
    if ((rc = s->be->meta_get(c, "schema_source", &source, err)))
      goto out;
    char file[128];
    snprintf(file, sizeof file, "<schema %s in the database>", st->name);
    if ((rc = schema_parse_text(source, strlen(source), file, &st->schema, err)))
      goto out;
  }
  if (rc)
    goto out;
  if (!st->name) {
    rc = err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = index_building_load(s, c, &l.building, err)))
    goto out;
  if ((rc = s->be->tables(c, add_table_cb, st, err)) || (rc = s->be->indexes(c, add_index_cb, &l, err))) {
    if (rc == E_NOMEM)
      err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
out:
  json_decref(l.building);
  one_free(source);
  if (rc) {
    state_unref(st);
    return rc;
  }
  *out = st;
  return 0;
}

/* Points tx at the current state, loading it if the epoch moved. With
 * uncommitted set, the state comes from this transaction's own uncommitted
 * schema change: it is always loaded and never shared with the cache. */
static int tx_sync_state(struct store_tx *tx, int uncommitted, struct err *err)
{
  struct store *s = tx->s;
  char *epoch = NULL;
  int rc = s->be->meta_get(tx->c, "schema_epoch", &epoch, err);
  if (rc == E_NOTFOUND) {
    epoch = one_strdup("0");
    rc = epoch ? 0 : err_set(err, E_NOMEM, "out of memory");
  }
  if (rc)
    return rc;
  struct sstate *use = NULL;
  pthread_mutex_lock(&s->lock);
  if (!uncommitted && s->state && strcmp(s->state->epoch, epoch) == 0) {
    use = s->state;
    atomic_fetch_add(&use->refs, 1);
  }
  pthread_mutex_unlock(&s->lock);
  if (!use) {
    rc = load_state(s, tx->c, epoch, &use, err);
    if (rc) {
      one_free(epoch);
      return rc;
    }
    if (!uncommitted) {
      pthread_mutex_lock(&s->lock);
      struct sstate *old = s->state;
      atomic_fetch_add(&use->refs, 1);
      s->state = use;
      pthread_mutex_unlock(&s->lock);
      state_unref(old);
    }
  }
  one_free(epoch);
  struct sstate *prev = tx->state; /* the transaction's own pointer: no lock */
  tx->state = use;
  state_unref(prev);
  return 0;
}

/* --- open, close, connections --- */

/* The checkpointer: every 100 ms, when the log holds CHECKPOINT_PAGES or
 * more (as the commits report it), copies it into the database as far as
 * readers allow, on a connection of its own (a passive checkpoint waits for
 * nobody), so that no request's commit ever does. Checkpointing more often
 * costs the commits: each checkpoint syncs the database file. A bulk
 * writer's (a migration's) copies at BULK_CHECKPOINT_PAGES: its batches
 * then go on while the last ones' pages are copied. */
#define CHECKPOINT_PAGES 1000 /* SQLite's own threshold */
#define RESTART_PAGES 16384 /* 64 MiB of log: start it over */
#define BULK_CHECKPOINT_PAGES 16384 /* a bulk writer's: copy at 64 MiB */
#define BULK_RESTART_PAGES 65536    /* and start over at 256 MiB */

static void *checkpointer(void *arg)
{
  struct store *s = arg;
  void *c = NULL;
  struct err err = ERR_INIT;
  if (s->be->connect(&s->opt, 0, NULL, &c, &err) != 0) {
    err_clear(&err);
    return NULL; /* commits keep the log bounded less often; nothing breaks */
  }
  const int copy_at = s->opt.bulk ? BULK_CHECKPOINT_PAGES : CHECKPOINT_PAGES;
  const int restart_at = s->opt.bulk ? BULK_RESTART_PAGES : RESTART_PAGES;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&s->stop, &s->lock, &until);
    if (s->stopping)
      break;
    if (atomic_load(&s->wal_frames) < copy_at)
      continue;
    pthread_mutex_unlock(&s->lock);
    atomic_store(&s->wal_frames, 0); /* the next commit reports what is left */
    int log = 0, copied = 0;
    s->be->checkpoint(c, 0, &log, &copied, &err);
    if (log >= restart_at) {
      /* A log only starts over when a write begins with all of it copied
       * and no reader in it; under steady writes and reads that moment
       * never comes, and the log grew to gigabytes. So once it is this
       * long, copy the rest with this process's writers held and wait
       * for the readers to leave it (at most 5 ms: else the next round). */
      err_clear(&err);
      pthread_mutex_lock(&s->write_lock);
      s->be->checkpoint(c, 1, &log, &copied, &err);
      pthread_mutex_unlock(&s->write_lock);
    }
    err_clear(&err);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  s->be->disconnect(c);
  return NULL;
}

int store_open(const struct store_options *opt, struct store **out, struct err *err)
{
  struct store *s = one_calloc(1, sizeof *s);
  void *c = NULL;
  if (!s)
    return err_set(err, E_NOMEM, "out of memory");
  s->be = &store_sqlite_backend;
  s->opt = *opt;
  s->next_handle = 1;
  if (!(s->path = one_strdup(opt->path))) {
    one_free(s);
    return err_set(err, E_NOMEM, "out of memory");
  }
  s->opt.path = s->path;
  pthread_mutex_init(&s->lock, NULL);
  pthread_mutex_init(&s->write_lock, NULL);
  pthread_cond_init(&s->stop, NULL);
  pthread_mutex_init(&s->group_lock, NULL);
  int rc = s->be->connect(&s->opt, 1, &s->wal_frames, &c, err);
  if (rc) {
    store_close(s);
    return rc;
  }
  s->idle = one_malloc(8 * sizeof *s->idle);
  if (!s->idle) {
    s->be->disconnect(c);
    store_close(s);
    return err_set(err, E_NOMEM, "out of memory");
  }
  s->capidle = 8;
  s->idle[s->nidle++] = c;
  if ((rc = search_on_open(s, err))) {
    store_close(s);
    return rc;
  }
  if (opt->background_checkpoints || opt->bulk)
    s->checkpointing = pthread_create(&s->checkpointer, NULL, checkpointer, s) == 0;
  *out = s;
  return 0;
}

void store_close(struct store *s)
{
  if (!s)
    return;
  if (s->checkpointing) {
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->stop);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->checkpointer, NULL);
  }
  for (size_t i = 0; i < s->nidle; i++)
    s->be->disconnect(s->idle[i]);
  one_free(s->idle);
  state_unref(s->state);
  one_free(s->listeners);
  pthread_mutex_destroy(&s->lock);
  pthread_mutex_destroy(&s->write_lock);
  pthread_cond_destroy(&s->stop);
  pthread_mutex_destroy(&s->group_lock);
  one_free(s->path);
  one_free(s);
}

int store_conn_get(struct store *s, void **c, struct err *err)
{
  pthread_mutex_lock(&s->lock);
  if (s->nidle) {
    *c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->lock);
    return 0;
  }
  pthread_mutex_unlock(&s->lock);
  return s->be->connect(&s->opt, 0, &s->wal_frames, c, err);
}

void store_conn_put(struct store *s, void *c)
{
  pthread_mutex_lock(&s->lock);
  if (s->nidle == s->capidle) {
    void **grown = one_realloc(s->idle, s->capidle * 2 * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&s->lock);
      s->be->disconnect(c);
      return;
    }
    s->idle = grown;
    s->capidle *= 2;
  }
  s->idle[s->nidle++] = c;
  pthread_mutex_unlock(&s->lock);
}

/* --- transactions --- */

static void tx_free(struct store_tx *tx)
{
  if (tx->c)
    store_conn_put(tx->s, tx->c);
  if (tx->write)
    pthread_mutex_unlock(&tx->s->write_lock);
  state_unref(tx->state);
  one_free(tx->changes);
  one_free(tx);
}

static void end_held_reads(struct store *s);

int store_begin(struct store *s, enum store_mode mode, struct store_tx **out, struct err *err)
{
  if (mode != STORE_READ)
    end_held_reads(s);
  struct store_tx *tx = one_calloc(1, sizeof *tx);
  if (!tx)
    return err_set(err, E_NOMEM, "out of memory");
  tx->s = s;
  int rc = store_conn_get(s, &tx->c, err);
  if (rc) {
    one_free(tx);
    return rc;
  }
  if (mode != STORE_READ) {
    pthread_mutex_lock(&s->write_lock);
    tx->write = 1;
  }
  if ((rc = s->be->begin(tx->c, mode == STORE_WRITE_LAZY ? 2 : tx->write, err))) {
    tx_free(tx);
    return rc;
  }
  if ((rc = tx_sync_state(tx, 0, err))) {
    s->be->rollback(tx->c);
    tx_free(tx);
    return rc;
  }
  *out = tx;
  return 0;
}

void store_rollback(struct store_tx *tx)
{
  if (!tx)
    return;
  tx->s->be->rollback(tx->c);
  tx_free(tx);
}

static void notify(struct store *s, const struct store_change *changes, size_t n)
{
  pthread_mutex_lock(&s->lock);
  size_t nl = s->nlisteners;
  struct listener copy[32];
  if (nl > 32)
    nl = 32;
  if (nl)
    memcpy(copy, s->listeners, nl * sizeof *copy);
  pthread_mutex_unlock(&s->lock);
  for (size_t i = 0; i < nl; i++)
    copy[i].fn(copy[i].arg, changes, n);
}

int store_commit(struct store_tx *tx, struct err *err)
{
  int rc;
  if (tx->failed) {
    rc = err_set(err, E_STORE, "the transaction failed part-way and was rolled back");
    store_rollback(tx);
    return rc;
  }
  if ((rc = tx->s->be->commit(tx->c, err))) {
    store_rollback(tx);
    return rc;
  }
  if (tx->write)
    atomic_fetch_add(&tx->s->commits, 1);
  if (tx->nchanges)
    notify(tx->s, tx->changes, tx->nchanges); /* still under write_lock: commit order */
  if (tx->jobs_added) {
    pthread_mutex_lock(&tx->s->lock);
    void (*fn)(void *) = tx->s->on_jobs;
    void *arg = tx->s->on_jobs_arg;
    pthread_mutex_unlock(&tx->s->lock);
    if (fn)
      fn(arg);
  }
  tx_free(tx);
  return 0;
}

void store_on_jobs(struct store *s, void (*fn)(void *arg), void *arg)
{
  pthread_mutex_lock(&s->lock);
  if (fn || s->on_jobs_arg == arg) {
    s->on_jobs = fn;
    s->on_jobs_arg = fn ? arg : NULL;
  }
  pthread_mutex_unlock(&s->lock);
}

/* The read transaction this thread holds for a request (store_hold_reads). */
static _Thread_local struct {
  struct store *s;
  struct store_tx *tx;
} held;

void store_hold_reads(struct store *s)
{
  if (held.tx)
    store_rollback(held.tx);
  held.s = s;
  held.tx = NULL;
}

void store_release_reads(struct store *s)
{
  if (held.s != s)
    return;
  if (held.tx)
    store_rollback(held.tx);
  held.s = NULL;
  held.tx = NULL;
}

/* Before a write of this thread: its reads after it must see it. */
static void end_held_reads(struct store *s)
{
  if (held.s == s && held.tx) {
    store_rollback(held.tx);
    held.tx = NULL;
  }
}

int store_run(struct store *s, enum store_mode mode, store_fn fn, void *arg, struct err *err)
{
  if (mode == STORE_READ && held.s == s) {
    if (!held.tx) {
      int rc = store_begin(s, STORE_READ, &held.tx, err);
      if (rc)
        return rc;
    }
    return fn(held.tx, arg, err);
  }
  end_held_reads(s);
  if (mode == STORE_WRITE && s->opt.group_commit)
    return group_run(s, fn, arg, err);
  struct store_tx *tx = NULL;
  int rc = store_begin(s, mode, &tx, err);
  if (rc)
    return rc;
  if ((rc = fn(tx, arg, err))) {
    store_rollback(tx);
    return rc;
  }
  return store_commit(tx, err);
}

int store_try(struct store_tx *tx, store_fn fn, void *arg, struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_try needs a write transaction");
  const struct backend *be = tx->s->be;
  if (be->savepoint(tx->c, SP_MARK, err)) {
    tx->failed = 1;
    return err->code;
  }
  size_t nchanges = tx->nchanges;
  int failed = tx->failed;
  int rc = fn(tx, arg, err);
  if (rc == 0 && tx->failed && !failed)
    rc = err_set(err, E_STORE, "a write failed part-way and was taken back");
  struct err e2 = ERR_INIT;
  if (be->savepoint(tx->c, rc ? SP_UNDO : SP_KEEP, &e2)) {
    tx->failed = 1; /* neither kept nor undone: the whole transaction must go */
    err_clear(&e2);
    return rc ? rc : err_set(err, E_STORE, "cannot release a savepoint");
  }
  if (rc) {
    tx->nchanges = nchanges;
    tx->failed = failed;
  }
  return rc;
}

/* snprintf(dst, n, "%s", src) without the format. */
static void copy_name(char *dst, size_t n, const char *src)
{
  size_t len = strnlen(src, n - 1);
  memcpy(dst, src, len);
  dst[len] = '\0';
}

int tx_record_change(struct store_tx *tx, const struct stable *t, const char *id, int kind,
                     struct err *err)
{
  int64_t seq = 0;
  int rc = tx->s->be->change_add(tx->c, t->number, id, kind, tx->origin, &seq, err);
  if (rc)
    return rc;
  if (tx->nchanges == tx->capchanges) {
    size_t cap = tx->capchanges ? tx->capchanges * 2 : 8;
    struct store_change *c = one_realloc(tx->changes, cap * sizeof *c);
    if (!c)
      return err_set(err, E_NOMEM, "out of memory");
    tx->changes = c;
    tx->capchanges = cap;
  }
  struct store_change *c = &tx->changes[tx->nchanges++];
  c->seq = seq;
  copy_name(c->table, sizeof c->table, t->name); /* per document of a backfill: no printf */
  copy_name(c->id, sizeof c->id, id);
  c->kind = kind;
  c->origin = tx->origin;
  return 0;
}

void store_tx_set_origin(struct store_tx *tx, enum store_origin origin) { tx->origin = (int)origin; }

int store_changes_keep(struct store_tx *tx, int64_t since, struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_changes_keep needs a write transaction");
  if (since <= 0)
    return tx->s->be->meta_del(tx->c, "changes_keep_since", err);
  char v[32];
  snprintf(v, sizeof v, "%lld", (long long)since);
  return tx->s->be->meta_set(tx->c, "changes_keep_since", v, err);
}

double store_next_creation_time(struct store *s)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double now = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
  pthread_mutex_lock(&s->lock);
  if (now <= s->last_ct)
    now = s->last_ct + 0.001;
  s->last_ct = now;
  pthread_mutex_unlock(&s->lock);
  return now;
}

/* --- schema in force --- */

void store_schema_name(struct store_tx *tx, char *out, size_t n)
{
  snprintf(out, n, "%s", tx->state->name);
}

const struct schema *store_schema(struct store_tx *tx) { return tx->state->schema; }

static const char *resolve_name(void *ctx, uint32_t number)
{
  const struct stable *t = state_table_number(ctx, number);
  return t ? t->name : NULL;
}

uint32_t store_table_number(struct store_tx *tx, const char *name)
{
  const struct stable *t = state_table(tx->state, name);
  return t ? t->number : 0;
}

struct id_resolver store_id_resolver(struct store_tx *tx)
{
  struct id_resolver r = {resolve_name, tx->state};
  return r;
}

/* Tells every process that the catalog or the schema changed: the next
 * transaction anywhere reloads the state. */
int tx_bump_epoch(struct store_tx *tx, struct err *err)
{
  char epoch[32];
  snprintf(epoch, sizeof epoch, "%lld", strtoll(tx->state->epoch, NULL, 10) + 1);
  return tx->s->be->meta_set(tx->c, "schema_epoch", epoch, err);
}

int store_set_schema(struct store_tx *tx, const char *name, const struct schema *sc,
                     struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_set_schema needs a write transaction");
  const struct backend *be = tx->s->be;
  char *text = schema_print(sc);
  int rc = text ? 0 : err_set(err, E_NOMEM, "out of memory");
  /* number new tables: user tables from 10001, after every number in use */
  uint32_t next = 10001;
  for (size_t i = 0; i < tx->state->ntables; i++)
    if (tx->state->tables[i].number >= next)
      next = tx->state->tables[i].number + 1;
  for (size_t i = 0; !rc && i < sc->ntables; i++)
    if (!state_table(tx->state, sc->tables[i].name))
      rc = be->table_add(tx->c, next++, sc->tables[i].name, err);
  if (!rc)
    rc = be->meta_set(tx->c, "schema_name", name, err);
  if (!rc)
    rc = be->meta_set(tx->c, "schema_source", text, err);
  if (!rc)
    rc = tx_bump_epoch(tx, err);
  one_free(text);
  if (!rc)
    rc = tx_sync_state(tx, 1, err); /* the new tables and schema, without indexes yet */
  if (!rc)
    rc = tx_sync_indexes(tx, sc, err);
  if (!rc)
    rc = tx_sync_state(tx, 1, err); /* once more, now with the indexes */
  if (rc)
    tx->failed = 1;
  return rc;
}

int store_add_table(struct store_tx *tx, const char *name, uint32_t number, struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_add_table needs a write transaction");
  if (number == 0 || number > CID_TABLE_MAX)
    return err_set(err, E_INVALID, "table number %u is out of range", number);
  const struct stable *by_name = state_table(tx->state, name);
  const struct stable *by_number = state_table_number(tx->state, number);
  if (by_name && by_name == by_number)
    return 0;
  if (by_name)
    return err_set(err, E_CONFLICT, "table %s already has number %u, not %u", name,
                   by_name->number, number);
  if (by_number)
    return err_set(err, E_CONFLICT, "table number %u already belongs to %s", number,
                   by_number->name);
  int64_t ix = 0;
  int rc = tx->s->be->table_add(tx->c, number, name, err);
  if (!rc)
    rc = tx->s->be->index_add(tx->c, number, "by_creation_time", "[]", &ix, err);
  if (!rc)
    rc = tx_bump_epoch(tx, err);
  if (!rc)
    rc = tx_sync_state(tx, 1, err);
  if (rc)
    tx->failed = 1;
  return rc;
}

json_t *store_tables(struct store_tx *tx)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < tx->state->ntables; i++)
    json_array_append_new(a, json_pack("{s:s,s:I,s:b}", "name", tx->state->tables[i].name,
                                       "number", (json_int_t)tx->state->tables[i].number,
                                       "inSchema", tx->state->tables[i].def != NULL));
  return a;
}

/* --- application metadata and journals --- */

#define APP_META "app:"

static int app_key(const char *key, char *out, size_t n, struct err *err)
{
  if ((size_t)snprintf(out, n, APP_META "%s", key) >= n)
    return err_set(err, E_INVALID, "metadata key too long");
  return 0;
}

int store_meta_get(struct store_tx *tx, const char *key, char **value, struct err *err)
{
  char k[512];
  int rc = app_key(key, k, sizeof k, err);
  return rc ? rc : tx->s->be->meta_get(tx->c, k, value, err);
}

int store_meta_set(struct store_tx *tx, const char *key, const char *value, struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_meta_set needs a write transaction");
  char k[512];
  int rc = app_key(key, k, sizeof k, err);
  if (rc)
    return rc;
  return value ? tx->s->be->meta_set(tx->c, k, value, err) : tx->s->be->meta_del(tx->c, k, err);
}

struct meta_list_arg {
  store_meta_fn fn;
  void *arg;
};

static int meta_list_row(void *p, const char *key, const char *value)
{
  struct meta_list_arg *a = p;
  return a->fn(a->arg, key + strlen(APP_META), value);
}

int store_meta_list(struct store_tx *tx, const char *prefix, store_meta_fn fn, void *arg,
                    struct err *err)
{
  char k[512];
  int rc = app_key(prefix, k, sizeof k, err);
  struct meta_list_arg a = {fn, arg};
  return rc ? rc : tx->s->be->meta_list(tx->c, k, meta_list_row, &a, err);
}

int store_journal_add(struct store_tx *tx, const char *stream, const char *body, int64_t *seq,
                      struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_journal_add needs a write transaction");
  return tx->s->be->journal_add(tx->c, stream, body, seq, err);
}

int store_journal_scan(struct store_tx *tx, const char *stream, int desc, store_journal_fn fn,
                       void *arg, struct err *err)
{
  return tx->s->be->journal_scan(tx->c, stream, desc, fn, arg, err);
}

int store_journal_drop(struct store_tx *tx, const char *stream, struct err *err)
{
  if (!tx->write)
    return err_set(err, E_INVALID, "store_journal_drop needs a write transaction");
  return tx->s->be->journal_drop(tx->c, stream, err);
}

/* --- change feed --- */

int store_subscribe(struct store *s, store_listener fn, void *arg)
{
  pthread_mutex_lock(&s->lock);
  if (s->nlisteners >= 32) {
    pthread_mutex_unlock(&s->lock);
    return E_LIMIT;
  }
  struct listener *l = one_realloc(s->listeners, (s->nlisteners + 1) * sizeof *l);
  if (!l) {
    pthread_mutex_unlock(&s->lock);
    return E_NOMEM;
  }
  s->listeners = l;
  int h = s->next_handle++;
  l[s->nlisteners++] = (struct listener){h, fn, arg};
  pthread_mutex_unlock(&s->lock);
  return h;
}

void store_unsubscribe(struct store *s, int handle)
{
  pthread_mutex_lock(&s->lock);
  for (size_t i = 0; i < s->nlisteners; i++) {
    if (s->listeners[i].handle == handle) {
      memmove(&s->listeners[i], &s->listeners[i + 1],
              (s->nlisteners - i - 1) * sizeof *s->listeners);
      s->nlisteners--;
      break;
    }
  }
  pthread_mutex_unlock(&s->lock);
}

struct changes_acc {
  const struct sstate *state;
  struct store_change *out;
  size_t n;
};

static int change_cb(void *arg, int64_t seq, uint32_t table, const char *id, int kind, int origin)
{
  struct changes_acc *a = arg;
  struct store_change *c = &a->out[a->n++];
  const struct stable *t = state_table_number(a->state, table);
  c->seq = seq;
  snprintf(c->table, sizeof c->table, "%s", t ? t->name : "?");
  snprintf(c->id, sizeof c->id, "%s", id);
  c->kind = kind;
  c->origin = (enum store_origin)origin;
  return 0;
}

int store_tx_changes_since(struct store_tx *tx, int64_t after, size_t max,
                           struct store_change **out, size_t *n, struct err *err)
{
  *out = NULL;
  *n = 0;
  if (max == 0 || max > 100000)
    return err_set(err, E_INVALID, "max must be between 1 and 100000");
  struct changes_acc acc = {tx->state, one_calloc(max, sizeof(struct store_change)), 0};
  if (!acc.out)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = tx->s->be->changes(tx->c, after, max, change_cb, &acc, err);
  if (rc) {
    one_free(acc.out);
    return rc;
  }
  *out = acc.out;
  *n = acc.n;
  return 0;
}

int store_changes_since(struct store *s, int64_t after, size_t max, struct store_change **out,
                        size_t *n, struct err *err)
{
  struct store_tx *tx = NULL;
  *out = NULL;
  *n = 0;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  rc = store_tx_changes_since(tx, after, max, out, n, err);
  store_rollback(tx);
  return rc;
}

int store_tx_change_bounds(struct store_tx *tx, int64_t *oldest, int64_t *newest,
                           struct err *err)
{
  *oldest = *newest = 0;
  return tx->s->be->change_bounds(tx->c, oldest, newest, err);
}

const char *store_tx_epoch(const struct store_tx *tx) { return tx->state->epoch; }

int store_changes_bounds(struct store *s, int64_t *oldest, int64_t *newest, struct err *err)
{
  struct store_tx *tx = NULL;
  *oldest = *newest = 0;
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (rc)
    return rc;
  rc = store_tx_change_bounds(tx, oldest, newest, err);
  store_rollback(tx);
  return rc;
}
