/* routes: the one table of ONE's HTTP routes.
 *
 * How to add a route: write the handler (`void h(struct http_req *,
 * struct http_res *)`) in the http/handlers_*.c of its area, declare it
 * below, and add a row to `routes[]` in routes.c: method, pattern (literal
 * segments and {name} parameters, e.g. "/api/v1/agents/{id}"), handler,
 * flags, and a one-line summary (the OpenAPI document and `one help serve`
 * are made from the table). The router answers 404 for unknown paths and 405
 * (with Allow) for known paths with another method. */
#ifndef ONE_HTTP_ROUTES_H
#define ONE_HTTP_ROUTES_H

#include "http/http.h"

enum route_flags {
  ROUTE_PUBLIC = 0,      /* no session needed */
  ROUTE_AUTH = 1,        /* a signed-in user or token */
  ROUTE_ADMIN = 2,       /* an administrator */
};

struct route {
  const char *method;
  const char *pattern;
  http_handler handler;
  int flags;
  const char *summary;
};

extern const struct route routes[];
extern const size_t nroutes;

/* Finds the route for method and path: returns its index and fills params,
 * or -1 (not found; *allow is set to the methods the path has, "" if none). */
int route_match(const char *method, const char *path, const char **params, size_t *nparams,
                char *segbuf, size_t segbuf_len, char *allow, size_t allow_len);

/* handlers_health.c */
void h_healthz(struct http_req *req, struct http_res *res);
void h_readyz(struct http_req *req, struct http_res *res);
void h_metrics(struct http_req *req, struct http_res *res);

#endif
