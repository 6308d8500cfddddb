/* jv: Convex values over jansson; see jv.h for the encodings. */
#include "util/jv.h"
#include "util/buf.h"
#include "util/mem.h"

#include <math.h>
#include <sodium.h>
#include <string.h>

char *b64_encode(const uint8_t *p, size_t n)
{
  size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
  char *s = one_malloc(cap);
  if (s)
    sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
  return s;
}

int b64_decode(const char *s, size_t len, uint8_t **out, size_t *n)
{
  size_t cap = len / 4 * 3 + 3;
  uint8_t *bin = one_malloc(cap);
  if (!bin)
    return -1;
  const char *end = NULL;
  if (sodium_base642bin(bin, cap, s, len, NULL, n, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + len) {
    one_free(bin);
    return -1;
  }
  *out = bin;
  return 0;
}

/* The single string member of a {"$key": "…"} object, or NULL. */
static const char *special(const json_t *v, const char *key, size_t *len)
{
  if (!json_is_object(v) || json_object_size(v) != 1)
    return NULL;
  json_t *s = json_object_get(v, key);
  if (!json_is_string(s))
    return NULL;
  *len = json_string_length(s);
  return json_string_value(s);
}

static int decode_le8(const char *s, size_t len, uint8_t out[8])
{
  uint8_t *bin = NULL;
  size_t n = 0;
  if (b64_decode(s, len, &bin, &n) != 0)
    return -1;
  int ok = n == 8;
  if (ok)
    memcpy(out, bin, 8);
  one_free(bin);
  return ok ? 0 : -1;
}

enum jv_type jv_type(const json_t *v)
{
  size_t len;
  const char *s;
  uint8_t b8[8];
  switch (json_typeof(v)) {
  case JSON_NULL: return JV_NULL;
  case JSON_TRUE:
  case JSON_FALSE: return JV_BOOLEAN;
  case JSON_INTEGER: return JV_INT64;
  case JSON_REAL: return JV_FLOAT64;
  case JSON_STRING: return JV_STRING;
  case JSON_ARRAY: return JV_ARRAY;
  case JSON_OBJECT:
    if ((s = special(v, "$bytes", &len))) {
      uint8_t *bin = NULL;
      size_t n;
      if (b64_decode(s, len, &bin, &n) != 0)
        return JV_INVALID;
      one_free(bin);
      return JV_BYTES;
    }
    if ((s = special(v, "$float", &len)))
      return decode_le8(s, len, b8) == 0 ? JV_FLOAT64 : JV_INVALID;
    {
      const char *k;
      json_t *x;
      json_object_foreach((json_t *)v, k, x)
        if (k[0] == '$')
          return JV_INVALID;
    }
    return JV_OBJECT;
  }
  return JV_INVALID;
}

const char *jv_type_name(enum jv_type t)
{
  switch (t) {
  case JV_NULL: return "null";
  case JV_INT64: return "int64";
  case JV_FLOAT64: return "number";
  case JV_BOOLEAN: return "boolean";
  case JV_STRING: return "string";
  case JV_BYTES: return "bytes";
  case JV_ARRAY: return "array";
  case JV_OBJECT: return "object";
  case JV_INVALID: break;
  }
  return "an invalid value";
}

json_t *jv_parse(const char *text, size_t len, struct err *err)
{
  json_error_t je;
  json_t *v = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
  if (!v) {
    char where[64];
    snprintf(where, sizeof where, "%d:%d", je.line, je.column);
    err_set_at(err, E_PARSE, where, "invalid JSON at line %d, column %d: %s",
               je.line, je.column, je.text);
  }
  return v;
}

static int dump_to_buf(const char *p, size_t n, void *arg)
{
  return buf_append(arg, p, n) ? -1 : 0;
}

/* One pass into a growing buffer: json_dumpb would need two, one to learn
 * the size and one to write. */
char *jv_dumps(const json_t *v)
{
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  if (json_dump_callback(v, dump_to_buf, &b,
                         JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) != 0) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b); /* buf keeps its text terminated */
}

static json_t *special_new(const char *key, const uint8_t *p, size_t n)
{
  char *s = b64_encode(p, n);
  if (!s)
    return NULL;
  json_t *o = json_object();
  if (o && json_object_set_new(o, key, json_string(s)) != 0) {
    json_decref(o);
    o = NULL;
  }
  one_free(s);
  return o;
}

json_t *jv_float(double d)
{
  if (isfinite(d))
    return json_real(d);
  uint8_t b[8];
  uint64_t u;
  memcpy(&u, &d, 8);
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(u >> (8 * i));
  return special_new("$float", b, 8);
}

