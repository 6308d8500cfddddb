/* store_docs: documents (insert, get, patch, replace, delete) and index
 * queries with cursors, over the backend's rows.
 *
 * A write builds the whole new document, validates it against the schema in
 * force and only then touches the backend: a refused document leaves nothing
 * behind. A backend failure half-way marks the transaction failed, so it
 * cannot commit a partial write. */
#include "store/keys.h"
#include "store/store_int.h"
#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define CURSOR_VERSION 1

json_t *store_undefined(void) { return json_pack("{s:b}", "$undefined", 1); }

int store_is_undefined(const json_t *v)
{
  return json_is_object(v) && json_object_size(v) == 1 &&
         json_is_true(json_object_get(v, "$undefined"));
}

static int want_write(struct store_tx *tx, struct err *err)
{
  return tx->write ? 0 : err_set(err, E_INVALID, "this needs a write transaction");
}

static const struct stable *table_of_id(struct store_tx *tx, const char *id, struct err *err)
{
  uint32_t num = cid_table(id, strlen(id));
  const struct stable *t = num ? state_table_number(tx->state, num) : NULL;
  if (!num)
    err_set(err, E_INVALID, "'%s' is not a document id", id);
  else if (!t)
    err_set(err, E_NOTFOUND, "no document %s (its table number %u is unknown here)", id, num);
  return t;
}

/* Whether a patch of the top-level fields in changed can move index def's
 * key: only if it changes a field the index holds (by_creation_time, def
 * NULL, holds _creationTime and _id, which no update changes). */
static int touches_index(const struct index_def *def, const json_t *changed)
{
  for (size_t i = 0; def && i < def->nfields; i++)
    if (json_object_getn(changed, def->fields[i], strcspn(def->fields[i], ".")))
      return 1;
  return 0;
}

int tx_index_doc(struct store_tx *tx, const struct stable *t, const json_t *old,
                 const json_t *doc, const json_t *changed, struct err *err)
{
  struct buf was, key;
  buf_init(&was, BUF_UNBOUNDED);
  buf_init(&key, BUF_UNBOUNDED);
  const char *id = json_string_value(json_object_get(doc ? doc : old, "_id"));
  int rc = 0;
  for (size_t i = 0; !rc && i <= t->nix; i++) {
    int64_t ix = i < t->nix ? t->ix[i].ix : t->by_ct;
    const struct index_def *def = i < t->nix ? t->ix[i].def : NULL;
    if (!ix || (old && doc && changed && !touches_index(def, changed)))
      continue;
    buf_reset(&was);
    buf_reset(&key);
    if ((old && (rc = key_for_doc(&was, def, old))) || (doc && (rc = key_for_doc(&key, def, doc)))) {
      rc = err_set(err, rc, "cannot build an index key");
      break;
    }
    if (old && doc && was.len == key.len && memcmp(was.p, key.p, key.len) == 0)
      continue; /* the entry stays where it is */
    if (old)
      rc = tx->s->be->entry_delete(tx->c, ix, (const uint8_t *)was.p, was.len, err);
    if (!rc && doc)
      rc = tx->s->be->entry_put(tx->c, ix, (const uint8_t *)key.p, key.len, id, err);
  }
  buf_release(&key);
  buf_release(&was);
  return rc;
}

/* Validates doc for table t, then serializes it within the size limit. */
static int check_and_dump(struct store_tx *tx, const struct stable *t, const json_t *doc,
                          int untyped, char **body, struct err *err)
{
  if (!t->def && !untyped)
    return err_set(err, E_SCHEMA, "table '%s' is not in the schema in force (%s)", t->name,
                   tx->state->name);
  struct id_resolver ids = store_id_resolver(tx);
  int rc = t->def ? schema_validate(tx->state->schema, t->name, doc, &ids,
                                    VALIDATE_SYSTEM_FIELDS, err)
                  : schema_validate_untyped(t->name, doc, &ids, VALIDATE_SYSTEM_FIELDS, err);
  if (rc)
    return rc;
  *body = jv_dumps(doc);
  if (!*body)
    return err_set(err, E_NOMEM, "out of memory");
  if (strlen(*body) > SCHEMA_MAX_DOC_BYTES) {
    one_free(*body);
    *body = NULL;
    return err_set(err, E_TOOBIG, "document is larger than %d bytes", SCHEMA_MAX_DOC_BYTES);
  }
  return 0;
}

