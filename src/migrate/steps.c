/* steps: expand, the backfills and contract of the agent-inbox -> ONE chain. */
#include "migrate/steps.h"

#include "schema/diff.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mctx_insert(struct mctx *m, const char *table, const char *key, const json_t *fields,
                char id[CID_MAX], struct err *err)
{
  uint32_t number = store_table_number(m->tx, table);
  if (!number)
    return err_set(err, E_NOTFOUND, "no table '%s' in the schema in force", table);
  uint8_t internal[CID_INTERNAL];
  crypto_generichash_state h;
  crypto_generichash_init(&h, NULL, 0, 14);
  crypto_generichash_update(&h, (const uint8_t *)m->seed, strlen(m->seed) + 1);
  crypto_generichash_update(&h, (const uint8_t *)table, strlen(table) + 1);
  crypto_generichash_update(&h, (const uint8_t *)key, strlen(key));
  crypto_generichash_final(&h, internal, 14);
  long day = m->at > 0 ? (long)(m->at / 86400000.0) : 0;
  internal[14] = (uint8_t)((day >> 8) & 0xff);
  internal[15] = (uint8_t)(day & 0xff);
  cid_encode(number, internal, id);
  json_t *doc = json_deep_copy(fields);
  int rc = doc && !json_object_set_new(doc, "_id", json_string(id)) &&
               !json_object_set_new(doc, "_creationTime", json_real(m->at))
             ? store_insert(m->tx, table, doc, STORE_KEEP_SYSTEM, NULL, err)
             : err_set(err, E_NOMEM, "out of memory");
  json_decref(doc);
  if (rc == E_CONFLICT)
    rc = err_set(err, E_CONFLICT, "%s: the document for '%s' exists already (%s)", table, key, id);
  if (!rc && json_array_append_new(m->created, json_string(id)))
    rc = err_set(err, E_NOMEM, "out of memory");
  return rc;
}

/* --- small queries --- */

/* The _id of the first document of table's index with these leading values
 * (steals eq), read from its stored text; id "" when there is none. */
static int first_id_by(struct store_tx *tx, const char *table, const char *index, json_t *eq,
                       char id[CID_MAX], struct err *err)
{
  struct store_query q = {.table = table, .index = index, .eq = eq, .limit = 1, .as_text = 1,
                          .first_only = 1};
  struct store_page page;
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  id[0] = '\0';
  if (rc)
    return rc;
  if (page.ntexts && !jtext_str(page.texts[0], page.lens[0], "_id", id, CID_MAX))
    rc = err_set(err, E_STORE, "a stored document of %s is damaged (no _id)", table);
  store_page_release(&page);
  return rc;
}

static const char *str(const json_t *doc, const char *field)
{
  const char *s = json_string_value(json_object_get(doc, field));
  return s ? s : "";
}

/* The raw text of a top-level field (NULL, *vlen 0 when missing). */
static const char *text_raw(const char *t, size_t n, const char *field, size_t *vlen)
{
  const char *v = NULL;
  *vlen = 0;
  return jtext_field(t, n, field, &v, vlen) == 1 ? v : NULL;
}

static int is_id_of(struct store_tx *tx, const char *s, const char *table)
{
  uint32_t num = cid_table(s, strlen(s));
  struct id_resolver ids = store_id_resolver(tx);
  const char *name = num ? ids.table_name(ids.ctx, num) : NULL;
  return name && strcmp(name, table) == 0;
}

static json_t *patch_one(const char *field, json_t *value)
{
  json_t *p = json_object();
  if (p && json_object_set_new(p, field, value)) {
    json_decref(p);
    return NULL;
  }
  return p;
}

/* --- backfill-created-at --- */

void mctx_set_at(struct mctx *m, const char *t, size_t n)
{
  const char *v = NULL;
  size_t vlen = 0;
  int has = jtext_field(t, n, "_creationTime", &v, &vlen) == 1;
  m->at = has ? strtod(v, NULL) : 0;
  m->at_text = has ? v : NULL;
  m->at_len = has ? vlen : 0;
}

