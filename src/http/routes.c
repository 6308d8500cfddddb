/* routes: the route table and the matcher. */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

const struct route routes[] = {
  {"GET", "/healthz", h_healthz, ROUTE_PUBLIC, "liveness: the process answers"},
  {"GET", "/readyz", h_readyz, ROUTE_PUBLIC, "readiness: the database answers"},
  {"GET", "/metrics", h_metrics, ROUTE_PUBLIC, "Prometheus metrics"},
};

const size_t nroutes = sizeof routes / sizeof routes[0];

/* Compares pattern with path segment by segment; {x} segments match any
 * non-empty segment and are copied (NUL-ended) into segbuf for params. */
static int match(const char *pattern, const char *path, const char **params, size_t *np,
                 char *segbuf, size_t cap)
{
  const char *p = pattern, *q = path;
  size_t used = 0;
  *np = 0;
  while (*p && *q) {
    if (*p != '/' || *q != '/')
      return 0;
    p++;
    q++;
    size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
    if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
      if (ql == 0 || *np == HTTP_MAX_PARAMS || used + ql + 1 > cap)
        return 0;
      memcpy(segbuf + used, q, ql);
      segbuf[used + ql] = '\0';
      params[(*np)++] = segbuf + used;
      used += ql + 1;
    } else if (pl != ql || strncmp(p, q, pl) != 0) {
      return 0;
    }
    p += pl;
    q += ql;
  }
  return *p == '\0' && *q == '\0';
}

int route_match(const char *method, const char *path, const char **params, size_t *nparams,
                char *segbuf, size_t segbuf_len, char *allow, size_t allow_len)
{
  allow[0] = '\0';
  const char *tmp[HTTP_MAX_PARAMS];
  size_t ntmp;
  for (size_t i = 0; i < nroutes; i++) {
    if (!match(routes[i].pattern, path, tmp, &ntmp, segbuf, segbuf_len))
      continue;
    if (strcmp(routes[i].method, method) == 0) {
      memcpy(params, tmp, ntmp * sizeof *tmp);
      *nparams = ntmp;
      return (int)i;
    }
    if (!strstr(allow, routes[i].method)) {
      size_t n = strlen(allow);
      snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "", routes[i].method);
    }
  }
  return -1;
}
