/* Tests of the store (store/store*.c on SQLite): CRUD, validation that
 * leaves nothing behind, index order and ranges, cursor pages that stay
 * stable under inserts, transactions, concurrent writers and readers, the
 * change feed, and schema changes that add and drop indexes. */
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/stat.h>

#define SCHEMA \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n" \
  "export default defineSchema({\n" \
  "  users: defineTable({ name: v.string(), age: v.optional(v.number()) }).index(\"by_name\", [\"name\"]),\n" \
  "  messages: defineTable({ conv: v.string(), n: v.number(), author: v.optional(v.id(\"users\")) })\n" \
  "    .index(\"by_conv\", [\"conv\"]).index(\"by_conv_n\", [\"conv\", \"n\"]),\n" \
  "});\n"

static char *dir;
static struct store *st;

static void setup(void)
{
  dir = tu_tmpdir();
  st = tu_store(dir, SCHEMA);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

static void insert(const char *table, const char *json, char id[CID_MAX])
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0, "%s", err.msg);
  json_t *v = tu_json(json);
  int rc = store_insert(tx, table, v, 0, id, &err);
  cr_assert_eq(rc, 0, "insert %s: %s", json, err.ndetails ? err.details[0].message : err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  json_decref(v);
}

static json_t *get(const char *id, int *rc)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  json_t *doc = NULL;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  *rc = store_get(tx, id, &doc, NULL, &err);
  store_rollback(tx);
  err_clear(&err);
  return doc;
}

static int64_t count(const char *table)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  int64_t n = -1;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_count(tx, table, &n, &err), 0);
  store_rollback(tx);
  return n;
}

/* Runs a query; returns the page's "n" values (or names) as a string. */
static char *query(struct store_query *q, char **cursor, int *done)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  struct store_page page;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_query(tx, q, &page, &err), 0, "query: %s", err.msg);
  store_rollback(tx);
  char *out = calloc(1, 65536);
  size_t i;
  json_t *d;
  json_array_foreach(page.docs, i, d) {
    json_t *n = json_object_get(d, "n");
    char item[64];
    if (n)
      snprintf(item, sizeof item, "%s%g", i ? " " : "", json_real_value(n));
    else
      snprintf(item, sizeof item, "%s%s", i ? " " : "", json_string_value(json_object_get(d, "name")));
    strcat(out, item);
  }
  if (cursor)
    *cursor = page.cursor ? strdup(page.cursor) : NULL;
  if (done)
    *done = page.done;
  store_page_release(&page);
  return out;
}

Test(store, insert_get_patch_replace_delete)
{
  char id[CID_MAX];
  insert("users", "{\"name\":\"Ada\",\"age\":36.0}", id);
  cr_assert_eq(cid_table(id, strlen(id)), 10001);
  int rc;
  json_t *doc = get(id, &rc);
  cr_assert_eq(rc, 0);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "_id")), id);
  cr_assert(json_is_real(json_object_get(doc, "_creationTime")));
  cr_assert_str_eq(json_string_value(json_object_get(doc, "name")), "Ada");
  double ct = json_real_value(json_object_get(doc, "_creationTime"));
  json_decref(doc);

  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *patch = json_pack("{s:s,s:o}", "name", "Ada L.", "age", store_undefined());
  cr_assert_eq(store_patch(tx, id, patch, &err), 0, "%s", err.msg);
  json_decref(patch);
  cr_assert_eq(store_commit(tx, &err), 0);
  doc = get(id, &rc);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "name")), "Ada L.");
  cr_assert_null(json_object_get(doc, "age"), "a field set to undefined is removed");
  cr_assert_eq(json_real_value(json_object_get(doc, "_creationTime")), ct);
  json_decref(doc);

  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *repl = json_pack("{s:s}", "name", "Grace");
  cr_assert_eq(store_replace(tx, id, repl, &err), 0, "%s", err.msg);
  json_decref(repl);
  cr_assert_eq(store_commit(tx, &err), 0);
  doc = get(id, &rc);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "name")), "Grace");
  cr_assert_str_eq(json_string_value(json_object_get(doc, "_id")), id);
  json_decref(doc);

  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_delete(tx, id, &err), 0);
  cr_assert_eq(store_commit(tx, &err), 0);
  doc = get(id, &rc);
  cr_assert_null(doc);
  cr_assert_eq(rc, E_NOTFOUND);
  cr_assert_eq(count("users"), 0);
}

