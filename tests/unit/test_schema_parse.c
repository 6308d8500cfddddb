/* Tests of the schema language parser (schema/schema_parse, schema_expr):
 * every construct it accepts, every error with its file:line:column, the
 * multi-file built-in schemas, and print-then-parse identity. */
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n"

static void assert_roundtrip(const struct schema *s)
{
  char *text = schema_print(s);
  cr_assert(text);
  struct schema *again = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_parse_text(text, strlen(text), "printed.ts", &again, &err), 0,
               "printed schema does not parse: %s %s\n%s", err.where, err.msg, text);
  cr_assert_eq(again->ntables, s->ntables);
  for (size_t i = 0; i < s->ntables; i++) {
    cr_assert_str_eq(again->tables[i].name, s->tables[i].name);
    cr_assert(validator_equal(again->tables[i].doc, s->tables[i].doc), "table %s differs", s->tables[i].name);
    cr_assert_eq(again->tables[i].nindexes, s->tables[i].nindexes);
    for (size_t j = 0; j < s->tables[i].nindexes; j++) {
      cr_assert_str_eq(again->tables[i].indexes[j].name, s->tables[i].indexes[j].name);
      cr_assert_eq(again->tables[i].indexes[j].nfields, s->tables[i].indexes[j].nfields);
    }
  }
  char *text2 = schema_print(again);
  cr_assert_str_eq(text, text2, "printing is not canonical");
  one_free(text);
  one_free(text2);
  schema_free(again);
}

Test(schema_parse, every_validator_kind)
{
  struct schema *s = tu_schema(HEADER
    "export default defineSchema({\n"
    "  t: defineTable({\n"
    "    a: v.string(), b: v.number(), c: v.float64(), d: v.int64(), e: v.bigint(),\n"
    "    f: v.boolean(), g: v.bytes(), h: v.null(), i: v.any(), j: v.id(\"t\"),\n"
    "    k: v.literal(\"x\"), l: v.literal(-3), m: v.literal(4n), n: v.literal(true),\n"
    "    o: v.array(v.string()), p: v.object({ q: v.optional(v.string()) }),\n"
    "    r: v.record(v.string(), v.number()), s: v.union(v.string(), v.null()),\n"
    "    u: v.optional(v.nullable(v.number())), 'quoted-name': v.string(),\n"
    "  }),\n"
    "});\n");
  const struct table_def *t = schema_table(s, "t");
  cr_assert(t);
  cr_assert_eq(t->doc->kind, VK_OBJECT);
  cr_assert_eq(t->doc->nfields, 20);
  enum vkind kinds[] = {VK_STRING, VK_FLOAT64, VK_FLOAT64, VK_INT64, VK_INT64, VK_BOOLEAN, VK_BYTES,
                        VK_NULL, VK_ANY, VK_ID, VK_LITERAL, VK_LITERAL, VK_LITERAL, VK_LITERAL,
                        VK_ARRAY, VK_OBJECT, VK_RECORD, VK_UNION, VK_UNION, VK_STRING};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    cr_assert_eq(t->doc->fields[i].type->kind, kinds[i], "field %s", t->doc->fields[i].name);
  cr_assert(json_is_integer(t->doc->fields[12].type->literal), "4n is an int64 literal");
  cr_assert(t->doc->fields[18].optional);
  cr_assert_str_eq(t->doc->fields[19].name, "quoted-name");
  assert_roundtrip(s);
  schema_free(s);
}

