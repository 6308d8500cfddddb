/* End-to-end tests of remote embeddings through the real `one serve` and
 * the fake model server's /v1/embeddings: vectors of knowledge from the
 * configured model (recorded in vectorModel), queries embedded by it too,
 * a changed item embedded again, items from before the service was
 * configured given its vectors at start, and a model of the wrong size
 * refused with a message that says so while word search goes on. */
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
static struct api_user alice, admin;

static void setup(void)
{
  cr_assert(fake = fakellm_start(0));
  setenv("ONE_EMBEDDINGS_URL", fakellm_url(fake), 1);
  setenv("ONE_EMBEDDINGS_MODEL", "bag-model", 1);
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_admin(&srv, "admin@example.com", &admin);
}

static void teardown(void)
{
  api_stop(&srv);
  fakellm_stop(fake);
  unsetenv("ONE_EMBEDDINGS_URL");
  unsetenv("ONE_EMBEDDINGS_MODEL");
}

TestSuite(api_embeddings, .init = setup, .fini = teardown, .timeout = 120);

static void add(const char *content, char out[64])
{
  json_t *k = api_expect(&srv, alice.token, 201, "POST", "/api/v1/knowledge",
                         "{\"content\":\"%s\"}", content);
  snprintf(out, 64, "%s", json_string_value(json_object_get(k, "_id")));
  json_decref(k);
}

/* The item as stored (an administrator reads its vector), new reference. */
static json_t *stored(const char *id)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/tables/knowledge/%s", id);
  return api_expect(&srv, admin.token, 200, "GET", path, NULL);
}

static const char *model_of(json_t *doc)
{
  const char *m = json_string_value(json_object_get(doc, "vectorModel"));
  return m ? m : "";
}

/* Waits (a guard, not a timing assertion) until the item's vector is model's. */
static void wait_model(const char *id, const char *model)
{
  for (int i = 0; i < 2000; i++) {
    json_t *d = stored(id);
    int done = strcmp(model_of(d), model) == 0;
    json_decref(d);
    if (done)
      return;
    tu_sleep_ms(10);
  }
  cr_assert_fail("%s never got a vector of %s", id, model);
}

static const char *first_vector_hit(const char *query, json_t **keep)
{
  *keep = api_expect(&srv, alice.token, 200, "POST", "/api/v1/knowledge/search",
                     "{\"query\":\"%s\",\"mode\":\"vector\"}", query);
  json_t *first = json_array_get(json_object_get(*keep, "items"), 0);
  return first ? json_string_value(json_object_get(first, "content")) : "";
}

Test(api_embeddings, vectors_and_queries_come_from_the_configured_model)
{
  char pain[64], other[64];
  add("customers complain about slow delivery", pain);
  add("the webinar runs on tuesdays", other);
  json_t *d = stored(pain);
  cr_expect_str_eq(model_of(d), "bag-model");
  cr_expect_eq(json_array_size(json_object_get(d, "vector")), 384);
  json_decref(d);
  json_t *reqs = fakellm_embedding_requests(fake);
  cr_expect_eq(json_array_size(reqs), 2, "one call an item");
  cr_expect_eq(json_integer_value(json_object_get(json_array_get(reqs, 0), "dimensions")), 384);
  json_decref(reqs);
  json_t *keep = NULL;
  cr_expect_str_eq(first_vector_hit("slow delivery", &keep), "customers complain about slow delivery");
  json_decref(keep);
  keep = NULL;
  reqs = fakellm_embedding_requests(fake);
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(reqs, 2), "input")),
                   "slow delivery", "the query is embedded by the same model");
  json_decref(reqs);
  /* changed through /tables: embedded again by a job */
  char path[160];
  snprintf(path, sizeof path, "/api/v1/tables/knowledge/%s", other);
  json_decref(api_expect(&srv, alice.token, 200, "PATCH", path,
                         "{\"content\":\"the masterclass runs on fridays\"}"));
  const char *hit = "";
  for (int i = 0; i < 2000; i++) {
    json_decref(keep);
    hit = first_vector_hit("masterclass fridays", &keep);
    if (strcmp(hit, "the masterclass runs on fridays") == 0)
      break;
    tu_sleep_ms(10);
  }
  cr_expect_str_eq(hit, "the masterclass runs on fridays");
  json_decref(keep);
}

Test(api_embeddings, items_from_before_get_the_models_vectors_at_start)
{
  char old[64];
  api_kill9(&srv);
  unsetenv("ONE_EMBEDDINGS_URL");
  api_relaunch(&srv);
  add("made with the built-in embedder", old);
  json_t *d = stored(old);
  cr_expect_str_eq(model_of(d), "", "the built-in embedder records no model");
  json_decref(d);
  api_kill9(&srv);
  setenv("ONE_EMBEDDINGS_URL", fakellm_url(fake), 1);
  api_relaunch(&srv);
  wait_model(old, "bag-model");
}

Test(api_embeddings, a_model_of_another_size_is_refused_and_words_still_search)
{
  char id[64];
  api_kill9(&srv);
  setenv("ONE_EMBEDDINGS_MODEL", "short-model", 1);
  api_relaunch(&srv);
  add("customers complain about slow delivery", id); /* kept; its vector waits */
  struct api_reply r = api_req(&srv, alice.token, "POST", "/api/v1/knowledge/search",
                               "{\"query\":\"slow delivery\",\"mode\":\"vector\"}");
  cr_expect_eq(r.status, 503, "%s", r.body);
  cr_expect(strstr(r.body, "10 dimensions"), "says what is wrong: %s", r.body);
  api_reply_free(&r);
  json_t *found = api_expect(&srv, alice.token, 200, "POST", "/api/v1/knowledge/search",
                             "{\"query\":\"slow delivery\"}");
  cr_expect_eq(json_array_size(json_object_get(found, "items")), 1, "hybrid falls back to words");
  json_decref(found);
}
