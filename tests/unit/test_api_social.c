/* End-to-end tests of the social features through the real `one serve`:
 * reactions toggled one of each type per person, comments, the counts that
 * message reads carry (also from a kept page), tags applied to what their
 * permissions allow, follows and the feed of what the followed post where
 * the reader takes part; each with its permissions and bad input. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct api_server srv;
static struct api_user alice, bob, carol;

static void setup(void)
{
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_signup(&srv, "bob@example.com", &bob);
  api_signup(&srv, "carol@example.com", &carol);
}

static void teardown(void) { api_stop(&srv); }

TestSuite(api_social, .init = setup, .fini = teardown, .timeout = 120);

/* A conversation of u with the users others (a JSON list of ids), its id into out. */
static void conversation(const struct api_user *u, const char *title, const char *others,
                         char out[64])
{
  json_t *c = api_expect(&srv, u->token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"%s\",\"users\":%s}", title, others);
  snprintf(out, 64, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
}

static void post(const struct api_user *u, const char *conv, const char *content, char out[64])
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_t *m = api_expect(&srv, u->token, 201, "POST", path, "{\"content\":\"%s\"}", content);
  if (out)
    snprintf(out, 64, "%s", json_string_value(json_object_get(m, "_id")));
  json_decref(m);
}

/* The message msg as u reads it in conv's newest page (new reference). */
static json_t *read_message(const struct api_user *u, const char *conv, const char *msg)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_t *page = api_expect(&srv, u->token, 200, "GET", path, NULL), *m, *found = NULL;
  size_t i;
  json_array_foreach(json_object_get(page, "items"), i, m) if (
    strcmp(json_string_value(json_object_get(m, "_id")), msg) == 0) found = json_incref(m);
  json_decref(page);
  cr_assert(found, "message %s is on the page", msg);
  return found;
}

static long count_of(const json_t *m, const char *type)
{
  return (long)json_number_value(json_object_get(json_object_get(m, "reactionCounts"), type));
}

static json_t *react(const struct api_user *u, long status, const char *conv, const char *msg,
                     const char *body)
{
  char path[200];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages/%s/reactions", conv, msg);
  return api_expect(&srv, u->token, status, "POST", path, "%s", body);
}

Test(api_social, reactions_toggle_and_message_reads_count_them)
{
  char conv[64], other[64], msg[64], path[200];
  snprintf(path, sizeof path, "[\"%s\"]", bob.id);
  conversation(&alice, "Launch", path, conv);
  conversation(&carol, "Elsewhere", "[]", other);
  post(&alice, conv, "We ship on Friday", msg);

  json_t *m = read_message(&alice, conv, msg); /* kept as a page: reactions must renew it */
  cr_assert_eq(json_object_size(json_object_get(m, "reactionCounts")), 0);
  cr_assert_eq((long)json_number_value(json_object_get(m, "commentCount")), 0);
  json_decref(m);

  json_t *r = react(&bob, 200, conv, msg, "{\"type\":\"like\"}");
  cr_assert(json_is_true(json_object_get(r, "reacted")));
  cr_assert_eq(count_of(r, "like"), 1);
  json_decref(r);
  json_decref(react(&alice, 200, conv, msg, "{\"type\":\"like\"}"));
  r = react(&alice, 200, conv, msg, "{\"type\":\"🎉\"}");
  cr_assert_eq(count_of(r, "like"), 2);
  cr_assert_eq(count_of(r, "🎉"), 1);
  json_decref(r);
  r = react(&bob, 200, conv, msg, "{\"type\":\"like\"}");
  cr_assert(json_is_false(json_object_get(r, "reacted")), "a second like takes it back");
  cr_assert_eq(count_of(r, "like"), 1);
  json_decref(r);

  m = read_message(&bob, conv, msg);
  cr_assert_eq(count_of(m, "like"), 1);
  cr_assert_eq(count_of(m, "🎉"), 1);
  json_decref(m);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages/%s/reactions", conv, msg);
  json_t *list = api_expect(&srv, bob.token, 200, "GET", path, NULL);
  cr_assert_eq(json_array_size(json_object_get(list, "items")), 2);
  json_decref(list);

  /* outsiders do not see it; bad input is refused, and nothing is written */
  json_decref(react(&carol, 404, conv, msg, "{\"type\":\"like\"}"));
  json_decref(api_expect(&srv, carol.token, 404, "GET", path, NULL));
  json_decref(react(&bob, 400, conv, msg, "{\"type\":\"\"}"));
  json_decref(react(&bob, 400, conv, msg, "{\"type\":\"a/b\"}"));
  json_decref(react(&bob, 400, conv, msg,
                    "{\"type\":\"a type far longer than any reaction's name should be\"}"));
  json_decref(react(&bob, 422, conv, msg, "{\"type\":\"like\",\"userId\":\"x\"}"));
  json_decref(react(&carol, 404, other, msg, "{\"type\":\"like\"}"));
  json_decref(react(&bob, 404, conv, "nosuchmessage", "{\"type\":\"like\"}"));
  m = read_message(&alice, conv, msg);
  cr_assert_eq(count_of(m, "like"), 1);
  json_decref(m);
}

