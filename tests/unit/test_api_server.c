/* API tests of the server core: health, readiness, metrics, the error shape
 * for unknown routes, wrong methods and oversized bodies, request ids, and a
 * graceful stop. Runs the real `one serve`. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static struct api_server srv;

static void setup(void) { api_start(&srv); }
static void teardown(void) { cr_assert_eq(api_stop(&srv), 0, "one serve did not stop gracefully"); }

TestSuite(api_server, .init = setup, .fini = teardown, .timeout = 120);

/* The parsed body's error.code, or "" */
static const char *error_code(json_t *j)
{
  const char *c = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
  return c ? c : "";
}

Test(api_server, health_and_readiness)
{
  struct api_reply r = api_call(&srv, "GET", "/healthz", NULL, 0, NULL);
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
  cr_assert(strstr(r.headers, "X-Request-Id: "), "%s", r.headers);
  cr_assert(strstr(r.headers, "Content-Type: application/json"), "%s", r.headers);
  api_reply_free(&r);
  r = api_call(&srv, "GET", "/readyz", NULL, 0, NULL);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.body, "\"schema\":\"one\""), "a new database is created at the ONE schema: %s", r.body);
  api_reply_free(&r);
}

Test(api_server, errors_have_one_shape_and_the_right_status)
{
  struct { const char *method, *path; long status; const char *code; } cases[] = {
    {"GET", "/no/such/route", 404, "E_NOTFOUND"},
    {"GET", "/api/v1/", 404, "E_NOTFOUND"},
    {"POST", "/healthz", 405, "E_METHOD"},
    {"DELETE", "/metrics", 405, "E_METHOD"},
    {"GET", "/healthz/extra", 404, "E_NOTFOUND"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct api_reply r = api_call(&srv, cases[i].method, cases[i].path, NULL, 0, NULL);
    cr_assert_eq(r.status, cases[i].status, "%s %s: %ld", cases[i].method, cases[i].path, r.status);
    json_t *j = tu_json(r.body);
    cr_assert_str_eq(error_code(j), cases[i].code, "%s", r.body);
    json_t *e = json_object_get(j, "error");
    cr_assert(json_is_string(json_object_get(e, "message")) && json_is_string(json_object_get(e, "path")));
    if (cases[i].status == 405)
      cr_assert(strstr(r.headers, "Allow: GET"), "%s", r.headers);
    json_decref(j);
    api_reply_free(&r);
  }
}

Test(api_server, oversized_bodies_get_413)
{
  size_t n = 1024 * 1024 + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  struct api_reply r = api_call(&srv, "POST", "/healthz", big, n, NULL);
  cr_assert_eq(r.status, 413, "%ld %s", r.status, r.body);
  json_t *j = tu_json(r.body);
  cr_assert_str_eq(error_code(j), "E_TOOBIG");
  json_decref(j);
  api_reply_free(&r);
  free(big);
  /* the server still answers */
  r = api_call(&srv, "GET", "/healthz", NULL, 0, NULL);
  cr_assert_eq(r.status, 200);
  api_reply_free(&r);
}

Test(api_server, metrics_count_requests_by_route_and_status)
{
  for (int i = 0; i < 3; i++) {
    struct api_reply r = api_call(&srv, "GET", "/healthz", NULL, 0, NULL);
    api_reply_free(&r);
  }
  struct api_reply r = api_call(&srv, "GET", "/nowhere", NULL, 0, NULL);
  api_reply_free(&r);
  r = api_call(&srv, "GET", "/metrics", NULL, 0, NULL);
  cr_assert_eq(r.status, 200);
  cr_assert(strstr(r.headers, "Content-Type: text/plain; version=0.0.4"), "%s", r.headers);
  cr_assert(strstr(r.body, "one_http_requests_total{route=\"GET /healthz\",status=\"200\"} 3"), "%s", r.body);
  cr_assert(strstr(r.body, "one_http_requests_total{route=\"unmatched\",status=\"404\"} 1"), "%s", r.body);
  cr_assert(strstr(r.body, "one_http_request_duration_seconds_count{route=\"GET /healthz\"} 3"), "%s", r.body);
  cr_assert(strstr(r.body, "one_store_documents{table=\"users\"} 0"), "%s", r.body);
  cr_assert(strstr(r.body, "one_jobs{state=\"pending\"} 0\n"), "%s", r.body);
  cr_assert(strstr(r.body, "one_jobs{state=\"failed\"} 0\n"), "%s", r.body);
  cr_assert(strstr(r.body, "one_sched_running 0\n"), "the server runs a scheduler: %s", r.body);
  cr_assert(strstr(r.body, "one_sched_attempts_total{outcome=\"failed\"} 0\n"), "%s", r.body);
  cr_assert(strstr(r.body, "one_page_cache_total{result=\"hit\"} 0\n"), "%s", r.body);
  api_reply_free(&r);
}
