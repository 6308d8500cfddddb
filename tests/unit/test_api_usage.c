/* End-to-end tests of the eval runner and the usage summaries through the
 * real `one serve` and the fake model server: an eval replayed against an
 * agent with its output and score recorded, who may run it, and what the
 * model calls cost, summed per person, per agent and for administrators;
 * the scoring rules on their own. */
#include "apiutil.h"
#include "fakellm.h"
#include "testutil.h"

#include "domain/evals.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct fakellm *fake;
static struct api_server srv;
static struct api_user alice, bob, admin;
static char echo[64];

static void setup(void)
{
  cr_assert(fake = fakellm_start(0));
  setenv("ONE_LLM_BASE_URL", fakellm_url(fake), 1);
  setenv("ONE_LLM_MODEL", "fake-model", 1);
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_signup(&srv, "bob@example.com", &bob);
  api_admin(&srv, "admin@example.com", &admin);
  json_t *a = api_expect(&srv, alice.token, 201, "POST", "/api/v1/agents",
                         "{\"name\":\"Echo\",\"description\":\"answers sums\",\"prompt\":"
                         "\"You are Echo. Answer in words.\",\"visibility\":\"public\"}");
  snprintf(echo, sizeof echo, "%s", json_string_value(json_object_get(a, "_id")));
  json_decref(a);
}

static void teardown(void)
{
  api_stop(&srv);
  fakellm_stop(fake);
  unsetenv("ONE_LLM_BASE_URL");
  unsetenv("ONE_LLM_MODEL");
}

TestSuite(api_usage, .init = setup, .fini = teardown, .timeout = 120);

/* Runs eval id and waits (a guard, not a timing assertion) for its end. */
static json_t *run_eval(const char *id)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/evals/%s/run", id);
  json_t *q = api_expect(&srv, alice.token, 200, "POST", path, NULL);
  cr_expect_str_eq(json_string_value(json_object_get(q, "status")), "queued");
  json_decref(q);
  snprintf(path, sizeof path, "/api/v1/tables/evals/%s", id);
  for (int i = 0; i < 3000; i++) {
    json_t *e = api_expect(&srv, alice.token, 200, "GET", path, NULL);
    if (strcmp(json_string_value(json_object_get(e, "status")), "queued") != 0)
      return e;
    json_decref(e);
    tu_sleep_ms(10);
  }
  cr_assert_fail("eval %s never ended", id);
  return NULL;
}

static void new_eval(const char *input, const char *expected, char out[64])
{
  json_t *e = api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/evals",
                         "{\"userId\":\"%s\",\"agentId\":\"%s\",\"input\":%s,%s%s\"createdAt\":1}",
                         alice.id, echo, input, expected ? "\"expectedOutput\":" : "",
                         expected ? expected : "");
  snprintf(out, 64, "%s", json_string_value(json_object_get(e, "_id")));
  json_decref(e);
}