Test(store, refused_writes_leave_nothing)
{
  char id[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", id);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *bad = tu_json("{\"name\":5}");
  cr_assert_eq(store_insert(tx, "users", bad, 0, NULL, &err), E_SCHEMA);
  cr_assert_str_eq(err.details[0].path, "users.name");
  err_clear(&err);
  cr_assert_eq(store_patch(tx, id, bad, &err), E_SCHEMA);
  err_clear(&err);
  json_t *sys = json_pack("{s:s}", "_id", "x");
  cr_assert_eq(store_insert(tx, "users", sys, 0, NULL, &err), E_SCHEMA, "system fields are the store's");
  err_clear(&err);
  cr_assert_eq(store_insert(tx, "nosuch", sys, 0, NULL, &err), E_NOTFOUND);
  err_clear(&err);
  cr_assert_eq(store_commit(tx, &err), 0, "the transaction is still usable after refusals");
  json_decref(bad);
  json_decref(sys);
  cr_assert_eq(count("users"), 1);
  struct store_query q = {.table = "users", .index = "by_name", .limit = 10};
  char *names = query(&q, NULL, NULL);
  cr_assert_str_eq(names, "Ada");
  free(names);
}

Test(store, ids_are_checked_by_table)
{
  char uid[CID_MAX], mid[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", uid);
  char json[256];
  snprintf(json, sizeof json, "{\"conv\":\"c\",\"n\":1.0,\"author\":\"%s\"}", uid);
  insert("messages", json, mid);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  snprintf(json, sizeof json, "{\"conv\":\"c\",\"n\":1.0,\"author\":\"%s\"}", mid);
  json_t *v = tu_json(json);
  cr_assert_eq(store_insert(tx, "messages", v, 0, NULL, &err), E_SCHEMA);
  cr_assert_str_eq(err.details[0].message, "expected id<users>, got id<messages>");
  store_rollback(tx);
  err_clear(&err);
  json_decref(v);
}

Test(store, rollback_discards_every_write)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  for (int i = 0; i < 10; i++) {
    json_t *v = json_pack("{s:s}", "name", "x");
    cr_assert_eq(store_insert(tx, "users", v, 0, NULL, &err), 0);
    json_decref(v);
  }
  store_rollback(tx);
  cr_assert_eq(count("users"), 0);
  struct store_query q = {.table = "users", .index = "by_name", .limit = 10};
  char *names = query(&q, NULL, NULL);
  cr_assert_str_eq(names, "", "no index entry survives a rollback");
  free(names);
}

static void fill_messages(void)
{
  const char *convs[] = {"b", "a", "c"};
  for (int i = 0; i < 30; i++) {
    char json[128], id[CID_MAX];
    snprintf(json, sizeof json, "{\"conv\":\"%s\",\"n\":%d.0}", convs[i % 3], (i * 7) % 30);
    insert("messages", json, id);
  }
}

Test(store, index_order_and_ranges)
{
  fill_messages();
  struct store_query q = {.table = "messages", .index = "by_conv_n", .limit = 100};
  json_t *eq = json_pack("[s]", "a");
  q.eq = eq;
  char *s = query(&q, NULL, NULL);
  cr_assert_str_eq(s, "1 4 7 10 13 16 19 22 25 28");
  free(s);
  json_t *lo = json_real(6), *hi = json_real(21);
  q.lower_op = STORE_GT;
  q.lower = lo;
  q.upper_op = STORE_LTE;
  q.upper = hi;
  s = query(&q, NULL, NULL);
  cr_assert_str_eq(s, "7 10 13 16 19");
  free(s);
  q.lower_op = STORE_GTE;
  q.upper_op = STORE_LT;
  q.desc = 1;
  s = query(&q, NULL, NULL);
  cr_assert_str_eq(s, "19 16 13 10 7");
  free(s);
  /* eq on both fields */
  json_t *eq2 = json_pack("[s,f]", "c", 2.0); /* c holds n = 2 mod 3 */
  struct store_query q2 = {.table = "messages", .index = "by_conv_n", .eq = eq2, .limit = 10};
  s = query(&q2, NULL, NULL);
  cr_assert_str_eq(s, "2");
  free(s);
  /* a type other than the field's finds nothing: int64 2 is not float64 2 */
  json_t *eq3 = json_pack("[s,I]", "c", (json_int_t)2);
  q2.eq = eq3;
  s = query(&q2, NULL, NULL);
  cr_assert_str_eq(s, "");
  free(s);
  json_decref(eq);
  json_decref(eq2);
  json_decref(eq3);
  json_decref(lo);
  json_decref(hi);
}

static int collect_text(void *arg, const char *text, size_t len, struct err *err)
{
  (void)err;
  char *all = arg;
  if (strlen(all) + len + 2 > 65536)
    return E_TOOBIG;
  strncat(all, text, len);
  strcat(all, "\n");
  return 0;
}

static int stop_at_second(void *arg, const char *text, size_t len, struct err *err)
{
  (void)text;
  (void)len;
  return ++*(int *)arg == 2 ? err_set(err, E_CONFLICT, "enough") : 0;
}

/* A query with each hands over the same texts, in order, with the same
 * cursor, as one that keeps them; each's error stops it. */
Test(store, a_query_can_hand_each_text_over)
{
  fill_messages();
  json_t *eq = json_pack("[s]", "a");
  struct store_query q = {.table = "messages", .index = "by_conv_n", .eq = eq, .limit = 4,
                          .desc = 1, .as_text = 1};
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  struct store_page kept, handed;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_query(tx, &q, &kept, &err), 0, "%s", err.msg);
  char *want = calloc(1, 65536), *got = calloc(1, 65536);
  for (size_t i = 0; i < kept.ntexts; i++)
    collect_text(want, kept.texts[i], kept.lens[i], NULL);
  q.each = collect_text;
  q.each_arg = got;
  cr_assert_eq(store_query(tx, &q, &handed, &err), 0, "%s", err.msg);
  cr_expect_str_eq(got, want);
  cr_expect_eq(handed.ntexts, 0);
  cr_expect_str_eq(handed.cursor, kept.cursor);
  cr_expect_eq(handed.done, kept.done);
  store_page_release(&handed);
  int seen = 0;
  q.each = stop_at_second;
  q.each_arg = &seen;
  cr_expect_eq(store_query(tx, &q, &handed, &err), E_CONFLICT);
  cr_expect_eq(seen, 2);
  store_page_release(&handed);
  store_page_release(&kept);
  store_rollback(tx);
  err_clear(&err);
  json_decref(eq);
  free(want);
  free(got);
}

/* store_scan: every document of one table once, in id order, a page at a
 * time, each page's cursor its last id. */
Test(store, scan_walks_a_table_in_id_order)
{
  fill_messages();
  char uid[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", uid);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  char last[CID_MAX] = "", *after = NULL;
  int n = 0, pages = 0, done = 0;
  while (!done) {
    struct store_page page;
    cr_assert_eq(store_scan(tx, "messages", after, 7, 0, &page, &err), 0, "%s", err.msg);
    pages++;
    size_t i;
    json_t *d;
    json_array_foreach(page.docs, i, d) {
      const char *id = json_string_value(json_object_get(d, "_id"));
      cr_assert_gt(strcmp(id, last), 0, "%s comes after %s", id, last);
      cr_assert(json_object_get(d, "conv"), "a document of another table: %s", id);
      snprintf(last, sizeof last, "%s", id);
      n++;
    }
    done = page.done;
    free(after);
    after = page.cursor ? strdup(page.cursor) : NULL;
    if (after)
      cr_expect_str_eq(after, last);
    store_page_release(&page);
  }
  free(after);
  cr_expect_eq(n, 30);
  cr_expect_eq(pages, 5, "pages of 7, 7, 7, 7 and 2: %d", pages);
  struct store_page page;
  cr_expect_eq(store_scan(tx, "messages", NULL, 0, 0, &page, &err), E_INVALID);
  cr_expect_eq(store_scan(tx, "messages", NULL, STORE_MAX_PAGE + 1, 0, &page, &err), E_INVALID);
  cr_expect_eq(store_scan(tx, "nope", NULL, 10, 0, &page, &err), E_NOTFOUND);
  cr_assert_eq(store_scan(tx, "users", NULL, 10, 1, &page, &err), 0, "%s", err.msg);
  cr_expect_eq(page.ntexts, 1);
  cr_expect(page.ntexts && strstr(page.texts[0], "\"Ada\""));
  cr_expect(page.done);
  store_page_release(&page);
  cr_assert_eq(store_scan(tx, "users", uid, 10, 0, &page, &err), 0);
  cr_expect_eq(json_array_size(page.docs), 0, "nothing after the last id");
  cr_expect_null(page.cursor);
  store_page_release(&page);
  store_rollback(tx);
  err_clear(&err);
}

/* store_patch_doc patches the document as the transaction read it; index
 * entries move where the patch changes their keys and stay right where it
 * does not. */
Test(store, patch_doc_keeps_every_index_right)
{
  fill_messages();
  char uid[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", uid);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *eq = json_pack("[s]", "a");
  struct store_query q = {.table = "messages", .index = "by_conv_n", .eq = eq, .limit = 100};
  struct store_page page;
  cr_assert_eq(store_query(tx, &q, &page, &err), 0, "%s", err.msg);
  size_t i;
  json_t *d;
  json_array_foreach(page.docs, i, d) {
    double n = json_real_value(json_object_get(d, "n"));
    json_t *patch = n < 10 ? json_pack("{s:f}", "n", n + 100) : json_pack("{s:s}", "author", uid);
    cr_assert_eq(store_patch_doc(tx, d, patch, &err), 0, "%s", err.msg);
    json_decref(patch);
  }
  json_t *bad = json_pack("{s:f}", "_creationTime", 1.0);
  cr_expect_eq(store_patch_doc(tx, json_array_get(page.docs, 0), bad, &err), E_SCHEMA);
  json_t *notobj = json_string("x");
  cr_expect_eq(store_patch_doc(tx, json_array_get(page.docs, 0), notobj, &err), E_SCHEMA);
  json_decref(bad);
  json_decref(notobj);
  store_page_release(&page);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  char *got = query(&q, NULL, NULL);
  cr_expect_str_eq(got, "10 13 16 19 22 25 28 101 104 107");
  free(got);
  q.index = "by_conv";
  got = query(&q, NULL, NULL);
  int words = 1;
  for (const char *p = got; *p; p++)
    words += *p == ' ';
  cr_expect_eq(words, 10, "conversation a still has its 10 messages once each: %s", got);
  free(got);
  cr_expect_eq(count("messages"), 30);
  json_decref(eq);
  err_clear(&err);
}

/* The stored text of id (a new string). */
static char *text_of(const char *id)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  char *text = NULL;
  size_t len = 0;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_get_text(tx, id, &text, &len, NULL, &err), 0, "%s", err.msg);
  store_rollback(tx);
  char *copy = strdup(text);
  one_free(text);
  return copy;
}

