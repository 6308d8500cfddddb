/* store_index: the life of indexes: the catalog, filling an index from its
 * table, bringing the catalog in line with a schema put in force, and
 * building a schema's new indexes ahead of it, in short transactions.
 *
 * Putting a schema in force in one transaction fills its new indexes in
 * that transaction, which on a large table holds the write lock for as long
 * (50 s for a million messages). So a migration builds them first:
 *
 *   absent --store_indexes_prepare--> building --store_indexes_fill...-->
 *   building, filled --store_set_schema (tx_sync_indexes)--> in force
 *
 * Invariants:
 * - a building index is in the catalog and has a mark in the store's
 *   metadata (BUILDING_KEY: {"<ix>": {"after": last id filled, "done"}});
 * - from the commit that adds it, every write of every process keeps a
 *   building index's entries up to date (the state loads it, see
 *   add_index_cb in store.c; a new epoch makes every process reload);
 * - so a fill only adds the entries of documents it reads in its own write
 *   transaction, and leaves alone an entry a write has made since;
 * - a building index cannot be queried; store_set_schema of a schema that
 *   has it finishes its fill if need be and drops the mark; of a schema that
 *   lacks it, drops it. */
#include "store/keys.h"
#include "store/store_int.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILDING_KEY "indexes_building"

/* --- definitions --- */

char *index_fields_text(const struct index_def *ix)
{
  json_t *a = json_array();
  for (size_t i = 0; a && ix && i < ix->nfields; i++)
    json_array_append_new(a, json_string(ix->fields[i]));
  char *s = a ? jv_dumps(a) : NULL;
  json_decref(a);
  return s;
}

void index_def_free(struct index_def *def)
{
  if (!def)
    return;
  for (size_t i = 0; i < def->nfields; i++)
    one_free(def->fields[i]);
  one_free(def->fields);
  one_free(def->name);
  one_free(def);
}

struct index_def *index_def_parse(const char *name, const char *fields)
{
  json_t *a = json_loads(fields, 0, NULL);
  struct index_def *def = json_is_array(a) ? one_calloc(1, sizeof *def) : NULL;
  size_t n = json_array_size(a);
  if (def && (!(def->name = one_strdup(name)) || (n && !(def->fields = one_calloc(n, sizeof(char *)))))) {
    index_def_free(def);
    def = NULL;
  }
  for (size_t i = 0; def && i < n; i++) {
    const char *f = json_string_value(json_array_get(a, i));
    if (!f || !(def->fields[i] = one_strdup(f))) {
      index_def_free(def);
      def = NULL;
    } else {
      def->nfields++;
    }
  }
  json_decref(a);
  return def;
}

/* --- building marks --- */

int index_building_load(struct store *s, void *c, json_t **out, struct err *err)
{
  char *text = NULL;
  *out = NULL;
  int rc = s->be->meta_get(c, BUILDING_KEY, &text, err);
  if (rc == E_NOTFOUND) {
    err_clear(err);
    *out = json_object();
    return *out ? 0 : err_set(err, E_NOMEM, "out of memory");
  }
  if (rc)
    return rc;
  *out = json_loads(text, 0, NULL);
  one_free(text);
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    return err_set(err, E_STORE, "the record of index builds is damaged");
  }
  return 0;
}

static json_t *mark_of(const json_t *marks, int64_t ix)
{
  char key[32];
  snprintf(key, sizeof key, "%lld", (long long)ix);
  return json_object_get(marks, key);
}

int index_is_building(const json_t *marks, int64_t ix) { return mark_of(marks, ix) != NULL; }

static int marks_save(struct store_tx *tx, const json_t *marks, struct err *err)
{
  if (json_object_size(marks) == 0) {
    int rc = tx->s->be->meta_del(tx->c, BUILDING_KEY, err);
    if (rc == E_NOTFOUND) { /* no builds were recorded */
      err_clear(err);
      rc = 0;
    }
    return rc;
  }
  char *text = json_dumps(marks, JSON_COMPACT);
  int rc = text ? tx->s->be->meta_set(tx->c, BUILDING_KEY, text, err)
                : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  return rc;
}

/* --- the catalog --- */

struct catalog_index {
  int64_t ix;
  uint32_t table;
  char name[128];
  char *fields;
};

struct catalog {
  struct catalog_index *ix;
  size_t n;
};

