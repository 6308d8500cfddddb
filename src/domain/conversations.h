/* conversations: conversations, their participants and their messages, with
 * the rules of spec/agents-and-workflow.md:
 *
 * - A user sees and writes only conversations they participate in (not
 *   removed); to anyone else a conversation does not exist (E_NOTFOUND).
 *   Administrators may read every conversation but write only where they
 *   participate.
 * - Any participant may add a user, or an agent they may use (public, their
 *   own, or shared with them), and may remove agents but not system agents.
 *   Only the conversation's creator removes other users; anyone may leave.
 * - Messages are parsed for mentions on the server; mentioning someone who
 *   is not a participant adds them when the author may, and refuses the
 *   whole message otherwise (nothing is written). Every message read carries
 *   `parts` (domain/mentions.h).
 *
 * Messages are listed newest first on by_conversationId; a user's
 * conversations through their participant rows (by_userId), ordered by
 * lastMessageTime in memory, at most CONV_MAX_LISTED of them (see
 * docs/decisions.md). */
#ifndef ONE_DOMAIN_CONVERSATIONS_H
#define ONE_DOMAIN_CONVERSATIONS_H

#include "domain/op.h"

#define CONV_MAX_LISTED 1000
#define MESSAGE_MAX_CONTENT (256 * 1024)

/* The conversation id for who: *conv (new reference, may be NULL when not
 * wanted) and who's active participant row (*me, NULL when who is an
 * administrator reading from outside). E_NOTFOUND when who may not see it. */
int conv_access(struct store_tx *tx, const struct actor *who, const char *id, json_t **conv,
                json_t **me, struct err *err);
/* 1 when user is an active participant of conversation id. */
int conv_is_participant(struct store_tx *tx, const char *id, const char *user);
/* A message document with its `parts` added (new reference). */
json_t *message_with_parts(const json_t *msg);

int conversations_list(struct store *s, struct op *op, struct err *err);
int conversations_create(struct store *s, struct op *op, struct err *err);
int conversations_get(struct store *s, struct op *op, struct err *err);
int conversations_update(struct store *s, struct op *op, struct err *err);  /* title, tags */

int participants_list(struct store *s, struct op *op, struct err *err);
int participants_add(struct store *s, struct op *op, struct err *err);    /* {kind, userId|agentId} */
int participants_remove(struct store *s, struct op *op, struct err *err); /* op.sub */
int participants_update(struct store *s, struct op *op, struct err *err); /* op.sub, {status} */
int participants_leave(struct store *s, struct op *op, struct err *err);

/* Checks that who may follow conversation op.id live (an active
 * participant; administrators too must join first). */
int conversations_follow(struct store *s, struct op *op, struct err *err);

int messages_list(struct store *s, struct op *op, struct err *err);
/* {query, limit? (1-100, default 20)}: the messages holding its words, best
 * first (full-text, stemmed, BM25), as {"items": [...]} of messages_list's. */
int messages_search(struct store *s, struct op *op, struct err *err);
int messages_send(struct store *s, struct op *op, struct err *err);
int messages_update(struct store *s, struct op *op, struct err *err);     /* op.sub, {content} */

#endif
