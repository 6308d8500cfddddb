/* schema_validate: checks a document against its table's validator.
 *
 * Main idea: one walk over value and validator together, carrying the path
 * ("agents.delegatesTo[2]") in a buffer, adding one err detail per problem
 * and going on, so the caller sees every problem at once. A union is matched
 * by trying each member silently: the first that passes wins; if none does,
 * the member with the fewest problems (for objects, usually the one whose
 * `kind` literal matches) is reported. Convex's limits on depth, field
 * counts, array lengths and field names are checked on the way, also under
 * v.any(). */
#include "schema/schema.h"
#include "util/buf.h"
#include "util/cid.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

struct vctx {
  const struct id_resolver *ids;
  struct err *err;   /* NULL when only counting (union trials) */
  size_t problems;
  struct buf path;
  int nomem;
};

static void problem(struct vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct vctx *c, const char *fmt, ...)
{
  c->problems++;
  if (!c->err || c->err->ndetails >= 100)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (err_add_detail(c->err, buf_str(&c->path), "%s", msg) != 0)
    c->nomem = 1;
}

/* The path grows on every field of every document validated, so it is
 * appended to, not formatted (vsnprintf would cost more than the check). */
static size_t push_field(struct vctx *c, const char *name)
{
  size_t mark = c->path.len;
  int plain = name[0] != '\0' && strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_") == strlen(name);
  int rc;
  if (plain)
    rc = (c->path.len && buf_putc(&c->path, '.')) || buf_puts(&c->path, name);
  else
    rc = buf_puts(&c->path, "[\"") || buf_puts(&c->path, name) || buf_puts(&c->path, "\"]");
  if (rc)
    c->nomem = 1;
  return mark;
}

static size_t push_index(struct vctx *c, size_t i)
{
  size_t mark = c->path.len;
  char digits[24];
  size_t n = sizeof digits;
  do {
    digits[--n] = (char)('0' + i % 10);
    i /= 10;
  } while (i);
  if (buf_putc(&c->path, '[') || buf_append(&c->path, digits + n, sizeof digits - n) ||
      buf_putc(&c->path, ']'))
    c->nomem = 1;
  return mark;
}

static void pop(struct vctx *c, size_t mark)
{
  c->path.len = mark;
  if (c->path.p)
    c->path.p[mark] = '\0';
}

/* What a value is, for "got …": id<users> for ids of known tables. */
static void describe(struct vctx *c, const json_t *x, char *out, size_t n)
{
  enum jv_type t = jv_type(x);
  if (t == JV_STRING) {
    uint32_t num = cid_table(json_string_value(x), json_string_length(x));
    const char *name = num && c->ids ? c->ids->table_name(c->ids->ctx, num) : NULL;
    if (name) {
      snprintf(out, n, "id<%s>", name);
      return;
    }
  }
  if (t == JV_INVALID && json_is_object(x)) {
    snprintf(out, n, "an object with a '$' field name (reserved)");
    return;
  }
  snprintf(out, n, "%s", jv_type_name(t));
}

static void literal_text(const json_t *lit, char *out, size_t n)
{
  if (json_is_integer(lit)) {
    snprintf(out, n, "%lldn", (long long)json_integer_value(lit));
    return;
  }
  if (jv_type(lit) == JV_FLOAT64) {
    snprintf(out, n, "%.17g", jv_float_value(lit));
    return;
  }
  char *s = jv_dumps(lit);
  snprintf(out, n, "%.*s%s", 60, s ? s : "?", s && strlen(s) > 60 ? "…" : "");
  one_free(s);
}

static int name_ok(struct vctx *c, const char *k, int top)
{
  size_t len = strlen(k);
  if (len == 0) {
    problem(c, "field names cannot be empty");
    return 0;
  }
  if (k[0] == '$') {
    problem(c, "field name \"%s\" starts with '$', which is reserved", k);
    return 0;
  }
  if (len > (top ? SCHEMA_MAX_TOP_FIELD_NAME : SCHEMA_MAX_FIELD_NAME)) {
    problem(c, "field name longer than %d characters",
            top ? SCHEMA_MAX_TOP_FIELD_NAME : SCHEMA_MAX_FIELD_NAME);
    return 0;
  }
  for (const char *p = k; *p; p++)
    if (*p < 0x20 || *p > 0x7e) {
      problem(c, "field names must be printable ASCII");
      return 0;
    }
  return 1;
}