/* Patches a by store_patch_text and b, the same document under another id,
 * by store_patch_doc; both must answer rc and leave the same text. */
static void patch_both(const char *a, const char *b, json_t *patch, int want)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  char *old = text_of(a);
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  int rc = store_patch_text(tx, a, old, strlen(old), patch, NULL, &err);
  cr_expect_eq(rc, want, "text path on %s: %s", old, err.msg);
  err_clear(&err);
  json_t *doc = NULL;
  cr_assert_eq(store_get(tx, b, &doc, NULL, &err), 0);
  cr_expect_eq(store_patch_doc(tx, doc, patch, &err), want, "document path: %s", err.msg);
  err_clear(&err);
  json_decref(doc);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  char *ta = text_of(a), *tb = text_of(b);
  /* past _id and _creationTime (which differ, and hold no comma) nothing may differ */
  const char *ra = strchr(ta, ','), *rb = strchr(tb, ',');
  cr_assert(ra && rb && strchr(ra + 1, ',') && strchr(rb + 1, ','));
  cr_expect_str_eq(strchr(ra + 1, ','), strchr(rb + 1, ','));
  free(ta);
  free(tb);
  free(old);
  json_decref(patch);
}

Test(store, a_patch_of_the_stored_text_writes_what_the_document_path_writes)
{
  char a[CID_MAX], b[CID_MAX], u[CID_MAX], m1[CID_MAX], m2[CID_MAX];
  const char *ada = "{\"name\":\"Ada \\\"Q\\\" \\u00e9\",\"age\":3.25}";
  insert("users", ada, a);
  insert("users", ada, b);
  insert("users", "{\"name\":\"Bob\"}", u);
  patch_both(a, b, json_pack("{s:f}", "age", 41.5), 0);           /* in place */
  patch_both(a, b, json_pack("{s:o}", "age", store_undefined()), 0); /* removed */
  patch_both(a, b, json_pack("{s:f}", "age", 0.1), 0);            /* added at the end */
  patch_both(a, b, json_pack("{s:s}", "age", "old"), E_SCHEMA);    /* refused, nothing written */
  patch_both(a, b, json_pack("{s:s}", "nick", "x"), E_SCHEMA);     /* not in the schema */
  patch_both(a, b, json_pack("{s:s}", "name", "Ada L."), 0);      /* indexed */
  patch_both(a, b, json_pack("{s:o}", "name", store_undefined()), E_SCHEMA); /* required */
  patch_both(a, b, json_pack("{s:f}", "_creationTime", 5.0), E_SCHEMA);
  insert("messages", "{\"conv\":\"c\",\"n\":1.5}", m1);
  insert("messages", "{\"conv\":\"c\",\"n\":1.5}", m2);
  patch_both(m1, m2, json_pack("{s:s}", "author", u), 0);
  patch_both(m1, m2, json_pack("{s:s}", "author", m1), E_SCHEMA);  /* an id of another table */
  patch_both(m1, m2, json_pack("{s:s,s:o}", "author", u, "n", json_integer(3)), E_SCHEMA);
  patch_both(m1, m2, json_pack("{s:f}", "n", 2.5), 0);            /* indexed */
  /* the indexes moved both documents, and only once each */
  json_t *eq = json_pack("[s,f]", "c", 2.5);
  struct store_query q = {.table = "messages", .index = "by_conv_n", .eq = eq, .limit = 10};
  char *got = query(&q, NULL, NULL);
  cr_expect_str_eq(got, "2.5 2.5");
  free(got);
  json_decref(eq);
  eq = json_pack("[s]", "c");
  q.eq = eq;
  got = query(&q, NULL, NULL);
  cr_expect_str_eq(got, "2.5 2.5", "by_conv_n has no entry left at n 1.5");
  free(got);
  json_decref(eq);
  eq = json_pack("[s]", "Ada L.");
  struct store_query qu = {.table = "users", .index = "by_name", .eq = eq, .limit = 10};
  got = query(&qu, NULL, NULL);
  cr_expect_str_eq(got, "Ada L. Ada L.");
  free(got);
  json_decref(eq);
  struct store_query all = {.table = "users", .index = "by_name", .limit = 10};
  got = query(&all, NULL, NULL);
  cr_expect_str_eq(got, "Ada L. Ada L. Bob", "no entry left under the old name");
  free(got);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  const char *bad = "{\"_id\":1,";
  json_t *age = json_pack("{s:f}", "age", 1.0);
  cr_expect_eq(store_patch_text(tx, a, bad, strlen(bad), age, NULL, &err), E_STORE,
               "a damaged text is refused: %s", err.msg);
  /* the text path trusts the stored text and checks only what it sets (a
   * field the schema lacks, which no write could have stored, stays), where
   * the whole-document path checks everything */
  char *t = text_of(a), *extra = NULL;
  cr_assert(asprintf(&extra, "%.*s,\"zzz\":1.5}", (int)strlen(t) - 1, t) > 0);
  cr_expect_eq(store_patch_text(tx, a, extra, strlen(extra), age, NULL, &err), 0, "%s", err.msg);
  json_t *nick = json_pack("{s:s}", "nick", "x"); /* not in the schema: the whole path */
  err_clear(&err);
  cr_expect_eq(store_patch_text(tx, a, extra, strlen(extra), nick, NULL, &err), E_SCHEMA);
  int saw_zzz = 0;
  for (size_t i = 0; i < err.ndetails; i++)
    saw_zzz |= strstr(err.details[i].path, "zzz") != NULL;
  cr_expect(saw_zzz, "the whole path checks every field: %s", err.msg);
  json_decref(nick);
  json_decref(age);
  free(extra);
  free(t);
  store_rollback(tx);
  err_clear(&err);
}

/* A lazy write transaction commits like any other (here on a handle that
 * syncs every commit, so the switch to lazy and back is made), and rolls back
 * like any other. */
Test(store, lazy_writes_commit_and_roll_back_whole)
{
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_FULL};
  struct store *full = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &full, &err), 0, "%s", err.msg);
  for (int round = 0; round < 3; round++) {
    struct store_tx *tx = NULL;
    json_t *v = json_pack("{s:s}", "name", round == 1 ? "dropped" : "kept");
    char id[CID_MAX];
    cr_assert_eq(store_begin(full, round == 2 ? STORE_WRITE : STORE_WRITE_LAZY, &tx, &err), 0);
    cr_assert_eq(store_insert(tx, "users", v, 0, id, &err), 0, "%s", err.msg);
    json_decref(v);
    if (round == 1)
      store_rollback(tx);
    else
      cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  }
  store_close(full);
  free(path);
  cr_expect_eq(count("users"), 2);
  json_t *eq = json_pack("[s]", "dropped");
  struct store_query q = {.table = "users", .index = "by_name", .eq = eq, .limit = 10};
  char *got = query(&q, NULL, NULL);
  cr_expect_str_eq(got, "");
  free(got);
  json_decref(eq);
}

