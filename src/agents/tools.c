/* tools: the tools agents call (spec/agents-and-workflow.md, "Tools an
 * agent can call"), written in C, each with a JSON Schema for its
 * parameters that the arguments must fit before it runs.
 *
 * Always available: listConversationParticipants, listAgents,
 * messageAnotherAgent, noOutput, updateConversationTitle,
 * addParticipantToConversation. Per agent (its `tools`, or an agentTools
 * row): react, comment and createTask (on the conversation's messages and
 * its people), scheduleTask, createReminder and scheduleEvent (on the
 * scheduler, domain/schedule.h), webSearch and sendEmail (outside
 * services, agents/outbound.h, configured by the environment; without it
 * they fail with a message that says what to set). Each tool runs in its own transaction;
 * one with a side effect outside the conversation keys it by the run's job
 * and the model's call id, so a step retried after a crash does it once.
 * An agent's settings for a tool are its agentTools row's config:
 * webSearch {"site"} keeps its searches to one site, sendEmail
 * {"allowedRecipients": [...]} to those addresses. searchKnowledge and
 * addKnowledge read and write the knowledge of the person who started the
 * exchange and of the agent (domain/knowledge.h). */
#include "agents/jschema.h"
#include "agents/outbound.h"
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/knowledge.h"
#include "domain/learning.h"
#include "domain/replies.h"
#include "domain/schedule.h"
#include "domain/social.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct call {
  const struct tool_env *env;
  const json_t *args;
  json_t *config;         /* the agent's agentTools config for the tool, or NULL */
  json_t *result;         /* what goes back to the model */
};

typedef int (*tool_fn)(struct store_tx *tx, struct call *c, struct err *err);

struct tool {
  const char *name, *description, *parameters;
  int always;
  tool_fn fn;
  int outside;            /* runs outside a transaction (it waits on the network) */
};

static int list_participants(struct store_tx *tx, struct call *c, struct err *err)
{
  json_t *eq = json_pack("[s,b]", c->env->chain->conv, 0);
  struct store_query q = {.table = "conversationParticipants",
                          .index = "by_conversationId_isRemoved", .eq = eq, .limit = 200,
                          .as_text = 1};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_t *out = json_array();
  for (size_t i = 0; !rc && i < page.ntexts; i++) {
    const char *t = page.texts[i];
    size_t n = page.lens[i];
    char kind[16] = "", id[CID_MAX] = "", status[64] = "", name[200] = "";
    jtext_str(t, n, "kind", kind, sizeof kind);
    jtext_str(t, n, "status", status, sizeof status);
    int agent = strcmp(kind, "agent") == 0;
    jtext_str(t, n, agent ? "agentId" : "userId", id, sizeof id);
    dq_str_of(tx, id, "name", name, sizeof name);
    json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s}", "kind", agent ? "agent" : "user",
                                         "id", id, "name", name, "status", status));
  }
  store_page_release(&page);
  json_decref(eq);
  c->result = json_pack("{s:o}", "participants", out);
  return rc;
}

static int list_agents(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *query = json_string_value(json_object_get(c->args, "query"));
  struct store_query q = {.table = "agents", .limit = 200};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_t *out = json_array();
  size_t i;
  json_t *a;
  json_array_foreach(page.docs, i, a) {
    if (strcmp(dq_str(a, "visibility"), "private") == 0)
      continue; /* a private agent is only its creator's and those it is shared with */
    if (query && query[0] && !strcasestr(dq_str(a, "name"), query) &&
        !strcasestr(dq_str(a, "description"), query))
      continue;
    json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "id", dq_str(a, "_id"), "name",
                                         dq_str(a, "name"), "description",
                                         dq_str(a, "description")));
  }
  store_page_release(&page);
  c->result = json_pack("{s:o}", "agents", out);
  return rc;
}

static int message_agent(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *to = json_string_value(json_object_get(c->args, "agentId"));
  const char *text = json_string_value(json_object_get(c->args, "message"));
  json_t *target = NULL;
  int rc = dq_get(tx, "agents", to, "agent", &target, err);
  if (rc)
    return rc;
  size_t n = strlen(text) + strlen(dq_str(target, "name")) + CID_MAX + 16;
  char *content = one_malloc(n), why[400] = "";
  if (!content) {
    json_decref(target);
    return err_set(err, E_NOMEM, "out of memory");
  }
  snprintf(content, n, "@[%s](agent:%s) %s", dq_str(target, "name"), to, text);
  rc = run_delegate(c->env->rt, tx, c->env->chain, c->env->agent, c->env->row, to, content, 1,
                    why, sizeof why, err);
  one_free(content);
  json_decref(target);
  if (!rc && why[0])
    rc = err_set(err, E_PERM, "%s", why);
  if (!rc)
    c->result = json_pack("{s:s}", "status", "sent: it will answer in the conversation");
  return rc;
}

