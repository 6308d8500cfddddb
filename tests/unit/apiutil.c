/* apiutil: see apiutil.h. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void api_start(struct api_server *s)
{
  memset(s, 0, sizeof *s);
  s->dir = tu_tmpdir();
  char db[512], log[512];
  snprintf(db, sizeof db, "%s/t.db", s->dir);
  snprintf(log, sizeof log, "%s/serve.log", s->dir);
  s->pid = fork();
  cr_assert_neq(s->pid, -1);
  if (s->pid == 0) {
    FILE *f = freopen(log, "w", stderr);
    (void)f;
    setenv("ONE_SYNC", "normal", 1);
    execl(ONE_BINARY, ONE_BINARY, "serve", "--listen", "127.0.0.1:0", "--db", db, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 3000; i++) { /* up to 30 s (sanitizer builds start slowly) */
    FILE *f = fopen(log, "r");
    char line[1024];
    while (f && fgets(line, sizeof line, f)) {
      char *u = strstr(line, "\"url\":\"");
      if (u && sscanf(u + 7, "%63[^\"]", s->url) == 1) {
        fclose(f);
        return;
      }
    }
    if (f)
      fclose(f);
    int st;
    cr_assert_eq(waitpid(s->pid, &st, WNOHANG), 0, "one serve exited early; see %s", log);
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  cr_assert_fail("one serve did not start; see %s", log);
}

int api_stop(struct api_server *s)
{
  int st = 0;
  kill(s->pid, SIGTERM);
  waitpid(s->pid, &st, 0);
  tu_rmdir(s->dir);
  free(s->dir);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct sink {
  char *p;
  size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
  struct sink *s = arg;
  size_t add = size * nmemb;
  s->p = realloc(s->p, s->n + add + 1);
  memcpy(s->p + s->n, data, add);
  s->n += add;
  s->p[s->n] = '\0';
  return add;
}

struct api_reply api_call(const struct api_server *s, const char *method, const char *path,
                          const char *body, size_t body_len, const char *const *extra_headers)
{
  struct api_reply r = {0, NULL, NULL};
  struct sink b = {calloc(1, 1), 0}, h = {calloc(1, 1), 0};
  CURL *c = curl_easy_init();
  cr_assert(c);
  char url[4096];
  snprintf(url, sizeof url, "%s%s", s->url, path);
  struct curl_slist *hl = NULL;
  for (const char *const *x = extra_headers; x && *x; x++)
    hl = curl_slist_append(hl, *x);
  if (body)
    hl = curl_slist_append(hl, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  CURLcode rc = curl_easy_perform(c);
  cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  r.body = b.p;
  r.headers = h.p;
  return r;
}

void api_reply_free(struct api_reply *r)
{
  free(r->body);
  free(r->headers);
  r->body = r->headers = NULL;
}