/* Shape rules that hold for every value: depth, counts, names. */
static void check_shape(struct vctx *c, const json_t *x, int depth)
{
  enum jv_type t = jv_type(x);
  if ((t == JV_ARRAY || t == JV_OBJECT) && depth > SCHEMA_MAX_DEPTH) {
    problem(c, "nested deeper than %d levels", SCHEMA_MAX_DEPTH);
    return;
  }
  if (t == JV_INVALID) {
    char d[80];
    describe(c, x, d, sizeof d);
    problem(c, "not a valid value: %s", d);
  } else if (t == JV_ARRAY) {
    if (json_array_size(x) > SCHEMA_MAX_ARRAY) {
      problem(c, "array has %zu elements, more than %d", json_array_size(x), SCHEMA_MAX_ARRAY);
      return;
    }
    for (size_t i = 0; i < json_array_size(x); i++) {
      size_t m = push_index(c, i);
      check_shape(c, json_array_get(x, i), depth + 1);
      pop(c, m);
    }
  } else if (t == JV_OBJECT) {
    if (json_object_size(x) > SCHEMA_MAX_FIELDS) {
      problem(c, "object has %zu fields, more than %d", json_object_size(x), SCHEMA_MAX_FIELDS);
      return;
    }
    const char *k;
    json_t *y;
    json_object_foreach((json_t *)x, k, y) {
      size_t m = push_field(c, k);
      if (name_ok(c, k, 0))
        check_shape(c, y, depth + 1);
      pop(c, m);
    }
  }
}

static void check(struct vctx *c, const struct validator *v, const json_t *x, int depth, int top);

static void expected(struct vctx *c, const struct validator *v, const json_t *x)
{
  char got[128];
  describe(c, x, got, sizeof got);
  char *want = validator_text(v);
  const char *w = want ? want : "?";
  if (v->kind == VK_ID)
    problem(c, "expected id<%s>, got %s", v->table, got);
  else if (v->kind == VK_LITERAL) {
    char lit[80], val[80];
    literal_text(v->literal, lit, sizeof lit);
    if (jv_type(x) == jv_type(v->literal)) {
      literal_text(x, val, sizeof val);
      problem(c, "expected %s, got %s", lit, val);
    } else {
      problem(c, "expected %s, got %s", lit, got);
    }
  } else if (strlen(w) <= 120)
    problem(c, "expected %s, got %s", w, got);
  else
    problem(c, "expected %s, got %s", v->kind == VK_UNION ? "one of the union's shapes" : "an object", got);
  one_free(want);
}

static void check_id(struct vctx *c, const struct validator *v, const json_t *x)
{
  if (!json_is_string(x)) {
    expected(c, v, x);
    return;
  }
  uint32_t num = cid_table(json_string_value(x), json_string_length(x));
  if (!num) {
    problem(c, "expected id<%s>, got a string that is not a document id", v->table);
    return;
  }
  const char *name = c->ids ? c->ids->table_name(c->ids->ctx, num) : NULL;
  if (!name)
    problem(c, "expected id<%s>, got an id of unknown table number %u", v->table, num);
  else if (strcmp(name, v->table) != 0)
    problem(c, "expected id<%s>, got id<%s>", v->table, name);
}

static void check_object(struct vctx *c, const struct validator *v, const json_t *x, int depth,
                         int top)
{
  if (jv_type(x) != JV_OBJECT) {
    expected(c, v, x);
    return;
  }
  if (json_object_size(x) > SCHEMA_MAX_FIELDS) {
    problem(c, "object has %zu fields, more than %d", json_object_size(x), SCHEMA_MAX_FIELDS);
    return;
  }
  for (size_t i = 0; i < v->nfields; i++) {
    const struct vfield *f = &v->fields[i];
    json_t *y = json_object_get(x, f->name);
    size_t m = push_field(c, f->name);
    if (!y && !f->optional)
      problem(c, "missing required field");
    else if (y)
      check(c, f->type, y, depth + 1, 0);
    pop(c, m);
  }
  const char *k;
  json_t *y;
  json_object_foreach((json_t *)x, k, y) {
    int known = 0;
    for (size_t i = 0; i < v->nfields && !known; i++)
      known = strcmp(v->fields[i].name, k) == 0;
    if (known || (top && (strcmp(k, "_id") == 0 || strcmp(k, "_creationTime") == 0)))
      continue;
    size_t m = push_field(c, k);
    if (name_ok(c, k, top)) {
      if (top && k[0] == '_')
        problem(c, "field names starting with '_' are reserved for system fields");
      else
        problem(c, "unexpected field (not in the schema)");
    }
    pop(c, m);
  }
}