Test(api_usage, an_eval_is_replayed_against_its_agent_and_scored)
{
  cr_assert_eq(fakellm_script(fake, "[{\"match\":\"What is 2+2\",\"times\":0,\"reply\":\"It is four.\","
                                    "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":4}}]"),
               0);
  char contains[64], words[64], path[160];
  new_eval("\"What is 2+2?\"", "{\"contains\":[\"four\"]},", contains);
  new_eval("{\"message\":\"What is 2+2, in words?\"}", "\"the answer is four\",", words);
  json_t *e = run_eval(contains);
  cr_expect_str_eq(json_string_value(json_object_get(e, "status")), "done");
  cr_expect_str_eq(json_string_value(json_object_get(e, "actualOutput")), "It is four.");
  cr_expect_float_eq(json_number_value(json_object_get(e, "score")), 1.0, 1e-9);
  json_decref(e);
  e = run_eval(words);
  double score = json_number_value(json_object_get(e, "score"));
  char *dump = json_dumps(e, 0);
  cr_expect(score > 0.5 && score < 0.6, "word F1 of 2 shared words: %f %s", score, dump);
  free(dump);
  json_decref(e);
  json_t *reqs = fakellm_requests(fake);
  char *first = json_dumps(json_array_get(reqs, 0), 0);
  cr_expect(strstr(first, "You are Echo. Answer in words."), "the agent's prompt: %s", first);
  cr_expect(!strstr(first, "\"tools\""), "an eval asks without tools");
  free(first);
  json_decref(reqs);
  /* another's eval is not there for bob */
  snprintf(path, sizeof path, "/api/v1/evals/%s/run", contains);
  json_decref(api_expect(&srv, bob.token, 404, "POST", path, NULL));
  json_decref(api_expect(&srv, alice.token, 404, "POST", "/api/v1/evals/nosuch/run", NULL));
  /* what they cost */
  json_t *u = api_expect(&srv, alice.token, 200, "GET", "/api/v1/me/usage", NULL);
  json_t *total = json_object_get(u, "total");
  cr_expect_float_eq(json_number_value(json_object_get(total, "calls")), 2, 1e-9);
  cr_expect_float_eq(json_number_value(json_object_get(total, "tokens")), 68, 1e-9);
  json_t *by_agent = json_object_get(u, "byAgent");
  cr_expect_eq(json_array_size(by_agent), 1);
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(by_agent, 0), "agentId")),
                   echo);
  cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(u, "byModel"),
                                                                    0), "model")), "fake-model");
  cr_expect_eq(json_array_size(json_object_get(u, "byDay")), 1);
  cr_expect(!json_object_get(u, "byUser"), "by user is for administrators");
  json_decref(u);
  u = api_expect(&srv, bob.token, 200, "GET", "/api/v1/me/usage", NULL);
  cr_expect_float_eq(json_number_value(json_object_get(json_object_get(u, "total"), "calls")),
                     0, 1e-9, "bob's own: nothing");
  json_decref(u);
  snprintf(path, sizeof path, "/api/v1/agents/%s/usage", echo);
  json_decref(api_expect(&srv, alice.token, 200, "GET", path, NULL));
  json_decref(api_expect(&srv, bob.token, 403, "GET", path, NULL));
  u = api_expect(&srv, admin.token, 200, "GET", "/api/v1/admin/usage", NULL);
  cr_expect_eq(json_array_size(json_object_get(u, "byUser")), 1);
  json_decref(u);
  json_decref(api_expect(&srv, alice.token, 403, "GET", "/api/v1/admin/usage", NULL));
  json_decref(api_expect(&srv, alice.token, 400, "GET", "/api/v1/me/usage?from=2&to=1", NULL));
  json_decref(api_expect(&srv, alice.token, 400, "GET", "/api/v1/me/usage?to=later", NULL));
  u = api_expect(&srv, alice.token, 200, "GET", "/api/v1/me/usage?from=0&to=1000", NULL);
  cr_expect_float_eq(json_number_value(json_object_get(json_object_get(u, "total"), "calls")),
                     0, 1e-9, "a range is a range");
  json_decref(u);
}

Test(api_usage, scores_follow_the_shape_of_the_expected_output)
{
  json_t *e = json_string("Paris.");
  cr_expect_float_eq(evals_score(e, "  paris "), 1.0, 1e-9);
  json_decref(e);
  e = json_pack("{s:[s,s]}", "contains", "Paris", "France");
  cr_expect_float_eq(evals_score(e, "Paris is lovely"), 0.5, 1e-9);
  json_decref(e);
  e = json_pack("{s:s}", "equals", "yes");
  cr_expect_float_eq(evals_score(e, "Yes!"), 1.0, 1e-9);
  cr_expect_float_eq(evals_score(e, "yes, surely"), 0.0, 1e-9);
  json_decref(e);
  e = json_pack("{s:i}", "n", 4);
  cr_expect_float_eq(evals_score(e, "{\"n\": 4}"), 1.0, 1e-9);
  cr_expect_float_eq(evals_score(e, "four"), 0.0, 1e-9);
  json_decref(e);
  cr_expect_lt(evals_score(NULL, "anything"), 0, "no expectation, no score");
  json_t *input = json_pack("{s:[{s:s,s:s}]}", "messages", "role", "user", "content", "hi");
  json_t *m = evals_messages("prompt", input);
  cr_expect_eq(json_array_size(m), 2);
  json_decref(m);
  json_decref(input);
}
