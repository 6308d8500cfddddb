/* agents: who may see, use, edit and share agents, and the tools enabled
 * for each (spec/agents-and-workflow.md, Permissions).
 *
 * - An agent is public unless its visibility is "private". A private agent
 *   is seen and used (added to a conversation, mentioned) only by its
 *   creator and the users in sharedWith; to anyone else it does not exist.
 *   Administrators see every agent.
 * - Only the creator edits, deletes, shares an agent or changes its
 *   visibility and tools; system agents ("system_agent") only
 *   administrators.
 * - Tools are a catalogue every signed-in user reads; administrators add
 *   to it. */
#ifndef ONE_DOMAIN_AGENTS_H
#define ONE_DOMAIN_AGENTS_H

#include "domain/op.h"

/* 1 when who may see and use agent (a document). */
int agent_usable(const struct actor *who, const json_t *agent);
/* 1 when who may edit agent. */
int agent_editable(const struct actor *who, const json_t *agent);
/* Loads the agent id for who: E_NOTFOUND when it is not usable by who. */
int agent_load(struct store_tx *tx, const struct actor *who, const char *id, json_t **agent,
               struct err *err);

int agents_list(struct store *s, struct op *op, struct err *err);    /* public + mine */
int agents_get(struct store *s, struct op *op, struct err *err);     /* op.id */
int agents_create(struct store *s, struct op *op, struct err *err);  /* op.in */
int agents_update(struct store *s, struct op *op, struct err *err);  /* op.id, op.in */
int agents_delete(struct store *s, struct op *op, struct err *err);  /* op.id */
/* Shares op.id with the user op.in.userId / stops sharing with op.sub. */
int agents_share(struct store *s, struct op *op, struct err *err);
int agents_unshare(struct store *s, struct op *op, struct err *err);

int tools_list(struct store *s, struct op *op, struct err *err);
int tools_create(struct store *s, struct op *op, struct err *err);   /* admins */
/* The tools enabled for agent op.id; enable tool op.sub with op.in.config;
 * disable it. */
int agent_tools_list(struct store *s, struct op *op, struct err *err);
int agent_tools_set(struct store *s, struct op *op, struct err *err);
int agent_tools_remove(struct store *s, struct op *op, struct err *err);

#endif
