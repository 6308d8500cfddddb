/* End-to-end tests of learning flows through the real `one serve`:
 * assignments with roles, who may assign whom, progress moved for others
 * by those who lead a step, the per-person view, and bad input. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct api_server srv;
static struct api_user alice, bob, carol;
static char flow[64];

static void setup(void)
{
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_signup(&srv, "bob@example.com", &bob);
  api_signup(&srv, "carol@example.com", &carol);
  json_t *f = api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/learningFlows",
                         "{\"title\":\"Launch\",\"createdBy\":\"%s\",\"createdAt\":1,\"steps\":["
                         "{\"stepName\":\"Foundation\",\"order\":1},{\"stepName\":\"Hook\","
                         "\"order\":2}]}", alice.id);
  snprintf(flow, sizeof flow, "%s", json_string_value(json_object_get(f, "_id")));
  json_decref(f);
}

static void teardown(void) { api_stop(&srv); }

TestSuite(api_learning, .init = setup, .fini = teardown, .timeout = 120);

static json_t *assign(const struct api_user *u, long status, const char *step, const char *body)
{
  char path[200];
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/%s/assignments", flow, step);
  return api_expect(&srv, u->token, status, "PUT", path, "%s", body);
}

static json_t *move(const struct api_user *u, long status, const char *step, const char *body)
{
  char path[200];
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/%s/progress", flow, step);
  return api_expect(&srv, u->token, status, "PUT", path, "%s", body);
}

static size_t assignments_seen(const struct api_user *u)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/flows/%s/assignments", flow);
  json_t *page = api_expect(&srv, u->token, 200, "GET", path, NULL);
  size_t n = json_array_size(json_object_get(page, "items"));
  json_decref(page);
  return n;
}

/* u's status on step of the flow, as /me/progress shows it, and its roles. */
static void my_step(const struct api_user *u, const char *step, char *status, char *roles)
{
  json_t *me = api_expect(&srv, u->token, 200, "GET", "/api/v1/me/progress", NULL), *f, *s;
  size_t i, k;
  status[0] = roles[0] = '\0';
  json_array_foreach(json_object_get(me, "items"), i, f) {
    if (strcmp(json_string_value(json_object_get(f, "_id")), flow) != 0)
      continue;
    json_array_foreach(json_object_get(f, "steps"), k, s) {
      if (strcmp(json_string_value(json_object_get(s, "stepName")), step) != 0)
        continue;
      strcpy(status, json_string_value(json_object_get(s, "status")));
      char *r = json_dumps(json_object_get(s, "roles"), JSON_COMPACT);
      strcpy(roles, r);
      free(r);
    }
  }
  json_decref(me);
}

Test(api_learning, roles_decide_who_assigns_and_who_moves_others_on)
{
  char body[200], status[64], roles[128];
  /* anyone takes part as a contributor; owner and reviewer are granted */
  json_decref(assign(&bob, 200, "Foundation", "{\"role\":\"contributor\"}"));
  json_decref(assign(&bob, 403, "Foundation", "{\"role\":\"owner\"}"));
  snprintf(body, sizeof body, "{\"role\":\"contributor\",\"userId\":\"%s\"}", carol.id);
  json_decref(assign(&bob, 403, "Foundation", body));
  snprintf(body, sizeof body, "{\"role\":\"reviewer\",\"userId\":\"%s\"}", carol.id);
  json_decref(assign(&alice, 200, "Foundation", body));
  my_step(&bob, "Foundation", status, roles);
  cr_expect_str_eq(roles, "[\"contributor\"]");
  my_step(&carol, "Foundation", status, roles);
  cr_expect_str_eq(roles, "[\"reviewer\"]");
  /* assigning again changes the role, not the count */
  snprintf(body, sizeof body, "{\"role\":\"owner\",\"userId\":\"%s\"}", bob.id);
  json_decref(assign(&carol, 200, "Foundation", body));
  my_step(&bob, "Foundation", status, roles);
  cr_expect_str_eq(roles, "[\"owner\"]", "a reviewer of the step grants roles on it");
  cr_expect_eq(assignments_seen(&alice), 2, "the creator sees all");
  cr_expect_eq(assignments_seen(&bob), 2, "an owner leads: all");
  /* a reviewer of Foundation moves bob on there, not on Hook */
  snprintf(body, sizeof body, "{\"status\":\"In Progress\",\"userId\":\"%s\"}", bob.id);
  json_decref(move(&carol, 200, "Foundation", body));
  json_decref(move(&carol, 403, "Hook", body));
  my_step(&bob, "Foundation", status, roles);
  cr_expect_str_eq(status, "In Progress");
  /* someone who leads nothing moves only their own */
  json_t *d = api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/learningFlows",
                         "{\"title\":\"Other\",\"createdBy\":\"%s\",\"createdAt\":1,\"steps\":"
                         "[{\"stepName\":\"Hook\",\"order\":1}]}", alice.id);
  char path[200];
  snprintf(path, sizeof path, "/api/v1/flows/%s/steps/Hook/progress",
           json_string_value(json_object_get(d, "_id")));
  json_decref(d);
  json_decref(api_expect(&srv, bob.token, 403, "PUT", path,
                         "{\"status\":\"In Progress\",\"userId\":\"%s\"}", carol.id));
  json_decref(api_expect(&srv, bob.token, 200, "PUT", path, "{\"status\":\"Skipped\"}"));
  /* progress is not written around its state machine */
  json_decref(api_expect(&srv, bob.token, 403, "POST", "/api/v1/tables/progress",
                         "{\"learningFlowId\":\"%s\",\"step\":\"Hook\",\"userId\":\"%s\","
                         "\"status\":\"Completed\",\"updatedAt\":1}", flow, bob.id));
  my_step(&bob, "Hook", status, roles);
  cr_expect_str_eq(status, "Not Started");
}

Test(api_learning, bad_assignments_are_refused_with_what_is_wrong)
{
  char body[200];
  json_decref(assign(&alice, 422, "Foundation", "{\"role\":\"boss\"}"));
  json_decref(assign(&alice, 422, "Foundation", "{}"));
  json_decref(assign(&alice, 422, "Foundation", "{\"role\":\"owner\",\"color\":\"red\"}"));
  json_decref(assign(&alice, 404, "Nowhere", "{\"role\":\"owner\"}"));
  json_decref(assign(&alice, 404, "Foundation", "{\"role\":\"owner\",\"userId\":\"nobody\"}"));
  snprintf(body, sizeof body, "{\"role\":\"owner\",\"userId\":\"%s\",\"agentId\":\"%s\"}",
           bob.id, bob.id);
  json_decref(assign(&alice, 422, "Foundation", body));
  json_decref(api_expect(&srv, alice.token, 404, "GET", "/api/v1/flows/nosuchflow/assignments",
                         NULL));
  cr_expect_eq(assignments_seen(&alice), 0, "nothing refused was kept");
}
