/* API tests of conversations: mentions parsed on the server (and the
 * participants they add, and the ones they may not), message pages newest
 * first, my conversations by their last message, and the realtime streams
 * (delivery in order, resuming without loss or duplicates, a removed
 * participant's stream ending), concurrent posts (group-committed) and a
 * stop while posting. Runs the real `one serve`. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct api_server srv;
static struct api_user ann, bob, cid;

static void setup(void)
{
  api_start(&srv);
  api_signup(&srv, "ann@example.org", &ann);
  api_signup(&srv, "bob@example.org", &bob);
  api_signup(&srv, "cid@example.org", &cid);
}

static void teardown(void) { cr_assert_eq(api_stop(&srv), 0); }

TestSuite(api_conversations, .init = setup, .fini = teardown, .timeout = 180);

static void take_id(json_t *j, char *out, size_t n)
{
  const char *id = json_string_value(json_object_get(j, "_id"));
  cr_assert(id, "no _id");
  snprintf(out, n, "%s", id);
  json_decref(j);
}

static void new_conversation(const struct api_user *u, const char *title, char *id)
{
  take_id(api_expect(&srv, u->token, 201, "POST", "/api/v1/conversations", "{\"title\":\"%s\"}",
                     title), id, 64);
}

static size_t count_items(const struct api_user *u, const char *path)
{
  json_t *j = api_expect(&srv, u->token, 200, "GET", path, NULL);
  size_t n = json_array_size(json_object_get(j, "items"));
  json_decref(j);
  return n;
}

Test(api_conversations, mentions_are_parsed_into_parts)
{
  char conv[64], agent[64], path[256];
  new_conversation(&ann, "Mentions", conv);
  take_id(api_expect(&srv, ann.token, 201, "POST", "/api/v1/agents",
                     "{\"name\":\"Writer\",\"description\":\"writes\"}"), agent, sizeof agent);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  /* at the start, in the middle with punctuation and brackets, at the end;
   * malformed ones are text */
  json_t *m = api_expect(&srv, ann.token, 201, "POST", path,
                         "{\"content\":\"@[Writer](agent:%s), ask @[Bob (the [builder)](user:%s)! "
                         "@[x](robot:1) @[y](agent:) @[unclosed](user:abc def @[Bob](user:%s)\"}",
                         agent, bob.id, bob.id);
  json_t *parts = json_object_get(m, "parts");
  cr_assert_eq(json_array_size(parts), 5, "%s", json_dumps(parts, 0));
  json_t *p0 = json_array_get(parts, 0), *p2 = json_array_get(parts, 2), *p4 = json_array_get(parts, 4);
  cr_assert_str_eq(json_string_value(json_object_get(p0, "type")), "mention");
  cr_assert_str_eq(json_string_value(json_object_get(p0, "kind")), "agent");
  cr_assert_str_eq(json_string_value(json_object_get(p0, "id")), agent);
  cr_assert_str_eq(json_string_value(json_object_get(p0, "name")), "Writer");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(parts, 1), "text")), ", ask ");
  cr_assert_str_eq(json_string_value(json_object_get(p2, "name")), "Bob (the [builder)");
  cr_assert_str_eq(json_string_value(json_object_get(p2, "kind")), "user");
  const char *text3 = json_string_value(json_object_get(json_array_get(parts, 3), "text"));
  cr_assert(strstr(text3, "@[x](robot:1) @[y](agent:) @[unclosed](user:abc def "), "%s", text3);
  cr_assert_str_eq(json_string_value(json_object_get(p4, "name")), "Bob");
  /* the writer and Bob joined, once each */
  json_t *added = json_object_get(m, "addedParticipants");
  cr_assert_eq(json_array_size(added), 2, "%s", json_dumps(added, 0));
  char mid[64];
  snprintf(mid, sizeof mid, "%s", json_string_value(json_object_get(m, "_id")));
  json_decref(m);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", conv);
  cr_assert_eq(count_items(&ann, path), 3);
  /* Bob now sees the conversation and the parts on read */
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_t *page = api_expect(&srv, bob.token, 200, "GET", path, NULL);
  json_t *first = NULL, *item; /* the Writer may have answered already (no model: a notice) */
  size_t k;
  json_array_foreach(json_object_get(page, "items"), k, item) if (strcmp(
    json_string_value(json_object_get(item, "_id")), mid) == 0) first = item;
  cr_assert(first, "Bob does not see the message");
  cr_assert_eq(json_array_size(json_object_get(first, "parts")), 5);
  json_decref(page);
  /* a client cannot smuggle its own parts or author */
  json_decref(api_expect(&srv, ann.token, 422, "POST", path,
                         "{\"content\":\"hi\",\"parts\":[]}"));
  json_decref(api_expect(&srv, ann.token, 422, "POST", path,
                         "{\"content\":\"hi\",\"authorParticipantId\":\"x\"}"));
}

