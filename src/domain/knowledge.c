/* knowledge: see knowledge.h. */
#include "domain/knowledge.h"

#include "domain/agents.h"
#include "domain/dq.h"
#include "domain/fuse.h"
#include "domain/policy.h"
#include "domain/vindex.h"
#include "util/clock.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define CANDIDATES 4        /* each list offers this many times the results asked for */
#define MIN_CANDIDATES 40

static struct store_search_space spaces[] = {
  {"knowledge", "knowledge", "content", "ownerId", "vector", TEXTVEC_DIM, textvec_embed},
  {"messages", "conversationMessages", "content", "conversationId", "vector", TEXTVEC_DIM, NULL},
  {NULL, NULL, NULL, NULL, NULL, 0, NULL},
};

const struct store_search_space *knowledge_spaces(void) { return spaces; }

void knowledge_vectorise_messages(int on) { spaces[1].embed = on ? textvec_embed : NULL; }

static struct knowledge_embedder embedder; /* model NULL: the built-in embedder */

/* --- ranking (domain/fuse.h) --- */

static int has_tags(const json_t *doc, const json_t *tags)
{
  size_t i;
  json_t *t;
  json_array_foreach(tags, i, t) if (!dq_list_has(json_object_get(doc, "tags"), json_string_value(t)))
    return 0;
  return 1;
}

int knowledge_search_tx(struct store_tx *tx, const struct actor *who,
                        const struct knowledge_query *q, json_t **items, struct err *err)
{
  *items = NULL;
  const char *mode = q->mode ? q->mode : "hybrid";
  int text = strcmp(mode, "text") == 0 || strcmp(mode, "hybrid") == 0;
  int vector = strcmp(mode, "vector") == 0 || strcmp(mode, "hybrid") == 0;
  if (!text && !vector)
    return err_set(err, E_SCHEMA, "mode must be \"text\", \"vector\" or \"hybrid\", not \"%s\"",
                   mode);
  size_t limit = q->limit ? q->limit : KNOWLEDGE_DEFAULT_RESULTS;
  if (limit > KNOWLEDGE_MAX_RESULTS)
    limit = KNOWLEDGE_MAX_RESULTS;
  size_t want = limit * CANDIDATES < MIN_CANDIDATES ? MIN_CANDIDATES : limit * CANDIDATES;
  const char *query = q->query ? q->query : "";
  struct fusion c = {0};
  float qv[TEXTVEC_DIM];
  struct store_hit *best = vector ? one_malloc(want * sizeof *best) : NULL;
  int rc = vector && !best ? err_set(err, E_NOMEM, "out of memory") : 0;
  if (vector && !rc && knowledge_embed(query, qv, err) != 0) {
    if (text) {
      vector = 0; /* hybrid goes on with the words alone */
      err_clear(err);
    } else {
      char why[300];
      snprintf(why, sizeof why, "%.299s", err ? err->msg : "");
      rc = err_set(err, E_BUSY, "the embeddings service cannot embed the query now: %s", why);
    }
  }
  for (size_t o = 0; !rc && o < q->nowners; o++) {
    if (text) {
      struct store_hit *h = NULL;
      size_t n = 0;
      rc = store_search_text(tx, "knowledge", q->owners[o], query, want, &h, &n, err);
      if (!rc && fuse_add(&c, h, n, 1))
        rc = err_set(err, E_NOMEM, "out of memory");
      one_free(h);
    }
    if (vector && !rc) {
      size_t keep = 0;
      rc = vindex_search(tx, "knowledge", "knowledge", q->owners[o], qv, TEXTVEC_DIM, want, best,
                         &keep, NULL, err);
      while (keep && best[keep - 1].score < TEXTVEC_MIN_COSINE)
        keep--; /* a vector this far from the query's is no match */
      if (!rc && fuse_add(&c, best, keep, 2))
        rc = err_set(err, E_NOMEM, "out of memory");
    }
  }
  one_free(best);
  if (!rc)
    fuse_sort(&c);
  const struct policy *p = policy_find("knowledge");
  json_t *out = rc ? NULL : json_array();
  for (size_t i = 0; !rc && i < c.n && json_array_size(out) < limit; i++) {
    json_t *doc = NULL;
    struct err e = ERR_INIT;
    if (dq_get(tx, "knowledge", c.v[i].id, "knowledge", &doc, &e) != 0) {
      err_clear(&e); /* gone since the search rows were read: impossible in one snapshot */
      continue;
    }
    if ((who->admin || (p && p->may_read(tx, who, doc))) && (!q->tags || has_tags(doc, q->tags))) {
      json_object_del(doc, "vector");
      json_object_set_new(doc, "score", json_real(c.v[i].score));
      json_object_set_new(doc, "matchedBy", json_string(c.v[i].in == 3   ? "both"
                                                        : c.v[i].in == 1 ? "text"
                                                                         : "vector"));
      json_array_append(out, doc);
    }
    json_decref(doc);
  }
  fuse_release(&c);
  if (rc) {
    json_decref(out);
    return rc;
  }
  *items = out;
  return 0;
}

