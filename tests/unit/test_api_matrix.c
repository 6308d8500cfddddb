/* The permission matrix: every API route against five actors (anonymous, a
 * stranger, a participant of the conversation, the owner of the things,
 * an administrator), asserting the exact status of each. Routes that change
 * what they act on get a fresh fixture for every actor. Runs the real
 * `one serve`. */
#include "apiutil.h"
#include "testutil.h"

#include "http/routes.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct api_server srv;
static struct api_user stranger, participant, owner, admin;

enum { ANON, STRANGER, PARTICIPANT, OWNER, ADMIN, NACTORS };
static const char *const actor_names[] = {"anonymous", "stranger", "participant", "owner", "admin"};

/* The things the routes act on. */
struct fixture {
  char conv[64], pub[64], priv[64], sys[64], tool[64], msg[64];
  char prow[64], arow[64], srow[64], reaction[64], otok[64];
};

static void id_of(json_t *j, char *out)
{
  const char *id = json_string_value(json_object_get(j, "_id"));
  cr_assert(id, "no _id");
  snprintf(out, 64, "%s", id);
  json_decref(j);
}

static void make_fixture(struct fixture *f)
{
  id_of(api_expect(&srv, owner.token, 201, "POST", "/api/v1/agents",
                   "{\"name\":\"Pub\",\"description\":\"a public agent\"}"), f->pub);
  id_of(api_expect(&srv, owner.token, 201, "POST", "/api/v1/agents",
                   "{\"name\":\"Priv\",\"description\":\"mine\",\"visibility\":\"private\"}"),
        f->priv);
  id_of(api_expect(&srv, admin.token, 201, "POST", "/api/v1/agents",
                   "{\"name\":\"Director\",\"description\":\"leads\",\"kind\":\"system_agent\"}"),
        f->sys);
  static int tools;
  id_of(api_expect(&srv, admin.token, 201, "POST", "/api/v1/tools",
                   "{\"name\":\"tool%d\",\"description\":\"does\"}", ++tools), f->tool);
  id_of(api_expect(&srv, owner.token, 201, "POST", "/api/v1/conversations",
                   "{\"title\":\"Plans\",\"users\":[\"%s\"],\"agents\":[\"%s\",\"%s\"]}",
                   participant.id, f->pub, f->sys), f->conv);
  char path[256];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/participants", f->conv);
  json_t *rows = api_expect(&srv, owner.token, 200, "GET", path, NULL);
  json_t *items = json_object_get(rows, "items");
  for (size_t i = 0; i < json_array_size(items); i++) {
    json_t *r = json_array_get(items, i);
    const char *id = json_string_value(json_object_get(r, "_id"));
    const char *user = json_string_value(json_object_get(r, "userId"));
    const char *agent = json_string_value(json_object_get(r, "agentId"));
    if (user && strcmp(user, participant.id) == 0)
      snprintf(f->prow, 64, "%s", id);
    if (agent && strcmp(agent, f->pub) == 0)
      snprintf(f->arow, 64, "%s", id);
    if (agent && strcmp(agent, f->sys) == 0)
      snprintf(f->srow, 64, "%s", id);
  }
  json_decref(rows);
  cr_assert(f->prow[0] && f->arow[0] && f->srow[0]);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", f->conv);
  json_t *m = api_expect(&srv, owner.token, 201, "POST", path, "{\"content\":\"hello\"}");
  id_of(m, f->msg);
  id_of(api_expect(&srv, participant.token, 201, "POST", "/api/v1/tables/reactions",
                   "{\"messageId\":\"%s\",\"userId\":\"%s\",\"type\":\"like\",\"createdAt\":1}",
                   f->msg, participant.id), f->reaction);
  id_of(api_expect(&srv, owner.token, 201, "POST", "/api/v1/me/tokens", "{\"name\":\"bot\"}"),
        f->otok);
}

