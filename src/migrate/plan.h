/* plan: the migration plan from agent-inbox to ONE, as data.
 *
 * For now this holds what the plan does about each finding of the gap
 * analysis (plan_resolution); the chain of steps that carries it out is
 * built on the same table. */
#ifndef ONE_MIGRATE_PLAN_H
#define ONE_MIGRATE_PLAN_H

/* How the plan resolves the finding on table.name (name "" for the table
 * itself), or NULL when the plan says nothing (a safe change). */
const char *plan_resolution(const char *table, const char *name);

#endif
