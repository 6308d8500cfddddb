/* jtext: reading JSON text without building it into values, for the read
 * paths that forward stored documents (a page of messages is sent as the
 * stored text, not parsed and printed again). The text must be valid JSON
 * (as the store holds it); on anything else these functions say so rather
 * than guess. */
#ifndef ONE_UTIL_JTEXT_H
#define ONE_UTIL_JTEXT_H

#include <stddef.h>

/* One top-level member of an object: its key as written between the quotes
 * (escapes not undone) and its value's raw text. */
struct jtext_member {
  const char *key, *v;
  size_t klen, vlen;
};

/* Walks the members of the JSON object in t[0..n): start with *pos 0;
 * each call sets *m to the next member and returns 1, then 0 at the end of
 * a well-formed object, -1 on anything else. */
int jtext_next(const char *t, size_t n, size_t *pos, struct jtext_member *m);

/* Finds the top-level field key of the JSON object in t[0..n): sets *v and
 * *vlen to its value's raw text. 1 found, 0 not there, -1 not an object. */
int jtext_field(const char *t, size_t n, const char *key, const char **v, size_t *vlen);
/* A top-level string field of the object in t[0..n) copied into out (cap
 * bytes, escapes read): 1 copied, 0 missing, not a string or longer than
 * cap - 1 (out is then ""). */
int jtext_str(const char *t, size_t n, const char *field, char *out, size_t cap);
/* Whether the top-level field is the literal true (0 when missing). */
int jtext_bool(const char *t, size_t n, const char *field);
/* Whether the n bytes at s need no escaping as a JSON string's contents
 * (so a key's text as stored and its name are the same bytes). */
int jtext_plain(const char *s, size_t n);

/* 1 when t holds a JSON integer token (a number with no '.', 'e' or 'E')
 * outside strings: an int64 in the in-memory encoding, which the wire
 * encoding writes differently. */
int jtext_has_integer(const char *t, size_t n);

/* Both in one pass: the top-level field key (as jtext_field: *v, *vlen set
 * when it is a string) and *has_integer (as jtext_has_integer). Returns 1
 * found with a string value, 2 found with another value (*v not set), 0
 * not there, -1 not a well-formed object. */
int jtext_scan(const char *t, size_t n, const char *key, const char **v, size_t *vlen,
               int *has_integer);

#endif
