/* keys: order-preserving binary encoding of Convex values for index keys.
 *
 * memcmp order of encodings equals Convex's order of values: undefined
 * (a missing field) < null < int64 < float64 < boolean < string < bytes <
 * array < object, and within a type the natural order (floats by IEEE total
 * order, strings and bytes bytewise, arrays and objects element by element).
 * Every encoding is self-delimiting, so a key never is a proper prefix of
 * another key, and "the keys after k" are the keys >= k || 0x00. */
#ifndef ONE_STORE_KEYS_H
#define ONE_STORE_KEYS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"
#include "util/buf.h"

/* Appends the encoding of v (NULL means undefined). 0 or a negative code. */
int key_put_value(struct buf *b, const json_t *v);
/* Appends the key of doc in index ix (NULL: by_creation_time): the indexed
 * fields (dotted paths), then _creationTime and _id. */
int key_for_doc(struct buf *b, const struct index_def *ix, const json_t *doc);
/* The smallest byte string greater than every string starting with p:
 * p with its last byte below 0xff incremented and the rest cut. Returns the
 * new length, 0 when there is none (all 0xff: unbounded). */
size_t key_prefix_successor(uint8_t *p, size_t len);

/* The value at a dotted path in doc (borrowed), NULL when absent. */
const json_t *key_field(const json_t *doc, const char *path);

#endif
