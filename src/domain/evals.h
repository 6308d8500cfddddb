/* evals: evaluations of agents (spec schema-one.md, "evals"): an input
 * replayed against an agent, its output recorded and scored against the
 * expected output. The run itself is a job of the scheduler
 * (agents/evals.c); this module queues it and scores.
 *
 * Scores, from 0 to 1, by the shape of expectedOutput:
 *   a string            1 when the output equals it (case, spacing and
 *                       end punctuation aside), else the F1 of their words
 *   {"contains": [...]} the share of the phrases found in the output
 *   {"equals": "..."}   1 or 0, compared as for a string
 *   anything else       1 when the output, read as JSON, equals it; else 0
 * With no expectedOutput there is no score; the output is still kept. */
#ifndef ONE_DOMAIN_EVALS_H
#define ONE_DOMAIN_EVALS_H

#include <jansson.h>

#include "domain/op.h"

#define EVALS_RUN_JOB "eval.run"

/* POST /evals/{id}/run: the eval's owner (userId) or an administrator, on
 * an agent they may use, queues a run; op->out is the eval, status
 * "queued". */
int evals_run(struct store *s, struct op *op, struct err *err);

/* The score of actual against expected, or -1 when expected is NULL. */
double evals_score(const json_t *expected, const char *actual);

/* The chat messages for input: a string is the user's message; {"message"}
 * too; {"messages": [...]} goes as it is (after the agent's prompt);
 * anything else goes as its JSON text. A new reference, NULL when out of
 * memory. */
json_t *evals_messages(const char *prompt, const json_t *input);

#endif