static int no_output(struct store_tx *tx, struct call *c, struct err *err)
{
  (void)tx;
  (void)err;
  c->result = json_pack("{s:b}", "noOutput", 1);
  return 0;
}

static int update_title(struct store_tx *tx, struct call *c, struct err *err)
{
  json_t *patch = json_pack("{s:O}", "title", json_object_get(c->args, "title"));
  int rc = store_patch(tx, c->env->chain->conv, patch, err);
  json_decref(patch);
  if (!rc)
    c->result = json_pack("{s:O}", "title", json_object_get(c->args, "title"));
  return rc;
}

static int add_participant(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *agent = json_string_value(json_object_get(c->args, "agentId"));
  json_t *a = NULL;
  int rc = dq_get(tx, "agents", agent, "agent", &a, err);
  if (!rc && strcmp(dq_str(a, "visibility"), "private") == 0)
    rc = err_set(err, E_PERM, "%s is a private agent: only its creator can add it",
                 dq_str(a, "name"));
  char pid[CID_MAX];
  int active = 0;
  if (!rc)
    rc = replies_agent_row(tx, c->env->chain->conv, agent, pid, &active, err);
  if (!rc && pid[0] && !active) {
    json_t *patch = json_pack("{s:b}", "isRemoved", 0);
    rc = store_patch(tx, pid, patch, err);
    json_decref(patch);
  } else if (!rc && !pid[0]) {
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:b,s:f}", "conversationId", c->env->chain->conv,
                            "kind", "agent", "agentId", agent, "status", "inactive", "isRemoved",
                            0, "addedAt", clock_now_ms());
    rc = store_insert(tx, "conversationParticipants", row, 0, pid, err);
    json_decref(row);
  }
  if (!rc)
    c->result = json_pack("{s:s,s:s}", "added", dq_str(a, "name"), "participantId", pid);
  json_decref(a);
  return rc;
}

static int schedule_task(struct store_tx *tx, struct call *c, struct err *err)
{
  const json_t *delay = json_object_get(c->args, "delayMinutes");
  const json_t *at = json_object_get(c->args, "at");
  double when = at ? json_number_value(at)
                   : clock_now_ms() + (delay ? json_number_value(delay) : 0) * 60000.0;
  json_t *args = json_pack("{s:s,s:s,s:s,s:O}", "conversationId", c->env->chain->conv,
                           "agentId", dq_str(c->env->agent, "_id"), "userId",
                           c->env->chain->user, "task", json_object_get(c->args, "task"));
  char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
  json_decref(args);
  char key[CID_MAX + 96]; /* a retried step schedules nothing twice */
  snprintf(key, sizeof key, "task:%lld:%.60s", (long long)c->env->job, c->env->call);
  struct store_job_new j = {"agent.task", text, key, NULL, (int64_t)when, 0};
  int64_t id = 0;
  int rc = text ? store_job_add(tx, &j, &id, NULL, err) : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  if (!rc)
    c->result = json_pack("{s:s,s:f}", "scheduled", "yes", "at", when);
  return rc;
}

/* Runs outside any transaction (tx is NULL): it waits on the network. */
static int web_search(struct store_tx *tx, struct call *c, struct err *err)
{
  (void)tx;
  char *answer = NULL, query[2200];
  const char *site = json_string_value(json_object_get(c->config, "site"));
  snprintf(query, sizeof query, "%.1800s%s%.200s", json_string_value(json_object_get(c->args,
                                                                                       "query")),
           site ? " site:" : "", site ? site : ""); /* an agent kept to one site */
  int rc = outbound_web_search(query, &answer, err);
  if (!rc) {
    c->result = json_pack("{s:s}", "results", answer);
    one_free(answer);
  }
  return rc;
}

