/* handlers_auth: sign-up, sign-in, sign-out and the session.
 *
 * Sign-in answers with the session token in the body (for scripts), or,
 * with {"session":"cookie"}, sets it as an HttpOnly, SameSite=Strict cookie
 * and answers only the CSRF token the web app must echo. */
#include "http/handlers.h"
#include "http/routes.h"

#include "domain/users.h"
#include "util/jv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Secure cookies, except with ONE_COOKIE_SECURE=0 or for a browser on this
 * machine (Host localhost or a loopback address: `make run` serves plain
 * HTTP there, where a browser may refuse a Secure cookie); ONE_COOKIE_SECURE=1
 * makes them Secure everywhere. */
static const char *cookie_secure(struct http_req *req)
{
  const char *v = getenv("ONE_COOKIE_SECURE");
  if (v && strcmp(v, "0") == 0)
    return "";
  if (v && strcmp(v, "1") == 0)
    return "; Secure";
  const char *host = http_header(req, "Host");
  static const char *const local[] = {"localhost", "127.0.0.1", "[::1]"};
  for (size_t i = 0; host && i < 3; i++) {
    size_t n = strlen(local[i]);
    if (strncmp(host, local[i], n) == 0 && (host[n] == '\0' || host[n] == ':'))
      return "";
  }
  return "; Secure";
}

/* Reads {"email","password","name"?,"session"?} into the out-parameters;
 * 0, or sets res. Strings are borrowed from *body (decref when done). */
static int read_credentials(struct http_req *req, struct http_res *res, json_t **body,
                            const char **email, const char **password, const char **name,
                            int *cookie)
{
  *body = http_body_json(req, res);
  if (!*body)
    return E_INVALID;
  if (!json_is_object(*body)) {
    http_reply_error(res, 422, "E_SCHEMA", "", "the body must be a JSON object");
    return E_SCHEMA;
  }
  static const char *const known[] = {"email", "password", "name", "session", NULL};
  const char *key;
  json_t *v;
  json_object_foreach(*body, key, v) {
    int ok = 0;
    for (const char *const *k = known; *k && !ok; k++)
      ok = strcmp(*k, key) == 0;
    if (!ok || !json_is_string(v)) {
      http_reply_error(res, 422, "E_SCHEMA", key, ok ? "%s must be a string" : "unknown field %s",
                       key);
      return E_SCHEMA;
    }
  }
  *email = json_string_value(json_object_get(*body, "email"));
  *password = json_string_value(json_object_get(*body, "password"));
  if (name)
    *name = json_string_value(json_object_get(*body, "name"));
  const char *session = json_string_value(json_object_get(*body, "session"));
  if (session && strcmp(session, "cookie") != 0 && strcmp(session, "token") != 0) {
    http_reply_error(res, 422, "E_SCHEMA", "session", "session is \"token\" or \"cookie\"");
    return E_SCHEMA;
  }
  *cookie = session && strcmp(session, "cookie") == 0;
  if (!*email || !*password) {
    http_reply_error(res, 422, "E_SCHEMA", *email ? "password" : "email",
                     "%s is required", *email ? "password" : "email");
    return E_SCHEMA;
  }
  return 0;
}

/* Signs in and answers: the token, or a cookie and the CSRF token. */
static void sign_in(struct http_req *req, struct http_res *res, const char *email,
                    const char *password, int cookie, int status)
{
  char addr[64], token[TOKEN_MAX];
  http_client_addr(req, addr, sizeof addr);
  struct signin in = {email, password, addr, http_header(req, "User-Agent")};
  struct actor who;
  double expires = 0;
  unsigned retry = 0;
  struct err err = ERR_INIT;
  if (account_signin(req->store, &in, token, &who, &expires, &retry, &err) != 0) {
    http_reply_err(res, &err);
    if (retry)
      http_res_header(res, "Retry-After", "%u", retry);
    err_clear(&err);
    return;
  }
  char csrf[CSRF_MAX];
  account_csrf(token, csrf);
  json_t *body = json_pack("{s:s,s:s,s:f}", "userId", who.user, "role",
                           who.admin ? "admin" : "member", "expiresAt", expires);
  if (cookie) {
    http_res_header(res, "Set-Cookie", "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%.0f%s",
                    SESSION_COOKIE, token, floor(SESSION_TTL_MS / 1000), cookie_secure(req));
    json_object_set_new(body, "csrfToken", json_string(csrf));
  } else {
    json_object_set_new(body, "token", json_string(token));
  }
  http_reply_json(res, status, body);
}