Test(api_conversations, mentions_that_may_not_add_refuse_the_message)
{
  char conv[64], priv[64], path[256], ppath[256];
  new_conversation(&ann, "Refusals", conv);
  take_id(api_expect(&srv, cid.token, 201, "POST", "/api/v1/agents",
                     "{\"name\":\"Secret\",\"description\":\"cid's\",\"visibility\":\"private\"}"),
          priv, sizeof priv);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  snprintf(ppath, sizeof ppath, "/api/v1/conversations/%s/participants", conv);
  /* cid's private agent, an agent id that does not exist, a user id that
   * is an agent's: each refuses the whole message, nothing is written */
  json_t *j = api_expect(&srv, ann.token, 422, "POST", path,
                         "{\"content\":\"hey @[Bob](user:%s) and @[Secret](agent:%s)\"}", bob.id, priv);
  cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "path")), "content");
  json_decref(j);
  json_decref(api_expect(&srv, ann.token, 422, "POST", path,
                         "{\"content\":\"@[Ghost](agent:%s)\"}", "jh7d4q9dhgxjtkpspy4qt8wbcr000amd"));
  json_decref(api_expect(&srv, ann.token, 422, "POST", path, "{\"content\":\"@[Odd](user:%s)\"}",
                         priv));
  cr_assert_eq(count_items(&ann, path), 0, "no message was written");
  cr_assert_eq(count_items(&ann, ppath), 1, "Bob was not added by the refused message");
  /* once cid shares the agent with Ann, the mention adds it */
  char share[256];
  snprintf(share, sizeof share, "/api/v1/agents/%s/sharing", priv);
  json_decref(api_expect(&srv, cid.token, 200, "POST", share, "{\"userId\":\"%s\"}", ann.id));
  json_decref(api_expect(&srv, ann.token, 201, "POST", path,
                         "{\"content\":\"@[Secret](agent:%s) hello\"}", priv));
  cr_assert_eq(count_items(&ann, ppath), 2);
  /* Bob, not a participant, can neither read nor post */
  json_decref(api_expect(&srv, bob.token, 404, "POST", path, "{\"content\":\"let me in\"}"));
}

