/* embeddings: see embeddings.h. Each call is one POST through
 * outbound_post_json (agents/outbound.h), bounded by a timeout, on the
 * calling thread. */
#include "agents/embeddings.h"

#include "agents/outbound.h"
#include "domain/dq.h"
#include "domain/knowledge.h"
#include "util/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 20000L
#define MAX_ANSWER (4 * 1024 * 1024)

int embeddings_from_env(struct embeddings *e)
{
  memset(e, 0, sizeof *e);
  const char *base = getenv("ONE_EMBEDDINGS_URL"), *model = getenv("ONE_EMBEDDINGS_MODEL");
  const char *key = getenv("ONE_EMBEDDINGS_API_KEY");
  if (!base || !*base || !model || !*model)
    return 0;
  size_t n = strlen(base);
  while (n && base[n - 1] == '/')
    n--;
  snprintf(e->url, sizeof e->url, "%.*s/embeddings", (int)n, base);
  snprintf(e->model, sizeof e->model, "%s", model);
  snprintf(e->key, sizeof e->key, "%s", key ? key : "");
  return 1;
}

int embeddings_parse(const char *answer, size_t len, float out[TEXTVEC_DIM], struct err *err)
{
  json_error_t je;
  json_t *a = json_loadb(answer, len, 0, &je);
  const json_t *v = json_object_get(json_array_get(json_object_get(a, "data"), 0), "embedding");
  int rc = 0;
  if (!json_is_array(v)) {
    rc = err_set(err, E_PARSE, "the embeddings service answered no data[0].embedding");
  } else if (json_array_size(v) != TEXTVEC_DIM) {
    rc = err_set(err, E_INVALID, "the embeddings model answered %zu dimensions; ONE's vectors "
                 "have %d (use a %d-dimension model, or one that honours \"dimensions\")",
                 json_array_size(v), TEXTVEC_DIM, TEXTVEC_DIM);
  } else {
    double norm = 0;
    for (size_t i = 0; i < TEXTVEC_DIM; i++) {
      const json_t *x = json_array_get(v, i);
      out[i] = json_is_number(x) ? (float)json_number_value(x) : NAN;
      norm += (double)out[i] * (double)out[i];
    }
    if (!(norm > 0) || !isfinite(norm))
      rc = err_set(err, E_PARSE, "the embeddings service answered a vector that is not one");
    for (size_t i = 0; !rc && i < TEXTVEC_DIM; i++)
      out[i] = (float)(out[i] / sqrt(norm));
  }
  json_decref(a);
  return rc;
}

int embeddings_get(const struct embeddings *e, const char *text, float out[TEXTVEC_DIM],
                   struct err *err)
{
  json_t *req = json_pack("{s:s,s:s,s:i}", "model", e->model, "input", text ? text : "",
                          "dimensions", TEXTVEC_DIM);
  char *body = req ? json_dumps(req, JSON_COMPACT) : NULL, *answer = NULL;
  json_decref(req);
  struct outbound_post o = {"the embeddings service", e->url, e->key, MAX_ANSWER, TIMEOUT_MS};
  long status = 0;
  size_t len = 0;
  int cut = 0;
  int rc = body ? outbound_post_json(&o, body, &status, &answer, &len, &cut, err)
                : err_set(err, E_NOMEM, "out of memory");
  if (!rc && status / 100 != 2)
    rc = err_set(err, E_IO, "the embeddings service answered HTTP %ld: %.200s", status, answer);
  else if (!rc && cut)
    rc = err_set(err, E_IO, "the embeddings service answered more than %d bytes", MAX_ANSWER);
  else if (!rc)
    rc = embeddings_parse(answer, len, out, err);
  free(body);
  one_free(answer);
  return rc;
}

/* --- the job --- */

struct embed {
  char id[CID_MAX], hash[17];
  char *content;           /* the item's content when its hash is the job's */
  float v[TEXTVEC_DIM];
  const char *model;
};

