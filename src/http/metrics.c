/* metrics: request counts by route and status, latency histograms by route,
 * and store counts, in Prometheus text format. The counters are shared by
 * every server thread: atomics, no locks. */
#include "agents/sched.h"
#include "domain/pages.h"
#include "http/http.h"
#include "http/stream.h"
#include "http/routes.h"
#include "migrate/chain.h"
#include "util/clock.h"
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

/* The migration's progress and failures (migrate/chain.h). */
static int migration_metrics(struct store *store, struct buf *b, struct err *err)
{
  json_t *st = NULL, *log = NULL;
  int rc = migrate_status(store, &st, err);
  if (!rc)
    rc = migrate_log(store, &log, err);
  size_t failures = 0, i;
  json_t *e;
  json_array_foreach(log, i, e) failures +=
    strcmp(json_string_value(json_object_get(e, "event")), "fail") == 0;
  const json_t *ver = json_object_get(st, "verified");
  if (!rc)
    rc = buf_printf(b, "# HELP one_migration_steps_done Steps of the agent-inbox -> one chain done.\n"
                       "# TYPE one_migration_steps_done gauge\none_migration_steps_done %lld\n"
                       "one_migration_steps_total %lld\n"
                       "# HELP one_migration_running 1 while a migration holds the lock.\n"
                       "# TYPE one_migration_running gauge\none_migration_running %d\n"
                       "# HELP one_migration_failures_total Steps that failed (migration log).\n"
                       "# TYPE one_migration_failures_total counter\n"
                       "one_migration_failures_total %zu\n",
                    (long long)json_integer_value(json_object_get(st, "position")),
                    (long long)json_integer_value(json_object_get(st, "count")),
                    json_object_get(st, "lock") != NULL, failures);
  if (!rc && ver)
    rc = buf_printf(b, "# HELP one_migration_verified 1 when the last verify passed.\n"
                       "# TYPE one_migration_verified gauge\none_migration_verified %d\n",
                    json_is_true(json_object_get(ver, "ok")));
  if (!rc)
    rc = buf_puts(b, "# HELP one_migration_step_documents Documents a step has processed and "
                     "changed.\n# TYPE one_migration_step_documents gauge\n");
  json_array_foreach(json_object_get(st, "steps"), i, e) {
    const char *name = json_string_value(json_object_get(e, "name"));
    const char *state = json_string_value(json_object_get(e, "state"));
    if (!rc)
      rc = buf_printf(b, "one_migration_step_documents{step=\"%s\",state=\"%s\",count=\"processed\"} "
                         "%lld\none_migration_step_documents{step=\"%s\",state=\"%s\",count=\"changed\"} "
                         "%lld\n", name, state ? state : "pending",
                      (long long)json_integer_value(json_object_get(e, "processed")), name,
                      state ? state : "pending",
                      (long long)json_integer_value(json_object_get(e, "changed")));
  }
  json_decref(st);
  json_decref(log);
  return rc;
}

static int read_jobs(struct store_tx *tx, void *arg, struct err *err)
{
  int64_t *v = arg; /* STORE_JOB_STATES counts, then the next due time */
  return store_job_counts(tx, v, &v[STORE_JOB_STATES], err);
}

/* The job queue (every process's, from the store) and this process's
 * scheduler. */
static int job_metrics(struct store *store, struct sched *sc, struct buf *b, struct err *err)
{
  int64_t v[STORE_JOB_STATES + 1] = {0};
  int rc = store_run(store, STORE_READ, read_jobs, v, err);
  if (!rc)
    rc = buf_puts(b, "# HELP one_jobs Jobs in the queue by state.\n# TYPE one_jobs gauge\n");
  for (int i = 0; !rc && i < STORE_JOB_STATES; i++)
    rc = buf_printf(b, "one_jobs{state=\"%s\"} %lld\n",
                    store_job_state_name((enum store_job_state)i), (long long)v[i]);
  double now = clock_now_ms();
  double lag = v[STORE_JOB_STATES] && v[STORE_JOB_STATES] < now ? (now - v[STORE_JOB_STATES]) / 1e3
                                                                 : 0;
  if (!rc)
    rc = buf_printf(b, "# HELP one_jobs_due_lag_seconds How long the most overdue job has been "
                       "due.\n# TYPE one_jobs_due_lag_seconds gauge\none_jobs_due_lag_seconds "
                       "%.3f\n", lag);
  if (rc || !sc)
    return rc;
  struct sched_stats ss;
  sched_stats(sc, &ss);
  return buf_printf(b, "# HELP one_sched_attempts_total Job attempts this process ended, by how.\n"
                       "# TYPE one_sched_attempts_total counter\n"
                       "one_sched_attempts_total{outcome=\"done\"} %ld\n"
                       "one_sched_attempts_total{outcome=\"retried\"} %ld\n"
                       "one_sched_attempts_total{outcome=\"failed\"} %ld\n"
                       "one_sched_attempts_total{outcome=\"lost\"} %ld\n"
                       "# HELP one_sched_running Job attempts in flight in this process.\n"
                       "# TYPE one_sched_running gauge\none_sched_running %u\n",
                    ss.done, ss.retried, ss.failed, ss.lost, ss.running);
}

char *metrics_render(struct store *store, struct sched *sched)
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
  if (!rc && store) {
    struct store_stats ss;
    store_stats(store, &ss);
    rc = buf_printf(&b, "# HELP one_store_commits_total Write transactions committed.\n"
                        "# TYPE one_store_commits_total counter\none_store_commits_total %ld\n"
                        "# HELP one_store_grouped_writes_total Writes committed in a group with "
                        "others (one sync for all).\n# TYPE one_store_grouped_writes_total counter\n"
                        "one_store_grouped_writes_total %ld\n"
                        "# HELP one_store_writes_waiting Writes queued for the next group commit.\n"
                        "# TYPE one_store_writes_waiting gauge\none_store_writes_waiting %zu\n",
                    ss.commits, ss.grouped, ss.waiting);
  }
  if (!rc) {
    struct pages_stats ps;
    pages_stats(&ps);
    rc = buf_printf(&b, "# HELP one_page_cache_total Message page reads answered from a kept "
                        "page (hit) or rendered (miss).\n# TYPE one_page_cache_total counter\n"
                        "one_page_cache_total{result=\"hit\"} %lu\n"
                        "one_page_cache_total{result=\"miss\"} %lu\n",
                    ps.hits, ps.misses);
  }
  struct err err = ERR_INIT;
  struct counts c = {&b};
  if (!rc && store)
    rc = store_run(store, STORE_READ, count_tables, &c, &err);
  if (!rc && store)
    rc = migration_metrics(store, &b, &err);
  if (!rc && store)
    rc = job_metrics(store, sched, &b, &err);
  err_clear(&err);
  if (rc) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b);
}
