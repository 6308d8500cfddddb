/* vindex: nearest-vector search over one scope of a store search space
 * (a knowledge owner): exact over every vector while the scope is small,
 * approximate (util/hnsw.h) once it holds VINDEX_MIN vectors or more.
 *
 * The approximate index of a scope is built on its first search, from the
 * vectors the reader's snapshot holds, and kept in this process for the
 * next ones (up to VINDEX_SCOPES scopes; the least recently used goes).
 * Before each search it is brought up to date from the change log as the
 * reader sees it: a document of the space's table that changed is taken
 * out and, when it still has a vector in the scope, put back; when the log
 * no longer reaches back to the index's place, or half its nodes are
 * removed ones, it is built again. Results are then checked against the
 * reader's snapshot by the caller (knowledge.c reads each document), so a
 * result is never a document the reader cannot see. Thread-safe. */
#ifndef ONE_DOMAIN_VINDEX_H
#define ONE_DOMAIN_VINDEX_H

#include "store/store.h"

#define VINDEX_MIN 1000     /* vectors from which a scope gets an approximate index */
#define VINDEX_SCOPES 32
#define VINDEX_EF 96        /* candidates a search weighs (at least k) */

/* Up to k ids closest to q (dim floats, length 1) among space's vectors in
 * scope, best first, into out (k slots); *n gets how many. *approx (may be
 * NULL) says whether the approximate index answered. */
int vindex_search(struct store_tx *tx, const char *space, const char *table, const char *scope,
                  const float *q, size_t dim, size_t k, struct store_hit *out, size_t *n,
                  int *approx, struct err *err);
/* Drops every kept index (tests; a process that wants its memory back). */
void vindex_reset(void);

#endif
