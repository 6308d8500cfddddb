/* fuse: reciprocal rank fusion of ranked hit lists (full text and
 * vectors), as knowledge search and conversation search combine them: each
 * list adds 1 / (FUSE_K + rank) to the documents it holds (rank counted from
 * 1), and the sum orders them. */
#ifndef ONE_DOMAIN_FUSE_H
#define ONE_DOMAIN_FUSE_H

#include <stddef.h>

#include "store/store.h"

#define FUSE_K 60.0 /* the damping of reciprocal rank fusion (the usual value) */

struct fused {
  char id[CID_MAX];
  double score;  /* the fused score */
  int in;        /* the lists it was in, as the bits given to fuse_add */
};

struct fusion {
  struct fused *v;
  size_t n, cap;
};

/* Adds the n hits of a list (best first), marked with bit. E_NOMEM. */
int fuse_add(struct fusion *f, const struct store_hit *hits, size_t n, int bit);
/* Orders f best first (ties by id). */
void fuse_sort(struct fusion *f);
void fuse_release(struct fusion *f);

#endif
