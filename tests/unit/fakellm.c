/* fakellm: the scripted fake model server of fakellm.h, on libmicrohttpd
 * with a thread per connection (a delayed or hanging answer only holds its
 * own connection's thread). */
#include "fakellm.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct fakellm {
  struct MHD_Daemon *d;
  unsigned port;
  char url[64];
  pthread_mutex_t lock;
  json_t *rules;        /* guarded by lock */
  json_t *requests;     /* guarded by lock */
  json_t *hooks;        /* bodies POSTed to /webhook, guarded by lock */
  json_t *embeds;       /* bodies POSTed to /v1/embeddings, guarded by lock */
  json_t *open_gates;   /* guarded by lock: names of the gates opened */
  atomic_int stopping;
  atomic_int calls;
};

struct conn_body {
  char *p;
  size_t len;
};

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Sleeps ms, or less when the server stops. */
static void wait_ms(struct fakellm *f, long ms)
{
  for (long waited = 0; waited < ms && !atomic_load(&f->stopping); waited += 10)
    sleep_ms(ms - waited < 10 ? ms - waited : 10);
}

/* The first rule that matches body with uses left (a new reference, its
 * use counted), or NULL. A rule's uses left are in "_left" (-1: forever),
 * set when it was scripted. */
static json_t *pick(struct fakellm *f, const char *body)
{
  json_t *found = NULL;
  pthread_mutex_lock(&f->lock);
  size_t i;
  json_t *r;
  json_array_foreach(f->rules, i, r) {
    long left = (long)json_integer_value(json_object_get(r, "_left"));
    const char *m = json_string_value(json_object_get(r, "match"));
    if (left == 0 || (m && !strstr(body, m)))
      continue;
    if (left > 0)
      json_object_set_new(r, "_left", json_integer(left - 1));
    found = json_incref(r);
    break;
  }
  pthread_mutex_unlock(&f->lock);
  return found;
}

static json_t *tool_calls_json(const json_t *calls)
{
  json_t *out = json_array();
  size_t i;
  json_t *c;
  json_array_foreach(calls, i, c) {
    const json_t *args = json_object_get(c, "arguments");
    char *text = json_is_string(args) ? strdup(json_string_value(args))
                 : args ? json_dumps(args, JSON_COMPACT) : strdup("{}");
    char id[32];
    snprintf(id, sizeof id, "call_%zu", i);
    json_array_append_new(out, json_pack("{s:s,s:s,s:{s:s,s:s}}", "id", id, "type", "function",
                                         "function", "name",
                                         json_string_value(json_object_get(c, "name")),
                                         "arguments", text));
    free(text);
  }
  return out;
}

static json_t *usage_json(const json_t *rule)
{
  const json_t *u = json_object_get(rule, "usage");
  long p = u ? (long)json_integer_value(json_object_get(u, "prompt_tokens")) : 10;
  long c = u ? (long)json_integer_value(json_object_get(u, "completion_tokens")) : 5;
  return json_pack("{s:i,s:i,s:i}", "prompt_tokens", (int)p, "completion_tokens", (int)c,
                   "total_tokens", (int)(p + c));
}

static char *whole_body(const json_t *rule, const char *model)
{
  const json_t *calls = json_object_get(rule, "tool_calls");
  const char *reply = json_string_value(json_object_get(rule, "reply"));
  json_t *msg = json_pack("{s:s,s:o}", "role", "assistant", "content",
                          reply ? json_string(reply) : json_null());
  if (json_array_size(calls))
    json_object_set_new(msg, "tool_calls", tool_calls_json(calls));
  json_t *body = json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:o,s:s}],s:o}", "id", "chatcmpl-fake",
                           "object", "chat.completion", "created", 0, "model", model, "choices",
                           "index", 0, "message", msg, "finish_reason",
                           json_array_size(calls) ? "tool_calls" : "stop", "usage",
                           usage_json(rule));
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  return text;
}

