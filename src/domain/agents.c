/* agents: agent profiles, sharing and per-agent tools (see agents.h). */
#include "domain/agents.h"

#include "domain/dq.h"
#include "domain/flags.h"
#include "migrate/steps.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

/* The string at list[i], or "". */
static const char *str_at(const json_t *list, size_t i)
{
  const char *s = json_string_value(json_array_get(list, i));
  return s ? s : "";
}

static int is_system(const json_t *agent)
{
  return strcmp(dq_str(agent, "kind"), "system_agent") == 0;
}

int agent_usable(const struct actor *who, const json_t *agent)
{
  if (who->admin || strcmp(dq_str(agent, "visibility"), "private") != 0)
    return 1;
  return strcmp(dq_str(agent, "createdBy"), who->user) == 0 || dq_list_has(json_object_get(agent, "sharedWith"), who->user);
}

int agent_editable(const struct actor *who, const json_t *agent)
{
  if (is_system(agent))
    return who->admin;
  return strcmp(dq_str(agent, "createdBy"), who->user) == 0;
}

int agent_load(struct store_tx *tx, const struct actor *who, const char *id, json_t **agent,
               struct err *err)
{
  int rc = dq_get(tx, "agents", id, "agent", agent, err);
  if (rc == 0 && !agent_usable(who, *agent)) {
    json_decref(*agent);
    *agent = NULL;
    return err_set(err, E_NOTFOUND, "no such agent");
  }
  return rc;
}

/* Loads op->id for editing: E_NOTFOUND when unseen, E_PERM when not editable. */
static int load_editable(struct store_tx *tx, const struct op *op, json_t **agent, struct err *err)
{
  int rc = agent_load(tx, op->who, op->id, agent, err);
  if (rc == 0 && !agent_editable(op->who, *agent)) {
    rc = err_set(err, E_PERM, is_system(*agent) ? "only administrators change system agents"
                                                  : "only the agent's creator changes it");
    json_decref(*agent);
    *agent = NULL;
  }
  return rc;
}

/* --- list: public agents by the by_visibility index (a missing visibility
 * sorts first, then "public", both before "private"), then my private ones
 * by by_creator. The cursor says which phase: "p:…" or "m:…". --- */

/* One page of one phase into items; *next gets the cursor to go on with,
 * "" when the phase is done. */
/* With the read.one-shape flag on, an agent still in agent-inbox's shape
 * reads as ONE's: what the backfills will write, shown, not written. */
static void present(json_t *agent, int one_shape)
{
  if (!one_shape)
    return;
  if (!json_object_get(agent, "createdAt"))
    json_object_set(agent, "createdAt", json_object_get(agent, "_creationTime"));
  if (!json_object_get(agent, "prompt")) {
    char *prompt = steps_agent_prompt(agent);
    if (prompt)
      json_object_set_new(agent, "prompt", json_string(prompt));
    one_free(prompt);
  }
}

/* The phases of a listing, in order: public agents without a visibility
 * ('p', public by default), those marked public ('q'), then the caller's
 * private ones ('m'). A cursor is the phase's letter, ':', and the index
 * cursor within it. */
static const char phases[] = "pqm";

