/* Tests of the gap analysis: schema_diff's classes on small schemas, the
 * built-in agent-inbox -> one diff, and `one schema diff --data` counts on
 * an imported fixture checked against counts taken from the fixture itself. */
#include "schema/diff.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct diff_finding *find(const struct schema_diff *d, const char *table,
                                       const char *name)
{
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->f[i].table, table) == 0 && strcmp(d->f[i].name, name) == 0)
      return &d->f[i];
  return NULL;
}

static void expect_class(const struct schema_diff *d, const char *table, const char *name,
                         enum diff_class cls)
{
  const struct diff_finding *f = find(d, table, name);
  cr_expect(f, "no finding for %s.%s", table, name);
  if (f)
    cr_expect_eq(f->cls, cls, "%s.%s: %s, want %s", table, name, diff_class_name(f->cls),
                 diff_class_name(cls));
}

#define HEAD "import { defineSchema, defineTable } from \"convex/server\";\n" \
             "import { v } from \"convex/values\";\nexport default defineSchema({\n"

Test(diff, each_class_on_small_schemas)
{
  struct schema *a = tu_schema(HEAD
    "  t: defineTable({ keep: v.string(), opt: v.optional(v.number()), lit: v.union("
    "v.literal(\"a\"), v.literal(\"b\")), gone: v.boolean(), names: v.array(v.string()),"
    " n: v.number(), same: v.union(v.string(), v.null()) }).index(\"by_keep\", [\"keep\"])"
    ".index(\"by_n\", [\"n\"]),\n"
    "  old: defineTable({ x: v.string() }),\n"
    "  u: defineTable(v.union(v.object({ kind: v.literal(\"p\"), a: v.string() }),"
    " v.object({ kind: v.literal(\"q\") }))),\n});\n");
  struct schema *b = tu_schema(HEAD
    "  t: defineTable({ keep: v.string(), opt: v.number(), lit: v.string(),"
    " names: v.array(v.id(\"old2\")), n: v.string(), same: v.union(v.null(), v.string()),"
    " added: v.optional(v.string()), req: v.boolean() }).index(\"by_keep\", [\"keep\", \"n\"])"
    ".index(\"by_new\", [\"added\"]),\n"
    "  old2: defineTable({ x: v.string() }),\n"
    "  u: defineTable({ kind: v.union(v.literal(\"q\"), v.literal(\"p\")), a: v.string() }),\n"
    "});\n");
  struct schema_diff d;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_diff(a, b, &d, &err), 0, "%s", err.msg);
  expect_class(&d, "t", "opt", DIFF_NARROWING);
  expect_class(&d, "t", "lit", DIFF_WIDENING);
  expect_class(&d, "t", "gone", DIFF_TYPE_CHANGE); /* boolean, and a new boolean: maybe renamed */
  expect_class(&d, "t", "names", DIFF_TYPE_CHANGE);
  expect_class(&d, "t", "n", DIFF_TYPE_CHANGE);
  expect_class(&d, "t", "added", DIFF_SAFE_ADDITION);
  expect_class(&d, "t", "req", DIFF_NARROWING);
  expect_class(&d, "t", "by_keep", DIFF_TYPE_CHANGE);
  expect_class(&d, "t", "by_new", DIFF_SAFE_ADDITION);
  expect_class(&d, "t", "by_n", DIFF_REMOVAL);
  expect_class(&d, "old2", "", DIFF_SAFE_ADDITION);
  expect_class(&d, "old", "", DIFF_REMOVAL);
  /* u: the union's "a" was optional (missing from one shape), now required */
  expect_class(&d, "u", "a", DIFF_NARROWING);
  cr_expect(!find(&d, "t", "keep") && !find(&d, "t", "same") && !find(&d, "u", "kind"),
            "unchanged fields (also unions in another order) are no finding");
  const struct diff_finding *f = find(&d, "t", "names");
  cr_expect_str_eq(f->from, "v.array(v.string())");
  cr_expect_str_eq(f->to, "v.array(v.id(\"old2\"))");
  schema_diff_release(&d);
  schema_free(a);
  schema_free(b);
}