int store_insert(struct store_tx *tx, const char *table, const json_t *fields, int flags,
                 char id_out[CID_MAX], struct err *err)
{
  int rc = want_write(tx, err);
  if (rc)
    return rc;
  const struct stable *t = state_table(tx->state, table);
  int untyped = (flags & STORE_UNTYPED) && (flags & STORE_KEEP_SYSTEM);
  if (!t || (!t->def && !untyped))
    return err_set(err, E_NOTFOUND, "no table '%s' in the schema in force (%s)", table,
                   tx->state->name[0] ? tx->state->name : "none");
  if (!json_is_object(fields))
    return err_set(err, E_SCHEMA, "a document must be a JSON object");
  char id[CID_MAX];
  json_t *doc = json_object();
  char *body = NULL;
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  if (flags & STORE_KEEP_SYSTEM) {
    json_t *given = json_object_get(fields, "_id");
    if (!json_is_string(given) || json_string_length(given) >= CID_MAX) {
      rc = err_set(err, E_SCHEMA, "%s._id: expected id<%s>", table, table);
      goto out;
    }
    snprintf(id, sizeof id, "%s", json_string_value(given));
  } else {
    if (json_object_get(fields, "_id") || json_object_get(fields, "_creationTime")) {
      rc = err_set(err, E_SCHEMA, "%s: _id and _creationTime are set by the store", table);
      goto out;
    }
    cid_new(t->number, 0, id);
    if (json_object_set_new(doc, "_id", json_string(id)) ||
        json_object_set_new(doc, "_creationTime", json_real(store_next_creation_time(tx->s)))) {
      rc = err_set(err, E_NOMEM, "out of memory");
      goto out;
    }
  }
  if (json_object_update(doc, (json_t *)fields)) {
    rc = err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
  if ((rc = check_and_dump(tx, t, doc, untyped, &body, err)))
    goto out;
  rc = tx->s->be->doc_insert(tx->c, id, t->number, body, strlen(body), err);
  if (rc)
    goto out; /* nothing written yet: the transaction stays usable */
  if ((rc = tx_index_doc(tx, t, NULL, doc, NULL, err)) ||
      (rc = tx_search_doc(tx, t, NULL, doc, NULL, err)) ||
      (rc = tx_record_change(tx, t, id, STORE_INSERTED, err)))
    tx->failed = 1;
  if (!rc && id_out)
    memcpy(id_out, id, CID_MAX);
out:
  one_free(body);
  json_decref(doc);
  return rc;
}

/* The stored text of document id and its table: the one lookup behind
 * every read. *text is freed with one_free. */
static int fetch(struct store_tx *tx, const char *id, const struct stable **t, char **text,
                 struct err *err)
{
  *t = table_of_id(tx, id, err);
  if (!*t)
    return err->code;
  uint32_t num = 0;
  int rc = tx->s->be->doc_get(tx->c, id, &num, text, err);
  if (rc == E_NOTFOUND)
    return err_set(err, E_NOTFOUND, "no document with id %s", id);
  return rc;
}

static int load(struct store_tx *tx, const char *id, const struct stable **t, json_t **doc,
                struct err *err)
{
  char *body = NULL;
  int rc = fetch(tx, id, t, &body, err);
  if (rc)
    return rc;
  *doc = jv_parse(body, strlen(body), err);
  one_free(body);
  if (!*doc) {
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg); /* err->msg is the destination below */
    return err_set(err, E_STORE, "document %s is damaged: %s", id, why);
  }
  return 0;
}

int store_get(struct store_tx *tx, const char *id, json_t **doc, char *table_out,
              struct err *err)
{
  const struct stable *t = NULL;
  int rc = load(tx, id, &t, doc, err);
  if (!rc && table_out)
    snprintf(table_out, 65, "%s", t->name);
  return rc;
}

int store_get_text(struct store_tx *tx, const char *id, char **text, size_t *len,
                   char *table_out, struct err *err)
{
  const struct stable *t = NULL;
  int rc = fetch(tx, id, &t, text, err);
  if (rc)
    return rc;
  *len = strlen(*text);
  if (table_out)
    snprintf(table_out, 65, "%s", t->name);
  return 0;
}

