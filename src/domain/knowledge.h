/* knowledge: the knowledge base (spec schema-one.md, "knowledge"): what a
 * user or an agent knows, as short texts with tags, and the search over it
 * that people, the tools searchKnowledge and addKnowledge, and the agents'
 * context use.
 *
 * Search runs in one of three modes: "text" (words, stemmed, ranked by
 * BM25; SQLite FTS5), "vector" (meaning: the cosine of the item's vector
 * with the query's, both from the built-in embedder util/textvec.h unless
 * the item brought a vector of its own; exact over an owner's items, from
 * an approximate index once the owner has many, domain/vindex.h) and
 * "hybrid", the default: both lists merged by reciprocal rank fusion, so an
 * item either finds well ranks high and one both find ranks highest. It is
 * confined to owners (users and agents) the searcher may read, and filtered
 * by tags (an item must carry all of them). Messages are searchable by
 * their words too (store space "messages", per conversation). */
#ifndef ONE_DOMAIN_KNOWLEDGE_H
#define ONE_DOMAIN_KNOWLEDGE_H

#include <jansson.h>

#include "domain/op.h"
#include "store/store.h"

#define KNOWLEDGE_MAX_RESULTS 50
#define KNOWLEDGE_DEFAULT_RESULTS 5
#define KNOWLEDGE_MAX_OWNERS 16

/* The search spaces ONE keeps (for store_options.search): "knowledge"
 * (content, per ownerId, vectors) and "messages" (content, per
 * conversationId, vectors only where a message brings its own). */
const struct store_search_space *knowledge_spaces(void);

struct knowledge_query {
  const char *query;          /* the words or question */
  const char *mode;           /* "text", "vector" or "hybrid" (NULL: hybrid) */
  const char *owners[KNOWLEDGE_MAX_OWNERS]; /* user or agent ids searched */
  size_t nowners;
  const json_t *tags;         /* an array of strings all results carry, or NULL */
  size_t limit;               /* 0: KNOWLEDGE_DEFAULT_RESULTS; at most KNOWLEDGE_MAX_RESULTS */
};

/* The best items for q in tx, as who may read them, into *items (a new
 * array of {_id, ownerType, ownerId, content, tags?, createdAt, score,
 * matchedBy: "text"|"vector"|"both"}), best first. The owners are not
 * checked here: callers name only owners who may read (knowledge_owner_ok). */
int knowledge_search_tx(struct store_tx *tx, const struct actor *who,
                        const struct knowledge_query *q, json_t **items, struct err *err);
/* 0 when who may read the knowledge of owner (a user or an agent id): their
 * own, an agent they may use, anything for an administrator; E_NOTFOUND
 * otherwise. *type gets "user" or "agent". */
int knowledge_owner_ok(struct store_tx *tx, const struct actor *who, const char *owner,
                       const char **type, struct err *err);
/* Adds an item owned by owner_id (a user or an agent: the type follows the
 * id), with tags (may be NULL); *out (may be NULL) receives it. */
int knowledge_add_tx(struct store_tx *tx, const char *owner_id, const char *content,
                     const json_t *tags, json_t **out, struct err *err);

/* --- the API's operations (domain/op.h) --- */
/* Items of an owner, newest first, paged: ?owner (op.filter) or mine. */
int knowledge_list(struct store *s, struct op *op, struct err *err);
/* {content, tags?, agentId?}: mine, or an agent's I may edit. */
int knowledge_create(struct store *s, struct op *op, struct err *err);
/* Changes and deletions go through /api/v1/tables/knowledge (domain/tables.h)
 * under the knowledge policy; the store keeps the search rows in step. */
/* {query, mode?, owners?: [id], tags?: [string], limit?}: owners default
 * to me. {"items": [...]} */
int knowledge_search(struct store *s, struct op *op, struct err *err);

#endif