Test(api_conversations, pages_newest_first_and_my_list_by_last_message)
{
  char a[64], b[64], path[256];
  new_conversation(&ann, "First", a);
  new_conversation(&ann, "Second", b);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", a);
  for (int i = 0; i < 7; i++)
    json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"m%d\"}", i));
  /* newest first, three at a time, nothing lost or repeated */
  char url[1024], cursor[512] = "";
  int expect = 6, pages = 0;
  for (;;) {
    snprintf(url, sizeof url, "%s?limit=3%s%s", path, cursor[0] ? "&cursor=" : "", cursor);
    json_t *page = api_expect(&srv, ann.token, 200, "GET", url, NULL);
    json_t *items = json_object_get(page, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
      char want[16];
      snprintf(want, sizeof want, "m%d", expect--);
      cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, i), "content")), want);
    }
    pages++;
    int done = json_is_true(json_object_get(page, "done"));
    if (!done) {
      char *esc = curl_easy_escape(NULL, json_string_value(json_object_get(page, "cursor")), 0);
      snprintf(cursor, sizeof cursor, "%s", esc);
      curl_free(esc);
    }
    json_decref(page);
    if (done)
      break;
    cr_assert(pages < 10);
  }
  cr_assert_eq(expect, -1);
  /* a message in the first conversation brings it to the top of my list */
  json_t *list = api_expect(&srv, ann.token, 200, "GET", "/api/v1/conversations", NULL);
  json_t *top = json_array_get(json_object_get(list, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(top, "_id")), a);
  json_decref(list);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", b);
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"now b\"}"));
  list = api_expect(&srv, ann.token, 200, "GET", "/api/v1/conversations?limit=1", NULL);
  top = json_array_get(json_object_get(list, "items"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(top, "_id")), b);
  cr_assert(!json_is_true(json_object_get(list, "done")));
  json_decref(list);
  /* Bob has none */
  cr_assert_eq(count_items(&bob, "/api/v1/conversations"), 0);
}

/* The "id: N" of the last event in text, or "". */
static void last_id(const char *text, char *out, size_t n)
{
  out[0] = '\0';
  for (const char *p = strstr(text, "id: "); p; p = strstr(p + 1, "\nid: ")) {
    const char *v = p[0] == '\n' ? p + 5 : p + 4;
    snprintf(out, n, "%.*s", (int)strcspn(v, "\n"), v);
  }
}

static size_t occurrences(const char *text, const char *needle)
{
  size_t n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* Ann's new conversation with Bob in it (mentioned), and Bob's stream of
 * it, connected; conv, path (its messages) and spath (its stream) are set. */
static struct api_stream *bob_watching(const char *title, char conv[64], char path[256],
                                       char spath[256])
{
  new_conversation(&ann, title, conv);
  snprintf(path, 256, "/api/v1/conversations/%s/messages", conv);
  snprintf(spath, 256, "/api/v1/conversations/%s/stream", conv);
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"@[Bob](user:%s)\"}",
                         bob.id));
  struct api_stream *st = api_stream_open(&srv, spath, bob.token, NULL);
  cr_assert(api_stream_wait(st, ": connected", 10000));
  return st;
}

Test(api_conversations, streams_deliver_in_order_and_resume_without_loss)
{
  char conv[64], path[256], spath[256];
  struct api_stream *st = bob_watching("Live", conv, path, spath);
  for (int i = 0; i < 5; i++)
    json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"live %d\"}", i));
  cr_assert(api_stream_wait(st, "live 4", 10000), "Bob's stream got Ann's messages");
  char *text = api_stream_text(st);
  const char *prev = text;
  for (int i = 0; i < 5; i++) {
    char want[16];
    snprintf(want, sizeof want, "live %d", i);
    const char *at = strstr(text, want);
    cr_assert(at && at >= prev, "in order: %s", text);
    prev = at;
  }
  cr_assert(strstr(text, "event: message\n"), "%s", text);
  char resume[32];
  last_id(text, resume, sizeof resume);
  cr_assert(resume[0]);
  free(text);
  api_stream_close(st); /* the connection drops */

  /* while Bob is away: more messages, a status change and a rename */
  for (int i = 5; i < 8; i++)
    json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"away %d\"}", i));
  char conv_path[256];
  snprintf(conv_path, sizeof conv_path, "/api/v1/conversations/%s", conv);
  json_decref(api_expect(&srv, ann.token, 200, "PATCH", conv_path, "{\"title\":\"Renamed\"}"));

  st = api_stream_open(&srv, spath, bob.token, resume);
  cr_assert(api_stream_wait(st, "Renamed", 10000), "resumed stream caught up");
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"back 8\"}"));
  cr_assert(api_stream_wait(st, "back 8", 10000));
  text = api_stream_text(st);
  cr_assert_eq(occurrences(text, "live "), 0, "nothing before Last-Event-ID again: %s", text);
  for (int i = 5; i < 8; i++) {
    char want[32];
    snprintf(want, sizeof want, "\"content\":\"away %d\"", i);
    cr_assert_eq(occurrences(text, want), 1, "%s exactly once: %s", want, text);
  }
  cr_assert_eq(occurrences(text, "\"content\":\"back 8\""), 1);
  free(text);
  api_stream_close(st);
  /* a Last-Event-ID that is not an event id */
  st = api_stream_open(&srv, spath, bob.token, "yesterday");
  long status = 0;
  cr_assert(api_stream_ended(st, 10000, &status));
  cr_assert_eq(status, 400);
  api_stream_close(st);
}