Test(store, bad_queries_are_refused)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  struct store_page page;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  struct store_query q = {.table = "messages", .index = "nope", .limit = 5};
  cr_assert_eq(store_query(tx, &q, &page, &err), E_NOTFOUND);
  q.index = "by_conv";
  json_t *eq = json_pack("[s,f,f]", "a", 1.0, 2.0);
  q.eq = eq;
  cr_assert_eq(store_query(tx, &q, &page, &err), E_INVALID, "too many eq values");
  q.eq = NULL;
  q.limit = 0;
  cr_assert_eq(store_query(tx, &q, &page, &err), E_INVALID);
  q.limit = 5;
  q.cursor = "!!!";
  cr_assert_eq(store_query(tx, &q, &page, &err), E_INVALID);
  q.cursor = "AQAAAAAAAAAH";
  cr_assert_eq(store_query(tx, &q, &page, &err), E_INVALID, "a cursor of another index");
  store_rollback(tx);
  json_decref(eq);
  err_clear(&err);
}

Test(store, pages_stay_stable_while_documents_are_inserted)
{
  for (int i = 0; i < 50; i++) {
    char json[64], id[CID_MAX];
    snprintf(json, sizeof json, "{\"conv\":\"a\",\"n\":%d.0}", i * 2);
    insert("messages", json, id);
  }
  struct store_query q = {.table = "messages", .index = "by_conv_n", .limit = 7};
  json_t *eq = json_pack("[s]", "a");
  q.eq = eq;
  int seen[200] = {0}, pages = 0, done = 0, extra = 0;
  char *cursor = NULL;
  double last = -1;
  while (!done) {
    q.cursor = cursor;
    char *cur = NULL;
    char *s = query(&q, &cur, &done);
    free(cursor);
    cursor = cur;
    pages++;
    for (char *tok = s, *save = NULL; (tok = strtok_r(tok, " ", &save)); tok = NULL) {
      int n = (int)strtol(tok, NULL, 10);
      cr_assert_gt(n, last, "order broken or duplicate: %d after %g", n, last);
      last = n;
      seen[n]++;
    }
    free(s);
    /* between pages: odd numbers land before and after the cursor */
    char json[64], id[CID_MAX];
    snprintf(json, sizeof json, "{\"conv\":\"a\",\"n\":%d.0}", (pages * 13) % 100 | 1);
    insert("messages", json, id);
    extra++;
  }
  for (int i = 0; i < 100; i += 2)
    cr_assert_eq(seen[i], 1, "document %d seen %d times", i, seen[i]);
  free(cursor);
  json_decref(eq);
}

Test(store, descending_pages)
{
  fill_messages();
  struct store_query q = {.table = "messages", .index = "by_conv_n", .limit = 4, .desc = 1};
  json_t *eq = json_pack("[s]", "b");
  q.eq = eq;
  char *cursor = NULL, *all = calloc(1, 4096);
  int done = 0;
  while (!done) {
    q.cursor = cursor;
    char *cur = NULL, *s = query(&q, &cur, &done);
    if (*all && *s)
      strcat(all, " ");
    strcat(all, s);
    free(s);
    free(cursor);
    cursor = cur;
  }
  cr_assert_str_eq(all, "27 24 21 18 15 12 9 6 3 0");
  free(all);
  free(cursor);
  json_decref(eq);
}

struct writer {
  int id, n;
};

static void *write_many(void *arg)
{
  struct writer *w = arg;
  for (int i = 0; i < w->n; i++) {
    struct store_tx *tx = NULL;
    struct err err = ERR_INIT;
    if (store_begin(st, STORE_WRITE, &tx, &err) != 0)
      return (void *)1;
    json_t *v = json_pack("{s:s,s:f}", "conv", w->id % 2 ? "odd" : "even", "n", (double)(w->id * 1000 + i));
    int rc = store_insert(tx, "messages", v, 0, NULL, &err);
    json_decref(v);
    if (rc) {
      store_rollback(tx);
      return (void *)2;
    }
    if (store_commit(tx, &err) != 0)
      return (void *)3;
  }
  return NULL;
}

static void *read_many(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++) {
    struct store_tx *tx = NULL;
    struct err err = ERR_INIT;
    if (store_begin(st, STORE_READ, &tx, &err) != 0)
      return (void *)1;
    struct store_query q = {.table = "messages", .index = "by_conv", .limit = 20, .desc = 1};
    struct store_page page;
    int rc = store_query(tx, &q, &page, &err);
    store_rollback(tx);
    if (rc)
      return (void *)2;
    store_page_release(&page);
  }
  return NULL;
}

Test(store, concurrent_writers_and_readers_never_see_busy)
{
  enum { WRITERS = 6, READERS = 3, EACH = 150 };
  pthread_t t[WRITERS + READERS];
  struct writer w[WRITERS];
  for (int i = 0; i < WRITERS; i++) {
    w[i] = (struct writer){i, EACH};
    pthread_create(&t[i], NULL, write_many, &w[i]);
  }
  for (int i = 0; i < READERS; i++)
    pthread_create(&t[WRITERS + i], NULL, read_many, NULL);
  for (int i = 0; i < WRITERS + READERS; i++) {
    void *rv = NULL;
    pthread_join(t[i], &rv);
    cr_assert_null(rv, "thread %d failed with %p", i, rv);
  }
  cr_assert_eq(count("messages"), WRITERS * EACH);
}

Test(store, two_handles_on_one_file_act_like_two_processes)
{
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF, .must_exist = 1};
  struct store *other = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &other, &err), 0, "%s", err.msg);
  char id[CID_MAX];
  insert("users", "{\"name\":\"from the first\"}", id);
  struct store_tx *tx = NULL;
  json_t *doc = NULL;
  cr_assert_eq(store_begin(other, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_get(tx, id, &doc, NULL, &err), 0, "%s", err.msg);
  store_rollback(tx);
  json_decref(doc);
  store_close(other);
  free(path);
}

struct feed {
  pthread_mutex_t lock;
  int64_t last_seq;
  int n, ordered;
  char kinds[64];
};

static void on_change(void *arg, const struct store_change *c, size_t n)
{
  struct feed *f = arg;
  pthread_mutex_lock(&f->lock);
  for (size_t i = 0; i < n; i++) {
    if (c[i].seq <= f->last_seq)
      f->ordered = 0;
    f->last_seq = c[i].seq;
    if (f->n < 63)
      f->kinds[f->n] = "?IUD"[c[i].kind];
    f->n++;
  }
  pthread_mutex_unlock(&f->lock);
}

/* The feed got kinds (one letter a change), in commit order, and the
 * durable log of s holds as many changes (returned, one_free). */
static struct store_change *expect_feed_and_log(struct store *s, const struct feed *f,
                                                const char *kinds, size_t *n)
{
  struct store_change *log = NULL;
  struct err err = ERR_INIT;
  cr_assert_str_eq(f->kinds, kinds);
  cr_assert(f->ordered);
  cr_assert_eq(store_changes_since(s, 0, 100, &log, n, &err), 0, "%s", err.msg);
  cr_assert_eq(*n, strlen(kinds));
  return log;
}

