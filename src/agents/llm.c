/* llm: the chat-completion client's transport (llm.h): one thread runs a
 * libcurl multi handle with every call in flight, driven by epoll
 * (curl_multi_socket_action), so that a wake-up costs the sockets that are
 * ready, not every call in flight.
 *
 * A call's states, with the function for each transition:
 *   submitted (llm_chat: queued under the lock, the thread woken)
 *   -> in flight (start_attempt: an easy handle in the multi)
 *   -> answered (attempt_ended: status, body or stream checked)
 *   -> waiting for a retry (retry_later, due after Retry-After or a
 *      back-off) -> in flight again, or
 *   -> done (finish: the callback runs once, the call is freed).
 * Invariants: only the thread touches a call after llm_chat queued it;
 * `pending` counts calls not yet done. A streamed attempt that is retried
 * after text has gone out tells its delta callback to start over with a
 * (NULL, 0) delta. */
#include "agents/llm.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct call {
  struct llm *l;
  char *body;
  int stream;
  llm_delta_fn delta;
  llm_done_fn done;
  void *arg;
  CURL *easy;
  struct curl_slist *headers;
  int mode;                     /* 0 undecided, 1 streamed, 2 whole body */
  struct buf resp;
  struct llm_stream *st;
  int sent_text;                /* deltas went out in this attempt */
  struct err perr;              /* a stream chunk that did not parse */
  long retry_after_ms;
  int attempts;
  double due;                   /* waiting: when to try again (monotonic s) */
  struct call *next;            /* in submitted or waiting */
  struct call *fprev, *fnext;   /* in flight */
  struct llm_result *res;       /* made with the call, so that it always ends with one */
  char curl_err[CURL_ERROR_SIZE];
};

struct llm {
  char *base_url, *api_key, *model;
  struct llm_config cfg;
  char *url;
  CURLM *multi;
  pthread_t thread;
  pthread_mutex_t lock;
  struct call *submitted;       /* guarded by lock */
  int stopping;                 /* guarded by lock */
  struct call *waiting;         /* the thread's */
  struct call *flight;          /* the thread's: attempts in the multi handle */
  int epfd;                     /* the thread's epoll: curl's sockets and wake */
  int wake;                     /* an eventfd: llm_chat and llm_free write to it */
  double timer;                 /* when curl wants its timeout action (monotonic s), < 0 none */
  atomic_size_t pending;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int llm_config_from_env(struct llm_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  const char *base = getenv("ONE_LLM_BASE_URL"), *model = getenv("ONE_LLM_MODEL");
  const char *key = getenv("ONE_LLM_API_KEY");
  cfg->base_url = base && *base ? base : NULL;
  cfg->model = model && *model ? model : NULL;
  cfg->api_key = key && *key ? key : NULL;
  return cfg->base_url && cfg->model;
}

static void *run(void *arg);

/* curl's sockets, watched by the thread's epoll (curl_multi_socket_action:
 * the thread is woken for the sockets that are ready, not for all of them). */
static int on_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *known)
{
  (void)e;
  struct llm *l = arg;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    curl_multi_assign(l->multi, fd, NULL);
    return 0;
  }
  struct epoll_event ev = {.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
                                     (what & CURL_POLL_OUT ? EPOLLOUT : 0),
                           .data.fd = fd};
  if (epoll_ctl(l->epfd, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0 && known)
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
  if (!known)
    curl_multi_assign(l->multi, fd, l);
  return 0;
}

static int on_timer(CURLM *m, long ms, void *arg)
{
  (void)m;
  struct llm *l = arg;
  l->timer = ms < 0 ? -1 : clock_mono_s() + (double)ms / 1e3;
  return 0;
}

static void wake_up(struct llm *l)
{
  uint64_t one = 1;
  (void)!write(l->wake, &one, sizeof one);
}