/* Queues the email as a job keyed by the run and the call: sent once. */
static int send_email(struct store_tx *tx, struct call *c, struct err *err)
{
  if (!outbound_email_ready(err))
    return err->code;
  const json_t *allowed = json_object_get(c->config, "allowedRecipients");
  const char *to = json_string_value(json_object_get(c->args, "to"));
  if (json_is_array(allowed) && !dq_list_has(allowed, to))
    return err_set(err, E_PERM, "%s may email only %zu allowed address%s (its sendEmail "
                   "config), not %s", dq_str(c->env->agent, "name"), json_array_size(allowed),
                   json_array_size(allowed) == 1 ? "" : "es", to);
  json_t *args = json_pack("{s:O,s:O,s:O,s:s,s:s}", "to", json_object_get(c->args, "to"),
                           "subject", json_object_get(c->args, "subject"), "body",
                           json_object_get(c->args, "body"), "conversationId",
                           c->env->chain->conv, "agentId", dq_str(c->env->agent, "_id"));
  char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
  json_decref(args);
  char key[CID_MAX + 96];
  snprintf(key, sizeof key, "email:%lld:%.60s", (long long)c->env->job, c->env->call);
  struct store_job_new j = {OUTBOUND_EMAIL_JOB, text, key, NULL, 0, 8};
  int rc = text ? store_job_add(tx, &j, NULL, NULL, err) : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  if (!rc)
    c->result = json_pack("{s:s}", "status", "queued: it goes out in a moment");
  return rc;
}

/* E_NOTFOUND unless id is a message of the run's conversation. */
static int message_here(struct store_tx *tx, const struct call *c, const char *id,
                        struct err *err)
{
  char conv[CID_MAX] = "";
  if (dq_is_id_of(tx, id, "conversationMessages"))
    dq_str_of(tx, id, "conversationId", conv, sizeof conv);
  return strcmp(conv, c->env->chain->conv) == 0
           ? 0 : err_set(err, E_NOTFOUND, "no message %s in this conversation", id);
}

/* One reaction of each type per agent per message: a second call takes it back. */
static int react(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *msg = json_string_value(json_object_get(c->args, "messageId"));
  const char *type = json_string_value(json_object_get(c->args, "type"));
  int reacted = 0;
  int rc = message_here(tx, c, msg, err);
  if (rc == 0)
    rc = social_react_tx(tx, msg, NULL, dq_str(c->env->agent, "_id"), type, &reacted, err);
  if (rc == 0)
    c->result = json_pack("{s:s,s:b}", "type", type, "reacted", reacted);
  return rc;
}

static int comment(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *msg = json_string_value(json_object_get(c->args, "messageId"));
  char id[CID_MAX];
  int rc = message_here(tx, c, msg, err);
  if (rc == 0)
    rc = social_comment_tx(tx, msg, c->env->row, json_object_get(c->args, "content"), id, err);
  if (rc == 0)
    c->result = json_pack("{s:s}", "commentId", id);
  return rc;
}

/* E_NOTFOUND unless id (kind "user" or "agent") takes part in the run's conversation. */
static int person_here(struct store_tx *tx, const struct call *c, const char *kind,
                       const char *id, struct err *err)
{
  json_t *eq = json_pack("[s,s,s]", c->env->chain->conv, kind, id);
  char *row = NULL;
  size_t n = 0;
  int rc = eq ? dq_first_text(tx, "conversationParticipants",
                              strcmp(kind, "user") == 0 ? "by_conversationId_kind_userId"
                                                        : "by_conversationId_kind_agentId",
                              eq, &row, &n, err)
              : err_set(err, E_NOMEM, "out of memory");
  json_decref(eq);
  int here = row && !jtext_bool(row, n, "isRemoved");
  one_free(row);
  if (!rc && !here)
    rc = err_set(err, E_NOTFOUND, "%s is not %s in this conversation", id,
                 strcmp(kind, "user") == 0 ? "a person" : "an agent");
  return rc;
}

/* A task for a person of the conversation (or, with no one named, the
 * agent itself), made by the person who started the exchange. */
static int create_task(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *user = json_string_value(json_object_get(c->args, "assignToUserId"));
  int rc = user ? person_here(tx, c, "user", user, err) : 0;
  if (rc)
    return rc;
  double now = clock_now_ms();
  json_t *doc = json_pack("{s:O,s:s,s:f,s:f}", "title", json_object_get(c->args, "title"), "status",
                          "open", "createdAt", now, "updatedAt", now);
  const char *keys[] = {"description", "dueDate", "priority"};
  for (size_t i = 0; doc && i < 3; i++)
    if (json_object_get(c->args, keys[i]))
      json_object_set(doc, keys[i], json_object_get(c->args, keys[i]));
  if (doc) {
    json_object_set_new(doc, user ? "assignedToUserId" : "assignedToAgentId",
                        json_string(user ? user : dq_str(c->env->agent, "_id")));
    if (c->env->chain->user[0])
      json_object_set_new(doc, "createdBy", json_string(c->env->chain->user));
  }
  char id[CID_MAX];
  rc = doc ? store_insert(tx, "tasks", doc, 0, id, err) : err_set(err, E_NOMEM, "out of memory");
  json_decref(doc);
  if (!rc)
    c->result = json_pack("{s:s}", "taskId", id);
  return rc;
}