/* Whether the item's content still hashes to the job's (its content then
 * into e->content when want is set). */
static int still_tx(struct store_tx *tx, struct embed *e, int want)
{
  json_t *doc = NULL;
  if (dq_get(tx, "knowledge", e->id, "knowledge item", &doc, NULL) != 0)
    return 0;
  char hash[17];
  knowledge_content_hash(dq_str(doc, "content"), hash);
  int same = strcmp(hash, e->hash) == 0;
  if (same && want)
    e->content = one_strdup(dq_str(doc, "content"));
  json_decref(doc);
  return same;
}

static int read_tx(struct store_tx *tx, void *arg, struct err *err)
{
  (void)err;
  still_tx(tx, arg, 1);
  return 0;
}

static int write_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct embed *e = arg;
  if (!still_tx(tx, e, 0))
    return 0; /* changed again meanwhile: the newer job has it */
  json_t *v = json_array();
  for (size_t i = 0; v && i < TEXTVEC_DIM; i++)
    json_array_append_new(v, json_real(e->v[i]));
  json_t *patch = v ? json_pack("{s:o,s:s}", "vector", v, "vectorModel", e->model) : NULL;
  int rc = patch ? store_patch(tx, e->id, patch, err) : err_set(err, E_NOMEM, "out of memory");
  json_decref(patch);
  return rc;
}

struct embeddings_service {
  struct store *s;
  struct embeddings cfg;
};

static void embed_job(void *arg, struct sched_run *run)
{
  struct embeddings_service *ja = arg;
  struct embed e;
  memset(&e, 0, sizeof e);
  e.model = ja->cfg.model;
  json_error_t je;
  json_t *a = json_loads(sched_job(run)->args, 0, &je);
  const char *id = json_string_value(json_object_get(a, "id"));
  const char *hash = json_string_value(json_object_get(a, "hash"));
  if (!id || !hash || strlen(id) >= CID_MAX || strlen(hash) != 16) {
    json_decref(a);
    sched_fail(run, "an embedding job needs the item's id and its content's hash");
    return;
  }
  snprintf(e.id, sizeof e.id, "%s", id);
  snprintf(e.hash, sizeof e.hash, "%s", hash);
  json_decref(a);
  struct err err = ERR_INIT;
  if (store_run(ja->s, STORE_READ, read_tx, &e, &err) != 0)
    sched_retry(run, err.msg, 0);
  else if (!e.content)
    sched_done(run, NULL, NULL, &err); /* gone, or changed since */
  else if (embeddings_get(&ja->cfg, e.content, e.v, &err) != 0)
    sched_retry(run, err.msg, 0);
  else
    sched_done(run, write_tx, &e, &err);
  one_free(e.content);
  err_clear(&err);
}

static int embed_query(void *arg, const char *text, float out[TEXTVEC_DIM], struct err *err)
{
  const struct embeddings_service *es = arg;
  return embeddings_get(&es->cfg, text, out, err);
}

int embeddings_start(struct store *s, struct sched *sc, struct embeddings_service **out,
                     struct err *err)
{
  *out = NULL;
  struct embeddings cfg;
  if (!embeddings_from_env(&cfg))
    return 0;
  struct embeddings_service *es = one_calloc(1, sizeof *es);
  if (!es)
    return err_set(err, E_NOMEM, "out of memory");
  es->s = s;
  es->cfg = cfg;
  int rc = sched_on(sc, KNOWLEDGE_EMBED_JOB, embed_job, es, err);
  if (rc) {
    one_free(es);
    return rc;
  }
  struct knowledge_embedder ke = {es->cfg.model, embed_query, es};
  knowledge_use_embedder(&ke);
  *out = es;
  return 0;
}

void embeddings_stop(struct embeddings_service *es)
{
  if (!es)
    return;
  knowledge_use_embedder(NULL);
  one_free(es);
}

const char *embeddings_model(const struct embeddings_service *es)
{
  return es ? es->cfg.model : NULL;
}
