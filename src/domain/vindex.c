/* vindex: see vindex.h. */
#include "domain/vindex.h"

#include "util/hnsw.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define HNSW_M 16
#define HNSW_EFC 200
#define CATCH_UP_MAX 4096   /* more changes than this since the index: build it again */

struct kept {
  char space[32], scope[CID_MAX];
  size_t dim;
  struct hnsw *h;
  char (*ids)[CID_MAX];     /* per node */
  uint32_t *slots;          /* open addressing: node + 1, 0 empty */
  size_t nslots, cap;
  int64_t seq;              /* the change log's newest seq the index includes */
  uint64_t used;            /* for least-recently-used eviction */
  pthread_mutex_t lock;     /* one search or update at a time */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kept *cache[VINDEX_SCOPES];
static uint64_t clock_ticks;

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static void kept_clear(struct kept *k)
{
  hnsw_free(k->h);
  one_free(k->ids);
  one_free(k->slots);
  k->h = NULL;
  k->ids = NULL;
  k->slots = NULL;
  k->nslots = k->cap = 0;
}

static void kept_free(struct kept *k)
{
  if (!k)
    return;
  kept_clear(k);
  pthread_mutex_destroy(&k->lock);
  one_free(k);
}

void vindex_reset(void)
{
  pthread_mutex_lock(&cache_lock);
  for (size_t i = 0; i < VINDEX_SCOPES; i++) {
    kept_free(cache[i]);
    cache[i] = NULL;
  }
  pthread_mutex_unlock(&cache_lock);
}

/* The slot of id: its node's, or the empty one it would take. */
static size_t slot_of(const struct kept *k, const char *id)
{
  size_t i = hash(id) & (k->nslots - 1);
  while (k->slots[i] && strcmp(k->ids[k->slots[i] - 1], id) != 0)
    i = (i + 1) & (k->nslots - 1);
  return i;
}

static int map_grow(struct kept *k)
{
  size_t n = k->nslots ? 2 * k->nslots : 4096;
  uint32_t *old = k->slots;
  size_t oldn = k->nslots;
  k->slots = one_calloc(n, sizeof *k->slots);
  if (!k->slots) {
    k->slots = old;
    return -1;
  }
  k->nslots = n;
  for (size_t i = 0; i < oldn; i++)
    if (old[i]) {
      size_t j = hash(k->ids[old[i] - 1]) & (n - 1);
      while (k->slots[j])
        j = (j + 1) & (n - 1);
      k->slots[j] = old[i];
    }
  one_free(old);
  return 0;
}

/* Adds id's vector as a node. */
static int kept_add(struct kept *k, const char *id, const float *v)
{
  size_t node = hnsw_count(k->h);
  if (node >= k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 1024;
    char (*ids)[CID_MAX] = one_realloc(k->ids, cap * sizeof *ids);
    if (!ids)
      return -1;
    k->ids = ids;
    k->cap = cap;
  }
  if ((node + 1) * 2 > k->nslots && map_grow(k))
    return -1;
  uint32_t got;
  if (hnsw_add(k->h, v, &got))
    return -1;
  snprintf(k->ids[got], CID_MAX, "%s", id);
  size_t s = slot_of(k, id);
  if (k->slots[s]) /* the id had an old node: it is out already (kept_drop) */
    hnsw_remove(k->h, k->slots[s] - 1);
  k->slots[s] = got + 1;
  return 0;
}

/* Takes id's node out, if it has one (the slot keeps it until re-added, so
 * the probe chains stay whole; a removed node is never returned). */
static void kept_drop(struct kept *k, const char *id)
{
  if (!k->nslots)
    return;
  size_t s = slot_of(k, id);
  if (k->slots[s])
    hnsw_remove(k->h, k->slots[s] - 1);
}

struct scan {
  size_t n, dim;
  const float *q;
  struct store_hit *top;   /* the exact k best */
  size_t k, ntop;
};

/* Scores every vector of the scope against q (the exact search) and counts them. */
static int score_all(void *arg, const char *id, const char *scope, const float *v, size_t dim)
{
  (void)scope;
  struct scan *s = arg;
  if (dim != s->dim)
    return 0;
  s->n++;
  float score = textvec_dot(s->q, v, dim);
  if (s->ntop == s->k && score <= s->top[s->ntop - 1].score)
    return 0;
  size_t i = s->ntop < s->k ? s->ntop++ : s->ntop - 1;
  while (i > 0 && s->top[i - 1].score < score) {
    s->top[i] = s->top[i - 1];
    i--;
  }
  snprintf(s->top[i].id, CID_MAX, "%s", id);
  s->top[i].score = score;
  return 0;
}

/* Adds every vector of the scope to the index being built. */
static int build_add(void *arg, const char *id, const char *scope, const float *v, size_t dim)
{
  (void)scope;
  struct kept *k = arg;
  return dim == k->dim && kept_add(k, id, v) ? E_NOMEM : 0;
}

/* The kept index of space/scope, created (empty, h NULL) when missing;
 * returned locked. */
static struct kept *kept_for(const char *space, const char *scope, size_t dim)
{
  pthread_mutex_lock(&cache_lock);
  struct kept *k = NULL;
  size_t free_at = VINDEX_SCOPES, oldest = VINDEX_SCOPES;
  for (size_t i = 0; i < VINDEX_SCOPES; i++) {
    if (cache[i] && strcmp(cache[i]->space, space) == 0 && strcmp(cache[i]->scope, scope) == 0 &&
        cache[i]->dim == dim)
      k = cache[i];
    else if (!cache[i] && free_at == VINDEX_SCOPES)
      free_at = i;
    if (cache[i] && (oldest == VINDEX_SCOPES || cache[i]->used < cache[oldest]->used))
      oldest = i;
  }
  if (!k) {
    size_t at = free_at < VINDEX_SCOPES ? free_at : oldest;
    k = one_calloc(1, sizeof *k);
    if (k) {
      snprintf(k->space, sizeof k->space, "%s", space);
      snprintf(k->scope, sizeof k->scope, "%s", scope);
      k->dim = dim;
      pthread_mutex_init(&k->lock, NULL);
      if (cache[at]) { /* evicted: wait for its user to finish */
        pthread_mutex_lock(&cache[at]->lock);
        pthread_mutex_unlock(&cache[at]->lock);
        kept_free(cache[at]);
      }
      cache[at] = k;
    }
  }
  if (k) {
    k->used = ++clock_ticks;
    pthread_mutex_lock(&k->lock); /* taken under cache_lock: no eviction frees it meanwhile */
  }
  pthread_mutex_unlock(&cache_lock);
  return k;
}

/* Takes k out of the cache and frees it, unless another search holds it. */
static void kept_forget(struct kept *k)
{
  pthread_mutex_lock(&cache_lock);
  for (size_t i = 0; i < VINDEX_SCOPES; i++)
    if (cache[i] == k && pthread_mutex_trylock(&k->lock) == 0) {
      int unused = !k->h; /* still nothing to keep */
      pthread_mutex_unlock(&k->lock);
      if (unused) {
        cache[i] = NULL;
        kept_free(k);
      }
    }
  pthread_mutex_unlock(&cache_lock);
}

struct one_vec {
  const char *scope;
  struct kept *k;
  int rc;
};

static int put_back(void *arg, const char *id, const char *scope, const float *v, size_t dim)
{
  struct one_vec *o = arg;
  if (strcmp(scope, o->scope) == 0 && dim == o->k->dim && kept_add(o->k, id, v))
    o->rc = E_NOMEM;
  return 0;
}

/* Brings k up to tx's view of the log: 0 done, 1 when it must be built again. */
static int catch_up(struct store_tx *tx, struct kept *k, const char *table, struct err *err)
{
  int64_t oldest = 0, newest = 0;
  int rc = store_tx_change_bounds(tx, &oldest, &newest, err);
  if (rc)
    return rc;
  if (newest <= k->seq)
    return 0;
  if (oldest > k->seq + 1 || newest - k->seq > CATCH_UP_MAX)
    return 1;
  struct store_change *ch = NULL;
  size_t n = 0;
  if ((rc = store_tx_changes_since(tx, k->seq, CATCH_UP_MAX, &ch, &n, err)))
    return rc;
  for (size_t i = 0; !rc && i < n; i++) {
    if (strcmp(ch[i].table, table) != 0)
      continue;
    kept_drop(k, ch[i].id);
    if (ch[i].kind == STORE_DELETED)
      continue;
    struct one_vec o = {k->scope, k, 0};
    struct err e = ERR_INIT;
    if (store_search_vector_of(tx, k->space, ch[i].id, put_back, &o, &e) != 0 &&
        e.code != E_NOTFOUND)
      rc = err_set(err, e.code, "%s", e.msg);
    err_clear(&e);
    if (!rc && o.rc)
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  if (!rc)
    k->seq = n ? ch[n - 1].seq : newest;
  one_free(ch);
  if (!rc && hnsw_live(k->h) * 2 < hnsw_count(k->h))
    return 1; /* mostly removed nodes: a new one is smaller and better */
  return rc;
}

int vindex_search(struct store_tx *tx, const char *space, const char *table, const char *scope,
                  const float *q, size_t dim, size_t k, struct store_hit *out, size_t *n,
                  int *approx, struct err *err)
{
  *n = 0;
  if (approx)
    *approx = 0;
  struct kept *kp = kept_for(space, scope, dim);
  if (!kp)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = kp->h ? catch_up(tx, kp, table, err) : 1;
  if (rc == 1) { /* exact over every vector of the scope; then, if it is large, build */
    kept_clear(kp);
    int64_t oldest = 0, newest = 0;
    struct scan s = {.dim = dim, .q = q, .top = out, .k = k};
    rc = store_tx_change_bounds(tx, &oldest, &newest, err);
    if (!rc)
      rc = store_search_vectors(tx, space, scope, score_all, &s, err);
    if (!rc && s.n >= VINDEX_MIN) {
      kp->h = hnsw_new(dim, HNSW_M, HNSW_EFC, hash(scope));
      rc = kp->h ? store_search_vectors(tx, space, scope, build_add, kp, err) : E_NOMEM;
      if (rc == E_NOMEM && !err->code)
        err_set(err, E_NOMEM, "out of memory");
      kp->seq = newest;
      if (rc)
        kept_clear(kp);
    }
    *n = s.ntop; /* this search was exact */
    int small = !kp->h;
    pthread_mutex_unlock(&kp->lock);
    if (small)
      kept_forget(kp); /* a small scope keeps no slot a large one could use */
    return rc;
  }
  if (!rc) {
    struct hnsw_hit *hits = one_malloc(k * sizeof *hits);
    int got = hits ? hnsw_search(kp->h, q, k, k > VINDEX_EF ? k : VINDEX_EF, hits) : -1;
    if (got < 0)
      rc = err_set(err, E_NOMEM, "out of memory");
    for (int i = 0; i < got; i++) {
      snprintf(out[i].id, CID_MAX, "%s", kp->ids[hits[i].node]);
      out[i].score = hits[i].score;
    }
    *n = got > 0 ? (size_t)got : 0;
    if (approx)
      *approx = 1;
    one_free(hits);
  }
  pthread_mutex_unlock(&kp->lock);
  return rc;
}
