/* op: the shape of one domain operation, shared by every resource module
 * (users, agents, conversations, tables). The HTTP handler (or the CLI)
 * fills what the operation needs, calls it, and renders op.out.
 *
 * Values in `in` and `out` are in the in-memory encoding (util/jv.h);
 * handlers convert at the boundary. Every operation checks the actor's
 * permission itself: E_NOTFOUND when the actor may not know the thing
 * exists, E_PERM when they may see it but not do this. */
#ifndef ONE_DOMAIN_OP_H
#define ONE_DOMAIN_OP_H

#include <jansson.h>
#include <stddef.h>

#include "domain/actor.h"
#include "store/store.h"

#define OP_DEFAULT_PAGE 50

struct op {
  const struct actor *who;
  const char *id;        /* the resource, e.g. a conversation id */
  const char *sub;       /* a resource inside it, e.g. a participant id */
  const char *table;     /* /tables/{table} */
  const json_t *in;      /* the request body (borrowed), or NULL */
  /* lists */
  const char *index;     /* /tables: the index to list by */
  const json_t *eq;      /* /tables: equality values (array) */
  int desc;
  const char *cursor;
  size_t limit;          /* 0: OP_DEFAULT_PAGE */
  const char *filter;    /* a list's filter where it has one (?state= of jobs) */
  double from, to;       /* a time range (?from= and ?to=, ms since 1970) */
  int has_from, has_to;
  /* results */
  json_t *out;           /* new reference, owned by the caller after the call */
  char *text;            /* or the result as wire JSON text (one_free), for hot
                            paths that forward stored documents without parsing */
  size_t text_len;
  int created;           /* a new document was made (201) */
};

/* A page: {"items": items (stolen), "cursor": cursor or null, "done": done}. */
json_t *op_page(json_t *items, const char *cursor, int done);
/* Sets op->out to the page of table's index (eq: its leading values, may be
 * NULL) at op->cursor, op_limit(op) long, as op_page makes it. */
int op_list(struct store_tx *tx, struct op *op, const char *table, const char *index,
            const json_t *eq, struct err *err);
/* The page size asked for, bounded to 1..STORE_MAX_PAGE. */
size_t op_limit(const struct op *op);
/* E_SCHEMA with a detail for every field of in not in allowed (a
 * NULL-ended list), named table.field; 0 when all are allowed. */
int op_only_fields(const json_t *in, const char *table, const char *const *allowed,
                   struct err *err);
/* A patch for store_patch from a PATCH body: a copy of in where JSON null
 * means "remove this field" (new reference). */
json_t *op_patch(const json_t *in);
/* E_SCHEMA unless in is an object. */
int op_need_object(const json_t *in, struct err *err);

#endif