/* The stream of a rule: pieces of "data: …\n\n" text, given out one by one. */
struct pieces {
  struct fakellm *f;
  char **p;
  size_t n, next, off;
  long delay_ms;
  size_t cut_after;      /* pieces sent before the connection breaks; 0: none */
};

static void add_piece(struct pieces *ps, json_t *chunk)
{
  char *text = chunk ? json_dumps(chunk, JSON_COMPACT) : NULL;
  size_t len = text ? strlen(text) + 9 : 15;
  char *line = malloc(len);
  snprintf(line, len, "data: %s\n\n", text ? text : "[DONE]");
  free(text);
  json_decref(chunk);
  ps->p = realloc(ps->p, (ps->n + 1) * sizeof *ps->p);
  ps->p[ps->n++] = line;
}

static json_t *chunk_of(const char *model, json_t *delta, const char *finish)
{
  return json_pack("{s:s,s:s,s:s,s:[{s:i,s:o,s:o}]}", "id", "chatcmpl-fake", "object",
                   "chat.completion.chunk", "model", model, "choices", "index", 0, "delta",
                   delta, "finish_reason", finish ? json_string(finish) : json_null());
}

static struct pieces *stream_pieces(struct fakellm *f, const json_t *rule, const char *model,
                                    int usage)
{
  struct pieces *ps = calloc(1, sizeof *ps);
  ps->f = f;
  ps->delay_ms = (long)json_integer_value(json_object_get(rule, "chunk_delay_ms"));
  ps->cut_after = (size_t)json_integer_value(json_object_get(rule, "cut_after"));
  add_piece(ps, chunk_of(model, json_pack("{s:s}", "role", "assistant"), NULL));
  const json_t *chunks = json_object_get(rule, "chunks");
  const char *reply = json_string_value(json_object_get(rule, "reply"));
  size_t i;
  json_t *c;
  if (json_array_size(chunks)) {
    json_array_foreach(chunks, i, c)
      add_piece(ps, chunk_of(model, json_pack("{s:O}", "content", c), NULL));
  } else if (reply) {
    add_piece(ps, chunk_of(model, json_pack("{s:s}", "content", reply), NULL));
  }
  json_t *calls = tool_calls_json(json_object_get(rule, "tool_calls"));
  json_array_foreach(calls, i, c) { /* each call in three fragments, joined by index */
    const char *args = json_string_value(json_object_get(json_object_get(c, "function"),
                                                         "arguments"));
    size_t half = strlen(args) / 2;
    char *first = strndup(args, half);
    add_piece(ps, chunk_of(model, json_pack("{s:[{s:i,s:O,s:s,s:{s:O,s:s}}]}", "tool_calls",
                                            "index", (int)i, "id", json_object_get(c, "id"),
                                            "type", "function", "function", "name",
                                            json_object_get(json_object_get(c, "function"),
                                                            "name"),
                                            "arguments", ""), NULL));
    add_piece(ps, chunk_of(model, json_pack("{s:[{s:i,s:{s:s}}]}", "tool_calls", "index",
                                            (int)i, "function", "arguments", first), NULL));
    add_piece(ps, chunk_of(model, json_pack("{s:[{s:i,s:{s:s}}]}", "tool_calls", "index",
                                            (int)i, "function", "arguments", args + half), NULL));
    free(first);
  }
  add_piece(ps, chunk_of(model, json_object(), json_array_size(calls) ? "tool_calls" : "stop"));
  json_decref(calls);
  if (usage)
    add_piece(ps, json_pack("{s:s,s:s,s:s,s:[],s:o}", "id", "chatcmpl-fake", "object",
                            "chat.completion.chunk", "model", model, "choices", "usage",
                            usage_json(rule)));
  if (!json_is_false(json_object_get(rule, "done")))
    add_piece(ps, NULL);
  return ps;
}