/* --- scheduling --- */

/* The time of args' "at", else now plus its "delayMinutes" (default 0). */
static double when_of(const json_t *args, const char *at, const char *delay)
{
  const json_t *a = json_object_get(args, at), *d = json_object_get(args, delay);
  return a ? json_number_value(a) : clock_now_ms() + (d ? json_number_value(d) : 0) * 60000.0;
}

/* A reminder for the person who started the exchange (the default) or for
 * the agent itself, tied to this conversation: a person's appears on their
 * me stream, the agent's starts its run here. */
static int create_reminder(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *for_ = json_string_value(json_object_get(c->args, "for"));
  int self = (for_ && strcmp(for_, "agent") == 0) || !c->env->chain->user[0];
  json_t *doc = NULL;
  int rc = schedule_reminder_tx(tx, self ? NULL : c->env->chain->user,
                                self ? dq_str(c->env->agent, "_id") : NULL,
                                json_string_value(json_object_get(c->args, "message")),
                                when_of(c->args, "at", "delayMinutes"), c->env->chain->conv,
                                &doc, err);
  if (!rc)
    c->result = json_pack("{s:s,s:s,s:O}", "reminderId", dq_str(doc, "_id"), "for",
                          self ? "agent" : "user", "remindAt", json_object_get(doc, "remindAt"));
  json_decref(doc);
  return rc;
}

/* An event created by the agent, with the person who started the exchange,
 * the agent and the participants named (people of this conversation). */
static int schedule_event(struct store_tx *tx, struct call *c, struct err *err)
{
  double start = when_of(c->args, "startTime", "startInMinutes");
  const json_t *len = json_object_get(c->args, "durationMinutes");
  json_t *who = json_array();
  if (c->env->chain->user[0])
    json_array_append_new(who, json_string(c->env->chain->user));
  json_array_append_new(who, json_string(dq_str(c->env->agent, "_id")));
  const json_t *more = json_object_get(c->args, "participants");
  int rc = 0;
  for (size_t i = 0; !rc && i < json_array_size(more); i++) {
    const char *p = json_string_value(json_array_get(more, i));
    int agent = dq_is_id_of(tx, p, "agents");
    rc = person_here(tx, c, agent ? "agent" : "user", p, err);
    if (!rc)
      json_array_append_new(who, json_string(p));
  }
  json_t *fields = rc ? NULL : json_pack("{s:O,s:f,s:f,s:o}", "title",
                                         json_object_get(c->args, "title"), "startTime", start,
                                         "endTime", start + (len ? json_number_value(len) : 60) *
                                                               60000.0, "participants", who);
  if (!rc && !fields)
    rc = err_set(err, E_NOMEM, "out of memory");
  if (rc) {
    json_decref(who);
    return rc;
  }
  if (json_object_get(c->args, "description"))
    json_object_set(fields, "description", json_object_get(c->args, "description"));
  json_t *doc = NULL;
  rc = schedule_event_tx(tx, dq_str(c->env->agent, "_id"), fields, &doc, err);
  json_decref(fields);
  if (!rc)
    c->result = json_pack("{s:s,s:O,s:O}", "eventId", dq_str(doc, "_id"), "startTime",
                          json_object_get(doc, "startTime"), "endTime",
                          json_object_get(doc, "endTime"));
  json_decref(doc);
  return rc;
}

/* --- learning: the Director and the Guide move people on --- */

/* The flow of the call (its flowId, else the seeded Elevate flow). */
static int call_flow(struct store_tx *tx, const struct call *c, char flow[CID_MAX],
                     struct err *err)
{
  const char *given = json_string_value(json_object_get(c->args, "flowId"));
  if (given) {
    snprintf(flow, CID_MAX, "%s", given);
    return 0;
  }
  int rc = learning_default_flow(tx, flow, err);
  return rc || flow[0] ? rc : err_set(err, E_NOTFOUND, "no learning flow is named and there is "
                                      "no default one (run one seed)");
}

