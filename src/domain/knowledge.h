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
#include "util/textvec.h"

#define KNOWLEDGE_MAX_RESULTS 50
#define KNOWLEDGE_DEFAULT_RESULTS 5
#define KNOWLEDGE_MAX_OWNERS 16

/* The search spaces ONE keeps (for store_options.search): "knowledge"
 * (content, per ownerId, vectors) and "messages" (content, per
 * conversationId, vectors only where a message brings its own). */
const struct store_search_space *knowledge_spaces(void);
/* Messages get the built-in embedder's vector too (ONE_MESSAGE_VECTORS=1;
 * 1.5 KB a message), so that a conversation is searched by meaning as well
 * as by words; without it only a message that brings its own vector has
 * one. Call before opening a store. */
void knowledge_vectorise_messages(int on);

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
 * id), with tags (may be NULL) and its vector from the remote embedder
 * (NULL: none yet); *out (may be NULL) receives it. */
int knowledge_add_tx(struct store_tx *tx, const char *owner_id, const char *content,
                     const json_t *tags, const float *vector, json_t **out, struct err *err);

/* --- remote vectors ---
 * With a remote embedder registered (agents/embeddings.h, by `one serve`),
 * every knowledge vector comes from it, with its model in vectorModel, and
 * queries are embedded by it too, so that all the vectors a search compares
 * come from one model. An item written without a current one (added by a
 * tool inside its transaction, changed through /tables, added before the
 * embedder was configured, or while the service was down) gets a
 * KNOWLEDGE_EMBED_JOB, keyed by the item and its content's hash; until the
 * job has run, the item keeps its former vector (or the built-in one). */
#define KNOWLEDGE_EMBED_JOB "knowledge.embed"

struct knowledge_embedder {
  const char *model;
  int (*embed)(void *arg, const char *text, float out[TEXTVEC_DIM], struct err *err);
  void *arg;
};

/* Registers e (NULL: back to the built-in embedder). Call before serving:
 * it is read without a lock. */
void knowledge_use_embedder(const struct knowledge_embedder *e);
/* The registered model, or NULL for the built-in embedder. */
const char *knowledge_vector_model(void);
/* The vector of text: the remote embedder's when one is registered (an
 * error when it fails), else the built-in one's. */
int knowledge_embed(const char *text, float out[TEXTVEC_DIM], struct err *err);
/* After a write of document id of table (before: as it was, NULL for an
 * insert): queues the item's embedding when its vector is not current. 0
 * for other tables, or with no remote embedder. */
int knowledge_sync(struct store_tx *tx, const char *table, const char *id, const json_t *before,
                   struct err *err);
/* The hash of content that KNOWLEDGE_EMBED_JOB carries, as 16 hex digits. */
void knowledge_content_hash(const char *content, char out[17]);
/* Queues the embedding of every item whose vector is not the registered
 * model's, up to limit a call (*more: whether any is left; cursor: where
 * to go on, NULL to start, one_free). For `one serve` at start. */
int knowledge_requeue(struct store *s, size_t limit, char **cursor, int *more, size_t *queued,
                      struct err *err);

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