static ssize_t read_pieces(void *cls, uint64_t pos, char *buf, size_t max)
{
  (void)pos;
  struct pieces *ps = cls;
  if (ps->cut_after && ps->next == ps->cut_after)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  if (ps->next == ps->n)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (ps->off == 0 && ps->next > 0 && ps->delay_ms)
    wait_ms(ps->f, ps->delay_ms);
  const char *p = ps->p[ps->next] + ps->off;
  size_t len = strlen(p);
  size_t take = len < max ? len : max;
  memcpy(buf, p, take);
  ps->off += take;
  if (ps->off == strlen(ps->p[ps->next])) {
    ps->next++;
    ps->off = 0;
  }
  return (ssize_t)take;
}

static void free_pieces(void *cls)
{
  struct pieces *ps = cls;
  for (size_t i = 0; i < ps->n; i++)
    free(ps->p[i]);
  free(ps->p);
  free(ps);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *type,
                                 const char *text, const json_t *headers)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                           MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", type);
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)headers, k, v) MHD_add_response_header(r, k, json_string_value(v));
  enum MHD_Result ret = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result completion(struct fakellm *f, struct MHD_Connection *conn,
                                  const char *body)
{
  json_error_t je;
  json_t *req = json_loads(body, 0, &je);
  pthread_mutex_lock(&f->lock);
  json_array_append(f->requests, req ? req : json_null());
  pthread_mutex_unlock(&f->lock);
  atomic_fetch_add(&f->calls, 1);
  const char *model = json_string_value(json_object_get(req, "model"));
  char model_copy[128];
  snprintf(model_copy, sizeof model_copy, "%s", model ? model : "fake-model");
  int stream = json_is_true(json_object_get(req, "stream"));
  int usage = json_is_true(json_object_get(json_object_get(req, "stream_options"),
                                           "include_usage"));
  json_decref(req);
  json_t *rule = pick(f, body);
  if (!rule)
    return send_text(conn, 500, "application/json",
                     "{\"error\":{\"message\":\"fake server: no scripted reply\"}}", NULL);
  const char *gate = json_string_value(json_object_get(rule, "gate"));
  for (int open = !gate; !open && !atomic_load(&f->stopping);) { /* held until the test opens it */
    pthread_mutex_lock(&f->lock);
    open = json_object_get(f->open_gates, gate) != NULL;
    pthread_mutex_unlock(&f->lock);
    if (!open)
      sleep_ms(5);
  }
  long delay = (long)json_integer_value(json_object_get(rule, "delay_ms"));
  if (json_is_true(json_object_get(rule, "hang")))
    delay = 24L * 3600 * 1000;
  wait_ms(f, delay);
  unsigned status = json_object_get(rule, "status")
                    ? (unsigned)json_integer_value(json_object_get(rule, "status")) : 200;
  const json_t *headers = json_object_get(rule, "headers");
  enum MHD_Result ret;
  const char *raw = json_string_value(json_object_get(rule, "raw"));
  if (raw || status != 200) {
    ret = send_text(conn, status, json_is_true(json_object_get(rule, "sse")) ? "text/event-stream"
                                                                            : "application/json",
                    raw ? raw : "{\"error\":{\"message\":\"scripted failure\"}}", headers);
  } else if (stream) {
    struct pieces *ps = stream_pieces(f, rule, model_copy, usage);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                               read_pieces, ps, free_pieces);
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
  } else {
    char *text = whole_body(rule, model_copy);
    ret = send_text(conn, 200, "application/json", text, headers);
    free(text);
  }
  json_decref(rule);
  return ret;
}

/* A bag of words hashed into 384 numbers (10 for "short-model"; 503 for
 * "down-model"): texts that share words get close vectors. */