/* Replaces old with new: validation first, then the row and its index
 * entries. changed: the fields a patch sets (NULL: any may differ). */
static int rewrite(struct store_tx *tx, const struct stable *t, const json_t *old,
                   const json_t *doc, const json_t *changed, struct err *err)
{
  char *body = NULL;
  int rc = check_and_dump(tx, t, doc, 0, &body, err);
  if (rc)
    return rc;
  const char *id = json_string_value(json_object_get(doc, "_id"));
  if ((rc = tx->s->be->doc_update(tx->c, id, body, strlen(body), err)) ||
      (rc = tx_index_doc(tx, t, old, doc, changed, err)) ||
      (rc = tx_search_doc(tx, t, old, doc, changed, err)) ||
      (rc = tx_record_change(tx, t, id, STORE_UPDATED, err)))
    tx->failed = 1;
  one_free(body);
  return rc;
}

static int same_system_field(const json_t *doc, const char *name, const json_t *given,
                             struct err *err)
{
  if (!given || jv_equal(json_object_get(doc, name), given))
    return 0;
  return err_set(err, E_SCHEMA, "%s cannot be changed", name);
}

/* The new document of a patch (merge) or a replace: _id and _creationTime
 * kept, fields merged into old or put in place of old's. */
static json_t *updated(const json_t *old, const json_t *fields, int merge)
{
  json_t *doc = merge ? json_copy((json_t *)old)
                      : json_pack("{s:O,s:O}", "_id", json_object_get(old, "_id"),
                                  "_creationTime", json_object_get(old, "_creationTime"));
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)fields, k, v) {
    if (!doc)
      break;
    if (strcmp(k, "_id") == 0 || strcmp(k, "_creationTime") == 0)
      continue;
    if (store_is_undefined(v))
      json_object_del(doc, k);
    else if (json_object_set(doc, k, v)) {
      json_decref(doc);
      doc = NULL;
    }
  }
  return doc;
}

/* Puts fields into old (a document of table t as this transaction reads
 * it), merged or in place of its own. */
static int update_from(struct store_tx *tx, const struct stable *t, const json_t *old,
                       const json_t *fields, int merge, struct err *err)
{
  if (!json_is_object(fields))
    return err_set(err, E_SCHEMA, merge ? "a patch must be a JSON object"
                                        : "a document must be a JSON object");
  json_t *doc = NULL;
  int rc;
  if ((rc = same_system_field(old, "_id", json_object_get(fields, "_id"), err)) ||
      (rc = same_system_field(old, "_creationTime", json_object_get(fields, "_creationTime"), err)))
    goto out;
  if (!(doc = updated(old, fields, merge))) {
    rc = err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
  rc = rewrite(tx, t, old, doc, merge ? fields : NULL, err);
out:
  json_decref(doc);
  return rc;
}

static int update(struct store_tx *tx, const char *id, const json_t *fields, int merge,
                  struct err *err)
{
  int rc = want_write(tx, err);
  if (rc)
    return rc;
  if (!json_is_object(fields))
    return err_set(err, E_SCHEMA, merge ? "a patch must be a JSON object"
                                        : "a document must be a JSON object");
  const struct stable *t = NULL;
  json_t *old = NULL;
  if ((rc = load(tx, id, &t, &old, err)))
    return rc;
  rc = update_from(tx, t, old, fields, merge, err);
  json_decref(old);
  return rc;
}

int store_patch_doc(struct store_tx *tx, const json_t *old, const json_t *patch, struct err *err)
{
  int rc = want_write(tx, err);
  if (rc)
    return rc;
  const char *id = json_string_value(json_object_get(old, "_id"));
  const struct stable *t = id ? table_of_id(tx, id, err) : NULL;
  if (!id)
    return err_set(err, E_INVALID, "the document has no _id");
  return t ? update_from(tx, t, old, patch, 1, err) : err->code;
}

/* Whether patch can be applied to t's stored text field by field: every
 * field it sets is validated alone (see schema_validate_field). *indexed is
 * set when an index holds one of them. 1 yes, 0 no (the whole-document path
 * decides), or an error. */
static int patchable_as_text(struct store_tx *tx, const struct stable *t, const json_t *patch,
                             int *indexed, struct err *err)
{
  *indexed = 0;
  if (!t->def || !json_object_size(patch))
    return 0;
  struct id_resolver ids = store_id_resolver(tx);
  for (size_t i = 0; i < t->nix && !*indexed; i++)
    *indexed = t->ix[i].ix && touches_index(t->ix[i].def, patch);
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)patch, k, v) {
    int rc = schema_validate_field(tx->state->schema, t->name, k,
                                   store_is_undefined(v) ? NULL : v, &ids, err);
    if (rc == SCHEMA_WHOLE_DOC)
      return 0;
    if (rc)
      return rc;
  }
  return 1;
}

