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

/* jtext_scan agrees with jtext_field and jtext_has_integer on every text. */
Test(jtext, one_pass_scan_agrees_with_the_two_functions)
{
  static const char *const docs[] = {
    "{\"_id\":\"k1\",\"_creationTime\":1796168786866.3218,\"content\":\"hi @[Bob](user:k2)\","
    "\"createdAt\":1796168786866.0}",
    "{\"content\":\"say \\\"hi\\\" \\\\ 12\",\"n\":-1.5e3,\"t\":true}",
    "{\"a\":{\"content\":\"inner\"},\"b\":[1,\"],}\",{\"c\":2}],\"content\":\"x\"}",
    "{\"content\":42}",
    "{\"content\":{\"x\":1.0}}",
    "{\"content\":null,\"z\":[1.5,2.5]}",
    "{ \"content\" : \"spaced\" , \"k\" : 7 }",
    "{\"nocontent\":\"a\",\"contents\":\"b\"}",
    "{}",
    "{\"tags\":[\"a\",\"b\"],\"content\":\"after\",\"big\":12345678901234}",
  };
  for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
    const char *t = docs[d], *v1 = NULL, *v2 = NULL;
    size_t n = strlen(t), l1 = 0, l2 = 0;
    int want = jtext_field(t, n, "content", &v1, &l1), has = 0;
    int got = jtext_scan(t, n, "content", &v2, &l2, &has);
    cr_expect_eq(has, jtext_has_integer(t, n), "integers in %s", t);
    if (want == 1 && v1[0] == '"') {
      cr_expect_eq(got, 1, "%s", t);
      cr_expect(l1 == l2 && memcmp(v1, v2, l1) == 0, "the value in %s", t);
    } else {
      cr_expect_eq(got, want == 1 ? 2 : want, "%s: %d", t, got);
    }
  }
  static const char *const bad[] = {"[1,2]", "{\"a\":\"unterminated", "{\"a\" 1}", "{\"a\":1",
                                    "{\"a\":1}}", "", "{\"a\":1} x"};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    const char *v = NULL;
    size_t l = 0;
    int has = 0;
    cr_expect_eq(jtext_scan(bad[b], strlen(bad[b]), "a", &v, &l, &has), -1, "%s", bad[b]);
  }
}
