/* cmd_serve: `one serve`: open (or create) the database, start the
 * scheduler and the HTTP server, wait for SIGTERM or SIGINT, then shut
 * down gracefully: requests in flight finish, then job attempts. */
#include "agents/background.h"
#include "agents/embeddings.h"
#include "agents/runtime.h"
#include "agents/seed.h"
#include "agents/sched.h"
#include "cli/cli.h"
#include "domain/knowledge.h"
#include "http/http.h"
#include "http/stream.h"
#include "schema/schema.h"
#include "util/log.h"
#include "util/mem.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GRACE_MS 30000
#define JOBS_GRACE_MS 10000

/* Splits "host:port" (port 0 to 65535). */
static int parse_listen(const char *s, char *host, size_t n, unsigned *port)
{
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || (size_t)(colon - s) >= n)
    return -1;
  char *end = NULL;
  errno = 0;
  long p = strtol(colon + 1, &end, 10);
  if (*end || errno || p < 0 || p > 65535 || colon[1] == '\0')
    return -1;
  snprintf(host, n, "%.*s", (int)(colon - s), s);
  if (strcmp(host, "localhost") == 0)
    snprintf(host, n, "127.0.0.1");
  *port = (unsigned)p;
  return 0;
}

/* The runtime's replies as they are generated, to the conversation's streams. */
static void partial_to_streams(void *arg, const char *conv, const json_t *data)
{
  hub_publish_partial(arg, conv, data);
}

/* The search filler: fills the search spaces of a database that had
 * documents before them (store_search_fill), a batch at a time with a rest
 * between, so requests keep their turn at the write lock. */
struct filler {
  struct store *s;
  pthread_t thread;
  int started;
  atomic_int stop;
};

static void *fill_search(void *arg)
{
  struct filler *f = arg;
  size_t done = 0;
  int more = 1;
  while (more && !atomic_load(&f->stop)) {
    struct err err = ERR_INIT;
    if (store_search_fill(f->s, 500, &more, &done, &err)) {
      json_t *e = json_pack("{s:s}", "error", err.msg);
      log_json(LOG_ERROR, NULL, "cannot prepare search; it answers 503 until a restart", e);
      json_decref(e);
      err_clear(&err);
      return NULL;
    }
    if (more)
      nanosleep(&(struct timespec){0, 5 * 1000000L}, NULL);
  }
  if (done) {
    json_t *e = json_pack("{s:I}", "documents", (json_int_t)done);
    log_json(LOG_INFO, NULL, "search prepared", e);
    json_decref(e);
  }
  /* with a remote embedder, every item whose vector is another model's
   * gets a job that asks the service for one */
  char *cursor = NULL;
  size_t queued = 0;
  more = knowledge_vector_model() != NULL;
  while (more && !atomic_load(&f->stop)) {
    struct err err = ERR_INIT;
    if (knowledge_requeue(f->s, 500, &cursor, &more, &queued, &err)) {
      json_t *e = json_pack("{s:s}", "error", err.msg);
      log_json(LOG_ERROR, NULL, "cannot queue the knowledge's embeddings", e);
      json_decref(e);
      err_clear(&err);
      break;
    }
  }
  one_free(cursor);
  if (queued) {
    json_t *e = json_pack("{s:I,s:s}", "items", (json_int_t)queued, "model",
                          knowledge_vector_model());
    log_json(LOG_INFO, NULL, "knowledge queued for the embeddings service", e);
    json_decref(e);
  }
  return NULL;
}

/* Stops what cmd_serve started, in the one order that is safe (each part
 * may be NULL): requests finish (up to http_ms), then job attempts (up to
 * jobs_ms); what is left runs again at the next start. */
