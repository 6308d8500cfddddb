/* walk: how a backfill or contract step goes through its documents, up
 * (walk_up: pages in id order and then the tail, rewritten in batches sized
 * by time, each with its undo record and checkpoint) and down (walk_down:
 * the undo records applied newest first); and expand's index build, paced
 * the same way (walk_build_indexes). The chain (chain.c) runs them. */
#include "migrate/chain_int.h"

#include "schema/schema.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BATCH 1000     /* the most documents a batch writes */
#define DEFAULT_BATCH_MS 2      /* how long a batch may hold the write lock */
#define QUIET_BATCH_MS 100      /* the same when no one else has written for QUIET_MS */
#define QUIET_MS 1000.0
#define FIRST_BATCH 100
#define MIN_BATCH 8
#define SCAN_FACTOR 16          /* a batch reads at most this many times its limit */
#define REST_MIN_US 250         /* the least rest between batches (see store_sqlite's busy_wait) */

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
 * pass ("pass": "tail"; "ids" before) then visits each table again by
 * _creationTime from "since", the step's start less TAIL_MARGIN_MS (its
 * cursor is an index cursor). Rewrites are idempotent, so what both passes see is changed once.
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
  /* as text: the batch parses only what the rewrite needs parsed */
  if (!tail)
    return store_scan(tx, st->tables[*ti], cursor, limit, 1, page, err);
  struct store_query q = {.table = st->tables[*ti], .lower_op = STORE_GTE,
                          .lower = json_object_get(state, "since"), .as_text = 1,
                          .limit = limit, .cursor = cursor};
  return store_query(tx, &q, page, err);
}

/* The i-th document of a walk's page parsed (a new reference), NULL when
 * the step's needle says the rewrite has nothing to do with it (*rc 0) or it
 * cannot be parsed (*rc set). */
static json_t *page_doc(const struct mstep *st, const struct store_page *page, size_t i, int *rc,
                        struct err *err)
{
  *rc = 0;
  if (st->needle && !strstr(page->texts[i], st->needle))
    return NULL;
  json_t *doc = jv_parse(page->texts[i], page->lens[i], err);
  if (!doc) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg); /* err->msg is the destination below */
    *rc = err_set(err, E_STORE, "a stored document is damaged: %s", why);
  }
  return doc;
}

/* Appends "key": as JSON. */
static int put_key(struct buf *b, const char *k)
{
  if (jtext_plain(k, strlen(k)))
    return buf_append(b, "\"", 1) || buf_puts(b, k) || buf_append(b, "\":", 2);
  json_t *js = json_string(k);
  char *text = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
  int rc = !text || buf_puts(b, text) || buf_append(b, ":", 1);
  one_free(text);
  json_decref(js);
  return rc;
}

/* Appends an undo record's entry for the document id of stored text t:
 * {"id", "before": the values the patch replaces, as stored (or
 * {"$undefined":true} for a field the document lacks), "after": ptext}. */
static int put_undo_entry(struct buf *b, const char *id, const char *t, size_t n,
                          const json_t *patch, const char *ptext)
{
  int rc = (b->len && buf_append(b, ",", 1)) || buf_append(b, "{\"id\":\"", 7) ||
           buf_puts(b, id) || buf_append(b, "\",\"before\":{", 12);
  const char *k;
  json_t *pv;
  int first = 1;
  json_object_foreach((json_t *)patch, k, pv) {
    const char *v = NULL;
    size_t vlen = 0;
    if (!rc && !(rc = (!first && buf_append(b, ",", 1)) || put_key(b, k)))
      rc = jtext_field(t, n, k, &v, &vlen) == 1 ? buf_append(b, v, vlen)
                                                : buf_puts(b, STORE_UNDEFINED_TEXT);
    first = 0;
  }
  return rc || buf_append(b, "},\"after\":", 10) || buf_puts(b, ptext) || buf_append(b, "}", 1);
}

/* Rewrites the i-th document of the page: the patch the step's rewrite asks
 * for (*patch NULL: none), with the document's _id into id. */
static int rewrite_one(const struct mstep *st, struct mctx *m, const char *table,
                       const struct store_page *page, size_t i, json_t **patch,
                       char id[CID_MAX], struct err *err)
{
  const char *t = page->texts[i];
  size_t n = page->lens[i];
  json_t *doc = NULL;
  int rc = 0;
  *patch = NULL;
  if (st->needle && !strstr(t, st->needle))
    return 0; /* nothing to do with it (see mstep.needle) */
  if (!jtext_str(t, n, "_id", id, CID_MAX))
    return err_set(err, E_STORE, "a stored document is damaged (no _id)");
  if (st->rewrite_text) {
    mctx_set_at(m, t, n);
    rc = st->rewrite_text(m, table, t, n, patch, err);
  } else {
    if (!(doc = page_doc(st, page, i, &rc, err)))
      return rc;
    m->at = json_number_value(json_object_get(doc, "_creationTime"));
    rc = st->rewrite(m, table, doc, patch, err);
  }
  json_decref(doc);
  return rc;
}