Test(schema_parse, consts_spreads_fields_and_typescript_noise)
{
  struct schema *s = tu_schema(HEADER
    "import type { Infer } from \"convex/values\";\n"
    "import { Id } from \"./_generated/dataModel\";\n"
    "/* block comment */\n"
    "const common = { name: v.string(), // trailing comment\n"
    "  tags: v.array(v.string()), };\n"
    "export const shape = v.object({ ...common, kind: v.literal(\"a\") });\n"
    "const other = v.object({ ...shape.fields, extra: v.optional(v.number()) });\n"
    "export type Shape = Infer<typeof shape>;\n"
    "interface Foo { a: string; b: { c: number } }\n"
    "type Union = 'a' | 'b'\n"
    "const names = [\"name\"] as const;\n"
    "let kinds: Validator<any> = v.union(shape, other)\n"
    "const tables = { first: defineTable(shape).index(\"by_name\", [\"name\"]) };\n"
    "export { common, other as renamed };\n"
    "export default defineSchema({\n"
    "  ...tables,\n"
    "  second: defineTable(kinds),\n"
    "  third: defineTable(v.object({ x: v.string() })).index(\"by_x\", [\"x\"]).index(\"by_x2\", [\"x\"]),\n"
    "}, { schemaValidation: true, strictTableNameTypes: false });\n");
  cr_assert_eq(s->ntables, 3);
  cr_assert_str_eq(s->tables[0].name, "first");
  cr_assert_eq(s->tables[0].doc->nfields, 3);
  cr_assert_str_eq(s->tables[0].indexes[0].name, "by_name");
  cr_assert_eq(s->tables[1].doc->kind, VK_UNION);
  cr_assert_eq(s->tables[1].doc->members[1]->nfields, 4);
  cr_assert(s->tables[1].doc->members[1]->fields[3].optional);
  cr_assert_eq(s->tables[2].nindexes, 2);
  assert_roundtrip(s);
  schema_free(s);
}

Test(schema_parse, later_keys_override_earlier_ones_as_in_javascript)
{
  struct schema *s = tu_schema(HEADER
    "const base = { a: v.string(), b: v.string() };\n"
    "export default defineSchema({ t: defineTable({ ...base, a: v.number() }) });\n");
  const struct validator *doc = s->tables[0].doc;
  cr_assert_eq(doc->nfields, 2);
  cr_assert_str_eq(doc->fields[0].name, "a");
  cr_assert_eq(doc->fields[0].type->kind, VK_FLOAT64);
  schema_free(s);
}

Test(schema_parse, builtin_legacy_schema_spans_files)
{
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("agent-inbox", &s, &err), 0, "%s %s", err.where, err.msg);
  const char *tables[] = {"users", "authSessions", "authAccounts", "authRefreshTokens",
                          "authVerificationCodes", "authVerifiers", "authRateLimits",
                          "conversations", "agents", "conversationParticipants",
                          "conversationMessages"};
  cr_assert_eq(s->ntables, sizeof tables / sizeof tables[0]);
  for (size_t i = 0; i < s->ntables; i++)
    cr_assert_str_eq(s->tables[i].name, tables[i]);
  const struct table_def *agents = schema_table(s, "agents");
  cr_assert_eq(agents->doc->kind, VK_UNION);
  cr_assert_eq(agents->doc->nmembers, 2);
  cr_assert(table_index(agents, "by_system_agent_kind"));
  const struct table_def *p = schema_table(s, "conversationParticipants");
  cr_assert_eq(p->nindexes, 6);
  assert_roundtrip(s);
  schema_free(s);
}

Test(schema_parse, builtin_one_schema_has_every_table)
{
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("one", &s, &err), 0, "%s %s", err.where, err.msg);
  const char *tables[] = {"users", "groups", "groupMembers", "agents", "tools", "agentTools",
                          "prompts", "attachments", "knowledge", "tags", "conversations",
                          "conversationParticipants", "conversationMessages", "reactions",
                          "comments", "follows", "events", "reminders", "learningFlows",
                          "assignments", "progress", "products", "broadcasts",
                          "inferenceUsage", "evals", "courses", "lessons", "enrollments",
                          "tasks"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
    cr_assert(schema_table(s, tables[i]), "ONE schema lacks %s", tables[i]);
  const struct table_def *m = schema_table(s, "conversationMessages");
  cr_assert(m->doc->kind == VK_OBJECT);
  assert_roundtrip(s);
  schema_free(s);
}

Test(schema_parse, folder_on_disk_with_relative_imports)
{
  char *dir = tu_tmpdir();
  tu_write(dir, "convex/schema.ts", HEADER
           "import { agentFields } from \"./agents/schema\";\n"
           "import shared from \"./shared.js\";\n"
           "export default defineSchema({ agents: defineTable(v.object(agentFields)), s: shared });\n");
  tu_write(dir, "convex/agents/schema.ts",
           "import { v } from \"convex/values\";\nimport { tag } from \"../tags\";\n"
           "export const agentFields = { name: v.string(), tag };\n");
  tu_write(dir, "convex/tags/index.ts",
           "import { v } from \"convex/values\";\nexport const tag = v.optional(v.string());\n");
  tu_write(dir, "convex/shared.ts", "import { defineTable } from \"convex/server\";\n"
           "import { v } from \"convex/values\";\n"
           "const t = defineTable({ a: v.string() });\nexport default t;\n");
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/convex", dir) > 0);
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load(path, &s, &err), 0, "%s %s", err.where, err.msg);
  cr_assert_eq(s->ntables, 2);
  cr_assert(s->tables[0].doc->fields[1].optional);
  schema_free(s);
  free(path);
  tu_rmdir(dir);
  free(dir);
}

