/* server: libmicrohttpd glue. Each request gets a context on its first
 * callback (id, bounded body buffer), collects its body, then is routed and
 * answered on the final callback; the completion callback frees it, records
 * metrics and logs one line.
 *
 * States of a request: NEW (first callback: 413 at once if Content-Length is
 * over the limit) -> READING (body chunks appended; overflow sets too_big)
 * -> ANSWERED (respond(): route, check, handler; queue() counts metrics) -> DONE
 * (completed(): log, free).
 *
 * Requests that change something (any method but GET, HEAD and OPTIONS)
 * are not answered on libmicrohttpd's threads: their writes wait for a
 * group commit (store_group.c), and a waiting thread would hold up every
 * connection it serves. Their connection is suspended and the request
 * handed to the write pool, threads that only run such requests; the pool
 * thread resumes the connection with the answer ready (DEFERRED -> READY),
 * and the next callback queues it. Reads are answered where they arrive. */
#include "http/http.h"
#include "http/routes.h"
#include "http/stream.h"
#include "util/jv.h"
#include "util/log.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct req_ctx;

/* The write pool: requests waiting for a thread, and the threads. */
struct write_pool {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  struct req_ctx *head, *tail;
  int stopping;
  pthread_t *threads;
  size_t nthreads;
};

struct http_server {
  struct MHD_Daemon *d;
  struct store *store;
  struct http_config cfg;
  atomic_int active;          /* requests between first and completed callback */
  unsigned port;
  struct hub *hub;            /* the realtime streams */
  struct write_pool pool;
};

