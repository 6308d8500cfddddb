/* mentions: the @[Name](kind:ID) scanner and the parts it yields. */
#include "domain/mentions.h"

#include <string.h>

static int id_char(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-';
}

/* Tries to read a mention at content[i] == '@'; fills m and returns 1. */
static int match_at(const char *s, size_t len, size_t i, struct mention *m)
{
  if (i + 1 >= len || s[i + 1] != '[')
    return 0;
  size_t name_start = i + 2, j = name_start;
  while (j < len && s[j] != ']' && s[j] != '\n' && s[j] != '\r' && j - name_start <= MENTION_MAX_NAME)
    j++;
  size_t name_len = j - name_start;
  if (j >= len || s[j] != ']' || name_len == 0 || name_len > MENTION_MAX_NAME)
    return 0;
  j++; /* ] */
  if (j >= len || s[j] != '(')
    return 0;
  j++;
  enum mention_kind kind;
  if (len - j >= 6 && memcmp(s + j, "agent:", 6) == 0) {
    kind = MENTION_AGENT;
    j += 6;
  } else if (len - j >= 5 && memcmp(s + j, "user:", 5) == 0) {
    kind = MENTION_USER;
    j += 5;
  } else {
    return 0;
  }
  size_t id_start = j;
  while (j < len && id_char(s[j]) && j - id_start <= MENTION_MAX_ID)
    j++;
  size_t id_len = j - id_start;
  if (j >= len || s[j] != ')' || id_len == 0 || id_len > MENTION_MAX_ID)
    return 0;
  m->kind = kind;
  m->start = i;
  m->end = j + 1;
  m->name_start = name_start;
  m->name_len = name_len;
  memcpy(m->id, s + id_start, id_len);
  m->id[id_len] = '\0';
  return 1;
}

size_t mentions_find(const char *content, size_t len, struct mention *out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < len && n < max; i++) {
    if (content[i] != '@')
      continue;
    if (match_at(content, len, i, &out[n])) {
      i = out[n].end - 1;
      n++;
    }
  }
  return n;
}

static int add_text(json_t *parts, const char *s, size_t n)
{
  if (n == 0)
    return 0;
  return json_array_append_new(parts, json_pack("{s:s,s:s%}", "type", "text", "text", s, n));
}

json_t *mentions_parts(const char *content, size_t len)
{
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(content, len, m, MENTION_MAX_PER_MESSAGE);
  json_t *parts = json_array();
  size_t at = 0;
  int rc = parts ? 0 : -1;
  for (size_t i = 0; !rc && i < n; i++) {
    rc = add_text(parts, content + at, m[i].start - at);
    if (!rc)
      rc = json_array_append_new(
        parts, json_pack("{s:s,s:s,s:s,s:s%}", "type", "mention", "kind",
                         m[i].kind == MENTION_AGENT ? "agent" : "user", "id", m[i].id, "name",
                         content + m[i].name_start, m[i].name_len));
    at = m[i].end;
  }
  if (!rc)
    rc = add_text(parts, content + at, len - at);
  if (rc) {
    json_decref(parts);
    return NULL;
  }
  return parts;
}