static int catalog_cb(void *arg, int64_t ix, uint32_t table, const char *name, const char *fields)
{
  struct catalog *cat = arg;
  struct catalog_index *x = one_realloc(cat->ix, (cat->n + 1) * sizeof *x);
  if (!x)
    return E_NOMEM;
  cat->ix = x;
  x[cat->n].ix = ix;
  x[cat->n].table = table;
  snprintf(x[cat->n].name, sizeof x[cat->n].name, "%s", name);
  if (!(x[cat->n].fields = one_strdup(fields)))
    return E_NOMEM;
  cat->n++;
  return 0;
}

static void catalog_release(struct catalog *cat)
{
  for (size_t i = 0; i < cat->n; i++)
    one_free(cat->ix[i].fields);
  one_free(cat->ix);
  memset(cat, 0, sizeof *cat);
}

static int catalog_load(struct store_tx *tx, struct catalog *cat, struct err *err)
{
  catalog_release(cat);
  int rc = tx->s->be->indexes(tx->c, catalog_cb, cat, err);
  return rc == E_NOMEM ? err_set(err, E_NOMEM, "out of memory") : rc;
}

static const struct catalog_index *catalog_find(const struct catalog *cat, uint32_t table,
                                                const char *name)
{
  for (size_t i = 0; i < cat->n; i++)
    if (cat->ix[i].table == table && strcmp(cat->ix[i].name, name) == 0)
      return &cat->ix[i];
  return NULL;
}

/* Adds index def of table to the catalog, empty; *ix receives its number. */
static int catalog_add(struct store_tx *tx, uint32_t table, const struct index_def *def,
                       int64_t *ix, struct err *err)
{
  char *fields = index_fields_text(def);
  int rc = fields ? tx->s->be->index_add(tx->c, table, def->name, fields, ix, err)
                  : err_set(err, E_NOMEM, "out of memory");
  one_free(fields);
  return rc;
}

/* --- filling --- */

#define FILL_MAX 16 /* indexes of one table filled in one scan */

struct fill {
  struct store_tx *tx;
  const struct index_def *defs[FILL_MAX];
  int64_t ixs[FILL_MAX];
  size_t n;
  struct buf key;
  char last[CID_MAX];
  size_t rows;
  struct err *err;
};

static int fill_row(void *arg, const uint8_t *key, size_t klen, const char *id, const char *body,
                    size_t blen)
{
  (void)key;
  (void)klen;
  struct fill *f = arg;
  json_t *doc = jv_parse(body, blen, f->err);
  if (!doc)
    return err_set(f->err, E_STORE, "document %s is damaged", id);
  int rc = 0;
  for (size_t i = 0; !rc && i < f->n; i++) {
    buf_reset(&f->key);
    if ((rc = key_for_doc(&f->key, f->defs[i], doc))) {
      rc = err_set(f->err, rc, "cannot build an index key for %s", id);
      break;
    }
    rc = f->tx->s->be->entry_put(f->tx->c, f->ixs[i], (const uint8_t *)f->key.p, f->key.len, id,
                                 f->err);
    if (rc == E_CONFLICT) { /* a write since the build began made it already */
      err_clear(f->err);
      rc = 0;
    }
  }
  json_decref(doc);
  snprintf(f->last, sizeof f->last, "%s", id);
  f->rows++;
  return rc;
}

/* Adds the entries of f's indexes (all on table) for the documents after
 * id `after` (NULL: from the first) in id order, at most limit of them (0:
 * all), reading each document once. last receives the last id filled,
 * *rows how many. */
static int fill_indexes(struct fill *f, uint32_t table, const char *after, size_t limit,
                        char last[CID_MAX], size_t *rows, struct err *err)
{
  struct store_tx *tx = f->tx;
  buf_init(&f->key, BUF_UNBOUNDED);
  snprintf(f->last, sizeof f->last, "%s", after ? after : "");
  int rc = 0;
  *rows = 0;
  do { /* pages of 512 when filling all */
    f->rows = 0;
    size_t want = limit ? limit - *rows : 512;
    rc = tx->s->be->doc_scan(tx->c, table, f->last[0] ? f->last : NULL, want, fill_row, f, err);
    *rows += f->rows;
    if (!rc && f->rows < want)
      break;
  } while (!rc && (!limit || *rows < limit));
  buf_release(&f->key);
  snprintf(last, CID_MAX, "%s", f->last);
  if (rc && !err->code)
    err_set(err, rc, "cannot fill an index");
  return rc;
}

