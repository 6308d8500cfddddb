/* shape: parser of legacy export shapes and decoder of legacy values.
 *
 * Main idea: decoding walks the value with the *set* of shapes that may
 * describe it (a union widens the set, an object field or an array element
 * narrows it), and at each string asks which kinds of value the set could
 * have printed as a string. Exactly one kind: decode as that; several or
 * none: the document's override context decides, else it is a string. */
#include "migrate/shape.h"

#include "util/buf.h"
#include "util/jv.h"
#include "util/mem.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE_MAX_DEPTH 64
#define SHAPE_MAX_SET 256

enum sk {
  SK_NEVER, SK_NULL, SK_INT64, SK_FLOAT64, SK_NORMAL, SK_NEGINF, SK_POSINF, SK_NEGZERO,
  SK_NAN, SK_BOOLEAN, SK_STRING, SK_LITERAL, SK_FIELDNAME, SK_BYTES, SK_UNKNOWN, SK_ID,
  SK_ARRAY, SK_RECORD, SK_OBJECT, SK_UNION,
};

struct sfield {
  char *name;
  struct shape *type;
};

struct shape {
  enum sk kind;
  struct shape *elem;          /* SK_ARRAY element; SK_RECORD key */
  struct shape *value;         /* SK_RECORD value */
  struct sfield *fields;       /* SK_OBJECT */
  size_t nfields;
  struct shape **opts;         /* SK_UNION, never nested */
  size_t nopts;
};

void shape_free(struct shape *s)
{
  if (!s)
    return;
  shape_free(s->elem);
  shape_free(s->value);
  for (size_t i = 0; i < s->nfields; i++) {
    one_free(s->fields[i].name);
    shape_free(s->fields[i].type);
  }
  one_free(s->fields);
  for (size_t i = 0; i < s->nopts; i++)
    shape_free(s->opts[i]);
  one_free(s->opts);
  one_free(s);
}

/* --- parser --- */

struct sp {
  const char *p, *start, *end;
  struct err *err;
  int failed;
};

static void sp_fail(struct sp *sp, const char *what)
{
  if (sp->failed)
    return;
  sp->failed = 1;
  err_set(sp->err, E_PARSE, "shape: %s at column %zu", what, (size_t)(sp->p - sp->start) + 1);
}

static void skip_ws(struct sp *sp)
{
  while (sp->p < sp->end && (*sp->p == ' ' || *sp->p == '\t' || *sp->p == '\n' || *sp->p == '\r'))
    sp->p++;
}

static int eat(struct sp *sp, char c)
{
  skip_ws(sp);
  if (sp->p < sp->end && *sp->p == c) {
    sp->p++;
    return 1;
  }
  return 0;
}

static void expect(struct sp *sp, char c)
{
  if (!eat(sp, c)) {
    char what[32];
    snprintf(what, sizeof what, "expected '%c'", c);
    sp_fail(sp, what);
  }
}

/* A JSON string literal at sp->p: its decoded text (one_free), or NULL. */
static char *string_lit(struct sp *sp)
{
  skip_ws(sp);
  const char *q = sp->p;
  if (q >= sp->end || *q != '"') {
    sp_fail(sp, "expected a string");
    return NULL;
  }
  for (q++; q < sp->end && *q != '"'; q++)
    if (*q == '\\' && q + 1 < sp->end)
      q++;
  if (q >= sp->end) {
    sp_fail(sp, "unterminated string");
    return NULL;
  }
  json_error_t je;
  json_t *s = json_loadb(sp->p, (size_t)(q + 1 - sp->p), JSON_DECODE_ANY, &je);
  if (!json_is_string(s)) {
    json_decref(s);
    sp_fail(sp, "bad string");
    return NULL;
  }
  char *out = one_strdup(json_string_value(s));
  json_decref(s);
  sp->p = q + 1;
  if (!out)
    sp_fail(sp, "out of memory");
  return out;
}

