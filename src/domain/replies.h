/* replies: what agents write into conversations, and the hand-off from a
 * posted message to the agents that should answer it.
 *
 * The rules of who answers (mentions, the Director, delegation, limits)
 * live in the agent runtime (agents/); here are the writes they make, each
 * in the caller's transaction: an agent's reply or a system notice
 * (authored by the agent's participant row, as every message has an
 * author), a participant's status ("thinking" while an agent works), and
 * the routing job a human message leaves for the runtime, committed with
 * the message so that no message is lost between them. */
#ifndef ONE_DOMAIN_REPLIES_H
#define ONE_DOMAIN_REPLIES_H

#include <jansson.h>

#include "store/store.h"
#include "util/cid.h"

#define REPLIES_ROUTE_JOB "agent.route"

/* The participant row of agent in conv into pid ("" when none) and whether
 * it is active (not removed). */
int replies_agent_row(struct store_tx *tx, const char *conv, const char *agent,
                      char pid[CID_MAX], int *active, struct err *err);
/* 1 when conv has an agent participant row (removed or not), 0 when none. */
int replies_conv_has_agents(struct store_tx *tx, const char *conv, struct err *err);

struct reply {
  const char *conv;          /* the conversation */
  const char *author;        /* the author's participant row */
  int system;                /* a system message (a notice) instead of a reply */
  const char *content;       /* 1 byte at least */
  const json_t *meta;        /* system messages' meta (borrowed), or NULL */
  double cost;               /* the generation's cost and tokens, 0 when none */
  double tokens;
};

/* Posts r; a reply (not a notice) also moves the conversation's
 * lastMessageTime. id_out (may be NULL) receives the message's id. */
int replies_post(struct store_tx *tx, const struct reply *r, char id_out[CID_MAX],
                 struct err *err);
/* Sets a participant row's status ("thinking", "inactive", …). */
int replies_set_status(struct store_tx *tx, const char *pid, const char *status,
                       struct err *err);
/* Leaves message id of conv for the runtime to route (idempotent). */
int replies_route_later(struct store_tx *tx, const char *conv, const char *id,
                        struct err *err);

#endif
