/* admin: what administrators see and switch: the migration's state and the
 * feature flags. Every operation here is for administrators only (E_PERM). */
#ifndef ONE_DOMAIN_ADMIN_H
#define ONE_DOMAIN_ADMIN_H

#include "domain/op.h"

/* {"status": migrate_status, "failures": n, "log": the newest 50 entries,
 * newest first}. */
int admin_migrations(struct store *s, struct op *op, struct err *err);
/* {"items": flags_list}. */
int admin_flags_list(struct store *s, struct op *op, struct err *err);
/* op->id: the flag; op->in: {"on": true|false}. Answers the flag's row. */
int admin_flags_set(struct store *s, struct op *op, struct err *err);

/* Starts a migration action in the background, as a job of the server's
 * scheduler (kind ADMIN_MIGRATION_JOB, lane "migrate": one after another):
 * op->id is "up", "down", "verify" or "contract"; op->in (may be NULL)
 * {"to": step} for up and down, {"confirm": true} for contract. Answers the
 * job; its progress is in admin_migrations. */
#define ADMIN_MIGRATION_JOB "migrate.run"
int admin_migration_start(struct store *s, struct op *op, struct err *err);
/* The job queue: {"counts": {state: n}, "nextDue": ms or null, "items":
 * jobs newest first (op->filter: one state's), "cursor", "done"}. */
int admin_jobs(struct store *s, struct op *op, struct err *err);
/* Cancels job op->id (pending or running); answers the job. */
int admin_job_cancel(struct store *s, struct op *op, struct err *err);

#endif
