/* cid: Convex document ids.
 *
 * An id is the base32 text of VInt(table number) ‖ 16-byte internal id ‖
 * footer, where the internal id is 14 random bytes and the day number since
 * the epoch (2 bytes, big-endian), and the footer is fletcher16 of what
 * precedes XOR version 0, little-endian. base32 is lowercase Crockford,
 * big-endian bit order, no padding (spec/convex-formats.md). An id names
 * its table by number, so a validator can reject another table's id without
 * a lookup. Decoding accepts only text that re-encodes to itself. */
#ifndef ONE_UTIL_CID_H
#define ONE_UTIL_CID_H

#include <stddef.h>
#include <stdint.h>

#define CID_MAX 40           /* longest id text (37 chars) plus NUL, rounded */
#define CID_INTERNAL 16
#define CID_TABLE_MAX 0x7fffffffu

/* Writes the id text of (table, internal) into out; returns its length. */
size_t cid_encode(uint32_t table, const uint8_t internal[CID_INTERNAL], char out[CID_MAX]);

/* A new random id for table, stamped with the day of now_ms. Returns length. */
size_t cid_new(uint32_t table, double now_ms, char out[CID_MAX]);

/* Decodes s (len bytes). Returns 0 and fills table (and internal when not
 * NULL), or -1 when s is not a well-formed id. */
int cid_decode(const char *s, size_t len, uint32_t *table, uint8_t internal[CID_INTERNAL]);

/* The table number of an id text, or 0 when it is not an id. */
uint32_t cid_table(const char *s, size_t len);

#endif
