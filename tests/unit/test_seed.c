/* Tests of the seed (agents/seed.c): the whole team, tools, prompts and
 * flow on a new database; a second run that creates nothing; a Director
 * that exists already (as the migration makes it) completed, not doubled,
 * and its own fields kept; a refusal before the ONE schema is in force. */
#include "agents/seed.h"
#include "domain/dq.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct store *st;

static int set_schema_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct schema *sc = NULL;
  int rc = schema_load(arg, &sc, err);
  if (!rc)
    rc = store_set_schema(tx, arg, sc, err);
  schema_free(sc);
  return rc;
}

static void open_at(const char *schema)
{
  dir = tu_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF};
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&so, &st, &err), 0, "%s", err.msg);
  cr_assert_eq(store_run(st, STORE_WRITE, set_schema_tx, (void *)schema, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(seed, .fini = teardown);

static int count_tx(struct store_tx *tx, void *arg, struct err *err)
{
  void **a = arg;
  return store_count(tx, a[0], a[1], err);
}

static int64_t count(const char *table)
{
  int64_t n = 0;
  void *a[2] = {(void *)table, &n};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_READ, count_tx, a, &err), 0, "%s", err.msg);
  return n;
}

struct found {
  const char *name;
  json_t *doc;
};

static int director_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct found *f = arg;
  return dq_first_str(tx, "agents", "by_name", f->name, &f->doc, err);
}

static json_t *agent(const char *name)
{
  struct found f = {name, NULL};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_READ, director_tx, &f, &err), 0, "%s", err.msg);
  return f.doc;
}

Test(seed, seeds_the_team_once)
{
  open_at("one");
  struct seed_report r;
  struct err err = ERR_INIT;
  cr_assert_eq(seed_run(st, &r, &err), 0, "%s", err.msg);
  cr_expect_eq(r.agents, 12);
  cr_expect_eq(r.tools, 18);
  cr_expect_eq(r.prompts, 10, "one template per Elevate step");
  cr_expect_eq(r.flows, 1);
  cr_assert_eq(seed_run(st, &r, &err), 0, "%s", err.msg);
  cr_expect(!r.agents && !r.tools && !r.prompts && !r.flows && !r.agents_completed,
            "a second run creates nothing");
  cr_expect_eq(count("agents"), 12);
  cr_expect_eq(count("learningFlows"), 1);
  json_t *d = agent("Director");
  cr_expect_eq(json_array_size(json_object_get(d, "delegatesTo")), 11, "the Director delegates to all");
  cr_expect_eq(json_array_size(json_object_get(d, "canGuideSteps")), 10);
  cr_expect_gt(strlen(dq_str(d, "prompt")), 200, "a real prompt");
  json_decref(d);
  json_t *s = agent("SEO");
  cr_expect(strstr(dq_str(s, "prompt"), "UK English"));
  json_decref(s);
}

Test(seed, an_existing_director_is_completed_not_doubled)
{
  open_at("one");
  json_t *fields = tu_json("{\"name\":\"Director\",\"description\":\"from the migration\","
                           "\"kind\":\"system_agent\",\"prompt\":\"kept as it was\",\"createdAt\":1.0}");
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_insert(tx, "agents", fields, 0, NULL, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0);
  json_decref(fields);
  struct seed_report r;
  cr_assert_eq(seed_run(st, &r, &err), 0, "%s", err.msg);
  cr_expect_eq(r.agents, 11);
  cr_expect_eq(r.agents_completed, 1);
  json_t *d = agent("Director");
  cr_expect_str_eq(dq_str(d, "prompt"), "kept as it was", "what exists is never changed");
  cr_expect_str_eq(dq_str(d, "description"), "from the migration");
  cr_expect_eq(json_array_size(json_object_get(d, "tools")), 5, "what it lacked is added");
  cr_expect_eq(json_array_size(json_object_get(d, "delegatesTo")), 11);
  json_decref(d);
  cr_expect_eq(count("agents"), 12);
}

Test(seed, needs_the_one_schema)
{
  open_at("agent-inbox");
  struct seed_report r;
  struct err err = ERR_INIT;
  cr_expect_eq(seed_run(st, &r, &err), E_INVALID);
  cr_expect(strstr(err.msg, "run one migrate up first"), "%s", err.msg);
}