int knowledge_owner_ok(struct store_tx *tx, const struct actor *who, const char *owner,
                       const char **type, struct err *err)
{
  if (dq_is_id_of(tx, owner, "users")) {
    *type = "user";
    if (who->admin || strcmp(owner, who->user) == 0)
      return 0;
    return err_set(err, E_NOTFOUND, "no knowledge of %s that you may read", owner);
  }
  if (!dq_is_id_of(tx, owner, "agents"))
    return err_set(err, E_NOTFOUND, "%s is neither a user nor an agent", owner);
  *type = "agent";
  json_t *agent = NULL;
  int rc = dq_get(tx, "agents", owner, "agent", &agent, err);
  if (!rc && !who->admin && !agent_usable(who, agent))
    rc = err_set(err, E_NOTFOUND, "no agent %s", owner);
  json_decref(agent);
  return rc;
}

static int queue_embed(struct store_tx *tx, const char *id, const char *content,
                       struct err *err);

int knowledge_add_tx(struct store_tx *tx, const char *owner_id, const char *content,
                     const json_t *tags, const float *vector, json_t **out, struct err *err)
{
  const char *type = dq_is_id_of(tx, owner_id, "agents") ? "agent" : "user";
  json_t *fields = json_pack("{s:s,s:s,s:s,s:f}", "ownerType", type, "ownerId", owner_id,
                             "content", content ? content : "", "createdAt", clock_now_ms());
  if (!fields)
    return err_set(err, E_NOMEM, "out of memory");
  if (tags)
    json_object_set(fields, "tags", (json_t *)tags);
  if (vector && embedder.model) {
    json_t *v = json_array();
    for (size_t i = 0; v && i < TEXTVEC_DIM; i++)
      json_array_append_new(v, json_real(vector[i]));
    json_object_set_new(fields, "vector", v);
    json_object_set_new(fields, "vectorModel", json_string(embedder.model));
  }
  char id[CID_MAX];
  int rc = content && *content ? store_insert(tx, "knowledge", fields, 0, id, err)
                               : err_set_at(err, E_SCHEMA, "knowledge.content",
                                            "knowledge needs some content");
  json_decref(fields);
  if (!rc && embedder.model && !vector) /* a remote embedder's vector comes later, from a job */
    rc = queue_embed(tx, id, content, err);
  if (!rc && out && !(rc = store_get(tx, id, out, NULL, err)))
    json_object_del(*out, "vector");
  return rc;
}

/* --- remote vectors --- */

void knowledge_use_embedder(const struct knowledge_embedder *e)
{
  if (e)
    embedder = *e;
  else
    memset(&embedder, 0, sizeof embedder);
}

const char *knowledge_vector_model(void) { return embedder.model; }

int knowledge_embed(const char *text, float out[TEXTVEC_DIM], struct err *err)
{
  if (embedder.model)
    return embedder.embed(embedder.arg, text, out, err);
  textvec_embed(text, strlen(text), out);
  return 0;
}

void knowledge_content_hash(const char *content, char out[17])
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)content; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  snprintf(out, 17, "%016" PRIx64, h);
}

