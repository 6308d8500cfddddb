/* reply: JSON bodies in and out, and the one error shape
 * {"error":{"code","message","path"}}. */
#include "http/http.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void http_reply_json(struct http_res *res, int status, json_t *body)
{
  json_decref(res->json);
  res->status = status;
  res->json = body;
}

/* The length of the valid UTF-8 sequence at p (at most n bytes), 0 when
 * it is not one (overlong forms, surrogates and values past U+10FFFF too). */
static size_t utf8_char_len(const char *p, size_t n)
{
  const unsigned char *u = (const unsigned char *)p;
  if (u[0] < 0x80)
    return 1;
  size_t len = u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc2 ? 2 : 0;
  if (len == 0 || len > n || u[0] > 0xf4)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((u[i] & 0xc0) != 0x80)
      return 0;
  if ((u[0] == 0xe0 && u[1] < 0xa0) || (u[0] == 0xed && u[1] >= 0xa0) ||
      (u[0] == 0xf0 && u[1] < 0x90) || (u[0] == 0xf4 && u[1] >= 0x90))
    return 0;
  return len;
}

/* text as a JSON string, with every byte that is not part of valid UTF-8
 * replaced by '?' (messages and paths may quote what a client sent). */
static json_t *safe_string(const char *text)
{
  json_t *s = json_string(text);
  if (s)
    return s;
  size_t n = strlen(text);
  char *copy = one_malloc(n + 1);
  if (!copy)
    return NULL;
  memcpy(copy, text, n + 1);
  for (size_t i = 0; i < n;) {
    size_t len = utf8_char_len(copy + i, n - i);
    if (len == 0) {
      copy[i++] = '?';
    } else {
      i += len;
    }
  }
  s = json_string(copy);
  one_free(copy);
  return s;
}

static void set_error(struct http_res *res, int status, const char *code, const char *path,
                      const char *message, json_t *details)
{
  json_t *e = json_pack("{s:s,s:o,s:o}", "code", code, "message", safe_string(message), "path",
                        safe_string(path ? path : ""));
  if (e && details)
    json_object_set_new(e, "details", details);
  else
    json_decref(details);
  http_reply_json(res, status, e ? json_pack("{s:o}", "error", e) : NULL);
}

void http_reply_error(struct http_res *res, int status, const char *code, const char *path,
                      const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  set_error(res, status, code, path, msg, NULL);
}

void http_reply_err(struct http_res *res, const struct err *err)
{
  json_t *details = NULL;
  if (err->ndetails) {
    details = json_array();
    for (size_t i = 0; details && i < err->ndetails; i++)
      json_array_append_new(details, json_pack("{s:o,s:o}", "path",
                                                safe_string(err->details[i].path), "message",
                                                safe_string(err->details[i].message)));
  }
  const char *path = err->ndetails ? err->details[0].path : err->where;
  set_error(res, err_http_status(err->code), err_name(err->code), path, err->msg, details);
}

int http_parse_body(const char *type, const char *body, size_t len, json_t **out,
                    struct err *err)
{
  *out = NULL;
  if (len == 0)
    return err_set(err, E_INVALID, "a JSON body is required");
  if (type && strncmp(type, "application/json", 16) != 0)
    return err_set(err, E_INVALID, "the body must be application/json, not %.100s", type);
  json_error_t je;
  json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  if (!v)
    return err_set(err, E_PARSE, "the body is not valid JSON (or not UTF-8): %s at line %d, "
                   "column %d", je.text, je.line, je.column);
  *out = v;
  return 0;
}

json_t *http_body_json(struct http_req *req, struct http_res *res)
{
  json_t *v = NULL;
  struct err err = ERR_INIT;
  if (http_parse_body(http_header(req, "Content-Type"), req->body.p, req->body.len, &v, &err)) {
    http_reply_err(res, &err);
    err_clear(&err);
  }
  return v;
}