int llm_new(const struct llm_config *cfg, struct llm **out, struct err *err)
{
  if (!cfg->base_url || strncmp(cfg->base_url, "http", 4) != 0)
    return err_set(err, E_INVALID, "the model's base URL must start with http:// or https://, "
                   "e.g. http://127.0.0.1:11434/v1 (ONE_LLM_BASE_URL)");
  if (!cfg->model || !*cfg->model)
    return err_set(err, E_INVALID, "no model is named (ONE_LLM_MODEL)");
  pthread_once(&curl_once, curl_init_once);
  struct llm *l = one_calloc(1, sizeof *l);
  if (!l)
    return err_set(err, E_NOMEM, "out of memory");
  l->cfg = *cfg;
  l->base_url = one_strdup(cfg->base_url);
  l->model = one_strdup(cfg->model);
  l->api_key = cfg->api_key ? one_strdup(cfg->api_key) : NULL;
  size_t n = strlen(cfg->base_url);
  while (n && cfg->base_url[n - 1] == '/')
    n--;
  l->url = one_malloc(n + sizeof "/chat/completions");
  if (l->url)
    snprintf(l->url, n + sizeof "/chat/completions", "%.*s/chat/completions", (int)n,
             cfg->base_url);
  l->cfg.base_url = l->base_url;
  l->cfg.model = l->model;
  l->cfg.api_key = l->api_key;
  if (!l->cfg.timeout_ms)
    l->cfg.timeout_ms = 120000;
  if (!l->cfg.connect_timeout_ms)
    l->cfg.connect_timeout_ms = 10000;
  if (!l->cfg.max_retries)
    l->cfg.max_retries = 3;
  if (l->cfg.max_retries < 0)
    l->cfg.max_retries = 0;
  if (!l->cfg.retry_base_ms)
    l->cfg.retry_base_ms = 500;
  if (!l->cfg.max_retry_after_ms)
    l->cfg.max_retry_after_ms = 30000;
  if (!l->cfg.max_response)
    l->cfg.max_response = 8u << 20;
  pthread_mutex_init(&l->lock, NULL);
  l->multi = curl_multi_init();
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  l->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  l->timer = -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wake};
  int polling = l->epfd >= 0 && l->wake >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake, &ev) == 0;
  if (l->multi && polling) {
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
  }
  if (!l->base_url || !l->model || (cfg->api_key && !l->api_key) || !l->url || !l->multi ||
      !polling || pthread_create(&l->thread, NULL, run, l) != 0) {
    if (l->multi)
      curl_multi_cleanup(l->multi);
    if (l->epfd >= 0)
      close(l->epfd);
    if (l->wake >= 0)
      close(l->wake);
    pthread_mutex_destroy(&l->lock);
    one_free(l->url);
    one_free(l->base_url);
    one_free(l->model);
    one_free(l->api_key);
    one_free(l);
    return err_set(err, E_NOMEM, "cannot start the model client");
  }
  *out = l;
  return 0;
}

size_t llm_pending(struct llm *l) { return atomic_load(&l->pending); }


/* Empties r for another attempt or an error. */
static void clear_result(struct llm_result *r)
{
  for (size_t i = 0; i < r->ncalls; i++) {
    one_free(r->calls[i].id);
    one_free(r->calls[i].name);
    one_free(r->calls[i].arguments);
  }
  one_free(r->calls);
  one_free(r->content);
  one_free(r->finish_reason);
  one_free(r->model);
  memset(r, 0, sizeof *r);
}

void llm_result_free(struct llm_result *r)
{
  if (!r)
    return;
  clear_result(r);
  one_free(r);
}

int llm_chat(struct llm *l, const char *model, const json_t *messages, const json_t *tools,
             int stream, llm_delta_fn delta, llm_done_fn done, void *arg, struct err *err)
{
  if (!json_is_array(messages) || !json_array_size(messages))
    return err_set(err, E_INVALID, "a chat needs at least one message");
  if (tools && !json_is_array(tools))
    return err_set(err, E_INVALID, "tools must be an array");
  json_t *req = json_pack("{s:s,s:O}", "model", model ? model : l->model, "messages", messages);
  if (req && tools && json_array_size(tools))
    json_object_set(req, "tools", (json_t *)tools);
  if (req && stream) {
    json_object_set_new(req, "stream", json_true());
    json_object_set_new(req, "stream_options", json_pack("{s:b}", "include_usage", 1));
  }
  struct call *c = req ? one_calloc(1, sizeof *c) : NULL;
  char *body = c ? json_dumps(req, JSON_COMPACT) : NULL;
  struct llm_result *res = body ? one_calloc(1, sizeof *res) : NULL;
  json_decref(req);
  if (!res) {
    one_free(body);
    one_free(c);
    return err_set(err, E_NOMEM, "out of memory");
  }
  c->res = res;
  c->l = l;
  c->body = body;
  c->stream = stream;
  c->delta = delta;
  c->done = done;
  c->arg = arg;
  pthread_mutex_lock(&l->lock);
  int stopping = l->stopping;
  if (!stopping) {
    c->next = l->submitted;
    l->submitted = c;
    atomic_fetch_add(&l->pending, 1);
  }
  pthread_mutex_unlock(&l->lock);
  if (stopping) {
    one_free(body);
    one_free(res);
    one_free(c);
    return err_set(err, E_IO, "the model client is stopping");
  }
  wake_up(l);
  return 0;
}