/* fill_indexes for one index. */
static int fill_index(struct store_tx *tx, uint32_t table, const struct index_def *def, int64_t ix,
                      const char *after, size_t limit, char last[CID_MAX], size_t *rows,
                      struct err *err)
{
  struct fill f = {.tx = tx, .defs = {def}, .ixs = {ix}, .n = 1, .err = err};
  return fill_indexes(&f, table, after, limit, last, rows, err);
}

/* Where index ix stands in tx's state: its table and definition. */
static const struct sindex *state_index(const struct sstate *st, int64_t ix,
                                        const struct stable **table)
{
  for (size_t i = 0; i < st->ntables; i++)
    for (size_t j = 0; j < st->tables[i].nix; j++)
      if (st->tables[i].ix[j].ix == ix) {
        *table = &st->tables[i];
        return &st->tables[i].ix[j];
      }
  return NULL;
}

/* --- in line with a schema --- */

/* Fills what is left of every build sc keeps, then drops every mark. */
static int finish_builds(struct store_tx *tx, const struct catalog *cat, const struct schema *sc,
                         struct err *err)
{
  json_t *marks = NULL;
  int rc = index_building_load(tx->s, tx->c, &marks, err);
  const char *key;
  json_t *m;
  json_object_foreach(marks, key, m) {
    if (rc)
      break;
    int64_t ix = strtoll(key, NULL, 10);
    const struct catalog_index *c = NULL;
    for (size_t i = 0; i < cat->n && !c; i++)
      if (cat->ix[i].ix == ix && cat->ix[i].table)
        c = &cat->ix[i];
    const struct stable *t = c ? state_table_number(tx->state, c->table) : NULL;
    const struct index_def *def = t ? table_index(schema_table(sc, t->name), c->name) : NULL;
    if (!def || json_is_true(json_object_get(m, "done")))
      continue; /* dropped, or filled already */
    char last[CID_MAX];
    size_t rows = 0;
    rc = fill_index(tx, c->table, def, ix, json_string_value(json_object_get(m, "after")), 0,
                    last, &rows, err);
  }
  if (!rc) {
    json_object_clear(marks);
    rc = marks_save(tx, marks, err); /* none left: the key goes */
  }
  json_decref(marks);
  return rc;
}

int tx_sync_indexes(struct store_tx *tx, const struct schema *sc, struct err *err)
{
  const struct backend *be = tx->s->be;
  struct catalog cat = {NULL, 0};
  int rc = catalog_load(tx, &cat, err);
  /* every known table has by_creation_time */
  for (size_t i = 0; !rc && i < tx->state->ntables; i++) {
    const struct stable *t = &tx->state->tables[i];
    int64_t ix;
    if (!catalog_find(&cat, t->number, "by_creation_time"))
      rc = be->index_add(tx->c, t->number, "by_creation_time", "[]", &ix, err);
  }
  if (!rc) /* refresh: new by_creation_time rows */
    rc = catalog_load(tx, &cat, err);
  /* drop indexes the schema no longer has, or whose fields changed */
  for (size_t i = 0; !rc && i < cat.n; i++) {
    const struct catalog_index *c = &cat.ix[i];
    if (strcmp(c->name, "by_creation_time") == 0)
      continue;
    const struct stable *t = state_table_number(tx->state, c->table);
    const struct index_def *def = t ? table_index(schema_table(sc, t->name), c->name) : NULL;
    char *want = def ? index_fields_text(def) : NULL;
    if (!want || strcmp(want, c->fields) != 0) {
      rc = be->index_drop(tx->c, c->ix, err);
      cat.ix[i].table = 0; /* gone */
    }
    one_free(want);
  }
  /* add and fill new indexes */
  for (size_t i = 0; !rc && i < sc->ntables; i++) {
    const struct table_def *td = &sc->tables[i];
    const struct stable *t = state_table(tx->state, td->name);
    if (!t || !catalog_find(&cat, t->number, "by_creation_time")) {
      rc = err_set(err, E_INTERNAL, "table %s has no number or no by_creation_time index", td->name);
      break;
    }
    for (size_t j = 0; !rc && j < td->nindexes; j++) {
      if (catalog_find(&cat, t->number, td->indexes[j].name))
        continue;
      int64_t ix = 0;
      rc = catalog_add(tx, t->number, &td->indexes[j], &ix, err);
      char last[CID_MAX];
      size_t rows = 0;
      if (!rc)
        rc = fill_index(tx, t->number, &td->indexes[j], ix, NULL, 0, last, &rows, err);
    }
  }
  if (!rc)
    rc = finish_builds(tx, &cat, sc, err);
  catalog_release(&cat);
  return rc;
}

/* --- building ahead --- */

