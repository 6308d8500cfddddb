/* Bad input, route by route: every route that takes a body answers 400 to
 * text that is not JSON or not UTF-8, 422 to JSON of the wrong shape and
 * 413 to a body over 1 MiB; documents the schema refuses answer 422 with
 * the path of each problem; bad paging, ids and paths answer 400 or 404.
 * After all of it the server still answers and nothing was half-written.
 * Runs the real `one serve`. */
#include "apiutil.h"
#include "testutil.h"

#include "http/routes.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct api_server srv;
static struct api_user owner;
static char conv[64], agent[64], tool[64], msg[64], row[64], token_id[64];

static void take(json_t *j, char *out)
{
  snprintf(out, 64, "%s", json_string_value(json_object_get(j, "_id")));
  json_decref(j);
}

static void setup(void)
{
  api_start(&srv);
  struct api_user admin;
  api_admin(&srv, "admin@example.org", &admin);
  owner = admin; /* an administrator who also owns everything: no refusal hides a 4xx */
  take(api_expect(&srv, owner.token, 201, "POST", "/api/v1/agents",
                  "{\"name\":\"A\",\"description\":\"d\"}"), agent);
  take(api_expect(&srv, owner.token, 201, "POST", "/api/v1/tools",
                  "{\"name\":\"t\",\"description\":\"d\"}"), tool);
  take(api_expect(&srv, owner.token, 201, "POST", "/api/v1/conversations",
                  "{\"title\":\"c\",\"agents\":[\"%s\"]}", agent), conv);
  char path[256];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  take(api_expect(&srv, owner.token, 201, "POST", path, "{\"content\":\"x\"}"), msg);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", conv);
  json_t *rows = api_expect(&srv, owner.token, 200, "GET", path, NULL);
  snprintf(row, sizeof row, "%s",
           json_string_value(json_object_get(json_array_get(json_object_get(rows, "items"), 0), "_id")));
  json_decref(rows);
  take(api_expect(&srv, owner.token, 201, "POST", "/api/v1/me/tokens", "{\"name\":\"t\"}"), token_id);
}

static void teardown(void) { cr_assert_eq(api_stop(&srv), 0); }

TestSuite(api_inputs, .init = setup, .fini = teardown, .timeout = 300);

/* The route's pattern with real ids for its parameters. */
static void concrete(const char *pattern, char *out, size_t n)
{
  size_t k = 0;
  int param = 0;
  for (const char *p = pattern; *p && k + 70 < n;) {
    if (*p != '{') {
      out[k++] = *p++;
      continue;
    }
    const char *end = strchr(p, '}');
    const char *name = p + 1;
    size_t len = (size_t)(end - name);
    const char *v = "x";
    if (strncmp(name, "table", len) == 0)
      v = "tags";
    else if (strncmp(name, "toolId", len) == 0)
      v = tool;
    else if (strncmp(name, "pid", len) == 0)
      v = row;
    else if (strncmp(name, "mid", len) == 0)
      v = msg;
    else if (strncmp(name, "userId", len) == 0)
      v = owner.id;
    else if (strstr(pattern, "/agents/"))
      v = agent;
    else if (strstr(pattern, "/conversations/"))
      v = conv;
    else if (strstr(pattern, "/tokens/"))
      v = token_id;
    else if (strstr(pattern, "/users/"))
      v = owner.id;
    k += (size_t)snprintf(out + k, n - k, "%s", v);
    p = end + 1;
    param++;
  }
  out[k] = '\0';
  (void)param;
}

static int takes_body(const struct route *r)
{
  if (strcmp(r->method, "POST") && strcmp(r->method, "PATCH") && strcmp(r->method, "PUT"))
    return 0;
  return !strstr(r->pattern, "/leave") && !strstr(r->pattern, "/signout") &&
         !strstr(r->pattern, "/cancel");
}

static long send_raw(const char *method, const char *path, const char *body, size_t len,
                     const char *type, char **reply)
{
  char auth[200], ctype[100];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", owner.token);
  snprintf(ctype, sizeof ctype, "Content-Type: %s", type);
  const char *h[] = {auth, ctype, NULL};
  struct api_reply r = api_call(&srv, method, path, body, len, h);
  long status = r.status;
  if (reply)
    *reply = strdup(r.body);
  api_reply_free(&r);
  return status;
}