/* The part of a stored document t's indexes that patch touches read: _id,
 * _creationTime and the top-level fields those indexes hold, parsed from
 * the text (a new object), in *old; the same with patch applied in *new. */
static int index_view(const struct stable *t, const char *text, size_t len, const json_t *patch,
                      json_t **old, json_t **new, struct err *err)
{
  *old = json_object();
  int rc = *old ? 0 : err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; !rc && i <= t->nix; i++) {
    const struct index_def *def = i < t->nix ? t->ix[i].def : NULL;
    if (i < t->nix && (!t->ix[i].ix || !touches_index(def, patch)))
      continue;
    for (size_t f = 0; !rc && f <= (def ? def->nfields : 0) + 1; f++) {
      char name[SCHEMA_MAX_TOP_FIELD_NAME + 1];
      const char *path = f == 0 ? "_id" : f == 1 ? "_creationTime" : def->fields[f - 2];
      size_t n = strcspn(path, ".");
      if (n >= sizeof name)
        continue; /* no such field can be stored */
      memcpy(name, path, n);
      name[n] = '\0';
      const char *v = NULL;
      size_t vlen = 0;
      if (json_object_get(*old, name) || jtext_field(text, len, name, &v, &vlen) != 1)
        continue;
      json_t *val = jv_parse(v, vlen, err);
      rc = !val ? err_set(err, E_STORE, "a stored document is damaged")
                : json_object_set_new(*old, name, val) ? err_set(err, E_NOMEM, "out of memory")
                                                       : 0;
    }
    if (!def)
      break; /* by_creation_time, last: no patch moves it */
  }
  *new = rc ? NULL : updated(*old, patch, 1);
  if (!rc && !*new)
    rc = err_set(err, E_NOMEM, "out of memory");
  if (rc) {
    json_decref(*old);
    *old = NULL;
  }
  return rc;
}

/* Appends ,"key":value (value dumped as the store writes it). */
static int put_member(struct buf *b, int first, const char *key, size_t klen, const char *v,
                      size_t vlen)
{
  return (!first && buf_append(b, ",", 1)) || buf_append(b, "\"", 1) ||
         buf_append(b, key, klen) || buf_append(b, "\":", 2) || buf_append(b, v, vlen);
}

#define PATCH_TEXT_FIELDS 16 /* more: the whole-document path */

/* Whether a member's value is store_undefined() as jv_dumps prints it. */
static int undefined_text(const struct jtext_member *m)
{
  return m->vlen == strlen(STORE_UNDEFINED_TEXT) && memcmp(m->v, STORE_UNDEFINED_TEXT, m->vlen) == 0;
}

/* The text of old with a patch applied, as jv_dumps of the merged document
 * would write it: a field the patch sets keeps its place, a removed one goes,
 * new ones follow in the patch's order. ptext is the patch as jv_dumps
 * wrote it, so each value is printed once. NULL with *whole set when a key
 * needs escaping or the patch is large (the whole-document path then does
 * it), NULL with err set on malformed text. */
