/* Fault injection: every allocation of a parse, a validation and a store
 * write is made to fail in turn (util/mem's mem_fail_after). Each must fail
 * cleanly with an error (never crash, never leak under ASan), and a store
 * write must land whole or not at all. */
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEPS 200000

Test(faults, schema_parse_survives_every_allocation_failure)
{
  int failures = 0;
  for (long n = 0; n < MAX_STEPS; n++) {
    struct schema *s = NULL;
    struct err err = ERR_INIT;
    mem_fail_after(n);
    int rc = schema_load("agent-inbox", &s, &err);
    mem_fail_after(-1);
    if (rc == 0) {
      cr_assert_eq(s->ntables, 11);
      schema_free(s);
      cr_assert_gt(failures, 100, "the parse should allocate more than 100 times");
      return;
    }
    cr_assert(err.code != 0 && err.msg[0], "failure %ld without a message", n);
    cr_assert_null(s);
    err_clear(&err);
    failures++;
  }
  cr_assert_fail("schema_load never succeeded");
}

Test(faults, validation_survives_every_allocation_failure)
{
  struct schema *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(schema_load("one", &s, &err), 0);
  json_t *doc = tu_json("{\"name\":5,\"email\":\"a\",\"createdAt\":1.0,\"extra\":[1,2],"
                        "\"addresses\":[{\"city\":3}]}");
  for (long n = 0; n < MAX_STEPS; n++) {
    mem_fail_after(n);
    int rc = schema_validate(s, "users", doc, NULL, 0, &err);
    mem_fail_after(-1);
    cr_assert(rc == E_SCHEMA || rc == E_NOMEM, "rc %d", rc);
    if (rc == E_SCHEMA && err.ndetails == 3) {
      err_clear(&err);
      break;
    }
    err_clear(&err);
  }
  json_decref(doc);
  schema_free(s);
}

static int count_users(struct store *st)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  int64_t n = -1;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_count(tx, "users", &n, &err), 0);
  json_t *eq = json_pack("[s]", "same");
  struct store_query q = {.table = "users", .index = "by_name", .eq = eq, .limit = 1000};
  struct store_page page;
  cr_assert_eq(store_query(tx, &q, &page, &err), 0);
  cr_assert_eq((int64_t)json_array_size(page.docs), n, "index and table agree");
  store_page_release(&page);
  json_decref(eq);
  store_rollback(tx);
  return (int)n;
}

Test(faults, store_writes_land_whole_or_not_at_all)
{
  char *dir = tu_tmpdir();
  struct store *st = tu_store(dir,
    "import { defineSchema, defineTable } from \"convex/server\";\n"
    "import { v } from \"convex/values\";\n"
    "export default defineSchema({ users: defineTable({ name: v.string(), n: v.number() })"
    ".index(\"by_name\", [\"name\"]) });\n");
  int landed = 0;
  for (long n = 0; n < MAX_STEPS; n++) {
    struct err err = ERR_INIT;
    struct store_tx *tx = NULL;
    json_t *v = json_pack("{s:s,s:f}", "name", "same", "n", (double)n);
    mem_fail_after(n);
    int rc = store_begin(st, STORE_WRITE, &tx, &err);
    if (!rc) {
      rc = store_insert(tx, "users", v, 0, NULL, &err);
      if (rc)
        store_rollback(tx);
      else
        rc = store_commit(tx, &err);
    }
    mem_fail_after(-1);
    json_decref(v);
    if (!rc)
      landed++;
    else
      cr_assert(err.code != 0, "a failure without an error code");
    err_clear(&err);
    cr_assert_eq(count_users(st), landed, "after failing allocation %ld", n);
    if (!rc)
      break;
  }
  cr_assert_eq(landed, 1);
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}