Test(api_conversations, a_removed_participants_stream_ends)
{
  char conv[64], path[256], spath[256];
  new_conversation(&ann, "Leaving", conv);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", conv);
  json_t *row = api_expect(&srv, ann.token, 201, "POST", path,
                           "{\"kind\":\"user\",\"userId\":\"%s\"}", bob.id);
  char rid[64];
  take_id(row, rid, sizeof rid);
  snprintf(spath, sizeof spath, "/api/v1/conversations/%s/stream", conv);
  struct api_stream *st = api_stream_open(&srv, spath, bob.token, NULL);
  struct api_stream *mine = api_stream_open(&srv, "/api/v1/me/stream", bob.token, NULL);
  cr_assert(api_stream_wait(st, ": connected", 10000));
  cr_assert(api_stream_wait(mine, ": connected", 10000));
  char del[512];
  snprintf(del, sizeof del, "%s/%s", path, rid);
  json_decref(api_expect(&srv, ann.token, 200, "DELETE", del, NULL));
  long status = 0;
  cr_assert(api_stream_ended(st, 10000, &status), "the stream ended");
  char *text = api_stream_text(st);
  cr_assert(strstr(text, "\"isRemoved\":true"), "the last event says why: %s", text);
  free(text);
  cr_assert(api_stream_wait(mine, "event: membership", 10000), "Bob's list learns it too");
  api_stream_close(st);
  api_stream_close(mine);
  /* and he cannot follow it again */
  st = api_stream_open(&srv, spath, bob.token, NULL);
  cr_assert(api_stream_ended(st, 10000, &status));
  cr_assert_eq(status, 404);
  api_stream_close(st);
}

Test(api_conversations, my_stream_follows_my_conversations)
{
  char conv[64], path[256];
  struct api_stream *mine = api_stream_open(&srv, "/api/v1/me/stream", bob.token, NULL);
  cr_assert(api_stream_wait(mine, ": connected", 10000));
  new_conversation(&ann, "For Bob", conv);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"private\"}"));
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"@[Bob](user:%s) join\"}",
                         bob.id));
  cr_assert(api_stream_wait(mine, "event: membership", 10000));
  json_decref(api_expect(&srv, ann.token, 201, "POST", path, "{\"content\":\"welcome\"}"));
  cr_assert(api_stream_wait(mine, "event: conversation", 10000));
  char *text = api_stream_text(mine);
  cr_assert(strstr(text, "For Bob"), "%s", text);
  cr_assert(!strstr(text, "\"private\""), "messages are not on the list stream: %s", text);
  free(text);
  api_stream_close(mine);
}

/* A page forwards stored messages without parsing them when it can; the
 * result must be what parsing would give: int64 values in wire form, parts
 * for every message. */
