/* store_search: the search spaces (store.h, "search"): their rows kept in
 * step by every write of their tables (tx_search_doc, called beside the
 * index upkeep), the searches, and the fill of a space that was named after
 * its table had documents. A space's fill state is in one_meta:
 * "search.NAME.filled" once every document has its row, and
 * "search.NAME.after", the last id filled, while it is being filled. */
#include "store/store_int.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

const struct store_search_space *store_search_space(struct store *s, const char *name)
{
  for (const struct store_search_space *sp = s->opt.search; sp && sp->name; sp++)
    if (strcmp(sp->name, name) == 0)
      return sp;
  return NULL;
}

int tx_search_touched(const struct store_tx *tx, const struct stable *t, const json_t *changed)
{
  for (const struct store_search_space *sp = tx->s->opt.search; sp && sp->name; sp++)
    if (strcmp(sp->table, t->name) == 0 &&
        (json_object_get(changed, sp->text) || json_object_get(changed, sp->scope) ||
         (sp->vector && json_object_get(changed, sp->vector))))
      return 1;
  return 0;
}

/* The document's own vector when its vector field holds sp->dim numbers. */
static int own_vector(const struct store_search_space *sp, const json_t *doc, float *v)
{
  const json_t *a = sp->vector ? json_object_get(doc, sp->vector) : NULL;
  if (!json_is_array(a) || json_array_size(a) != sp->dim)
    return 0;
  for (size_t i = 0; i < sp->dim; i++) {
    const json_t *x = json_array_get(a, i);
    if (!json_is_number(x))
      return 0;
    v[i] = (float)json_number_value(x);
  }
  return 1;
}

/* The text old's row was made from (NULL: old has no row). */
static const json_t *row_text(const struct store_search_space *sp, const json_t *old)
{
  const json_t *t = old ? json_object_get(old, sp->text) : NULL;
  return json_is_string(t) ? t : NULL;
}

static int del_row(struct store_tx *tx, const struct store_search_space *sp, const char *id,
                   const json_t *old, struct err *err)
{
  const json_t *was = row_text(sp, old);
  return was ? tx->s->be->search->del(tx->c, sp->name, id, json_string_value(was),
                                      json_string_length(was), err)
             : 0;
}

/* doc's row in place of old's (old NULL: it has none). */
static int put_row(struct store_tx *tx, const struct store_search_space *sp, const char *id,
                   const json_t *old, const json_t *doc, struct err *err)
{
  const json_t *text = json_object_get(doc, sp->text);
  if (!json_is_string(text))
    return del_row(tx, sp, id, old, err);
  const json_t *was = row_text(sp, old);
  const char *scope = json_string_value(json_object_get(doc, sp->scope));
  float *v = sp->dim ? one_malloc(sp->dim * sizeof *v) : NULL;
  if (sp->dim && !v)
    return err_set(err, E_NOMEM, "out of memory");
  int has = v && (own_vector(sp, doc, v) || sp->embed);
  if (v && has && !own_vector(sp, doc, v))
    sp->embed(json_string_value(text), json_string_length(text), v);
  int rc = tx->s->be->search->put(tx->c, sp->name, id, scope ? scope : "",
                                  json_string_value(text), json_string_length(text),
                                  was ? json_string_value(was) : NULL,
                                  was ? json_string_length(was) : 0, has ? v : NULL,
                                  has ? sp->dim : 0, err);
  one_free(v);
  return rc;
}

int tx_search_doc(struct store_tx *tx, const struct stable *t, const json_t *old,
                  const json_t *doc, const json_t *changed, struct err *err)
{
  int rc = 0;
  for (const struct store_search_space *sp = tx->s->opt.search; !rc && sp && sp->name; sp++) {
    if (strcmp(sp->table, t->name) != 0)
      continue;
    if (old && doc && changed && !json_object_get(changed, sp->text) &&
        !json_object_get(changed, sp->scope) && !(sp->vector && json_object_get(changed, sp->vector)))
      continue;
    const char *id = json_string_value(json_object_get(doc ? doc : old, "_id"));
    if (!id)
      continue;
    rc = doc ? put_row(tx, sp, id, old, doc, err) : del_row(tx, sp, id, old, err);
  }
  return rc;
}

/* --- searches --- */

/* 0 when sp answers in tx: it is filled. */
static int ready(struct store_tx *tx, const char *space, const struct store_search_space **sp,
                 struct err *err)
{
  *sp = store_search_space(tx->s, space);
  if (!*sp)
    return err_set(err, E_NOTFOUND, "no search space '%s'", space);
  char key[96], *v = NULL;
  snprintf(key, sizeof key, "search.%s.filled", space);
  struct err e = ERR_INIT;
  int rc = tx->s->be->meta_get(tx->c, key, &v, &e);
  err_clear(&e);
  one_free(v);
  if (rc == 0)
    return 0;
  return err_set(err, E_STOPPED, "search over %s is still being prepared (the server fills it "
                 "in the background); try again shortly", (*sp)->table);
}

struct hits {
  struct store_hit *v;
  size_t n, cap;
};

static int add_hit(void *arg, const char *id, double score)
{
  struct hits *h = arg;
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 16;
    struct store_hit *v = one_realloc(h->v, cap * sizeof *v);
    if (!v)
      return E_NOMEM;
    h->v = v;
    h->cap = cap;
  }
  snprintf(h->v[h->n].id, CID_MAX, "%s", id ? id : "");
  h->v[h->n++].score = score;
  return 0;
}

