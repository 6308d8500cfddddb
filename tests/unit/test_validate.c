/* Tests of validation (schema/schema_validate): a table of accepted and
 * rejected values for every validator kind, paths in errors, one error per
 * problem, and Convex's limits. */
#include "testutil.h"
#include "util/cid.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tables "users" (10001) and "agents" (10002) for the resolver. */
static const char *names(void *ctx, uint32_t n)
{
  (void)ctx;
  return n == 10001 ? "users" : n == 10002 ? "agents" : NULL;
}

static char user_id[CID_MAX], agent_id[CID_MAX], unknown_id[CID_MAX];

static void ids(void)
{
  cid_new(10001, 1.7e12, user_id);
  cid_new(10002, 1.7e12, agent_id);
  cid_new(10077, 1.7e12, unknown_id);
}

TestSuite(validate, .init = ids);

/* Expands @U, @A and @X in text to a user id, agent id and unknown id. */
static char *expand(const char *text)
{
  size_t cap = strlen(text) * 12 + 1;
  char *out = malloc(cap), *o = out;
  for (const char *p = text; *p; p++) {
    if (p[0] == '@' && (p[1] == 'U' || p[1] == 'A' || p[1] == 'X')) {
      const char *id = p[1] == 'U' ? user_id : p[1] == 'A' ? agent_id : unknown_id;
      o += sprintf(o, "%s", id);
      p++;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
  return out;
}

struct vcase {
  const char *validator; /* a v.* expression */
  const char *value;     /* wire JSON; @U @A @X expand to ids */
  const char *error;     /* NULL when accepted, else "path: message" of the first problem */
};

static const struct vcase cases[] = {
  {"v.string()", "\"x\"", NULL},
  {"v.string()", "1", "t.f: expected v.string(), got number"},
  {"v.string()", "null", "t.f: expected v.string(), got null"},
  {"v.number()", "1.5", NULL},
  {"v.number()", "{\"$integer\":\"AQAAAAAAAAA=\"}", "t.f: expected v.number(), got int64"},
  {"v.number()", "{\"$float\":\"AAAAAAAA+H8=\"}", NULL}, /* NaN */
  {"v.float64()", "-0.0", NULL},
  {"v.int64()", "{\"$integer\":\"AQAAAAAAAAA=\"}", NULL},
  {"v.int64()", "1", "t.f: expected v.int64(), got number"},
  {"v.bigint()", "2", "t.f: expected v.int64(), got number"},
  {"v.boolean()", "false", NULL},
  {"v.boolean()", "0", "t.f: expected v.boolean(), got number"},
  {"v.bytes()", "{\"$bytes\":\"AAE=\"}", NULL},
  {"v.bytes()", "\"AAE=\"", "t.f: expected v.bytes(), got string"},
  {"v.null()", "null", NULL},
  {"v.null()", "false", "t.f: expected v.null(), got boolean"},
  {"v.any()", "{\"deep\":[1,{\"x\":null}]}", NULL},
  {"v.id(\"users\")", "\"@U\"", NULL},
  {"v.id(\"users\")", "\"@A\"", "t.f: expected id<users>, got id<agents>"},
  {"v.id(\"users\")", "\"@X\"", "t.f: expected id<users>, got an id of unknown table number 10077"},
  {"v.id(\"users\")", "\"abc\"", "t.f: expected id<users>, got a string that is not a document id"},
  {"v.id(\"users\")", "5", "t.f: expected id<users>, got number"},
  {"v.literal(\"a\")", "\"a\"", NULL},
  {"v.literal(\"a\")", "\"b\"", "t.f: expected \"a\", got \"b\""},
  {"v.literal(3)", "3", NULL},
  {"v.literal(3)", "{\"$integer\":\"AwAAAAAAAAA=\"}", "t.f: expected 3, got int64"},
  {"v.literal(3n)", "{\"$integer\":\"AwAAAAAAAAA=\"}", NULL},
  {"v.literal(true)", "false", "t.f: expected true, got false"},
  {"v.array(v.id(\"agents\"))", "[\"@A\",\"@A\",\"@U\"]", "t.f[2]: expected id<agents>, got id<users>"},
  {"v.array(v.string())", "\"x\"", "t.f: expected v.array(v.string()), got string"},
  {"v.object({ a: v.string(), b: v.optional(v.number()) })", "{\"a\":\"x\"}", NULL},
  {"v.object({ a: v.string(), b: v.optional(v.number()) })", "{\"a\":\"x\",\"b\":null}", "t.f.b: expected v.number(), got null"},
  {"v.object({ a: v.string() })", "{}", "t.f.a: missing required field"},
  {"v.object({ a: v.string() })", "{\"a\":\"x\",\"z\":1}", "t.f.z: unexpected field (not in the schema)"},
  {"v.record(v.string(), v.number())", "{\"k\":1.0,\"j\":2.0}", NULL},
  {"v.record(v.string(), v.number())", "{\"k\":\"x\"}", "t.f.k: expected v.number(), got string"},
  {"v.record(v.id(\"users\"), v.boolean())", "{\"@U\":true}", NULL},
  {"v.record(v.id(\"users\"), v.boolean())", "{\"@A\":true}", "t.f.@A: record key \"@A\" does not match v.id(\"users\")"},
  {"v.union(v.string(), v.null())", "null", NULL},
  {"v.union(v.string(), v.null())", "1", "t.f: expected v.union(v.string(), v.null()), got number"},
  {"v.union(v.object({ kind: v.literal(\"a\"), x: v.string() }), v.object({ kind: v.literal(\"b\"), y: v.number() }))",
   "{\"kind\":\"b\",\"y\":\"no\"}", "t.f.y: expected v.number(), got string"},
  {"v.union(v.object({ kind: v.literal(\"a\"), x: v.string() }), v.object({ kind: v.literal(\"b\"), y: v.number() }))",
   "{\"kind\":\"a\",\"x\":\"ok\"}", NULL},
};

Test(validate, table_of_values)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char src[2048];
    snprintf(src, sizeof src,
             "import { defineSchema, defineTable } from \"convex/server\";\n"
             "import { v } from \"convex/values\";\n"
             "export default defineSchema({ t: defineTable({ f: %s }) });\n", cases[i].validator);
    struct schema *s = tu_schema(src);
    char *value = expand(cases[i].value);
    char *doctext = NULL;
    cr_assert(asprintf(&doctext, "{\"f\":%s}", value) > 0);
    json_t *wire = tu_json(doctext);
    struct err err = ERR_INIT;
    json_t *doc = jv_from_wire(wire, &err);
    cr_assert(doc, "case %zu: bad wire value: %s", i, err.msg);
    struct id_resolver r = {names, NULL};
    int rc = schema_validate(s, "t", doc, &r, 0, &err);
    if (!cases[i].error) {
      cr_assert_eq(rc, 0, "case %zu: %s %s refused: %s", i, cases[i].validator, value,
                   err.ndetails ? err.details[0].message : err.msg);
    } else {
      char *want = expand(cases[i].error), got[1024];
      cr_assert_eq(rc, E_SCHEMA, "case %zu: %s %s accepted", i, cases[i].validator, value);
      cr_assert_geq(err.ndetails, 1);
      snprintf(got, sizeof got, "%s: %s", err.details[0].path, err.details[0].message);
      cr_assert_str_eq(got, want, "case %zu: got \"%s\", want \"%s\"", i, got, want);
      free(want);
    }
    err_clear(&err);
    json_decref(doc);
    json_decref(wire);
    free(doctext);
    free(value);
    schema_free(s);
  }
}

