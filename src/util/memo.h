/* memo: a small cache, one per thread, of what a pure function of a text
 * made of it: for read paths that render the same stored documents again
 * and again (a page of messages). An entry is found only by the very same
 * text (compared in full), so it can never be stale: a changed document is
 * a different text. No locks: each thread has its own, freed when the
 * thread ends. */
#ifndef ONE_UTIL_MEMO_H
#define ONE_UTIL_MEMO_H

#include <stddef.h>

/* The result kept for text t[0..n), with its length in *len; NULL when
 * none. Borrowed until this thread's next memo_keep. */
const char *memo_find(const char *t, size_t n, size_t *len);
/* Keeps out[0..len) as the result for t[0..n), replacing what shared its
 * slot. Texts or results over MEMO_MAX_TEXT bytes, and allocation
 * failures, are let go: the cache only ever misses. */
void memo_keep(const char *t, size_t n, const char *out, size_t len);

#define MEMO_MAX_TEXT 8192

#endif