Test(api_conversations, pages_render_every_kind_of_message)
{
  struct api_user admin;
  api_admin(&srv, "root@example.org", &admin);
  char conv[64], path[256];
  new_conversation(&admin, "Kinds", conv);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", conv);
  json_t *rows = api_expect(&srv, admin.token, 200, "GET", path, NULL);
  const char *me = json_string_value(json_object_get(json_array_get(json_object_get(rows, "items"), 0), "_id"));
  /* a system message with int64 in its meta, written as the runtime would */
  json_decref(api_expect(&srv, admin.token, 201, "POST", "/api/v1/tables/conversationMessages",
                         "{\"conversationId\":\"%s\",\"authorParticipantId\":\"%s\",\"kind\":\"system\","
                         "\"content\":\"tool used\",\"createdAt\":1.0,\"meta\":{\"tool\":\"webSearch\","
                         "\"n\":{\"$integer\":\"BwAAAAAAAAA=\"}}}", conv, me));
  json_decref(rows);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, admin.token, 201, "POST", path, "{\"content\":\"plain \\\"quoted\\\" text\"}"));
  json_decref(api_expect(&srv, admin.token, 201, "POST", path,
                         "{\"content\":\"\\u00e9t\\u00e9 @[Root](user:%s)\"}", admin.id));
  json_t *page = api_expect(&srv, admin.token, 200, "GET", path, NULL);
  json_t *items = json_object_get(page, "items");
  cr_assert_eq(json_array_size(items), 3);
  json_t *m0 = json_array_get(items, 0), *m1 = json_array_get(items, 1), *m2 = json_array_get(items, 2);
  cr_assert_eq(json_array_size(json_object_get(m0, "parts")), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(m0, "parts"), 0), "text")),
                   "\xc3\xa9t\xc3\xa9 ");
  json_t *p1 = json_array_get(json_object_get(m1, "parts"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(p1, "text")), "plain \"quoted\" text");
  cr_assert_str_eq(json_string_value(json_object_get(m2, "kind")), "system");
  json_t *n = json_object_get(json_object_get(m2, "meta"), "n");
  cr_assert_str_eq(json_string_value(json_object_get(n, "$integer")), "BwAAAAAAAAA=",
                   "int64 stays int64 on the wire");
  cr_assert_eq(json_array_size(json_object_get(m2, "parts")), 1);
  json_decref(page);
}

struct poster {
  const char *path;
  const struct api_user *u;
  int who, n, failed;
  atomic_int ok;          /* posts answered 201 */
};

static void *post_many(void *arg)
{
  struct poster *p = arg;
  for (int i = 0; i < p->n; i++) {
    char body[96];
    snprintf(body, sizeof body, "{\"content\":\"poster %d message %d\"}", p->who, i);
    struct api_reply r = api_try(&srv, p->u->token, "POST", p->path, body);
    p->failed += r.status != 201;
    if (r.status == 201)
      atomic_fetch_add(&p->ok, 1);
    api_reply_free(&r);
  }
  return NULL;
}

/* Concurrent posts are group-committed: every one is answered 201, is
 * stored once, and reaches a stream once, each poster's in the order it
 * posted them. */