struct req_ctx {
  struct http_req req;
  int too_big;
  int answered;
  int route;
  int status;
  double start;
  atomic_int ready;           /* a pool thread has the answer in res */
  struct http_res res;
  struct req_ctx *next;       /* in the write pool's queue */
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *http_header(const struct http_req *req, const char *name)
{
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *name)
{
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void http_res_header(struct http_res *res, const char *name, const char *fmt, ...)
{
  if (res->nheaders == sizeof res->headers / sizeof res->headers[0])
    return;
  snprintf(res->headers[res->nheaders].name, sizeof res->headers[0].name, "%s", name);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(res->headers[res->nheaders].value, sizeof res->headers[0].value, fmt, ap);
  va_end(ap);
  res->nheaders++;
}

void http_client_addr(const struct http_req *req, char *out, size_t n)
{
  const union MHD_ConnectionInfo *ci =
    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  out[0] = '\0';
  if (!ci || !ci->client_addr)
    return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

const char *http_cookie(const struct http_req *req, const char *name)
{
  return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

struct hub *http_server_hub(struct http_server *srv) { return srv->hub; }

struct sched *http_server_sched(struct http_server *srv) { return srv ? srv->cfg.sched : NULL; }

static void add_headers(struct MHD_Response *r, const struct req_ctx *ctx,
                        const struct http_res *res)
{
  MHD_add_response_header(r, "X-Request-Id", ctx->req.id);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  for (size_t i = 0; i < res->nheaders; i++)
    MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
}

/* Queues a streamed (SSE) answer; the stream belongs to the response. */
static int queue_stream(struct MHD_Connection *conn, struct req_ctx *ctx, struct http_res *res)
{
  struct stream *st = res->stream;
  res->stream = NULL;
  struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                             stream_read, st, stream_free);
  if (!r) {
    stream_discard(st);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
  MHD_add_response_header(r, "X-Accel-Buffering", "no");
  add_headers(r, ctx, res);
  ctx->status = 200;
  metrics_observe(ctx->route, 200, now_s() - ctx->start);
  stream_attach(st, conn);
  enum MHD_Result ok = MHD_queue_response(conn, 200, r);
  MHD_destroy_response(r);
  return ok;
}

static int queue(struct MHD_Connection *conn, struct req_ctx *ctx, struct http_res *res)
{
  if (res->stream)
    return queue_stream(conn, ctx, res);
  char *body = NULL;
  size_t len = 0;
  const char *type = "application/json";
  if (res->json) {
    body = jv_dumps(res->json);
    if (!body) {
      res->status = 500;
      body = one_strdup("{\"error\":{\"code\":\"E_NOMEM\",\"message\":\"out of memory\",\"path\":\"\"}}");
    }
    len = body ? strlen(body) : 0;
  } else if (res->text) {
    body = res->text;
    res->text = NULL;
    len = res->len;
    type = res->content_type ? res->content_type : "text/plain; charset=utf-8";
  }
  /* The body is handed over (one_free is free), not copied. */
  struct MHD_Response *r = body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
                                : MHD_create_response_from_buffer(0, (char *)"",
                                                                  MHD_RESPMEM_PERSISTENT);
  if (!r)
    one_free(body);
  if (!r)
    return MHD_NO;
  if (len || res->status != 204)
    MHD_add_response_header(r, "Content-Type", type);
  add_headers(r, ctx, res);
  ctx->status = res->status;
  /* Counted before the client can see the answer, so a request that follows
   * it always finds it in /metrics. Latency is time to the queued answer. */
  metrics_observe(ctx->route, ctx->status, now_s() - ctx->start);
  enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
  MHD_destroy_response(r);
  return ok;
}

static void res_release(struct http_res *res)
{
  json_decref(res->json);
  one_free(res->text);
  stream_discard(res->stream);
  memset(res, 0, sizeof *res);
}

/* Routes, authenticates and runs the handler: the answer into res. */
static void answer(struct req_ctx *ctx, struct http_res *res)
{
  char segbuf[HTTP_MAX_PATH], allow[64];
  struct http_req *req = &ctx->req;
  if (strlen(req->path) >= HTTP_MAX_PATH || req->path[0] != '/') {
    http_reply_error(res, 404, "E_NOTFOUND", "", "no such route");
    return;
  }
  ctx->route = route_match(req->method, req->path, req->params, &req->nparams, segbuf,
                           sizeof segbuf, allow, sizeof allow);
  if (ctx->route < 0 && allow[0]) {
    http_reply_error(res, 405, "E_METHOD", "", "%s is not allowed here; use %s", req->method, allow);
    http_res_header(res, "Allow", "%s", allow); /* copied: res may be queued later */
  } else if (ctx->route < 0) {
    http_reply_error(res, 404, "E_NOTFOUND", "", "no route %s %s", req->method, req->path);
  } else if (ctx->too_big) {
    http_reply_error(res, 413, "E_TOOBIG", "", "request body larger than %d bytes", HTTP_MAX_BODY);
  }
  if (ctx->route < 0 || ctx->too_big)
    return;
  store_hold_reads(req->store); /* one snapshot for the session and the handler's reads */
  if (routes[ctx->route].flags != ROUTE_PUBLIC && http_authenticate(req, res) != 0) {
    /* res says why: 401, or 403 for a missing CSRF token */
  } else if (routes[ctx->route].flags == ROUTE_ADMIN && !req->who.admin) {
    http_reply_error(res, 403, "E_PERM", "", "only administrators may do this");
  } else {
    routes[ctx->route].handler(req, res);
    if (!res->status)
      http_reply_error(res, 500, "E_INTERNAL", "", "the handler gave no answer");
  }
  store_release_reads(req->store);
}

static enum MHD_Result respond(struct req_ctx *ctx, struct MHD_Connection *conn)
{
  struct http_res res;
  memset(&res, 0, sizeof res);
  ctx->answered = 1;
  answer(ctx, &res);
  enum MHD_Result ok = queue(conn, ctx, &res) ? MHD_YES : MHD_NO;
  res_release(&res);
  return ok;
}

/* --- the write pool --- */

static void *pool_thread(void *arg)
{
  struct write_pool *p = arg;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->head && !p->stopping)
      pthread_cond_wait(&p->wake, &p->lock);
    struct req_ctx *ctx = p->head;
    if (!ctx)
      break; /* stopping, and nothing is left */
    p->head = ctx->next;
    if (!p->head)
      p->tail = NULL;
    pthread_mutex_unlock(&p->lock);
    answer(ctx, &ctx->res);
    atomic_store(&ctx->ready, 1);
    MHD_resume_connection(ctx->req.conn); /* the next callback queues res */
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void pool_push(struct write_pool *p, struct req_ctx *ctx)
{
  pthread_mutex_lock(&p->lock);
  ctx->next = NULL;
  if (p->tail)
    p->tail->next = ctx;
  else
    p->head = ctx;
  p->tail = ctx;
  pthread_cond_signal(&p->wake);
  pthread_mutex_unlock(&p->lock);
}

static int pool_start(struct write_pool *p, size_t n)
{
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  p->threads = one_calloc(n, sizeof *p->threads);
  if (!p->threads)
    return E_NOMEM;
  for (; p->nthreads < n; p->nthreads++)
    if (pthread_create(&p->threads[p->nthreads], NULL, pool_thread, p) != 0)
      break;
  return p->nthreads ? 0 : E_NOMEM;
}

/* Lets the threads finish every request handed over, then ends them. */
static void pool_stop(struct write_pool *p)
{
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (size_t i = 0; i < p->nthreads; i++)
    pthread_join(p->threads[i], NULL);
  one_free(p->threads);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->wake);
}

/* A request id: 16 hex digits, unique in practice (a per-thread random
 * seed and a counter through the splitmix64 finalizer), without a
 * getrandom call per request. Ids are for logs, not secrets. */
static void request_id(char out[17])
{
  static _Thread_local uint64_t seed, n;
  if (!seed)
    randombytes_buf(&seed, sizeof seed);
  uint64_t z = seed + ++n * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  uint8_t raw[8];
  memcpy(raw, &z, sizeof raw);
  sodium_bin2hex(out, 17, raw, sizeof raw);
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size, void **con_cls)
{
  struct http_server *srv = cls;
  struct req_ctx *ctx = *con_cls;
  (void)version;
  if (!ctx) {
    ctx = one_calloc(1, sizeof *ctx);
    if (!ctx)
      return MHD_NO;
    *con_cls = ctx;
    atomic_fetch_add(&srv->active, 1);
    ctx->start = now_s();
    ctx->route = -1;
    ctx->req.method = method;
    ctx->req.path = url;
    ctx->req.store = srv->store;
    ctx->req.server = srv;
    ctx->req.conn = conn;
    request_id(ctx->req.id);
    buf_init(&ctx->req.body, HTTP_MAX_BODY);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY) {
      struct http_res res;
      memset(&res, 0, sizeof res);
      http_reply_error(&res, 413, "E_TOOBIG", "", "request body larger than %d bytes", HTTP_MAX_BODY);
      ctx->answered = 1;
      enum MHD_Result ok = queue(conn, ctx, &res) ? MHD_YES : MHD_NO;
      res_release(&res);
      return ok;
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!ctx->too_big && buf_append(&ctx->req.body, upload_data, *upload_data_size) != 0)
      ctx->too_big = 1;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (atomic_load(&ctx->ready)) { /* back from the write pool */
    atomic_store(&ctx->ready, 0);
    enum MHD_Result ok = queue(conn, ctx, &ctx->res) ? MHD_YES : MHD_NO;
    res_release(&ctx->res);
    return ok;
  }
  if (ctx->answered)
    return MHD_YES;
  if (srv->pool.nthreads && http_unsafe_method(method)) {
    ctx->answered = 1;
    MHD_suspend_connection(conn);
    pool_push(&srv->pool, ctx);
    return MHD_YES;
  }
  return respond(ctx, conn);
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct http_server *srv = cls;
  struct req_ctx *ctx = *con_cls;
  (void)conn;
  if (!ctx)
    return;
  double secs = now_s() - ctx->start;
  if (srv->cfg.log_requests && log_enabled(LOG_INFO)) {
    json_t *f = json_pack("{s:s,s:s,s:i,s:f,s:b}", "method", ctx->req.method, "path", ctx->req.path,
                          "status", ctx->status, "ms", secs * 1000.0, "completed",
                          toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    log_json(LOG_INFO, ctx->req.id, "request", f);
    json_decref(f);
  }
  res_release(&ctx->res);
  buf_release(&ctx->req.body);
  one_free(ctx);
  *con_cls = NULL;
  atomic_fetch_sub(&srv->active, 1);
}

/* Connections at once: most of the descriptors the process may open (each
 * stream subscriber holds one), keeping some for the database and logs. */
static unsigned connection_limit(void)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY)
    return 1000;
  return r.rlim_cur > 1064 ? (unsigned)(r.rlim_cur - 64) : 1000;
}

int http_server_start(const struct http_config *cfg, struct store *store,
                      struct http_server **out, struct err *err)
{
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)cfg->port);
  if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1)
    return err_set(err, E_INVALID, "'%s' is not an IPv4 address to listen on", cfg->host);
  struct http_server *srv = one_calloc(1, sizeof *srv);
  if (!srv)
    return err_set(err, E_NOMEM, "out of memory");
  srv->store = store;
  srv->cfg = *cfg;
  int rc = hub_start(store, &srv->hub, err);
  if (rc != 0) {
    one_free(srv);
    return rc;
  }
  /* Two threads a core: one waiting on SQLite's shared-memory lock lets
   * the other answer. (Page reads measured best at 2 a core: 10-15% ahead
   * of 1 or 16 a core; writes wait on a pool of their own.) */
  unsigned threads = cfg->threads;
  if (!threads) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n < 2 ? 4 : n > 32 ? 64 : (unsigned)n * 2;
  }
  /* writers wait for their group's commit: many of them, so that a group
   * can hold as many writes as there are clients writing */
  size_t writers = threads * 2 < 64 ? 64 : threads * 2 > 256 ? 256 : threads * 2;
  if (pool_start(&srv->pool, writers) != 0) {
    pool_stop(&srv->pool);
    hub_close_streams(srv->hub);
    hub_free(srv->hub);
    one_free(srv);
    return err_set(err, E_NOMEM, "cannot start the threads that answer writes");
  }
  srv->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME,
                            (uint16_t)cfg->port, NULL, NULL, access_cb, srv,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
                            MHD_OPTION_END);
  if (!srv->d) {
    pool_stop(&srv->pool);
    hub_close_streams(srv->hub);
    hub_free(srv->hub);
    one_free(srv);
    return err_set(err, E_IO, "cannot listen on %s:%u (in use, or not allowed)", cfg->host,
                   cfg->port);
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = info ? info->port : cfg->port;
  *out = srv;
  return 0;
}

unsigned http_server_port(const struct http_server *srv) { return srv->port; }

void http_server_stop(struct http_server *srv, int grace_ms)
{
  if (!srv)
    return;
  hub_close_streams(srv->hub); /* streams end; their requests complete */
  MHD_socket fd = MHD_quiesce_daemon(srv->d);
  for (int waited = 0; atomic_load(&srv->active) > 0 && waited < grace_ms; waited += 10) {
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  pool_stop(&srv->pool); /* answers what it holds, so no connection stays suspended */
  MHD_stop_daemon(srv->d);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
  hub_free(srv->hub);
  one_free(srv);
}
