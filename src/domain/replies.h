/* replies: what agents write into conversations, and the hand-off from a
 * posted message to the agents that should answer it.
 *
 * Who answers a person's message is a rule of the conversation: each agent
 * it mentions that takes part, or, when it mentions no agent, the Director
 * when it takes part (the legacy triage duty). The answers are reply jobs
 * (REPLIES_REPLY_JOB) committed with the message, so that no message is
 * lost between it and its answers; the agent runtime (agents/) runs them,
 * with its limits, and makes the writes below, each in the caller's
 * transaction: an agent's reply or a system notice (authored by the
 * agent's participant row, as every message has an author), and a
 * participant's status ("thinking" while an agent works).
 *
 * A reply job: args {conversationId, messageId (what it answers), agentId,
 * userId (who started the chain: the budget's owner), depth (hand-offs from
 * the person's message), handoffs (the chain's hand-off keys)}, key
 * "reply:MESSAGE:AGENT" (a message is answered once by each agent), lane
 * "CONV/AGENT" (one agent's runs in one conversation queue). */
#ifndef ONE_DOMAIN_REPLIES_H
#define ONE_DOMAIN_REPLIES_H

#include <jansson.h>

#include "store/store.h"
#include "util/cid.h"

#define REPLIES_REPLY_JOB "agent.reply"

/* The participant row of agent in conv into pid ("" when none) and whether
 * it is active (not removed). */
int replies_agent_row(struct store_tx *tx, const char *conv, const char *agent,
                      char pid[CID_MAX], int *active, struct err *err);
/* The id of the system agent called name ("Director") into out, "" when
 * there is none (a user's agent of that name does not count). */
int replies_system_agent(struct store_tx *tx, const char *name, char out[CID_MAX],
                         struct err *err);

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
/* The reply job of agent answering message in conv (the format above):
 * depth and handoffs (an array, borrowed; NULL for none) of its chain. */
int replies_answer_later(struct store_tx *tx, const char *conv, const char *message,
                         const char *agent, const char *user, int depth,
                         const json_t *handoffs, struct err *err);
/* The reply jobs a person's message starts (the rule above); content is
 * the message's, user its author. */
int replies_start(struct store_tx *tx, const char *conv, const char *message,
                  const char *content, const char *user, struct err *err);

#endif
