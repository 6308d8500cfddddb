/* Tests of `one import` and `one export` as a user runs them, on snapshots
 * from the fixture generator (tests/fixtures/gen_agent_inbox.py), which
 * writes Convex's format independently of ONE's own code. */
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dir;

static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void)
{
  tu_rmdir(dir);
  free(dir);
}

TestSuite(port, .init = setup, .fini = teardown, .timeout = 120);

/* Runs a shell command in the test folder. */
static int sh(const char *fmt, const char *a, const char *b, char **out, char **err)
{
  char *line = NULL, *cmd = NULL;
  cr_assert(asprintf(&line, fmt, a ? a : "", b ? b : "") > 0);
  cr_assert(asprintf(&cmd, "cd '%s' && %s", dir, line) > 0);
  int rc = tu_run(cmd, out, err);
  free(line);
  free(cmd);
  return rc;
}

static int one(const char *db, const char *args, char **out, char **err)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "'%s' --db '%s' %s", ONE_BINARY, db, args) > 0);
  int rc = sh("%s%s", cmd, NULL, out, err);
  free(cmd);
  return rc;
}

static void gen(const char *zip, const char *args)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "python3 '%s/tests/fixtures/gen_agent_inbox.py' '%s' %s 2>/dev/null",
                     ONE_SOURCE_DIR, zip, args) > 0);
  cr_assert_eq(sh("%s%s", cmd, NULL, NULL, NULL), 0, "%s", cmd);
  free(cmd);
}

/* The canonical documents of a snapshot (tests/fixtures/snapshot_docs.py). */
static char *docs(const char *zip, int layout)
{
  char *cmd = NULL, *out = NULL, *err = NULL;
  cr_assert(asprintf(&cmd, "python3 '%s/tests/fixtures/snapshot_docs.py' '%s'%s", ONE_SOURCE_DIR,
                     zip, layout ? " --layout" : "") > 0);
  cr_assert_eq(sh("%s%s", cmd, NULL, &out, &err), 0, "%s: %s", cmd, err);
  free(cmd);
  free(err);
  return out;
}

static int exists(const char *name)
{
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/%s", dir, name) > 0);
  int ok = access(p, F_OK) == 0;
  free(p);
  return ok;
}

Test(port, import_then_export_gives_identical_documents)
{
  gen("in.zip", "--seed 7");
  char *out = NULL, *err = NULL;
  cr_assert_eq(one("a.db", "import in.zip", &out, &err), 0, "%s", err);
  cr_expect(strstr(out, "imported") && strstr(out, "at schema agent-inbox"), "%s", out);
  cr_expect(strstr(out, "featureNotes") && strstr(out, "not in the schema"), "%s", out);
  free(out);
  free(err);
  cr_assert_eq(one("a.db", "export out.zip", NULL, &err), 0, "%s", err);
  free(err);
  char *want = docs("in.zip", 0), *got = docs("out.zip", 1);
  cr_expect(strlen(want) > 10000);
  cr_expect_str_eq(got, want);
  /* and once more: the export imports to the same documents again */
  cr_assert_eq(one("b.db", "import out.zip", NULL, NULL), 0);
  cr_assert_eq(one("b.db", "export again.zip", NULL, NULL), 0);
  char *again = docs("again.zip", 1);
  cr_expect_str_eq(again, want);
  free(want);
  free(got);
  free(again);
}

Test(port, the_legacy_encoding_decodes_to_the_same_values)
{
  gen("uniform.zip", "--seed 3");
  gen("legacy.zip", "--seed 3 --encoding legacy");
  char *err = NULL;
  cr_assert_eq(one("l.db", "import legacy.zip", NULL, &err), 0, "%s", err);
  free(err);
  cr_assert_eq(one("l.db", "export out.zip", NULL, NULL), 0);
  char *want = docs("uniform.zip", 0), *got = docs("out.zip", 1);
  /* int64 beyond 2^53, bytes, NaN with its bits, infinities and -0.0 */
  cr_expect(strstr(want, "-9007199254740993") && strstr(want, "$bytes") &&
            strstr(want, "AAAAAAAA+H8=") && strstr(want, "-0.0"));
  cr_expect_str_eq(got, want);
  free(want);
  free(got);
}

Test(port, imported_tables_keep_numbers_and_unknown_ones_are_listed)
{
  gen("in.zip", "--seed 2 --messages 50");
  cr_assert_eq(one("a.db", "import in.zip --json", NULL, NULL), 0);
  char *out = NULL;
  cr_assert_eq(one("a.db", "db status --json", &out, NULL), 0);
  json_t *st = tu_json(out);
  free(out);
  json_t *tables = json_object_get(st, "tables");
  size_t i;
  json_t *t;
  int seen = 0;
  json_array_foreach(tables, i, t) {
    const char *name = json_string_value(json_object_get(t, "name"));
    json_int_t num = json_integer_value(json_object_get(t, "number"));
    if (strcmp(name, "users") == 0)
      seen += num == 10001;
    if (strcmp(name, "conversationMessages") == 0)
      seen += num == 10011 && json_integer_value(json_object_get(t, "documents")) == 50;
    if (strcmp(name, "featureNotes") == 0)
      seen += num == 10012 && json_is_false(json_object_get(t, "inSchema"));
  }
  cr_expect_eq(seen, 3, "%s", json_dumps(st, 0));
  cr_expect_str_eq(json_string_value(json_object_get(st, "schema")), "agent-inbox");
  json_decref(st);
  /* an imported id is readable as it was */
  char *line = NULL;
  cr_assert_eq(sh("unzip -p in.zip users/documents.jsonl | head -1 | cut -d'\"' -f4", NULL, NULL,
                  &line, NULL), 0);
  line[strcspn(line, "\n")] = '\0';
  char *args = NULL;
  cr_assert(asprintf(&args, "data get %s", line) > 0);
  cr_expect_eq(one("a.db", args, &out, NULL), 0);
  cr_expect(strstr(out, line), "%s", out);
  free(out);
  free(args);
  free(line);
}

