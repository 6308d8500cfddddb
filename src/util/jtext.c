/* jtext: a small scanner over JSON text (see jtext.h). */
#include "util/jtext.h"

#include <jansson.h>
#include <string.h>

static size_t skip_ws(const char *t, size_t n, size_t i)
{
  while (i < n && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
    i++;
  return i;
}

/* The index just past the string starting at t[i] == '"', or 0. */
static size_t skip_string(const char *t, size_t n, size_t i)
{
  for (i++; i < n;) {
    const char *q = memchr(t + i, '"', n - i);
    if (!q)
      return 0;
    size_t at = (size_t)(q - t), bs = 0;
    while (at - bs > i && t[at - bs - 1] == '\\')
      bs++;
    if (bs % 2 == 0)
      return at + 1;
    i = at + 1; /* an escaped quote */
  }
  return 0;
}

static int number_char(char c)
{
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The index just past the value starting at t[i], or 0. */
static size_t skip_value(const char *t, size_t n, size_t i)
{
  if (i >= n)
    return 0;
  if (t[i] == '"')
    return skip_string(t, n, i);
  if (t[i] == '{' || t[i] == '[') {
    size_t depth = 0;
    for (; i < n; i++) {
      char c = t[i];
      if (c == '"') {
        size_t e = skip_string(t, n, i);
        if (!e)
          return 0;
        i = e - 1;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        return i + 1;
      }
    }
    return 0;
  }
  size_t s = i; /* number or literal */
  while (i < n && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\n' &&
         t[i] != '\r' && t[i] != '\t')
    i++;
  return i > s ? i : 0;
}

int jtext_next(const char *t, size_t n, size_t *pos, struct jtext_member *m)
{
  size_t i = *pos;
  if (i == 0) { /* the opening brace */
    i = skip_ws(t, n, 0);
    if (i >= n || t[i] != '{')
      return -1;
    i = skip_ws(t, n, i + 1);
    if (i < n && t[i] == '}')
      return skip_ws(t, n, i + 1) == n ? 0 : -1;
  } else { /* after a member: a comma and the next, or the closing brace */
    i = skip_ws(t, n, i);
    if (i < n && t[i] == '}')
      return skip_ws(t, n, i + 1) == n ? 0 : -1;
    if (i >= n || t[i] != ',')
      return -1;
    i = skip_ws(t, n, i + 1);
  }
  if (i >= n || t[i] != '"')
    return -1;
  size_t ke = skip_string(t, n, i);
  if (!ke)
    return -1;
  m->key = t + i + 1;
  m->klen = ke - i - 2;
  i = skip_ws(t, n, ke);
  if (i >= n || t[i] != ':')
    return -1;
  i = skip_ws(t, n, i + 1);
  size_t ve = skip_value(t, n, i);
  if (!ve)
    return -1;
  m->v = t + i;
  m->vlen = ve - i;
  *pos = ve;
  return 1;
}

int jtext_field(const char *t, size_t n, const char *key, const char **v, size_t *vlen)
{
  size_t klen = strlen(key), pos = 0;
  struct jtext_member m;
  int rc;
  while ((rc = jtext_next(t, n, &pos, &m)) == 1)
    if (m.klen == klen && memcmp(m.key, key, klen) == 0) {
      *v = m.v;
      *vlen = m.vlen;
      return 1;
    }
  return rc;
}

int jtext_has_integer(const char *t, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    char c = t[i];
    if (c == '"') {
      size_t e = skip_string(t, n, i);
      if (!e)
        return 1; /* malformed: let the careful path decide */
      i = e - 1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      int real = 0;
      for (; i < n && number_char(t[i]); i++)
        real |= t[i] == '.' || t[i] == 'e' || t[i] == 'E';
      if (!real)
        return 1;
      i--;
    }
  }
  return 0;
}

int jtext_scan(const char *t, size_t n, const char *key, const char **v, size_t *vlen,
               int *has_integer)
{
  size_t klen = strlen(key), i = skip_ws(t, n, 0);
  int depth = 0, expect_key = 0, colon = 0, matched = 0, found = 0;
  *v = NULL;
  *vlen = 0;
  *has_integer = 0;
  if (i >= n || t[i] != '{')
    return -1;
  for (; i < n; i++) {
    char c = t[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    if (colon) { /* a top-level key was just read */
      if (c != ':')
        return -1;
      colon = 0;
      continue;
    }
    int value = depth == 1 && matched; /* this token starts key's value */
    if (c == '"') {
      size_t e = skip_string(t, n, i);
      if (!e)
        return -1;
      if (depth == 1 && expect_key) {
        matched = e - i - 2 == klen && memcmp(t + i + 1, key, klen) == 0;
        expect_key = 0;
        colon = 1;
      } else if (value) {
        *v = t + i;
        *vlen = e - i;
        found = 1;
        matched = 0;
      }
      i = e - 1;
      continue;
    }
    if (value) {
      found = 2;
      matched = 0;
    }
    if (c == '{' || c == '[') {
      depth++;
      expect_key = depth == 1;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        return skip_ws(t, n, i + 1) == n ? found : -1;
      if (depth < 0)
        return -1;
    } else if (c == ',') {
      expect_key = depth == 1;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      int real = 0;
      for (; i < n && number_char(t[i]); i++)
        real |= t[i] == '.' || t[i] == 'e' || t[i] == 'E';
      *has_integer |= !real;
      i--;
    }
  }
  return -1; /* the object never closed */
}

int jtext_str(const char *t, size_t n, const char *field, char *out, size_t cap)
{
  const char *v = NULL;
  size_t vlen = 0;
  if (cap)
    out[0] = '\0';
  if (jtext_field(t, n, field, &v, &vlen) != 1 || vlen < 2 || v[0] != '"' || !cap)
    return 0;
  if (!memchr(v, '\\', vlen)) { /* as stored: the token without its quotes */
    if (vlen - 2 >= cap)
      return 0;
    memcpy(out, v + 1, vlen - 2);
    out[vlen - 2] = '\0';
    return 1;
  }
  json_t *str = json_loadb(v, vlen, JSON_DECODE_ANY, NULL); /* escapes: let jansson read it */
  int ok = json_is_string(str) && json_string_length(str) < cap &&
           !memchr(json_string_value(str), '\0', json_string_length(str));
  if (ok)
    memcpy(out, json_string_value(str), json_string_length(str) + 1);
  json_decref(str);
  return ok;
}

int jtext_bool(const char *t, size_t n, const char *field)
{
  const char *v = NULL;
  size_t vlen = 0;
  return jtext_field(t, n, field, &v, &vlen) == 1 && vlen == 4 && memcmp(v, "true", 4) == 0;
}

int jtext_plain(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
      return 0;
  return 1;
}
