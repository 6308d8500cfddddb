/* bench_load: a closed-loop API client for the migration benchmark. Each of
 * C connections (threads) repeats: GET a page of 50 messages; every fourth
 * round also POST a message. It records every request's latency and whether
 * it failed (transport error or a status other than the expected), and runs
 * until the file STOP exists or SECONDS pass. Prints one JSON line:
 * {"requests", "failed", "p50_ms", "p99_ms", "max_ms", "posts"}.
 *
 *   bench_load URL TOKEN CONVERSATION CONNS SECONDS STOPFILE */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct worker {
  pthread_t thread;
  int n;
  double *lat;     /* milliseconds */
  size_t count, cap;
  long failed, posts;
};

static const char *base, *token, *conv, *stop_file;
static double deadline;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p;
  (void)arg;
  return size * n;
}

static void record(struct worker *w, double ms)
{
  if (w->count == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 4096;
    double *l = realloc(w->lat, cap * sizeof *l);
    if (!l)
      return;
    w->lat = l;
    w->cap = cap;
  }
  w->lat[w->count++] = ms;
}

static void one_request(struct worker *w, CURL *h, const char *url, const char *body, long want)
{
  curl_easy_setopt(h, CURLOPT_URL, url);
  if (body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  double t0 = now_s();
  CURLcode rc = curl_easy_perform(h);
  double ms = (now_s() - t0) * 1000.0;
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (rc != CURLE_OK || status != want) {
    w->failed++;
    if (w->failed <= 3)
      fprintf(stderr, "bench_load: %s %s -> %s, status %ld\n", body ? "POST" : "GET", url,
              curl_easy_strerror(rc), status);
  }
  record(w, ms);
}

static void *run(void *arg)
{
  struct worker *w = arg;
  CURL *h = curl_easy_init();
  char auth[256], get[512], post[512], body[128];
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  snprintf(get, sizeof get, "%s/api/v1/conversations/%s/messages?limit=50", base, conv);
  snprintf(post, sizeof post, "%s/api/v1/conversations/%s/messages", base, conv);
  struct curl_slist *hdr = curl_slist_append(NULL, auth);
  hdr = curl_slist_append(hdr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
  for (long round = 0; now_s() < deadline && access(stop_file, F_OK) != 0; round++) {
    one_request(w, h, get, NULL, 200);
    if (round % 4 == 3) {
      snprintf(body, sizeof body, "{\"content\":\"load %d.%ld\"}", w->n, round);
      one_request(w, h, post, body, 201);
      w->posts++;
    }
  }
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  return NULL;
}

static int by_value(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc != 7) {
    fprintf(stderr, "usage: bench_load URL TOKEN CONVERSATION CONNS SECONDS STOPFILE\n");
    return 2;
  }
  base = argv[1];
  token = argv[2];
  conv = argv[3];
  int conns = atoi(argv[4]);
  deadline = now_s() + atof(argv[5]);
  stop_file = argv[6];
  if (conns < 1 || conns > 256) {
    fprintf(stderr, "bench_load: CONNS is 1 to 256\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  struct worker *w = calloc((size_t)conns, sizeof *w);
  for (int i = 0; i < conns; i++) {
    w[i].n = i;
    pthread_create(&w[i].thread, NULL, run, &w[i]);
  }
  size_t total = 0;
  long failed = 0, posts = 0;
  for (int i = 0; i < conns; i++) {
    pthread_join(w[i].thread, NULL);
    total += w[i].count;
    failed += w[i].failed;
    posts += w[i].posts;
  }
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conns; i++) {
    memcpy(all + k, w[i].lat, w[i].count * sizeof *all);
    k += w[i].count;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, by_value);
  double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)((double)total * 0.99)] : 0;
  printf("{\"requests\":%zu,\"failed\":%ld,\"posts\":%ld,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
         "\"max_ms\":%.3f}\n", total, failed, posts, p50, p99, total ? all[total - 1] : 0);
  free(all);
  free(w);
  curl_global_cleanup();
  return 0;
}
