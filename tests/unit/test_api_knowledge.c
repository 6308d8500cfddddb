/* End-to-end tests of the knowledge base through the real `one serve`:
 * adding, listing and searching knowledge, who may read whose, bad input,
 * changes through /tables that search follows, and Sage answering from it:
 * the items that match the message in its context, searchKnowledge's
 * results and addKnowledge's new item (the fake model server on loopback
 * plays the model). */
#include "apiutil.h"
#include "fakellm.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct fakellm *fake;
static struct api_server srv;
static struct api_user alice, bob, admin;

static void setup(void)
{
  cr_assert(fake = fakellm_start(0));
  setenv("ONE_LLM_BASE_URL", fakellm_url(fake), 1);
  setenv("ONE_LLM_MODEL", "fake-model", 1);
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_signup(&srv, "bob@example.com", &bob);
  api_admin(&srv, "admin@example.com", &admin);
}

static void teardown(void)
{
  api_stop(&srv);
  fakellm_stop(fake);
  unsetenv("ONE_LLM_BASE_URL");
  unsetenv("ONE_LLM_MODEL");
}

TestSuite(api_knowledge, .init = setup, .fini = teardown, .timeout = 180);

static json_t *search(const struct api_user *u, long status, const char *body)
{
  return api_expect(&srv, u->token, status, "POST", "/api/v1/knowledge/search", "%s", body);
}

static const char *first_content(const json_t *found)
{
  return json_string_value(json_object_get(json_array_get(json_object_get(found, "items"), 0),
                                           "content"));
}

Test(api_knowledge, add_list_and_search_my_knowledge)
{
  json_t *k = api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"My customers' main pain is inconsistent leads\","
                         "\"tags\":[\"foundation\"]}");
  cr_assert_str_eq(json_string_value(json_object_get(k, "ownerId")), alice.id);
  cr_assert_str_eq(json_string_value(json_object_get(k, "ownerType")), "user");
  cr_assert_null(json_object_get(k, "vector"), "vectors stay out of answers");
  json_decref(k);
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"The webinar is on Tuesdays\"}"));

  json_t *page = api_expect(&srv, alice.token, 200, "GET", "/api/v1/knowledge", NULL);
  cr_assert_eq(json_array_size(json_object_get(page, "items")), 2);
  cr_assert_str_eq(first_content(page), "The webinar is on Tuesdays", "newest first");
  json_decref(page);

  static const char *const modes[] = {"text", "vector", "hybrid"};
  for (int i = 0; i < 3; i++) {
    char body[200];
    snprintf(body, sizeof body, "{\"query\":\"what is the customers' pain?\",\"mode\":\"%s\"}",
             modes[i]);
    json_t *found = search(&alice, 200, body);
    cr_assert_str_eq(first_content(found), "My customers' main pain is inconsistent leads", "%s",
                     modes[i]);
    json_decref(found);
  }
  json_t *found = search(&alice, 200, "{\"query\":\"webinar\",\"tags\":[\"foundation\"]}");
  cr_assert_eq(json_array_size(json_object_get(found, "items")), 0, "tags filter");
  json_decref(found);
}

Test(api_knowledge, nobody_reads_someone_elses_knowledge)
{
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"Alice's secret recipe uses cardamom\"}"));
  char body[200];
  snprintf(body, sizeof body, "{\"query\":\"cardamom\",\"owners\":[\"%s\"]}", alice.id);
  json_decref(search(&bob, 404, body));
  json_t *mine = search(&bob, 200, "{\"query\":\"cardamom\"}");
  cr_assert_eq(json_array_size(json_object_get(mine, "items")), 0);
  json_decref(mine);
  json_t *all = search(&admin, 200, body);
  cr_assert_eq(json_array_size(json_object_get(all, "items")), 1, "administrators read all");
  json_decref(all);
  char path[200];
  snprintf(path, sizeof path, "/api/v1/knowledge?owner=%s", alice.id);
  json_decref(api_expect(&srv, bob.token, 404, "GET", path, NULL));
}

Test(api_knowledge, bad_input_is_refused_with_the_field_named)
{
  struct {
    const char *body, *needle;
  } bad[] = {
    {"{}", "search.query"},
    {"{\"query\":\"\"}", "search.query"},
    {"{\"query\":\"x\",\"mode\":\"fuzzy\"}", "fuzzy"},
    {"{\"query\":\"x\",\"limit\":0}", "search.limit"},
    {"{\"query\":\"x\",\"limit\":51}", "search.limit"},
    {"{\"query\":\"x\",\"tags\":[1]}", "search.tags"},
    {"{\"query\":\"x\",\"owners\":[]}", "search.owners"},
    {"{\"query\":\"x\",\"colour\":\"red\"}", "colour"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct api_reply r = api_req(&srv, alice.token, "POST", "/api/v1/knowledge/search", "%s",
                                 bad[i].body);
    cr_expect(r.status == 400 || r.status == 422, "%s: %ld", bad[i].body, r.status);
    cr_expect(strstr(r.body, bad[i].needle), "%s: %s", bad[i].body, r.body);
    api_reply_free(&r);
  }
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/knowledge",
                         "{\"content\":\"\"}"));
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/knowledge",
                         "{\"content\":\"x\",\"ownerId\":\"someone\"}"));
}

