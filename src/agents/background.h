/* background: the migration run by the server's scheduler, so that an
 * administrator starts it from the API (POST /api/v1/admin/migrations/…)
 * and `one serve` keeps serving meanwhile.
 *
 * A migration job (domain/admin.h, ADMIN_MIGRATION_JOB) runs on a thread of
 * its own, at a lower priority, while the scheduler keeps its lease; the
 * steps are those of `one migrate` (migrate/chain.h), with their lock,
 * backups, batches and log. A failed step fails the job with its error (an
 * operator looks, as with the command). When the server stops, the running
 * step stops after its current batch and the job goes back to the queue;
 * after a crash its lease ends: either way the next start goes on from the
 * step's last checkpoint. */
#ifndef ONE_AGENTS_BACKGROUND_H
#define ONE_AGENTS_BACKGROUND_H

#include "agents/sched.h"

struct background;

/* Registers the migration job on sc (before sched_start); db_path names
 * the database for its backups (backups/ beside it). */
int background_new(struct store *s, struct sched *sc, const char *db_path,
                   struct background **out, struct err *err);
/* Asks a running migration to stop after its batch and waits for it; call
 * before sched_stop. Accepts NULL. */
void background_free(struct background *b);

#endif
