/* API tests of accounts: sign-up and sign-in, sessions that end, cookie
 * sessions with CSRF, personal API tokens, the sign-in rate limits, and
 * `one user create`. Runs the real `one serve`. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct api_server srv;

static void setup(void) { api_start(&srv); }
static void teardown(void) { cr_assert_eq(api_stop(&srv), 0); }

TestSuite(api_auth, .init = setup, .fini = teardown, .timeout = 180);

static const char *code_of(json_t *j)
{
  const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  return c ? c : "";
}

static const char *path_of(json_t *j)
{
  const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "path"));
  return c ? c : "";
}

Test(api_auth, signup_signin_and_signout)
{
  struct api_user u;
  api_signup(&srv, "Ann@Example.org", &u);
  json_t *me = api_expect(&srv, u.token, 200, "GET", "/api/v1/me", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(me, "email")), "ann@example.org");
  cr_assert_str_eq(json_string_value(json_object_get(me, "name")), "Ann");
  cr_assert_str_eq(json_string_value(json_object_get(me, "role")), "member");
  json_decref(me);

  /* wrong password and unknown email: the same 401 */
  json_t *j = api_expect(&srv, NULL, 401, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"ann@example.org\",\"password\":\"wrong horse\"}");
  cr_assert_str_eq(code_of(j), "E_AUTH");
  const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
  json_t *k = api_expect(&srv, NULL, 401, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"nobody@example.org\",\"password\":\"wrong horse\"}");
  cr_assert_str_eq(json_string_value(json_object_get(json_object_get(k, "error"), "message")), msg);
  json_decref(j);
  json_decref(k);

  /* a second session, then signing the first out ends only the first */
  j = api_expect(&srv, NULL, 200, "POST", "/api/v1/auth/signin",
                 "{\"email\":\"ANN@example.org\",\"password\":\"correct horse\"}");
  char second[80];
  snprintf(second, sizeof second, "%s", json_string_value(json_object_get(j, "token")));
  json_decref(j);
  json_decref(api_expect(&srv, u.token, 204, "POST", "/api/v1/auth/signout", NULL));
  j = api_expect(&srv, u.token, 401, "GET", "/api/v1/me", NULL);
  cr_assert_str_eq(code_of(j), "E_AUTH");
  json_decref(j);
  json_decref(api_expect(&srv, second, 200, "GET", "/api/v1/me", NULL));
  json_decref(api_expect(&srv, NULL, 401, "POST", "/api/v1/auth/signout", NULL));
}

Test(api_auth, signup_refusals)
{
  struct api_user u;
  api_signup(&srv, "bob@example.org", &u);
  struct { const char *body; long status; const char *path; } cases[] = {
    {"{\"email\":\"bob@example.org\",\"password\":\"correct horse\"}", 409, "email"},
    {"{\"email\":\"BOB@EXAMPLE.ORG\",\"password\":\"correct horse\"}", 409, "email"},
    {"{\"email\":\"not-an-email\",\"password\":\"correct horse\"}", 422, "email"},
    {"{\"email\":\"a b@example.org\",\"password\":\"correct horse\"}", 422, "email"},
    {"{\"email\":\"c@example.org\",\"password\":\"short\"}", 422, "password"},
    {"{\"email\":\"c@example.org\"}", 422, "password"},
    {"{\"password\":\"correct horse\"}", 422, "email"},
    {"{\"email\":\"c@example.org\",\"password\":\"correct horse\",\"role\":\"admin\"}", 422, "role"},
    {"{\"email\":\"c@example.org\",\"password\":12345678}", 422, "password"},
    {"[1,2]", 422, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *j = api_expect(&srv, NULL, cases[i].status, "POST", "/api/v1/auth/signup", "%s",
                           cases[i].body);
    cr_expect_str_eq(path_of(j), cases[i].path, "%s", cases[i].body);
    json_decref(j);
  }
}

Test(api_auth, expired_sessions_are_refused)
{
  struct api_user u;
  api_signup(&srv, "eve@example.org", &u);
  /* age the session in the database, as time would */
  char cmd[1024], *out = NULL;
  snprintf(cmd, sizeof cmd, "%s --db %s/t.db data list sessions --json", ONE_BINARY, srv.dir);
  cr_assert_eq(tu_run(cmd, &out, NULL), 0);
  json_t *list = tu_json(out);
  free(out);
  const char *id = json_string_value(json_object_get(json_array_get(json_object_get(list, "page"), 0), "_id"));
  cr_assert(id);
  snprintf(cmd, sizeof cmd, "%s --db %s/t.db data patch %s '{\"expiresAt\":1000.0}'", ONE_BINARY,
           srv.dir, id);
  cr_assert_eq(tu_run(cmd, NULL, NULL), 0);
  json_decref(list);
  json_t *j = api_expect(&srv, u.token, 401, "GET", "/api/v1/me", NULL);
  cr_assert(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                   "expired"));
  json_decref(j);
}