struct bad_case {
  const char *src;
  const char *where;   /* expected "test.ts:L:C" */
  const char *message; /* a part of the message */
};

Test(schema_parse, errors_name_file_line_and_column)
{
  static const struct bad_case cases[] = {
    {HEADER "export default defineSchema({ t: defineTable({ a: v.strin() }) });", "test.ts:3:53", "unknown validator v.strin"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string( }) });", "test.ts:3:61", "unexpected '}'"},
    {HEADER "export default defineSchema({ t: defineTable({ a: x }) });", "test.ts:3:51", "unknown name 'x'"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.optional(v.string()).x }) });", "test.ts:3:74", "has no member"},
    {HEADER "export default defineSchema({ t: defineTable(v.string()) });", "test.ts:3:46", "defineTable expects"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.array(v.optional(v.string())) }) });", "test.ts:3:59", "only as the type of an object field"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string() }).index(\"i\", [\"b\"]) });", "test.ts:3:77", "does not have"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string() }).index(\"i\", [\"a\"]).index(\"i\", [\"a\"]) });", "test.ts:3:89", "duplicate index"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string() }).index(\"i\", [\"_creationTime\"]) });", "test.ts:3:77", "_creationTime"},
    {HEADER "export default defineSchema({ _t: defineTable({ a: v.string() }) });", "test.ts:3:35", "invalid table name"},
    {HEADER "export default defineSchema({ t: defineTable({ $a: v.string() }) });", "test.ts:3:48", "invalid field name"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.literal([1]) }) });", "test.ts:3:61", "v.literal expects"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.id(5) }) });", "test.ts:3:56", "table name string"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string() }).searchIndex(\"s\", {}) });", "test.ts:3:65", "not supported"},
    {HEADER "export default defineSchema({ t: 5 });", "test.ts:3:34", "must be a defineTable"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.union() }) });", "test.ts:3:51", "at least one member"},
    {HEADER "import { z } from \"zod\";", "test.ts:3:10", "cannot import from 'zod'"},
    {HEADER "import { x } from \"./missing\";", "test.ts:3:19", "cannot find module './missing'"},
    {HEADER "const a = v.string();\nconst a = v.number();", "test.ts:4:7", "already declared"},
    {HEADER "function f() {}", "test.ts:3:1", "not supported here"},
    {HEADER "const s = \"unterminated;\n", "test.ts:3:11", "unterminated string"},
    {HEADER "/* never closed", "test.ts:3:1", "unterminated comment"},
    {HEADER "const a = `x${y}`;", "test.ts:3:13", "substitutions"},
    {HEADER "const a = v.string;", "test.ts:3:11", "must be called"},
    {HEADER "export default defineSchema({ t: defineTable({ a: v.string() }) }, { schemaValidation: false });", "test.ts:3:88", "unsupported defineSchema option"},
    {HEADER "const a = v.string();", "test.ts", "no `export default defineSchema"},
    {HEADER "export default v.string();", "test.ts:3:16", "must be defineSchema"},
    {HEADER "const a = 1 # 2;", "test.ts:3:13", "expected a declaration"},
    {HEADER "const a = \x01;", "test.ts:3:11", "unexpected character"},
    {HEADER "import type { Infer } from \"convex/values\";\nconst a = Infer;", "test.ts:4:11", "is a type"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct schema *s = NULL;
    struct err err = ERR_INIT;
    int rc = schema_parse_text(cases[i].src, strlen(cases[i].src), "test.ts", &s, &err);
    cr_assert_neq(rc, 0, "case %zu parsed but should not:\n%s", i, cases[i].src);
    cr_assert_null(s);
    cr_assert_str_eq(err.where, cases[i].where, "case %zu: at %s, want %s (%s)", i, err.where,
                     cases[i].where, err.msg);
    cr_assert(strstr(err.msg, cases[i].message), "case %zu: message '%s' lacks '%s'", i, err.msg,
              cases[i].message);
    err_clear(&err);
  }
}

