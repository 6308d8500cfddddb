/* hnsw: an approximate nearest-neighbour index over vectors of length 1,
 * by inner product (the cosine), after Malkov and Yashunin's Hierarchical
 * Navigable Small World graphs: each vector is a node on layers 0..L (L
 * drawn so that each layer holds about 1/M of the one below), linked to
 * its closest nodes on each (at most 2M on layer 0, M above, chosen with
 * the paper's heuristic that keeps links pointing in different
 * directions); a search descends greedily from the top and widens to ef
 * candidates on layer 0. Nodes are removed by marking: they still route
 * searches but are never returned.
 *
 * Not thread-safe: a search writes the visit marks; callers hold a lock.
 * Memory: dim floats and about 2M + M/(M-1)·M links a node. */
#ifndef ONE_UTIL_HNSW_H
#define ONE_UTIL_HNSW_H

#include <stddef.h>
#include <stdint.h>

struct hnsw;

struct hnsw_hit {
  uint32_t node;
  float score;      /* inner product with the query: larger is closer */
};

/* A new empty index (m: links a node keeps above layer 0, 4 to 64;
 * ef_construction: candidates weighed when linking a new node); NULL when
 * out of memory or the numbers are out of range. seed fixes the layers. */
struct hnsw *hnsw_new(size_t dim, size_t m, size_t ef_construction, uint64_t seed);
void hnsw_free(struct hnsw *h);  /* accepts NULL */
/* Adds v (dim floats, copied) as the next node: its number in *node.
 * 0, or -1 when out of memory (the index is unchanged). */
int hnsw_add(struct hnsw *h, const float *v, uint32_t *node);
/* Marks node removed (numbers stay: the next node is not renumbered). */
void hnsw_remove(struct hnsw *h, uint32_t node);
/* Up to k closest live nodes to q, best first, weighing max(ef, k)
 * candidates; returns how many. -1 when out of memory. */
int hnsw_search(struct hnsw *h, const float *q, size_t k, size_t ef, struct hnsw_hit *out);
size_t hnsw_count(const struct hnsw *h);    /* nodes added, removed ones included */
size_t hnsw_live(const struct hnsw *h);     /* nodes not removed */
size_t hnsw_bytes(const struct hnsw *h);    /* memory held, roughly */

#endif
