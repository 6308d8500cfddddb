/* Tests of the legacy export encoding: shape parsing, string kinds inferred
 * from shapes, override contexts, and refusals with paths. */
#include "migrate/shape.h"
#include "migrate/snapshot.h"
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

static struct shape *parse(const char *text)
{
  struct err err = ERR_INIT;
  struct shape *s = NULL;
  cr_assert_eq(shape_parse(text, strlen(text), &s, &err), 0, "%s: %s", text, err.msg);
  return s;
}

/* Decodes value (legacy JSON) under shape and ctx; returns the uniform text. */
static char *decode(const char *shape_text, const char *ctx_text, const char *value)
{
  struct shape *s = shape_text ? parse(shape_text) : NULL;
  json_t *ctx = ctx_text ? tu_json(ctx_text) : NULL;
  json_error_t je;
  json_t *v = json_loads(value, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &je);
  cr_assert(v, "%s", value);
  struct err err = ERR_INIT;
  json_t *out = shape_decode(s, ctx, v, &err);
  char *text = out ? jv_dumps(out) : NULL;
  if (!out) {
    text = one_malloc(strlen(err.msg) + 8);
    strcpy(text, "ERROR ");
    strcat(text, err.msg);
  }
  json_decref(out);
  json_decref(v);
  json_decref(ctx);
  shape_free(s);
  err_clear(&err);
  return text;
}

static void expect(const char *shape, const char *ctx, const char *value, const char *want)
{
  char *got = decode(shape, ctx, value);
  cr_expect_str_eq(got, want, "shape %s, ctx %s, value %s", shape ? shape : "-", ctx ? ctx : "-",
                   value);
  one_free(got);
}

static void expect_error(const char *shape, const char *ctx, const char *value, const char *part)
{
  char *got = decode(shape, ctx, value);
  cr_expect(strncmp(got, "ERROR ", 6) == 0 && strstr(got, part), "got %s, want error with '%s'",
            got, part);
  one_free(got);
}

Test(shape, numbers_are_float64_and_strings_strings_without_a_shape)
{
  expect(NULL, NULL, "{\"a\":5,\"b\":\"5\",\"c\":[1,\"NaN\"]}",
         "{\"a\":5.0,\"b\":\"5\",\"c\":[1.0,\"NaN\"]}");
}

Test(shape, the_one_kind_a_shape_allows_is_decoded)
{
  expect("{\"n\": int64}", NULL, "{\"n\":\"-9007199254740993\"}", "{\"n\":-9007199254740993}");
  expect("{\"b\": bytes}", NULL, "{\"b\":\"AAH+/w==\"}", "{\"b\":{\"$bytes\":\"AAH+/w==\"}}");
  expect("{\"f\": inf | -inf}", NULL, "{\"f\":\"-Infinity\"}",
         "{\"f\":{\"$float\":\"AAAAAAAA8P8=\"}}");
  expect("{\"a\": array<int64>}", NULL, "{\"a\":[\"1\",\"2\"]}", "{\"a\":[1,2]}");
  expect("{\"r\": record<string, int64>}", NULL, "{\"r\":{\"x\":\"7\"}}", "{\"r\":{\"x\":7}}");
  expect("{\"k\": \"a\" | \"b\", \"i\": id<10001>}", NULL, "{\"k\":\"a\",\"i\":\"12\"}",
         "{\"k\":\"a\",\"i\":\"12\"}");
  /* a union of objects: the field's shapes are gathered from every member */
  expect("{\"kind\": \"x\", \"n\": int64} | {\"kind\": \"y\"}", NULL, "{\"kind\":\"x\",\"n\":\"3\"}",
         "{\"kind\":\"x\",\"n\":3}");
}