Test(api_inputs, every_body_route_refuses_bad_bodies)
{
  size_t big_len = 1024 * 1024 + 10;
  char *big = malloc(big_len);
  memset(big, ' ', big_len);
  big[0] = '{';
  big[big_len - 1] = '}';
  struct { const char *what, *body, *type; long status; const char *code; } bad[] = {
    {"not JSON", "{\"a\":", "application/json", 400, "E_PARSE"},
    {"not UTF-8", "{\"name\":\"\xff\xfe\"}", "application/json", 400, "E_PARSE"},
    {"trailing garbage", "{} {}", "application/json", 400, "E_PARSE"},
    {"duplicate keys", "{\"a\":1,\"a\":2}", "application/json", 400, "E_PARSE"},
    {"a form", "a=1", "application/x-www-form-urlencoded", 400, "E_INVALID"},
    {"an array", "[]", "application/json", 422, "E_SCHEMA"},
    {"a bad $integer", "{\"n\":{\"$integer\":\"!!\"}}", "application/json", 0, NULL},
  };
  size_t checked = 0;
  for (size_t i = 0; i < nroutes; i++) {
    if (!takes_body(&routes[i]))
      continue;
    char path[512];
    concrete(routes[i].pattern, path, sizeof path);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
      char *reply = NULL;
      long st = send_raw(routes[i].method, path, bad[b].body, strlen(bad[b].body), bad[b].type, &reply);
      if (bad[b].status)
        cr_expect_eq(st, bad[b].status, "%s %s with %s: %ld %s", routes[i].method, path,
                     bad[b].what, st, reply);
      else
        cr_expect(st == 400 || st == 422, "%s %s with %s: %ld %s", routes[i].method, path,
                  bad[b].what, st, reply);
      if (bad[b].code && st == bad[b].status)
        cr_expect(strstr(reply, bad[b].code), "%s %s with %s: %s", routes[i].method, path,
                  bad[b].what, reply);
      free(reply);
    }
    long st = send_raw(routes[i].method, path, big, big_len, "application/json", NULL);
    cr_expect_eq(st, 413, "%s %s with 1 MiB: %ld", routes[i].method, path, st);
    checked++;
  }
  free(big);
  cr_assert_geq(checked, 17);
  json_decref(api_expect(&srv, NULL, 200, "GET", "/healthz", NULL));
}

/* Documents the schema (or the rules) refuse: 422 and the path of each problem. */
Test(api_inputs, refused_documents_name_their_paths)
{
  char mpath[256], ppath[256], cpath[256];
  snprintf(mpath, sizeof mpath, "/api/v1/conversations/%s/messages", conv);
  snprintf(ppath, sizeof ppath, "/api/v1/conversations/%s/participants", conv);
  snprintf(cpath, sizeof cpath, "/api/v1/conversations/%s", conv);
  struct { const char *method, *path, *body, *where; } cases[] = {
    {"POST", "/api/v1/agents", "{\"name\":5,\"description\":\"d\"}", "name"},
    {"POST", "/api/v1/agents", "{\"description\":\"d\"}", "name"},
    {"POST", "/api/v1/agents", "{\"name\":\"n\",\"description\":\"d\",\"visibility\":\"hidden\"}", "visibility"},
    {"POST", "/api/v1/agents", "{\"name\":\"n\",\"description\":\"d\",\"delegatesTo\":[\"nope\"]}", "delegatesTo"},
    {"POST", "/api/v1/agents", "{\"name\":\"n\",\"description\":\"d\",\"createdBy\":\"x\"}", "createdBy"},
    {"PATCH", "/api/v1/me", "{\"birthday\":5}", "birthday"},
    {"PATCH", "/api/v1/me", "{\"email\":\"new@example.org\"}", "email"},
    {"PATCH", "/api/v1/me", "{\"name\":null}", "name"},
    {"POST", "/api/v1/conversations", "{}", "title"},
    {"POST", "/api/v1/conversations", "{\"title\":\"t\",\"tags\":\"one\"}", "tags"},
    {"POST", "/api/v1/conversations", "{\"title\":\"t\",\"agents\":5}", "agents"},
    {"PATCH", cpath, "{\"title\":7}", "title"},
    {"POST", mpath, "{\"content\":\"\"}", "content"},
    {"POST", mpath, "{\"content\":7}", "content"},
    {"POST", mpath, "{\"content\":\"x\",\"kind\":\"system\"}", "kind"},
    {"POST", ppath, "{\"kind\":\"robot\"}", "kind"},
    {"POST", ppath, "{\"kind\":\"agent\"}", "agentId"},
    {"POST", ppath, "{\"kind\":\"user\",\"userId\":\"nope\"}", "userId"},
    {"POST", "/api/v1/tables/tags", "{\"name\":\"t\",\"createdAt\":\"yesterday\"}", "createdAt"},
    {"POST", "/api/v1/tables/reactions", "{\"messageId\":\"nope\",\"type\":\"x\",\"createdAt\":1}", "messageId"},
    {"POST", "/api/v1/me/tokens", "{}", "name"},
    {"POST", "/api/v1/auth/signin", "{\"email\":\"a@example.org\"}", "password"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *j = api_expect(&srv, owner.token, 422, cases[i].method, cases[i].path, "%s", cases[i].body);
    json_t *e = json_object_get(j, "error");
    const char *path = json_string_value(json_object_get(e, "path"));
    cr_expect(path && strstr(path, cases[i].where), "%s %s %s: path %s, expected %s", cases[i].method,
              cases[i].path, cases[i].body, path, cases[i].where);
    cr_expect_str_eq(json_string_value(json_object_get(e, "code")), "E_SCHEMA");
    json_decref(j);
  }
  /* nothing was written by any of them */
  json_t *page = api_expect(&srv, owner.token, 200, "GET", mpath, NULL);
  cr_assert_eq(json_array_size(json_object_get(page, "items")), 1);
  json_decref(page);
}

Test(api_inputs, bad_paging_ids_and_paths)
{
  char mpath[256];
  snprintf(mpath, sizeof mpath, "/api/v1/conversations/%s/messages", conv);
  struct { const char *method; char path[512]; long status; } cases[] = {
    {"GET", "/api/v1/agents?limit=0", 400},
    {"GET", "/api/v1/agents?limit=1001", 400},
    {"GET", "/api/v1/agents?limit=ten", 400},
    {"GET", "/api/v1/agents?cursor=zz", 400},
    {"GET", "/api/v1/conversations?cursor=-1", 400},
    {"GET", "/api/v1/tables/tags?order=sideways", 400},
    {"GET", "/api/v1/tables/tags?eq=notjson", 400},
    {"GET", "/api/v1/tables/tags?index=by_nothing", 404},
    {"GET", "/api/v1/agents/not-an-id", 404},
    {"GET", "/api/v1/conversations/not-an-id", 404},
    {"GET", "/api/v1/users/not-an-id", 404},
    {"DELETE", "/api/v1/me/tokens/not-an-id", 404},
    {"GET", "/api/v1/tables/tags/not-an-id", 404},
    {"GET", "/api/v1/conversations//messages", 404},
    {"PUT", "/api/v1/agents", 405},
    {"GET", "/api/v1/nothing", 404},
  };
  snprintf(cases[4].path, sizeof cases[4].path, "%s?cursor=garbage", mpath);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_reply r = api_req(&srv, owner.token, cases[i].method, cases[i].path, NULL);
    cr_expect_eq(r.status, cases[i].status, "%s %s: %ld %s", cases[i].method, cases[i].path,
                 r.status, r.body);
    cr_expect(strstr(r.body, "{\"error\":{\"code\":"), "%s", r.body);
    api_reply_free(&r);
  }
  /* an id of another table is not found, not a crash */
  char path[256];
  snprintf(path, sizeof path, "/api/v1/agents/%s", conv);
  json_decref(api_expect(&srv, owner.token, 404, "GET", path, NULL));
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants/%s", conv, msg);
  json_decref(api_expect(&srv, owner.token, 404, "DELETE", path, NULL));
}

