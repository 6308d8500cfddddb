/* Unit tests of the kept message pages (domain/pages): a page read again
 * is answered from what was kept only while the change log proves it
 * current; every write that alters it, from this store or another one on
 * the same file (another process, a migration), shows on the next read,
 * exactly as an uncached read renders it. Criterion runs each test in a
 * process of its own, so each starts with an empty cache. */
#include "domain/accounts.h"
#include "domain/conversations.h"
#include "domain/op.h"
#include "domain/pages.h"
#include "schema/schema.h"
#include "store/store.h"
#include "testutil.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir, *path;
static struct store *st, *other; /* other: a second store on the file, as another process */
static struct actor ann;
static char conv[CID_MAX], conv2[CID_MAX];

static void new_conversation(const char *title, char out[CID_MAX])
{
  struct err err = ERR_INIT;
  json_t *in = json_pack("{s:s}", "title", title);
  struct op op = {.who = &ann, .in = in};
  cr_assert_eq(conversations_create(st, &op, &err), 0, "%s", err.msg);
  snprintf(out, CID_MAX, "%s", json_string_value(json_object_get(op.out, "_id")));
  json_decref(op.out);
  json_decref(in);
}

static void setup(void)
{
  dir = tu_tmpdir();
  cr_assert(asprintf(&path, "%s/p.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF};
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &st, &err), 0, "%s", err.msg);
  tu_set_latest(st);
  cr_assert_eq(store_open(&o, &other, &err), 0, "%s", err.msg);
  struct account_new a = {"ann@example.org", NULL, "correct horse battery", 0};
  cr_assert_eq(account_create(st, &a, ann.user, &err), 0, "%s", err.msg);
  new_conversation("Kept", conv);
  new_conversation("Elsewhere", conv2);
}

static void teardown(void)
{
  store_close(other);
  store_close(st);
  tu_rmdir(dir);
  free(dir);
  free(path);
}

TestSuite(pages, .init = setup, .fini = teardown);

/* Sends content to c; its id into id (may be NULL). */
static void send(const char *c, const char *content, char id[CID_MAX])
{
  struct err err = ERR_INIT;
  json_t *in = json_pack("{s:s}", "content", content);
  struct op op = {.who = &ann, .id = c, .in = in};
  cr_assert_eq(messages_send(st, &op, &err), 0, "%s", err.msg);
  json_t *m = op.text ? json_loads(op.text, 0, NULL) : json_incref(op.out);
  cr_assert(m, "the answer is a message");
  if (id)
    snprintf(id, CID_MAX, "%s", json_string_value(json_object_get(m, "_id")));
  json_decref(m);
  json_decref(op.out);
  one_free(op.text);
  json_decref(in);
}

/* The page of c as ann reads it (limit 0: the default), as text (free). */
static char *page(const char *c, size_t limit, const char *cursor)
{
  struct op op = {.who = &ann, .id = c, .limit = limit, .cursor = cursor};
  struct err err = ERR_INIT;
  cr_assert_eq(messages_list(st, &op, &err), 0, "%s", err.msg);
  cr_assert(op.text);
  char *t = strdup(op.text);
  one_free(op.text);
  return t;
}

static unsigned long hits(void)
{
  struct pages_stats s;
  pages_stats(&s);
  return s.hits;
}

/* The contents of the page's items, newest first, joined by '|'. */
static char *contents(const char *text)
{
  json_t *doc = json_loads(text, 0, NULL);
  cr_assert(doc, "a page is JSON: %s", text);
  json_t *items = json_object_get(doc, "items");
  char *out = calloc(1, 1);
  size_t i;
  json_t *m;
  json_array_foreach(items, i, m) {
    const char *c = json_string_value(json_object_get(m, "content"));
    char *next = NULL;
    cr_assert(asprintf(&next, "%s%s%s", out, i ? "|" : "", c ? c : "?") > 0);
    free(out);
    out = next;
  }
  json_decref(doc);
  return out;
}

static void expect_contents(const char *c, const char *want)
{
  char *t = page(c, 0, NULL), *got = contents(t);
  cr_expect_str_eq(got, want);
  free(got);
  free(t);
}

Test(pages, a_page_read_again_is_answered_from_what_was_kept)
{
  send(conv, "one", NULL);
  send(conv, "two", NULL);
  unsigned long h0 = hits();
  char *a = page(conv, 0, NULL), *b = page(conv, 0, NULL);
  cr_expect_str_eq(a, b);
  cr_expect_eq(hits(), h0 + 1, "the second read is the kept page");
  free(a);
  free(b);
}