static void shut_down(struct http_server *srv, struct background *bg, struct runtime *rt,
                      struct embeddings_service *es, struct sched *sc, struct store *s,
                      int http_ms, int64_t jobs_ms)
{
  if (rt)
    runtime_on_partial(rt, NULL, NULL); /* the streams close with the server */
  http_server_stop(srv, http_ms);
  background_free(bg);   /* a migration stops after its batch and goes on next start */
  sched_stop(sc, jobs_ms);
  runtime_free(rt);      /* model calls still waiting end; their runs retry later */
  sched_free(sc);
  embeddings_stop(es);
  store_close(s);
}

int cmd_serve(struct cli *c)
{
  static const struct cli_opt opts[] = {{"listen", 1, 0}, {"threads", 1, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  const char *listen = cli_opt(c, "listen");
  if (!listen)
    listen = getenv("ONE_LISTEN") && *getenv("ONE_LISTEN") ? getenv("ONE_LISTEN") : "127.0.0.1:8080";
  struct http_config cfg = {NULL, 0, 0, 1, NULL};
  char host[64];
  if (parse_listen(listen, host, sizeof host, &cfg.port) != 0)
    return cli_usage(c, "--listen takes HOST:PORT, e.g. 127.0.0.1:8080, not '%s'", listen);
  cfg.host = host;
  if (cli_opt(c, "threads")) {
    char *end = NULL;
    long n = strtol(cli_opt(c, "threads"), &end, 10);
    if (*end || n < 1 || n > 256)
      return cli_usage(c, "--threads takes a number from 1 to 256");
    cfg.threads = (unsigned)n;
  }
  log_init();
  /* Signals go to sigwait below, not to the server's threads. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* Every open stream holds a socket: allow as many as the system lets us. */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  struct err err = ERR_INIT;
  struct store *s = NULL;
  struct http_server *srv = NULL;
  struct sched *sc = NULL;
  struct runtime *rt = NULL;
  struct background *bg = NULL;
  struct embeddings_service *es = NULL;
  struct llm_config llm;
  int have_llm = llm_config_from_env(&llm);
  int created = 0;
  c->server = 1; /* checkpoints off the request path */
  struct seed_report seeded;
  if (cli_open(c, 0, &s, &err) || cli_ensure_schema(s, schema_latest_name(), &created, &err) ||
      (created && seed_run(s, &seeded, &err)) || sched_new(s, NULL, &sc, &err) ||
      runtime_new(s, sc, have_llm ? &llm : NULL, NULL, &rt, &err) ||
      embeddings_start(s, sc, &es, &err) ||
      background_new(s, sc, c->db_path, &bg, &err) ||
      (cfg.sched = sc, http_server_start(&cfg, s, &srv, &err)) ||
      (runtime_on_partial(rt, partial_to_streams, http_server_hub(srv)), sched_start(sc, &err))) {
    rc = cli_fail(&err);
    err_clear(&err);
    shut_down(srv, bg, rt, es, sc, s, 0, 0);
    return rc;
  }
  struct filler filler = {.s = s};
  filler.started = pthread_create(&filler.thread, NULL, fill_search, &filler) == 0;
  if (!have_llm)
    log_json(LOG_WARN, NULL, "no language model is configured (ONE_LLM_BASE_URL, ONE_LLM_MODEL): "
             "agents answer with a message that says how to configure one", NULL);
  char url[128];
  snprintf(url, sizeof url, "http://%s:%u", host, http_server_port(srv));
  json_t *f = json_pack("{s:s,s:s,s:b}", "url", url, "db", c->db_path, "created", created);
  log_json(LOG_WARN, NULL, "listening", f); /* shown at every level: says where to go */
  json_decref(f);
  int sig = 0;
  sigwait(&stop, &sig);
  f = json_pack("{s:s}", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  log_json(LOG_WARN, NULL, "stopping: finishing requests in flight", f);
  json_decref(f);
  atomic_store(&filler.stop, 1);
  if (filler.started)
    pthread_join(filler.thread, NULL);
  shut_down(srv, bg, rt, es, sc, s, GRACE_MS, JOBS_GRACE_MS);
  log_json(LOG_WARN, NULL, "stopped", NULL);
  return EXIT_OK;
}