static char *patched_text(const char *old, size_t len, const char *ptext, int *whole,
                          struct err *err)
{
  struct jtext_member pm[PATCH_TEXT_FIELDS];
  int used[PATCH_TEXT_FIELDS] = {0};
  size_t np = 0, pos = 0;
  int more;
  *whole = 0;
  while ((more = jtext_next(ptext, strlen(ptext), &pos, &pm[np])) == 1)
    if (!jtext_plain(pm[np].key, pm[np].klen) || ++np == PATCH_TEXT_FIELDS) {
      *whole = 1;
      return NULL;
    }
  if (more < 0) {
    err_set(err, E_INTERNAL, "a patch's text is not a JSON object");
    return NULL;
  }
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  int rc = buf_append(&b, "{", 1), first = 1;
  struct jtext_member m;
  pos = 0;
  while (!rc && (more = jtext_next(old, len, &pos, &m)) == 1) {
    if (!jtext_plain(m.key, m.klen)) {
      *whole = 1;
      break;
    }
    size_t j = 0;
    while (j < np && !(pm[j].klen == m.klen && memcmp(pm[j].key, m.key, m.klen) == 0))
      j++;
    const struct jtext_member *v = j < np ? &pm[j] : &m;
    if (j < np)
      used[j] = 1;
    if (j < np && undefined_text(v))
      continue; /* removed */
    rc = put_member(&b, first, m.key, m.klen, v->v, v->vlen);
    first = 0;
  }
  if (*whole || (!rc && more < 0)) {
    buf_release(&b);
    if (!*whole)
      err_set(err, E_STORE, "a stored document is damaged (not a JSON object)");
    return NULL;
  }
  for (size_t j = 0; !rc && j < np; j++) {
    if (used[j] || undefined_text(&pm[j]))
      continue;
    rc = put_member(&b, first, pm[j].key, pm[j].klen, pm[j].v, pm[j].vlen);
    first = 0;
  }
  if (rc || buf_append(&b, "}", 1)) {
    buf_release(&b);
    err_set(err, E_NOMEM, "out of memory");
    return NULL;
  }
  return buf_detach(&b);
}

int store_patch_text(struct store_tx *tx, const char *id, const char *old, size_t len,
                     const json_t *patch, const char *patch_text, struct err *err)
{
  int rc = want_write(tx, err);
  if (rc)
    return rc;
  if (!json_is_object(patch))
    return err_set(err, E_SCHEMA, "a patch must be a JSON object");
  const struct stable *t = table_of_id(tx, id, err);
  if (!t)
    return err->code;
  int indexed = 0;
  int text_ok = json_object_get(patch, "_id") || json_object_get(patch, "_creationTime")
                  ? 0 : patchable_as_text(tx, t, patch, &indexed, err);
  if (text_ok < 0)
    return text_ok;
  if (text_ok && tx_search_touched(tx, t, patch))
    text_ok = 0; /* its search row is made from the whole document */
  int whole = 0;
  char *dumped = text_ok && !patch_text ? jv_dumps(patch) : NULL;
  if (text_ok && !patch_text && !dumped)
    return err_set(err, E_NOMEM, "out of memory");
  char *body = text_ok ? patched_text(old, len, patch_text ? patch_text : dumped, &whole, err)
                       : NULL;
  one_free(dumped);
  if (text_ok && !body && !whole)
    return err->code;
  if (!body) { /* the whole document, parsed, merged and validated */
    json_t *doc = jv_parse(old, len, err);
    if (!doc) {
      char why[sizeof err->msg];
      snprintf(why, sizeof why, "%s", err->msg); /* err->msg is the destination below */
      return err_set(err, E_STORE, "a stored document is damaged: %s", why);
    }
    rc = update_from(tx, t, doc, patch, 1, err);
    json_decref(doc);
    return rc;
  }
  size_t n = strlen(body);
  json_t *was = NULL, *now = NULL;
  if (n > SCHEMA_MAX_DOC_BYTES)
    rc = err_set(err, E_TOOBIG, "document is larger than %d bytes", SCHEMA_MAX_DOC_BYTES);
  else if (!(indexed && (rc = index_view(t, old, len, patch, &was, &now, err))) &&
           ((rc = tx->s->be->doc_update(tx->c, id, body, n, err)) ||
            (indexed && (rc = tx_index_doc(tx, t, was, now, patch, err))) ||
            (rc = tx_record_change(tx, t, id, STORE_UPDATED, err))))
    tx->failed = 1;
  json_decref(was);
  json_decref(now);
  one_free(body);
  return rc;
}

int store_patch(struct store_tx *tx, const char *id, const json_t *patch, struct err *err)
{
  return update(tx, id, patch, 1, err);
}

