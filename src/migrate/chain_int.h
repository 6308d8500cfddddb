/* chain_int: what the chain's two halves share: the engine that runs steps
 * (chain.c) and the walk through a step's documents (walk.c). */
#ifndef ONE_MIGRATE_CHAIN_INT_H
#define ONE_MIGRATE_CHAIN_INT_H

#include <jansson.h>

#include "migrate/chain.h"
#include "migrate/steps.h"

/* A step's state in the database (a new object; {"state":"pending"} when it
 * has none), and setting it (NULL: back to pending). */
json_t *chain_state_get(struct store_tx *tx, const char *step);
int chain_state_set(struct store_tx *tx, const char *step, const json_t *st, struct err *err);
/* Appends an entry to the migration log in a transaction of its own;
 * steals extra (may be NULL). */
int chain_log_event(struct store *s, const char *step, const char *event, json_t *extra,
                    struct err *err);

/* A backfill's or contract's walk up: every document of st's tables
 * rewritten, in batches, resuming where the step's state says. copying
 * (may be NULL): the backup before the step, still copying, which the walk
 * may run beside (walk.c says when) or wait for; the caller finishes it. */
int walk_up(struct store *s, const struct mstep *st, const struct migrate_opts *o,
            struct store_backup *copying, struct err *err);
/* The walk down: the step's undo records applied newest first. */
int walk_down(struct store *s, const struct mstep *st, const struct migrate_opts *o,
              struct err *err);
/* Expand's new indexes, built ahead of its schema in paced batches. */
int walk_build_indexes(struct store *s, const struct mstep *st, const struct migrate_opts *o,
                       struct err *err);

#endif
