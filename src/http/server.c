/* server: libmicrohttpd glue. Each request gets a context on its first
 * callback (id, bounded body buffer), collects its body, then is routed and
 * answered on the final callback; the completion callback frees it, records
 * metrics and logs one line.
 *
 * States of a request: NEW (first callback: 413 at once if Content-Length is
 * over the limit) -> READING (body chunks appended; overflow sets too_big)
 * -> ANSWERED (respond(): route, check, handler; queue() counts metrics) -> DONE
 * (completed(): log, free). */
#include "http/http.h"
#include "http/routes.h"
#include "http/stream.h"
#include "util/jv.h"
#include "util/log.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct http_server {
  struct MHD_Daemon *d;
  struct store *store;
  struct http_config cfg;
  atomic_int active;          /* requests between first and completed callback */
  unsigned port;
  struct hub *hub;            /* the realtime streams */
};

struct req_ctx {
  struct http_req req;
  int too_big;
  int answered;
  int route;
  int status;
  double start;
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

static void add_headers(struct MHD_Response *r, const struct req_ctx *ctx,
                        const struct http_res *res)
{
  MHD_add_response_header(r, "X-Request-Id", ctx->req.id);
  MHD_add_response_header(r, "Cache-Control", "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  if (res->allow)
    MHD_add_response_header(r, "Allow", res->allow);
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

static enum MHD_Result respond(struct http_server *srv, struct req_ctx *ctx,
                               struct MHD_Connection *conn)
{
  struct http_res res;
  memset(&res, 0, sizeof res);
  char segbuf[HTTP_MAX_PATH], allow[64];
  struct http_req *req = &ctx->req;
  ctx->answered = 1;
  if (strlen(req->path) >= HTTP_MAX_PATH || req->path[0] != '/') {
    http_reply_error(&res, 404, "E_NOTFOUND", "", "no such route");
  } else {
    ctx->route = route_match(req->method, req->path, req->params, &req->nparams, segbuf,
                             sizeof segbuf, allow, sizeof allow);
    if (ctx->route < 0 && allow[0]) {
      http_reply_error(&res, 405, "E_METHOD", "", "%s is not allowed here; use %s", req->method, allow);
      res.allow = allow;
    } else if (ctx->route < 0) {
      http_reply_error(&res, 404, "E_NOTFOUND", "", "no route %s %s", req->method, req->path);
    } else if (ctx->too_big) {
      http_reply_error(&res, 413, "E_TOOBIG", "", "request body larger than %d bytes", HTTP_MAX_BODY);
    } else if (routes[ctx->route].flags != ROUTE_PUBLIC && http_authenticate(req, &res) != 0) {
      /* res says why: 401, or 403 for a missing CSRF token */
    } else if (routes[ctx->route].flags == ROUTE_ADMIN && !req->who.admin) {
      http_reply_error(&res, 403, "E_PERM", "", "only administrators may do this");
    } else {
      routes[ctx->route].handler(req, &res);
      if (!res.status)
        http_reply_error(&res, 500, "E_INTERNAL", "", "the handler gave no answer");
    }
  }
  enum MHD_Result ok = queue(conn, ctx, &res) ? MHD_YES : MHD_NO;
  res_release(&res);
  (void)srv;
  return ok;
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
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(ctx->req.id, sizeof ctx->req.id, rnd, sizeof rnd);
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
  if (ctx->answered)
    return MHD_YES;
  return respond(srv, ctx, conn);
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
  unsigned threads = cfg->threads;
  if (!threads) { /* a thread waits in a write's group commit: keep many */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n < 1 ? 16 : n > 8 ? 128 : (unsigned)n * 16;
  }
  srv->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME,
                            (uint16_t)cfg->port, NULL, NULL, access_cb, srv,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_NOTIFY_COMPLETED, completed_cb, srv,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_CONNECTION_LIMIT, connection_limit(),
                            MHD_OPTION_END);
  if (!srv->d) {
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
  MHD_stop_daemon(srv->d);
  if (fd != MHD_INVALID_SOCKET)
    close(fd);
  hub_free(srv->hub);
  one_free(srv);
}