static int update_progress(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *user = json_string_value(json_object_get(c->args, "userId"));
  if (!user)
    user = c->env->chain->user;
  char flow[CID_MAX];
  int rc = user && user[0] ? person_here(tx, c, "user", user, err)
                           : err_set(err, E_INVALID, "name the person (userId)");
  if (!rc)
    rc = call_flow(tx, c, flow, err);
  struct progress_change pc = {flow, json_string_value(json_object_get(c->args, "step")), user,
                               NULL, json_string_value(json_object_get(c->args, "status")),
                               json_string_value(json_object_get(c->args, "notes"))};
  json_t *row = NULL;
  if (!rc)
    rc = learning_progress_set(tx, &pc, &row, err);
  if (!rc)
    c->result = json_pack("{s:s,s:s,s:s}", "step", pc.step, "status", dq_str(row, "status"),
                          "userId", user);
  json_decref(row);
  return rc;
}

static int assign_step(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *user = json_string_value(json_object_get(c->args, "userId"));
  const char *agent = json_string_value(json_object_get(c->args, "agentId"));
  if (!user && !agent)
    user = c->env->chain->user;
  char flow[CID_MAX];
  int rc = user && agent ? err_set(err, E_INVALID, "assign to a user or an agent, not both")
           : (user && !user[0]) ? err_set(err, E_INVALID, "name the person (userId or agentId)")
                                : person_here(tx, c, user ? "user" : "agent", user ? user : agent, err);
  if (!rc)
    rc = call_flow(tx, c, flow, err);
  const char *step = json_string_value(json_object_get(c->args, "step"));
  json_t *row = NULL;
  if (!rc)
    rc = learning_assign(tx, flow, step, user, agent,
                         json_string_value(json_object_get(c->args, "role")),
                         c->env->chain->user, &row, err);
  if (!rc)
    c->result = json_pack("{s:s,s:s,s:s}", "step", step, "role", dq_str(row, "role"),
                          "assignmentId", dq_str(row, "_id"));
  json_decref(row);
  return rc;
}

/* --- knowledge: what the user and the agent know (domain/knowledge.h) --- */

/* The owners a call searches or writes: the person who started the
 * exchange and the agent itself ("user", "agent" or "both"). */
static size_t call_owners(const struct call *c, const char *which, const char **owners)
{
  size_t n = 0;
  const char *user = c->env->chain->user;
  if ((!which || strcmp(which, "agent") != 0) && user && user[0])
    owners[n++] = user;
  if (!which || strcmp(which, "user") != 0)
    owners[n++] = dq_str(c->env->agent, "_id");
  return n;
}

static int search_knowledge(struct store_tx *tx, struct call *c, struct err *err)
{
  struct knowledge_query q = {0};
  q.query = json_string_value(json_object_get(c->args, "query"));
  q.tags = json_object_get(c->args, "tags");
  q.limit = (size_t)json_integer_value(json_object_get(c->args, "limit"));
  q.nowners = call_owners(c, json_string_value(json_object_get(c->args, "about")), q.owners);
  struct actor who = {{0}, 0};
  snprintf(who.user, sizeof who.user, "%s", c->env->chain->user);
  json_t *items = NULL;
  int rc = knowledge_search_tx(tx, &who, &q, &items, err);
  if (rc)
    return rc;
  json_t *found = json_array();
  size_t i;
  json_t *d;
  json_array_foreach(items, i, d) {
    json_t *f = json_pack("{s:O,s:O,s:O}", "id", json_object_get(d, "_id"), "about",
                          json_object_get(d, "ownerType"), "content", json_object_get(d, "content"));
    if (f && json_object_get(d, "tags"))
      json_object_set(f, "tags", json_object_get(d, "tags"));
    json_array_append_new(found, f);
  }
  json_decref(items);
  c->result = json_pack("{s:o}", "results", found);
  if (c->result && !json_array_size(json_object_get(c->result, "results")))
    json_object_set_new(c->result, "note", json_string("nothing known matches: say so, and ask"));
  return c->result ? 0 : err_set(err, E_NOMEM, "out of memory");
}

static int add_knowledge(struct store_tx *tx, struct call *c, struct err *err)
{
  const char *about = json_string_value(json_object_get(c->args, "about"));
  const char *owner = about && strcmp(about, "agent") == 0 ? dq_str(c->env->agent, "_id")
                                                          : c->env->chain->user;
  if (!owner || !owner[0])
    return err_set(err, E_INVALID, "no person started this exchange: add it about the agent");
  json_t *doc = NULL;
  int rc = knowledge_add_tx(tx, owner, json_string_value(json_object_get(c->args, "content")),
                            json_object_get(c->args, "tags"), NULL, &doc, err);
  if (!rc)
    c->result = json_pack("{s:s}", "knowledgeId", dq_str(doc, "_id"));
  json_decref(doc);
  return rc;
}