static enum MHD_Result embeddings(struct fakellm *f, struct MHD_Connection *conn,
                                  const char *body)
{
  json_error_t je;
  json_t *req = json_loads(body, 0, &je);
  const char *model = json_string_value(json_object_get(req, "model"));
  const char *input = json_string_value(json_object_get(req, "input"));
  pthread_mutex_lock(&f->lock);
  json_array_append(f->embeds, req ? req : json_null());
  pthread_mutex_unlock(&f->lock);
  enum MHD_Result ret;
  if (!model || !input) {
    ret = send_text(conn, 400, "application/json", "{\"error\":\"model and input\"}", NULL);
  } else if (strcmp(model, "down-model") == 0) {
    ret = send_text(conn, 503, "application/json", "{\"error\":\"warming up\"}", NULL);
  } else {
    size_t dim = strcmp(model, "short-model") == 0 ? 10 : 384;
    double v[384] = {0};
    unsigned h = 2166136261u;
    for (const char *p = input;; p++) {
      if (*p && isalnum((unsigned char)*p)) {
        h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 16777619u;
        continue;
      }
      if (h != 2166136261u)
        v[h % dim] += 1;
      h = 2166136261u;
      if (!*p)
        break;
    }
    v[dim - 1] += 0.01; /* never all zeros */
    json_t *e = json_array();
    for (size_t i = 0; i < dim; i++)
      json_array_append_new(e, json_real(v[i]));
    json_t *out = json_pack("{s:[{s:o,s:i}],s:s}", "data", "embedding", e, "index", 0,
                            "model", model);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    ret = send_text(conn, 200, "application/json", text, NULL);
    free(text);
  }
  json_decref(req);
  return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **con_cls)
{
  (void)version;
  struct fakellm *f = cls;
  struct conn_body *b = *con_cls;
  if (!b) {
    *con_cls = calloc(1, sizeof *b);
    return MHD_YES;
  }
  if (*size) {
    b->p = realloc(b->p, b->len + *size + 1);
    memcpy(b->p + b->len, data, *size);
    b->len += *size;
    b->p[b->len] = '\0';
    *size = 0;
    return MHD_YES;
  }
  const char *body = b->p ? b->p : "";
  if (strcmp(url, "/v1/chat/completions") == 0 && strcmp(method, "POST") == 0)
    return completion(f, conn, body);
  if (strcmp(url, "/_script") == 0 && strcmp(method, "POST") == 0)
    return fakellm_script(f, body) ? send_text(conn, 400, "text/plain", "not a JSON array\n", NULL)
                                   : send_text(conn, 200, "text/plain", "ok\n", NULL);
  if (strcmp(url, "/_script") == 0 && strcmp(method, "DELETE") == 0) {
    fakellm_reset(f);
    return send_text(conn, 200, "text/plain", "ok\n", NULL);
  }
  if (strcmp(url, "/search") == 0) { /* a web search service, for the webSearch tool */
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");
    json_t *r = json_pack("{s:[{s:s,s:s,s:s}]}", "results", "title", "A result", "url",
                          "https://example.org/1", "query", q ? q : "");
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    enum MHD_Result ret = send_text(conn, 200, "application/json", text, NULL);
    free(text);
    return ret;
  }
  if (strcmp(url, "/v1/embeddings") == 0 && strcmp(method, "POST") == 0)
    return embeddings(f, conn, body);
  if (strcmp(url, "/webhook") == 0 && strcmp(method, "POST") == 0) {
    json_error_t je;
    json_t *got = json_loads(body, 0, &je);
    pthread_mutex_lock(&f->lock);
    json_array_append_new(f->hooks, got ? got : json_string(body));
    pthread_mutex_unlock(&f->lock);
    if (strstr(body, "refuse me"))
      return send_text(conn, 422, "application/json", "{\"error\":\"not allowed here\"}", NULL);
    return send_text(conn, 200, "application/json", "{\"postId\":\"p-1\"}", NULL);
  }
  if (strcmp(url, "/_requests") == 0) {
    json_t *all = fakellm_requests(f);
    char *text = json_dumps(all, JSON_COMPACT);
    json_decref(all);
    enum MHD_Result ret = send_text(conn, 200, "application/json", text, NULL);
    free(text);
    return ret;
  }
  return send_text(conn, 404, "text/plain", "no such route\n", NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
  (void)cls;
  (void)conn;
  (void)toe;
  struct conn_body *b = *con_cls;
  if (b) {
    free(b->p);
    free(b);
  }
  *con_cls = NULL;
}

struct fakellm *fakellm_start(unsigned port)
{
  struct fakellm *f = calloc(1, sizeof *f);
  pthread_mutex_init(&f->lock, NULL);
  f->rules = json_array();
  f->requests = json_array();
  f->hooks = json_array();
  f->embeds = json_array();
  f->open_gates = json_object();
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* poll, not select: a benchmark holds more than 1,024 connections */
  f->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                            MHD_USE_POLL | MHD_USE_ERROR_LOG,
                          0, NULL, NULL, handle, f, MHD_OPTION_SOCK_ADDR, &addr,
                          MHD_OPTION_NOTIFY_COMPLETED, completed, f,
                          MHD_OPTION_CONNECTION_LIMIT, (unsigned)16384,
                          MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)4096,
                          MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
                          MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
  if (!f->d) {
    json_decref(f->rules);
    json_decref(f->requests);
    json_decref(f->hooks);
    json_decref(f->embeds);
    json_decref(f->open_gates);
    free(f);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->d, MHD_DAEMON_INFO_BIND_PORT);
  f->port = info ? info->port : port;
  snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/v1", f->port);
  return f;
}

