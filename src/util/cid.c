/* cid: Convex id encoding and decoding. */
#include "util/cid.h"

#include <sodium.h>
#include <string.h>

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

static uint16_t fletcher16(const uint8_t *p, size_t n)
{
  unsigned c0 = 0, c1 = 0;
  for (size_t i = 0; i < n; i++) {
    c0 = (c0 + p[i]) % 256;
    c1 = (c1 + c0) % 256;
  }
  return (uint16_t)(c1 << 8 | c0);
}

/* Packs 5 bits at a time, most significant first; the last group is padded
 * with zero bits. */
static size_t base32_encode(const uint8_t *in, size_t n, char *out)
{
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 5) {
      out[o++] = alphabet[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0)
    out[o++] = alphabet[(acc << (5 - bits)) & 31];
  out[o] = '\0';
  return o;
}

static int base32_value(char c)
{
  const char *p = c ? strchr(alphabet, c) : NULL;
  return p ? (int)(p - alphabet) : -1;
}

/* Decodes into out (room for cap bytes); returns the byte count or -1. */
static int base32_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    int v = base32_value(s[i]);
    if (v < 0)
      return -1;
    acc = (acc << 5) | (unsigned)v;
    bits += 5;
    if (bits >= 8) {
      if (o == cap)
        return -1;
      out[o++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
    acc &= 0xff;
  }
  return (int)o;
}

static size_t vint_put(uint32_t v, uint8_t *out)
{
  size_t n = 0;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out[n++] = v ? (uint8_t)(b | 0x80) : b;
  } while (v);
  return n;
}

size_t cid_encode(uint32_t table, const uint8_t internal[CID_INTERNAL], char out[CID_MAX])
{
  uint8_t bytes[5 + CID_INTERNAL + 2];
  size_t n = vint_put(table, bytes);
  memcpy(bytes + n, internal, CID_INTERNAL);
  n += CID_INTERNAL;
  uint16_t footer = fletcher16(bytes, n) ^ 0; /* version 0 */
  bytes[n++] = (uint8_t)(footer & 0xff);
  bytes[n++] = (uint8_t)(footer >> 8);
  return base32_encode(bytes, n, out);
}

size_t cid_new(uint32_t table, double now_ms, char out[CID_MAX])
{
  uint8_t internal[CID_INTERNAL];
  randombytes_buf(internal, 14);
  long day = now_ms > 0 ? (long)(now_ms / 86400000.0) : 0;
  internal[14] = (uint8_t)((day >> 8) & 0xff);
  internal[15] = (uint8_t)(day & 0xff);
  return cid_encode(table, internal, out);
}

int cid_decode(const char *s, size_t len, uint32_t *table, uint8_t internal[CID_INTERNAL])
{
  uint8_t bytes[5 + CID_INTERNAL + 2 + 1];
  if (len < 31 || len >= CID_MAX)
    return -1;
  int n = base32_decode(s, len, bytes, sizeof bytes);
  if (n < 1 + CID_INTERNAL + 2)
    return -1;
  uint32_t t = 0;
  int i = 0, shift = 0;
  for (;;) {
    if (i >= 5 || i >= n)
      return -1;
    t |= (uint32_t)(bytes[i] & 0x7f) << shift;
    shift += 7;
    if (!(bytes[i++] & 0x80))
      break;
  }
  if (n != i + CID_INTERNAL + 2 || t > CID_TABLE_MAX)
    return -1;
  char again[CID_MAX];
  size_t m = cid_encode(t, bytes + i, again);
  if (m != len || memcmp(again, s, len) != 0)
    return -1;
  if (table)
    *table = t;
  if (internal)
    memcpy(internal, bytes + i, CID_INTERNAL);
  return 0;
}

uint32_t cid_table(const char *s, size_t len)
{
  uint32_t t;
  return cid_decode(s, len, &t, NULL) == 0 ? t : 0;
}