static void check_union(struct vctx *c, const struct validator *v, const json_t *x, int depth,
                        int top)
{
  size_t best = 0, best_n = (size_t)-1;
  for (size_t i = 0; i < v->nmembers; i++) {
    struct vctx trial = {c->ids, NULL, 0, {0}, 0};
    buf_init(&trial.path, BUF_UNBOUNDED);
    check(&trial, v->members[i], x, depth, top);
    buf_release(&trial.path);
    if (trial.problems == 0)
      return;
    if (trial.problems < best_n) {
      best_n = trial.problems;
      best = i;
    }
  }
  /* Report the closest member's problems when it is an object shape of the
   * same type; otherwise one line naming the whole union. */
  if (jv_type(x) == JV_OBJECT && v->members[best]->kind == VK_OBJECT)
    check(c, v->members[best], x, depth, top);
  else
    expected(c, v, x);
}

/* depth counts the containers around x, the document itself being 1; an
 * array or object deeper than SCHEMA_MAX_DEPTH is refused. */
static void check(struct vctx *c, const struct validator *v, const json_t *x, int depth, int top)
{
  enum jv_type t = jv_type(x);
  if ((t == JV_ARRAY || t == JV_OBJECT) && depth > SCHEMA_MAX_DEPTH) {
    problem(c, "nested deeper than %d levels", SCHEMA_MAX_DEPTH);
    return;
  }
  switch (v->kind) {
  case VK_ANY: check_shape(c, x, depth); return;
  case VK_NULL: if (t != JV_NULL) expected(c, v, x); return;
  case VK_FLOAT64: if (t != JV_FLOAT64) expected(c, v, x); return;
  case VK_INT64: if (t != JV_INT64) expected(c, v, x); return;
  case VK_BOOLEAN: if (t != JV_BOOLEAN) expected(c, v, x); return;
  case VK_STRING: if (t != JV_STRING) expected(c, v, x); return;
  case VK_BYTES: if (t != JV_BYTES) expected(c, v, x); return;
  case VK_ID: check_id(c, v, x); return;
  case VK_LITERAL: if (!jv_equal(v->literal, x)) expected(c, v, x); return;
  case VK_ARRAY:
    if (t != JV_ARRAY) {
      expected(c, v, x);
      return;
    }
    if (json_array_size(x) > SCHEMA_MAX_ARRAY) {
      problem(c, "array has %zu elements, more than %d", json_array_size(x), SCHEMA_MAX_ARRAY);
      return;
    }
    for (size_t i = 0; i < json_array_size(x); i++) {
      size_t m = push_index(c, i);
      check(c, v->elem, json_array_get(x, i), depth + 1, 0);
      pop(c, m);
    }
    return;
  case VK_RECORD: {
    if (t != JV_OBJECT) {
      expected(c, v, x);
      return;
    }
    if (json_object_size(x) > SCHEMA_MAX_FIELDS) {
      problem(c, "record has %zu keys, more than %d", json_object_size(x), SCHEMA_MAX_FIELDS);
      return;
    }
    const char *k;
    json_t *y;
    json_object_foreach((json_t *)x, k, y) {
      size_t m = push_field(c, k);
      if (name_ok(c, k, 0)) {
        json_t *key = json_string(k);
        struct vctx trial = {c->ids, NULL, 0, {0}, 0};
        buf_init(&trial.path, BUF_UNBOUNDED);
        if (key)
          check(&trial, v->elem, key, depth + 1, 0);
        buf_release(&trial.path);
        if (!key)
          c->nomem = 1;
        else if (trial.problems) {
          char *want = validator_text(v->elem);
          problem(c, "record key \"%s\" does not match %s", k, want ? want : "the key type");
          one_free(want);
        }
        json_decref(key);
        check(c, v->value, y, depth + 1, 0);
      }
      pop(c, m);
    }
    return;
  }
  case VK_OBJECT: check_object(c, v, x, depth, top); return;
  case VK_UNION: check_union(c, v, x, depth, top); return;
  }
}

static int finish(struct vctx *c, struct err *err)
{
  buf_release(&c->path);
  if (c->nomem)
    return err_set(err, E_NOMEM, "out of memory while validating");
  if (!c->problems)
    return 0;
  if (err && err->ndetails)
    return err_set(err, E_SCHEMA, "%s: %s%s", err->details[0].path, err->details[0].message,
                   c->problems > 1 ? " (and more problems)" : "");
  return err_set(err, E_SCHEMA, "value does not match the schema");
}