static struct shape *new_shape(struct sp *sp, enum sk kind)
{
  struct shape *s = one_calloc(1, sizeof *s);
  if (!s)
    sp_fail(sp, "out of memory");
  else
    s->kind = kind;
  return s;
}

static struct shape *parse_union(struct sp *sp, int depth);

static const struct {
  const char *word;
  enum sk kind;
} words[] = {
  {"never", SK_NEVER}, {"null", SK_NULL}, {"int64", SK_INT64}, {"float64", SK_FLOAT64},
  {"normalfloat64", SK_NORMAL}, {"-inf", SK_NEGINF}, {"inf", SK_POSINF},
  {"-0", SK_NEGZERO}, {"NaN", SK_NAN}, {"boolean", SK_BOOLEAN}, {"string", SK_STRING},
  {"field_name", SK_FIELDNAME}, {"bytes", SK_BYTES}, {"unknown", SK_UNKNOWN},
};

static struct shape *parse_object(struct sp *sp, int depth)
{
  struct shape *s = new_shape(sp, SK_OBJECT);
  if (!s)
    return NULL;
  if (eat(sp, '}'))
    return s;
  do {
    char *name = string_lit(sp);
    if (!name)
      break;
    struct sfield *f = one_realloc(s->fields, (s->nfields + 1) * sizeof *f);
    if (!f) {
      one_free(name);
      sp_fail(sp, "out of memory");
      break;
    }
    s->fields = f;
    f[s->nfields].name = name;
    f[s->nfields].type = NULL;
    s->nfields++;
    eat(sp, '?'); /* optional or not, decoding reads the same */
    expect(sp, ':');
    if (!sp->failed)
      f[s->nfields - 1].type = parse_union(sp, depth + 1);
  } while (!sp->failed && eat(sp, ','));
  if (!sp->failed)
    expect(sp, '}');
  return s;
}

static struct shape *parse_primary(struct sp *sp, int depth)
{
  if (depth > SHAPE_MAX_DEPTH) {
    sp_fail(sp, "nested too deeply");
    return NULL;
  }
  skip_ws(sp);
  if (sp->p >= sp->end) {
    sp_fail(sp, "unexpected end");
    return NULL;
  }
  if (*sp->p == '"') {
    char *lit = string_lit(sp);
    one_free(lit);
    return lit ? new_shape(sp, SK_LITERAL) : NULL;
  }
  if (*sp->p == '{') {
    sp->p++;
    return parse_object(sp, depth);
  }
  const char *w = sp->p;
  while (sp->p < sp->end && (*sp->p == '_' || *sp->p == '-' || (*sp->p >= '0' && *sp->p <= '9') ||
                             (*sp->p >= 'a' && *sp->p <= 'z') || (*sp->p >= 'A' && *sp->p <= 'Z')))
    sp->p++;
  size_t n = (size_t)(sp->p - w);
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strlen(words[i].word) == n && memcmp(words[i].word, w, n) == 0)
      return new_shape(sp, words[i].kind);
  struct shape *s = NULL;
  if (n == 2 && memcmp(w, "id", 2) == 0) {
    expect(sp, '<');
    skip_ws(sp);
    const char *t = sp->p;
    while (sp->p < sp->end && *sp->p != '>' && *sp->p != ' ')
      sp->p++;
    if (sp->p == t)
      sp_fail(sp, "expected a table in id<…>");
    expect(sp, '>');
    s = sp->failed ? NULL : new_shape(sp, SK_ID);
  } else if ((n == 5 && memcmp(w, "array", 5) == 0) || (n == 3 && memcmp(w, "set", 3) == 0)) {
    expect(sp, '<');
    s = sp->failed ? NULL : new_shape(sp, SK_ARRAY);
    if (s) {
      s->elem = parse_union(sp, depth + 1);
      expect(sp, '>');
    }
  } else if ((n == 6 && memcmp(w, "record", 6) == 0) || (n == 3 && memcmp(w, "map", 3) == 0)) {
    expect(sp, '<');
    s = sp->failed ? NULL : new_shape(sp, SK_RECORD);
    if (s) {
      s->elem = parse_union(sp, depth + 1);
      expect(sp, ',');
      if (!sp->failed)
        s->value = parse_union(sp, depth + 1);
      expect(sp, '>');
    }
  } else {
    sp->p = w;
    sp_fail(sp, n ? "unknown shape word" : "expected a shape");
  }
  return s;
}

