/* metrics: request counts by route and status, latency histograms by route,
 * and store counts, in Prometheus text format. The counters are shared by
 * every server thread: atomics, no locks. */
#include "http/http.h"
#include "http/stream.h"
#include "http/routes.h"
#include "util/buf.h"
#include "util/mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define MAX_ROUTES 256
static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + other */
static const double buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

/* Shared across threads; only ever changed with atomic operations. Slot
 * MAX_ROUTES - 1 counts requests that matched no route. */
static atomic_ulong shared_requests[MAX_ROUTES][NSTATUS];
static atomic_ulong shared_latency[MAX_ROUTES][NBUCKETS + 1];
static atomic_ulong shared_latency_us[MAX_ROUTES];

void metrics_observe(int route, int status, double seconds)
{
  int r = route >= 0 && route < MAX_ROUTES - 1 ? route : MAX_ROUTES - 1;
  size_t s = NSTATUS - 1;
  for (size_t i = 0; i < NSTATUS - 1; i++)
    if (statuses[i] == status)
      s = i;
  atomic_fetch_add(&shared_requests[r][s], 1);
  size_t b = NBUCKETS;
  for (size_t i = 0; i < NBUCKETS; i++)
    if (seconds <= buckets[i]) {
      b = i;
      break;
    }
  atomic_fetch_add(&shared_latency[r][b], 1);
  atomic_fetch_add(&shared_latency_us[r], (unsigned long)(seconds * 1e6));
}

static const char *route_label(int r, char *buf, size_t n)
{
  if (r == MAX_ROUTES - 1 || (size_t)r >= nroutes)
    return "unmatched";
  snprintf(buf, n, "%s %s", routes[r].method, routes[r].pattern);
  return buf;
}

struct counts {
  struct buf *b;
};

static int count_tables(struct store_tx *tx, void *arg, struct err *err)
{
  struct counts *c = arg;
  json_t *tables = store_tables(tx);
  size_t i;
  json_t *t;
  int rc = buf_puts(c->b, "# HELP one_store_documents Documents per table.\n"
                          "# TYPE one_store_documents gauge\n");
  json_array_foreach(tables, i, t) {
    int64_t n = 0;
    const char *name = json_string_value(json_object_get(t, "name"));
    if (!rc && store_count(tx, name, &n, err) == 0)
      rc = buf_printf(c->b, "one_store_documents{table=\"%s\"} %lld\n", name, (long long)n);
  }
  json_decref(tables);
  return rc;
}

char *metrics_render(struct store *store)
{
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  char label[300];
  int rc = buf_puts(&b, "# HELP one_http_requests_total HTTP requests by route and status.\n"
                        "# TYPE one_http_requests_total counter\n");
  for (int r = 0; !rc && r < MAX_ROUTES; r++)
    for (size_t s = 0; !rc && s < NSTATUS; s++) {
      unsigned long n = atomic_load(&shared_requests[r][s]);
      if (!n)
        continue;
      char st[8];
      snprintf(st, sizeof st, "%d", s < NSTATUS - 1 ? statuses[s] : 0);
      rc = buf_printf(&b, "one_http_requests_total{route=\"%s\",status=\"%s\"} %lu\n",
                      route_label(r, label, sizeof label), s < NSTATUS - 1 ? st : "other", n);
    }
  if (!rc)
    rc = buf_puts(&b, "# HELP one_http_request_duration_seconds Request latency by route.\n"
                      "# TYPE one_http_request_duration_seconds histogram\n");
  for (int r = 0; !rc && r < MAX_ROUTES; r++) {
    unsigned long total = 0;
    for (size_t i = 0; i <= NBUCKETS; i++)
      total += atomic_load(&shared_latency[r][i]);
    if (!total)
      continue;
    const char *l = route_label(r, label, sizeof label);
    unsigned long cum = 0;
    for (size_t i = 0; !rc && i < NBUCKETS; i++) {
      cum += atomic_load(&shared_latency[r][i]);
      rc = buf_printf(&b, "one_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                      l, buckets[i], cum);
    }
    if (!rc)
      rc = buf_printf(&b, "one_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n"
                          "one_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                          "one_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                      l, total, l, (double)atomic_load(&shared_latency_us[r]) / 1e6, l, total);
  }
  if (!rc)
    rc = buf_printf(&b, "# HELP one_http_open_streams Server-Sent Events streams open now.\n"
                        "# TYPE one_http_open_streams gauge\none_http_open_streams %ld\n",
                    stream_open_count());
  struct err err = ERR_INIT;
  struct counts c = {&b};
  if (!rc && store)
    rc = store_run(store, STORE_READ, count_tables, &c, &err);
  err_clear(&err);
  if (rc) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b);
}
