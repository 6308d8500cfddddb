/* policy: who may read and write the documents of each table reached
 * through /api/v1/tables (see policy.h). One row per table; a table
 * without a row is for administrators only. */
#include "domain/policy.h"

#include "domain/agents.h"
#include "domain/conversations.h"
#include "domain/dq.h"

#include <stdio.h>
#include <string.h>

static int mine(const struct actor *who, const json_t *doc, const char *field)
{
  return strcmp(dq_str(doc, field), who->user) == 0;
}

static int anyone(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  (void)who;
  (void)doc;
  return 1;
}

/* The conversation of message id, into conv (CID_MAX); 0 when found. */
static int message_conv(struct store_tx *tx, const char *id, char *conv)
{
  json_t *msg = NULL;
  int rc = dq_get(tx, "conversationMessages", id, "message", &msg, NULL);
  if (rc == 0)
    snprintf(conv, CID_MAX, "%s", dq_str(msg, "conversationId"));
  json_decref(msg);
  return rc;
}

static int in_message_conv(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  char conv[CID_MAX];
  return message_conv(tx, dq_str(doc, "messageId"), conv) == 0 &&
         conv_is_participant(tx, conv, who->user);
}

/* reactions: seen by the participants of the message's conversation; a
 * user reacts as themself. */
static int reaction_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  return mine(who, doc, "userId") && !json_object_get(doc, "agentId") &&
         in_message_conv(tx, who, doc);
}

/* comments: the author is my participant row in the message's conversation. */
static int comment_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  char conv[CID_MAX];
  json_t *row = NULL;
  if (message_conv(tx, dq_str(doc, "messageId"), conv) != 0 ||
      dq_get(tx, "conversationParticipants", dq_str(doc, "authorParticipantId"), "participant",
             &row, NULL) != 0)
    return 0;
  int ok = mine(who, row, "userId") && strcmp(dq_str(row, "conversationId"), conv) == 0 &&
           !dq_bool(row, "isRemoved");
  json_decref(row);
  return ok;
}

static int follow_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "followerId");
}

static int created_by_me(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "createdBy");
}

static int user_is_me(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "userId");
}

static int nobody(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  (void)who;
  (void)doc;
  return 0; /* written by ONE itself, or through a route of its own */
}

/* reminders: a user's own, or those of an agent the user may edit. */
static int reminder_may(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  if (json_object_get(doc, "userId"))
    return user_is_me(tx, who, doc);
  if (!json_object_get(doc, "agentId"))
    return 1; /* for no one: domain/schedule.c refuses it, saying why */
  json_t *agent = NULL;
  int ok = dq_get(tx, "agents", dq_str(doc, "agentId"), "agent", &agent, NULL) == 0 &&
           agent_editable(who, agent);
  json_decref(agent);
  return ok;
}

/* knowledge: a user's own, or an agent's (read: usable; write: editable). */
static int knowledge_may(struct store_tx *tx, const struct actor *who, const json_t *doc,
                         int write)
{
  const char *owner = dq_str(doc, "ownerId");
  if (strcmp(dq_str(doc, "ownerType"), "user") == 0)
    return strcmp(owner, who->user) == 0;
  json_t *agent = NULL;
  if (dq_get(tx, "agents", owner, "agent", &agent, NULL) != 0)
    return 0;
  int ok = write ? agent_editable(who, agent) : agent_usable(who, agent);
  json_decref(agent);
  return ok;
}

static int knowledge_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  return knowledge_may(tx, who, doc, 0);
}

static int knowledge_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  return knowledge_may(tx, who, doc, 1);
}

static int event_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "createdBy") ||
         dq_list_has(json_object_get(doc, "participants"), who->user);
}

static int task_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "createdBy") || mine(who, doc, "assignedToUserId");
}

static int assignment_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "userId") || mine(who, doc, "assignedBy");
}

static int assignment_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "assignedBy");
}

/* The owner of group id is who. */
static int owns_group(struct store_tx *tx, const struct actor *who, const char *id)
{
  json_t *g = NULL;
  int ok = dq_get(tx, "groups", id, "group", &g, NULL) == 0 && mine(who, g, "ownerId");
  json_decref(g);
  return ok;
}