Test(api_auth, cookie_sessions_need_the_csrf_token)
{
  struct api_user u;
  api_signup(&srv, "cat@example.org", &u);
  const char *body = "{\"email\":\"cat@example.org\",\"password\":\"correct horse\",\"session\":\"cookie\"}";
  struct api_reply r = api_call(&srv, "POST", "/api/v1/auth/signin", body, strlen(body), NULL);
  cr_assert_eq(r.status, 200, "%s", r.body);
  cr_assert(strstr(r.headers, "HttpOnly") && strstr(r.headers, "SameSite=Strict"), "%s", r.headers);
  cr_assert(!strstr(r.body, "\"token\""), "the token stays in the cookie: %s", r.body);
  char *c = strstr(r.headers, "one_session=");
  cr_assert(c);
  char cookie[200];
  snprintf(cookie, sizeof cookie, "Cookie: %.*s", (int)strcspn(c, ";"), c);
  json_t *j = tu_json(r.body);
  char csrf[200];
  snprintf(csrf, sizeof csrf, "X-CSRF-Token: %s", json_string_value(json_object_get(j, "csrfToken")));
  json_decref(j);
  api_reply_free(&r);

  const char *h_cookie[] = {cookie, NULL};
  r = api_call(&srv, "GET", "/api/v1/me", NULL, 0, h_cookie);
  cr_assert_eq(r.status, 200, "reads need no CSRF token: %s", r.body);
  api_reply_free(&r);
  r = api_call(&srv, "GET", "/api/v1/auth/session", NULL, 0, h_cookie);
  cr_assert(strstr(r.body, csrf + 14), "the session gives the CSRF token back: %s", r.body);
  api_reply_free(&r);

  const char *patch = "{\"jobTitle\":\"cook\"}";
  r = api_call(&srv, "PATCH", "/api/v1/me", patch, strlen(patch), h_cookie);
  cr_assert_eq(r.status, 403, "a write without the CSRF token: %s", r.body);
  api_reply_free(&r);
  const char *h_bad[] = {cookie, "X-CSRF-Token: 00", NULL};
  r = api_call(&srv, "PATCH", "/api/v1/me", patch, strlen(patch), h_bad);
  cr_assert_eq(r.status, 403);
  api_reply_free(&r);
  const char *h_ok[] = {cookie, csrf, NULL};
  r = api_call(&srv, "PATCH", "/api/v1/me", patch, strlen(patch), h_ok);
  cr_assert_eq(r.status, 200, "%s", r.body);
  api_reply_free(&r);
  /* a form post (the shape of a cross-site request) is refused outright */
  const char *h_form[] = {cookie, csrf, "Content-Type: application/x-www-form-urlencoded", NULL};
  r = api_call(&srv, "PATCH", "/api/v1/me", "jobTitle=x", 10, h_form);
  cr_assert_eq(r.status, 400);
  api_reply_free(&r);

  r = api_call(&srv, "POST", "/api/v1/auth/signout", NULL, 0, h_ok);
  cr_assert_eq(r.status, 204);
  cr_assert(strstr(r.headers, "Max-Age=0"), "the cookie is cleared: %s", r.headers);
  api_reply_free(&r);
  r = api_call(&srv, "GET", "/api/v1/me", NULL, 0, h_cookie);
  cr_assert_eq(r.status, 401);
  api_reply_free(&r);
}

Test(api_auth, api_tokens_work_until_revoked)
{
  struct api_user u;
  api_signup(&srv, "dan@example.org", &u);
  json_t *t = api_expect(&srv, u.token, 201, "POST", "/api/v1/me/tokens", "{\"name\":\"backup script\"}");
  const char *token = json_string_value(json_object_get(t, "token"));
  const char *id = json_string_value(json_object_get(t, "_id"));
  cr_assert(token && strncmp(token, "onet_", 5) == 0);
  cr_assert(!json_object_get(t, "tokenHash"));
  json_decref(api_expect(&srv, token, 200, "GET", "/api/v1/me", NULL));
  json_t *list = api_expect(&srv, u.token, 200, "GET", "/api/v1/me/tokens", NULL);
  cr_assert_eq(json_array_size(list), 1);
  char *text = json_dumps(list, 0);
  cr_assert(!strstr(text, token), "the list never shows the token");
  free(text);
  json_decref(list);
  char path[200];
  snprintf(path, sizeof path, "/api/v1/me/tokens/%s", id);
  struct api_user other;
  api_signup(&srv, "mallory@example.org", &other);
  json_decref(api_expect(&srv, other.token, 404, "DELETE", path, NULL));
  json_decref(api_expect(&srv, u.token, 204, "DELETE", path, NULL));
  json_t *j = api_expect(&srv, token, 401, "GET", "/api/v1/me", NULL);
  cr_assert(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "revoked"));
  json_decref(j);
  json_decref(t);
  json_decref(api_expect(&srv, "onet_short", 401, "GET", "/api/v1/me", NULL));
  struct api_reply r = api_call(&srv, "GET", "/api/v1/me", NULL, 0,
                                (const char *[]){"Authorization: Basic abc", NULL});
  cr_assert_eq(r.status, 401);
  cr_assert(strstr(r.headers, "WWW-Authenticate: Bearer"));
  api_reply_free(&r);
}