Test(store, change_feed_in_commit_order)
{
  struct feed f = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 1, {0}};
  int h = store_subscribe(st, on_change, &f);
  cr_assert_gt(h, 0);
  char id[CID_MAX];
  insert("users", "{\"name\":\"a\"}", id);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *p = json_pack("{s:s}", "name", "b");
  cr_assert_eq(store_patch(tx, id, p, &err), 0);
  cr_assert_eq(store_delete(tx, id, &err), 0);
  cr_assert_eq(store_commit(tx, &err), 0);
  json_decref(p);
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  p = json_pack("{s:s}", "name", "rolled back");
  cr_assert_eq(store_insert(tx, "users", p, 0, NULL, &err), 0);
  store_rollback(tx);
  json_decref(p);
  cr_assert_eq(f.n, 3, "a rollback sends nothing");
  store_unsubscribe(st, h);
  /* the durable log has the same */
  size_t n = 0;
  struct store_change *log = expect_feed_and_log(st, &f, "IUD", &n);
  cr_assert_str_eq(log[0].id, id);
  cr_assert_str_eq(log[0].table, "users");
  cr_assert_eq(log[2].kind, STORE_DELETED);
  cr_assert_eq(log[2].seq, f.last_seq);
  one_free(log);
  cr_assert_eq(store_changes_since(st, f.last_seq, 100, &log, &n, &err), 0);
  cr_assert_eq(n, 0);
  one_free(log);
}

static void insert_as(struct store *s, enum store_origin origin, int n)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(s, STORE_WRITE, &tx, &err), 0);
  store_tx_set_origin(tx, origin);
  json_t *v = json_pack("{s:s}", "name", origin == STORE_ORIGIN_MIGRATION ? "m" : "s");
  for (int i = 0; i < n; i++)
    cr_assert_eq(store_insert(tx, "users", v, 0, NULL, &err), 0, "%s", err.msg);
  json_decref(v);
  cr_assert_eq(store_commit(tx, &err), 0);
}

static int keep_since(struct store_tx *tx, void *arg, struct err *err)
{
  return store_changes_keep(tx, *(int64_t *)arg, err);
}

Test(store, the_change_log_keeps_origins_and_the_service_changes_a_migration_needs)
{
  /* a log that keeps 50 changes, pruned every 26 appends */
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/small.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF, .changes_kept = 50};
  struct store *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &s, &err), 0, "%s", err.msg);
  free(path);
  struct schema *schema = tu_schema(SCHEMA);
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(s, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_set_schema(tx, "t", schema, &err), 0);
  cr_assert_eq(store_commit(tx, &err), 0);
  schema_free(schema);
  insert_as(s, STORE_ORIGIN_SERVICE, 10);
  int64_t oldest = 0, newest = 0;
  cr_assert_eq(store_changes_bounds(s, &oldest, &newest, &err), 0);
  cr_assert_eq(store_run(s, STORE_WRITE, keep_since, &newest, &err), 0, "%s", err.msg);
  /* after the mark: 20 service changes among 400 of a migration */
  for (int i = 0; i < 20; i++) {
    insert_as(s, STORE_ORIGIN_MIGRATION, 20);
    insert_as(s, STORE_ORIGIN_SERVICE, 1);
  }
  struct store_change *log = NULL;
  size_t n = 0, service = 0, migration = 0;
  cr_assert_eq(store_changes_since(s, newest, 100000, &log, &n, &err), 0);
  for (size_t i = 0; i < n; i++)
    *(log[i].origin == STORE_ORIGIN_SERVICE ? &service : &migration) += 1;
  one_free(log);
  cr_expect_eq(service, 20, "every service change after the mark is kept");
  cr_expect_lt(migration, 400, "the migration's own changes are pruned");
  /* without the mark, the log is bounded again */
  int64_t none = 0;
  cr_assert_eq(store_run(s, STORE_WRITE, keep_since, &none, &err), 0);
  insert_as(s, STORE_ORIGIN_SERVICE, 200);
  cr_assert_eq(store_changes_bounds(s, &oldest, &newest, &err), 0);
  cr_expect_leq(newest - oldest, 100, "%lld changes kept", (long long)(newest - oldest));
  store_close(s);
}

struct new_schema {
  const char *text;
};

static int change_schema(struct store_tx *tx, void *arg, struct err *err)
{
  struct new_schema *a = arg;
  struct schema *s = tu_schema(a->text);
  int rc = store_set_schema(tx, "v2", s, err);
  schema_free(s);
  return rc;
}

Test(store, schema_change_adds_fills_and_drops_indexes)
{
  for (int i = 0; i < 1100; i++) { /* more than one backfill page */
    char json[64], id[CID_MAX];
    snprintf(json, sizeof json, "{\"name\":\"u%04d\",\"age\":%d.0}", i, i % 90);
    insert("users", json, id);
  }
  struct new_schema a = {
    "import { defineSchema, defineTable } from \"convex/server\";\n"
    "import { v } from \"convex/values\";\n"
    "export default defineSchema({\n"
    "  users: defineTable({ name: v.string(), age: v.optional(v.number()) }).index(\"by_age\", [\"age\"]),\n"
    "  messages: defineTable({ conv: v.string(), n: v.number(), author: v.optional(v.id(\"users\")) }),\n"
    "  extra: defineTable({ x: v.string() }),\n"
    "});\n"};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, change_schema, &a, &err), 0, "%s", err.msg);
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  char name[32];
  store_schema_name(tx, name, sizeof name);
  cr_assert_str_eq(name, "v2");
  json_t *eq = json_pack("[f]", 89.0);
  struct store_query q = {.table = "users", .index = "by_age", .eq = eq, .limit = 100};
  struct store_page page;
  cr_assert_eq(store_query(tx, &q, &page, &err), 0, "%s", err.msg);
  cr_assert_eq(json_array_size(page.docs), 12, "the new index was filled from existing documents");
  store_page_release(&page);
  q.index = "by_name";
  cr_assert_eq(store_query(tx, &q, &page, &err), E_NOTFOUND, "the dropped index is gone");
  json_t *tables = store_tables(tx);
  cr_assert_eq(json_array_size(tables), 3);
  cr_assert_eq(json_integer_value(json_object_get(json_array_get(tables, 2), "number")), 10003);
  json_decref(tables);
  store_rollback(tx);
  json_decref(eq);
  err_clear(&err);
  char id[CID_MAX];
  insert("extra", "{\"x\":\"new table works\"}", id);
}

#define SCHEMA_BY_AGE \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n" \
  "export default defineSchema({\n" \
  "  users: defineTable({ name: v.string(), age: v.optional(v.number()) })\n" \
  "    .index(\"by_name\", [\"name\"]).index(\"by_age\", [\"age\"])\n" \
  "    .index(\"by_age_name\", [\"age\", \"name\"]),\n" \
  "  messages: defineTable({ conv: v.string(), n: v.number(), author: v.optional(v.id(\"users\")) })\n" \
  "    .index(\"by_conv\", [\"conv\"]).index(\"by_conv_n\", [\"conv\", \"n\"]),\n" \
  "});\n"

static int count_age(struct store_tx *tx, const char *index, double age)
{
  struct err err = ERR_INIT;
  json_t *eq = json_pack("[f]", age);
  struct store_query q = {.table = "users", .index = index, .eq = eq, .limit = STORE_MAX_PAGE};
  struct store_page page;
  cr_assert_eq(store_query(tx, &q, &page, &err), 0, "%s", err.msg);
  int n = (int)json_array_size(page.docs);
  store_page_release(&page);
  json_decref(eq);
  return n;
}

static void write_on(struct store *s, const char *what, const char *id, const char *json)
{
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(s, STORE_WRITE, &tx, &err), 0, "%s", err.msg);
  json_t *v = json ? tu_json(json) : NULL;
  char out[CID_MAX];
  int rc = strcmp(what, "insert") == 0 ? store_insert(tx, "users", v, 0, out, &err)
           : strcmp(what, "patch") == 0 ? store_patch(tx, id, v, &err)
                                        : store_delete(tx, id, &err);
  cr_assert_eq(rc, 0, "%s %s: %s", what, id ? id : "", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  json_decref(v);
}

