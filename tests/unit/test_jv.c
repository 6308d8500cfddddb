/* Tests of Convex values (util/jv): the in-memory encoding, the wire
 * (Convex JSON) conversions and Convex equality. */
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

static json_t *wire(const char *text)
{
  json_t *w = tu_json(text);
  struct err err = ERR_INIT;
  json_t *v = jv_from_wire(w, &err);
  json_decref(w);
  err_clear(&err);
  return v;
}

Test(jv, plain_numbers_are_float64_on_the_wire)
{
  json_t *v = wire("{\"a\":1,\"b\":2.5}");
  cr_assert(json_is_real(json_object_get(v, "a")));
  cr_assert_eq(jv_type(json_object_get(v, "a")), JV_FLOAT64);
  json_decref(v);
}

Test(jv, integer_round_trip)
{
  /* 5 as 8 little-endian bytes is BQAAAAAAAAA= */
  json_t *v = wire("{\"$integer\":\"BQAAAAAAAAA=\"}");
  cr_assert(json_is_integer(v));
  cr_assert_eq(json_integer_value(v), 5);
  json_t *back = jv_to_wire(v);
  cr_assert_str_eq(json_string_value(json_object_get(back, "$integer")), "BQAAAAAAAAA=");
  json_decref(back);
  json_decref(v);
  v = wire("{\"$integer\":\"//////////8=\"}");
  cr_assert_eq(json_integer_value(v), -1);
  json_decref(v);
}

Test(jv, bytes_and_special_floats)
{
  json_t *v = wire("{\"$bytes\":\"aGVsbG8=\"}");
  cr_assert_eq(jv_type(v), JV_BYTES);
  uint8_t *p = NULL;
  size_t n = 0;
  cr_assert_eq(jv_bytes_value(v, &p, &n), 0);
  cr_assert_eq(n, 5);
  cr_assert_eq(memcmp(p, "hello", 5), 0);
  one_free(p);
  json_decref(v);
  json_t *nan = jv_float(NAN);
  cr_assert_eq(jv_type(nan), JV_FLOAT64);
  cr_assert(isnan(jv_float_value(nan)));
  json_t *inf = jv_float(-INFINITY);
  cr_assert(isinf(jv_float_value(inf)) && jv_float_value(inf) < 0);
  char *s = jv_dumps(inf);
  cr_assert(strstr(s, "$float"));
  one_free(s);
  json_decref(nan);
  json_decref(inf);
}

Test(jv, reals_always_print_as_reals)
{
  json_t *v = json_pack("[f,f,f,I]", 1.0, -0.0, 1e300, (json_int_t)3);
  char *s = jv_dumps(v);
  cr_assert(strncmp(s, "[1.0,-0.0,1", 11) == 0 && strstr(s, "e300,3]"), "%s", s);
  json_t *back = jv_parse(s, strlen(s), NULL);
  cr_assert(json_is_real(json_array_get(back, 0)), "1.0 stays a float64");
  cr_assert(json_is_integer(json_array_get(back, 3)));
  cr_assert_eq(json_real_value(json_array_get(back, 2)), 1e300, "17 digits round-trip exactly");
  json_decref(back);
  one_free(s);
  json_decref(v);
}

Test(jv, rejects_bad_wire_values)
{
  const char *bad[] = {
    "{\"$integer\":\"AAA=\"}",         /* not 8 bytes */
    "{\"$integer\":5}",                /* not base64 text */
    "{\"$bytes\":\"!!!\"}",            /* not base64 */
    "{\"$float\":\"AAAA\"}",           /* not 8 bytes */
    "{\"a\":{\"$where\":1}}",          /* $-field names are reserved */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *w = tu_json(bad[i]);
    struct err err = ERR_INIT;
    json_t *v = jv_from_wire(w, &err);
    cr_assert_null(v, "accepted %s", bad[i]);
    cr_assert_eq(err.code, E_INVALID, "%s: %s", bad[i], err.msg);
    err_clear(&err);
    json_decref(w);
  }
}

Test(jv, equality_keeps_types_apart)
{
  json_t *i = json_integer(1), *f = json_real(1.0), *z = json_real(0.0), *nz = json_real(-0.0);
  cr_assert_not(jv_equal(i, f), "int64 1 is not float64 1");
  cr_assert(jv_equal(f, f));
  cr_assert_not(jv_equal(z, nz), "0 and -0 differ in Convex");
  json_decref(i);
  json_decref(f);
  json_decref(z);
  json_decref(nz);
}

Test(jv, parse_reports_position)
{
  struct err err = ERR_INIT;
  json_t *v = jv_parse("{\"a\": }", 7, &err);
  cr_assert_null(v);
  cr_assert_eq(err.code, E_PARSE);
  cr_assert(strstr(err.msg, "line 1"), "%s", err.msg);
  err_clear(&err);
}