int store_search_text(struct store_tx *tx, const char *space, const char *scope,
                      const char *query, size_t limit, struct store_hit **hits, size_t *n,
                      struct err *err)
{
  *hits = NULL;
  *n = 0;
  const struct store_search_space *sp = NULL;
  int rc = ready(tx, space, &sp, err);
  if (rc)
    return rc;
  struct hits h = {0};
  rc = limit ? tx->s->be->search->match(tx->c, space, scope, query ? query : "", limit, add_hit,
                                        &h, err)
             : 0;
  if (rc == E_NOMEM && !err->code)
    err_set(err, E_NOMEM, "out of memory");
  if (rc) {
    one_free(h.v);
    return rc;
  }
  *hits = h.v;
  *n = h.n;
  return 0;
}

int store_search_vectors(struct store_tx *tx, const char *space, const char *scope,
                         store_vector_fn fn, void *arg, struct err *err)
{
  const struct store_search_space *sp = NULL;
  int rc = ready(tx, space, &sp, err);
  return rc ? rc : tx->s->be->search->vectors(tx->c, space, scope, NULL, fn, arg, err);
}

int store_search_vector_of(struct store_tx *tx, const char *space, const char *id,
                           store_vector_fn fn, void *arg, struct err *err)
{
  const struct store_search_space *sp = NULL;
  int rc = ready(tx, space, &sp, err);
  return rc ? rc : tx->s->be->search->vectors(tx->c, space, NULL, id, fn, arg, err);
}

/* --- filling a space --- */

static const struct stable *table_named(struct store_tx *tx, const char *name)
{
  for (size_t i = 0; i < tx->state->ntables; i++)
    if (strcmp(tx->state->tables[i].name, name) == 0)
      return &tx->state->tables[i];
  return NULL;
}

int search_on_open(struct store *s, struct err *err)
{
  const struct store_search_space *sp = s->opt.search;
  if (!sp || !sp->name)
    return 0;
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_READ, &tx, err);
  int unknown = 0;
  for (; !rc && sp->name; sp++) {
    char key[96], *v = NULL;
    snprintf(key, sizeof key, "search.%s.known", sp->name);
    struct err e = ERR_INIT;
    unknown |= s->be->meta_get(tx->c, key, &v, &e) != 0;
    err_clear(&e);
    one_free(v);
  }
  if (tx)
    store_rollback(tx);
  if (rc || !unknown)
    return rc; /* the usual open: no write */
  if ((rc = store_begin(s, STORE_WRITE, &tx, err)))
    return rc;
  for (sp = s->opt.search; !rc && sp->name; sp++) {
    char key[96], *v = NULL;
    snprintf(key, sizeof key, "search.%s.known", sp->name);
    struct err e = ERR_INIT;
    int known = s->be->meta_get(tx->c, key, &v, &e) == 0;
    err_clear(&e);
    one_free(v);
    if (known)
      continue;
    const struct stable *t = table_named(tx, sp->table);
    int64_t n = 0;
    if (t && (rc = store_count(tx, t->name, &n, err)))
      break;
    if (!n) { /* nothing written before the space: filled from the start */
      snprintf(key, sizeof key, "search.%s.filled", sp->name);
      rc = s->be->meta_set(tx->c, key, "1", err);
    }
    snprintf(key, sizeof key, "search.%s.known", sp->name);
    if (!rc)
      rc = s->be->meta_set(tx->c, key, "1", err);
  }
  if (rc) {
    store_rollback(tx);
    return rc;
  }
  return store_commit(tx, err);
}

struct fill {
  struct store_tx *tx;
  const struct store_search_space *sp;
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
  /* a row written since the space was named was made from this very text */
  int rc = put_row(f->tx, f->sp, id, doc, doc, f->err);
  json_decref(doc);
  snprintf(f->last, sizeof f->last, "%s", id);
  f->rows++;
  return rc;
}

int store_search_fill(struct store *s, size_t limit, int *more, size_t *done, struct err *err)
{
  *more = 0;
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_WRITE, &tx, err);
  if (rc)
    return rc;
  size_t left = limit ? limit : 1;
  for (const struct store_search_space *sp = s->opt.search; !rc && sp && sp->name; sp++) {
    char filled[96], after_key[96], *v = NULL;
    snprintf(filled, sizeof filled, "search.%s.filled", sp->name);
    snprintf(after_key, sizeof after_key, "search.%s.after", sp->name);
    struct err e = ERR_INIT;
    int got = s->be->meta_get(tx->c, filled, &v, &e);
    err_clear(&e);
    one_free(v);
    v = NULL;
    if (got == 0)
      continue;
    if (!left) {
      *more = 1;
      break;
    }
    const struct stable *t = table_named(tx, sp->table);
    struct fill f = {tx, sp, "", 0, err};
    if (s->be->meta_get(tx->c, after_key, &v, &e) == 0)
      snprintf(f.last, sizeof f.last, "%s", v);
    err_clear(&e);
    one_free(v);
    if (t)
      rc = s->be->doc_scan(tx->c, t->number, f.last, left, fill_row, &f, err);
    if (rc)
      break;
    *done += f.rows;
    left -= f.rows;
    if (t && f.rows && left == 0) { /* maybe more: go on from here next time */
      rc = s->be->meta_set(tx->c, after_key, f.last, err);
      *more = 1;
    } else {
      rc = s->be->meta_set(tx->c, filled, "1", err);
      if (!rc)
        rc = s->be->meta_del(tx->c, after_key, err);
    }
  }
  if (rc) {
    store_rollback(tx);
    return rc;
  }
  return store_commit(tx, err);
}