static int add_option(struct shape *u, struct shape *o)
{
  struct shape **opts = one_realloc(u->opts, (u->nopts + 1) * sizeof *opts);
  if (!opts)
    return -1;
  u->opts = opts;
  u->opts[u->nopts++] = o;
  return 0;
}

static struct shape *parse_union(struct sp *sp, int depth)
{
  struct shape *first = parse_primary(sp, depth);
  if (sp->failed || !eat(sp, '|'))
    return first;
  struct shape *u = new_shape(sp, SK_UNION);
  if (!u || add_option(u, first)) {
    shape_free(first);
    shape_free(u);
    sp_fail(sp, "out of memory");
    return NULL;
  }
  do {
    struct shape *o = parse_primary(sp, depth);
    if (!o)
      break;
    if (add_option(u, o)) {
      shape_free(o);
      sp_fail(sp, "out of memory");
    }
  } while (!sp->failed && eat(sp, '|'));
  return u;
}

int shape_parse(const char *text, size_t len, struct shape **out, struct err *err)
{
  struct sp sp = {text, text, text + len, err, 0};
  *out = NULL;
  struct shape *s = parse_union(&sp, 0);
  skip_ws(&sp);
  if (!sp.failed && sp.p != sp.end)
    sp_fail(&sp, "unexpected text after the shape");
  if (sp.failed) {
    shape_free(s);
    return err->code ? err->code : E_PARSE;
  }
  *out = s;
  return 0;
}

/* --- contexts --- */

enum ctxk { C_INFER = 1, C_INT64 = 2, C_NAN = 4, C_INF = 8, C_BYTES = 16 };

static int context_kind(const json_t *ctx)
{
  if (!ctx)
    return C_INFER;
  const char *s = json_string_value(ctx);
  if (s) {
    if (strcmp(s, "infer") == 0)
      return C_INFER;
    if (strcmp(s, "int64") == 0)
      return C_INT64;
    if (strcmp(s, "float64inf") == 0)
      return C_INF;
    if (strcmp(s, "bytes") == 0)
      return C_BYTES;
    return -1;
  }
  if (json_is_object(ctx) && json_object_get(ctx, "$float64NaN"))
    return json_object_size(ctx) == 1 && json_is_string(json_object_get(ctx, "$float64NaN"))
               ? C_NAN : -1;
  return json_is_array(ctx) || json_is_object(ctx) ? 0 : -1;
}

int shape_check_context(const json_t *ctx, struct err *err)
{
  int k = context_kind(ctx);
  if (k < 0)
    return err_set(err, E_PARSE, "not an export context");
  size_t i;
  const char *key;
  json_t *x;
  if (json_is_array(ctx))
    json_array_foreach(ctx, i, x) if (shape_check_context(x, err)) return err->code;
  if (k == 0 && json_is_object(ctx))
    json_object_foreach((json_t *)ctx, key, x) if (shape_check_context(x, err)) return err->code;
  return 0;
}

/* --- decoding --- */

struct set {
  const struct shape *s[SHAPE_MAX_SET];
  size_t n;
};

static void set_add(struct set *st, const struct shape *s)
{
  if (!s)
    return;
  if (s->kind == SK_UNION) {
    for (size_t i = 0; i < s->nopts; i++)
      set_add(st, s->opts[i]);
    return;
  }
  for (size_t i = 0; i < st->n; i++)
    if (st->s[i] == s)
      return;
  if (st->n < SHAPE_MAX_SET)
    st->s[st->n++] = s;
}

static void set_elements(const struct set *in, struct set *out)
{
  out->n = 0;
  for (size_t i = 0; i < in->n; i++)
    if (in->s[i]->kind == SK_ARRAY)
      set_add(out, in->s[i]->elem);
    else if (in->s[i]->kind == SK_UNKNOWN)
      set_add(out, in->s[i]);
}