Test(schema_parse, import_cycles_are_refused)
{
  char *dir = tu_tmpdir();
  tu_write(dir, "schema.ts", "import { a } from \"./a\";\n");
  tu_write(dir, "a.ts", "import { b } from \"./b\";\nexport const a = 1;\n");
  tu_write(dir, "b.ts", "import { a } from \"./a\";\nexport const b = 1;\n");
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_neq(schema_load(dir, &s, &err), 0);
  cr_assert(strstr(err.msg, "import cycle"), "%s", err.msg);
  err_clear(&err);
  tu_rmdir(dir);
  free(dir);
}

Test(schema_parse, unknown_builtin_name_lists_the_known_ones)
{
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("no-such-schema", &s, &err), E_NOTFOUND);
  cr_assert(strstr(err.msg, "agent-inbox") && strstr(err.msg, "one"), "%s", err.msg);
  err_clear(&err);
}

Test(schema_parse, json_form)
{
  struct schema *s = tu_schema(HEADER "export default defineSchema({ t: defineTable({ a: v.optional(v.int64()), b: v.id(\"t\") }).index(\"by_b\", [\"b\"]) });");
  json_t *j = schema_to_json(s);
  char *text = jv_dumps(j);
  cr_assert(strstr(text, "\"tableName\":\"t\""), "%s", text);
  cr_assert(strstr(text, "{\"fieldType\":{\"type\":\"bigint\"},\"optional\":true}"), "%s", text);
  cr_assert(strstr(text, "[\"b\",\"_creationTime\"]"), "%s", text);
  one_free(text);
  json_decref(j);
  schema_free(s);
}

Test(schema_parse, strings_must_be_utf8_and_table_names_valid)
{
  static const char *bad[] = {
    HEADER "export default defineSchema({ t: defineTable({ a: v.id(\"us\xff\xff\" \"ers\") }) });",
    HEADER "export default defineSchema({ t: defineTable({ a: v.literal(\"\xc0\xaf\") }) });",
    HEADER "export default defineSchema({ t: defineTable({ a: v.literal(\"\xed\xa0\x80\") }) });",
    HEADER "export default defineSchema({ t: defineTable({ a: v.id(\"two words\") }) });",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct schema *s = NULL;
    struct err err = ERR_INIT;
    cr_assert_eq(schema_parse_text(bad[i], strlen(bad[i]), "test.ts", &s, &err), E_PARSE, "case %zu", i);
    cr_assert(strstr(err.msg, "UTF-8") || strstr(err.msg, "not a valid table name"), "%s", err.msg);
    err_clear(&err);
  }
  struct schema *s = tu_schema(HEADER "export default defineSchema({ t: defineTable({ a: v.literal(\"caf\xc3\xa9 \\u00e9 \\u{1F600}\") }) });");
  schema_free(s);
}

Test(schema_parse, nesting_limits_protect_the_stack)
{
  /* an expression 10,000 brackets deep */
  size_t n = 10000;
  char *deep = malloc(n * 2 + 256);
  char *p = deep + sprintf(deep, "%sconst a = ", HEADER);
  for (size_t i = 0; i < n; i++)
    *p++ = '[';
  for (size_t i = 0; i < n; i++)
    *p++ = ']';
  *p = '\0';
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_parse_text(deep, strlen(deep), "test.ts", &s, &err), E_PARSE);
  cr_assert(strstr(err.msg, "expression nested deeper than"), "%s", err.msg);
  err_clear(&err);
  free(deep);
  /* a validator made deep through a chain of consts, each one shallow */
  char *chain = malloc(200 * 64 + 512);
  p = chain + sprintf(chain, "%sconst a0 = v.string();\n", HEADER);
  for (int i = 1; i < 200; i++)
    p += sprintf(p, "const a%d = v.array(a%d);\n", i, i - 1);
  sprintf(p, "export default defineSchema({ t: defineTable({ f: a199 }) });\n");
  cr_assert_eq(schema_parse_text(chain, strlen(chain), "test.ts", &s, &err), E_PARSE);
  cr_assert(strstr(err.msg, "validator nested deeper than 64"), "%s", err.msg);
  cr_assert_str_eq(err.where, "test.ts:67:13", "reported where the 65th level is built: %s", err.where);
  err_clear(&err);
  free(chain);
}