/* Replaces {name} placeholders with the fixture's ids ({me}: the actor's). */
static void expand(const char *tmpl, const struct fixture *f, const char *me, char *out, size_t n)
{
  struct { const char *name, *value; } vars[] = {
    {"{conv}", f->conv}, {"{pub}", f->pub}, {"{priv}", f->priv}, {"{sys}", f->sys},
    {"{tool}", f->tool}, {"{msg}", f->msg}, {"{prow}", f->prow}, {"{arow}", f->arow},
    {"{srow}", f->srow}, {"{reaction}", f->reaction}, {"{otok}", f->otok}, {"{me}", me}, {"{owner}", owner.id},
    {"{stranger}", stranger.id}, {"{flag}", "read.one-shape"}, {"{nojob}", "999999"}, {"{noaction}", "sideways"}, {"{step}", "Foundation"}, {"{tag}", "hot"}, {"{noflow}", "jx7000000000000000000000000000ab"},
  };
  size_t k = 0;
  for (const char *p = tmpl; *p && k + 1 < n;) {
    int done = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0] && !done; i++) {
      size_t l = strlen(vars[i].name);
      if (strncmp(p, vars[i].name, l) == 0) {
        k += (size_t)snprintf(out + k, n - k, "%s", vars[i].value);
        p += l;
        done = 1;
      }
    }
    if (!done)
      out[k++] = *p++;
  }
  out[k < n ? k : n - 1] = '\0';
}

struct cell_row {
  const char *method, *path, *body;
  long want[NACTORS];
  int fresh;  /* mutates: a new fixture for every actor */
};