static void set_field(const struct set *in, const char *name, struct set *out)
{
  out->n = 0;
  for (size_t i = 0; i < in->n; i++) {
    const struct shape *s = in->s[i];
    if (s->kind == SK_OBJECT) {
      for (size_t j = 0; j < s->nfields; j++)
        if (strcmp(s->fields[j].name, name) == 0)
          set_add(out, s->fields[j].type);
    } else if (s->kind == SK_RECORD) {
      set_add(out, s->value);
    } else if (s->kind == SK_UNKNOWN) {
      set_add(out, s);
    }
  }
}

/* The kinds of value that the shapes could have printed as a string. */
static int string_kinds(const struct set *st)
{
  int k = 0;
  for (size_t i = 0; i < st->n; i++)
    switch (st->s[i]->kind) {
    case SK_INT64: k |= C_INT64; break;
    case SK_NEGINF: case SK_POSINF: k |= C_INF; break;
    case SK_NAN: case SK_FLOAT64: k |= C_NAN | C_INF; break;
    case SK_LITERAL: case SK_ID: case SK_FIELDNAME: case SK_STRING: k |= C_INFER; break;
    case SK_BYTES: k |= C_BYTES; break;
    case SK_UNKNOWN: k |= C_INFER | C_INF | C_NAN | C_INT64 | C_BYTES; break;
    default: break;
    }
  return k;
}

struct dec {
  struct buf path;
  struct err *err;
};

static json_t *dec_fail(struct dec *d, const char *fmt, const char *detail)
{
  char msg[160];
  snprintf(msg, sizeof msg, fmt, detail);
  err_set_at(d->err, E_PARSE, buf_str(&d->path), "%s%s%s", buf_str(&d->path),
             d->path.len ? ": " : "", msg);
  return NULL;
}

static json_t *decode_int64(struct dec *d, const char *s)
{
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (!*p)
    return dec_fail(d, "\"%s\" is not an int64", s);
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9')
      return dec_fail(d, "\"%s\" is not an int64", s);
  errno = 0;
  long long v = strtoll(s, NULL, 10);
  if (errno == ERANGE)
    return dec_fail(d, "\"%s\" is out of the int64 range", s);
  return json_integer((json_int_t)v);
}

static json_t *decode_string(struct dec *d, const json_t *ctx, const struct set *st,
                             const json_t *v)
{
  const char *s = json_string_value(v);
  int k = context_kind(ctx);
  if (k == C_INFER) {
    int kinds = string_kinds(st);
    k = (kinds && !(kinds & (kinds - 1))) ? kinds : C_INFER;
  }
  switch (k) {
  case C_INFER:
    return json_stringn(s, json_string_length(v));
  case C_INT64:
    return decode_int64(d, s);
  case C_INF:
    if (strcmp(s, "Infinity") == 0)
      return jv_float(INFINITY);
    if (strcmp(s, "-Infinity") == 0)
      return jv_float(-INFINITY);
    return dec_fail(d, "\"%.60s\" is not an infinity", s);
  case C_NAN: {
    uint8_t *b = NULL;
    size_t n = 0;
    const char *bits = json_string_value(json_object_get(ctx, "$float64NaN"));
    if (!bits || b64_decode(bits, strlen(bits), &b, &n) || n != 8) {
      one_free(b);
      return dec_fail(d, "%s", "a $float64NaN context needs 8 bytes in base64");
    }
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
      u |= (uint64_t)b[i] << (8 * i);
    one_free(b);
    double x;
    memcpy(&x, &u, sizeof x);
    if (!isnan(x))
      return dec_fail(d, "%s", "a $float64NaN context holds a number that is not NaN");
    if (strcmp(s, "NaN") != 0)
      return dec_fail(d, "\"%.60s\" is not NaN", s);
    return jv_float(x);
  }
  case C_BYTES: {
    uint8_t *b = NULL;
    size_t n = 0;
    if (b64_decode(s, json_string_length(v), &b, &n))
      return dec_fail(d, "%s", "bytes are not valid base64");
    json_t *out = jv_bytes(b, n);
    one_free(b);
    return out;
  }
  default:
    return dec_fail(d, "%s", "the export context does not fit a string");
  }
}