void h_signup(struct http_req *req, struct http_res *res)
{
  const char *closed = getenv("ONE_SIGNUP");
  if (closed && strcmp(closed, "closed") == 0) {
    http_reply_error(res, 403, "E_PERM", "", "sign-up is closed here; ask an administrator");
    return;
  }
  json_t *body = NULL;
  const char *email, *password, *name;
  int cookie;
  if (read_credentials(req, res, &body, &email, &password, &name, &cookie) != 0) {
    json_decref(body);
    return;
  }
  struct account_new a = {email, name, password, 0};
  struct err err = ERR_INIT;
  char id[CID_MAX];
  if (account_create(req->store, &a, id, &err) != 0) {
    if (err.code == E_INVALID)
      err.code = E_SCHEMA; /* a body field the rules refuse: 422 with its path */
    http_reply_err(res, &err);
  } else {
    sign_in(req, res, email, password, cookie, 201);
  }
  err_clear(&err);
  json_decref(body);
}

void h_signin(struct http_req *req, struct http_res *res)
{
  json_t *body = NULL;
  const char *email, *password;
  int cookie;
  if (read_credentials(req, res, &body, &email, &password, NULL, &cookie) == 0)
    sign_in(req, res, email, password, cookie, 200);
  json_decref(body);
}

void h_signout(struct http_req *req, struct http_res *res)
{
  struct err err = ERR_INIT;
  if (account_signout(req->store, req->token, &err) != 0) {
    http_reply_err(res, &err);
  } else {
    res->status = 204;
    if (req->via_cookie)
      http_res_header(res, "Set-Cookie", "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                      SESSION_COOKIE, cookie_secure(req));
  }
  err_clear(&err);
}

void h_session(struct http_req *req, struct http_res *res)
{
  json_t *body = json_pack("{s:s,s:s,s:s}", "userId", req->who.user, "role",
                           req->who.admin ? "admin" : "member", "via",
                           req->via_cookie ? "cookie" : "bearer");
  if (req->via_cookie) {
    char csrf[CSRF_MAX];
    account_csrf(req->token, csrf);
    json_object_set_new(body, "csrfToken", json_string(csrf));
  }
  http_reply_json(res, 200, body);
}

/* --- personal API tokens --- */

void h_tokens_list(struct http_req *req, struct http_res *res)
{
  json_t *list = NULL;
  struct err err = ERR_INIT;
  if (token_list(req->store, &req->who, &list, &err) != 0)
    http_reply_err(res, &err);
  else
    http_reply_value(res, 200, list);
  json_decref(list);
  err_clear(&err);
}

void h_tokens_create(struct http_req *req, struct http_res *res)
{
  json_t *in = http_body_value(req, res);
  if (!in)
    return;
  const json_t *name = json_object_get(in, "name");
  if (!json_is_object(in) || json_object_size(in) != 1 || !json_is_string(name)) {
    http_reply_error(res, 422, "E_SCHEMA", "name", "give {\"name\": \"what the token is for\"}");
    json_decref(in);
    return;
  }
  char token[TOKEN_MAX];
  json_t *doc = NULL;
  struct err err = ERR_INIT;
  if (token_create(req->store, &req->who, json_string_value(name), token, &doc, &err) != 0) {
    if (err.code == E_INVALID)
      err.code = E_SCHEMA;
    http_reply_err(res, &err);
  } else {
    json_object_set_new(doc, "token", json_string(token));
    http_reply_value(res, 201, doc);
  }
  json_decref(doc);
  json_decref(in);
  err_clear(&err);
}

void h_tokens_revoke(struct http_req *req, struct http_res *res)
{
  struct err err = ERR_INIT;
  if (token_revoke(req->store, &req->who, req->params[0], &err) != 0)
    http_reply_err(res, &err);
  else
    res->status = 204;
  err_clear(&err);
}

/* --- users --- */
OP_HANDLER(h_me, users_me, 0)
OP_HANDLER(h_me_update, users_update_me, OPF_BODY)
OP_HANDLER(h_user_get, users_get, 0)
