/* keys: index key encoding (see keys.h for the order it keeps). */
#include "store/keys.h"
#include "util/err.h"
#include "util/jv.h"
#include "util/mem.h"

#include <string.h>

enum {
  TAG_END = 0x00, TAG_UNDEFINED = 0x01, TAG_NULL = 0x02, TAG_INT64 = 0x03,
  TAG_FLOAT64 = 0x04, TAG_BOOLEAN = 0x05, TAG_STRING = 0x06, TAG_BYTES = 0x07,
  TAG_ARRAY = 0x08, TAG_OBJECT = 0x09,
};

static int put_u64(struct buf *b, uint64_t u)
{
  uint8_t x[8];
  for (int i = 0; i < 8; i++)
    x[i] = (uint8_t)(u >> (56 - 8 * i));
  return buf_append(b, x, 8);
}

/* Bytes with 0x00 escaped as 00 ff, ended by 00 01. */
static int put_escaped(struct buf *b, const uint8_t *p, size_t n)
{
  size_t start = 0;
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    if (p[i] == 0) {
      static const uint8_t esc[2] = {0x00, 0xff};
      rc = buf_append(b, p + start, i - start);
      if (!rc)
        rc = buf_append(b, esc, 2);
      start = i + 1;
    }
  }
  if (!rc)
    rc = buf_append(b, p + start, n - start);
  static const uint8_t end[2] = {0x00, 0x01};
  return rc ? rc : buf_append(b, end, 2);
}

static int put_tag(struct buf *b, uint8_t tag) { return buf_append(b, &tag, 1); }

static int put_float(struct buf *b, double d)
{
  uint64_t u;
  memcpy(&u, &d, 8);
  u = (u >> 63) ? ~u : u ^ 0x8000000000000000ull;
  return put_u64(b, u);
}

static int put_value(struct buf *b, const json_t *v, int depth)
{
  if (depth > 64)
    return E_INVALID;
  int rc;
  if (!v)
    return put_tag(b, TAG_UNDEFINED);
  switch (jv_type(v)) {
  case JV_NULL: return put_tag(b, TAG_NULL);
  case JV_INT64:
    if ((rc = put_tag(b, TAG_INT64)))
      return rc;
    return put_u64(b, (uint64_t)json_integer_value(v) ^ 0x8000000000000000ull);
  case JV_FLOAT64:
    if ((rc = put_tag(b, TAG_FLOAT64)))
      return rc;
    return put_float(b, jv_float_value(v));
  case JV_BOOLEAN: {
    uint8_t x[2] = {TAG_BOOLEAN, json_is_true(v) ? 1 : 0};
    return buf_append(b, x, 2);
  }
  case JV_STRING:
    if ((rc = put_tag(b, TAG_STRING)))
      return rc;
    return put_escaped(b, (const uint8_t *)json_string_value(v), json_string_length(v));
  case JV_BYTES: {
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (jv_bytes_value(v, &bytes, &n) != 0)
      return E_INVALID;
    rc = put_tag(b, TAG_BYTES);
    if (!rc)
      rc = put_escaped(b, bytes, n);
    one_free(bytes);
    return rc;
  }
  case JV_ARRAY:
    if ((rc = put_tag(b, TAG_ARRAY)))
      return rc;
    for (size_t i = 0; i < json_array_size(v); i++)
      if ((rc = put_value(b, json_array_get(v, i), depth + 1)))
        return rc;
    return put_tag(b, TAG_END);
  case JV_OBJECT: {
    if ((rc = put_tag(b, TAG_OBJECT)))
      return rc;
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      if ((rc = put_escaped(b, (const uint8_t *)k, strlen(k))) || (rc = put_value(b, x, depth + 1)))
        return rc;
    }
    return put_tag(b, TAG_END);
  }
  case JV_INVALID: break;
  }
  return E_INVALID;
}

int key_put_value(struct buf *b, const json_t *v) { return put_value(b, v, 0); }

const json_t *key_field(const json_t *doc, const char *path)
{
  const json_t *cur = doc;
  const char *p = path;
  while (cur && *p) {
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    char name[1025];
    if (n >= sizeof name || !json_is_object(cur))
      return NULL;
    memcpy(name, p, n);
    name[n] = '\0';
    cur = json_object_get(cur, name);
    p += n;
    if (*p == '.')
      p++;
  }
  return cur;
}

int key_for_doc(struct buf *b, const struct index_def *ix, const json_t *doc)
{
  int rc = 0;
  for (size_t i = 0; ix && i < ix->nfields && !rc; i++)
    rc = key_put_value(b, key_field(doc, ix->fields[i]));
  if (!rc)
    rc = key_put_value(b, json_object_get(doc, "_creationTime"));
  if (!rc)
    rc = key_put_value(b, json_object_get(doc, "_id"));
  return rc;
}

size_t key_prefix_successor(uint8_t *p, size_t len)
{
  while (len > 0 && p[len - 1] == 0xff)
    len--;
  if (len == 0)
    return 0;
  p[len - 1]++;
  return len;
}
