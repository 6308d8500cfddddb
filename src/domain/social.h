/* social: reactions, comments, tags, follows and the feed (spec
 * schema-one.md, "Social"). Each is behaviour over its table:
 *  - a reaction is one of each type per person (or agent) per message;
 *    reacting again takes it back;
 *  - a comment hangs off a message and is written by a participant row of
 *    the message's conversation;
 *  - tags are named (the tags table, unique by name) and applied to agents,
 *    conversations, messages and knowledge by adding the name to the
 *    document's tags list;
 *  - people follow users and agents, and their feed is what those post in
 *    conversations the reader takes part in, newest first.
 * Message reads carry each message's reaction counts and comment count
 * (social_counts_text). Every operation checks the conversation's or the
 * document's permissions itself. */
#ifndef ONE_DOMAIN_SOCIAL_H
#define ONE_DOMAIN_SOCIAL_H

#include <jansson.h>

#include "domain/op.h"
#include "store/store.h"
#include "util/buf.h"

#define SOCIAL_MAX_TYPE 32        /* bytes in a reaction type */
#define SOCIAL_MAX_TAG 64         /* bytes in a tag name */
#define SOCIAL_MAX_COMMENT 10000  /* bytes in a comment */
#define SOCIAL_FEED_AUTHORS 500   /* participant rows of followed authors a feed reads */

/* Toggles reaction type on message msg by user or agent (exactly one of
 * them non-NULL); *reacted is 1 when it is now there, 0 when taken back.
 * The caller has checked that the reactor may see the message. */
int social_react_tx(struct store_tx *tx, const char *msg, const char *user, const char *agent,
                    const char *type, int *reacted, struct err *err);
/* Adds a comment to message msg written by participant row author (checked
 * by the caller); its id into id (CID_MAX) when id is not NULL. */
int social_comment_tx(struct store_tx *tx, const char *msg, const char *author,
                      const json_t *content, char *id, struct err *err);
/* Appends ,"reactionCounts":{type:n…},"commentCount":n for message msg to b. */
int social_counts_text(struct store_tx *tx, const char *msg, struct buf *b, struct err *err);

/* API operations (op.id: the conversation, op.sub: the message). */
int reactions_toggle(struct store *s, struct op *op, struct err *err); /* {type} */
int reactions_list(struct store *s, struct op *op, struct err *err);
int comments_list(struct store *s, struct op *op, struct err *err);
int comments_add(struct store *s, struct op *op, struct err *err);     /* {content} */

int tags_list(struct store *s, struct op *op, struct err *err);
int tags_create(struct store *s, struct op *op, struct err *err);      /* {name, color?} */
/* op.id: the tag's name, op.sub: the agent, conversation, message or
 * knowledge item. */
int tags_apply(struct store *s, struct op *op, struct err *err);
int tags_remove(struct store *s, struct op *op, struct err *err);

/* op.id: the user or agent followed. */
int follows_add(struct store *s, struct op *op, struct err *err);
int follows_remove(struct store *s, struct op *op, struct err *err);
int follows_mine(struct store *s, struct op *op, struct err *err);      /* whom I follow */
int follows_of_me(struct store *s, struct op *op, struct err *err);     /* who follows me */
/* What the people and agents I follow posted where I take part, newest
 * first; op.cursor is the previous page's last _creationTime. */
int feed_list(struct store *s, struct op *op, struct err *err);

#endif