/* --- the thread --- */

static void reset_attempt(struct call *c)
{
  if (c->easy) {
    if (c->fprev)
      c->fprev->fnext = c->fnext;
    else
      c->l->flight = c->fnext;
    if (c->fnext)
      c->fnext->fprev = c->fprev;
    c->fprev = c->fnext = NULL;
    curl_multi_remove_handle(c->l->multi, c->easy);
    curl_easy_cleanup(c->easy);
    c->easy = NULL;
  }
  curl_slist_free_all(c->headers);
  c->headers = NULL;
  buf_release(&c->resp);
  llm_stream_free(c->st);
  c->st = NULL;
  err_clear(&c->perr);
  c->mode = 0;
  c->retry_after_ms = 0;
}

/* Ends c with its result (which the callback takes) and frees it. */
static void finish(struct call *c)
{
  reset_attempt(c);
  struct llm_result *res = c->res;
  res->attempts = c->attempts;
  llm_done_fn done = c->done;
  void *arg = c->arg;
  one_free(c->body);
  atomic_fetch_sub(&c->l->pending, 1);
  one_free(c);
  done(arg, res);
}

static void fail(struct call *c, int code, long status, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));

static void fail(struct call *c, int code, long status, const char *fmt, ...)
{
  struct llm_result *r = c->res;
  clear_result(r);
  r->code = code;
  r->http_status = status;
  r->retry_after_ms = c->retry_after_ms;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->error, sizeof r->error, fmt, ap);
  va_end(ap);
  finish(c);
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
  struct call *c = arg;
  size_t len = size * n;
  char line[256];
  if (len >= sizeof line)
    return len;
  memcpy(line, p, len);
  line[len] = '\0';
  line[strcspn(line, "\r\n")] = '\0';
  if (strncasecmp(line, "retry-after-ms:", 15) == 0) {
    long ms = strtol(line + 15, NULL, 10);
    if (ms > 0)
      c->retry_after_ms = ms;
  } else if (strncasecmp(line, "retry-after:", 12) == 0) {
    const char *v = line + 12;
    while (*v == ' ')
      v++;
    char *end = NULL;
    double secs = strtod(v, &end);
    if (end != v && *end == '\0' && secs >= 0) {
      c->retry_after_ms = (long)(secs * 1000.0);
    } else {
      time_t at = curl_getdate(v, NULL); /* an HTTP date */
      time_t now = time(NULL);
      if (at > now)
        c->retry_after_ms = (long)(at - now) * 1000L;
    }
  }
  return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  struct call *c = arg;
  size_t len = size * n;
  if (!c->mode) {
    long status = 0;
    char *type = NULL;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->easy, CURLINFO_CONTENT_TYPE, &type);
    c->mode = c->stream && status / 100 == 2 && type &&
              strncasecmp(type, "text/event-stream", 17) == 0 ? 1 : 2;
    if (c->mode == 1 && !(c->st = llm_stream_new(c->delta, c->arg)))
      return 0;
    buf_init(&c->resp, c->l->cfg.max_response);
  }
  if (c->mode == 2)
    return buf_append(&c->resp, p, len) ? 0 : len; /* 0 aborts: too big */
  if (c->perr.code)
    return 0;
  c->sent_text = 1; /* may have; a retry then says start over */
  return llm_stream_feed(c->st, p, len, c->l->cfg.max_response, &c->perr) ? 0 : len;
}