Test(validate, one_error_per_problem)
{
  struct schema *s = tu_schema(
    "import { defineSchema, defineTable } from \"convex/server\";\n"
    "import { v } from \"convex/values\";\n"
    "export default defineSchema({ agents: defineTable({ name: v.string(),\n"
    "  delegatesTo: v.array(v.id(\"agents\")), n: v.number() }) });\n");
  char *text = NULL;
  cr_assert(asprintf(&text, "{\"delegatesTo\":[\"%s\",\"%s\",\"%s\"],\"n\":\"x\",\"extra\":1}",
                     agent_id, agent_id, user_id) > 0);
  json_t *doc = tu_json(text);
  struct err err = ERR_INIT;
  struct id_resolver r = {names, NULL};
  cr_assert_eq(schema_validate(s, "agents", doc, &r, 0, &err), E_SCHEMA);
  cr_assert_eq(err.ndetails, 4, "got %zu problems", err.ndetails);
  cr_assert_str_eq(err.details[0].path, "agents.name");
  cr_assert_str_eq(err.details[1].path, "agents.delegatesTo[2]");
  cr_assert_str_eq(err.details[1].message, "expected id<agents>, got id<users>");
  cr_assert_str_eq(err.details[2].path, "agents.n");
  cr_assert_str_eq(err.details[3].path, "agents.extra");
  err_clear(&err);
  json_decref(doc);
  free(text);
  schema_free(s);
}

