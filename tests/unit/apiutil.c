/* apiutil: see apiutil.h. */
#include "apiutil.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void api_start(struct api_server *s) { api_start_in(s, NULL); }

void api_start_in(struct api_server *s, const char *prepare)
{
  memset(s, 0, sizeof *s);
  s->dir = tu_tmpdir();
  if (prepare) {
    char *cmd = NULL, *errout = NULL;
    cr_assert(asprintf(&cmd, "cd '%s' && %s", s->dir, prepare) > 0);
    cr_assert_eq(tu_run(cmd, NULL, &errout), 0, "%s: %s", prepare, errout);
    free(cmd);
    free(errout);
  }
  api_relaunch(s);
}

void api_kill9(struct api_server *s)
{
  int st = 0;
  kill(s->pid, SIGKILL);
  waitpid(s->pid, &st, 0);
}

void api_relaunch(struct api_server *s)
{
  char db[512], log[512];
  snprintf(db, sizeof db, "%s/t.db", s->dir);
  snprintf(log, sizeof log, "%s/serve.log", s->dir);
  s->url[0] = '\0';
  long start = 0; /* where this launch's lines begin in the log */
  FILE *before = fopen(log, "r");
  if (before) {
    fseek(before, 0, SEEK_END);
    start = ftell(before);
    fclose(before);
  }
  s->pid = fork();
  cr_assert_neq(s->pid, -1);
  if (s->pid == 0) {
    /* a test that dies (a crash, a timeout) takes its server with it, so
     * that no orphan holds ctest's output open */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE *f = freopen(log, "a", stderr);
    (void)f;
    f = freopen("/dev/null", "w", stdout);
    (void)f;
    setenv("ONE_SYNC", "normal", 1);
    execl(ONE_BINARY, ONE_BINARY, "serve", "--listen", "127.0.0.1:0", "--db", db, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 3000; i++) { /* up to 30 s (sanitizer builds start slowly) */
    FILE *f = fopen(log, "r");
    char line[1024];
    if (f)
      fseek(f, start, SEEK_SET);
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

static struct api_reply call(const struct api_server *s, const char *method, const char *path,
                             const char *body, size_t body_len, const char *const *extra_headers,
                             int must_answer);

struct api_reply api_call(const struct api_server *s, const char *method, const char *path,
                          const char *body, size_t body_len, const char *const *extra_headers)
{
  return call(s, method, path, body, body_len, extra_headers, 1);
}

struct api_reply api_try(const struct api_server *s, const char *token, const char *method,
                         const char *path, const char *body)
{
  char auth[200];
  const char *headers[2] = {NULL, NULL};
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    headers[0] = auth;
  }
  return call(s, method, path, body, body ? strlen(body) : 0, headers, 0);
}

static struct api_reply call(const struct api_server *s, const char *method, const char *path,
                             const char *body, size_t body_len, const char *const *extra_headers,
                             int must_answer)
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
  int typed = 0;
  for (const char *const *x = extra_headers; x && *x; x++)
    typed |= strncasecmp(*x, "Content-Type:", 13) == 0;
  if (body && !typed)
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
  if (must_answer)
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
  if (rc == CURLE_OK)
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

/* The body of fmt and its arguments (free), or NULL when fmt is NULL. */
static char *vformat(const char *fmt, va_list ap)
{
  char *body = NULL;
  if (fmt)
    cr_assert(vasprintf(&body, fmt, ap) >= 0);
  return body;
}

struct api_reply api_req(const struct api_server *s, const char *token, const char *method,
                         const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *body = vformat(fmt, ap);
  va_end(ap);
  char auth[200];
  const char *headers[2] = {NULL, NULL};
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    headers[0] = auth;
  }
  struct api_reply r = api_call(s, method, path, body, body ? strlen(body) : 0, headers);
  free(body);
  return r;
}

json_t *api_expect(const struct api_server *s, const char *token, long status, const char *method,
                   const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *body = vformat(fmt, ap);
  va_end(ap);
  struct api_reply r = api_req(s, token, method, path, body ? "%s" : NULL, body);
  cr_assert_eq(r.status, status, "%s %s -> %ld, expected %ld: %s", method, path, r.status, status,
               r.body);
  json_t *j = r.body[0] ? tu_json(r.body) : json_object();
  api_reply_free(&r);
  free(body);
  return j;
}

static void take_session(json_t *j, struct api_user *u)
{
  snprintf(u->id, sizeof u->id, "%s", json_string_value(json_object_get(j, "userId")));
  snprintf(u->token, sizeof u->token, "%s", json_string_value(json_object_get(j, "token")));
  cr_assert(u->id[0] && u->token[0]);
}

void api_signup(const struct api_server *s, const char *email, struct api_user *u)
{
  json_t *j = api_expect(s, NULL, 201, "POST", "/api/v1/auth/signup",
                         "{\"email\":\"%s\",\"password\":\"correct horse\"}", email);
  take_session(j, u);
  json_decref(j);
}

void api_admin(const struct api_server *s, const char *email, struct api_user *u)
{
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "ONE_PASSWORD='correct horse' %s --db %s/t.db user create --email %s "
           "--admin", ONE_BINARY, s->dir, email);
  char *out = NULL, *errout = NULL;
  int rc = tu_run(cmd, &out, &errout);
  cr_assert_eq(rc, 0, "user create: %s", errout);
  free(out);
  free(errout);
  json_t *j = api_expect(s, NULL, 200, "POST", "/api/v1/auth/signin",
                         "{\"email\":\"%s\",\"password\":\"correct horse\"}", email);
  take_session(j, u);
  json_decref(j);
}

