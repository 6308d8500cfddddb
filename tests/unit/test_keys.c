/* Tests of index keys (store/keys): memcmp order equals Convex order. */
#include "store/keys.h"
#include "testutil.h"
#include "util/jv.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_keys(const json_t *a, const json_t *b)
{
  struct buf x, y;
  buf_init(&x, BUF_UNBOUNDED);
  buf_init(&y, BUF_UNBOUNDED);
  cr_assert_eq(key_put_value(&x, a), 0);
  cr_assert_eq(key_put_value(&y, b), 0);
  size_t n = x.len < y.len ? x.len : y.len;
  int c = memcmp(x.p, y.p, n);
  if (!c)
    c = (x.len > y.len) - (x.len < y.len);
  buf_release(&x);
  buf_release(&y);
  return c;
}

Test(keys, convex_type_and_value_order)
{
  /* ascending, as Convex sorts them; NULL is undefined (a missing field) */
  json_t *vals[] = {
    NULL,
    json_null(),
    json_integer(INT64_MIN), json_integer(-5), json_integer(0), json_integer(7), json_integer(INT64_MAX),
    jv_float(-INFINITY), json_real(-1e300), json_real(-2.5), json_real(-0.0), json_real(0.0),
    json_real(1e-300), json_real(2.5), json_real(1e300), jv_float(INFINITY),
    json_false(), json_true(),
    json_string(""), json_stringn("\0", 1), json_string("a"), json_stringn("a\0b", 3),
    json_string("ab"), json_string("b"), json_string("\xc3\xa9"),
    jv_bytes((const uint8_t *)"", 0), jv_bytes((const uint8_t *)"\x00", 1), jv_bytes((const uint8_t *)"z", 1),
    tu_json("[]"), tu_json("[null]"), tu_json("[1, 2]"), tu_json("[1, 2, 3]"), tu_json("[2]"),
    tu_json("{}"), tu_json("{\"a\": 1}"), tu_json("{\"b\": 0}"),
  };
  size_t n = sizeof vals / sizeof vals[0];
  for (size_t i = 0; i + 1 < n; i++)
    for (size_t j = i + 1; j < n; j++)
      cr_assert_lt(cmp_keys(vals[i], vals[j]), 0, "value %zu should sort before value %zu", i, j);
  for (size_t i = 0; i < n; i++)
    json_decref(vals[i]);
}

Test(keys, random_numbers_keep_numeric_order)
{
  srand(42);
  for (int i = 0; i < 20000; i++) {
    double a = ((double)rand() - RAND_MAX / 2.0) * pow(10, rand() % 40 - 20);
    double b = ((double)rand() - RAND_MAX / 2.0) * pow(10, rand() % 40 - 20);
    json_t *x = json_real(a), *y = json_real(b);
    int c = cmp_keys(x, y);
    cr_assert_eq(c < 0, a < b, "%g vs %g", a, b);
    json_decref(x);
    json_decref(y);
    long long p = (long long)(((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 2) ^ (unsigned)rand());
    long long q = -(long long)(((unsigned long long)rand() << 31) ^ (unsigned)rand());
    x = json_integer(p);
    y = json_integer(q);
    cr_assert_eq(cmp_keys(x, y) < 0, p < q);
    json_decref(x);
    json_decref(y);
  }
}

Test(keys, prefix_successor)
{
  uint8_t a[] = {1, 2, 3};
  cr_assert_eq(key_prefix_successor(a, 3), 3);
  cr_assert_eq(a[2], 4);
  uint8_t b[] = {1, 0xff, 0xff};
  cr_assert_eq(key_prefix_successor(b, 3), 1);
  cr_assert_eq(b[0], 2);
  uint8_t c[] = {0xff, 0xff};
  cr_assert_eq(key_prefix_successor(c, 2), 0);
}

Test(keys, dotted_field_paths)
{
  json_t *doc = tu_json("{\"a\": {\"b\": {\"c\": 5}}, \"x\": 1}");
  cr_assert(json_equal((json_t *)key_field(doc, "a.b.c"), json_object_get(json_object_get(json_object_get(doc, "a"), "b"), "c")));
  cr_assert_null(key_field(doc, "a.z"));
  cr_assert_null(key_field(doc, "x.y"));
  json_decref(doc);
}
