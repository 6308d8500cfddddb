/* Unit tests of util/jtext: top-level fields found in JSON text without
 * parsing it, and int64 detection outside strings. */
#include "util/jtext.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static const char *field(const char *t, const char *key, int *rc)
{
  static char out[256];
  const char *v = NULL;
  size_t n = 0;
  *rc = jtext_field(t, strlen(t), key, &v, &n);
  snprintf(out, sizeof out, "%.*s", (int)n, v ? v : "");
  return out;
}

Test(jtext, finds_top_level_fields_only)
{
  int rc;
  const char *doc = "{\"a\":{\"content\":\"inner\"},\"b\":[1,\"],}\",{\"c\":2}],"
                    "\"content\":\"say \\\"hi\\\" \\\\ @[x]\",\"n\":-1.5e3,\"t\":true}";
  cr_assert_str_eq(field(doc, "content", &rc), "\"say \\\"hi\\\" \\\\ @[x]\"");
  cr_assert_eq(rc, 1);
  cr_assert_str_eq(field(doc, "n", &rc), "-1.5e3");
  cr_assert_str_eq(field(doc, "t", &rc), "true");
  cr_assert_str_eq(field(doc, "b", &rc), "[1,\"],}\",{\"c\":2}]");
  field(doc, "c", &rc);
  cr_assert_eq(rc, 0, "nested fields are not top-level");
  field("{}", "a", &rc);
  cr_assert_eq(rc, 0);
  field("[1,2]", "a", &rc);
  cr_assert_eq(rc, -1);
  field("{\"a\":\"unterminated", "b", &rc);
  cr_assert_eq(rc, -1);
  field("{\"a\" 1}", "a", &rc);
  cr_assert_eq(rc, -1);
}

Test(jtext, tells_integers_from_reals)
{
  struct { const char *t; int want; } cases[] = {
    {"{\"a\":1.0}", 0}, {"{\"a\":1e3}", 0}, {"{\"a\":-2.5E-3}", 0}, {"{\"a\":\"12\"}", 0},
    {"{\"a\":12}", 1}, {"{\"a\":[1.5,-7]}", 1}, {"{\"a\":\"x\\\"1\",\"b\":0}", 1},
    {"{\"a\":\"\\\\\",\"b\":true}", 0}, {"{\"a\":\"unterminated", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    cr_expect_eq(jtext_has_integer(cases[i].t, strlen(cases[i].t)), cases[i].want, "%s", cases[i].t);
}