/* An index built ahead of its schema (store_indexes_prepare, _fill) while
 * two handles (two processes, as far as SQLite knows) insert, move and
 * delete documents between the fills: once the schema is in force, the
 * index holds exactly the documents' keys. */
Test(store, indexes_built_ahead_stay_right_under_writes)
{
  char ids[300][CID_MAX];
  for (int i = 0; i < 300; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"name\":\"u%03d\",\"age\":%d.0}", i, i % 10);
    insert("users", json, ids[i]);
  }
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF};
  struct store *other = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &other, &err), 0, "%s", err.msg);
  free(path);
  struct schema *sc = tu_schema(SCHEMA_BY_AGE);
  size_t indexes = 0, documents = 0, done = 0;
  cr_assert_eq(store_indexes_prepare(st, sc, &indexes, &documents, &err), 0, "%s", err.msg);
  cr_expect_eq(indexes, 2, "by_age and by_age_name, filled together");
  cr_expect_eq(documents, 600);
  size_t again = 9;
  cr_assert_eq(store_indexes_prepare(st, sc, &again, NULL, &err), 0, "%s", err.msg);
  cr_expect_eq(again, 0, "preparing twice adds nothing");
  int more = 1, round = 0;
  while (more) {
    cr_assert_eq(store_indexes_fill(st, 50, &more, &done, &err), 0, "%s", err.msg);
    struct store *w = round % 2 ? other : st;
    char json[64];
    snprintf(json, sizeof json, "{\"name\":\"new%d\",\"age\":3.0}", round);
    write_on(w, "insert", NULL, json);
    write_on(w, "patch", ids[round * 10 + 3], "{\"age\":7.0}");    /* 3 -> 7 */
    write_on(w, "delete", ids[round * 10 + 5], NULL);                /* a 5 goes */
    write_on(w, "patch", ids[round * 10 + 1], "{\"name\":\"same age\"}"); /* key unchanged */
    round++;
  }
  cr_expect_gt(done, 0);
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  json_t *eq = json_pack("[f]", 3.0);
  struct store_query q = {.table = "users", .index = "by_age", .eq = eq, .limit = 10};
  struct store_page page;
  cr_expect_eq(store_query(tx, &q, &page, &err), E_NOTFOUND, "a building index is not queryable");
  store_rollback(tx);
  json_decref(eq);
  struct new_schema a = {SCHEMA_BY_AGE};
  cr_assert_eq(store_run(st, STORE_WRITE, change_schema, &a, &err), 0, "%s", err.msg);
  cr_assert_eq(store_begin(other, STORE_READ, &tx, &err), 0);
  int want[10] = {0}, total = 0;
  struct store_page all;
  char *after = NULL;
  do {
    cr_assert_eq(store_scan(tx, "users", after, 100, 0, &all, &err), 0, "%s", err.msg);
    size_t i;
    json_t *d;
    json_array_foreach(all.docs, i, d) want[(int)json_real_value(json_object_get(d, "age"))]++;
    free(after);
    after = all.cursor ? strdup(all.cursor) : NULL;
    more = !all.done;
    store_page_release(&all);
  } while (more);
  free(after);
  for (int pass = 0; pass < 2; pass++) {
    const char *index = pass ? "by_age_name" : "by_age";
    total = 0;
    for (int age = 0; age < 10; age++) {
      int got = count_age(tx, index, age);
      cr_expect_eq(got, want[age], "%s, age %d: the index has %d, the documents %d", index, age,
                   got, want[age]);
      total += got;
    }
    cr_expect_eq(total, (int)count("users"), "%s", index);
  }
  store_rollback(tx);
  store_close(other);
  schema_free(sc);
  err_clear(&err);
}

Test(store, imported_ids_are_kept)
{
  char id[CID_MAX];
  cid_new(10001, 1.7e12, id);
  char json[256];
  snprintf(json, sizeof json, "{\"_id\":\"%s\",\"_creationTime\":1700000000000.5,\"name\":\"old\"}", id);
  struct store_tx *tx = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *v = tu_json(json);
  cr_assert_eq(store_insert(tx, "users", v, STORE_KEEP_SYSTEM, NULL, &err), 0, "%s", err.msg);
  cr_assert_eq(store_insert(tx, "users", v, STORE_KEEP_SYSTEM, NULL, &err), E_CONFLICT);
  cr_assert_eq(store_commit(tx, &err), 0);
  json_decref(v);
  int rc;
  json_t *doc = get(id, &rc);
  cr_assert_eq(json_real_value(json_object_get(doc, "_creationTime")), 1700000000000.5);
  json_decref(doc);
  err_clear(&err);
}

static int number_tables(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  int rc = store_add_table(tx, "legacy", 10042, err);
  if (!rc)
    rc = store_add_table(tx, "legacy", 10042, err); /* the same pair again is fine */
  if (!rc && store_add_table(tx, "legacy", 10043, err) != E_CONFLICT)
    rc = err_set(err, E_INTERNAL, "a second number for one table was accepted");
  if (!rc && store_add_table(tx, "other", 10001, err) != E_CONFLICT)
    rc = err_set(err, E_INTERNAL, "a taken number was accepted");
  err_clear(err);
  return rc;
}

Test(store, tables_keep_the_numbers_an_import_gives_them)
{
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, number_tables, NULL, &err), 0, "%s", err.msg);
  struct new_schema a = {
    "import { defineSchema, defineTable } from \"convex/server\";\n"
    "import { v } from \"convex/values\";\n"
    "export default defineSchema({\n"
    "  users: defineTable({ name: v.string(), age: v.optional(v.number()) }),\n"
    "  legacy: defineTable({ owner: v.id(\"users\") }),\n"
    "  later: defineTable({ x: v.string() }),\n"
    "});\n"};
  cr_assert_eq(store_run(st, STORE_WRITE, change_schema, &a, &err), 0, "%s", err.msg);
  char uid[CID_MAX], lid[CID_MAX], json[256];
  insert("users", "{\"name\":\"Ada\"}", uid);
  cid_new(10042, 1.7e12, lid);
  snprintf(json, sizeof json, "{\"_id\":\"%s\",\"_creationTime\":1.5,\"owner\":\"%s\"}", lid, uid);
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *v = tu_json(json);
  cr_assert_eq(store_insert(tx, "legacy", v, STORE_KEEP_SYSTEM, NULL, &err), 0, "%s", err.msg);
  json_decref(v);
  cr_assert_eq(store_commit(tx, &err), 0);
  char table[65];
  json_t *doc = NULL;
  cr_assert_eq(store_begin(st, STORE_READ, &tx, &err), 0);
  cr_assert_eq(store_get(tx, lid, &doc, table, &err), 0);
  cr_assert_str_eq(table, "legacy");
  json_t *tables = store_tables(tx);
  json_t *later = json_array_get(tables, 3);
  cr_assert_str_eq(json_string_value(json_object_get(later, "name")), "later");
  cr_assert_eq(json_integer_value(json_object_get(later, "number")), 10043,
               "new tables are numbered after every number in use");
  json_decref(tables);
  json_decref(doc);
  store_rollback(tx);
}

static int collect_kv(void *arg, const char *key, const char *value)
{
  json_object_set_new(arg, key, json_string(value));
  return 0;
}

static int collect_journal(void *arg, int64_t seq, const char *body)
{
  (void)seq;
  json_array_append_new(arg, json_string(body));
  return 0;
}