struct prepare {
  const struct schema *sc;
  size_t indexes, documents;
};

static int prepare_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct prepare *p = arg;
  struct catalog cat = {NULL, 0};
  json_t *marks = NULL;
  int rc = catalog_load(tx, &cat, err);
  if (!rc)
    rc = index_building_load(tx->s, tx->c, &marks, err);
  for (size_t i = 0; !rc && i < p->sc->ntables; i++) {
    const struct table_def *td = &p->sc->tables[i];
    const struct stable *t = state_table(tx->state, td->name);
    if (!t)
      continue; /* a new table: store_set_schema adds it, empty */
    for (size_t j = 0; !rc && j < td->nindexes; j++) {
      if (catalog_find(&cat, t->number, td->indexes[j].name))
        continue; /* in the catalog (or being built) already; if its fields differ,
                     store_set_schema rebuilds it */
      int64_t ix = 0, n = 0;
      rc = catalog_add(tx, t->number, &td->indexes[j], &ix, err);
      char key[32];
      snprintf(key, sizeof key, "%lld", (long long)ix);
      if (!rc && json_object_set_new(marks, key, json_object()))
        rc = err_set(err, E_NOMEM, "out of memory");
      if (!rc && t->by_ct)
        rc = tx->s->be->count(tx->c, t->by_ct, &n, err);
      p->indexes++;
      p->documents += (size_t)n;
    }
  }
  if (!rc && p->indexes)
    rc = marks_save(tx, marks, err);
  if (!rc && p->indexes)
    rc = tx_bump_epoch(tx, err);
  json_decref(marks);
  catalog_release(&cat);
  return rc;
}

int store_indexes_prepare(struct store *s, const struct schema *sc, size_t *indexes,
                          size_t *documents, struct err *err)
{
  struct prepare p = {sc, 0, 0};
  int rc = store_run(s, STORE_WRITE, prepare_tx, &p, err);
  if (indexes)
    *indexes = rc ? 0 : p.indexes;
  if (documents)
    *documents = rc ? 0 : p.documents;
  return rc;
}

struct fill_arg {
  size_t limit, done;
  int more;
};

/* One batch of the build: the first index not yet filled, with every other
 * index of its table that stands at the same place, filled in one scan. */
static int fill_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct fill_arg *a = arg;
  json_t *marks = NULL;
  int rc = index_building_load(tx->s, tx->c, &marks, err);
  const char *key;
  json_t *m, *group[FILL_MAX] = {NULL};
  const struct stable *table = NULL;
  struct fill f = {.tx = tx, .err = err};
  a->more = 0;
  json_object_foreach(marks, key, m) {
    if (rc || json_is_true(json_object_get(m, "done")) || f.n == FILL_MAX)
      continue;
    const struct stable *t = NULL;
    const struct sindex *x = state_index(tx->state, strtoll(key, NULL, 10), &t);
    a->more = 1;
    if (!x || !x->building) {
      json_object_set_new(m, "done", json_true()); /* dropped meanwhile: nothing to fill */
      continue;
    }
    if (table && (t != table || !json_equal(json_object_get(m, "after"),
                                            json_object_get(group[0], "after"))))
      continue; /* another table, or another place: a later batch */
    table = t;
    group[f.n] = m;
    f.defs[f.n] = x->def;
    f.ixs[f.n++] = x->ix;
  }
  if (!rc && f.n) {
    char last[CID_MAX] = "";
    size_t rows = 0;
    rc = fill_indexes(&f, table->number, json_string_value(json_object_get(group[0], "after")),
                      a->limit, last, &rows, err);
    for (size_t i = 0; !rc && i < f.n; i++) {
      if (last[0])
        json_object_set_new(group[i], "after", json_string(last));
      if (rows < a->limit)
        json_object_set_new(group[i], "done", json_true());
    }
    a->done += rows;
  }
  if (!rc && a->more)
    rc = marks_save(tx, marks, err);
  json_decref(marks);
  return rc;
}

int store_indexes_fill(struct store *s, size_t limit, int *more, size_t *done, struct err *err)
{
  if (limit == 0 || limit > STORE_MAX_PAGE)
    return err_set(err, E_INVALID, "limit must be between 1 and %d", STORE_MAX_PAGE);
  struct fill_arg a = {limit, 0, 0};
  int rc = store_run(s, STORE_WRITE_LAZY, fill_tx, &a, err);
  *more = rc ? 1 : a.more;
  if (done && !rc)
    *done += a.done;
  return rc;
}