Test(pages, a_new_message_shows_on_the_next_read)
{
  send(conv, "one", NULL);
  expect_contents(conv, "one");
  send(conv, "two", NULL);
  expect_contents(conv, "two|one");
}

Test(pages, writes_elsewhere_leave_the_kept_page_in_use)
{
  send(conv, "one", NULL);
  expect_contents(conv, "one");
  send(conv2, "not here", NULL);
  send(conv2, "nor here", NULL);
  unsigned long h0 = hits();
  expect_contents(conv, "one");
  cr_expect_eq(hits(), h0 + 1, "proven current by the changes since");
  expect_contents(conv, "one");
  cr_expect_eq(hits(), h0 + 2);
}

static int delete_doc(struct store_tx *tx, void *arg, struct err *err)
{
  return store_delete(tx, arg, err);
}

Test(pages, an_edit_and_a_delete_show_on_the_next_read)
{
  char one[CID_MAX], two[CID_MAX];
  send(conv, "one", one);
  send(conv, "two", two);
  expect_contents(conv, "two|one");
  struct err err = ERR_INIT;
  json_t *in = json_pack("{s:s}", "content", "one, edited");
  struct op op = {.who = &ann, .id = conv, .sub = one, .in = in};
  cr_assert_eq(messages_update(st, &op, &err), 0, "%s", err.msg);
  json_decref(op.out);
  one_free(op.text);
  json_decref(in);
  expect_contents(conv, "two|one, edited");
  cr_assert_eq(store_run(st, STORE_WRITE, delete_doc, two, &err), 0, "%s", err.msg);
  expect_contents(conv, "one, edited");
}

struct patch_arg {
  const char *id, *content;
};

static int patch_content(struct store_tx *tx, void *arg, struct err *err)
{
  const struct patch_arg *a = arg;
  store_tx_set_origin(tx, STORE_ORIGIN_MIGRATION);
  json_t *p = json_pack("{s:s}", "content", a->content);
  int rc = store_patch(tx, a->id, p, err);
  json_decref(p);
  return rc;
}

Test(pages, a_write_from_another_store_on_the_file_shows_on_the_next_read)
{
  char one[CID_MAX];
  send(conv, "one", one);
  expect_contents(conv, "one");
  struct patch_arg a = {one, "rewritten by a migration"};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(other, STORE_WRITE, patch_content, &a, &err), 0, "%s", err.msg);
  expect_contents(conv, "rewritten by a migration");
}

Test(pages, many_changes_since_render_the_page_again)
{
  send(conv, "one", NULL);
  expect_contents(conv, "one");
  for (int i = 0; i < PAGES_MAX_CHANGES + 5; i++)
    send(conv2, "elsewhere", NULL);
  unsigned long h0 = hits();
  expect_contents(conv, "one");
  cr_expect_eq(hits(), h0, "too many changes to look through: rendered again");
  expect_contents(conv, "one");
  cr_expect_eq(hits(), h0 + 1, "and kept again");
}

Test(pages, each_size_and_cursor_is_a_page_of_its_own)
{
  send(conv, "one", NULL);
  send(conv, "two", NULL);
  send(conv, "three", NULL);
  char *all = page(conv, 0, NULL), *first = page(conv, 2, NULL), *again = page(conv, 2, NULL);
  char *c_all = contents(all), *c_first = contents(first);
  cr_expect_str_eq(c_all, "three|two|one");
  cr_expect_str_eq(c_first, "three|two");
  cr_expect_str_eq(first, again);
  json_t *doc = json_loads(first, 0, NULL);
  const char *cursor = json_string_value(json_object_get(doc, "cursor"));
  cr_assert(cursor);
  char *rest = page(conv, 2, cursor), *c_rest = contents(rest);
  cr_expect_str_eq(c_rest, "one");
  send(conv, "four", NULL);
  char *now = page(conv, 2, NULL), *c_now = contents(now);
  cr_expect_str_eq(c_now, "four|three");
  json_decref(doc);
  free(all);
  free(first);
  free(again);
  free(c_all);
  free(c_first);
  free(rest);
  free(c_rest);
  free(now);
  free(c_now);
}

Test(pages, a_schema_change_renders_the_page_again)
{
  send(conv, "one", NULL);
  expect_contents(conv, "one");
  tu_set_latest(other);
  unsigned long h0 = hits();
  expect_contents(conv, "one");
  cr_expect_eq(hits(), h0, "kept at another epoch");
}

Test(pages, the_cache_can_be_turned_off)
{
  cr_assert_eq(setenv("ONE_PAGE_CACHE", "0", 1), 0); /* before the first read of this process */
  send(conv, "one", NULL);
  expect_contents(conv, "one");
  expect_contents(conv, "one");
  cr_expect_eq(hits(), 0);
}