Test(api_social, comments_on_messages)
{
  char conv[64], msg[64], path[200], who[80];
  snprintf(who, sizeof who, "[\"%s\"]", bob.id);
  conversation(&alice, "Plans", who, conv);
  post(&alice, conv, "Draft is up", msg);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages/%s/comments", conv, msg);
  json_t *c = api_expect(&srv, bob.token, 201, "POST", path, "{\"content\":\"Looks good\"}");
  cr_assert_str_eq(json_string_value(json_object_get(c, "content")), "Looks good");
  cr_assert_str_eq(json_string_value(json_object_get(c, "messageId")), msg);
  json_decref(c);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path, "{\"content\":\"Thanks\"}"));

  json_t *list = api_expect(&srv, alice.token, 200, "GET", path, NULL);
  json_t *items = json_object_get(list, "items");
  cr_assert_eq(json_array_size(items), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "content")),
                   "Looks good", "oldest first");
  json_decref(list);
  json_t *m = read_message(&bob, conv, msg);
  cr_assert_eq((long)json_number_value(json_object_get(m, "commentCount")), 2);
  json_decref(m);

  json_decref(api_expect(&srv, bob.token, 400, "POST", path, "{\"content\":\"  \"}"));
  json_decref(api_expect(&srv, bob.token, 400, "POST", path, "{\"content\":3}"));
  json_decref(api_expect(&srv, bob.token, 422, "POST", path,
                         "{\"content\":\"x\",\"authorParticipantId\":\"y\"}"));
  json_decref(api_expect(&srv, carol.token, 404, "POST", path, "{\"content\":\"hi\"}"));
  json_decref(api_expect(&srv, carol.token, 404, "GET", path, NULL));

  /* once removed from the conversation, bob comments no more */
  snprintf(path, sizeof path, "/api/v1/conversations/%s/leave", conv);
  json_decref(api_expect(&srv, bob.token, 200, "POST", path, NULL));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages/%s/comments", conv, msg);
  json_decref(api_expect(&srv, bob.token, 404, "POST", path, "{\"content\":\"back\"}"));
}

static json_t *tag(const struct api_user *u, long status, const char *method, const char *name,
                   const char *id)
{
  char path[200];
  snprintf(path, sizeof path, "/api/v1/tags/%s/items/%s", name, id);
  return api_expect(&srv, u->token, status, method, path, NULL);
}

static int has_tag(const json_t *doc, const char *name)
{
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(doc, "tags"), i, t) if (strcmp(json_string_value(t), name) == 0)
    return 1;
  return 0;
}

Test(api_social, tags_are_created_and_applied_where_allowed)
{
  json_t *t = api_expect(&srv, alice.token, 201, "POST", "/api/v1/tags",
                         "{\"name\":\"urgent\",\"color\":\"#ef4444\"}");
  cr_assert_str_eq(json_string_value(json_object_get(t, "createdBy")), alice.id);
  json_decref(t);
  json_decref(api_expect(&srv, bob.token, 409, "POST", "/api/v1/tags", "{\"name\":\"urgent\"}"));
  json_decref(api_expect(&srv, bob.token, 400, "POST", "/api/v1/tags", "{\"name\":\"\"}"));
  json_decref(api_expect(&srv, bob.token, 422, "POST", "/api/v1/tags",
                         "{\"name\":\"x\",\"color\":5}"));

  char conv[64], msg[64], who[80], agent[64], know[64];
  snprintf(who, sizeof who, "[\"%s\"]", bob.id);
  conversation(&alice, "Tagged", who, conv);
  post(&alice, conv, "Tag me", msg);
  json_t *a = api_expect(&srv, alice.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Scout\",\"description\":\"finds things\"}");
  snprintf(agent, sizeof agent, "%s", json_string_value(json_object_get(a, "_id")));
  json_decref(a);
  json_t *k = api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"Alice prefers mornings\"}");
  snprintf(know, sizeof know, "%s", json_string_value(json_object_get(k, "_id")));
  json_decref(k);

  /* the conversation and its message: any participant; a new name makes the tag */
  json_t *r = tag(&bob, 200, "PUT", "urgent", conv);
  cr_assert(has_tag(r, "urgent"));
  cr_assert_str_eq(json_string_value(json_object_get(r, "table")), "conversations");
  json_decref(r);
  json_decref(tag(&bob, 200, "PUT", "big%20idea", msg));
  json_decref(tag(&bob, 200, "PUT", "big%20idea", msg)); /* twice: once on it */
  json_t *m = read_message(&alice, conv, msg);
  cr_assert(has_tag(m, "big idea"));
  cr_assert_eq(json_array_size(json_object_get(m, "tags")), 1);
  json_decref(m);
  json_t *list = api_expect(&srv, carol.token, 200, "GET", "/api/v1/tags", NULL);
  cr_assert_eq(json_array_size(json_object_get(list, "items")), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(list, "items"),
                                                                    0), "name")), "big idea");
  json_decref(list);

  /* an agent: its editors; knowledge: its owner */
  json_decref(tag(&alice, 200, "PUT", "urgent", agent));
  json_decref(tag(&bob, 403, "PUT", "urgent", agent));
  json_decref(tag(&alice, 200, "PUT", "urgent", know));
  json_decref(tag(&bob, 404, "PUT", "urgent", know));
  json_decref(tag(&carol, 404, "PUT", "urgent", conv));
  json_decref(tag(&alice, 400, "PUT", "urgent", alice.id)); /* users carry no tags */
  json_decref(tag(&alice, 404, "PUT", "urgent", "nosuchid"));

  /* taking it off */
  r = tag(&bob, 200, "DELETE", "urgent", conv);
  cr_assert(!has_tag(r, "urgent"));
  json_decref(r);
  json_decref(tag(&bob, 404, "DELETE", "never-made", conv));
  char path[160];
  snprintf(path, sizeof path, "/api/v1/agents/%s", agent);
  a = api_expect(&srv, alice.token, 200, "GET", path, NULL);
  cr_assert(has_tag(a, "urgent"));
  json_decref(a);
}

