/* steps: the steps of the agent-inbox -> ONE chain, as data and rewrite
 * functions (the engine that runs them is migrate/chain.c).
 *
 * A rewrite sees one document and answers with a patch (fields to set,
 * store_undefined() to remove) or none. It may create documents through
 * mctx_insert, which records them so that down deletes them. It must be
 * idempotent: a document it already rewrote needs no patch, so a resumed or
 * repeated run changes nothing twice. docs/migrations.md says why each
 * conversion is what it is. */
#ifndef ONE_MIGRATE_STEPS_H
#define ONE_MIGRATE_STEPS_H

#include <jansson.h>

#include "store/store.h"

enum mstep_kind { MSTEP_EXPAND, MSTEP_BACKFILL, MSTEP_CONTRACT };

struct mctx {
  struct store_tx *tx;       /* the batch's write transaction */
  const char *step;
  json_t *created;           /* ids created in this batch, for the undo record */
  json_t *memo;              /* per-run memo a step may use (an object) */
  const struct schema *target; /* contract: the schema that will be in force */
  const char *seed;          /* the baseline's seed: what created ids derive from */
  double at;                 /* _creationTime of the document being rewritten */
  const char *at_text;       /* a text rewrite: _creationTime as stored (at_len bytes) */
  size_t at_len;
  /* A text rewrite may set this to its patch as jv_dumps prints it, when it
   * has that text already (one_free; the walk takes it), so that nothing is
   * printed twice. */
  char *patch_text;
};

typedef int (*mstep_rewrite)(struct mctx *m, const char *table, const json_t *doc,
                             json_t **patch, struct err *err);
/* The same from the document's stored text, for a rewrite that needs only a
 * field or two of it (util/jtext.h reads them), so that the walk parses
 * nothing. */
typedef int (*mstep_rewrite_text)(struct mctx *m, const char *table, const char *text,
                                  size_t len, json_t **patch, struct err *err);

struct mstep {
  const char *name;
  enum mstep_kind kind;
  const char *summary;
  const char *schema_up;     /* expand, contract: the schema up puts in force */
  const char *schema_down;   /* and the one down puts back */
  const char *const *tables; /* backfill, contract: the tables walked, in order */
  mstep_rewrite rewrite;
  const char *const *touches; /* the fields the step may write (verify's checksum skips them) */
  /* When not NULL: the stored text of every document the rewrite changes
   * holds this, so the walk skips the others without parsing them. Sound
   * because the store keeps documents as compact JSON it writes itself: a
   * field "kind" with the string value "system" is always the bytes
   * "kind":"system". (A filter on absence would not be: a nested field of
   * the same name would hide a document that needs the rewrite.) */
  const char *needle;
  mstep_rewrite_text rewrite_text; /* in place of rewrite when set */
};

/* The chain, in order. */
const struct mstep *steps_list(size_t *n);

/* An agent's prompt folded from its legacy fields (personality, goal,
 * systemPrompt, instructions; one as it is, several labelled), or NULL when
 * it has none of them (one_free the result). */
char *steps_agent_prompt(const json_t *agent);

/* Sets m->at, at_text and at_len from the _creationTime of stored text t,
 * before a text rewrite sees t. */
void mctx_set_at(struct mctx *m, const char *t, size_t n);

/* Inserts a document on behalf of the running step and records it. key
 * names what the document stands for (a tool's name, the conversation a
 * participant row is for...): its id derives from the seed, the table and
 * key, and its _creationTime is that of the document being rewritten, so a
 * run that was killed and resumed creates exactly the documents an
 * uninterrupted run creates. */
int mctx_insert(struct mctx *m, const char *table, const char *key, const json_t *fields,
                char id[CID_MAX], struct err *err);

#endif
