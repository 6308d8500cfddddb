/* fuse: see fuse.h. */
#include "domain/fuse.h"

#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fused *fused_of(struct fusion *f, const char *id)
{
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->v[i].id, id) == 0)
      return &f->v[i];
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 64;
    struct fused *v = one_realloc(f->v, cap * sizeof *v);
    if (!v)
      return NULL;
    f->v = v;
    f->cap = cap;
  }
  struct fused *x = &f->v[f->n++];
  memset(x, 0, sizeof *x);
  snprintf(x->id, sizeof x->id, "%s", id);
  return x;
}

int fuse_add(struct fusion *f, const struct store_hit *hits, size_t n, int bit)
{
  for (size_t r = 0; r < n; r++) {
    struct fused *x = fused_of(f, hits[r].id);
    if (!x)
      return E_NOMEM;
    x->in |= bit;
    x->score += 1.0 / (FUSE_K + (double)r + 1.0);
  }
  return 0;
}

static int by_score(const void *a, const void *b)
{
  const struct fused *x = a, *y = b;
  return x->score < y->score ? 1 : x->score > y->score ? -1 : strcmp(x->id, y->id);
}

void fuse_sort(struct fusion *f)
{
  if (f->n)
    qsort(f->v, f->n, sizeof *f->v, by_score);
}

void fuse_release(struct fusion *f)
{
  one_free(f->v);
  memset(f, 0, sizeof *f);
}