Test(api_auth, failed_signins_are_rate_limited)
{
  struct api_user u;
  api_signup(&srv, "fay@example.org", &u);
  for (int i = 0; i < 5; i++)
    json_decref(api_expect(&srv, NULL, 401, "POST", "/api/v1/auth/signin",
                           "{\"email\":\"fay@example.org\",\"password\":\"guess %d\"}", i));
  const char *body = "{\"email\":\"fay@example.org\",\"password\":\"correct horse\"}";
  struct api_reply r = api_call(&srv, "POST", "/api/v1/auth/signin", body, strlen(body), NULL);
  cr_assert_eq(r.status, 429, "even the right password waits: %s", r.body);
  cr_assert(strstr(r.headers, "Retry-After: "), "%s", r.headers);
  cr_assert(strstr(r.body, "E_LIMIT"));
  api_reply_free(&r);
  /* the session made before still works; another account is not limited yet */
  json_decref(api_expect(&srv, u.token, 200, "GET", "/api/v1/me", NULL));
  struct api_user g;
  api_signup(&srv, "gil@example.org", &g);
  json_decref(api_expect(&srv, NULL, 200, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"gil@example.org\",\"password\":\"correct horse\"}"));
  /* per address: 20 failures over many accounts stop this address */
  for (int i = 0; i < 15; i++)
    json_decref(api_expect(&srv, NULL, 401, "POST", "/api/v1/auth/signin",
                           "{\"email\":\"u%d@example.org\",\"password\":\"guess\"}", i));
  json_t *j = api_expect(&srv, NULL, 429, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"gil@example.org\",\"password\":\"correct horse\"}");
  cr_assert_str_eq(code_of(j), "E_LIMIT");
  json_decref(j);
}

Test(api_auth, user_create_makes_administrators)
{
  struct api_user a;
  api_admin(&srv, "root@example.org", &a);
  json_t *me = api_expect(&srv, a.token, 200, "GET", "/api/v1/me", NULL);
  cr_assert_str_eq(json_string_value(json_object_get(me, "role")), "admin");
  json_decref(me);

  struct api_user m;
  api_signup(&srv, "promote@example.org", &m);
  json_decref(api_expect(&srv, m.token, 403, "POST", "/api/v1/tools",
                         "{\"name\":\"x\",\"description\":\"y\"}"));
  char cmd[1024], *errout = NULL;
  snprintf(cmd, sizeof cmd, "%s --db %s/t.db user create --email promote@example.org --admin "
           "</dev/null", ONE_BINARY, srv.dir);
  cr_assert_eq(tu_run(cmd, NULL, &errout), 0, "%s", errout);
  free(errout);
  json_decref(api_expect(&srv, m.token, 201, "POST", "/api/v1/tools",
                         "{\"name\":\"x\",\"description\":\"y\"}"));

  /* refusals: no email, a short password from a file, an existing email */
  snprintf(cmd, sizeof cmd, "%s --db %s/t.db user create </dev/null", ONE_BINARY, srv.dir);
  cr_assert_eq(tu_run(cmd, NULL, NULL), 2);
  char pwfile[512];
  snprintf(pwfile, sizeof pwfile, "%s/pw", srv.dir);
  tu_write(srv.dir, "pw", "short\n");
  snprintf(cmd, sizeof cmd, "%s --db %s/t.db user create --email new@example.org --password-file %s",
           ONE_BINARY, srv.dir, pwfile);
  errout = NULL;
  cr_assert_eq(tu_run(cmd, NULL, &errout), 1);
  cr_assert(strstr(errout, "password"), "%s", errout);
  free(errout);
  tu_write(srv.dir, "pw", "a long enough one\n");
  cr_assert_eq(tu_run(cmd, NULL, NULL), 0);
  json_decref(api_expect(&srv, NULL, 200, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"new@example.org\",\"password\":\"a long enough one\"}"));
  errout = NULL;
  cr_assert_eq(tu_run(cmd, NULL, &errout), 1);
  cr_assert(strstr(errout, "taken"), "%s", errout);
  free(errout);
}
