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

/* The job queue: {"counts": {state: n}, "nextDue": ms or null, "items":
 * jobs newest first (op->filter: one state's), "cursor", "done"}. */
int admin_jobs(struct store *s, struct op *op, struct err *err);
/* Cancels job op->id (pending or running); answers the job. */
int admin_job_cancel(struct store *s, struct op *op, struct err *err);

#endif