static int list_phase(struct store_tx *tx, const struct op *op, char phase, const char *inner,
                      size_t limit, json_t *items, char *next, size_t cap, struct err *err)
{
  json_t *eq = NULL, *bound = json_string("private");
  struct store_query q = {.table = "agents", .limit = limit, .cursor = inner};
  int mine = phase == 'm';
  if (phase == 'p') { /* undefined sorts before every string */
    q.index = "by_visibility";
    q.upper_op = STORE_LT;
    q.upper = bound;
  } else if (phase == 'q') {
    eq = json_pack("[s]", "public");
    q.index = "by_visibility";
    q.eq = eq;
  } else {
    eq = json_pack("[s]", op->who->user);
    q.index = "by_creator";
    q.eq = eq;
  }
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  json_decref(bound);
  if (rc != 0)
    return rc;
  int one_shape = flag_on(tx, FLAG_READ_ONE_SHAPE);
  for (size_t i = 0; i < json_array_size(page.docs); i++) {
    json_t *a = json_array_get(page.docs, i);
    if (!mine || strcmp(dq_str(a, "visibility"), "private") == 0) {
      present(a, one_shape);
      json_array_append(items, a);
    }
  }
  if (page.done)
    next[0] = '\0';
  else
    snprintf(next, cap, "%c:%s", phase, page.cursor ? page.cursor : "");
  store_page_release(&page);
  return 0;
}

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const char *cur = op->cursor;
  const char *at = cur ? strchr(phases, cur[0]) : phases;
  if (cur && (!cur[0] || !at || cur[1] != ':'))
    return err_set(err, E_INVALID, "malformed cursor");
  const char *inner = cur && cur[2] ? cur + 2 : NULL;
  size_t limit = op_limit(op);
  json_t *items = json_array();
  char next[600] = "";
  int rc = 0;
  for (; !rc && *at; at++, inner = NULL) {
    if (json_array_size(items) >= limit) { /* the page is full: the next phase from its start */
      snprintf(next, sizeof next, "%c:", *at);
      break;
    }
    rc = list_phase(tx, op, *at, inner, limit - json_array_size(items), items, next,
                    sizeof next, err);
    if (next[0])
      break; /* this phase has more */
  }
  if (rc) {
    json_decref(items);
    return rc;
  }
  op->out = op_page(items, next, !next[0]);
  return op->out ? 0 : err_set(err, E_NOMEM, "out of memory");
}

int agents_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, list_tx, op, err);
}

static int get_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = agent_load(tx, op->who, op->id, &op->out, err);
  if (!rc)
    present(op->out, flag_on(tx, FLAG_READ_ONE_SHAPE));
  return rc;
}

int agents_get(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, get_tx, op, err);
}

/* --- create / update --- */

static const char *const editable_fields[] = {
  "name", "description", "prompt", "avatarUrl", "delegatesTo", "tools", "tags", "model",
  "knowledge", "memories", "attachedPrompts", "canGuideSteps", "visibility", NULL,
};
static const char *const create_fields[] = {
  "name", "description", "prompt", "avatarUrl", "delegatesTo", "tools", "tags", "model",
  "knowledge", "memories", "attachedPrompts", "canGuideSteps", "visibility", "kind", NULL,
};

/* Every agent in delegatesTo must be one who may use. */
static int check_delegates(struct store_tx *tx, const struct actor *who, const json_t *fields,
                           struct err *err)
{
  const json_t *list = json_object_get(fields, "delegatesTo");
  for (size_t i = 0; i < json_array_size(list); i++) {
    const char *id = json_string_value(json_array_get(list, i));
    json_t *a = NULL;
    if (!id || !dq_is_id_of(tx, id, "agents"))
      continue; /* the schema check names the bad value */
    struct err e = ERR_INIT;
    int rc = agent_load(tx, who, id, &a, &e);
    err_clear(&e);
    json_decref(a);
    if (rc == E_NOTFOUND) {
      err_set(err, E_SCHEMA, "delegatesTo names an agent that does not exist");
      char path[64];
      snprintf(path, sizeof path, "agents.delegatesTo[%zu]", i);
      err_add_detail(err, path, "no such agent");
      return E_SCHEMA;
    }
  }
  return 0;
}

static int reload(struct store_tx *tx, const char *id, json_t **out, struct err *err)
{
  return store_get(tx, id, out, NULL, err);
}

static int create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = op_only_fields(op->in, "agents", create_fields, err);
  if (rc)
    return rc;
  json_t *doc = json_deep_copy(op->in);
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  const char *kind = dq_str(doc, "kind");
  if (!kind[0])
    json_object_set_new(doc, "kind", json_string("user_agent"));
  else if (strcmp(kind, "system_agent") == 0 && !op->who->admin)
    rc = err_set(err, E_PERM, "only administrators create system agents");
  json_object_set_new(doc, "createdBy", json_string(op->who->user));
  json_object_set_new(doc, "createdAt", json_real(clock_now_ms()));
  if (rc == 0)
    rc = check_delegates(tx, op->who, doc, err);
  char id[CID_MAX];
  if (rc == 0)
    rc = store_insert(tx, "agents", doc, 0, id, err);
  json_decref(doc);
  if (rc == 0)
    rc = reload(tx, id, &op->out, err);
  op->created = rc == 0;
  return rc;
}