Test(store, metadata_journals_and_online_backup)
{
  struct err err = ERR_INIT;
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_meta_set(tx, "migrate.a", "1", &err), 0);
  cr_assert_eq(store_meta_set(tx, "migrate.b", "2", &err), 0);
  cr_assert_eq(store_meta_set(tx, "other", "3", &err), 0);
  cr_assert_eq(store_journal_add(tx, "log", "first", NULL, &err), 0);
  cr_assert_eq(store_journal_add(tx, "log", "second", NULL, &err), 0);
  cr_assert_eq(store_journal_add(tx, "undo", "x", NULL, &err), 0);
  cr_assert_eq(store_commit(tx, &err), 0);
  char id[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", id);

  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *kv = json_object(), *entries = json_array();
  cr_assert_eq(store_meta_list(tx, "migrate.", collect_kv, kv, &err), 0);
  cr_expect_eq(json_object_size(kv), 2);
  cr_expect_str_eq(json_string_value(json_object_get(kv, "migrate.b")), "2");
  char *v = NULL;
  cr_expect_eq(store_meta_get(tx, "schema_name", &v, &err), E_NOTFOUND,
               "the store's own metadata is apart");
  cr_assert_eq(store_meta_set(tx, "migrate.a", NULL, &err), 0);
  cr_expect_eq(store_meta_get(tx, "migrate.a", &v, &err), E_NOTFOUND);
  cr_assert_eq(store_journal_scan(tx, "log", 1, collect_journal, entries, &err), 0);
  cr_expect_eq(json_array_size(entries), 2);
  cr_expect_str_eq(json_string_value(json_array_get(entries, 0)), "second");
  cr_assert_eq(store_journal_drop(tx, "log", &err), 0);
  json_array_clear(entries);
  cr_assert_eq(store_journal_scan(tx, "log", 0, collect_journal, entries, &err), 0);
  cr_expect_eq(json_array_size(entries), 0);
  /* a backup runs while this write transaction is open, and sees the last commit */
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/backup.db", dir) > 0);
  cr_assert_eq(store_backup(st, path, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_FULL, .must_exist = 1};
  struct store *b = NULL;
  cr_assert_eq(store_open(&o, &b, &err), 0, "%s", err.msg);
  cr_assert_eq(store_begin(b, STORE_READ, &tx, &err), 0);
  json_t *doc = NULL;
  cr_expect_eq(store_get(tx, id, &doc, NULL, &err), 0);
  cr_expect_eq(store_meta_get(tx, "migrate.a", &v, &err), 0, "the backup predates the delete");
  one_free(v);
  json_decref(doc);
  store_rollback(tx);
  store_close(b);
  free(path);
  json_decref(kv);
  json_decref(entries);
}

/* A backup on a thread of its own holds the database as it was when it
 * started: writes committed while it copies are not in it. */
Test(store, a_backup_beside_writes_holds_the_database_as_it_began)
{
  struct err err = ERR_INIT;
  char before[CID_MAX], after[CID_MAX];
  insert("users", "{\"name\":\"Ada\"}", before);
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/beside.db", dir) > 0);
  struct store_backup *b = NULL;
  store_backup_test_delay(300); /* the writes below surely come before the copy */
  cr_assert_eq(store_backup_start(st, path, &b, &err), 0, "%s", err.msg);
  store_backup_test_delay(0);
  cr_expect(store_backup_copying(b));
  insert("users", "{\"name\":\"Grace\"}", after);
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  json_t *patch = json_pack("{s:s}", "name", "Ada Lovelace");
  cr_assert_eq(store_patch(tx, before, patch, &err), 0, "%s", err.msg);
  json_decref(patch);
  cr_assert_eq(store_commit(tx, &err), 0);
  cr_assert_eq(store_backup_wait(b, &err), 0, "%s", err.msg);
  cr_expect_not(store_backup_copying(b));
  cr_assert_eq(store_backup_finish(b, &err), 0, "waiting again says the same");

  struct store_options o = {.path = path, .sync = STORE_SYNC_FULL, .must_exist = 1};
  struct store *copy = NULL;
  cr_assert_eq(store_open(&o, &copy, &err), 0, "%s", err.msg);
  cr_assert_eq(store_begin(copy, STORE_READ, &tx, &err), 0);
  json_t *doc = NULL;
  cr_assert_eq(store_get(tx, before, &doc, NULL, &err), 0, "%s", err.msg);
  cr_expect_str_eq(json_string_value(json_object_get(doc, "name")), "Ada");
  json_decref(doc);
  doc = NULL;
  cr_expect_eq(store_get(tx, after, &doc, NULL, &err), E_NOTFOUND, "written after the start");
  err_clear(&err);
  json_decref(doc);
  store_rollback(tx);
  store_close(copy);
  free(path);

  /* a copy that cannot be written says why when it is waited for */
  cr_assert(asprintf(&path, "%s/no/such/folder/beside.db", dir) > 0);
  cr_assert_eq(store_backup_start(st, path, &b, &err), 0, "%s", err.msg);
  cr_expect_eq(store_backup_finish(b, &err), E_IO);
  cr_expect(strstr(err.msg, "cannot create the backup"), "%s", err.msg);
  err_clear(&err);
  free(path);
}

/* --- group commit --- */

/* A schema under which users must have an age: a member puts it in force
 * and then fails, and the members after it must still write under ours. */
#define SCHEMA_AGE_REQUIRED \
  "import { defineSchema, defineTable } from \"convex/server\";\n" \
  "import { v } from \"convex/values\";\n" \
  "export default defineSchema({\n" \
  "  users: defineTable({ name: v.string(), age: v.number() }).index(\"by_name\", [\"name\"]),\n" \
  "  messages: defineTable({ conv: v.string(), n: v.number(), author: v.optional(v.id(\"users\")) })\n" \
  "    .index(\"by_conv\", [\"conv\"]).index(\"by_conv_n\", [\"conv\", \"n\"]),\n" \
  "});\n"

struct member {
  struct store *s;
  int what;               /* see member_fn */
  size_t wait_for;        /* leader: writes waiting before it returns */
  int rc;
  struct err err;
  pthread_mutex_t *lock;
  pthread_cond_t *cond;
  int *running;
};

/* 0: inserts a user; 1: inserts, then refuses; 2: inserts as a migration;
 * 3: puts SCHEMA_AGE_REQUIRED in force, inserts, then refuses; 4: an
 * invalid insert (a number for a name). The leader (wait_for > 0) inserts
 * and holds its group until wait_for writes are queued behind it. */
static int member_fn(struct store_tx *tx, void *arg, struct err *err)
{
  struct member *m = arg;
  if (m->wait_for) {
    pthread_mutex_lock(m->lock);
    *m->running = 1;
    pthread_cond_signal(m->cond);
    pthread_mutex_unlock(m->lock);
    struct store_stats stats;
    for (int i = 0; i < 10000; i++) {
      store_stats(m->s, &stats);
      if (stats.waiting == m->wait_for)
        break;
      struct timespec ts = {0, 1000000L};
      nanosleep(&ts, NULL);
    }
    if (stats.waiting != m->wait_for)
      return err_set(err, E_INTERNAL, "the members never queued");
  }
  if (m->what == 3) {
    struct new_schema a = {SCHEMA_AGE_REQUIRED};
    int rc = change_schema(tx, &a, err);
    if (rc)
      return rc;
  }
  if (m->what == 2)
    store_tx_set_origin(tx, STORE_ORIGIN_MIGRATION);
  char json[64];
  snprintf(json, sizeof json, m->what == 4 ? "{\"name\":4}" : "{\"name\":\"member %d\"%s}", m->what,
           m->what == 3 ? ",\"age\":3.0" : "");
  json_t *v = tu_json(json);
  int rc = store_insert(tx, "users", v, 0, NULL, err);
  json_decref(v);
  if (rc == 0 && (m->what == 1 || m->what == 3))
    rc = err_set(err, E_CONFLICT, "member %d refuses", m->what);
  return rc;
}

static void *run_member(void *arg)
{
  struct member *m = arg;
  m->rc = store_run(m->s, STORE_WRITE, member_fn, m, &m->err);
  return NULL;
}

Test(store, grouped_writes_commit_together_and_fail_alone)
{
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF, .must_exist = 1,
                            .group_commit = 1};
  struct store *g = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &g, &err), 0, "%s", err.msg);
  struct feed f = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 1, {0}};
  int h = store_subscribe(g, on_change, &f);
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
  int running = 0;
  /* the leader holds a group of its own until the five others queue, in
   * the order 1, 2, 3, 4, 0: then one group takes all five */
  enum { N = 6 };
  static const int what[N] = {0, 1, 2, 3, 4, 0};
  struct member m[N];
  pthread_t t[N];
  for (int i = 0; i < N; i++)
    m[i] = (struct member){g, what[i], i == 0 ? N - 1 : 0, 0, ERR_INIT, &lock, &cond, &running};
  pthread_create(&t[0], NULL, run_member, &m[0]);
  pthread_mutex_lock(&lock);
  while (!running)
    pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  for (int i = 1; i < N; i++) {
    pthread_create(&t[i], NULL, run_member, &m[i]);
    if (i == N - 1)
      break; /* the leader sees this one queue, and its group then takes all */
    struct store_stats stats = {0};
    for (int k = 0; k < 10000 && stats.waiting < (size_t)i; k++) {
      store_stats(g, &stats);
      struct timespec ts = {0, 1000000L};
      nanosleep(&ts, NULL);
    }
    cr_assert_eq(stats.waiting, (size_t)i, "member %d never queued", i);
  }
  for (int i = 0; i < N; i++)
    pthread_join(t[i], NULL);
  /* each writer has its own answer */
  cr_expect_eq(m[0].rc, 0, "%s", m[0].err.msg);
  cr_expect_eq(m[1].rc, E_CONFLICT);
  cr_expect_str_eq(m[1].err.msg, "member 1 refuses");
  cr_expect_eq(m[2].rc, 0, "%s", m[2].err.msg);
  cr_expect_eq(m[3].rc, E_CONFLICT);
  cr_expect_eq(m[4].rc, E_SCHEMA, "%s", m[4].err.msg);
  cr_expect_gt(m[4].err.ndetails, 0, "the validation details reach the writer");
  cr_expect_eq(m[5].rc, 0, "member 5 writes under the schema member 3 took back: %s",
               m[5].err.msg);
  for (int i = 0; i < N; i++)
    err_clear(&m[i].err);
  /* two commits: the leader's alone, then the five together */
  struct store_stats stats;
  store_stats(g, &stats);
  cr_expect_eq(stats.commits, 2);
  cr_expect_eq(stats.grouped, 5);
  /* only the writes of the members that succeeded are there, in order */
  cr_expect_eq(count("users"), 3);
  store_unsubscribe(g, h);
  size_t n = 0;
  struct store_change *log = expect_feed_and_log(g, &f, "III", &n);
  cr_expect_eq(log[1].origin, STORE_ORIGIN_MIGRATION);
  cr_expect_eq(log[2].origin, STORE_ORIGIN_SERVICE, "an origin ends with its member");
  one_free(log);
  struct store_tx *tx = NULL;
  char name[32];
  cr_assert_eq(store_begin(g, STORE_READ, &tx, &err), 0);
  store_schema_name(tx, name, sizeof name);
  store_rollback(tx);
  cr_expect_str_neq(name, "v2", "the schema member 3 put in force was taken back");
  store_close(g);
  free(path);
}