Test(shape, ambiguous_places_need_an_override)
{
  /* int64 | string: a string stays a string unless the override says int64 */
  expect("{\"n\": int64 | string}", NULL, "{\"n\":\"42\"}", "{\"n\":\"42\"}");
  expect("{\"n\": int64 | string}", "{\"n\":\"int64\"}", "{\"n\":\"42\"}", "{\"n\":42}");
  /* unknown allows every kind: overrides decide, strings stay strings */
  expect("unknown", NULL, "{\"n\":\"Infinity\"}", "{\"n\":\"Infinity\"}");
  expect("unknown", "{\"n\":\"float64inf\"}", "{\"n\":\"Infinity\"}",
         "{\"n\":{\"$float\":\"AAAAAAAA8H8=\"}}");
  expect("unknown", "{\"n\":[\"bytes\",\"infer\"]}", "{\"n\":[\"AA==\",\"AA==\"]}",
         "{\"n\":[{\"$bytes\":\"AA==\"},\"AA==\"]}");
  /* NaN is never inferred: its override carries its exact bits */
  expect("{\"f\": NaN}", "{\"f\":{\"$float64NaN\":\"AQAAAAAA+H8=\"}}", "{\"f\":\"NaN\"}",
         "{\"f\":{\"$float\":\"AQAAAAAA+H8=\"}}");
  expect("{\"f\": NaN | normalfloat64}", NULL, "{\"f\":\"NaN\"}", "{\"f\":\"NaN\"}");
}

Test(shape, bad_values_and_contexts_are_refused_with_their_path)
{
  expect_error("{\"n\": int64}", NULL, "{\"n\":\"4x\"}", "n: \"4x\" is not an int64");
  expect_error("{\"n\": int64}", NULL, "{\"n\":\"99999999999999999999\"}", "out of the int64");
  expect_error("{\"a\": array<bytes>}", NULL, "{\"a\":[\"AA==\",\"!!\"]}", "a[1]: bytes are not");
  expect_error("unknown", "{\"f\":{\"$float64NaN\":\"AAAAAAAA8D8=\"}}", "{\"f\":\"NaN\"}",
               "not NaN");
  expect_error("unknown", "{\"a\":[\"int64\"]}", "{\"a\":[\"1\",\"2\"]}", "array length");
  expect_error("unknown", "{\"a\":\"int64\"}", "{\"a\":{\"b\":1}}", "does not fit an object");
  expect_error(NULL, NULL, "{\"$bytes\":\"AA==\"}", "starts with '$'");
}

Test(shape, shape_text_errors_say_where)
{
  static const char *const bad[] = {"", "{\"a\" int64}", "array<int64", "id<>", "wat",
                                    "{\"a\": int64,}", "int64 |", "record<string>",
                                    "{\"a\": \"unterminated}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct err err = ERR_INIT;
    struct shape *s = NULL;
    cr_expect_neq(shape_parse(bad[i], strlen(bad[i]), &s, &err), 0, "%s", bad[i]);
    cr_expect(s == NULL && strstr(err.msg, "column"), "%s: %s", bad[i], err.msg);
    err_clear(&err);
  }
  char deep[600] = "";
  for (int i = 0; i < 70; i++)
    strcat(deep, "array<");
  struct err err = ERR_INIT;
  struct shape *s = NULL;
  cr_expect_neq(shape_parse(deep, strlen(deep), &s, &err), 0);
  cr_expect(strstr(err.msg, "deeply"), "%s", err.msg);
  err_clear(&err);
}

Test(shape, uniform_lines_keep_int64_and_float64_apart)
{
  struct err err = ERR_INIT;
  const char *line = "{\"_id\":\"x\",\"i\":1,\"f\":1.0,\"z\":-0.0,\"big\":9223372036854775807}";
  json_t *doc = snapshot_decode_line(line, strlen(line), NULL, 0, NULL, &err);
  cr_assert(doc, "%s", err.msg);
  cr_expect_eq(jv_type(json_object_get(doc, "i")), JV_INT64);
  cr_expect_eq(jv_type(json_object_get(doc, "f")), JV_FLOAT64);
  cr_expect(signbit(json_real_value(json_object_get(doc, "z"))));
  json_decref(doc);
  static const char *const bad[] = {"{\"_id\":\"x\",\"a\":1,\"a\":2}", "[1]", "{\"a\":1}",
                                    "{\"_id\":\"x\",\"n\":99999999999999999999}", "{"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    doc = snapshot_decode_line(bad[i], strlen(bad[i]), NULL, 0, NULL, &err);
    cr_expect(doc == NULL && err.msg[0], "%s", bad[i]);
    json_decref(doc);
    err_clear(&err);
  }
}