/* createdAt from _creationTime, which the walk has read into m->at. */
static int created_at_text(struct mctx *m, const char *table, const char *text, size_t len,
                           json_t **patch, struct err *err)
{
  (void)table;
  const char *v = NULL;
  size_t vlen = 0;
  int has = jtext_field(text, len, "createdAt", &v, &vlen);
  if (has < 0)
    return err_set(err, E_STORE, "a stored document is damaged (not a JSON object)");
  if (has)
    return 0;
  *patch = patch_one("createdAt", json_real(m->at));
  if (!*patch)
    return err_set(err, E_NOMEM, "out of memory");
  /* The stored _creationTime is a real as jv_dumps printed it, and %.17g
   * reads back to the same double: its text is the value's text. */
  if (m->at_text && m->at_len < 64 && memchr(m->at_text, '.', m->at_len) &&
      !memchr(m->at_text, 'e', m->at_len) && !memchr(m->at_text, 'E', m->at_len)) {
    struct buf b;
    buf_init(&b, BUF_UNBOUNDED);
    if (!buf_puts(&b, "{\"createdAt\":") && !buf_append(&b, m->at_text, m->at_len) &&
        !buf_puts(&b, "}"))
      m->patch_text = buf_detach(&b);
    buf_release(&b);
  }
  return 0;
}

/* --- backfill-users --- */

static int users(struct mctx *m, const char *table, const json_t *doc, json_t **patch,
                 struct err *err)
{
  (void)m;
  (void)table;
  json_t *p = json_object();
  if (!p)
    return err_set(err, E_NOMEM, "out of memory");
  const char *email = str(doc, "email"), *phone = str(doc, "phone");
  if (!json_object_get(doc, "name")) {
    char name[256];
    if (email[0])
      snprintf(name, sizeof name, "%.*s", (int)strcspn(email, "@"), email);
    else
      snprintf(name, sizeof name, "%s", phone[0] ? phone : "Anonymous user");
    json_object_set_new(p, "name", json_string(name[0] ? name : "Anonymous user"));
  }
  if (!json_object_get(doc, "email")) {
    char synth[128];
    snprintf(synth, sizeof synth, "%s@users.invalid", str(doc, "_id"));
    json_object_set_new(p, "email", json_string(synth));
  }
  if (phone[0] && !json_object_get(doc, "phoneNumbers"))
    json_object_set_new(p, "phoneNumbers", json_pack("[s]", phone));
  if (json_object_size(p))
    *patch = p;
  else
    json_decref(p);
  return 0;
}

/* --- backfill-agent-prompts --- */

char *steps_agent_prompt(const json_t *agent)
{
  static const struct {
    const char *field, *label;
  } parts[] = {{"personality", "Personality"}, {"goal", "Goal"},
               {"systemPrompt", "System prompt"}, {"instructions", "Instructions"}};
  const char *texts[4];
  size_t n = 0;
  const char *labels[4];
  for (size_t i = 0; i < 4; i++) {
    const char *t = str(agent, parts[i].field);
    int dup = 0;
    for (size_t k = 0; k < n && !dup; k++)
      dup = strcmp(texts[k], t) == 0;
    if (t[0] && !dup) {
      labels[n] = parts[i].label;
      texts[n++] = t;
    }
  }
  if (n == 0)
    return NULL;
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  for (size_t i = 0; i < n; i++) {
    if (n == 1)
      buf_puts(&b, texts[i]);
    else
      buf_printf(&b, "%s%s: %s", i ? "\n\n" : "", labels[i], texts[i]);
  }
  char *text = one_strdup(buf_str(&b));
  buf_release(&b);
  return text;
}

static int agent_prompts(struct mctx *m, const char *table, const json_t *doc, json_t **patch,
                         struct err *err)
{
  (void)m;
  (void)table;
  if (json_object_get(doc, "prompt"))
    return 0;
  char *text = steps_agent_prompt(doc);
  if (!text)
    return 0; /* nothing to fold: prompt stays absent (it is optional) */
  *patch = patch_one("prompt", json_string(text));
  one_free(text);
  return *patch ? 0 : err_set(err, E_NOMEM, "out of memory");
}

/* --- backfill-tools --- */

static const struct {
  const char *name, *description;
} tool_descriptions[] = {
  {"webSearch", "Search the web and return the most relevant results."},
  {"scheduleTask", "Send a message to an agent a number of seconds from now."},
  {"sendEmail", "Send an email on the user's behalf."},
  {"listConversationParticipants", "List the people and agents in this conversation."},
  {"listAgents", "List the agents that can be added to this conversation."},
  {"messageAnotherAgent", "Hand a message to another agent."},
  {"noOutput", "Finish without posting a reply."},
  {"updateConversationTitle", "Change this conversation's title."},
  {"addParticipantToConversation", "Add a person or an agent to this conversation."},
};