Test(api_knowledge, search_follows_changes_made_through_tables)
{
  json_t *k = api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"Prices start at 300 dollars\"}");
  char path[200];
  snprintf(path, sizeof path, "/api/v1/tables/knowledge/%s",
           json_string_value(json_object_get(k, "_id")));
  json_decref(k);
  json_decref(api_expect(&srv, alice.token, 200, "PATCH", path,
                         "{\"content\":\"Prices start at 450 euros\"}"));
  json_t *found = search(&alice, 200, "{\"query\":\"euros\",\"mode\":\"text\"}");
  cr_assert_eq(json_array_size(json_object_get(found, "items")), 1);
  json_decref(found);
  found = search(&alice, 200, "{\"query\":\"dollars\",\"mode\":\"text\"}");
  cr_assert_eq(json_array_size(json_object_get(found, "items")), 0);
  json_decref(found);
  json_decref(api_expect(&srv, bob.token, 404, "DELETE", path, NULL));
  json_decref(api_expect(&srv, alice.token, 204, "DELETE", path, NULL));
  found = search(&alice, 200, "{\"query\":\"euros prices\"}");
  cr_assert_eq(json_array_size(json_object_get(found, "items")), 0);
  json_decref(found);
}

Test(api_knowledge, sage_answers_from_the_knowledge_base)
{
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"My customers' main pain is inconsistent leads\"}"));
  json_decref(api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"Our office dog is called Biscuit\"}"));
  char sage[64], conv[64], path[200];
  api_agent_id(&srv, &alice, "Sage", sage);
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"facts\",\"agents\":[\"%s\"]}", sage);
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
  /* Sage searches, stores what the user says, then answers */
  cr_assert_eq(fakellm_script(fake,
    "[{\"match\":\"You are Sage\",\"times\":1,\"tool_calls\":[{\"name\":\"searchKnowledge\","
    "\"arguments\":{\"query\":\"customer pains\",\"about\":\"user\"}}]},"
    "{\"match\":\"You are Sage\",\"times\":1,\"tool_calls\":[{\"name\":\"addKnowledge\","
    "\"arguments\":{\"content\":\"Their best channel is Instagram\",\"tags\":[\"channels\"]}}]},"
    "{\"match\":\"You are Sage\",\"reply\":\"Your customers' main pain: inconsistent leads.\"}]"),
    0);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"@[Sage](agent:%s) what is my customers' main pain? "
                         "Also: our best channel is Instagram.\"}", sage));
  for (int i = 0; i < 6000 && !api_count_content(&srv, &alice, conv, "inconsistent leads."); i++)
    tu_sleep_ms(10);
  cr_assert(api_count_content(&srv, &alice, conv, "inconsistent leads."), "Sage answered");

  json_t *reqs = fakellm_requests(fake);
  cr_assert_geq(json_array_size(reqs), 3);
  char *first = json_dumps(json_array_get(reqs, 0), 0);
  cr_expect(strstr(first, "From the knowledge base"), "retrieval in the context");
  cr_expect(strstr(first, "inconsistent leads"), "the matching item is in the context");
  cr_expect(!strstr(first, "Biscuit"), "an item that matches nothing stays out: %s", first);
  free(first);
  char *second = json_dumps(json_array_get(reqs, 1), 0);
  cr_expect(strstr(second, "\\\"results\\\"") && strstr(second, "inconsistent leads"),
            "searchKnowledge's results went back to the model");
  free(second);
  json_decref(reqs);

  json_t *found = search(&alice, 200, "{\"query\":\"instagram\",\"tags\":[\"channels\"]}");
  cr_assert_str_eq(first_content(found), "Their best channel is Instagram",
                   "addKnowledge stored it as the user's");
  json_decref(found);
}

Test(api_knowledge, a_conversation_is_searchable_by_its_words)
{
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"plans\"}");
  char conv[64], path[200];
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"We launch the pricing page on Monday\"}"));
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"Lunch is at noon\"}"));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/search", conv);
  json_t *found = api_expect(&srv, alice.token, 200, "POST", path, "{\"query\":\"launching prices\"}");
  json_t *items = json_object_get(found, "items");
  cr_assert_eq(json_array_size(items), 1);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "content")),
                   "We launch the pricing page on Monday");
  cr_assert(json_object_get(json_array_get(items, 0), "parts"), "rendered as a page's messages");
  json_decref(found);
  json_decref(api_expect(&srv, bob.token, 404, "POST", path, "{\"query\":\"launch\"}"));
  json_decref(api_expect(&srv, alice.token, 422, "POST", path, "{\"query\":\"\"}"));
  json_decref(api_expect(&srv, alice.token, 422, "POST", path, "{\"query\":\"x\",\"limit\":500}"));
}

Test(api_knowledge, with_message_vectors_a_conversation_is_searched_by_meaning_too)
{
  api_kill9(&srv);
  setenv("ONE_MESSAGE_VECTORS", "1", 1);
  api_relaunch(&srv);
  unsetenv("ONE_MESSAGE_VECTORS"); /* read at start */
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"ops\"}");
  char conv[64], path[200];
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"We ship the orders on Fridays\"}"));
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"Lunch is at noon\"}"));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/search", conv);
  static const char *const modes[] = {"text", "vector", "hybrid"};
  static const size_t want[] = {0, 1, 1};
  for (int i = 0; i < 3; i++) { /* a typo the words miss and the vectors' letter pieces catch */
    json_t *found = api_expect(&srv, alice.token, 200, "POST", path,
                               "{\"query\":\"shiping orderz\",\"mode\":\"%s\"}", modes[i]);
    json_t *items = json_object_get(found, "items");
    cr_expect_eq(json_array_size(items), want[i], "%s", modes[i]);
    if (want[i])
      cr_expect_str_eq(json_string_value(json_object_get(json_array_get(items, 0), "content")),
                       "We ship the orders on Fridays", "%s", modes[i]);
    json_decref(found);
  }
  json_decref(api_expect(&srv, alice.token, 422, "POST", path,
                         "{\"query\":\"ship\",\"mode\":\"fuzzy\"}"));
}