static int queue_embed(struct store_tx *tx, const char *id, const char *content,
                       struct err *err)
{
  char hash[17], args[CID_MAX + 48], key[CID_MAX + 48];
  knowledge_content_hash(content, hash);
  snprintf(args, sizeof args, "{\"id\":\"%s\",\"hash\":\"%s\"}", id, hash);
  snprintf(key, sizeof key, "embed:%s:%s", id, hash);
  struct store_job_new j = {KNOWLEDGE_EMBED_JOB, args, key, NULL, 0, 8};
  return store_job_add(tx, &j, NULL, NULL, err);
}

int knowledge_sync(struct store_tx *tx, const char *table, const char *id, const json_t *before,
                   struct err *err)
{
  if (!embedder.model || strcmp(table, "knowledge") != 0)
    return 0;
  json_t *doc = NULL;
  if (store_get(tx, id, &doc, NULL, NULL) != 0)
    return 0; /* deleted */
  const char *content = dq_str(doc, "content");
  int current = strcmp(dq_str(doc, "vectorModel"), embedder.model) == 0 &&
                (!before || strcmp(dq_str(before, "content"), content) == 0 ||
                 !json_equal(json_object_get(before, "vector"), json_object_get(doc, "vector")));
  int rc = current ? 0 : queue_embed(tx, id, content, err);
  json_decref(doc);
  return rc;
}

struct requeue {
  size_t limit, queued;
  char **cursor;
  int more;
};

static int requeue_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct requeue *r = arg;
  struct store_query q = {.table = "knowledge", .limit = r->limit, .cursor = *r->cursor};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  for (size_t i = 0; !rc && i < json_array_size(page.docs); i++) {
    json_t *d = json_array_get(page.docs, i);
    if (strcmp(dq_str(d, "vectorModel"), embedder.model) != 0) {
      rc = queue_embed(tx, dq_str(d, "_id"), dq_str(d, "content"), err);
      r->queued += !rc;
    }
  }
  if (!rc) {
    one_free(*r->cursor);
    *r->cursor = page.cursor && !page.done ? one_strdup(page.cursor) : NULL;
    r->more = *r->cursor != NULL;
  }
  store_page_release(&page);
  return rc;
}

int knowledge_requeue(struct store *s, size_t limit, char **cursor, int *more, size_t *queued,
                      struct err *err)
{
  *more = 0;
  if (!embedder.model)
    return 0;
  struct requeue r = {limit ? limit : 500, 0, cursor, 0};
  int rc = store_run(s, STORE_WRITE, requeue_tx, &r, err);
  *more = r.more;
  *queued += r.queued;
  return rc;
}

/* --- the API's operations --- */

struct create {
  struct op *op;
  const float *vector;  /* the remote embedder's, or NULL */
};

static int create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct create *cr = arg;
  struct op *op = cr->op;
  static const char *const allowed[] = {"content", "tags", "agentId", NULL};
  int rc = op_need_object(op->in, err);
  if (rc || (rc = op_only_fields(op->in, "knowledge", allowed, err)))
    return rc;
  const json_t *content = json_object_get(op->in, "content");
  if (!json_is_string(content))
    return err_set_at(err, E_SCHEMA, "knowledge.content", "expected a string");
  const char *agent = json_string_value(json_object_get(op->in, "agentId"));
  if (json_object_get(op->in, "agentId") && !agent)
    return err_set_at(err, E_SCHEMA, "knowledge.agentId", "expected id<agents>");
  if (agent) {
    json_t *a = NULL;
    if ((rc = dq_get(tx, "agents", agent, "agent", &a, err)))
      return rc;
    int ok = op->who->admin || agent_editable(op->who, a);
    int seen = ok || agent_usable(op->who, a);
    json_decref(a);
    if (!ok)
      return seen ? err_set(err, E_PERM, "only the agent's editors add to its knowledge")
                  : err_set(err, E_NOTFOUND, "no agent %s", agent);
  }
  rc = knowledge_add_tx(tx, agent ? agent : op->who->user, json_string_value(content),
                        json_object_get(op->in, "tags"), cr->vector, &op->out, err);
  op->created = !rc;
  return rc;
}