#define STEPS "[\"Foundation\",\"Hook\",\"Gift\",\"Identify\",\"Engage\",\"Sell\",\"Nurture\"," \
              "\"Upsell\",\"Educate\",\"Share\"]"

static const struct tool registry[] = {
  {"listConversationParticipants", "List the people and agents in this conversation.",
   "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}", 1,
   list_participants, 0},
  {"listAgents", "List the agents you can mention or hand work to, optionally matching a query.",
   "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"maxLength\":200}},"
   "\"additionalProperties\":false}", 1, list_agents, 0},
  {"messageAnotherAgent", "Hand work to another agent in this conversation: it answers there.",
   "{\"type\":\"object\",\"properties\":{\"agentId\":{\"type\":\"string\",\"minLength\":1},"
   "\"message\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":20000}},"
   "\"required\":[\"agentId\",\"message\"],\"additionalProperties\":false}", 1, message_agent, 0},
  {"noOutput", "Say nothing: call it when you have nothing to add.",
   "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}", 1, no_output, 0},
  {"updateConversationTitle", "Give this conversation a new title.",
   "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":200}},\"required\":[\"title\"],\"additionalProperties\":false}", 1,
   update_title, 0},
  {"addParticipantToConversation", "Add an agent to this conversation.",
   "{\"type\":\"object\",\"properties\":{\"agentId\":{\"type\":\"string\",\"minLength\":1}},"
   "\"required\":[\"agentId\"],\"additionalProperties\":false}", 1, add_participant, 0},
  {"scheduleTask", "Schedule a task for yourself later: at a time (ms since 1970) or after "
   "some minutes; you will be asked to do it then, in this conversation.",
   "{\"type\":\"object\",\"properties\":{\"task\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":2000},\"at\":{\"type\":\"number\",\"minimum\":0},\"delayMinutes\":"
   "{\"type\":\"number\",\"minimum\":0,\"maximum\":525600}},\"required\":[\"task\"],"
   "\"additionalProperties\":false}", 0, schedule_task, 0},
  {"webSearch", "Search the web.",
   "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"minLength\":1}},"
   "\"required\":[\"query\"],\"additionalProperties\":false}", 0, web_search, 1},
  {"sendEmail", "Send an email.",
   "{\"type\":\"object\",\"properties\":{\"to\":{\"type\":\"string\",\"minLength\":3},"
   "\"subject\":{\"type\":\"string\"},\"body\":{\"type\":\"string\"}},"
   "\"required\":[\"to\",\"subject\",\"body\"],\"additionalProperties\":false}", 0, send_email, 0},
  {"react", "React to a message of this conversation (calling it again takes the reaction back).",
   "{\"type\":\"object\",\"properties\":{\"messageId\":{\"type\":\"string\",\"minLength\":1},"
   "\"type\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":32}},"
   "\"required\":[\"messageId\",\"type\"],\"additionalProperties\":false}", 0, react, 0},
  {"comment", "Comment on a message of this conversation.",
   "{\"type\":\"object\",\"properties\":{\"messageId\":{\"type\":\"string\",\"minLength\":1},"
   "\"content\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4000}},"
   "\"required\":[\"messageId\",\"content\"],\"additionalProperties\":false}", 0, comment, 0},
  {"createTask", "Create a task, for a person of this conversation or for yourself.",
   "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":300},\"description\":{\"type\":\"string\",\"maxLength\":4000},\"dueDate\":"
   "{\"type\":\"number\",\"minimum\":0},\"priority\":{\"enum\":[\"low\",\"normal\",\"high\"]},"
   "\"assignToUserId\":{\"type\":\"string\",\"minLength\":1}},\"required\":[\"title\"],"
   "\"additionalProperties\":false}", 0, create_task, 0},
  {"createReminder", "Set a reminder: for the person you are talking with (the default; it "
   "reaches them wherever they are in ONE) or for yourself (you will be asked again in this "
   "conversation), at a time (ms since 1970) or after some minutes.",
   "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":2000},\"at\":{\"type\":\"number\",\"minimum\":0},\"delayMinutes\":"
   "{\"type\":\"number\",\"minimum\":0,\"maximum\":525600},\"for\":{\"enum\":[\"user\","
   "\"agent\"]}},\"required\":[\"message\"],\"additionalProperties\":false}", 0,
   create_reminder, 0},
  {"scheduleEvent", "Put an event in the calendar of the person you are talking with, yours "
   "and that of the participants named (people and agents of this conversation): at a time "
   "(ms since 1970) or in some minutes, for durationMinutes (default 60).",
   "{\"type\":\"object\",\"properties\":{\"title\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":300},\"description\":{\"type\":\"string\",\"maxLength\":4000},"
   "\"startTime\":{\"type\":\"number\",\"minimum\":0},\"startInMinutes\":{\"type\":"
   "\"number\",\"minimum\":0,\"maximum\":525600},\"durationMinutes\":{\"type\":\"number\","
   "\"minimum\":0,\"maximum\":10080},\"participants\":{\"type\":\"array\",\"items\":"
   "{\"type\":\"string\",\"minLength\":1},\"maxItems\":50}},\"required\":[\"title\"],"
   "\"additionalProperties\":false}", 0, schedule_event, 0},
  {"searchKnowledge", "Search the knowledge base: what the person you are talking with has "
   "told (about: user), what you know (about: agent), or both (the default); by words and "
   "meaning, best first.",
   "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":2000},\"about\":{\"enum\":[\"user\",\"agent\",\"both\"]},\"tags\":"
   "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":10},\"limit\":"
   "{\"type\":\"integer\",\"minimum\":1,\"maximum\":20}},\"required\":[\"query\"],"
   "\"additionalProperties\":false}", 0, search_knowledge, 0},
  {"addKnowledge", "Store a fact in the knowledge base: about the person you are talking with "
   "(the default) or about yourself, with tags.",
   "{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\",\"minLength\":1,"
   "\"maxLength\":8000},\"about\":{\"enum\":[\"user\",\"agent\"]},\"tags\":{\"type\":"
   "\"array\",\"items\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64},"
   "\"maxItems\":10}},\"required\":[\"content\"],\"additionalProperties\":false}", 0,
   add_knowledge, 0},
  {"updateProgress", "Move a person's progress on a step of the learning flow (default: the "
   "Elevate flow; default person: who started this exchange).",
   "{\"type\":\"object\",\"properties\":{\"step\":{\"enum\":" STEPS "},\"status\":{\"enum\":"
   "[\"Not Started\",\"In Progress\",\"Completed\",\"Blocked\",\"Skipped\"]},\"notes\":"
   "{\"type\":\"string\",\"maxLength\":2000},\"userId\":{\"type\":\"string\"},\"flowId\":"
   "{\"type\":\"string\"}},\"required\":[\"step\",\"status\"],\"additionalProperties\":false}",
   0, update_progress, 0},
  {"assignStep", "Assign a step of the learning flow to a person or an agent of this "
   "conversation, with a role.",
   "{\"type\":\"object\",\"properties\":{\"step\":{\"enum\":" STEPS "},\"role\":{\"enum\":"
   "[\"owner\",\"reviewer\",\"contributor\"]},\"userId\":{\"type\":\"string\"},\"agentId\":"
   "{\"type\":\"string\"},\"flowId\":{\"type\":\"string\"}},\"required\":[\"step\",\"role\"],"
   "\"additionalProperties\":false}", 0, assign_step, 0},
};

