/* http: ONE's HTTP server: libmicrohttpd with a thread pool, JSON in and
 * out, one route table, request ids, metrics, graceful shutdown.
 *
 * A handler receives a parsed request (method, path, path parameters, body
 * bounded to HTTP_MAX_BODY) and fills a response; it never writes to the
 * socket. Handlers stay thin: parse, call one domain function, render.
 * Errors are always {"error":{"code","message","path"}} with the status
 * that util/err.h's table gives the code.
 *
 * Threads: the server runs handlers on its pool; a handler may block on the
 * store (the store serializes writers). http_server_stop may be called from
 * any thread but a handler's. */
#ifndef ONE_HTTP_HTTP_H
#define ONE_HTTP_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/accounts.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

#define HTTP_MAX_BODY (1024 * 1024)
#define HTTP_MAX_PATH 2048
#define HTTP_MAX_PARAMS 4

struct http_server;
struct MHD_Connection;
struct hub;
struct stream;
struct sched;

struct http_config {
  const char *host;          /* IPv4 address to bind, e.g. "127.0.0.1" */
  unsigned port;             /* 0: any free port (see http_server_port) */
  unsigned threads;          /* pool size; 0: 2 a core (4 to 64).
                              * Writes run on a pool of twice as many
                              * (64 to 256) */
  int log_requests;          /* one JSON line per request on stderr */
  struct sched *sched;       /* the process's scheduler, for /metrics (may be NULL) */
};

struct http_req {
  const char *method;
  const char *path;
  const char *params[HTTP_MAX_PARAMS]; /* the {name} parts of the route, in order */
  size_t nparams;
  struct buf body;
  char id[17];               /* request id, on every log line */
  struct store *store;
  struct http_server *server;
  struct MHD_Connection *conn;
  /* who asks: set before the handler runs on ROUTE_AUTH and ROUTE_ADMIN
   * routes (auth.c); who.user is "" on public routes */
  struct actor who;
  char token[TOKEN_MAX];     /* the session or API token presented */
  int via_cookie;            /* the token came in the session cookie */
};

struct http_res {
  int status;
  json_t *json;              /* the body as JSON (owned), or */
  char *text;                /* a body as text (owned, one_free) */
  size_t len;
  const char *content_type;  /* for text; JSON is application/json */
  struct { char name[32]; char value[320]; } headers[4]; /* extra headers */
  size_t nheaders;
  /* a streamed body instead (SSE, stream.c): called when the answer is
   * queued; NULL for ordinary answers */
  struct stream *stream;
};

typedef void (*http_handler)(struct http_req *req, struct http_res *res);

/* Starts serving on store. Returns 0 or a negative code with err set. */
int http_server_start(const struct http_config *cfg, struct store *store,
                      struct http_server **out, struct err *err);
/* The realtime hub of the server (stream.h). */
struct hub *http_server_hub(struct http_server *srv);
/* The scheduler the server was started with (cfg.sched), NULL when none. */
struct sched *http_server_sched(struct http_server *srv);
/* The port the server listens on. */
unsigned http_server_port(const struct http_server *srv);
/* Stops taking new connections, lets requests in flight finish (up to
 * grace_ms), then stops and frees the server. */
void http_server_stop(struct http_server *srv, int grace_ms);

/* --- for handlers --- */

/* A request header's value, or NULL. */
const char *http_header(const struct http_req *req, const char *name);
/* A query parameter's value, or NULL. */
const char *http_query(const struct http_req *req, const char *name);
/* Parses a request body of Content-Type type (NULL: not given) as JSON
 * into *out: E_INVALID (empty, not application/json) or E_PARSE (not JSON,
 * not UTF-8, duplicate keys). Pure; the fuzz target calls it. */
int http_parse_body(const char *type, const char *body, size_t len, json_t **out,
                    struct err *err);
/* The body parsed as JSON (new reference), or NULL with res set to a 400. */
json_t *http_body_json(struct http_req *req, struct http_res *res);

/* Sets res to JSON with status (takes the reference to body). */
void http_reply_json(struct http_res *res, int status, json_t *body);
/* Sets res to the error body for err (status from its code). */
void http_reply_err(struct http_res *res, const struct err *err);
/* Sets res to an error with an explicit status, code name and path. */
void http_reply_error(struct http_res *res, int status, const char *code, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Adds a response header (Set-Cookie, Retry-After, Location…). */
void http_res_header(struct http_res *res, const char *name, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* The client's address as text into out (at least 64 bytes). */
void http_client_addr(const struct http_req *req, char *out, size_t n);
/* A cookie's value, or NULL. */
const char *http_cookie(const struct http_req *req, const char *name);

/* --- auth (auth.c) --- */
#define SESSION_COOKIE "one_session"
/* Fills req->who from the Authorization header or the session cookie and
 * checks CSRF on unsafe methods of cookie sessions. 0, or sets res (401/403). */
int http_authenticate(struct http_req *req, struct http_res *res);
/* 1 for a method that may change something (all but GET, HEAD, OPTIONS):
 * it needs a cookie session's CSRF token, and runs on the write pool. */
int http_unsafe_method(const char *m);

/* --- metrics (metrics.c) --- */
void metrics_observe(int route, int status, double seconds);
/* Prometheus text of every metric; one_free. */
char *metrics_render(struct store *store, struct sched *sched);

#endif