/* Replaces line N of ENTRY in in.zip with TEXT. */
static void corrupt(const char *entry, int n, const char *text)
{
  char *cmd = NULL;
  cr_assert(asprintf(&cmd, "mkdir -p x && cd x && unzip -q -o ../in.zip && "
                     "python3 -c \"import sys;p='%s';l=open(p).read().split('\\n');"
                     "l[%d]=sys.argv[1];open(p,'w').write('\\n'.join(l))\" '%s' && "
                     "rm -f ../in.zip && zip -q -r ../in.zip .",
                     entry, n - 1, text) > 0);
  cr_assert_eq(sh("%s%s", cmd, NULL, NULL, NULL), 0, "%s", cmd);
  free(cmd);
}

Test(port, a_malformed_line_names_file_and_line_and_imports_nothing)
{
  gen("in.zip", "--seed 4 --messages 30");
  corrupt("conversations/documents.jsonl", 3, "{\"_id\": oops}");
  char *err = NULL;
  cr_expect_eq(one("a.db", "import in.zip", NULL, &err), 1);
  cr_expect(strstr(err, "conversations/documents.jsonl:3"), "%s", err);
  free(err);
  cr_expect(!exists("a.db"), "a failed import leaves no database behind");
}

Test(port, a_document_the_schema_refuses_names_line_and_path)
{
  gen("in.zip", "--seed 5 --messages 30");
  corrupt("agents/documents.jsonl", 2,
          "{\"_id\":\"k57ega595nbtjf8krt4yz3qn556w65xe\",\"_creationTime\":1720000000000.5,"
          "\"name\":\"x\",\"description\":\"d\",\"personality\":\"p\",\"avatarUrl\":\"u\","
          "\"tools\":[1.5],\"lastActiveTime\":1.0,\"kind\":\"system_agent\","
          "\"systemAgentKind\":\"triage\"}");
  char *err = NULL;
  cr_expect_eq(one("a.db", "import in.zip", NULL, &err), 1);
  cr_expect(strstr(err, "agents/documents.jsonl:2") && strstr(err, "agents.tools[0]"), "%s", err);
  free(err);
  cr_expect(!exists("a.db"));
  /* an _id of another table */
  gen("in.zip", "--seed 5 --messages 30");
  corrupt("agents/documents.jsonl", 1,
          "{\"_id\":\"k178zn5xecn9f5jz1qbvjqpjb96w6shq\",\"_creationTime\":1.5}");
  cr_expect_eq(one("a.db", "import in.zip", NULL, &err), 1);
  cr_expect(strstr(err, "agents/documents.jsonl:1") && strstr(err, "not an id of table agents"),
            "%s", err);
  free(err);
}

Test(port, refusals_are_clear)
{
  gen("in.zip", "--seed 6 --messages 10");
  char *err = NULL;
  cr_assert_eq(one("a.db", "import in.zip", NULL, NULL), 0);
  /* into a database that holds data */
  cr_expect_eq(one("a.db", "import in.zip", NULL, &err), 1);
  cr_expect(strstr(err, "already holds data"), "%s", err);
  free(err);
  cr_expect(exists("a.db"), "a refused import leaves an existing database alone");
  /* over an existing file */
  cr_assert_eq(one("a.db", "export out.zip", NULL, NULL), 0);
  cr_expect_eq(one("a.db", "export out.zip", NULL, &err), 1);
  cr_expect(strstr(err, "already exists"), "%s", err);
  free(err);
  /* not a zip, a missing file, stored files, components */
  cr_assert_eq(sh("echo hello > not.zip", NULL, NULL, NULL, NULL), 0);
  cr_expect_eq(one("b.db", "import not.zip", NULL, &err), 1);
  cr_expect(strstr(err, "not.zip"), "%s", err);
  free(err);
  cr_expect_eq(one("b.db", "import missing.zip", NULL, &err), 1);
  cr_expect(strstr(err, "missing.zip"), "%s", err);
  free(err);
  cr_assert_eq(sh("mkdir -p s/_storage && echo x > s/_storage/abc && cp in.zip st.zip && "
                  "cd s && zip -q -r ../st.zip .", NULL, NULL, NULL, NULL), 0);
  cr_expect_eq(one("b.db", "import st.zip", NULL, &err), 1);
  cr_expect(strstr(err, "stored files"), "%s", err);
  free(err);
  cr_assert_eq(sh("mkdir -p c/_components/auth/users && echo > c/_components/auth/users/"
                  "documents.jsonl && cp in.zip co.zip && cd c && zip -q -r ../co.zip .",
                  NULL, NULL, NULL, NULL), 0);
  cr_expect_eq(one("b.db", "import co.zip", NULL, &err), 1);
  cr_expect(strstr(err, "component"), "%s", err);
  free(err);
  cr_expect(!exists("b.db"));
  cr_expect_eq(one("b.db", "import", NULL, NULL), 2);
}