#define NTOOLS (sizeof registry / sizeof registry[0])

static const struct tool *find(const char *name)
{
  for (size_t i = 0; name && i < NTOOLS; i++)
    if (strcmp(registry[i].name, name) == 0)
      return &registry[i];
  return NULL;
}

/* Each tool's OpenAI description and parsed schema, made once: every run
 * sends them, and schemas are checked on every call. Read-only after. */
static json_t *described[NTOOLS], *schemas[NTOOLS];
static pthread_once_t described_once = PTHREAD_ONCE_INIT;

static void describe_all(void)
{
  for (size_t i = 0; i < NTOOLS; i++) {
    json_error_t je;
    schemas[i] = json_loads(registry[i].parameters, 0, &je);
    described[i] = json_pack("{s:s,s:{s:s,s:s,s:O}}", "type", "function", "function", "name",
                             registry[i].name, "description", registry[i].description,
                             "parameters", schemas[i]);
  }
}

static json_t *openai_tool(const struct tool *t)
{
  pthread_once(&described_once, describe_all);
  return json_incref(described[t - registry]);
}

static const json_t *schema_of(const struct tool *t)
{
  pthread_once(&described_once, describe_all);
  return schemas[t - registry];
}

/* Whether agent has tool t enabled: in its `tools`, or an agentTools row
 * (read from the stored text: this runs for every run). */