unsigned fakellm_port(const struct fakellm *f) { return f->port; }
const char *fakellm_url(const struct fakellm *f) { return f->url; }

int fakellm_script(struct fakellm *f, const char *rules)
{
  json_error_t je;
  json_t *v = json_loads(rules, 0, &je);
  if (!json_is_array(v)) {
    json_decref(v);
    return -1;
  }
  size_t i;
  json_t *r;
  json_array_foreach(v, i, r) {
    if (!json_is_object(r)) {
      json_decref(v);
      return -1;
    }
    json_t *times = json_object_get(r, "times");
    long n = times ? (long)json_integer_value(times) : 1;
    json_object_set_new(r, "_left", json_integer(n == 0 ? -1 : n));
  }
  pthread_mutex_lock(&f->lock);
  json_array_extend(f->rules, v);
  pthread_mutex_unlock(&f->lock);
  json_decref(v);
  return 0;
}

void fakellm_reset(struct fakellm *f)
{
  pthread_mutex_lock(&f->lock);
  json_array_clear(f->rules);
  json_array_clear(f->requests);
  json_object_clear(f->open_gates);
  pthread_mutex_unlock(&f->lock);
}

json_t *fakellm_requests(struct fakellm *f)
{
  pthread_mutex_lock(&f->lock);
  json_t *copy = json_deep_copy(f->requests);
  pthread_mutex_unlock(&f->lock);
  return copy;
}

json_t *fakellm_webhooks(struct fakellm *f)
{
  pthread_mutex_lock(&f->lock);
  json_t *copy = json_deep_copy(f->hooks);
  pthread_mutex_unlock(&f->lock);
  return copy;
}

json_t *fakellm_embedding_requests(struct fakellm *f)
{
  pthread_mutex_lock(&f->lock);
  json_t *copy = json_deep_copy(f->embeds);
  pthread_mutex_unlock(&f->lock);
  return copy;
}

size_t fakellm_request_count(struct fakellm *f) { return (size_t)atomic_load(&f->calls); }

void fakellm_stop(struct fakellm *f)
{
  if (!f)
    return;
  atomic_store(&f->stopping, 1);
  MHD_stop_daemon(f->d);
  json_decref(f->rules);
  json_decref(f->requests);
  json_decref(f->hooks);
  json_decref(f->embeds);
  json_decref(f->open_gates);
  pthread_mutex_destroy(&f->lock);
  free(f);
}

void fakellm_open(struct fakellm *f, const char *gate)
{
  pthread_mutex_lock(&f->lock);
  json_object_set_new(f->open_gates, gate, json_true());
  pthread_mutex_unlock(&f->lock);
}