Test(api_conversations, concurrent_posts_are_all_stored_and_streamed_once)
{
  enum { POSTERS = 12, EACH = 15 };
  char conv[64], path[256], spath[256];
  struct api_stream *st = bob_watching("Busy", conv, path, spath);
  pthread_t t[POSTERS];
  struct poster p[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    p[i] = (struct poster){path, i % 2 ? &bob : &ann, i, EACH, 0, 0};
    pthread_create(&t[i], NULL, post_many, &p[i]);
  }
  for (int i = 0; i < POSTERS; i++) {
    pthread_join(t[i], NULL);
    cr_expect_eq(p[i].failed, 0, "poster %d had %d posts refused", i, p[i].failed);
  }
  char last[64];
  snprintf(last, sizeof last, "poster %d message %d", POSTERS - 1, EACH - 1);
  cr_assert(api_stream_wait(st, last, 10000));
  char page[300];
  snprintf(page, sizeof page, "%s?limit=1000", path);
  cr_expect_eq(count_items(&ann, page), POSTERS * EACH + 1);
  /* every message once on the stream, each poster's in order (give the
   * stream time for the others: the last may not be the last committed) */
  for (int i = 0; i < POSTERS; i++) {
    char want[64];
    snprintf(want, sizeof want, "poster %d message %d\"", i, EACH - 1);
    cr_assert(api_stream_wait(st, want, 10000), "%s", want);
  }
  char *text = api_stream_text(st);
  for (int i = 0; i < POSTERS; i++) {
    const char *prev = text;
    for (int k = 0; k < EACH; k++) {
      char want[64];
      snprintf(want, sizeof want, "\"content\":\"poster %d message %d\"", i, k);
      cr_expect_eq(occurrences(text, want), 1, "%s once", want);
      const char *at = strstr(text, want);
      cr_expect(at && at >= prev, "%s in order", want);
      prev = at ? at : prev;
    }
  }
  free(text);
  api_stream_close(st);
  struct api_reply r = api_call(&srv, "GET", "/metrics", NULL, 0, NULL);
  cr_expect(strstr(r.body, "one_store_commits_total "), "%s", r.body);
  cr_expect(strstr(r.body, "one_store_writes_waiting 0"), "%s", r.body);
  api_reply_free(&r);
}

/* SIGTERM while writers post: the server stops gracefully (exit 0), and
 * after a restart on its database every post it answered 201 is there;
 * at most the one each poster had in flight more. */
Test(api_conversations, a_stop_while_posting_loses_no_answered_post)
{
  enum { POSTERS = 8, EACH = 400 };
  char conv[64], path[256];
  new_conversation(&ann, "Stopping", conv);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  pthread_t t[POSTERS];
  struct poster p[POSTERS];
  for (int i = 0; i < POSTERS; i++) {
    p[i] = (struct poster){path, &ann, i, EACH, 0, 0};
    pthread_create(&t[i], NULL, post_many, &p[i]);
  }
  for (int k = 0; k < 3000 && atomic_load(&p[POSTERS - 1].ok) < 20; k++) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  cr_assert_geq(atomic_load(&p[POSTERS - 1].ok), 20, "the posters never got going");
  int st = 0;
  kill(srv.pid, SIGTERM);
  waitpid(srv.pid, &st, 0);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "one serve did not stop gracefully");
  int acked = 0;
  for (int i = 0; i < POSTERS; i++) {
    pthread_join(t[i], NULL);
    acked += atomic_load(&p[i].ok);
  }
  cr_expect_lt(acked, POSTERS * EACH, "the stop came after every post: no test");
  char *old = srv.dir, prepare[600];
  snprintf(prepare, sizeof prepare, "cp '%s'/t.db* .", old);
  api_start_in(&srv, prepare);
  tu_rmdir(old);
  free(old);
  char page[300];
  size_t stored = 0;
  const char *cursor = NULL;
  char *cur = NULL;
  do { /* every page, newest first */
    snprintf(page, sizeof page, "%s?limit=1000%s%s", path, cur ? "&cursor=" : "", cur ? cur : "");
    json_t *j = api_expect(&srv, ann.token, 200, "GET", page, NULL);
    stored += json_array_size(json_object_get(j, "items"));
    cursor = json_string_value(json_object_get(j, "cursor"));
    free(cur);
    cur = cursor && !json_is_true(json_object_get(j, "done")) ? strdup(cursor) : NULL;
    json_decref(j);
  } while (cur);
  cr_log_info("%d posts answered before the stop, %zu stored", acked, stored);
  cr_expect_geq(stored, (size_t)acked, "a post answered 201 is gone: %zu stored, %d answered",
                stored, acked);
  cr_expect_leq(stored, (size_t)acked + POSTERS, "%zu stored, %d answered", stored, acked);
}