int agents_create(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, create_tx, op, err);
}

static int update_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *agent = NULL;
  int rc = load_editable(tx, op, &agent, err);
  if (rc)
    return rc;
  json_decref(agent);
  if ((rc = op_only_fields(op->in, "agents", editable_fields, err)) ||
      (rc = check_delegates(tx, op->who, op->in, err)))
    return rc;
  json_t *patch = op_patch(op->in);
  json_object_set_new(patch, "updatedAt", json_real(clock_now_ms()));
  json_object_set_new(patch, "updatedBy", json_string(op->who->user));
  rc = store_patch(tx, op->id, patch, err);
  json_decref(patch);
  return rc ? rc : reload(tx, op->id, &op->out, err);
}

int agents_update(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, update_tx, op, err);
}

/* Deletes every document of table whose index by_agent starts with id. */
static int delete_by_agent(struct store_tx *tx, const char *table, const char *id, struct err *err)
{
  json_t *eq = json_pack("[s]", id);
  int rc = 0;
  for (;;) {
    struct store_query q = {.table = table, .index = "by_agent", .eq = eq, .limit = 200};
    struct store_page page = {0};
    if ((rc = store_query(tx, &q, &page, err)))
      break;
    size_t n = json_array_size(page.docs);
    for (size_t i = 0; rc == 0 && i < n; i++)
      rc = store_delete(tx, dq_str(json_array_get(page.docs, i), "_id"), err);
    store_page_release(&page);
    if (rc || n == 0)
      break;
  }
  json_decref(eq);
  return rc;
}

static int delete_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *agent = NULL;
  int rc = load_editable(tx, op, &agent, err);
  json_decref(agent);
  if (rc == 0)
    rc = delete_by_agent(tx, "agentTools", op->id, err);
  return rc ? rc : store_delete(tx, op->id, err);
}

int agents_delete(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, delete_tx, op, err);
}

/* --- sharing --- */

static int share_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int adding = op->sub == NULL;
  const char *user = adding ? json_string_value(json_object_get(op->in, "userId")) : op->sub;
  json_t *agent = NULL, *target = NULL;
  int rc = load_editable(tx, op, &agent, err);
  if (rc)
    return rc;
  if (adding && (!json_is_object(op->in) || !user)) {
    err_set(err, E_SCHEMA, "give the userId to share the agent with");
    err_add_detail(err, "userId", "expected id<users>");
    rc = E_SCHEMA;
  } else if (adding && (rc = dq_get(tx, "users", user, "user", &target, err)) != 0) {
    if (rc == E_NOTFOUND) {
      err_clear(err);
      err_set(err, E_SCHEMA, "no such user to share with");
      err_add_detail(err, "userId", "no such user");
      rc = E_SCHEMA;
    }
  }
  json_decref(target);
  if (rc == 0) {
    json_t *list = json_array();
    const json_t *old = json_object_get(agent, "sharedWith");
    for (size_t i = 0; i < json_array_size(old); i++)
      if (strcmp(str_at(old, i), user) != 0)
        json_array_append(list, json_array_get(old, i));
    if (adding)
      json_array_append_new(list, json_string(user));
    json_t *patch = json_pack("{s:o}", "sharedWith", list);
    rc = store_patch(tx, op->id, patch, err);
    json_decref(patch);
  }
  json_decref(agent);
  return rc ? rc : reload(tx, op->id, &op->out, err);
}

int agents_share(struct store *s, struct op *op, struct err *err)
{
  op->sub = NULL;
  return store_run(s, STORE_WRITE, share_tx, op, err);
}

int agents_unshare(struct store *s, struct op *op, struct err *err)
{
  if (!op->sub)
    return err_set(err, E_INVALID, "which user?");
  return store_run(s, STORE_WRITE, share_tx, op, err);
}

