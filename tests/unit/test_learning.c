/* Tests of learning progress and assignments (domain/learning.c): the state
 * machine's transitions and refusals, the timestamps each sets or drops,
 * unknown states and steps, and assignments whose role changes in place. */
#include "domain/dq.h"
#include "domain/learning.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct store *st;
static char flow[CID_MAX], user[CID_MAX];

static int setup_tx(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  struct schema *sc = NULL;
  int rc = schema_load("one", &sc, err);
  if (!rc)
    rc = store_set_schema(tx, "one", sc, err);
  schema_free(sc);
  json_t *u = tu_json("{\"name\":\"Ann\",\"email\":\"ann@example.org\",\"createdAt\":1.0}");
  json_t *f = tu_json("{\"title\":\"Elevate\",\"createdAt\":1.0,\"steps\":["
                      "{\"stepName\":\"Foundation\",\"order\":1.0},{\"stepName\":\"Hook\",\"order\":2.0}]}");
  if (!rc)
    rc = store_insert(tx, "users", u, 0, user, err);
  if (!rc)
    rc = store_insert(tx, "learningFlows", f, 0, flow, err);
  json_decref(u);
  json_decref(f);
  return rc;
}

static void setup(void)
{
  dir = tu_tmpdir();
  char path[4200];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF};
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&so, &st, &err), 0, "%s", err.msg);
  cr_assert_eq(store_run(st, STORE_WRITE, setup_tx, NULL, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(learning, .init = setup, .fini = teardown);

struct move {
  struct progress_change c;
  json_t *row;
  int rc;
  struct err err;
};

static int move_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct move *m = arg;
  m->rc = learning_progress_set(tx, &m->c, &m->row, &m->err);
  (void)err;
  return 0;
}

/* Moves Ann's step to status; returns the code, *row the progress (or NULL). */
static int move(const char *step, const char *status, json_t **row, char *why, size_t n)
{
  struct move m = {{flow, step, user, NULL, status, NULL}, NULL, 0, ERR_INIT};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, move_tx, &m, &err), 0, "%s", err.msg);
  if (why)
    snprintf(why, n, "%s", m.err.msg);
  err_clear(&m.err);
  if (row)
    *row = m.row;
  else
    json_decref(m.row);
  return m.rc;
}

Test(learning, a_step_goes_through_its_states_with_its_timestamps)
{
  json_t *r = NULL;
  cr_assert_eq(move("Foundation", "In Progress", &r, NULL, 0), 0);
  cr_expect_str_eq(dq_str(r, "status"), "In Progress");
  cr_expect(json_object_get(r, "startedAt") && !json_object_get(r, "completedAt"));
  double started = dq_num(r, "startedAt", 0);
  json_decref(r);
  cr_assert_eq(move("Foundation", "Completed", &r, NULL, 0), 0);
  cr_expect(json_object_get(r, "completedAt"), "completed at a time");
  cr_expect_eq(dq_num(r, "startedAt", 0), started, "its start stays");
  json_decref(r);
  cr_assert_eq(move("Foundation", "In Progress", &r, NULL, 0), 0, "reopened");
  cr_expect_null(json_object_get(r, "completedAt"), "a reopened step is not completed");
  json_decref(r);
  cr_assert_eq(move("Foundation", "Not Started", &r, NULL, 0), 0);
  cr_expect(!json_object_get(r, "startedAt") && !json_object_get(r, "completedAt"));
  json_decref(r);
}

Test(learning, transitions_the_machine_refuses_say_why)
{
  char why[600];
  cr_assert_eq(move("Hook", "Completed", NULL, why, sizeof why), E_CONFLICT,
               "a step is started before it is completed");
  cr_expect(strstr(why, "a step that is Not Started cannot become Completed"), "%s", why);
  cr_assert_eq(move("Hook", "In Progress", NULL, NULL, 0), 0);
  cr_assert_eq(move("Hook", "Completed", NULL, NULL, 0), 0);
  cr_expect_eq(move("Hook", "Skipped", NULL, why, sizeof why), E_CONFLICT);
  cr_expect(strstr(why, "a step that is Completed cannot become Skipped (reopen it: In Progress)"),
            "%s", why);
  cr_expect_eq(move("Hook", "Completed", NULL, NULL, 0), 0, "where it is already: no change");
  cr_expect_eq(move("Hook", "Done", NULL, why, sizeof why), E_SCHEMA);
  cr_expect(strstr(why, "'Done' is not a state"), "%s", why);
  cr_expect_eq(move("Upsell", "In Progress", NULL, why, sizeof why), E_NOTFOUND);
  cr_expect(strstr(why, "the flow has no step 'Upsell'"), "%s", why);
  cr_expect_eq(move("Hook", "Blocked", NULL, NULL, 0), E_CONFLICT);
  cr_expect_eq(move("Foundation", "Blocked", NULL, NULL, 0), 0, "a step not started may block");
  cr_expect_eq(move("Foundation", "Skipped", NULL, NULL, 0), 0);
  cr_expect_eq(move("Foundation", "In Progress", NULL, NULL, 0), 0);
}

struct assign {
  const char *role;
  json_t *row;
  int rc;
};

static int assign_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct assign *a = arg;
  struct err e = ERR_INIT;
  a->rc = learning_assign(tx, flow, "Hook", user, NULL, a->role, NULL, &a->row, &e);
  err_clear(&e);
  (void)err;
  return 0;
}

Test(learning, an_assignment_changes_its_role_in_place)
{
  struct assign a = {"owner", NULL, 0};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, assign_tx, &a, &err), 0);
  cr_assert_eq(a.rc, 0);
  char first[CID_MAX];
  snprintf(first, sizeof first, "%s", dq_str(a.row, "_id"));
  json_decref(a.row);
  struct assign b = {"reviewer", NULL, 0};
  cr_assert_eq(store_run(st, STORE_WRITE, assign_tx, &b, &err), 0);
  cr_assert_eq(b.rc, 0);
  cr_expect_str_eq(dq_str(b.row, "_id"), first, "the same assignment");
  cr_expect_str_eq(dq_str(b.row, "role"), "reviewer");
  json_decref(b.row);
  struct assign c = {"boss", NULL, 0};
  cr_assert_eq(store_run(st, STORE_WRITE, assign_tx, &c, &err), 0);
  cr_expect_eq(c.rc, E_SCHEMA);
}
