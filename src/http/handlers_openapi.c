/* handlers_openapi: the OpenAPI 3 document, made from the route table so it
 * cannot fall out of step with what the server answers. */
#include "http/handlers.h"
#include "http/routes.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static json_t *error_response(const char *why)
{
  return json_pack("{s:s,s:{s:{s:{s:s}}}}", "description", why, "content", "application/json",
                   "schema", "$ref", "#/components/schemas/Error");
}

/* operationId: method + the literal segments, e.g. get_api_v1_agents_id. */
static void operation_id(const struct route *r, char *out, size_t n)
{
  size_t k = (size_t)snprintf(out, n, "%s", r->method);
  for (size_t i = 0; i < k; i++)
    out[i] = (char)tolower((unsigned char)out[i]);
  for (const char *p = r->pattern; *p && k + 1 < n; p++) {
    char c = *p;
    if (c == '/' || c == '.' || c == '-')
      c = '_';
    else if (c == '{' || c == '}')
      continue;
    out[k++] = c;
  }
  out[k] = '\0';
}

static json_t *operation(const struct route *r)
{
  char id[200];
  operation_id(r, id, sizeof id);
  json_t *op = json_pack("{s:s,s:s}", "summary", r->summary, "operationId", id);
  json_t *params = json_array();
  for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
    const char *end = strchr(p, '}');
    json_array_append_new(params, json_pack("{s:s%,s:s,s:b,s:{s:s}}", "name", p + 1,
                                            (size_t)(end - p - 1), "in", "path", "required", 1,
                                            "schema", "type", "string"));
  }
  if (strstr(r->summary, "(paged)")) {
    json_array_append_new(params, json_pack("{s:s,s:s,s:{s:s,s:i,s:i}}", "name", "limit", "in",
                                            "query", "schema", "type", "integer", "minimum", 1,
                                            "maximum", STORE_MAX_PAGE));
    json_array_append_new(params, json_pack("{s:s,s:s,s:{s:s}}", "name", "cursor", "in", "query",
                                            "schema", "type", "string"));
  }
  if (strstr(r->summary, "Last-Event-ID"))
    json_array_append_new(params, json_pack("{s:s,s:s,s:{s:s}}", "name", "Last-Event-ID", "in",
                                            "header", "schema", "type", "string"));
  json_object_set_new(op, "parameters", params);
  int body = strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0 ||
             strcmp(r->method, "PUT") == 0;
  if (body && strcmp(r->pattern + strlen(r->pattern) - 6, "/leave") != 0 &&
      !strstr(r->pattern, "/signout"))
    json_object_set_new(op, "requestBody",
                        json_pack("{s:b,s:{s:{s:{s:s}}}}", "required",
                                  strcmp(r->method, "PUT") != 0, "content", "application/json",
                                  "schema", "type", "object"));
  json_t *res = json_object();
  const char *ok = strstr(r->pattern, "stream") ? "text/event-stream" : "application/json";
  int status = strcmp(r->method, "DELETE") == 0 && !strstr(r->pattern, "participants") ? 204
               : strcmp(r->method, "POST") == 0 && !strstr(r->pattern, "signin") &&
                     !strstr(r->pattern, "signout") && !strstr(r->pattern, "leave") ? 201 : 200;
  if (strstr(r->pattern, "signout"))
    status = 204;
  char code[8];
  snprintf(code, sizeof code, "%d", status);
  json_object_set_new(res, code, status == 204 ? json_pack("{s:s}", "description", "done")
                                               : json_pack("{s:s,s:{s:{}}}", "description", "ok",
                                                           "content", ok));
  if (body)
    json_object_set_new(res, "400", error_response("the body is not JSON, or not UTF-8"));
  if (r->flags != ROUTE_PUBLIC) {
    json_object_set_new(res, "401", error_response("no session, or it has ended"));
    json_object_set_new(res, "403", error_response("not allowed"));
    json_object_set_new(op, "security", json_pack("[{s:[]},{s:[]}]", "bearer", "cookie"));
  } else {
    json_object_set_new(op, "security", json_array());
  }
  if (strchr(r->pattern, '{'))
    json_object_set_new(res, "404", error_response("no such thing, or not visible to you"));
  if (body) {
    json_object_set_new(res, "413", error_response("the body is over 1 MiB"));
    json_object_set_new(res, "422", error_response("the document is refused; path says where"));
  }
  if (strstr(r->pattern, "/auth/"))
    json_object_set_new(res, "429", error_response("too many failed sign-ins; see Retry-After"));
  json_object_set_new(op, "responses", res);
  return op;
}

json_t *openapi_document(void)
{
  json_t *paths = json_object();
  for (size_t i = 0; i < nroutes; i++) {
    json_t *item = json_object_get(paths, routes[i].pattern);
    if (!item) {
      item = json_object();
      json_object_set_new(paths, routes[i].pattern, item);
    }
    char m[16];
    size_t k = 0;
    for (; routes[i].method[k] && k + 1 < sizeof m; k++)
      m[k] = (char)tolower((unsigned char)routes[i].method[k]);
    m[k] = '\0';
    json_object_set_new(item, m, operation(&routes[i]));
  }
  json_t *error = json_pack(
    "{s:s,s:[s],s:{s:{s:s,s:[s,s,s],s:{s:{s:s},s:{s:s},s:{s:s},s:{s:s}}}}}", "type", "object",
    "required", "error", "properties", "error", "type", "object", "required", "code", "message",
    "path", "properties", "code", "type", "string", "message", "type", "string", "path", "type",
    "string", "details", "type", "array");
  return json_pack(
    "{s:s,s:{s:s,s:s,s:s},s:o,s:{s:{s:o},s:{s:{s:s,s:s},s:{s:s,s:s,s:s}}}}", "openapi", "3.0.3",
    "info", "title", "ONE", "version", "1", "description",
    "People and AI agents working together in conversations. Errors are always "
    "{\"error\":{\"code\",\"message\",\"path\"}}. Values are Convex JSON (int64 as {\"$integer\"}).",
    "paths", paths, "components", "schemas", "Error", error, "securitySchemes", "bearer", "type",
    "http", "scheme", "bearer", "cookie", "type", "apiKey", "in", "cookie", "name", SESSION_COOKIE);
}

void h_openapi(struct http_req *req, struct http_res *res)
{
  (void)req;
  json_t *doc = openapi_document();
  if (!doc)
    http_reply_error(res, 500, "E_INTERNAL", "", "cannot build the OpenAPI document");
  else
    http_reply_json(res, 200, doc);
}
