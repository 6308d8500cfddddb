/* Tests of Convex ids (util/cid): format, round trips, and rejection of
 * every malformed text. */
#include "testutil.h"
#include "util/cid.h"

#include <criterion/criterion.h>
#include <string.h>

Test(cid, round_trip_table_numbers)
{
  uint32_t tables[] = {1, 2, 127, 128, 10001, 10042, 16383, 16384, 2097151, 2097152, 0x7fffffff};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    char id[CID_MAX];
    size_t n = cid_new(tables[i], 1.7e12, id);
    cr_assert_eq(strlen(id), n);
    uint32_t t = 0;
    uint8_t internal[CID_INTERNAL];
    cr_assert_eq(cid_decode(id, n, &t, internal), 0, "decode %s", id);
    cr_assert_eq(t, tables[i]);
    char again[CID_MAX];
    cid_encode(t, internal, again);
    cr_assert_str_eq(again, id);
  }
}

Test(cid, lengths_follow_the_spec)
{
  char id[CID_MAX];
  cr_assert_eq(cid_new(127, 0, id), 31, "tables under 128: 31 characters");
  cr_assert_eq(cid_new(10001, 0, id), 32, "tables 128..16383: 32 characters");
  cr_assert_eq(cid_new(16383, 0, id), 32);
}

Test(cid, alphabet_is_lowercase_crockford)
{
  char id[CID_MAX];
  for (int i = 0; i < 200; i++) {
    cid_new(10001, 1.7e12, id);
    for (const char *c = id; *c; c++)
      cr_assert(strchr("0123456789abcdefghjkmnpqrstvwxyz", *c), "bad char %c in %s", *c, id);
  }
}

Test(cid, day_number_is_stamped)
{
  char id[CID_MAX];
  uint8_t internal[CID_INTERNAL];
  uint32_t t;
  cid_new(10001, 86400000.0 * 20000 + 5, id);
  cr_assert_eq(cid_decode(id, strlen(id), &t, internal), 0);
  cr_assert_eq(internal[14] << 8 | internal[15], 20000);
}

Test(cid, random_ids_differ)
{
  char a[CID_MAX], b[CID_MAX];
  cid_new(10001, 0, a);
  cid_new(10001, 0, b);
  cr_assert_str_neq(a, b);
}

Test(cid, known_vector)
{
  /* table 10001, internal bytes 0..15: bytes 91 4e 00 01 … 0f, fletcher16 footer */
  uint8_t internal[CID_INTERNAL];
  for (int i = 0; i < CID_INTERNAL; i++)
    internal[i] = (uint8_t)i;
  char id[CID_MAX];
  cid_encode(10001, internal, id);
  uint32_t t;
  uint8_t back[CID_INTERNAL];
  cr_assert_eq(cid_decode(id, strlen(id), &t, back), 0);
  cr_assert_eq(t, 10001);
  cr_assert_eq(memcmp(back, internal, CID_INTERNAL), 0);
  /* first byte 0x91 = 10010001: first char is bits 10010 = 18 = 'j' */
  cr_assert_eq(id[0], 'j');
}

Test(cid, rejects_malformed)
{
  char id[CID_MAX];
  cid_new(10001, 1.7e12, id);
  size_t n = strlen(id);
  uint32_t t;
  /* every single-character change breaks the checksum or the padding */
  for (size_t i = 0; i < n; i++) {
    char bad[CID_MAX];
    memcpy(bad, id, n + 1);
    bad[i] = bad[i] == '0' ? '1' : '0';
    cr_assert_neq(cid_decode(bad, n, &t, NULL), 0, "changed char %zu accepted: %s", i, bad);
  }
  char upper[CID_MAX];
  memcpy(upper, id, n + 1);
  for (size_t i = 0; i < n; i++)
    if (upper[i] >= 'a' && upper[i] <= 'z') {
      upper[i] = (char)(upper[i] - 32);
      break;
    }
  cr_assert_neq(cid_decode(upper, n, &t, NULL), 0, "uppercase accepted");
  cr_assert_neq(cid_decode(id, n - 1, &t, NULL), 0, "short id accepted");
  cr_assert_neq(cid_decode("", 0, &t, NULL), 0);
  cr_assert_neq(cid_decode("hello", 5, &t, NULL), 0);
  cr_assert_neq(cid_decode("iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii", 32, &t, NULL), 0, "i is not Crockford");
  char longer[CID_MAX + 8];
  snprintf(longer, sizeof longer, "%s00", id);
  cr_assert_neq(cid_decode(longer, strlen(longer), &t, NULL), 0);
  cr_assert_eq(cid_table("not an id", 9), 0);
}
