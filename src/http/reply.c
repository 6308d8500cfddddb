/* reply: JSON bodies in and out, and the one error shape
 * {"error":{"code","message","path"}}. */
#include "http/http.h"
#include "util/jv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void http_reply_json(struct http_res *res, int status, json_t *body)
{
  json_decref(res->json);
  res->status = status;
  res->json = body;
}

static void set_error(struct http_res *res, int status, const char *code, const char *path,
                      const char *message, json_t *details)
{
  json_t *e = json_pack("{s:s,s:s,s:s}", "code", code, "message", message, "path", path ? path : "");
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
      json_array_append_new(details, json_pack("{s:s,s:s}", "path", err->details[i].path,
                                                "message", err->details[i].message));
  }
  const char *path = err->ndetails ? err->details[0].path : err->where;
  set_error(res, err_http_status(err->code), err_name(err->code), path, err->msg, details);
}

json_t *http_body_json(struct http_req *req, struct http_res *res)
{
  if (req->body.len == 0) {
    http_reply_error(res, 400, "E_INVALID", "", "a JSON body is required");
    return NULL;
  }
  const char *type = http_header(req, "Content-Type");
  if (type && strncmp(type, "application/json", 16) != 0) {
    http_reply_error(res, 400, "E_INVALID", "", "the body must be application/json, not %s", type);
    return NULL;
  }
  json_error_t je;
  json_t *v = json_loadb(req->body.p, req->body.len, JSON_REJECT_DUPLICATES, &je);
  if (!v)
    http_reply_error(res, 400, "E_PARSE", "", "the body is not valid JSON (or not UTF-8): %s at "
                     "line %d, column %d", je.text, je.line, je.column);
  return v;
}
