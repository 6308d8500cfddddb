/* jv: Convex values held as jansson JSON, and their wire encodings.
 *
 * Ownership rule for all of ONE (jansson's own): json_object_set_new and
 * json_array_append_new steal the reference they are given; json_object_get
 * and json_array_get borrow; every json_t * a ONE function returns is a new
 * reference the caller must json_decref, unless its contract says "borrowed".
 *
 * In memory and in the store a Convex value is JSON with these conventions
 * (the "uniform" encoding of Convex snapshot exports):
 *   int64    a JSON integer                    (json_integer)
 *   float64  a JSON real, printed with a "." or an exponent (json_real);
 *            NaN and the infinities as {"$float": base64 of 8 LE bytes}
 *   bytes    {"$bytes": standard base64}
 *   null, boolean, string, array, object as in JSON.
 * Field names never start with "$", so these objects are unambiguous.
 *
 * At the API and CLI boundary ONE speaks Convex JSON, the encoding of
 * Convex's own clients: every plain JSON number is a float64, and an int64
 * is {"$integer": base64 of 8 LE bytes}. jv_from_wire / jv_to_wire convert. */
#ifndef ONE_UTIL_JV_H
#define ONE_UTIL_JV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum jv_type {
  JV_INVALID = 0, /* a "$" object that is not a well-formed special value */
  JV_NULL,
  JV_INT64,
  JV_FLOAT64,
  JV_BOOLEAN,
  JV_STRING,
  JV_BYTES,
  JV_ARRAY,
  JV_OBJECT,
};

enum jv_type jv_type(const json_t *v);
const char *jv_type_name(enum jv_type t); /* "int64", "number", "bytes"… */

/* Parses JSON text (NULs inside strings allowed). Returns a new value or
 * NULL with err set (E_PARSE, with line and column). */
json_t *jv_parse(const char *text, size_t len, struct err *err);

/* Compact text of v; reals keep full precision and always a "." or "e".
 * Caller frees with one_free. NULL when out of memory. */
char *jv_dumps(const json_t *v);

/* A float64 value: a JSON real, or a $float object for NaN and infinities. */
json_t *jv_float(double d);
/* The double of a JV_FLOAT64 value (0 on other types). */
double jv_float_value(const json_t *v);

/* A bytes value from raw bytes. */
json_t *jv_bytes(const uint8_t *p, size_t n);
/* Decodes a JV_BYTES value into a new buffer (one_free). -1 when malformed. */
int jv_bytes_value(const json_t *v, uint8_t **out, size_t *n);

/* Convex equality: same type and same value (for literals). */
int jv_equal(const json_t *a, const json_t *b);

/* Wire (Convex JSON) to in-memory: a new value, or NULL with err set. */
json_t *jv_from_wire(const json_t *wire, struct err *err);
/* In-memory to wire: a new value, or NULL when out of memory. */
json_t *jv_to_wire(const json_t *v);

/* base64 (standard alphabet, padded) helpers over libsodium. */
char *b64_encode(const uint8_t *p, size_t n);                  /* one_free */
int b64_decode(const char *s, size_t len, uint8_t **out, size_t *n); /* 0 / -1 */

#endif