#define R(m, p, b, a, s, pa, o, ad, fr) {m, p, b, {a, s, pa, o, ad}, fr}
static const struct cell_row rows[] = {
  R("GET", "/api/v1/openapi.json", NULL, 200, 200, 200, 200, 200, 0),
  R("GET", "/", NULL, 200, 200, 200, 200, 200, 0),
  R("GET", "/app/app.js", NULL, 200, 200, 200, 200, 200, 0),
  R("GET", "/app/nosuch.js", NULL, 404, 404, 404, 404, 404, 0),
  R("GET", "/app/.hidden.js", NULL, 404, 404, 404, 404, 404, 0),
  R("GET", "/app/..%2Fone.db", NULL, 404, 404, 404, 404, 404, 0),
  R("GET", "/api/v1/auth/session", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me", NULL, 401, 200, 200, 200, 200, 0),
  R("PATCH", "/api/v1/me", "{\"jobTitle\":\"tester\"}", 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/tokens", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/me/tokens", "{\"name\":\"ci\"}", 401, 201, 201, 201, 201, 0),
  R("DELETE", "/api/v1/me/tokens/{otok}", NULL, 401, 404, 404, 204, 404, 1),
  R("GET", "/api/v1/users/{owner}", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/agents", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/agents", "{\"name\":\"New\",\"description\":\"d\"}", 401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/agents", "{\"name\":\"S\",\"description\":\"d\",\"kind\":\"system_agent\"}",
    401, 403, 403, 403, 201, 0),
  R("GET", "/api/v1/agents/{pub}", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/agents/{priv}", NULL, 401, 404, 404, 200, 200, 0),
  R("PATCH", "/api/v1/agents/{pub}", "{\"description\":\"changed\"}", 401, 403, 403, 200, 403, 0),
  R("PATCH", "/api/v1/agents/{priv}", "{\"description\":\"changed\"}", 401, 404, 404, 200, 403, 0),
  R("PATCH", "/api/v1/agents/{sys}", "{\"description\":\"changed\"}", 401, 403, 403, 403, 200, 0),
  R("DELETE", "/api/v1/agents/{pub}", NULL, 401, 403, 403, 204, 403, 1),
  R("DELETE", "/api/v1/agents/{sys}", NULL, 401, 403, 403, 403, 204, 1),
  R("POST", "/api/v1/agents/{priv}/sharing", "{\"userId\":\"{stranger}\"}", 401, 404, 404, 200, 403, 1),
  R("DELETE", "/api/v1/agents/{priv}/sharing/{stranger}", NULL, 401, 404, 404, 200, 403, 1),
  R("GET", "/api/v1/agents/{pub}/tools", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/agents/{priv}/tools", NULL, 401, 404, 404, 200, 200, 0),
  R("PUT", "/api/v1/agents/{pub}/tools/{tool}", "{\"config\":{\"k\":1}}", 401, 403, 403, 201, 403, 1),
  R("DELETE", "/api/v1/agents/{pub}/tools/{tool}", NULL, 401, 403, 403, 404, 403, 1),
  R("GET", "/api/v1/tools", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/tools", "{\"name\":\"t-{me}\",\"description\":\"d\"}", 401, 403, 403, 403, 201, 0),
  R("GET", "/api/v1/admin/migrations", NULL, 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/admin/flags", NULL, 401, 403, 403, 403, 200, 0),
  R("PUT", "/api/v1/admin/flags/{flag}", "{\"on\":false}", 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/admin/jobs", NULL, 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/knowledge", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/knowledge?owner={owner}", NULL, 401, 404, 404, 200, 200, 0),
  R("GET", "/api/v1/knowledge?owner={priv}", NULL, 401, 404, 404, 200, 200, 0),
  R("GET", "/api/v1/knowledge?owner={pub}", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/knowledge", "{\"content\":\"a fact\"}", 401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/knowledge", "{\"content\":\"a fact\",\"agentId\":\"{pub}\"}",
    401, 403, 403, 201, 201, 0),
  R("POST", "/api/v1/knowledge", "{\"content\":\"a fact\",\"agentId\":\"{priv}\"}",
    401, 404, 404, 201, 201, 0),
  R("POST", "/api/v1/knowledge/search", "{\"query\":\"fact\"}", 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/knowledge/search", "{\"query\":\"fact\",\"owners\":[\"{owner}\"]}",
    401, 404, 404, 200, 200, 0),
  R("POST", "/api/v1/knowledge/search", "{\"query\":\"fact\",\"owners\":[\"{priv}\"]}",
    401, 404, 404, 200, 200, 0),
  R("GET", "/api/v1/conversations/{conv}/messages/{msg}/reactions", NULL,
    401, 404, 200, 200, 200, 0),
  R("POST", "/api/v1/conversations/{conv}/messages/{msg}/reactions", "{\"type\":\"wow\"}",
    401, 404, 200, 200, 403, 1),
  R("GET", "/api/v1/conversations/{conv}/messages/{msg}/comments", NULL,
    401, 404, 200, 200, 200, 0),
  R("POST", "/api/v1/conversations/{conv}/messages/{msg}/comments", "{\"content\":\"hi\"}",
    401, 404, 201, 201, 403, 0),
  R("GET", "/api/v1/tags", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/tags", "{\"name\":\"t-{me}\"}", 401, 201, 201, 201, 201, 0),
  R("PUT", "/api/v1/tags/{tag}/items/{conv}", NULL, 401, 404, 200, 200, 403, 0),
  R("PUT", "/api/v1/tags/{tag}/items/{msg}", NULL, 401, 404, 200, 200, 403, 0),
  R("PUT", "/api/v1/tags/{tag}/items/{pub}", NULL, 401, 403, 403, 200, 403, 0),
  R("PUT", "/api/v1/tags/{tag}/items/{priv}", NULL, 401, 404, 404, 200, 403, 0),
  R("PUT", "/api/v1/tags/{tag}/items/{sys}", NULL, 401, 403, 403, 403, 200, 0),
  R("DELETE", "/api/v1/tags/{tag}/items/{conv}", NULL, 401, 404, 200, 200, 403, 0),
  R("PUT", "/api/v1/follows/{owner}", NULL, 401, 201, 201, 400, 201, 0),
  R("PUT", "/api/v1/follows/{priv}", NULL, 401, 404, 404, 201, 201, 0),
  R("DELETE", "/api/v1/follows/{pub}", NULL, 401, 404, 404, 404, 404, 1),
  R("GET", "/api/v1/me/following", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/followers", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/feed", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/events", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/usage", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/agents/{pub}/usage", NULL, 401, 403, 403, 200, 403, 0),
  R("GET", "/api/v1/agents/{priv}/usage", NULL, 401, 404, 404, 200, 403, 0),
  R("GET", "/api/v1/admin/usage", NULL, 401, 403, 403, 403, 200, 0),
  R("POST", "/api/v1/evals/{noflow}/run", NULL, 401, 404, 404, 404, 404, 0),
  R("GET", "/api/v1/me/reminders", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/flows", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/me/progress", NULL, 401, 200, 200, 200, 200, 0),
  R("PUT", "/api/v1/flows/{noflow}/steps/{step}/progress", "{\"status\":\"In Progress\"}",
    401, 404, 404, 404, 404, 0),
  R("PUT", "/api/v1/flows/{noflow}/steps/{step}/assignments", "{\"role\":\"owner\"}",
    401, 404, 404, 404, 404, 0),
  R("GET", "/api/v1/flows/{noflow}/assignments", NULL, 401, 404, 404, 404, 404, 0),
  R("POST", "/api/v1/admin/migrations/{noaction}", NULL, 401, 403, 403, 403, 404, 0),
  R("GET", "/api/v1/admin/jobs?state=pending", NULL, 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/admin/jobs?state=sleeping", NULL, 401, 403, 403, 403, 400, 0),
  R("POST", "/api/v1/admin/jobs/{nojob}/cancel", NULL, 401, 403, 403, 403, 404, 0),
  R("GET", "/api/v1/conversations", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/conversations", "{\"title\":\"x\"}", 401, 201, 201, 201, 201, 0),
  R("GET", "/api/v1/conversations/{conv}", NULL, 401, 404, 200, 200, 200, 0),
  R("PATCH", "/api/v1/conversations/{conv}", "{\"title\":\"renamed\",\"tags\":[\"a\"]}",
    401, 404, 200, 200, 403, 0),
  R("GET", "/api/v1/conversations/{conv}/participants", NULL, 401, 404, 200, 200, 200, 0),
  R("POST", "/api/v1/conversations/{conv}/search", "{\"query\":\"plans\"}", 401, 404, 200, 200, 200,
    0),
  R("POST", "/api/v1/conversations/{conv}/participants", "{\"kind\":\"user\",\"userId\":\"{stranger}\"}",
    401, 404, 201, 201, 403, 1),
  R("POST", "/api/v1/conversations/{conv}/participants", "{\"kind\":\"agent\",\"agentId\":\"{priv}\"}",
    401, 404, 422, 201, 403, 1),
  R("PATCH", "/api/v1/conversations/{conv}/participants/{prow}", "{\"status\":\"away\"}",
    401, 404, 200, 403, 200, 0),
  R("DELETE", "/api/v1/conversations/{conv}/participants/{arow}", NULL, 401, 404, 200, 200, 403, 1),
  R("DELETE", "/api/v1/conversations/{conv}/participants/{srow}", NULL, 401, 404, 403, 403, 403, 1),
  R("DELETE", "/api/v1/conversations/{conv}/participants/{prow}", NULL, 401, 404, 200, 200, 403, 1),
  R("POST", "/api/v1/conversations/{conv}/leave", NULL, 401, 404, 200, 200, 403, 1),
  R("GET", "/api/v1/conversations/{conv}/messages", NULL, 401, 404, 200, 200, 200, 0),
  R("POST", "/api/v1/conversations/{conv}/messages", "{\"content\":\"hi\"}", 401, 404, 201, 201, 403, 0),
  R("PATCH", "/api/v1/conversations/{conv}/messages/{msg}", "{\"content\":\"edited\"}",
    401, 404, 403, 200, 403, 0),
  R("GET", "/api/v1/tables/reactions", NULL, 401, 200, 200, 200, 200, 0),
  R("GET", "/api/v1/tables/accounts", NULL, 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/tables/conversationMessages", NULL, 401, 403, 403, 403, 200, 0),
  R("GET", "/api/v1/tables/nosuchtable", NULL, 401, 404, 404, 404, 404, 0),
  R("POST", "/api/v1/tables/reactions",
    "{\"messageId\":\"{msg}\",\"userId\":\"{me}\",\"type\":\"love\",\"createdAt\":2}",
    401, 403, 201, 201, 201, 1),
  R("GET", "/api/v1/tables/reactions/{reaction}", NULL, 401, 404, 200, 200, 200, 0),
  R("PATCH", "/api/v1/tables/reactions/{reaction}", "{\"type\":\"laugh\"}", 401, 404, 200, 403, 200, 1),
  R("DELETE", "/api/v1/tables/reactions/{reaction}", NULL, 401, 404, 204, 403, 204, 1),
  R("POST", "/api/v1/tables/tags", "{\"name\":\"t\",\"createdBy\":\"{me}\",\"createdAt\":1}",
    401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/tables/tags", "{\"name\":\"t\",\"createdBy\":\"{owner}\",\"createdAt\":1}",
    401, 403, 403, 201, 201, 0),
  /* the remaining tables of issue 6, each under its policy */
  R("GET", "/api/v1/tables/products", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/tables/products", "{\"title\":\"Mug\",\"handle\":\"mug\",\"createdAt\":1}",
    401, 403, 403, 403, 201, 0),
  R("POST", "/api/v1/tables/products", "{\"title\":\"No handle\",\"createdAt\":1}",
    401, 403, 403, 403, 422, 0),
  R("POST", "/api/v1/tables/inferenceUsage",
    "{\"userId\":\"{me}\",\"tokensUsed\":1,\"cost\":0,\"createdAt\":1}", 401, 403, 403, 403, 201, 0),
  R("GET", "/api/v1/tables/inferenceUsage", NULL, 401, 200, 200, 200, 200, 0),
  R("POST", "/api/v1/tables/evals", "{\"userId\":\"{me}\",\"input\":\"2+2?\",\"createdAt\":1}",
    401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/tables/evals", "{\"userId\":\"{owner}\",\"input\":\"2+2?\",\"createdAt\":1}",
    401, 403, 403, 201, 201, 0),
  R("POST", "/api/v1/tables/courses", "{\"title\":\"C\",\"createdBy\":\"{me}\",\"createdAt\":1}",
    401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/tables/tasks", "{\"title\":\"T\",\"createdBy\":\"{owner}\",\"createdAt\":1}",
    401, 403, 403, 201, 201, 0),
  R("POST", "/api/v1/tables/tasks", "{\"title\":7,\"createdBy\":\"{me}\",\"createdAt\":1}",
    401, 422, 422, 422, 422, 0),
  R("POST", "/api/v1/tables/broadcasts", "{\"platform\":\"x\",\"content\":\"c\",\"scheduledTime\":1,"
    "\"status\":\"scheduled\",\"createdBy\":\"{me}\",\"createdAt\":1}", 401, 201, 201, 201, 201, 0),
  R("POST", "/api/v1/tables/eventAttendees", "{\"eventId\":\"x\",\"attendee\":\"{me}\",\"startTime\":1}",
    401, 403, 403, 403, 422, 0),
};

static const struct api_user *actor(int a)
{
  const struct api_user *u[] = {NULL, &stranger, &participant, &owner, &admin};
  return u[a];
}

static void setup(void)
{
  api_start(&srv);
  api_signup(&srv, "stranger@example.org", &stranger);
  api_signup(&srv, "participant@example.org", &participant);
  api_signup(&srv, "owner@example.org", &owner);
  api_admin(&srv, "admin@example.org", &admin);
}

static void teardown(void) { cr_assert_eq(api_stop(&srv), 0); }

TestSuite(api_matrix, .init = setup, .fini = teardown, .timeout = 300);

Test(api_matrix, every_route_against_every_actor)
{
  struct fixture shared;
  make_fixture(&shared);
  size_t cells = 0;
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    for (int a = 0; a < NACTORS; a++) {
      struct fixture fresh, *f = &shared;
      if (rows[r].fresh && a != ANON) {
        make_fixture(&fresh);
        f = &fresh;
      }
      const struct api_user *u = actor(a);
      char path[512], body[1024];
      expand(rows[r].path, f, u ? u->id : "", path, sizeof path);
      if (rows[r].body)
        expand(rows[r].body, f, u ? u->id : "", body, sizeof body);
      struct api_reply rep = api_req(&srv, u ? u->token : NULL, rows[r].method, path,
                                     rows[r].body ? "%s" : NULL, body);
      cr_expect_eq(rep.status, rows[r].want[a], "%s %s as %s: %ld, expected %ld: %s",
                   rows[r].method, rows[r].path, actor_names[a], rep.status, rows[r].want[a],
                   rep.body);
      if (rep.status >= 400)
        cr_expect(strstr(rep.body, "\"error\":{\"code\":"), "error shape: %s", rep.body);
      api_reply_free(&rep);
      cells++;
    }
  }
  cr_log_info("%zu cells", cells);
}

/* The streams answer 200 and stay open for those who may follow. */
Test(api_matrix, streams_against_every_actor)
{
  struct fixture f;
  make_fixture(&f);
  char conv_path[256];
  snprintf(conv_path, sizeof conv_path, "/api/v1/conversations/%s/stream", f.conv);
  struct { const char *path; long want[NACTORS]; } cases[] = {
    {conv_path, {401, 404, 200, 200, 403}},
    {"/api/v1/me/stream", {401, 200, 200, 200, 200}},
  };
  for (size_t c = 0; c < 2; c++)
    for (int a = 0; a < NACTORS; a++) {
      const struct api_user *u = actor(a);
      struct api_stream *st = api_stream_open(&srv, cases[c].path, u ? u->token : NULL, NULL);
      long status = 0;
      if (cases[c].want[a] == 200) {
        cr_expect(api_stream_wait(st, ": connected", 10000), "%s as %s: no stream",
                  cases[c].path, actor_names[a]);
      } else {
        cr_expect(api_stream_ended(st, 10000, &status));
        cr_expect_eq(status, cases[c].want[a], "%s as %s: %ld", cases[c].path, actor_names[a],
                     status);
      }
      api_stream_close(st);
    }
}

/* Every route of the table is in the matrix above (or the streams). */
Test(api_matrix, covers_every_route)
{
  for (size_t i = 0; i < nroutes; i++) {
    const char *p = routes[i].pattern;
    if (strncmp(p, "/api/v1/", 8) != 0 || strstr(p, "/stream") || strstr(p, "/auth/sign"))
      continue; /* health routes are public; streams above; sign-in in test_api_auth */
    int found = 0;
    for (size_t r = 0; r < sizeof rows / sizeof rows[0] && !found; r++) {
      if (strcmp(rows[r].method, routes[i].method) != 0)
        continue;
      /* the same shape: segments equal, or a placeholder on both sides */
      const char *a = rows[r].path, *b = p;
      found = 1;
      while (*a && *b && found) {
        size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
        int pa = a[0] == '{', pb = b[0] == '{';
        if (pa != pb && !(pb && strncmp(b, "{table}", 7) == 0))
          found = 0;
        else if (!pa && !pb && (la != lb || strncmp(a, b, la) != 0))
          found = 0;
        a += la;
        b += lb;
        if (*a == '/')
          a++;
        if (*b == '/')
          b++;
      }
      found = found && !*a && !*b;
    }
    cr_expect(found, "%s %s is not in the permission matrix", routes[i].method, p);
  }
}