static void start_attempt(struct call *c)
{
  struct llm *l = c->l;
  if (c->sent_text && c->delta)
    c->delta(c->arg, NULL, 0); /* the text so far is void: a new attempt */
  c->sent_text = 0;
  c->attempts++;
  c->easy = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  if (h)
    h = curl_slist_append(h, c->stream ? "Accept: text/event-stream" : "Accept: application/json");
  if (h && l->api_key) {
    char auth[1100];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", l->api_key);
    h = curl_slist_append(h, auth);
    sodium_memzero(auth, sizeof auth);
  }
  c->headers = h;
  if (!c->easy || !h) {
    fail(c, E_NOMEM, 0, "out of memory");
    return;
  }
  CURL *e = c->easy;
  curl_easy_setopt(e, CURLOPT_URL, l->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, l->cfg.timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, l->cfg.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(e, CURLOPT_PRIVATE, c);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->curl_err);
  c->curl_err[0] = '\0';
  if (curl_multi_add_handle(l->multi, e) != CURLM_OK) {
    curl_easy_cleanup(e);
    c->easy = NULL;
    fail(c, E_IO, 0, "cannot start a request to the model server");
    return;
  }
  c->fnext = l->flight;
  if (l->flight)
    l->flight->fprev = c;
  l->flight = c;
}

/* Tries c again later, or fails it with what the last attempt said. */
static void retry_later(struct call *c, int code, long status, const char *why)
{
  struct llm *l = c->l;
  long after = c->retry_after_ms;
  if (c->attempts > l->cfg.max_retries || after > l->cfg.max_retry_after_ms) {
    if (after > l->cfg.max_retry_after_ms)
      fail(c, code, status, "%s; the server asks to retry after %.1f s", why, (double)after / 1e3);
    else
      fail(c, code, status, "%s (after %d attempts)", why, c->attempts);
    return;
  }
  if (!after) {
    after = l->cfg.retry_base_ms;
    for (int i = 1; i < c->attempts && after < 60000; i++)
      after *= 2;
    after += (long)randombytes_uniform((uint32_t)(after / 4 + 1));
  }
  reset_attempt(c);
  c->due = clock_mono_s() + (double)after / 1e3;
  c->next = l->waiting;
  l->waiting = c;
}

/* The server's error message from a JSON error body, or "". */
static void error_message(const struct buf *b, char *out, size_t n)
{
  out[0] = '\0';
  json_error_t je;
  json_t *v = b->len ? json_loadb(b->p, b->len, 0, &je) : NULL;
  const json_t *e = json_object_get(v, "error");
  const char *msg = json_is_string(e) ? json_string_value(e)
                                      : json_string_value(json_object_get(e, "message"));
  if (msg)
    snprintf(out, n, ": %s", msg);
  json_decref(v);
}


static void attempt_ended(struct call *c, CURLcode done)
{
  struct llm *l = c->l;
  long status = 0;
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
  char why[400];
  if (done != CURLE_OK && !(done == CURLE_WRITE_ERROR && (c->perr.code || c->mode == 2))) {
    if (done == CURLE_OPERATION_TIMEDOUT)
      snprintf(why, sizeof why, "the model server did not answer within %ld ms",
               l->cfg.timeout_ms);
    else
      snprintf(why, sizeof why, "cannot reach the model server at %s: %s", l->url,
               c->curl_err[0] ? c->curl_err : curl_easy_strerror(done));
    retry_later(c, E_IO, status, why);
    return;
  }
  if (done == CURLE_WRITE_ERROR && c->mode == 2) {
    fail(c, E_TOOBIG, status, "the model server's response is larger than %zu bytes",
         l->cfg.max_response);
    return;
  }
  if (status == 429 || status >= 500) {
    char msg[300];
    error_message(&c->resp, msg, sizeof msg);
    snprintf(why, sizeof why, "the model server answered HTTP %ld%s", status, msg);
    retry_later(c, status == 429 ? E_LIMIT : E_IO, status, why);
    return;
  }
  if (status / 100 != 2) {
    char msg[300];
    error_message(&c->resp, msg, sizeof msg);
    fail(c, E_INVALID, status, "the model server refused the request (HTTP %ld%s)", status, msg);
    return;
  }
  struct llm_result *r = c->res;
  struct err e = ERR_INIT;
  int rc = 0;
  if (c->perr.code) {
    rc = c->perr.code;
    snprintf(e.msg, sizeof e.msg, "%s", c->perr.msg);
  } else if (c->mode == 1) {
    rc = llm_stream_finish(c->st, r, &e);
    if (rc == 0 && !r->finish_reason && !r->content && !r->ncalls) {
      clear_result(r);
      retry_later(c, E_IO, status, "the model server's stream ended before its reply");
      err_clear(&e);
      return;
    }
    rc = rc < 0 ? rc : 0;
  } else {
    rc = llm_parse_completion(c->resp.p ? c->resp.p : "", c->resp.len, r, &e);
  }
  r->http_status = status;
  if (rc) {
    clear_result(r);
    fail(c, rc, status, "%s", e.msg);
  } else {
    finish(c);
  }
  err_clear(&e);
}

