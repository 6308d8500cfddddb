/* hnsw: see hnsw.h. */
#include "util/hnsw.h"

#include "util/mem.h"
#include "util/textvec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEVEL 16

struct hnsw {
  size_t dim, m, m0, efc;
  double ml;               /* 1 / ln(m): the level distribution's scale */
  uint64_t rng;
  float *vecs;             /* n * dim */
  uint8_t *level, *dead;
  uint32_t **links;        /* per node: [count, m0 slots] then per upper layer [count, m slots] */
  uint32_t *mark;          /* visit marks of the current search */
  uint32_t epoch;
  size_t n, cap, live;
  uint32_t entry;
  int top;                 /* the entry's level; -1 when empty */
};

struct heap {
  struct hnsw_hit *v;
  size_t n, cap;
  int max;                 /* 1: best on top; 0: worst on top */
};

static int before(const struct heap *h, const struct hnsw_hit *a, const struct hnsw_hit *b)
{
  return h->max ? a->score > b->score : a->score < b->score;
}

static int heap_push(struct heap *h, uint32_t node, float score)
{
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    struct hnsw_hit *v = one_realloc(h->v, cap * sizeof *v);
    if (!v)
      return -1;
    h->v = v;
    h->cap = cap;
  }
  size_t i = h->n++;
  h->v[i] = (struct hnsw_hit){node, score};
  while (i > 0 && before(h, &h->v[i], &h->v[(i - 1) / 2])) {
    struct hnsw_hit t = h->v[i];
    h->v[i] = h->v[(i - 1) / 2];
    h->v[(i - 1) / 2] = t;
    i = (i - 1) / 2;
  }
  return 0;
}

static struct hnsw_hit heap_pop(struct heap *h)
{
  struct hnsw_hit top = h->v[0];
  h->v[0] = h->v[--h->n];
  for (size_t i = 0;;) {
    size_t l = 2 * i + 1, r = l + 1, best = i;
    if (l < h->n && before(h, &h->v[l], &h->v[best]))
      best = l;
    if (r < h->n && before(h, &h->v[r], &h->v[best]))
      best = r;
    if (best == i)
      break;
    struct hnsw_hit t = h->v[i];
    h->v[i] = h->v[best];
    h->v[best] = t;
    i = best;
  }
  return top;
}

static float dot(const float *a, const float *b, size_t n) { return textvec_dot(a, b, n); }

static const float *vec(const struct hnsw *h, uint32_t node) { return h->vecs + (size_t)node * h->dim; }

static uint32_t *links_at(const struct hnsw *h, uint32_t node, int layer)
{
  uint32_t *b = h->links[node];
  return layer == 0 ? b : b + 1 + h->m0 + (size_t)(layer - 1) * (1 + h->m);
}

struct hnsw *hnsw_new(size_t dim, size_t m, size_t ef_construction, uint64_t seed)
{
  if (!dim || m < 4 || m > 64 || !ef_construction)
    return NULL;
  struct hnsw *h = one_calloc(1, sizeof *h);
  if (!h)
    return NULL;
  h->dim = dim;
  h->m = m;
  h->m0 = 2 * m;
  h->efc = ef_construction;
  h->ml = 1.0 / log((double)m);
  h->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
  h->top = -1;
  return h;
}

void hnsw_free(struct hnsw *h)
{
  if (!h)
    return;
  for (size_t i = 0; i < h->n; i++)
    one_free(h->links[i]);
  one_free(h->links);
  one_free(h->vecs);
  one_free(h->level);
  one_free(h->dead);
  one_free(h->mark);
  one_free(h);
}

size_t hnsw_count(const struct hnsw *h) { return h->n; }
size_t hnsw_live(const struct hnsw *h) { return h->live; }

size_t hnsw_bytes(const struct hnsw *h)
{
  size_t b = sizeof *h + h->cap * (h->dim * sizeof(float) + 2 + sizeof(uint32_t *) + 4);
  for (size_t i = 0; i < h->n; i++)
    b += (1 + h->m0 + (size_t)h->level[i] * (1 + h->m)) * sizeof(uint32_t);
  return b;
}

