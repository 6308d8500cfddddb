/* Unit tests of the checks every request makes, on one thread, where the
 * documents are found again by the ids the last check hinted: a
 * signed-out session, a revoked token, a changed role, a removed account
 * and a participant who left must all be seen at once, as the index
 * lookups would see them. */
#include "domain/accounts.h"
#include "domain/conversations.h"
#include "domain/op.h"
#include "schema/schema.h"
#include "store/store.h"
#include "testutil.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct store *st;

static void setup(void)
{
  dir = tu_tmpdir();
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/a.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF};
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &st, &err), 0, "%s", err.msg);
  tu_set_latest(st);
  free(path);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(accounts, .init = setup, .fini = teardown);

static void create(const char *email, char user[CID_MAX])
{
  struct account_new a = {email, NULL, "correct horse battery", 0};
  struct err err = ERR_INIT;
  cr_assert_eq(account_create(st, &a, user, &err), 0, "%s", err.msg);
}

static void sign_in(const char *email, char token[TOKEN_MAX])
{
  struct signin in = {email, "correct horse battery", "127.0.0.1", NULL};
  struct actor who;
  unsigned retry = 0;
  struct err err = ERR_INIT;
  cr_assert_eq(account_signin(st, &in, token, &who, NULL, &retry, &err), 0, "%s", err.msg);
}

/* account_authenticate's code, with who.admin in *admin. */
static int auth(const char *token, int *admin)
{
  struct actor who;
  struct err err = ERR_INIT;
  int rc = account_authenticate(st, token, &who, &err);
  if (admin)
    *admin = who.admin;
  err_clear(&err);
  return rc;
}

Test(accounts, a_signed_out_session_ends_at_once)
{
  char user[CID_MAX], token[TOKEN_MAX];
  create("ann@example.org", user);
  sign_in("ann@example.org", token);
  for (int i = 0; i < 3; i++) /* found, then found by its hint */
    cr_assert_eq(auth(token, NULL), 0);
  struct err err = ERR_INIT;
  cr_assert_eq(account_signout(st, token, &err), 0, "%s", err.msg);
  cr_expect_eq(auth(token, NULL), E_AUTH);
}

Test(accounts, a_changed_role_is_seen_at_once)
{
  char user[CID_MAX], token[TOKEN_MAX];
  create("bob@example.org", user);
  sign_in("bob@example.org", token);
  int admin = -1;
  cr_assert_eq(auth(token, &admin), 0);
  cr_expect_eq(admin, 0);
  struct err err = ERR_INIT;
  cr_assert_eq(account_set_role(st, "bob@example.org", 1, &err), 0, "%s", err.msg);
  cr_assert_eq(auth(token, &admin), 0);
  cr_expect_eq(admin, 1, "promoted");
  cr_assert_eq(account_set_role(st, "bob@example.org", 0, &err), 0, "%s", err.msg);
  cr_assert_eq(auth(token, &admin), 0);
  cr_expect_eq(admin, 0, "demoted");
}

static int delete_doc(struct store_tx *tx, void *arg, struct err *err)
{
  return store_delete(tx, arg, err);
}

static int find_account(struct store_tx *tx, void *arg, struct err *err)
{
  char **out = arg;
  json_t *eq = json_pack("[s]", out[0]);
  struct store_query q = {.table = "accounts", .index = "by_user", .eq = eq, .limit = 1};
  struct store_page page;
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  if (rc == 0 && json_array_size(page.docs))
    out[1] = strdup(json_string_value(json_object_get(json_array_get(page.docs, 0), "_id")));
  store_page_release(&page);
  return rc;
}

Test(accounts, a_removed_account_and_a_revoked_token_end_at_once)
{
  char user[CID_MAX], token[TOKEN_MAX], api[TOKEN_MAX];
  create("cid@example.org", user);
  sign_in("cid@example.org", token);
  struct actor who;
  struct err err = ERR_INIT;
  cr_assert_eq(account_authenticate(st, token, &who, &err), 0, "%s", err.msg);
  json_t *doc = NULL;
  cr_assert_eq(token_create(st, &who, "bot", api, &doc, &err), 0, "%s", err.msg);
  const char *api_id = json_string_value(json_object_get(doc, "_id"));
  cr_assert_eq(auth(api, NULL), 0);
  cr_assert_eq(auth(api, NULL), 0);
  cr_assert_eq(token_revoke(st, &who, api_id, &err), 0, "%s", err.msg);
  cr_expect_eq(auth(api, NULL), E_AUTH, "a revoked token");
  json_decref(doc);
  /* the session's account removed behind its back */
  char *ids[2] = {user, NULL};
  cr_assert_eq(store_run(st, STORE_READ, find_account, ids, &err), 0, "%s", err.msg);
  cr_assert(ids[1]);
  cr_assert_eq(auth(token, NULL), 0);
  cr_assert_eq(store_run(st, STORE_WRITE, delete_doc, ids[1], &err), 0, "%s", err.msg);
  cr_expect_eq(auth(token, NULL), E_AUTH, "a session whose account is gone");
  free(ids[1]);
}

/* messages_list as who on conv: its code. */
static int list_as(const struct actor *who, const char *conv)
{
  struct op op = {.who = who, .id = conv};
  struct err err = ERR_INIT;
  int rc = messages_list(st, &op, &err);
  one_free(op.text);
  json_decref(op.out);
  err_clear(&err);
  return rc;
}

Test(accounts, a_participant_who_left_is_refused_at_once)
{
  char ann_id[CID_MAX], bob_id[CID_MAX];
  create("ann@example.org", ann_id);
  create("bob@example.org", bob_id);
  struct actor ann = {0}, bob = {0};
  snprintf(ann.user, sizeof ann.user, "%s", ann_id);
  snprintf(bob.user, sizeof bob.user, "%s", bob_id);
  struct err err = ERR_INIT;
  json_t *in = json_pack("{s:s}", "title", "Hints");
  struct op create_op = {.who = &ann, .in = in};
  cr_assert_eq(conversations_create(st, &create_op, &err), 0, "%s", err.msg);
  char conv[CID_MAX];
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(create_op.out, "_id")));
  json_decref(create_op.out);
  json_decref(in);
  cr_expect_eq(list_as(&bob, conv), E_NOTFOUND, "not yet a participant");
  in = json_pack("{s:s,s:s}", "kind", "user", "userId", bob_id);
  struct op add = {.who = &ann, .id = conv, .in = in};
  cr_assert_eq(participants_add(st, &add, &err), 0, "%s", err.msg);
  json_decref(add.out);
  json_decref(in);
  for (int i = 0; i < 3; i++) /* found, then found by its hint */
    cr_assert_eq(list_as(&bob, conv), 0);
  struct op leave = {.who = &bob, .id = conv};
  cr_assert_eq(participants_leave(st, &leave, &err), 0, "%s", err.msg);
  json_decref(leave.out);
  cr_expect_eq(list_as(&bob, conv), E_NOTFOUND, "left");
  cr_expect_eq(list_as(&ann, conv), 0);
}