Test(diff, agent_inbox_to_one_finds_what_the_spec_lists)
{
  struct schema *a = NULL, *b = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("agent-inbox", &a, &err), 0);
  cr_assert_eq(schema_load("one", &b, &err), 0);
  struct schema_diff d;
  cr_assert_eq(schema_diff(a, b, &d, &err), 0);
  expect_class(&d, "users", "name", DIFF_NARROWING);
  expect_class(&d, "users", "email", DIFF_NARROWING);
  expect_class(&d, "users", "createdAt", DIFF_NARROWING);
  expect_class(&d, "agents", "tools", DIFF_TYPE_CHANGE);
  expect_class(&d, "agents", "prompt", DIFF_SAFE_ADDITION);
  expect_class(&d, "agents", "avatarUrl", DIFF_WIDENING);
  expect_class(&d, "agents", "lastActiveTime", DIFF_TYPE_CHANGE);
  expect_class(&d, "conversations", "lastMessageTime", DIFF_WIDENING);
  expect_class(&d, "conversationParticipants", "status", DIFF_WIDENING);
  expect_class(&d, "conversationMessages", "authorParticipantId", DIFF_NARROWING);
  expect_class(&d, "authSessions", "", DIFF_REMOVAL);
  static const char *const added[] = {"agentTools", "attachments", "knowledge", "tags",
                                      "reactions", "comments", "follows", "events", "reminders",
                                      "learningFlows", "assignments", "progress", "tools",
                                      "prompts"};
  for (size_t i = 0; i < sizeof added / sizeof added[0]; i++)
    expect_class(&d, added[i], "", DIFF_SAFE_ADDITION);
  schema_diff_release(&d);
  schema_free(a);
  schema_free(b);
}

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void)
{
  tu_rmdir(dir);
  free(dir);
}

/* Counts in the fixture, computed by Python from the snapshot itself. */
static long fixture_count(const char *table, const char *predicate)
{
  char *cmd = NULL, *out = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && python3 -c \"import json,zipfile;z=zipfile.ZipFile("
                     "'in.zip');d=[json.loads(l) for l in z.read('%s/documents.jsonl')."
                     "decode().splitlines() if l];print(sum(1 for x in d if %s))\"",
                     dir, table, predicate) > 0);
  cr_assert_eq(tu_run(cmd, &out, NULL), 0, "%s", cmd);
  long n = atol(out);
  free(cmd);
  free(out);
  return n;
}

Test(diff, data_counts_match_the_fixture, .init = setup, .fini = teardown, .timeout = 120)
{
  char *cmd = NULL, *out = NULL, *err = NULL;
  cr_assert(asprintf(&cmd, "cd '%s' && python3 '%s/tests/fixtures/gen_agent_inbox.py' in.zip "
                     "--seed 11 --users 40 --messages 300 2>/dev/null && '%s' --db a.db import "
                     "in.zip >/dev/null && '%s' --db a.db schema diff agent-inbox one --data "
                     "--json", dir, ONE_SOURCE_DIR, ONE_BINARY, ONE_BINARY) > 0);
  cr_assert_eq(tu_run(cmd, &out, &err), 0, "%s", err);
  json_t *j = tu_json(out);
  struct {
    const char *table, *name, *predicate;
  } want[] = {
    {"users", "name", "'name' not in x"},
    {"users", "email", "'email' not in x"},
    {"users", "createdAt", "True"},
    {"users", "phone", "'phone' in x"},
    {"agents", "tools", "len(x['tools']) > 0"},
    {"agents", "goal", "'goal' in x"},
    {"conversationMessages", "authorParticipantId", "x['kind'] == 'system'"},
    {"authSessions", "", "True"},
    {"featureNotes", "", "True"},
  };
  for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
    long expected = fixture_count(want[k].table, want[k].predicate);
    size_t i;
    json_t *f;
    int seen = 0;
    json_array_foreach(json_object_get(j, "findings"), i, f) {
      if (strcmp(json_string_value(json_object_get(f, "what")), "index") == 0 ||
          strcmp(json_string_value(json_object_get(f, "table")), want[k].table) != 0 ||
          strcmp(json_string_value(json_object_get(f, "name")), want[k].name) != 0)
        continue;
      seen = 1;
      cr_expect_eq(json_integer_value(json_object_get(f, "documents")), expected,
                   "%s.%s: %lld documents, the fixture has %ld", want[k].table, want[k].name,
                   (long long)json_integer_value(json_object_get(f, "documents")), expected);
      cr_expect(expected > 0, "the fixture exercises %s.%s", want[k].table, want[k].name);
    }
    cr_expect(seen, "no finding for %s.%s", want[k].table, want[k].name);
  }
  json_decref(j);
  free(cmd);
  free(out);
  free(err);
}

/* The expanded schema must accept every document of both ends of the
 * migration: from either end to it, only additions and widenings. */
Test(diff, one_expand_accepts_both_shapes)
{
  static const char *const ends[] = {"agent-inbox", "one"};
  struct schema *mid = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("one-expand", &mid, &err), 0, "%s", err.msg);
  for (size_t k = 0; k < 2; k++) {
    struct schema *end = NULL;
    cr_assert_eq(schema_load(ends[k], &end, &err), 0);
    struct schema_diff d;
    cr_assert_eq(schema_diff(end, mid, &d, &err), 0);
    for (size_t i = 0; i < d.n; i++)
      cr_expect(d.f[i].cls == DIFF_SAFE_ADDITION || d.f[i].cls == DIFF_WIDENING,
                "%s -> one-expand: %s.%s is a %s", ends[k], d.f[i].table, d.f[i].name,
                diff_class_name(d.f[i].cls));
    schema_diff_release(&d);
    schema_free(end);
  }
  schema_free(mid);
}