static json_t *decode(struct dec *d, const json_t *ctx, const struct set *st, const json_t *v,
                      int depth)
{
  if (depth > SHAPE_MAX_DEPTH)
    return dec_fail(d, "%s", "nested too deeply");
  int k = context_kind(ctx);
  if (k < 0)
    return dec_fail(d, "%s", "malformed export context");
  switch (json_typeof(v)) {
  case JSON_NULL: return json_null();
  case JSON_TRUE: return json_true();
  case JSON_FALSE: return json_false();
  case JSON_INTEGER: return json_real((double)json_integer_value(v));
  case JSON_REAL: return json_real(json_real_value(v));
  case JSON_STRING: return decode_string(d, ctx, st, v);
  case JSON_ARRAY: {
    if (k != C_INFER && !json_is_array(ctx))
      return dec_fail(d, "%s", "the export context does not fit an array");
    if (json_is_array(ctx) && json_array_size(ctx) != json_array_size(v))
      return dec_fail(d, "%s", "the export context's array length differs from the value's");
    struct set *el = one_malloc(sizeof *el);
    json_t *out = json_array();
    if (!el || !out) {
      one_free(el);
      json_decref(out);
      return dec_fail(d, "%s", "out of memory");
    }
    set_elements(st, el);
    for (size_t i = 0; out && i < json_array_size(v); i++) {
      size_t mark = d->path.len;
      buf_printf(&d->path, "[%zu]", i);
      json_t *x = decode(d, json_is_array(ctx) ? json_array_get(ctx, i) : NULL, el,
                         json_array_get(v, i), depth + 1);
      d->path.len = mark;
      if (d->path.p)
        d->path.p[mark] = '\0';
      if (!x || json_array_append_new(out, x)) {
        json_decref(out);
        out = NULL;
      }
    }
    one_free(el);
    return out;
  }
  case JSON_OBJECT: {
    if (k != C_INFER && !(k == 0 && json_is_object(ctx)))
      return dec_fail(d, "%s", "the export context does not fit an object");
    struct set *fs = one_malloc(sizeof *fs);
    json_t *out = json_object();
    if (!fs || !out) {
      one_free(fs);
      json_decref(out);
      return dec_fail(d, "%s", "out of memory");
    }
    const char *key;
    json_t *x;
    json_object_foreach((json_t *)v, key, x) {
      if (key[0] == '$') {
        json_decref(out);
        out = dec_fail(d, "field name \"%.60s\" starts with '$'", key);
        break;
      }
      set_field(st, key, fs);
      size_t mark = d->path.len;
      buf_printf(&d->path, "%s%s", d->path.len ? "." : "", key);
      json_t *y = decode(d, json_is_object(ctx) ? json_object_get(ctx, key) : NULL, fs, x,
                         depth + 1);
      d->path.len = mark;
      if (d->path.p)
        d->path.p[mark] = '\0';
      if (!y || json_object_set_new(out, key, y)) {
        json_decref(out);
        out = NULL;
        break;
      }
    }
    one_free(fs);
    return out;
  }
  }
  return dec_fail(d, "%s", "not a JSON value");
}

json_t *shape_decode(const struct shape *shape, const json_t *ctx, const json_t *value,
                     struct err *err)
{
  struct dec d = {{0}, err};
  buf_init(&d.path, 4096);
  struct set *st = one_malloc(sizeof *st);
  if (!st) {
    err_set(err, E_NOMEM, "out of memory");
    return NULL;
  }
  st->n = 0;
  set_add(st, shape);
  json_t *out = decode(&d, ctx, st, value, 0);
  one_free(st);
  buf_release(&d.path);
  return out;
}