/* The id of the tools document named name, created when missing. */
static int tool_id(struct mctx *m, const char *name, char id[CID_MAX], struct err *err)
{
  json_t *memo = json_object_get(m->memo, "tools");
  if (!memo) {
    json_object_set_new(m->memo, "tools", json_object());
    memo = json_object_get(m->memo, "tools");
  }
  const char *known = json_string_value(json_object_get(memo, name));
  if (known) {
    snprintf(id, CID_MAX, "%s", known);
    return 0;
  }
  int rc = first_id_by(m->tx, "tools", "by_name", json_pack("[s]", name), id, err);
  if (rc)
    return rc;
  if (!id[0]) {
    const char *desc = "A tool used by agents of the agent-inbox deployment.";
    for (size_t i = 0; i < sizeof tool_descriptions / sizeof tool_descriptions[0]; i++)
      if (strcmp(tool_descriptions[i].name, name) == 0)
        desc = tool_descriptions[i].description;
    json_t *fields = json_pack("{s:s,s:s}", "name", name, "description", desc);
    rc = fields ? mctx_insert(m, "tools", name, fields, id, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(fields);
    if (rc)
      return rc;
  }
  json_object_set_new(memo, name, json_string(id));
  return 0;
}

static int tools(struct mctx *m, const char *table, const json_t *doc, json_t **patch,
                 struct err *err)
{
  (void)table;
  const json_t *list = json_object_get(doc, "tools");
  size_t i;
  const json_t *t;
  int names = 0;
  json_array_foreach(list, i, t) names += !is_id_of(m->tx, json_string_value(t), "tools");
  if (!names)
    return 0;
  json_t *ids = json_array();
  json_array_foreach(list, i, t) {
    const char *s = json_string_value(t);
    char id[CID_MAX];
    int rc = is_id_of(m->tx, s, "tools") ? (snprintf(id, sizeof id, "%s", s), 0)
                                          : tool_id(m, s, id, err);
    if (rc) {
      json_decref(ids);
      return rc;
    }
    json_array_append_new(ids, json_string(id));
  }
  *patch = patch_one("tools", ids);
  return *patch ? 0 : err_set(err, E_NOMEM, "out of memory");
}

/* --- backfill-director --- */

static const char director_prompt[] =
  "You are the Director of this ONE workspace. You read every message that mentions no agent "
  "and decide who should answer it: answer yourself when it is a simple question, hand it to "
  "the agent whose role fits best when one does, and keep the conversation moving toward the "
  "person's goal. You were given the duty of the legacy triage agent.";

/* The Director agent's id (created when missing). */
static int director_id(struct mctx *m, char id[CID_MAX], struct err *err)
{
  const char *known = json_string_value(json_object_get(m->memo, "director"));
  if (known) {
    snprintf(id, CID_MAX, "%s", known);
    return 0;
  }
  struct store_query q = {.table = "agents", .index = "by_name", .limit = 100};
  json_t *eq = json_pack("[s]", "Director");
  q.eq = eq;
  struct store_page page;
  int rc = store_query(m->tx, &q, &page, err);
  json_decref(eq);
  if (rc)
    return rc;
  size_t i;
  json_t *d;
  id[0] = '\0';
  json_array_foreach(page.docs, i, d) if (!id[0] && strcmp(str(d, "kind"), "system_agent") == 0)
    snprintf(id, CID_MAX, "%s", str(d, "_id"));
  store_page_release(&page);
  if (!id[0]) {
    json_t *fields = json_pack("{s:s,s:s,s:s,s:s,s:f}", "name", "Director", "description",
                               "Orchestrates the agent team; answers messages that mention no "
                               "agent", "kind", "system_agent", "prompt", director_prompt,
                               "createdAt", m->at);
    rc = fields ? mctx_insert(m, "agents", "director", fields, id, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(fields);
    if (rc)
      return rc;
  }
  json_object_set_new(m->memo, "director", json_string(id));
  return 0;
}

/* The participant row of agent in conv, "" when it has none. Rows found or
 * added are remembered for the run (a row is never deleted, so a
 * remembered one stays right); a row not found is looked up again. */
static int participant_of_agent(struct mctx *m, const char *conv, const char *agent,
                                char pid[CID_MAX], struct err *err)
{
  json_t *memo = json_object_get(m->memo, "participants");
  if (!memo) {
    json_object_set_new(m->memo, "participants", json_object());
    memo = json_object_get(m->memo, "participants");
  }
  char key[2 * CID_MAX + 2];
  snprintf(key, sizeof key, "%s/%s", conv, agent);
  const char *known = json_string_value(json_object_get(memo, key));
  if (known) {
    snprintf(pid, CID_MAX, "%s", known);
    return 0;
  }
  int rc = first_id_by(m->tx, "conversationParticipants", "by_conversationId_kind_agentId",
                       json_pack("[s,s,s]", conv, "agent", agent), pid, err);
  if (!rc && pid[0] && memo)
    json_object_set_new(memo, key, json_string(pid));
  return rc;
}

/* Remembers the row just added for agent in conv. */
static void participant_added(struct mctx *m, const char *conv, const char *agent,
                              const char *pid)
{
  json_t *memo = json_object_get(m->memo, "participants");
  char key[2 * CID_MAX + 2];
  snprintf(key, sizeof key, "%s/%s", conv, agent);
  if (memo)
    json_object_set_new(memo, key, json_string(pid));
}

/* The Director's participant row in a conversation, added when missing. */
static int director_participant(struct mctx *m, const char *conv, double added_at, int removed,
                                char pid[CID_MAX], struct err *err)
{
  char director[CID_MAX];
  int rc = director_id(m, director, err);
  if (rc)
    return rc;
  rc = participant_of_agent(m, conv, director, pid, err);
  if (rc || pid[0])
    return rc;
  json_t *fields = json_pack("{s:s,s:s,s:s,s:s,s:b,s:f}", "conversationId", conv, "kind", "agent",
                             "agentId", director, "status", "inactive", "isRemoved", removed,
                             "addedAt", added_at);
  rc = fields ? mctx_insert(m, "conversationParticipants", conv, fields, pid, err)
              : err_set(err, E_NOMEM, "out of memory");
  json_decref(fields);
  if (!rc)
    participant_added(m, conv, director, pid);
  return rc;
}

static int is_triage(struct mctx *m, const char *agent, struct err *err)
{
  json_t *memo = json_object_get(m->memo, "triage");
  if (!memo) {
    json_object_set_new(m->memo, "triage", json_object());
    memo = json_object_get(m->memo, "triage");
  }
  json_t *known = json_object_get(memo, agent);
  if (known)
    return json_is_true(known);
  char *text = NULL;
  size_t len = 0;
  int rc = store_get_text(m->tx, agent, &text, &len, NULL, err);
  if (rc && rc != E_NOTFOUND)
    return rc;
  char kind[16];
  int yes = text && jtext_str(text, len, "systemAgentKind", kind, sizeof kind) &&
            strcmp(kind, "triage") == 0;
  one_free(text);
  json_object_set_new(memo, agent, json_boolean(yes));
  return yes;
}

static int director(struct mctx *m, const char *table, const char *t, size_t n, json_t **patch,
                    struct err *err)
{
  (void)table;
  (void)patch;
  char kind[16], agent[CID_MAX], conv[CID_MAX];
  jtext_str(t, n, "kind", kind, sizeof kind);
  if (strcmp(kind, "agent") != 0 || jtext_bool(t, n, "isRemoved"))
    return 0;
  jtext_str(t, n, "agentId", agent, sizeof agent);
  int triage = is_triage(m, agent, err);
  if (triage <= 0)
    return triage;
  jtext_str(t, n, "conversationId", conv, sizeof conv);
  size_t alen = 0;
  const char *added = text_raw(t, n, "addedAt", &alen);
  char pid[CID_MAX];
  return director_participant(m, conv, added ? strtod(added, NULL) : 0, 0, pid, err);
}

/* --- backfill-system-authors --- */

static int system_authors(struct mctx *m, const char *table, const char *t, size_t n,
                          json_t **patch, struct err *err)
{
  (void)table;
  char kind[16], conv[CID_MAX], agent[CID_MAX], agent_name[4096];
  size_t len = 0, mlen = 0;
  jtext_str(t, n, "kind", kind, sizeof kind);
  if (strcmp(kind, "system") != 0 || text_raw(t, n, "authorParticipantId", &len))
    return 0;
  jtext_str(t, n, "conversationId", conv, sizeof conv);
  const char *meta = text_raw(t, n, "meta", &mlen);
  jtext_str(meta, mlen, "agentId", agent, sizeof agent);
  jtext_str(meta, mlen, "agentName", agent_name, sizeof agent_name);
  char pid[CID_MAX] = "";
  int rc = 0;
  if (agent[0] && is_id_of(m->tx, agent, "agents"))
    rc = participant_of_agent(m, conv, agent, pid, err);
  if (!rc && !pid[0] && agent_name[0]) {
    char a[CID_MAX];
    rc = first_id_by(m->tx, "agents", "by_name", json_pack("[s]", agent_name), a, err);
    if (!rc && a[0])
      rc = participant_of_agent(m, conv, a, pid, err);
  }
  if (!rc && !pid[0])
    rc = director_participant(m, conv, m->at, 1, pid, err);
  if (rc)
    return rc;
  *patch = patch_one("authorParticipantId", json_string(pid));
  return *patch ? 0 : err_set(err, E_NOMEM, "out of memory");
}

/* --- contract --- */

static int contract(struct mctx *m, const char *table, const json_t *doc, json_t **patch,
                    struct err *err)
{
  const struct table_def *t = schema_table(m->target, table);
  if (!t)
    return 0;
  json_t *moved = json_object(), *p = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)doc, k, v) {
    if (k[0] == '_')
      continue;
    int opt = 0;
    struct validator *f = table_field(t, k, &opt);
    if (!f) {
      json_object_set(moved, k, v);
      json_object_set_new(p, k, store_undefined());
    }
    validator_unref(f);
  }
  int rc = 0;
  if (json_object_size(moved)) {
    char id[CID_MAX];
    json_t *legacy = json_pack("{s:s,s:s,s:s,s:O,s:s,s:f}", "table", table, "docId",
                               str(doc, "_id"), "step", m->step, "fields", moved, "reason",
                               "the one schema has no such field", "createdAt", clock_now_ms());
    char key[128 + CID_MAX];
    snprintf(key, sizeof key, "%s/%s", table, str(doc, "_id"));
    rc = legacy ? mctx_insert(m, "migrationLegacy", key, legacy, id, err)
                : err_set(err, E_NOMEM, "out of memory");
    json_decref(legacy);
    if (!rc) {
      *patch = p;
      p = NULL;
    }
  }
  json_decref(p);
  json_decref(moved);
  return rc;
}