/* --- tools --- */

static int tools_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return op_list(tx, arg, "tools", "by_name", NULL, err);
}

int tools_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, tools_list_tx, op, err);
}

static int tools_create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"name", "description", "config", NULL};
  struct op *op = arg;
  if (!op->who->admin)
    return err_set(err, E_PERM, "only administrators add tools");
  int rc = op_only_fields(op->in, "tools", fields, err);
  json_t *existing = NULL;
  const char *name = json_string_value(json_object_get(op->in, "name"));
  if (rc == 0 && name && (rc = dq_first_str(tx, "tools", "by_name", name, &existing, err)) == 0 &&
      existing)
    rc = err_set(err, E_CONFLICT, "a tool named %s exists", name);
  json_decref(existing);
  if (rc)
    return rc;
  json_t *doc = json_deep_copy(op->in);
  json_object_set_new(doc, "createdBy", json_string(op->who->user));
  char id[CID_MAX];
  rc = store_insert(tx, "tools", doc, 0, id, err);
  json_decref(doc);
  op->created = rc == 0;
  return rc ? rc : reload(tx, id, &op->out, err);
}

int tools_create(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, tools_create_tx, op, err);
}

static int agent_tools_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *agent = NULL;
  int rc = agent_load(tx, op->who, op->id, &agent, err);
  json_decref(agent);
  if (rc)
    return rc;
  json_t *eq = json_pack("[s]", op->id);
  rc = op_list(tx, op, "agentTools", "by_agent", eq, err);
  json_decref(eq);
  return rc;
}

int agent_tools_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, agent_tools_list_tx, op, err);
}

/* The agentTools row of (op->id, op->sub) into *row, or NULL. */
static int agent_tool_row(struct store_tx *tx, const struct op *op, json_t **row, struct err *err)
{
  json_t *eq = json_pack("[s,s]", op->id, op->sub);
  int rc = dq_first(tx, "agentTools", "by_agent_and_tool", eq, row, err);
  json_decref(eq);
  return rc;
}

static int agent_tools_set_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"config", NULL};
  struct op *op = arg;
  json_t *agent = NULL, *tool = NULL, *row = NULL;
  int rc = load_editable(tx, op, &agent, err);
  json_decref(agent);
  if (rc)
    return rc;
  if (op->in && (rc = op_only_fields(op->in, "agentTools", fields, err)))
    return rc;
  if ((rc = dq_get(tx, "tools", op->sub, "tool", &tool, err)))
    return rc;
  json_decref(tool);
  if ((rc = agent_tool_row(tx, op, &row, err)))
    return rc;
  const json_t *config = op->in ? json_object_get(op->in, "config") : NULL;
  char id[CID_MAX];
  if (row) {
    snprintf(id, sizeof id, "%s", dq_str(row, "_id"));
    json_t *patch = json_pack("{s:o}", "config",
                              config ? json_incref((json_t *)config) : store_undefined());
    rc = store_patch(tx, id, patch, err);
    json_decref(patch);
  } else {
    json_t *doc = json_pack("{s:s,s:s,s:f}", "agentId", op->id, "toolId", op->sub, "createdAt",
                            clock_now_ms());
    if (config)
      json_object_set(doc, "config", (json_t *)config);
    rc = store_insert(tx, "agentTools", doc, 0, id, err);
    json_decref(doc);
    op->created = rc == 0;
  }
  json_decref(row);
  return rc ? rc : reload(tx, id, &op->out, err);
}

int agent_tools_set(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, agent_tools_set_tx, op, err);
}

static int agent_tools_remove_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *agent = NULL, *row = NULL;
  int rc = load_editable(tx, op, &agent, err);
  json_decref(agent);
  if (rc == 0 && (rc = agent_tool_row(tx, op, &row, err)) == 0) {
    if (!row)
      rc = err_set(err, E_NOTFOUND, "this tool is not enabled for the agent");
    else
      rc = store_delete(tx, dq_str(row, "_id"), err);
  }
  json_decref(row);
  return rc;
}

int agent_tools_remove(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, agent_tools_remove_tx, op, err);
}