static void start_due(struct llm *l, double now, long *wait_ms)
{
  struct call **p = &l->waiting;
  while (*p) {
    struct call *c = *p;
    if (c->due <= now) {
      *p = c->next;
      c->next = NULL;
      start_attempt(c);
      continue;
    }
    long ms = (long)((c->due - now) * 1000.0) + 1;
    if (ms < *wait_ms)
      *wait_ms = ms;
    p = &c->next;
  }
}

static void stop_all(struct llm *l, struct call *list)
{
  while (list) {
    struct call *c = list;
    list = c->next;
    fail(c, E_IO, 0, "the model client stopped before the model answered");
  }
}

/* Hands the attempts curl has finished to attempt_ended. */
static void collect(struct llm *l)
{
  CURLMsg *m;
  int left = 0;
  while ((m = curl_multi_info_read(l->multi, &left)))
    if (m->msg == CURLMSG_DONE) {
      struct call *c = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
      attempt_ended(c, m->data.result);
    }
}

static void *run(void *arg)
{
  struct llm *l = arg;
  struct epoll_event evs[64];
  for (;;) {
    pthread_mutex_lock(&l->lock);
    struct call *fresh = l->submitted;
    l->submitted = NULL;
    int stopping = l->stopping;
    pthread_mutex_unlock(&l->lock);
    if (stopping) {
      stop_all(l, fresh);
      break;
    }
    while (fresh) {
      struct call *c = fresh;
      fresh = c->next;
      c->next = NULL;
      start_attempt(c);
    }
    long wait_ms = 1000;
    double now = clock_mono_s();
    start_due(l, now, &wait_ms);
    if (l->timer >= 0) {
      long t = l->timer <= now ? 0 : (long)((l->timer - now) * 1000.0) + 1;
      if (t < wait_ms)
        wait_ms = t;
    }
    int n = epoll_wait(l->epfd, evs, (int)(sizeof evs / sizeof evs[0]), (int)wait_ms);
    int running = 0;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.fd == l->wake) {
        uint64_t v;
        (void)!read(l->wake, &v, sizeof v);
        continue;
      }
      int flags = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
                  (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                  (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(l->multi, evs[i].data.fd, flags, &running);
    }
    if (l->timer >= 0 && clock_mono_s() >= l->timer) {
      l->timer = -1; /* curl sets it again if it wants */
      curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    collect(l);
  }
  /* what is left: in flight, and waiting for a retry */
  stop_all(l, l->waiting);
  l->waiting = NULL;
  while (l->flight)
    fail(l->flight, E_IO, 0, "the model client stopped before the model answered");
  return NULL;
}

void llm_free(struct llm *l)
{
  if (!l)
    return;
  pthread_mutex_lock(&l->lock);
  l->stopping = 1;
  pthread_mutex_unlock(&l->lock);
  wake_up(l);
  pthread_join(l->thread, NULL);
  curl_multi_cleanup(l->multi);
  close(l->epfd);
  close(l->wake);
  pthread_mutex_destroy(&l->lock);
  one_free(l->url);
  one_free(l->base_url);
  one_free(l->model);
  if (l->api_key)
    sodium_memzero(l->api_key, strlen(l->api_key));
  one_free(l->api_key);
  one_free(l);
}
