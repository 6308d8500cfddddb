/* mentions: finds @mentions in message content, server-side.
 *
 * Syntax: `@[Display Name](agent:ID)` or `@[Display Name](user:ID)`. The
 * display name is 1 to MENTION_MAX_NAME bytes of any character but `]` (and
 * no line break); ID is 1 to 64 characters of [0-9A-Za-z_-]. Anything that
 * does not match exactly is text, never an error: a message is always
 * displayable. The client's idea of the mentions is never trusted; these
 * functions are the only source. Pure functions, safe from any thread. */
#ifndef ONE_DOMAIN_MENTIONS_H
#define ONE_DOMAIN_MENTIONS_H

#include <jansson.h>
#include <stddef.h>

#define MENTION_MAX_NAME 200
#define MENTION_MAX_ID 64
#define MENTION_MAX_PER_MESSAGE 100

enum mention_kind { MENTION_AGENT = 1, MENTION_USER = 2 };

struct mention {
  enum mention_kind kind;
  size_t start, end;           /* byte range of the whole mention in content */
  size_t name_start, name_len; /* the display name, inside content */
  char id[MENTION_MAX_ID + 1];
};

/* Finds up to max mentions in content (len bytes, UTF-8), in order. Returns
 * how many were found (never more than max). */
size_t mentions_find(const char *content, size_t len, struct mention *out, size_t max);

/* The content split into parts, in order, as a new JSON array:
 * {"type":"text","text":…} and
 * {"type":"mention","kind":"agent"|"user","id":…,"name":…}.
 * Adjacent text is one part; empty text parts are left out. NULL when out of
 * memory. */
json_t *mentions_parts(const char *content, size_t len);

#endif