int validator_check(const struct validator *v, const json_t *value, const char *path,
                    const struct id_resolver *ids, struct err *err)
{
  struct vctx c = {ids, err, 0, {0}, 0};
  buf_init(&c.path, BUF_UNBOUNDED);
  if (path && buf_puts(&c.path, path))
    c.nomem = 1;
  check(&c, v, value, 1, 0);
  return finish(&c, err);
}

/* Top-level fields of a document of a table no schema describes: any
 * values, under Convex's naming and size rules. */
static void check_untyped(struct vctx *c, const json_t *doc)
{
  if (json_object_size(doc) > SCHEMA_MAX_FIELDS) {
    problem(c, "object has %zu fields, more than %d", json_object_size(doc), SCHEMA_MAX_FIELDS);
    return;
  }
  const char *k;
  json_t *y;
  json_object_foreach((json_t *)doc, k, y) {
    if (strcmp(k, "_id") == 0 || strcmp(k, "_creationTime") == 0)
      continue;
    size_t m = push_field(c, k);
    if (name_ok(c, k, 1)) {
      if (k[0] == '_')
        problem(c, "field names starting with '_' are reserved for system fields");
      else
        check_shape(c, y, 2);
    }
    pop(c, m);
  }
}

static int validate_doc(const struct table_def *t, const char *table, const json_t *doc,
                        const struct id_resolver *ids, int flags, struct err *err)
{
  struct vctx c = {ids, err, 0, {0}, 0};
  buf_init(&c.path, BUF_UNBOUNDED);
  if (buf_puts(&c.path, table))
    c.nomem = 1;
  if (jv_type(doc) != JV_OBJECT) {
    problem(&c, "a document must be an object");
    return finish(&c, err);
  }
  json_t *id = json_object_get(doc, "_id");
  json_t *ct = json_object_get(doc, "_creationTime");
  if (id || (flags & VALIDATE_SYSTEM_FIELDS)) {
    size_t m = push_field(&c, "_id");
    struct validator idv = {.kind = VK_ID, .table = (char *)table};
    if (!id)
      problem(&c, "missing required field");
    else
      check_id(&c, &idv, id);
    pop(&c, m);
  }
  if (ct || (flags & VALIDATE_SYSTEM_FIELDS)) {
    size_t m = push_field(&c, "_creationTime");
    if (!ct)
      problem(&c, "missing required field");
    else if (!json_is_real(ct) || json_real_value(ct) <= 0)
      problem(&c, "expected a positive finite number of milliseconds");
    pop(&c, m);
  }
  if (t)
    check(&c, t->doc, doc, 1, 1);
  else
    check_untyped(&c, doc);
  return finish(&c, err);
}

int schema_validate(const struct schema *s, const char *table, const json_t *doc,
                    const struct id_resolver *ids, int flags, struct err *err)
{
  const struct table_def *t = schema_table(s, table);
  if (!t)
    return err_set(err, E_NOTFOUND, "table '%s' is not in the schema", table);
  return validate_doc(t, table, doc, ids, flags, err);
}

int schema_validate_untyped(const char *table, const json_t *doc, const struct id_resolver *ids,
                            int flags, struct err *err)
{
  return validate_doc(NULL, table, doc, ids, flags, err);
}

int schema_validate_field(const struct schema *s, const char *table, const char *field,
                          const json_t *value, const struct id_resolver *ids, struct err *err)
{
  const struct table_def *t = schema_table(s, table);
  if (!t || t->doc->kind != VK_OBJECT || field[0] == '_')
    return SCHEMA_WHOLE_DOC;
  const struct vfield *f = NULL;
  for (size_t i = 0; i < t->doc->nfields && !f; i++)
    if (strcmp(t->doc->fields[i].name, field) == 0)
      f = &t->doc->fields[i];
  if (!f)
    return SCHEMA_WHOLE_DOC; /* refused: the whole document's check says how */
  struct vctx c = {ids, err, 0, {0}, 0};
  buf_init(&c.path, BUF_UNBOUNDED);
  if (buf_puts(&c.path, table))
    c.nomem = 1;
  size_t m = push_field(&c, field);
  if (!value && !f->optional)
    problem(&c, "missing required field");
  else if (value)
    check(&c, f->type, value, 2, 0); /* as check_object does for a document's fields */
  pop(&c, m);
  return finish(&c, err);
}