int knowledge_create(struct store *s, struct op *op, struct err *err)
{
  /* the remote vector before the transaction (a write never waits on the
   * network); when the service fails, the item's job asks again later */
  float v[TEXTVEC_DIM];
  struct err ignored = ERR_INIT;
  const char *content = json_string_value(json_object_get(op->in, "content"));
  struct create cr = {op, NULL};
  if (embedder.model && content && *content && knowledge_embed(content, v, &ignored) == 0)
    cr.vector = v;
  err_clear(&ignored);
  return store_run(s, STORE_WRITE, create_tx, &cr, err);
}

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const char *owner = op->filter ? op->filter : op->who->user, *type = NULL;
  int rc = knowledge_owner_ok(tx, op->who, owner, &type, err);
  json_t *eq = rc ? NULL : json_pack("[s,s]", type, owner);
  if (!rc && !eq)
    rc = err_set(err, E_NOMEM, "out of memory");
  struct op page = *op;
  page.desc = 1;
  if (!rc)
    rc = op_list(tx, &page, "knowledge", "by_owner", eq, err);
  json_decref(eq);
  if (!rc) {
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(page.out, "items"), i, d) json_object_del(d, "vector");
    op->out = page.out;
  }
  return rc;
}

int knowledge_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, list_tx, op, err);
}

/* The search body into q: E_SCHEMA naming the field that is wrong. */
static int read_query(struct store_tx *tx, const struct op *op, struct knowledge_query *q,
                      struct err *err)
{
  static const char *const allowed[] = {"query", "mode", "owners", "tags", "limit", NULL};
  int rc = op_need_object(op->in, err);
  if (rc || (rc = op_only_fields(op->in, "search", allowed, err)))
    return rc;
  const json_t *query = json_object_get(op->in, "query"), *mode = json_object_get(op->in, "mode");
  const json_t *owners = json_object_get(op->in, "owners"), *tags = json_object_get(op->in, "tags");
  const json_t *limit = json_object_get(op->in, "limit");
  if (!json_is_string(query) || !json_string_length(query))
    return err_set_at(err, E_SCHEMA, "search.query", "expected a non-empty string");
  if (mode && !json_is_string(mode))
    return err_set_at(err, E_SCHEMA, "search.mode", "expected \"text\", \"vector\" or \"hybrid\"");
  if (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
                json_integer_value(limit) > KNOWLEDGE_MAX_RESULTS))
    return err_set_at(err, E_SCHEMA, "search.limit", "expected an integer from 1 to %d",
                      KNOWLEDGE_MAX_RESULTS);
  if (tags) {
    size_t i;
    json_t *t;
    int ok = json_is_array(tags);
    json_array_foreach(tags, i, t) ok &= json_is_string(t);
    if (!ok)
      return err_set_at(err, E_SCHEMA, "search.tags", "expected an array of strings");
  }
  if (owners && (!json_is_array(owners) || !json_array_size(owners) ||
                 json_array_size(owners) > KNOWLEDGE_MAX_OWNERS))
    return err_set_at(err, E_SCHEMA, "search.owners", "expected 1 to %d user or agent ids",
                      KNOWLEDGE_MAX_OWNERS);
  memset(q, 0, sizeof *q);
  q->query = json_string_value(query);
  q->mode = json_string_value(mode);
  q->tags = tags;
  q->limit = limit ? (size_t)json_integer_value(limit) : 0;
  if (!owners) {
    q->owners[q->nowners++] = op->who->user;
    return 0;
  }
  size_t i;
  json_t *o;
  json_array_foreach(owners, i, o) {
    const char *type = NULL;
    if (!json_is_string(o))
      return err_set_at(err, E_SCHEMA, "search.owners", "expected user or agent ids");
    if ((rc = knowledge_owner_ok(tx, op->who, json_string_value(o), &type, err)))
      return rc;
    q->owners[q->nowners++] = json_string_value(o);
  }
  return 0;
}

static int search_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  struct knowledge_query q;
  json_t *items = NULL;
  int rc = read_query(tx, op, &q, err);
  if (!rc && !(rc = knowledge_search_tx(tx, op->who, &q, &items, err)))
    op->out = json_pack("{s:o}", "items", items);
  return rc;
}

int knowledge_search(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, search_tx, op, err);
}