/* One batch: the next pages of the walk, rewritten in one transaction with
 * their undo record and the walk's new place: at most limit documents
 * changed or created (--batch counts what a batch writes; the documents a
 * step's needle skips are only read). Sets *more to 0 when the walk is
 * over. */
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
  json_t *state = chain_state_get(tx, st->name);
  json_t *created = json_array();
  struct buf docs; /* the undo record's entries, as text */
  buf_init(&docs, BUF_UNBOUNDED);
  size_t changed = 0;
  struct mctx m = {tx, st->name, created, memo, target, seed, 0, NULL, 0, NULL};
  /* Pages until the batch has changed or created limit documents, or read
   * SCAN_FACTOR times that many (a step with a needle skips most). */
  size_t scanned = 0, pages = 0;
  while (!rc && changed + json_array_size(created) < limit && scanned < SCAN_FACTOR * limit) {
    struct store_page page;
    size_t ti = 0;
    int any = 0;
    rc = walk_page(tx, st, state, limit, &page, &ti, &any, err);
    if (rc || !any) {
      store_page_release(&page);
      break;
    }
    size_t n = page.ntexts;
    for (size_t i = 0; !rc && i < n; i++) {
      json_t *patch = NULL;
      char id[CID_MAX];
      rc = rewrite_one(st, &m, st->tables[ti], &page, i, &patch, id, err);
      if (!rc && patch) {
        /* printed once: for the document and the undo record */
        char *ptext = m.patch_text ? m.patch_text : jv_dumps(patch);
        m.patch_text = NULL;
#ifndef NDEBUG
        char *check = jv_dumps(patch); /* the step's own text is what jv_dumps prints */
        assert(!ptext || !check || strcmp(ptext, check) == 0);
        one_free(check);
#endif
        rc = !ptext || put_undo_entry(&docs, id, page.texts[i], page.lens[i], patch, ptext)
               ? err_set(err, E_NOMEM, "out of memory")
               : store_patch_text(tx, id, page.texts[i], page.lens[i], patch, ptext, err);
        one_free(ptext);
        changed++;
        kill_point(o);
      }
      json_decref(patch);
      one_free(m.patch_text); /* set without a patch: unused */
      m.patch_text = NULL;
    }
    if (!rc) { /* the walk's new place */
      scanned += n;
      pages++;
      if (page.done || !page.cursor) {
        json_object_set_new(state, "table", json_integer((json_int_t)ti + 1));
        json_object_del(state, "cursor");
      } else {
        json_object_set_new(state, "cursor", json_string(page.cursor));
      }
    }
    store_page_release(&page);
  }
  *more = pages > 0; /* a batch that found nothing ends the walk */
  if (!rc && *more) {
    *done += scanned;
    json_object_set_new(state, "state", json_string("running"));
    json_object_set_new(state, "processed", json_integer(
                          json_integer_value(json_object_get(state, "processed")) +
                          (json_int_t)scanned));
    json_object_set_new(state, "changed", json_integer(
                          json_integer_value(json_object_get(state, "changed")) +
                          (json_int_t)changed));
    if (changed || json_array_size(created)) {
      char *ids = json_dumps(created, JSON_COMPACT);
      struct buf rec;
      buf_init(&rec, BUF_UNBOUNDED);
      char *text = ids && !buf_puts(&rec, "{\"docs\":[") && !buf_puts(&rec, buf_str(&docs)) &&
                       !buf_puts(&rec, "],\"created\":") && !buf_puts(&rec, ids) &&
                       !buf_puts(&rec, "}")
                     ? buf_detach(&rec) : NULL;
      buf_release(&rec);
      one_free(ids);
      char stream[128];
      snprintf(stream, sizeof stream, "undo:%s", st->name);
      rc = text ? store_journal_add(tx, stream, text, NULL, err)
                : err_set(err, E_NOMEM, "out of memory");
      one_free(text);
    }
    if (!rc)
      rc = chain_state_set(tx, st->name, state, err);
  }
  json_decref(created);
  buf_release(&docs);
  json_decref(state);
  if (!rc) {
    rc = store_commit(tx, err);
    tx = NULL;
  }
  store_rollback(tx);
  return rc;
}

/* E_STOPPED when the runner asked to stop (between two batches: each is a
 * committed checkpoint, so the next run goes on from here). */
