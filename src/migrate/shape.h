/* shape: the legacy value encoding of Convex snapshot exports.
 *
 * Exports made before March 2026 print int64 as a base-10 string, bytes as a
 * base64 string and NaN or the infinities as "NaN", "Infinity", "-Infinity",
 * and every JSON number is a float64. What a string stands for is told by
 * the table's shape (line 1 of its generated_schema.jsonl, e.g.
 * `{"_id": id<10001>, "n"?: int64 | string}`) and, where the shape leaves it
 * ambiguous, by a per-document override (`{"<id>": "int64"}`, or arrays and
 * objects of contexts) on the further lines (spec/convex-formats.md).
 *
 * A string is decoded as the one kind the shape allows at its place; when
 * the shape allows several (or none), the override decides, and without one
 * it stays a string. This module parses shapes and override contexts and
 * turns a legacy JSON value into ONE's in-memory encoding (util/jv.h), so
 * an int64 stays an int64, bytes stay bytes and a NaN keeps its bits. */
#ifndef ONE_MIGRATE_SHAPE_H
#define ONE_MIGRATE_SHAPE_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

struct shape;

/* Parses shape text. On error returns a negative code, err says where
 * ("column N"). *out is freed with shape_free. */
int shape_parse(const char *text, size_t len, struct shape **out, struct err *err);
void shape_free(struct shape *s);            /* accepts NULL */

/* Decodes one legacy value. shape may be NULL (no generated_schema: every
 * string is a string); ctx is the document's override context or NULL
 * ("infer"). Returns a new value, or NULL with err set (E_PARSE) naming the
 * path of the value that does not decode. */
json_t *shape_decode(const struct shape *shape, const json_t *ctx, const json_t *value,
                     struct err *err);

/* Checks that ctx is a well-formed override context. */
int shape_check_context(const json_t *ctx, struct err *err);

#endif
