/* usage: what the model calls cost, summed from inferenceUsage (one row a
 * call, written by the agent runtime whatever the call's outcome): tokens,
 * cost and calls in all, and by day (UTC), model, agent and, for
 * administrators, user.
 *
 * A summary reads one index over the time range: a user's rows (by_user),
 * an agent's (by_agent) or, for administrators, everyone's by creation
 * time. It reads at most USAGE_MAX_ROWS rows and says so ("truncated")
 * when the range holds more: narrow it with ?from= and ?to=. */
#ifndef ONE_DOMAIN_USAGE_H
#define ONE_DOMAIN_USAGE_H

#include "domain/op.h"

#define USAGE_MAX_ROWS 200000

/* Mine: {from, to, total: {tokens, cost, calls}, byDay, byModel, byAgent,
 * truncated}, over ?from= (default: 30 days ago) to ?to= (default: now). */
int usage_mine(struct store *s, struct op *op, struct err *err);
/* Agent op->id's, for its editors (404 for those who may not see it, 403
 * for those who may not edit it). */
int usage_of_agent(struct store *s, struct op *op, struct err *err);
/* Everyone's, with byUser too (administrators; the route checks). */
int usage_all(struct store *s, struct op *op, struct err *err);

#endif