int store_replace(struct store_tx *tx, const char *id, const json_t *fields, struct err *err)
{
  return update(tx, id, fields, 0, err);
}

int store_delete(struct store_tx *tx, const char *id, struct err *err)
{
  int rc = want_write(tx, err);
  if (rc)
    return rc;
  const struct stable *t = NULL;
  json_t *old = NULL;
  if ((rc = load(tx, id, &t, &old, err)))
    return rc;
  if ((rc = tx->s->be->doc_delete(tx->c, id, err)) || (rc = tx_index_doc(tx, t, old, NULL, NULL, err)) ||
      (rc = tx_search_doc(tx, t, old, NULL, NULL, err)) ||
      (rc = tx_record_change(tx, t, id, STORE_DELETED, err)))
    tx->failed = 1;
  json_decref(old);
  return rc;
}

/* --- queries --- */

static char *cursor_encode(int64_t ix, const uint8_t *key, size_t klen)
{
  size_t n = 9 + klen;
  uint8_t *raw = one_malloc(n);
  if (!raw)
    return NULL;
  raw[0] = CURSOR_VERSION;
  for (int i = 0; i < 8; i++)
    raw[1 + i] = (uint8_t)((uint64_t)ix >> (56 - 8 * i));
  memcpy(raw + 9, key, klen);
  size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *s = one_malloc(cap);
  if (s)
    sodium_bin2base64(s, cap, raw, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  one_free(raw);
  return s;
}

static int cursor_decode(const char *s, int64_t ix, struct buf *key, struct err *err)
{
  size_t len = strlen(s), n = 0;
  uint8_t *raw = len < 16384 ? one_malloc(len) : NULL;
  if (!raw)
    return err_set(err, E_INVALID, "invalid cursor");
  const char *end = NULL;
  int bad = sodium_base642bin(raw, len, s, len, NULL, &n, &end,
                              sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
            end != s + len || n < 10 || raw[0] != CURSOR_VERSION;
  uint64_t got = 0;
  for (int i = 0; !bad && i < 8; i++)
    got = got << 8 | raw[1 + i];
  if (!bad && (int64_t)got != ix) {
    one_free(raw);
    return err_set(err, E_INVALID, "the cursor belongs to another index");
  }
  int rc = bad ? err_set(err, E_INVALID, "invalid cursor") : buf_append(key, raw + 9, n - 9);
  one_free(raw);
  return rc;
}

struct page_acc {
  struct store_page *page;
  const struct store_query *q;
  int as_text;
  size_t limit, seen;
  struct buf last;
  struct err *err;
};

static int page_row(void *arg, const uint8_t *key, size_t klen, const char *id, const char *body,
                    size_t blen)
{
  struct page_acc *a = arg;
  if (a->seen++ == a->limit) { /* one more than asked: not done */
    a->page->done = 0;
    return 1;
  }
  if (a->q && a->q->each) {
    int rc = a->q->each(a->q->each_arg, body, blen, a->err);
    if (rc)
      return rc;
    buf_reset(&a->last);
    return buf_append(&a->last, key, klen) ? err_set(a->err, E_NOMEM, "out of memory") : 0;
  }
  if (a->as_text) {
    char *copy = one_malloc(blen + 1);
    if (!copy)
      return err_set(a->err, E_NOMEM, "out of memory");
    memcpy(copy, body, blen);
    copy[blen] = '\0';
    a->page->texts[a->page->ntexts] = copy;
    a->page->lens[a->page->ntexts++] = blen;
    buf_reset(&a->last);
    return buf_append(&a->last, key, klen) ? err_set(a->err, E_NOMEM, "out of memory") : 0;
  }
  json_t *doc = jv_parse(body, blen, a->err);
  if (!doc)
    return err_set(a->err, E_STORE, "document %s is damaged", id);
  if (json_array_append_new(a->page->docs, doc))
    return err_set(a->err, E_NOMEM, "out of memory");
  buf_reset(&a->last);
  return buf_append(&a->last, key, klen) ? err_set(a->err, E_NOMEM, "out of memory") : 0;
}

/* An empty page that can take limit documents (or texts): done until a
 * scan finds one more row than it asked for. */
static int page_init(struct store_page *page, int as_text, size_t limit, struct err *err)
{
  page->docs = json_array();
  if (as_text) {
    page->texts = one_calloc(limit, sizeof *page->texts);
    page->lens = one_calloc(limit, sizeof *page->lens);
  }
  page->done = 1;
  if (!page->docs || (as_text && (!page->texts || !page->lens)))
    return err_set(err, E_NOMEM, "out of memory");
  return 0;
}

/* memcmp order of two buffers, shorter first on a common prefix. */
static int memcmp_buf(const struct buf *a, const struct buf *b)
{
  size_t n = a->len < b->len ? a->len : b->len;
  int c = n ? memcmp(a->p, b->p, n) : 0;
  return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Encodes the eq prefix, plus x when given, into b. */
static int put_prefix(struct buf *b, const json_t *eq, const json_t *x, struct err *err)
{
  buf_reset(b);
  for (size_t i = 0; eq && i < json_array_size(eq); i++)
    if (key_put_value(b, json_array_get(eq, i)))
      return err_set(err, E_INVALID, "eq value %zu is not a Convex value", i + 1);
  if (x && key_put_value(b, x))
    return err_set(err, E_INVALID, "range value is not a Convex value");
  return 0;
}

/* Sets b to its prefix successor; returns 0 when unbounded (b emptied). */
static int successor(struct buf *b)
{
  b->len = key_prefix_successor((uint8_t *)b->p, b->len);
  return b->len > 0;
}

int store_query(struct store_tx *tx, const struct store_query *q, struct store_page *page,
                struct err *err)
{
  memset(page, 0, sizeof *page);
  const struct stable *t = state_table(tx->state, q->table);
  if (!t)
    return err_set(err, E_NOTFOUND, "no table '%s'", q->table);
  int64_t ix = t->by_ct;
  const struct index_def *def = NULL;
  const char *iname = q->index ? q->index : "by_creation_time";
  if (strcmp(iname, "by_creation_time") != 0) {
    ix = 0;
    for (size_t i = 0; i < t->nix; i++)
      if (!t->ix[i].building && strcmp(t->ix[i].name, iname) == 0) {
        ix = t->ix[i].ix;
        def = t->ix[i].def;
      }
    if (!ix)
      return err_set(err, E_NOTFOUND, "table '%s' has no index '%s'", q->table, iname);
  }
  size_t nfields = (def ? def->nfields : 0) + 1; /* + _creationTime */
  size_t neq = q->eq ? json_array_size(q->eq) : 0;
  if (q->eq && !json_is_array(q->eq))
    return err_set(err, E_INVALID, "eq must be an array of values");
  int ranged = q->lower_op || q->upper_op;
  if (neq > nfields || (ranged && neq >= nfields))
    return err_set(err, E_INVALID, "index '%s' has %zu field%s (with _creationTime); the query "
                   "constrains too many", iname, nfields, nfields > 1 ? "s" : "");
  if ((q->lower_op && q->lower_op != STORE_GT && q->lower_op != STORE_GTE) ||
      (q->upper_op && q->upper_op != STORE_LT && q->upper_op != STORE_LTE))
    return err_set(err, E_INVALID, "a lower bound is gt or gte, an upper bound lt or lte");
  if (q->limit == 0 || q->limit > STORE_MAX_PAGE)
    return err_set(err, E_INVALID, "limit must be between 1 and %d", STORE_MAX_PAGE);

  struct buf lo, hi;
  buf_init(&lo, BUF_UNBOUNDED);
  buf_init(&hi, BUF_UNBOUNDED);
  int has_hi = 1, rc;
  /* lower bound */
  if ((rc = put_prefix(&lo, q->eq, q->lower_op ? q->lower : NULL, err)))
    goto out;
  if (q->lower_op == STORE_GT && !successor(&lo)) {
    page->docs = json_array(); /* nothing is greater */
    page->done = 1;
    goto out;
  }
  /* upper bound */
  if ((rc = put_prefix(&hi, q->eq, q->upper_op ? q->upper : NULL, err)))
    goto out;
  if (q->upper_op != STORE_LT)
    has_hi = hi.len ? successor(&hi) : 0;
  if (q->cursor) {
    struct buf key;
    buf_init(&key, 64 * 1024);
    if ((rc = cursor_decode(q->cursor, ix, &key, err))) {
      buf_release(&key);
      goto out;
    }
    if (!q->desc) { /* after the cursor: key || 0x00 */
      if ((rc = buf_putc(&key, 0)) == 0 && memcmp_buf(&key, &lo) > 0) {
        buf_reset(&lo);
        rc = buf_append(&lo, key.p, key.len);
      }
    } else if (!has_hi || memcmp_buf(&key, &hi) < 0) {
      buf_reset(&hi);
      rc = buf_append(&hi, key.p, key.len);
      has_hi = 1;
    }
    buf_release(&key);
    if (rc)
      goto out;
  }
  if ((rc = page_init(page, q->as_text && !q->each, q->limit, err)))
    goto out;
  struct page_acc acc = {page, q, q->as_text, q->limit, 0, {0}, err};
  buf_init(&acc.last, BUF_UNBOUNDED);
  rc = tx->s->be->scan(tx->c, ix, (const uint8_t *)lo.p, lo.len, has_hi ? (const uint8_t *)hi.p : NULL,
                       hi.len, q->desc, q->first_only ? 1 : q->limit + 1, page_row, &acc, err);
  if (!rc && !q->first_only && acc.last.len && !(page->cursor = cursor_encode(ix, (const uint8_t *)acc.last.p, acc.last.len)))
    rc = err_set(err, E_NOMEM, "out of memory");
  buf_release(&acc.last);
out:
  buf_release(&lo);
  buf_release(&hi);
  if (rc)
    store_page_release(page);
  return rc;
}

void store_page_release(struct store_page *p)
{
  json_decref(p->docs);
  for (size_t i = 0; i < p->ntexts; i++)
    one_free(p->texts[i]);
  one_free(p->texts);
  one_free(p->lens);
  one_free(p->cursor);
  memset(p, 0, sizeof *p);
}

int store_scan(struct store_tx *tx, const char *table, const char *after, size_t limit,
               int as_text, struct store_page *page, struct err *err)
{
  memset(page, 0, sizeof *page);
  const struct stable *t = state_table(tx->state, table);
  if (!t)
    return err_set(err, E_NOTFOUND, "no table '%s'", table);
  if (limit == 0 || limit > STORE_MAX_PAGE)
    return err_set(err, E_INVALID, "limit must be between 1 and %d", STORE_MAX_PAGE);
  int rc = page_init(page, as_text, limit, err);
  struct page_acc acc = {page, NULL, as_text, limit, 0, {0}, err};
  buf_init(&acc.last, CID_MAX);
  if (!rc)
    rc = tx->s->be->doc_scan(tx->c, t->number, after, limit + 1, page_row, &acc, err);
  if (!rc && acc.last.len && !(page->cursor = one_strdup(buf_str(&acc.last))))
    rc = err_set(err, E_NOMEM, "out of memory");
  buf_release(&acc.last);
  if (rc)
    store_page_release(page);
  return rc;
}

int store_count(struct store_tx *tx, const char *table, int64_t *count, struct err *err)
{
  const struct stable *t = state_table(tx->state, table);
  if (!t)
    return err_set(err, E_NOTFOUND, "no table '%s'", table);
  *count = 0;
  return t->by_ct ? tx->s->be->count(tx->c, t->by_ct, count, err) : 0;
}

int store_each(struct store_tx *tx, const char *table, int as_text, store_each_fn fn, void *arg,
               struct err *err)
{
  char *cursor = NULL;
  int rc = 0;
  for (;;) {
    struct store_page page;
    rc = store_scan(tx, table, cursor, STORE_MAX_PAGE, as_text, &page, err);
    one_free(cursor);
    cursor = NULL;
    if (rc)
      return rc;
    size_t n = as_text ? page.ntexts : json_array_size(page.docs);
    for (size_t i = 0; !rc && i < n; i++)
      rc = as_text ? fn(arg, NULL, page.texts[i], page.lens[i], err)
                   : fn(arg, json_array_get(page.docs, i), NULL, 0, err);
    int done = rc || page.done || !page.cursor;
    if (!done && !(cursor = one_strdup(page.cursor)))
      rc = err_set(err, E_NOMEM, "out of memory");
    store_page_release(&page);
    if (done || rc)
      return rc;
  }
}