void hnsw_remove(struct hnsw *h, uint32_t node)
{
  if (node < h->n && !h->dead[node]) {
    h->dead[node] = 1;
    h->live--;
  }
}

static double uniform(struct hnsw *h)
{
  h->rng ^= h->rng >> 12;
  h->rng ^= h->rng << 25;
  h->rng ^= h->rng >> 27;
  return (double)((h->rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static int grow(struct hnsw *h)
{
  if (h->n < h->cap)
    return 0;
  size_t cap = h->cap ? 2 * h->cap : 1024;
  float *v = one_realloc(h->vecs, cap * h->dim * sizeof *v);
  if (v)
    h->vecs = v;
  uint8_t *l = v ? one_realloc(h->level, cap) : NULL;
  if (l)
    h->level = l;
  uint8_t *d = l ? one_realloc(h->dead, cap) : NULL;
  if (d)
    h->dead = d;
  uint32_t **k = d ? one_realloc(h->links, cap * sizeof *k) : NULL;
  if (k)
    h->links = k;
  uint32_t *mk = k ? one_realloc(h->mark, cap * sizeof *mk) : NULL;
  if (!mk)
    return -1; /* what grew stays grown; cap says what all hold */
  memset(mk + h->cap, 0, (cap - h->cap) * sizeof *mk);
  h->mark = mk;
  h->cap = cap;
  return 0;
}

static void new_epoch(struct hnsw *h)
{
  if (++h->epoch == 0) { /* wrapped: old marks could read as new */
    memset(h->mark, 0, h->cap * sizeof *h->mark);
    h->epoch = 1;
  }
}

/* The ef closest nodes to q on layer from ep, into w (worst on top). */
static int search_layer(struct hnsw *h, const float *q, uint32_t ep, size_t ef, int layer,
                        struct heap *w)
{
  struct heap c = {NULL, 0, 0, 1};
  w->n = 0;
  w->max = 0;
  new_epoch(h);
  h->mark[ep] = h->epoch;
  float s = dot(q, vec(h, ep), h->dim);
  int rc = heap_push(&c, ep, s) || heap_push(w, ep, s) ? -1 : 0;
  while (!rc && c.n) {
    struct hnsw_hit best = heap_pop(&c);
    if (w->n >= ef && best.score < w->v[0].score)
      break;
    const uint32_t *l = links_at(h, best.node, layer);
    for (uint32_t i = 0; !rc && i < l[0]; i++) {
      uint32_t e = l[1 + i];
      if (h->mark[e] == h->epoch)
        continue;
      h->mark[e] = h->epoch;
      float se = dot(q, vec(h, e), h->dim);
      if (w->n < ef || se > w->v[0].score) {
        rc = heap_push(&c, e, se) || heap_push(w, e, se) ? -1 : 0;
        if (!rc && w->n > ef)
          heap_pop(w);
      }
    }
  }
  one_free(c.v);
  return rc;
}

static int by_score(const void *a, const void *b)
{
  const struct hnsw_hit *x = a, *y = b;
  return x->score < y->score ? 1 : x->score > y->score ? -1 : (x->node > y->node) - (x->node < y->node);
}

/* The paper's heuristic: from cand (best first), up to m nodes, each kept
 * only if it is closer to the base than to every node kept before it. */
static size_t select_links(const struct hnsw *h, const struct hnsw_hit *cand, size_t n, size_t m,
                           uint32_t *out)
{
  size_t k = 0;
  for (size_t i = 0; i < n && k < m; i++) {
    int good = 1;
    for (size_t j = 0; good && j < k; j++)
      good = dot(vec(h, cand[i].node), vec(h, out[j]), h->dim) <= cand[i].score;
    if (good)
      out[k++] = cand[i].node;
  }
  return k;
}

/* Links from to node on layer, shrinking from's links by the heuristic
 * when they are full. */
static int link_back(struct hnsw *h, uint32_t from, uint32_t node, int layer)
{
  uint32_t *l = links_at(h, from, layer);
  size_t cap = layer == 0 ? h->m0 : h->m;
  if (l[0] < cap) {
    l[1 + l[0]++] = node;
    return 0;
  }
  struct hnsw_hit cand[1 + 128];
  size_t n = 0;
  for (uint32_t i = 0; i < l[0]; i++)
    cand[n++] = (struct hnsw_hit){l[1 + i], dot(vec(h, from), vec(h, l[1 + i]), h->dim)};
  cand[n++] = (struct hnsw_hit){node, dot(vec(h, from), vec(h, node), h->dim)};
  qsort(cand, n, sizeof *cand, by_score);
  l[0] = (uint32_t)select_links(h, cand, n, cap, l + 1);
  return 0;
}

int hnsw_add(struct hnsw *h, const float *v, uint32_t *node)
{
  if (h->n >= UINT32_MAX - 1 || grow(h))
    return -1;
  int lv = (int)floor(-log(1.0 - uniform(h)) * h->ml);
  if (lv > MAX_LEVEL)
    lv = MAX_LEVEL;
  uint32_t id = (uint32_t)h->n;
  size_t slots = 1 + h->m0 + (size_t)lv * (1 + h->m);
  uint32_t *block = one_calloc(slots, sizeof *block);
  if (!block)
    return -1;
  memcpy(h->vecs + (size_t)id * h->dim, v, h->dim * sizeof *v);
  h->links[id] = block;
  h->level[id] = (uint8_t)lv;
  h->dead[id] = 0;
  h->n++;
  h->live++;
  *node = id;
  if (h->top < 0) {
    h->entry = id;
    h->top = lv;
    return 0;
  }
  uint32_t ep = h->entry;
  struct heap w = {NULL, 0, 0, 0};
  int rc = 0;
  for (int l = h->top; !rc && l > lv; l--) {
    rc = search_layer(h, v, ep, 1, l, &w);
    if (!rc)
      ep = w.v[0].node;
  }
  struct hnsw_hit *sorted = NULL;
  for (int l = lv < h->top ? lv : h->top; !rc && l >= 0; l--) {
    if ((rc = search_layer(h, v, ep, h->efc, l, &w)))
      break;
    one_free(sorted);
    sorted = one_malloc(w.n * sizeof *sorted);
    if (!sorted) {
      rc = -1;
      break;
    }
    memcpy(sorted, w.v, w.n * sizeof *sorted);
    qsort(sorted, w.n, sizeof *sorted, by_score);
    uint32_t *mine = links_at(h, id, l);
    mine[0] = (uint32_t)select_links(h, sorted, w.n, h->m, mine + 1);
    for (uint32_t i = 0; !rc && i < mine[0]; i++)
      rc = link_back(h, mine[1 + i], id, l);
    ep = sorted[0].node;
  }
  one_free(sorted);
  one_free(w.v);
  if (rc)
    return -1; /* the node is in, perhaps with fewer links: still searchable */
  if (lv > h->top) {
    h->entry = id;
    h->top = lv;
  }
  return 0;
}

int hnsw_search(struct hnsw *h, const float *q, size_t k, size_t ef, struct hnsw_hit *out)
{
  if (h->top < 0 || !k)
    return 0;
  if (ef < k)
    ef = k;
  uint32_t ep = h->entry;
  struct heap w = {NULL, 0, 0, 0};
  int rc = 0;
  for (int l = h->top; !rc && l > 0; l--) {
    rc = search_layer(h, q, ep, 1, l, &w);
    if (!rc)
      ep = w.v[0].node;
  }
  if (!rc)
    rc = search_layer(h, q, ep, ef, 0, &w);
  if (rc) {
    one_free(w.v);
    return -1;
  }
  qsort(w.v, w.n, sizeof *w.v, by_score);
  size_t n = 0;
  for (size_t i = 0; i < w.n && n < k; i++)
    if (!h->dead[w.v[i].node])
      out[n++] = w.v[i];
  one_free(w.v);
  return (int)n;
}