static struct schema *any_table(void)
{
  return tu_schema("import { defineSchema, defineTable } from \"convex/server\";\n"
                   "import { v } from \"convex/values\";\n"
                   "export default defineSchema({ t: defineTable({ f: v.optional(v.any()) }) });\n");
}

static int validate_text(struct schema *s, const char *text, struct err *err)
{
  json_t *doc = tu_json(text);
  struct id_resolver r = {names, NULL};
  int rc = schema_validate(s, "t", doc, &r, 0, err);
  json_decref(doc);
  return rc;
}

Test(validate, convex_limits)
{
  struct schema *s = any_table();
  struct err err = ERR_INIT;
  /* nesting: 15 levels under the document are fine, 16 are not */
  char deep[256] = "{\"f\":", tail[64] = "}";
  for (int i = 0; i < 15; i++)
    strcat(deep, "[");
  strcat(deep, "1");
  for (int i = 0; i < 15; i++)
    strcat(tail, "]");
  char ok[512];
  snprintf(ok, sizeof ok, "%s%.*s}", deep, 15, "]]]]]]]]]]]]]]]");
  cr_assert_eq(validate_text(s, ok, &err), 0, "%s", err.msg);
  char bad[512];
  snprintf(bad, sizeof bad, "{\"f\":[%s%.*s]}", deep + 5, 15, "]]]]]]]]]]]]]]]");
  cr_assert_eq(validate_text(s, bad, &err), E_SCHEMA);
  cr_assert(strstr(err.details[0].message, "nested deeper"), "%s", err.details[0].message);
  err_clear(&err);
  /* array length */
  char *big = malloc(8200 * 2 + 16), *p = big;
  p += sprintf(p, "{\"f\":[");
  for (int i = 0; i < 8193; i++)
    p += sprintf(p, "%s0", i ? "," : "");
  sprintf(p, "]}");
  cr_assert_eq(validate_text(s, big, &err), E_SCHEMA);
  cr_assert(strstr(err.details[0].message, "more than 8192"), "%s", err.details[0].message);
  err_clear(&err);
  free(big);
  /* $-names never pass, even under v.any() (the wire layer refuses them too) */
  cr_assert_eq(validate_text(s, "{\"f\":{\"x\":{\"$bad\":1}}}", &err), E_SCHEMA);
  cr_assert_str_eq(err.details[0].path, "t.f.x");
  cr_assert(strstr(err.details[0].message, "'$' field name"), "%s", err.details[0].message);
  err_clear(&err);
  /* field names */
  cr_assert_eq(validate_text(s, "{\"f\":{\"\":1}}", &err), E_SCHEMA);
  err_clear(&err);
  cr_assert_eq(validate_text(s, "{\"f\":{\"caf\\u00e9\":1}}", &err), E_SCHEMA);
  cr_assert(strstr(err.details[0].message, "printable ASCII"));
  err_clear(&err);
  cr_assert_eq(validate_text(s, "{\"_secret\":1}", &err), E_SCHEMA);
  cr_assert(strstr(err.details[0].message, "reserved"), "%s", err.details[0].message);
  err_clear(&err);
  schema_free(s);
}

Test(validate, system_fields)
{
  struct schema *s = any_table();
  struct err err = ERR_INIT;
  struct id_resolver r = {names, NULL};
  json_t *doc = tu_json("{}");
  cr_assert_eq(schema_validate(s, "t", doc, &r, VALIDATE_SYSTEM_FIELDS, &err), E_SCHEMA);
  cr_assert_eq(err.ndetails, 2);
  cr_assert_str_eq(err.details[0].path, "t._id");
  err_clear(&err);
  json_decref(doc);
  cr_assert_eq(schema_validate(s, "nope", NULL, &r, 0, &err), E_NOTFOUND);
  err_clear(&err);
  schema_free(s);
}
