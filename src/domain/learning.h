/* learning: people's way through a learning flow (spec schema-one.md,
 * "learningFlows", "assignments", "progress"): who is assigned which step,
 * with which role, and how far each person has come on each step.
 *
 * Progress per person (a user or an agent) per step of a flow moves through
 * a state machine; anything else is refused with a message naming both
 * states:
 *
 *   Not Started --> In Progress | Blocked | Skipped
 *   In Progress --> Completed | Blocked | Skipped | Not Started
 *   Blocked     --> In Progress | Skipped | Not Started
 *   Completed   --> In Progress (reopened)
 *   Skipped     --> In Progress | Not Started
 *
 * Timestamps follow: startedAt is set when a step first goes In Progress
 * (or straight to Completed), completedAt when it is Completed and dropped
 * when it is reopened; going back to Not Started drops both. Setting the
 * state a step is in already changes nothing. Every function runs inside
 * the caller's write transaction. */
#ifndef ONE_DOMAIN_LEARNING_H
#define ONE_DOMAIN_LEARNING_H

#include <jansson.h>

#include "store/store.h"
#include "util/cid.h"

/* The default flow (the seeded Elevate flow) into out, "" when none. */
int learning_default_flow(struct store_tx *tx, char out[CID_MAX], struct err *err);

struct progress_change {
  const char *flow;       /* a learningFlows id */
  const char *step;       /* one of the flow's steps ("Foundation"…) */
  const char *user;       /* whose progress: a user, or */
  const char *agent;      /* an agent (exactly one of the two) */
  const char *status;     /* the new state */
  const char *notes;      /* may be NULL */
};

/* Moves the progress; *out (may be NULL) receives the progress row (a new
 * reference). E_NOTFOUND for an unknown flow or a step it lacks,
 * E_CONFLICT for a transition the state machine refuses, E_SCHEMA for a
 * state that is none. */
int learning_progress_set(struct store_tx *tx, const struct progress_change *c, json_t **out,
                          struct err *err);

/* Assigns a flow's step to a user or an agent with a role (owner, reviewer
 * or contributor), by (may be NULL) a user; an assignment of the same
 * person to the same step changes its role. *out as above. */
int learning_assign(struct store_tx *tx, const char *flow, const char *step, const char *user,
                    const char *agent, const char *role, const char *by, json_t **out,
                    struct err *err);

/* --- the API's operations (domain/op.h): each as the signed-in actor --- */
#include "domain/op.h"

/* The learning flows, oldest first, paged: every signed-in person may read
 * them. */
int learning_flows_list(struct store *s, struct op *op, struct err *err);
/* Where I stand: {"items": [{flow's _id and title, "steps": [{stepName,
 * order, status ("Not Started" when never moved), startedAt, completedAt,
 * roles: my assignments' roles}]}]} for the first OP_DEFAULT_PAGE flows. */
int learning_me(struct store *s, struct op *op, struct err *err);
/* Moves progress on step op->sub of flow op->id: {status, notes?,
 * userId? | agentId?} (default: mine). Someone else's is moved by the
 * flow's creator, an administrator or an owner or reviewer of the step; an
 * agent's also by its editors. */
int learning_progress_put(struct store *s, struct op *op, struct err *err);
/* Assigns step op->sub of flow op->id: {role, userId? | agentId?}
 * (default: me). The flow's creator, administrators and the step's owners
 * and reviewers assign anyone any role; others assign themselves or an
 * agent they edit, as contributors. */
int learning_assign_put(struct store *s, struct op *op, struct err *err);
/* The flow's assignments, step by step: all of them for those who lead a
 * step of it (as above), else mine and those I made. */
int learning_assignments_list(struct store *s, struct op *op, struct err *err);

#endif