static int stop_asked(const struct migrate_opts *o, struct err *err)
{
  if (!o->stop || !o->stop(o->arg))
    return 0;
  return err_set(err, E_STOPPED, "stopped between two batches (the process is stopping); run "
                 "it again to go on from here");
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

enum share { SHARED, QUIET, FIXED };

/* After a batch, the walk rests: o->pause_ms when given; else, while
 * someone else writes (SHARED: short batches), as long as the batch took,
 * so that the service has the write lock and a core at least half the
 * time; when no one else writes (QUIET: readers do not wait for the walk,
 * which runs at a lower priority than the service) no more than the least;
 * with --batch-ms (FIXED: the walk does not look) a twentieth of the
 * batch's time; and always at least REST_MIN_US, so that a request polling
 * for the write lock gets it before the next batch does. */
static void rest(const struct migrate_opts *o, double took_ms, enum share share)
{
  long us = o->pause_ms      ? (long)o->pause_ms * 1000L
            : share == SHARED ? (long)(took_ms * 1000.0)
            : share == FIXED  ? (long)(took_ms * 1000.0 / 20.0)
                              : 0;
  if (us < REST_MIN_US)
    us = REST_MIN_US;
  struct timespec ts = {us / 1000000L, (us % 1000000L) * 1000L};
  nanosleep(&ts, NULL);
}

/* A walk's pacing: the size of the next batch and the rest after each.
 *
 * Without --batch-ms, the time a batch may take depends on whether anyone
 * else is writing: DEFAULT_BATCH_MS while the service writes (a request
 * waiting for the write lock then waits a few milliseconds), QUIET_BATCH_MS
 * once no other writer has committed for QUIET_MS (the change log has grown
 * only by the walk's own batches), so that a migration run with the service
 * idle or stopped is not cut into thousands of tiny transactions. The first
 * write to arrive after a quiet spell waits for one longer batch at most;
 * the walk then goes back to short ones, each followed by a rest as long.
 * With --batch-ms the budget is fixed and the rest a twentieth of a batch. */
struct pace {
  struct store *s;
  const struct migrate_opts *o;
  size_t max, limit;
  unsigned budget;
  double t0;
  int64_t seen;       /* the change log's newest seq after the walk's last batch */
  double foreign_at;  /* when another writer was last seen (monotonic seconds) */
  double began;       /* when the walk began (monotonic seconds) */
  int foreign_seen;   /* another writer committed since the walk began */
};

static int64_t newest_change(struct store *s)
{
  int64_t oldest = 0, newest = 0;
  struct err e = ERR_INIT;
  store_changes_bounds(s, &oldest, &newest, &e);
  err_clear(&e);
  return newest;
}

/* What the last walk of this process saw, so that the next step of the
 * same run goes on where it stood (one runner per process, as kill_point
 * says): the change log's newest seq after its last batch, and when another
 * writer was last seen. */
static struct {
  struct store *s;
  int64_t seen;
  double foreign_at;
} last_walk;

static void pace_init(struct pace *p, struct store *s, const struct migrate_opts *o)
{
  p->s = s;
  p->o = o;
  p->max = o->batch ? o->batch : DEFAULT_BATCH;
  p->limit = p->max < FIRST_BATCH ? p->max : FIRST_BATCH;
  p->budget = o->batch_ms ? o->batch_ms : DEFAULT_BATCH_MS;
  p->t0 = p->began = clock_mono_s();
  p->seen = o->batch_ms ? 0 : newest_change(s);
  p->foreign_at = p->t0;
  p->foreign_seen = 0;
  if (last_walk.s == s && last_walk.seen == p->seen)
    p->foreign_at = last_walk.foreign_at; /* no one wrote since the last step's last batch */
}

/* Before a batch: whether someone else wrote since the last one, and with
 * it the batch's time budget. */
static void pace_look(struct pace *p)
{
  if (p->o->batch_ms)
    return;
  int64_t now = newest_change(p->s);
  if (now != p->seen) {
    p->foreign_at = clock_mono_s();
    p->foreign_seen = 1;
  }
  int quiet = (clock_mono_s() - p->foreign_at) * 1000.0 >= QUIET_MS;
  unsigned budget = quiet ? QUIET_BATCH_MS : DEFAULT_BATCH_MS;
  if (budget < p->budget) /* back to short batches at once */
    p->limit = p->limit * budget / p->budget > MIN_BATCH ? p->limit * budget / p->budget
                                                         : MIN_BATCH;
  p->budget = budget;
  p->t0 = clock_mono_s();
}

/* After a batch: sizes the next from how long this one took, and rests
 * when more follow. */
static void pace_next(struct pace *p, int more)
{
  double took_ms = (clock_mono_s() - p->t0) * 1000.0;
  p->limit = next_limit(p->limit, p->max, took_ms, p->budget);
  if (!p->o->batch_ms) {
    p->seen = newest_change(p->s);
    last_walk.s = p->s;
    last_walk.seen = p->seen;
    last_walk.foreign_at = p->foreign_at;
  }
  if (more)
    rest(p->o, took_ms, p->o->batch_ms ? FIXED : p->budget != QUIET_BATCH_MS ? SHARED : QUIET);
  p->t0 = clock_mono_s();
}

/* Expand's new indexes, built before the schema that declares them goes in
 * force (store_indexes_prepare and _fill), in batches paced like a walk's,
 * so that the switch itself is a short transaction. */
int walk_build_indexes(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                       struct err *err)
{
  struct schema *sc = NULL;
  int rc = schema_load(st->schema_up, &sc, err);
  size_t indexes = 0, documents = 0, done = 0;
  if (!rc)
    rc = store_indexes_prepare(s, sc, &indexes, &documents, err);
  if (!rc && indexes)
    rc = chain_log_event(s, st->name, "indexes",
                         json_pack("{s:I,s:I}", "building", (json_int_t)indexes, "documents",
                                   (json_int_t)documents), err);
  struct pace p;
  pace_init(&p, s, o);
  int more = indexes > 0;
  while (!rc && more) {
    pace_look(&p);
    rc = store_indexes_fill(s, p.limit, &more, &done, err);
    if (!rc && o->progress)
      o->progress(o->arg, st->name, done, documents > done ? documents : done);
    if (!rc && more)
      rc = stop_asked(o, err);
    pace_next(&p, !rc && more);
  }
  schema_free(sc);
  return rc;
}

/* How long a walk looks for other writers before it runs beside the
 * backup taken before it. */
#define BESIDE_PROBE_MS 250.0

/* Whether the next batch may run while the backup before the step is still
 * copying. The backup holds the database as it was before the step
 * whatever the step writes meanwhile, so the walk need not wait for it; but
 * beside the service the copy's disk writes would compete with the
 * requests' as well as the walk's (docs/decisions.md). So the walk runs
 * beside the copy only while no one else writes: it first looks for
 * BESIDE_PROBE_MS, and once another writer commits it waits for the copy to
 * end, as a step after a sequential backup would have. With --batch-ms the
 * walk does not look for other writers, so it waits for the copy at once.
 * A copy that failed fails the step. */
static int beside_backup(struct pace *p, struct store_backup *b, struct err *err)
{
  int alone = !p->o->batch_ms; /* while no other writer is seen (--batch-ms: not looked for) */
  while (store_backup_copying(b) && alone && !p->foreign_seen &&
         (clock_mono_s() - p->began) * 1000.0 < BESIDE_PROBE_MS) {
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    pace_look(p);
  }
  if (store_backup_copying(b) && alone && !p->foreign_seen)
    return 0;
  int copying = store_backup_copying(b);
  int rc = store_backup_wait(b, err);
  if (copying)
    pace_look(p); /* the batch's clock starts now, not before the wait */
  return rc;
}

int walk_up(struct store *s, const struct mstep *st, const struct migrate_opts *o,
            struct store_backup *copying, struct err *err)
{
  struct schema *target = NULL;
  int rc = st->schema_up ? schema_load(st->schema_up, &target, err) : 0;
  json_t *memo = json_object();
  size_t total = (size_t)table_count(s, st->tables), done = 0;
  struct pace p;
  pace_init(&p, s, o);
  int more = 1;
  while (!rc && more) {
    pace_look(&p);
    if (copying && (rc = beside_backup(&p, copying, err)))
      break;
    rc = walk_batch(s, st, memo, target, o, p.limit, &more, &done, err);
    if (!rc && o->progress)
      o->progress(o->arg, st->name, done, total > done ? total : done);
    if (!rc && more)
      rc = stop_asked(o, err);
    pace_next(&p, !rc && more);
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

int walk_down(struct store *s, const struct mstep *st, const struct migrate_opts *o,
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
    json_t *state = chain_state_get(tx, st->name);
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
        rc = chain_state_set(tx, st->name, state, err);
    } else if (finished) {
      rc = store_journal_drop(tx, stream, err);
      if (!rc)
        rc = chain_state_set(tx, st->name, NULL, err); /* back to pending */
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
    rc = stop_asked(o, err);
    if (rc)
      break;
    rest(o, (clock_mono_s() - t0) * 1000.0, o->batch_ms ? FIXED : SHARED); /* a record is one batch of the walk up */
  }
  if (!rc && kept)
    rc = chain_log_event(s, st->name, "kept", json_pack("{s:I}", "values",
                                                  (json_int_t)kept), err);
  return rc;
}

/* --- running steps --- */