/* --- the log under steady load --- */

struct steady {
  struct store *s;
  int writer, n;
  atomic_int *stop;
  long failed;
};

static int insert_big(struct store_tx *tx, void *arg, struct err *err)
{
  struct steady *w = arg;
  static char pad[2049];
  if (!pad[0])
    memset(pad, 'x', sizeof pad - 1);
  json_t *v = json_pack("{s:s,s:f}", "conv", pad, "n", (double)(w->writer * 10000 + w->n));
  int rc = store_insert(tx, "messages", v, 0, NULL, err);
  json_decref(v);
  return rc;
}

static void *steady_writer(void *arg)
{
  struct steady *w = arg;
  for (w->n = 0; w->n < 1500; w->n++) {
    struct err err = ERR_INIT;
    w->failed += store_run(w->s, STORE_WRITE, insert_big, w, &err) != 0;
    err_clear(&err);
  }
  atomic_fetch_add(w->stop, 1); /* one more writer done */
  return NULL;
}

static void *steady_reader(void *arg)
{
  struct steady *r = arg;
  while (atomic_load(r->stop) < 8) { /* until the 8 writers are done */
    struct store_tx *tx = NULL;
    struct err err = ERR_INIT;
    if (store_begin(r->s, STORE_READ, &tx, &err) != 0) {
      r->failed++;
      continue;
    }
    struct store_query q = {.table = "messages", .index = "by_conv", .limit = 5, .desc = 1};
    struct store_page page;
    r->failed += store_query(tx, &q, &page, &err) != 0;
    store_page_release(&page);
    store_rollback(tx);
    err_clear(&err);
  }
  return NULL;
}

/* A server's store under steady writes and reads: the log is copied into
 * the database and started over, so it stays bounded, where before it
 * grew by every page written (a checkpoint that waits for nobody never
 * sees the moment a log may start over). 12,000 writes of 2 KB documents
 * write half as much again as the bound asserted. */
Test(store, the_log_starts_over_under_steady_writes_and_reads)
{
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF, .must_exist = 1,
                            .group_commit = 1, .background_checkpoints = 1};
  struct store *g = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &g, &err), 0, "%s", err.msg);
  enum { WRITERS = 8, READERS = 2 };
  atomic_int stop = 0;
  struct steady w[WRITERS + READERS];
  pthread_t t[WRITERS + READERS];
  for (int i = 0; i < WRITERS + READERS; i++) {
    w[i] = (struct steady){g, i, 0, &stop, 0};
    pthread_create(&t[i], NULL, i < WRITERS ? steady_writer : steady_reader, &w[i]);
  }
  char *wal = NULL;
  cr_assert(asprintf(&wal, "%s-wal", path) > 0);
  long largest = 0;
  struct stat sb;
  while (atomic_load(&stop) < WRITERS) { /* the log's size while they write */
    if (stat(wal, &sb) == 0 && (long)sb.st_size > largest)
      largest = (long)sb.st_size;
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < WRITERS + READERS; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < WRITERS + READERS; i++)
    cr_expect_eq(w[i].failed, 0, "thread %d had %ld failures", i, w[i].failed);
  struct store_stats stats;
  store_stats(g, &stats);
  cr_log_info("log %ld bytes after %ld commits", largest, stats.commits);
  /* without the restarts: 600 MB here; with them 110-170 MB (a restart
   * at 64 MiB, and the log grows between two checkpoints, 100 ms apart) */
  cr_expect_lt(largest, 400L << 20, "the log grew to %ld bytes", largest);
  store_close(g);
  cr_assert_eq(count("messages"), WRITERS * 1500);
  free(wal);
  free(path);
}