/* --- Server-Sent Events --- */

struct api_stream {
  pthread_t thread;
  pthread_mutex_t lock;
  char url[4096];
  char auth[200], last[64];
  char *buf;
  size_t n;
  long status;
  int stop, ended;
};

static size_t stream_collect(char *data, size_t size, size_t nmemb, void *arg)
{
  struct api_stream *st = arg;
  size_t add = size * nmemb;
  pthread_mutex_lock(&st->lock);
  st->buf = realloc(st->buf, st->n + add + 1);
  memcpy(st->buf + st->n, data, add);
  st->n += add;
  st->buf[st->n] = '\0';
  pthread_mutex_unlock(&st->lock);
  return add;
}

static int stream_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
  struct api_stream *st = arg;
  (void)a, (void)b, (void)c, (void)d;
  pthread_mutex_lock(&st->lock);
  int stop = st->stop;
  pthread_mutex_unlock(&st->lock);
  return stop;
}

static void *stream_run(void *arg)
{
  struct api_stream *st = arg;
  CURL *c = curl_easy_init();
  struct curl_slist *hl = NULL;
  if (st->auth[0])
    hl = curl_slist_append(hl, st->auth);
  if (st->last[0])
    hl = curl_slist_append(hl, st->last);
  curl_easy_setopt(c, CURLOPT_URL, st->url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, st);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, stream_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, st);
  curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  pthread_mutex_lock(&st->lock);
  st->status = status;
  st->ended = 1;
  pthread_mutex_unlock(&st->lock);
  return NULL;
}

struct api_stream *api_stream_open(const struct api_server *s, const char *path, const char *token,
                                   const char *last_event_id)
{
  struct api_stream *st = calloc(1, sizeof *st);
  pthread_mutex_init(&st->lock, NULL);
  st->buf = calloc(1, 1);
  snprintf(st->url, sizeof st->url, "%s%s", s->url, path);
  if (token)
    snprintf(st->auth, sizeof st->auth, "Authorization: Bearer %s", token);
  if (last_event_id)
    snprintf(st->last, sizeof st->last, "Last-Event-ID: %s", last_event_id);
  cr_assert_eq(pthread_create(&st->thread, NULL, stream_run, st), 0);
  return st;
}

int api_stream_wait(struct api_stream *st, const char *needle, int timeout_ms)
{
  for (int waited = 0;; waited += 5) {
    pthread_mutex_lock(&st->lock);
    int found = strstr(st->buf, needle) != NULL, ended = st->ended;
    pthread_mutex_unlock(&st->lock);
    if (found)
      return 1;
    if (ended || waited >= timeout_ms)
      return 0;
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

int api_stream_ended(struct api_stream *st, int timeout_ms, long *status)
{
  for (int waited = 0;; waited += 5) {
    pthread_mutex_lock(&st->lock);
    int ended = st->ended;
    if (status)
      *status = st->status;
    pthread_mutex_unlock(&st->lock);
    if (ended || waited >= timeout_ms)
      return ended;
    struct timespec ts = {0, 5 * 1000000L};
    nanosleep(&ts, NULL);
  }
}

char *api_stream_text(struct api_stream *st)
{
  pthread_mutex_lock(&st->lock);
  char *t = strdup(st->buf);
  pthread_mutex_unlock(&st->lock);
  return t;
}

void api_stream_close(struct api_stream *st)
{
  pthread_mutex_lock(&st->lock);
  st->stop = 1;
  pthread_mutex_unlock(&st->lock);
  pthread_join(st->thread, NULL);
  pthread_mutex_destroy(&st->lock);
  free(st->buf);
  free(st);
}

void api_agent_id(const struct api_server *s, const struct api_user *u, const char *name,
                  char out[64])
{
  json_t *page = api_expect(s, u->token, 200, "GET", "/api/v1/agents?limit=100", NULL);
  size_t i;
  json_t *a;
  out[0] = '\0';
  json_array_foreach(json_object_get(page, "items"), i, a) if (strcmp(
    json_string_value(json_object_get(a, "name")), name) == 0)
    snprintf(out, 64, "%s", json_string_value(json_object_get(a, "_id")));
  json_decref(page);
  cr_assert(out[0], "no agent %s", name);
}

int api_count_content(const struct api_server *s, const struct api_user *u, const char *conv,
                      const char *needle)
{
  char path[200];
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages?limit=100", conv);
  json_t *page = api_expect(s, u->token, 200, "GET", path, NULL);
  size_t i;
  json_t *m;
  int n = 0;
  json_array_foreach(json_object_get(page, "items"), i, m) n +=
    strstr(json_string_value(json_object_get(m, "content")), needle) != NULL;
  json_decref(page);
  return n;
}