static int group_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  if (mine(who, doc, "ownerId"))
    return 1;
  json_t *eq = json_pack("[s]", who->user);
  struct store_query q = {.table = "groupMembers", .index = "by_user", .eq = eq, .limit = 1000};
  struct store_page page = {0};
  int ok = 0;
  if (store_query(tx, &q, &page, NULL) == 0)
    for (size_t i = 0; !ok && i < json_array_size(page.docs); i++)
      ok = strcmp(dq_str(json_array_get(page.docs, i), "groupId"), dq_str(doc, "_id")) == 0;
  store_page_release(&page);
  json_decref(eq);
  return ok;
}

static int group_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  (void)tx;
  return mine(who, doc, "ownerId");
}

static int member_read(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  return mine(who, doc, "userId") || owns_group(tx, who, dq_str(doc, "groupId"));
}

static int member_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  return owns_group(tx, who, dq_str(doc, "groupId"));
}

static int lesson_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  json_t *course = NULL;
  int ok = dq_get(tx, "courses", dq_str(doc, "courseId"), "course", &course, NULL) == 0 &&
           mine(who, course, "createdBy");
  json_decref(course);
  return ok;
}

static int attachment_write(struct store_tx *tx, const struct actor *who, const json_t *doc)
{
  const char *owner = dq_str(doc, "ownerId");
  if (strcmp(dq_str(doc, "ownerType"), "group") == 0)
    return owns_group(tx, who, owner);
  json_t *agent = NULL;
  int ok = dq_get(tx, "agents", owner, "agent", &agent, NULL) == 0 && agent_editable(who, agent);
  json_decref(agent);
  return ok;
}

static const struct policy policies[] = {
  {"reactions", "the participants of the message's conversation; a user reacts as themself",
   in_message_conv, reaction_write},
  {"comments", "the participants of the message's conversation; the author is the writer",
   in_message_conv, comment_write},
  {"follows", "everyone reads; a user follows and unfollows as themself", anyone, follow_write},
  {"tags", "everyone reads; the creator writes", anyone, created_by_me},
  {"knowledge", "a user's own; an agent's: read if usable, written by its editors",
   knowledge_read, knowledge_write},
  {"events", "the creator and the participants read; the creator writes", event_read,
   created_by_me},
  {"reminders", "the user's own, and those of the agents the user edits", reminder_may,
   reminder_may},
  {"broadcasts", "the creator's own", created_by_me, created_by_me},
  {"tasks", "the creator and the assignee read; the creator writes", task_read, created_by_me},
  {"learningFlows", "everyone reads; the creator writes", anyone, created_by_me},
  {"prompts", "everyone reads; the creator writes", anyone, created_by_me},
  {"courses", "everyone reads; the creator writes", anyone, created_by_me},
  {"lessons", "everyone reads; the course's creator writes", anyone, lesson_write},
  {"enrollments", "the user's own", user_is_me, user_is_me},
  {"assignments", "the assignee and the assigner read; the assigner writes", assignment_read,
   assignment_write},
  {"progress", "the user's own, read; moved through PUT /me/progress (its state machine)",
   user_is_me, nobody},
  {"products", "everyone reads; administrators write", anyone, nobody},
  {"inferenceUsage", "the user's own, read; ONE records them", user_is_me, nobody},
  {"evals", "the user's own; POST /evals/{id}/run replays one", user_is_me, user_is_me},
  {"groups", "the owner and the members read; the owner writes", group_read, group_write},
  {"groupMembers", "the member and the group's owner read; the group's owner writes",
   member_read, member_write},
  {"attachments", "everyone reads; the editors of the agent or the group's owner write", anyone,
   attachment_write},
};

const struct policy *policy_find(const char *table)
{
  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
    if (strcmp(policies[i].table, table) == 0)
      return &policies[i];
  return NULL;
}

const struct policy *policy_all(size_t *n)
{
  *n = sizeof policies / sizeof policies[0];
  return policies;
}