static int enabled(struct store_tx *tx, const json_t *agent, const struct tool *t,
                   json_t **config)
{
  char *text = NULL, id[CID_MAX] = "";
  size_t n = 0;
  struct err e = ERR_INIT;
  int yes = 0;
  if (dq_first_text_str(tx, "tools", "by_name", t->name, &text, &n, &e) == 0 && text &&
      jtext_str(text, n, "_id", id, sizeof id)) {
    json_t *eq = json_pack("[s,s]", dq_str(agent, "_id"), id);
    char *row = NULL;
    size_t rlen = 0;
    int linked = eq && dq_first_text(tx, "agentTools", "by_agent_and_tool", eq, &row, &rlen,
                                     &e) == 0 && row;
    const char *raw = NULL;
    size_t rawlen = 0;
    if (linked && config && jtext_field(row, rlen, "config", &raw, &rawlen) == 1) {
      json_error_t je;
      *config = json_loadb(raw, rawlen, 0, &je); /* the agent's settings for the tool */
    }
    yes = linked || dq_list_has(json_object_get(agent, "tools"), id);
    one_free(row);
    json_decref(eq);
  }
  one_free(text);
  err_clear(&e);
  return yes;
}

int tools_enabled(struct store_tx *tx, const json_t *agent, const char *name)
{
  const struct tool *t = find(name);
  return t && (t->always || enabled(tx, agent, t, NULL));
}

json_t *tools_for(struct store_tx *tx, const json_t *agent)
{
  json_t *out = json_array();
  for (size_t i = 0; out && i < NTOOLS; i++)
    if (registry[i].always || enabled(tx, agent, &registry[i], NULL))
      json_array_append_new(out, openai_tool(&registry[i]));
  return out;
}

struct run_arg {
  const struct tool *t;
  struct call c;
};

static int enabled_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct run_arg *a = arg;
  if (!a->t->always && !enabled(tx, a->c.env->agent, a->t, &a->c.config))
    return err_set(err, E_PERM, "the tool %s is not enabled for %s", a->t->name,
                   dq_str(a->c.env->agent, "name"));
  return 0;
}

static int run_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct run_arg *a = arg;
  int rc = enabled_tx(tx, arg, err);
  return rc ? rc : a->t->fn(tx, &a->c, err);
}

/* The tool called name and its arguments, checked against its schema. */
static int prepare(const char *name, const char *arguments, const struct tool **t,
                   json_t **args, struct err *err)
{
  *t = find(name);
  if (!*t)
    return err_set(err, E_NOTFOUND, "there is no tool named '%s'", name ? name : "");
  json_error_t je;
  *args = json_loads(arguments && *arguments ? arguments : "{}", JSON_REJECT_DUPLICATES, &je);
  if (!*args)
    return err_set(err, E_PARSE, "the arguments are not valid JSON (%s)", je.text);
  return jschema_check(schema_of(*t), *args, err);
}

/* The result text of a call that ran (rc 0), and the call's references released. */
static int result_text(struct run_arg *a, int rc, char **out, struct err *err)
{
  if (!rc)
    *out = a->c.result ? json_dumps(a->c.result, JSON_COMPACT) : one_strdup("{}");
  if (!rc && !*out)
    rc = err_set(err, E_NOMEM, "out of memory");
  json_decref(a->c.result);
  json_decref(a->c.config);
  json_decref((json_t *)a->c.args);
  return rc;
}

int tools_outside(const char *name)
{
  const struct tool *t = find(name);
  return t && t->outside;
}

int tools_call_outside(const struct tool_env *env, const char *name, const char *arguments,
                       char **out, struct err *err)
{
  *out = NULL;
  const struct tool *t = NULL;
  json_t *args = NULL;
  int rc = prepare(name, arguments, &t, &args, err);
  struct run_arg a = {t, {env, args, NULL, NULL}};
  if (!rc && !t->outside)
    rc = err_set(err, E_INTERNAL, "%s writes to the store: it runs in the step's transaction",
                 name);
  if (!rc) /* checked in a read, run with no transaction open */
    rc = store_run(env->rt->s, STORE_READ, enabled_tx, &a, err);
  if (!rc)
    rc = t->fn(NULL, &a.c, err);
  return result_text(&a, rc, out, err);
}

int tools_call_in(struct store_tx *tx, const struct tool_env *env, const char *name,
                  const char *arguments, char **out, struct err *err)
{
  *out = NULL;
  const struct tool *t = NULL;
  json_t *args = NULL;
  int rc = prepare(name, arguments, &t, &args, err);
  struct run_arg a = {t, {env, args, NULL, NULL}};
  if (!rc && t->outside)
    rc = err_set(err, E_INTERNAL, "%s waits on the network: it runs outside a transaction",
                 name);
  else if (!rc)
    rc = store_try(tx, run_tx, &a, err); /* a failing tool takes back only its own writes */
  return result_text(&a, rc, out, err);
}