/* --- the chain --- */

static const char *const created_at_tables[] = {"users", "agents", "conversations",
                                                "conversationMessages", NULL};
static const char *const users_tables[] = {"users", NULL};
static const char *const agents_tables[] = {"agents", NULL};
static const char *const participants_tables[] = {"conversationParticipants", NULL};
static const char *const messages_tables[] = {"conversationMessages", NULL};
static const char *const legacy_tables[] = {"users", "agents", "conversations",
                                            "conversationParticipants", "conversationMessages",
                                            NULL};

static const char *const t_created_at[] = {"createdAt", NULL};
static const char *const t_users[] = {"name", "email", "phoneNumbers", NULL};
static const char *const t_prompt[] = {"prompt", NULL};
static const char *const t_tools[] = {"tools", NULL};
static const char *const t_author[] = {"authorParticipantId", NULL};

static const struct mstep chain[] = {
  {"expand", MSTEP_EXPAND,
   "put one-expand in force: the new tables and indexes, new fields as optional, validators "
   "widened to accept both shapes", "one-expand", "agent-inbox", NULL, NULL, NULL, NULL, NULL},
  {"backfill-created-at", MSTEP_BACKFILL,
   "createdAt from _creationTime on users, agents, conversations and messages", NULL, NULL,
   created_at_tables, NULL, t_created_at, NULL, created_at_text},
  {"backfill-users", MSTEP_BACKFILL,
   "a name and an email for every user (derived where missing), phoneNumbers from phone",
   NULL, NULL, users_tables, users, t_users, NULL, NULL},
  {"backfill-agent-prompts", MSTEP_BACKFILL,
   "prompt from personality, goal, systemPrompt and instructions", NULL, NULL, agents_tables,
   agent_prompts, t_prompt, NULL, NULL},
  {"backfill-tools", MSTEP_BACKFILL,
   "tool names become tools documents and their ids", NULL, NULL, agents_tables, tools,
   t_tools, NULL, NULL},
  {"backfill-director", MSTEP_BACKFILL,
   "the Director takes the triage agent's duty: it joins every conversation triage is in",
   NULL, NULL, participants_tables, NULL, NULL, "\"kind\":\"agent\"", director},
  {"backfill-system-authors", MSTEP_BACKFILL,
   "an author for every system message: the agent its meta names, else the Director", NULL,
   NULL, messages_tables, NULL, t_author, "\"kind\":\"system\"", system_authors},
  {"contract", MSTEP_CONTRACT,
   "move the fields ONE has no place for into migrationLegacy and put one in force",
   "one", "one-expand", legacy_tables, contract, NULL, NULL, NULL},
};

const struct mstep *steps_list(size_t *n)
{
  *n = sizeof chain / sizeof chain[0];
  return chain;
}