static size_t feed_size(const struct api_user *u, const char *query, json_t **page)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/me/feed%s", query);
  *page = api_expect(&srv, u->token, 200, "GET", path, NULL);
  return json_array_size(json_object_get(*page, "items"));
}

Test(api_social, follows_and_the_feed)
{
  char shared[64], hidden[64], who[80], path[160];
  snprintf(who, sizeof who, "[\"%s\"]", alice.id);
  conversation(&bob, "With Alice", who, shared);
  conversation(&bob, "Bob alone", "[]", hidden);

  snprintf(path, sizeof path, "/api/v1/follows/%s", bob.id);
  json_t *f = api_expect(&srv, alice.token, 201, "PUT", path, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "user");
  json_decref(f);
  json_decref(api_expect(&srv, alice.token, 200, "PUT", path, NULL)); /* already: as it was */
  snprintf(path, sizeof path, "/api/v1/follows/%s", alice.id);
  json_decref(api_expect(&srv, alice.token, 400, "PUT", path, NULL));
  json_decref(api_expect(&srv, alice.token, 404, "PUT", "/api/v1/follows/nosuchid", NULL));

  json_t *page = api_expect(&srv, alice.token, 200, "GET", "/api/v1/me/following", NULL);
  cr_assert_eq(json_array_size(json_object_get(page, "items")), 1);
  json_decref(page);
  page = api_expect(&srv, bob.token, 200, "GET", "/api/v1/me/followers", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(page, "items"),
                                                                    0), "followerId")), alice.id);
  json_decref(page);

  post(&bob, shared, "first for Alice", NULL);
  post(&bob, hidden, "a note to myself", NULL);
  post(&bob, shared, "second for Alice", NULL);
  post(&alice, shared, "Alice's own", NULL);

  cr_assert_eq(feed_size(&alice, "", &page), 2, "only bob's, only where alice takes part");
  json_t *items = json_object_get(page, "items");
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "content")),
                   "second for Alice", "newest first");
  cr_assert(json_is_array(json_object_get(json_array_get(items, 0), "parts")));
  json_decref(page);

  /* a page at a time */
  cr_assert_eq(feed_size(&alice, "?limit=1", &page), 1);
  cr_assert(json_is_false(json_object_get(page, "done")));
  snprintf(path, sizeof path, "?limit=1&cursor=%s",
           json_string_value(json_object_get(page, "cursor")));
  json_decref(page);
  cr_assert_eq(feed_size(&alice, path, &page), 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(page, "items"),
                                                                    0), "content")),
                   "first for Alice");
  json_decref(page);
  json_decref(api_expect(&srv, alice.token, 400, "GET", "/api/v1/me/feed?cursor=abc", NULL));

  /* carol, who follows bob but shares nothing with him, sees nothing */
  snprintf(path, sizeof path, "/api/v1/follows/%s", bob.id);
  json_decref(api_expect(&srv, carol.token, 201, "PUT", path, NULL));
  cr_assert_eq(feed_size(&carol, "", &page), 0);
  json_decref(page);

  /* unfollowing empties alice's feed */
  json_decref(api_expect(&srv, alice.token, 204, "DELETE", path, NULL));
  json_decref(api_expect(&srv, alice.token, 404, "DELETE", path, NULL));
  cr_assert_eq(feed_size(&alice, "", &page), 0);
  json_decref(page);
}

Test(api_social, following_agents)
{
  char agent[64], path[160];
  api_agent_id(&srv, &alice, "Sage", agent);
  snprintf(path, sizeof path, "/api/v1/follows/%s", agent);
  json_t *f = api_expect(&srv, alice.token, 201, "PUT", path, NULL);
  cr_assert_str_eq(json_string_value(json_object_get(f, "kind")), "agent");
  json_decref(f);
  /* a private agent of bob's does not exist for alice */
  json_t *a = api_expect(&srv, bob.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Diary\",\"description\":\"mine\",\"visibility\":\"private\"}");
  snprintf(path, sizeof path, "/api/v1/follows/%s", json_string_value(json_object_get(a, "_id")));
  json_decref(a);
  json_decref(api_expect(&srv, alice.token, 404, "PUT", path, NULL));
}
