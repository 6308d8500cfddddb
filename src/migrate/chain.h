/* chain: the migration from agent-inbox to ONE as a chain of steps, run up
 * and down on a live database.
 *
 * The steps (migrate/steps.c): expand (builds the new indexes in short
 * batches, then puts the one-expand schema in force),
 * backfills (rewrite documents in bounded batches), contract (moves the
 * fields ONE has no place for into migrationLegacy and puts the one schema
 * in force). Their order is the plan; the position is the last step done.
 *
 * How a step runs, in both directions:
 *   - one migration at a time: a lock in the database (migrate.lock) names
 *     its holder; a second runner is refused with who holds it;
 *   - an online backup of the database into the backup folder first;
 *   - a backfill walks its tables in id order, then the documents created
 *     since it began (walk_page in chain.c), in batches of a few
 *     milliseconds each; each batch is one transaction that writes the
 *     documents, an undo record of exactly what it changed (journal
 *     "undo:<step>") and the checkpoint, so a killed run resumes where it
 *     stopped and ends identical. Batches commit without a sync (atomic,
 *     and redone if a power failure loses them); the step's last
 *     transaction is synced, which makes the whole step durable;
 *   - down applies the undo records newest first: a field goes back to its
 *     old value where it still holds what the step wrote (a later write by
 *     the service is kept and counted), documents the step created are
 *     deleted;
 *   - every start, end, failure and verification goes to the migration log
 *     (journal "migration.log").
 * The service keeps serving throughout: each batch is a short transaction
 * like any request's. */
#ifndef ONE_MIGRATE_CHAIN_H
#define ONE_MIGRATE_CHAIN_H

#include <jansson.h>
#include <stddef.h>

#include "store/store.h"
#include "util/err.h"

struct migrate_opts {
  size_t batch;              /* the most documents a transaction writes (default 1000) */
  const char *backup_dir;    /* default: "backups" beside the database */
  unsigned pause_ms;         /* a rest between two batches, leaving the lock to the service
                              * (default: a twentieth of the batch's time, at least 0.25 ms) */
  const char *db_path;       /* for naming backups */
  /* progress of the running step: done of total documents */
  void (*progress)(void *arg, const char *step, size_t done, size_t total);
  void *arg;
  /* tests: the process kills itself with SIGKILL when it has rewritten (or,
   * down, restored) this many documents, in the middle of a transaction
   * (0: never) */
  size_t kill_at;
  unsigned batch_ms;         /* how long a batch may take, about (default 2 ms): the
                              * number of documents per batch follows from it */
  /* asked after each batch (may be NULL): nonzero ends the run there with
   * E_STOPPED (its log says "stop"); it goes on from there when run again */
  int (*stop)(void *arg);
};

/* The folder backups go to: override when given, else backups/ beside the
 * database at db_path. */
void migrate_backup_dir(const char *db_path, const char *override, char *out, size_t n);

/* The plan: [{"name","kind","summary","schema"}] in order (a new value). */
json_t *migrate_plan(void);

/* Where the database stands: {"schema", "position" (steps done), "count",
 * "steps": [{"name", "kind", "summary", "state", "processed", "changed",
 * "finished"}], "lock", "verified"} (a new value in *out). */
int migrate_status(struct store *s, json_t **out, struct err *err);

/* Runs the steps after the current position up to and including `to` (a
 * step name; NULL: every step but contract). Contract runs only through
 * migrate_contract. */
int migrate_up(struct store *s, const char *to, const struct migrate_opts *o, struct err *err);

/* Reverses steps from the current position down to just after `to` (a step
 * name, or "agent-inbox" / NULL for all of them). */
int migrate_down(struct store *s, const char *to, const struct migrate_opts *o, struct err *err);

/* Runs the contract step: refused without confirm, and unless the last
 * verification passed at the current position. */
int migrate_contract(struct store *s, int confirm, const struct migrate_opts *o,
                     struct err *err);

/* The number of steps done (the position in the chain). */
int migrate_position(struct store *s, size_t *pos, struct err *err);

/* Records the baseline verify compares with: per table, the document count
 * and a checksum of the fields no step writes. Taken before the first step. */
int migrate_baseline(struct store *s, struct err *err);

/* The seed of the baseline (empty when none was taken): created documents'
 * ids derive from it (migrate/steps.h). */
#define MIGRATE_SEED_MAX 33
int migrate_seed(struct store_tx *tx, char seed[MIGRATE_SEED_MAX], struct err *err);

/* Checks the database at its position (migrate/verify.c): {"ok", "schema",
 * "position", "problems" (invalid documents and dangling references by
 * table), "incomplete" (backfills with work left), "changed" (tables whose
 * count or checksum moved from the baseline), "writtenByService",
 * "migrationLegacy" (values kept aside)}. Records the outcome for contract
 * and in the log. */
int migrate_verify(struct store *s, json_t **report, struct err *err);

/* Appends {"at", "step", "event", ...extra} to the migration log inside tx
 * (takes the reference to extra, which may be NULL). */
int migrate_log_add(struct store_tx *tx, const char *step, const char *event, json_t *extra,
                    struct err *err);

/* The migration log, oldest first (a new array in *out). */
int migrate_log(struct store *s, json_t **out, struct err *err);

#endif
