/* textvec: ONE's built-in text embedder, for search with no outside
 * service. A text becomes a TEXTVEC_DIM vector by feature hashing: each
 * word (lower-cased, common English words left out) and each three-letter
 * piece of a word ("#le", "lea", …, "ng#") adds a signed weight at the place
 * its hash names, and the sum is scaled to length 1, so the dot product of
 * two vectors is their cosine. Texts that share words, or share word stems
 * ("learn", "learning"), come out close; it knows no synonyms ("car" and
 * "automobile" are strangers). docs/knowledge.md says how good it is.
 * Pure functions; no allocation. */
#ifndef ONE_UTIL_TEXTVEC_H
#define ONE_UTIL_TEXTVEC_H

#include <stddef.h>

#define TEXTVEC_DIM 384
/* Texts that share nothing get cosines up to about 0.1 (hash collisions),
 * texts that share a word or two 0.2 and more: below this a vector is no
 * match. */
#define TEXTVEC_MIN_COSINE 0.15
#define TEXTVEC_MODEL "one-hash-384" /* the name its vectors are known by */

/* The vector of text[0..n) into out[TEXTVEC_DIM]; all zeros when the text
 * holds no word. Bytes that are not UTF-8 are taken as they come. */
void textvec_embed(const char *text, size_t n, float out[TEXTVEC_DIM]);

/* 1 when w[0..n) (any case) is one of the common English words the
 * embedder leaves out ("the", "our", "is"…). */
int textvec_is_stop_word(const char *w, size_t n);

/* The dot product of a and b, n floats each. */
float textvec_dot(const float *a, const float *b, size_t n);

/* Scales v[0..n) to length 1 (left as is when it is all zeros). */
void textvec_normalize(float *v, size_t n);

#endif