/* The OpenAPI document lists every route of the table, and every operation
 * it lists is one the server answers (never "no route" or 405). */
Test(api_inputs, openapi_lists_every_route_the_server_answers)
{
  json_t *doc = api_expect(&srv, NULL, 200, "GET", "/api/v1/openapi.json", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
  json_t *paths = json_object_get(doc, "paths");
  size_t ops = 0;
  for (size_t i = 0; i < nroutes; i++) {
    char m[16];
    size_t k = 0;
    for (; routes[i].method[k]; k++)
      m[k] = (char)(routes[i].method[k] | 0x20);
    m[k] = '\0';
    json_t *op = json_object_get(json_object_get(paths, routes[i].pattern), m);
    cr_expect(op, "%s %s is not in the OpenAPI document", routes[i].method, routes[i].pattern);
    cr_expect(json_is_string(json_object_get(op, "summary")));
    cr_expect(json_object_get(json_object_get(op, "responses"), "200") ||
              json_object_get(json_object_get(op, "responses"), "201") ||
              json_object_get(json_object_get(op, "responses"), "204"));
  }
  const char *pattern;
  json_t *item;
  json_object_foreach(paths, pattern, item) {
    const char *method;
    json_t *op;
    json_object_foreach(item, method, op) {
      ops++;
      char upper[16], path[512];
      size_t k = 0;
      for (; method[k] && k + 1 < sizeof upper; k++)
        upper[k] = (char)(method[k] & ~0x20);
      upper[k] = '\0';
      if (strstr(pattern, "/stream") || strstr(pattern, "/signout"))
        continue; /* answered in test_api_conversations and test_api_auth */
      concrete(pattern, path, sizeof path);
      struct api_reply r = api_req(&srv, owner.token, upper, path, NULL);
      cr_expect(r.status != 405 && !strstr(r.body, "no route"), "%s %s: %ld %s", upper, path,
                r.status, r.body);
      api_reply_free(&r);
    }
  }
  cr_assert_eq(ops, nroutes, "the document has exactly the routes of the table");
  json_decref(doc);
}
