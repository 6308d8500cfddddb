/* Tests of the approximate vector index (util/hnsw.c): recall@10 against
 * an exact search on clustered vectors, removed nodes never returned,
 * the edge cases (empty, k larger than the index, bad parameters). */
#include "util/hnsw.h"
#include "util/textvec.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIM 48
#define N 6000

static uint64_t rng = 42;
static double unit(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

/* N vectors around 60 centres, of length 1. */
static float *clustered(void)
{
  float *c = malloc(60 * DIM * sizeof *c), *v = malloc((size_t)N * DIM * sizeof *v);
  for (size_t i = 0; i < 60 * DIM; i++)
    c[i] = (float)(unit() - 0.5);
  for (size_t i = 0; i < N; i++) {
    size_t k = (size_t)(unit() * 60);
    for (size_t d = 0; d < DIM; d++)
      v[i * DIM + d] = c[k * DIM + d] + (float)(unit() - 0.5) * 0.6f;
    textvec_normalize(v + i * DIM, DIM);
  }
  free(c);
  return v;
}

static int by_score(const void *a, const void *b)
{
  const struct hnsw_hit *x = a, *y = b;
  return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

Test(hnsw, recall_at_10_against_exact_search)
{
  float *v = clustered();
  struct hnsw *h = hnsw_new(DIM, 16, 200, 7);
  cr_assert(h);
  for (uint32_t i = 0; i < N; i++) {
    uint32_t node;
    cr_assert_eq(hnsw_add(h, v + (size_t)i * DIM, &node), 0);
    cr_assert_eq(node, i);
  }
  cr_assert_eq(hnsw_count(h), N);
  size_t found = 0, queries = 200;
  struct hnsw_hit *all = malloc(N * sizeof *all), got[10];
  for (size_t q = 0; q < queries; q++) {
    float query[DIM];
    for (size_t d = 0; d < DIM; d++)
      query[d] = (float)(unit() - 0.5);
    textvec_normalize(query, DIM);
    for (uint32_t i = 0; i < N; i++)
      all[i] = (struct hnsw_hit){i, textvec_dot(query, v + (size_t)i * DIM, DIM)};
    qsort(all, N, sizeof *all, by_score);
    int n = hnsw_search(h, query, 10, 64, got);
    cr_assert_eq(n, 10);
    for (int i = 0; i < n; i++) {
      cr_assert(i == 0 || got[i - 1].score >= got[i].score, "best first");
      for (int j = 0; j < 10; j++)
        found += got[i].node == all[j].node;
    }
  }
  double recall = (double)found / (double)(queries * 10);
  cr_log_info("recall@10 = %.3f (ef 64, M 16, %d vectors of %d)", recall, N, DIM);
  cr_assert_geq(recall, 0.95, "recall@10 %.3f", recall);
  free(all);
  free(v);
  hnsw_free(h);
}

Test(hnsw, removed_nodes_are_never_returned)
{
  float *v = clustered();
  struct hnsw *h = hnsw_new(DIM, 8, 64, 1);
  for (uint32_t i = 0; i < 2000; i++) {
    uint32_t node;
    cr_assert_eq(hnsw_add(h, v + (size_t)i * DIM, &node), 0);
  }
  for (uint32_t i = 0; i < 2000; i += 2)
    hnsw_remove(h, i);
  hnsw_remove(h, 0); /* twice is once */
  cr_assert_eq(hnsw_live(h), 1000);
  struct hnsw_hit got[20];
  for (uint32_t q = 0; q < 2000; q += 97) {
    int n = hnsw_search(h, v + (size_t)q * DIM, 20, 80, got);
    cr_assert_gt(n, 0);
    for (int i = 0; i < n; i++)
      cr_assert_eq(got[i].node % 2, 1, "node %u was removed", got[i].node);
    if (q % 2)
      cr_assert_eq(got[0].node, q, "a live vector finds itself first");
  }
  free(v);
  hnsw_free(h);
}

Test(hnsw, edge_cases)
{
  cr_assert_null(hnsw_new(0, 16, 100, 1));
  cr_assert_null(hnsw_new(8, 2, 100, 1));
  cr_assert_null(hnsw_new(8, 65, 100, 1));
  struct hnsw *h = hnsw_new(4, 4, 10, 1);
  float q[4] = {1, 0, 0, 0};
  struct hnsw_hit got[5];
  cr_assert_eq(hnsw_search(h, q, 5, 10, got), 0, "empty");
  uint32_t node;
  cr_assert_eq(hnsw_add(h, q, &node), 0);
  cr_assert_eq(hnsw_search(h, q, 5, 1, got), 1, "k above the count");
  cr_assert_float_eq(got[0].score, 1.0f, 1e-6);
  cr_assert_eq(hnsw_search(h, q, 0, 10, got), 0);
  hnsw_free(h);
  hnsw_free(NULL);
}