double jv_float_value(const json_t *v)
{
  if (json_is_real(v))
    return json_real_value(v);
  size_t len;
  const char *s = special(v, "$float", &len);
  uint8_t b[8];
  if (!s || decode_le8(s, len, b) != 0)
    return 0;
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u |= (uint64_t)b[i] << (8 * i);
  double d;
  memcpy(&d, &u, 8);
  return d;
}

json_t *jv_bytes(const uint8_t *p, size_t n) { return special_new("$bytes", p, n); }

int jv_bytes_value(const json_t *v, uint8_t **out, size_t *n)
{
  size_t len;
  const char *s = special(v, "$bytes", &len);
  return s ? b64_decode(s, len, out, n) : -1;
}

int jv_equal(const json_t *a, const json_t *b)
{
  enum jv_type ta = jv_type(a), tb = jv_type(b);
  if (ta != tb)
    return 0;
  if (ta == JV_FLOAT64) {
    double x = jv_float_value(a), y = jv_float_value(b);
    return memcmp(&x, &y, sizeof x) == 0 || (x == y && x != 0);
  }
  return json_equal((json_t *)a, (json_t *)b);
}

static json_t *from_wire(const json_t *w, int depth, struct err *err)
{
  if (depth > 64) {
    err_set(err, E_INVALID, "value nested deeper than 64 levels");
    return NULL;
  }
  size_t len;
  const char *s;
  switch (json_typeof(w)) {
  case JSON_INTEGER: return json_real((double)json_integer_value(w));
  case JSON_REAL:
  case JSON_NULL:
  case JSON_TRUE:
  case JSON_FALSE:
  case JSON_STRING: return json_deep_copy(w);
  case JSON_ARRAY: {
    json_t *a = json_array();
    for (size_t i = 0; a && i < json_array_size(w); i++) {
      json_t *x = from_wire(json_array_get(w, i), depth + 1, err);
      if (!x || json_array_append_new(a, x) != 0) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case JSON_OBJECT:
    if ((s = special(w, "$integer", &len))) {
      uint8_t b[8];
      if (decode_le8(s, len, b) != 0) {
        err_set(err, E_INVALID, "$integer must be the base64 of 8 little-endian bytes");
        return NULL;
      }
      uint64_t u = 0;
      for (int i = 0; i < 8; i++)
        u |= (uint64_t)b[i] << (8 * i);
      return json_integer((json_int_t)u);
    }
    if (special(w, "$float", &len) || special(w, "$bytes", &len)) {
      if (jv_type(w) == JV_INVALID) {
        err_set(err, E_INVALID, "malformed %s value: expected base64",
                json_object_get(w, "$float") ? "$float" : "$bytes");
        return NULL;
      }
      if (json_object_get(w, "$float")) /* finite values become plain reals */
        return jv_float(jv_float_value(w));
      return json_deep_copy(w);
    }
    {
      json_t *o = json_object();
      const char *k;
      json_t *x;
      json_object_foreach((json_t *)w, k, x) {
        if (k[0] == '$') {
          err_set(err, E_INVALID, "field name \"%s\" starts with '$', which is reserved", k);
          json_decref(o);
          return NULL;
        }
        json_t *y = from_wire(x, depth + 1, err);
        if (!y || !o || json_object_set_new(o, k, y) != 0) {
          json_decref(o);
          return NULL;
        }
      }
      return o;
    }
  }
  return NULL;
}

json_t *jv_from_wire(const json_t *wire, struct err *err)
{
  json_t *v = from_wire(wire, 0, err);
  if (!v && err && !err->code)
    err_set(err, E_NOMEM, "out of memory");
  return v;
}

json_t *jv_to_wire(const json_t *v)
{
  switch (json_typeof(v)) {
  case JSON_INTEGER: {
    uint64_t u = (uint64_t)json_integer_value(v);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
      b[i] = (uint8_t)(u >> (8 * i));
    return special_new("$integer", b, 8);
  }
  case JSON_ARRAY: {
    json_t *a = json_array();
    for (size_t i = 0; a && i < json_array_size(v); i++) {
      json_t *x = jv_to_wire(json_array_get(v, i));
      if (!x || json_array_append_new(a, x) != 0) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case JSON_OBJECT: {
    json_t *o = json_object();
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      json_t *y = jv_to_wire(x);
      if (!y || !o || json_object_set_new(o, k, y) != 0) {
        json_decref(o);
        return NULL;
      }
    }
    return o;
  }
  default: return json_deep_copy(v);
  }
}
