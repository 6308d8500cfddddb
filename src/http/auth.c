/* auth: who is asking. Scripts send `Authorization: Bearer TOKEN` (a
 * session or API token); the web app holds its session in an HttpOnly,
 * SameSite=Strict cookie and must echo the session's CSRF token in
 * `X-CSRF-Token` on every request that changes something. */
#include "http/http.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int http_unsafe_method(const char *m)
{
  return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

int http_authenticate(struct http_req *req, struct http_res *res)
{
  const char *h = http_header(req, "Authorization");
  const char *token = NULL;
  req->via_cookie = 0;
  if (h) {
    if (strncasecmp(h, "Bearer ", 7) != 0) {
      http_reply_error(res, 401, "E_AUTH", "", "the Authorization header must be \"Bearer TOKEN\"");
      http_res_header(res, "WWW-Authenticate", "Bearer");
      return E_AUTH;
    }
    token = h + 7;
    while (*token == ' ')
      token++;
  } else if ((token = http_cookie(req, SESSION_COOKIE)) != NULL) {
    req->via_cookie = 1;
  } else {
    http_reply_error(res, 401, "E_AUTH", "", "sign in first: send a session or API token");
    http_res_header(res, "WWW-Authenticate", "Bearer");
    return E_AUTH;
  }
  struct err err = ERR_INIT;
  if (account_authenticate(req->store, token, &req->who, &err) != 0) {
    http_reply_err(res, &err);
    if (err.code == E_AUTH)
      http_res_header(res, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    err_clear(&err);
    return E_AUTH;
  }
  snprintf(req->token, sizeof req->token, "%s", token);
  if (req->via_cookie && http_unsafe_method(req->method)) {
    char want[CSRF_MAX];
    account_csrf(token, want);
    const char *got = http_header(req, "X-CSRF-Token");
    if (!got || strlen(got) != strlen(want) || sodium_memcmp(got, want, strlen(want)) != 0) {
      http_reply_error(res, 403, "E_PERM", "", "a cookie session must send its CSRF token in "
                       "X-CSRF-Token (GET /api/v1/auth/session gives it)");
      return E_PERM;
    }
  }
  return 0;
}
