/* learning: see learning.h. */
#include "domain/learning.h"
#include "domain/agents.h"
#include "domain/dq.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

static const char *const states[] = {"Not Started", "In Progress", "Completed", "Blocked",
                                     "Skipped"};
enum { NOT_STARTED, IN_PROGRESS, COMPLETED, BLOCKED, SKIPPED, NSTATES };

/* allowed[from][to] */
static const unsigned char allowed[NSTATES][NSTATES] = {
  [NOT_STARTED] = {[IN_PROGRESS] = 1, [BLOCKED] = 1, [SKIPPED] = 1},
  [IN_PROGRESS] = {[COMPLETED] = 1, [BLOCKED] = 1, [SKIPPED] = 1, [NOT_STARTED] = 1},
  [BLOCKED] = {[IN_PROGRESS] = 1, [SKIPPED] = 1, [NOT_STARTED] = 1},
  [COMPLETED] = {[IN_PROGRESS] = 1},
  [SKIPPED] = {[IN_PROGRESS] = 1, [NOT_STARTED] = 1},
};

static int state_of(const char *s)
{
  for (int i = 0; s && i < NSTATES; i++)
    if (strcmp(states[i], s) == 0)
      return i;
  return -1;
}

int learning_default_flow(struct store_tx *tx, char out[CID_MAX], struct err *err)
{
  out[0] = '\0';
  char *id = NULL;
  struct err e = ERR_INIT;
  if (store_meta_get(tx, "seed.elevateFlow", &id, &e) == 0 && dq_is_id_of(tx, id, "learningFlows"))
    snprintf(out, CID_MAX, "%s", id);
  err_clear(&e);
  one_free(id);
  (void)err;
  return 0;
}

/* E_NOTFOUND unless flow is a learning flow that has step. */
static int check_step(struct store_tx *tx, const char *flow, const char *step, struct err *err)
{
  json_t *doc = NULL;
  int rc = dq_get(tx, "learningFlows", flow, "learning flow", &doc, err);
  if (rc)
    return rc;
  int found = 0;
  size_t i;
  json_t *s;
  json_array_foreach(json_object_get(doc, "steps"), i, s) found |= strcmp(dq_str(s, "stepName"),
                                                                          step ? step : "") == 0;
  json_decref(doc);
  return found ? 0 : err_set(err, E_NOTFOUND, "the flow has no step '%s'", step ? step : "");
}

/* The row of person (user or agent) for flow and step in table, or NULL. */
static int find_row(struct store_tx *tx, const char *table, const char *index, const char *flow,
                    const char *step, const char *person, int flow_first, json_t **row,
                    struct err *err)
{
  *row = NULL;
  json_t *eq = flow_first ? json_pack("[s,s]", flow, step) : json_pack("[s,s]", person, flow);
  struct store_query q = {.table = table, .index = index, .eq = eq, .limit = STORE_MAX_PAGE};
  struct store_page page = {0};
  int rc = eq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
  size_t i;
  json_t *d;
  json_array_foreach(page.docs, i, d) {
    int same = flow_first ? strcmp(dq_str(d, "userId"), person) == 0 ||
                              strcmp(dq_str(d, "agentId"), person) == 0
                          : strcmp(dq_str(d, "step"), step) == 0;
    if (same && !*row)
      *row = json_incref(d);
  }
  store_page_release(&page);
  json_decref(eq);
  return rc;
}

int learning_progress_set(struct store_tx *tx, const struct progress_change *c, json_t **out,
                          struct err *err)
{
  int to = state_of(c->status);
  if (to < 0) {
    err_set(err, E_SCHEMA, "'%s' is not a state: Not Started, In Progress, Completed, Blocked "
            "or Skipped", c->status ? c->status : "");
    err_add_detail(err, "status", "not a progress state");
    return E_SCHEMA;
  }
  if (!c->user == !c->agent)
    return err_set(err, E_INVALID, "progress is a user's or an agent's");
  int rc = check_step(tx, c->flow, c->step, err);
  const char *person = c->user ? c->user : c->agent;
  json_t *row = NULL;
  if (!rc)
    rc = find_row(tx, "progress", c->user ? "by_user_and_flow" : "by_agent_and_flow", c->flow,
                  c->step, person, 0, &row, err);
  if (rc)
    return rc;
  int from = row ? state_of(dq_str(row, "status")) : NOT_STARTED;
  if (from < 0)
    from = NOT_STARTED;
  double now = clock_now_ms();
  if (row && from == to) { /* already there */
    if (out)
      *out = json_incref(row);
    json_decref(row);
    return 0;
  }
  if (from != to && !allowed[from][to]) {
    json_decref(row);
    return err_set(err, E_CONFLICT, "a step that is %s cannot become %s%s", states[from],
                   states[to], from == COMPLETED ? " (reopen it: In Progress)" : "");
  }
  json_t *patch = json_pack("{s:s,s:f}", "status", states[to], "updatedAt", now);
  if (c->notes)
    json_object_set_new(patch, "notes", json_string(c->notes));
  int started = row && json_object_get(row, "startedAt");
  if ((to == IN_PROGRESS || to == COMPLETED) && !started)
    json_object_set_new(patch, "startedAt", json_real(now));
  if (to == COMPLETED)
    json_object_set_new(patch, "completedAt", json_real(now));
  char id[CID_MAX] = "";
  if (row) {
    if (to != COMPLETED && json_object_get(row, "completedAt"))
      json_object_set_new(patch, "completedAt", store_undefined());
    if (to == NOT_STARTED && started)
      json_object_set_new(patch, "startedAt", store_undefined());
    snprintf(id, sizeof id, "%s", dq_str(row, "_id"));
    rc = store_patch(tx, id, patch, err);
  } else {
    json_object_set_new(patch, "learningFlowId", json_string(c->flow));
    json_object_set_new(patch, "step", json_string(c->step));
    json_object_set_new(patch, c->user ? "userId" : "agentId", json_string(person));
    rc = store_insert(tx, "progress", patch, 0, id, err);
  }
  json_decref(patch);
  json_decref(row);
  if (!rc && out)
    rc = store_get(tx, id, out, NULL, err);
  return rc;
}

int learning_assign(struct store_tx *tx, const char *flow, const char *step, const char *user,
                    const char *agent, const char *role, const char *by, json_t **out,
                    struct err *err)
{
  static const char *const roles[] = {"owner", "reviewer", "contributor"};
  int known = 0;
  for (size_t i = 0; i < 3 && role; i++)
    known |= strcmp(roles[i], role) == 0;
  if (!known) {
    err_set(err, E_SCHEMA, "a role is owner, reviewer or contributor, not '%s'", role ? role : "");
    err_add_detail(err, "role", "not a role");
    return E_SCHEMA;
  }
  if (!user == !agent)
    return err_set(err, E_INVALID, "a step is assigned to a user or an agent");
  int rc = check_step(tx, flow, step, err);
  json_t *row = NULL;
  if (!rc)
    rc = find_row(tx, "assignments", "by_learningFlow_and_step", flow, step, user ? user : agent,
                  1, &row, err);
  if (rc)
    return rc;
  char id[CID_MAX] = "";
  if (row) {
    snprintf(id, sizeof id, "%s", dq_str(row, "_id"));
    json_t *patch = json_pack("{s:s}", "role", role);
    rc = store_patch(tx, id, patch, err);
    json_decref(patch);
  } else {
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:f}", "learningFlowId", flow, "step", step,
                            user ? "userId" : "agentId", user ? user : agent, "role", role,
                            "assignedAt", clock_now_ms());
    if (doc && by && by[0])
      json_object_set_new(doc, "assignedBy", json_string(by));
    rc = doc ? store_insert(tx, "assignments", doc, 0, id, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(doc);
  }
  json_decref(row);
  if (!rc && out)
    rc = store_get(tx, id, out, NULL, err);
  return rc;
}

/* --- the API --- */

static int flows_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return op_list(tx, arg, "learningFlows", NULL, NULL, err);
}

int learning_flows_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, flows_tx, op, err);
}

/* My progress rows and assignments in flow, into the flow's steps. */
static int my_steps(struct store_tx *tx, const char *user, const json_t *flow, json_t *steps,
                    struct err *err)
{
  const char *id = dq_str(flow, "_id");
  json_t *eq = json_pack("[s,s]", user, id), *ueq = json_pack("[s]", user);
  struct store_query q = {.table = "progress", .index = "by_user_and_flow", .eq = eq,
                          .limit = STORE_MAX_PAGE};
  struct store_query qa = {.table = "assignments", .index = "by_user", .eq = ueq,
                           .limit = STORE_MAX_PAGE};
  struct store_page page = {0}, pa = {0};
  int rc = eq && ueq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
  if (!rc)
    rc = store_query(tx, &qa, &pa, err);
  size_t i, k;
  json_t *st, *d;
  json_array_foreach(json_object_get(flow, "steps"), i, st) {
    const char *name = dq_str(st, "stepName");
    json_t *out = json_pack("{s:s,s:O,s:s,s:[]}", "stepName", name, "order",
                            json_object_get(st, "order"), "status", "Not Started", "roles");
    json_array_foreach(page.docs, k, d) if (strcmp(dq_str(d, "step"), name) == 0) {
      json_object_set(out, "status", json_object_get(d, "status"));
      if (json_object_get(d, "startedAt"))
        json_object_set(out, "startedAt", json_object_get(d, "startedAt"));
      if (json_object_get(d, "completedAt"))
        json_object_set(out, "completedAt", json_object_get(d, "completedAt"));
    }
    json_array_foreach(pa.docs, k, d) if (strcmp(dq_str(d, "learningFlowId"), id) == 0 &&
                                           strcmp(dq_str(d, "step"), name) == 0)
      json_array_append(json_object_get(out, "roles"), json_object_get(d, "role"));
    json_array_append_new(steps, out);
  }
  store_page_release(&page);
  store_page_release(&pa);
  json_decref(eq);
  json_decref(ueq);
  return rc;
}

static int me_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  struct store_query q = {.table = "learningFlows", .limit = OP_DEFAULT_PAGE};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_t *items = json_array();
  size_t i;
  json_t *f;
  json_array_foreach(page.docs, i, f) {
    json_t *steps = json_array();
    if (!rc)
      rc = my_steps(tx, op->who->user, f, steps, err);
    json_array_append_new(items, json_pack("{s:s,s:s,s:o}", "_id", dq_str(f, "_id"), "title",
                                           dq_str(f, "title"), "steps", steps));
  }
  store_page_release(&page);
  if (rc) {
    json_decref(items);
    return rc;
  }
  op->out = op_page(items, NULL, 1);
  return 0;
}

int learning_me(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, me_tx, op, err);
}

/* The flow op->id, into *flow; E_NOTFOUND when there is none. */
static int load_flow(struct store_tx *tx, const struct op *op, json_t **flow, struct err *err)
{
  if (!dq_is_id_of(tx, op->id, "learningFlows"))
    return err_set(err, E_NOTFOUND, "no learning flow %s", op->id);
  return dq_get(tx, "learningFlows", op->id, "learning flow", flow, err);
}

/* Whether who leads step of flow: an administrator, the flow's creator, or
 * an owner or reviewer of the step (step NULL: of any step). Leaders assign
 * any role and move anyone's progress on the step. */
static int leads(struct store_tx *tx, const struct actor *who, const json_t *flow,
                 const char *step, struct err *err)
{
  if (who->admin || strcmp(dq_str(flow, "createdBy"), who->user) == 0)
    return 1;
  json_t *eq = json_pack("[s]", who->user);
  struct store_query q = {.table = "assignments", .index = "by_user", .eq = eq,
                          .limit = STORE_MAX_PAGE};
  struct store_page page = {0};
  int rc = eq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
  int yes = 0;
  size_t i;
  json_t *a;
  json_array_foreach(page.docs, i, a) {
    const char *role = dq_str(a, "role");
    yes |= strcmp(dq_str(a, "learningFlowId"), dq_str(flow, "_id")) == 0 &&
           (!step || strcmp(dq_str(a, "step"), step) == 0) &&
           (strcmp(role, "owner") == 0 || strcmp(role, "reviewer") == 0);
  }
  store_page_release(&page);
  json_decref(eq);
  return rc ? rc : yes;
}

/* Whose row a write of flow op->id, step op->sub, is about, and what the
 * actor may do there. */
struct target {
  json_t *flow;
  const char *user, *agent; /* exactly one: the body's userId or agentId, else me */
  json_t *agent_doc;        /* the agent, or NULL */
  int mine;                 /* me, or an agent I edit */
  int leads;                /* I lead the step (leads()); found only when asked or not mine */
};

/* The flow, the person and the actor's rights into t (target_release it).
 * E_SCHEMA for a person that is not one id; E_NOTFOUND for a flow or a
 * person that does not exist (the flow is looked at first). */
static int target_of(struct store_tx *tx, const struct op *op, int ask_leads, struct target *t,
                     struct err *err)
{
  memset(t, 0, sizeof *t);
  int rc = load_flow(tx, op, &t->flow, err);
  if (rc)
    return rc;
  const json_t *u = json_object_get(op->in, "userId"), *a = json_object_get(op->in, "agentId");
  if ((u && !json_is_string(u)) || (a && !json_is_string(a)) || (u && a)) {
    err_set(err, E_SCHEMA, "name one person: {\"userId\"} or {\"agentId\"} (default: me)");
    err_add_detail(err, u && !json_is_string(u) ? "userId" : "agentId", "expected one id");
    return E_SCHEMA;
  }
  t->user = u ? json_string_value(u) : a ? NULL : op->who->user;
  t->agent = a ? json_string_value(a) : NULL;
  if (t->user && !dq_is_id_of(tx, t->user, "users"))
    return err_set(err, E_NOTFOUND, "no user %s", t->user);
  if (t->agent && (rc = dq_get(tx, "agents", t->agent, "agent", &t->agent_doc, err)))
    return rc;
  t->mine = (t->user && strcmp(t->user, op->who->user) == 0) ||
            (t->agent_doc && agent_editable(op->who, t->agent_doc));
  if (ask_leads || !t->mine) {
    t->leads = leads(tx, op->who, t->flow, op->sub, err);
    if (t->leads < 0)
      return t->leads;
  }
  return 0;
}

static void target_release(struct target *t)
{
  json_decref(t->flow);
  json_decref(t->agent_doc);
}

static int put_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  static const char *const fields[] = {"status", "notes", "userId", "agentId", NULL};
  int rc = op_only_fields(op->in, "progress", fields, err);
  const json_t *status = json_object_get(op->in, "status");
  const json_t *notes = json_object_get(op->in, "notes");
  if (!rc && (!json_is_string(status) || (notes && !json_is_string(notes)))) {
    err_set(err, E_SCHEMA, "progress is moved with {\"status\": STATE, \"notes\"?: TEXT}");
    err_add_detail(err, json_is_string(status) ? "notes" : "status", "expected a string");
    rc = E_SCHEMA;
  }
  struct target t = {0}; /* released whether or not target_of ran */
  if (!rc)
    rc = target_of(tx, op, 0, &t, err);
  if (!rc && !t.mine && !t.leads)
    rc = err_set(err, E_PERM, "only the flow's creator and the step's owners and reviewers move "
                 "someone else's progress");
  struct progress_change c = {op->id, op->sub, t.user, t.agent, json_string_value(status),
                              json_string_value(notes)};
  if (!rc)
    rc = learning_progress_set(tx, &c, &op->out, err);
  target_release(&t);
  return rc;
}

int learning_progress_put(struct store *s, struct op *op, struct err *err)
{
  int rc = op_need_object(op->in, err);
  return rc ? rc : store_run(s, STORE_WRITE, put_tx, op, err);
}

static int assign_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  static const char *const fields[] = {"role", "userId", "agentId", NULL};
  int rc = op_only_fields(op->in, "assignments", fields, err);
  const json_t *role = json_object_get(op->in, "role");
  if (!rc && !json_is_string(role)) {
    err_set(err, E_SCHEMA, "a step is assigned with {\"role\": owner|reviewer|contributor, "
            "\"userId\" or \"agentId\"?}");
    err_add_detail(err, "role", "expected a string");
    rc = E_SCHEMA;
  }
  struct target t = {0}; /* released whether or not target_of ran */
  if (!rc)
    rc = target_of(tx, op, 1, &t, err);
  /* others take part: themselves, or an agent they edit, as contributors */
  if (!rc && !t.leads && !t.mine)
    rc = err_set(err, E_PERM, "only the flow's creator and the step's owners and reviewers "
                 "assign others");
  else if (!rc && !t.leads && strcmp(json_string_value(role), "contributor") != 0)
    rc = err_set(err, E_PERM, "you may take part in a step as a contributor; the flow's "
                 "creator or the step's owners grant owner and reviewer");
  if (!rc)
    rc = learning_assign(tx, op->id, op->sub, t.user, t.agent, json_string_value(role),
                         op->who->user, &op->out, err);
  target_release(&t);
  return rc;
}

int learning_assign_put(struct store *s, struct op *op, struct err *err)
{
  int rc = op_need_object(op->in, err);
  return rc ? rc : store_run(s, STORE_WRITE, assign_tx, op, err);
}

static int assignments_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *flow = NULL;
  int rc = load_flow(tx, op, &flow, err);
  int all = rc ? 0 : leads(tx, op->who, flow, NULL, err);
  if (!rc && all < 0)
    rc = all;
  json_t *items = json_array();
  size_t i;
  json_t *st;
  json_array_foreach(json_object_get(flow, "steps"), i, st) {
    if (rc)
      break;
    json_t *eq = json_pack("[s,s]", op->id, dq_str(st, "stepName"));
    struct store_query q = {.table = "assignments", .index = "by_learningFlow_and_step",
                            .eq = eq, .limit = STORE_MAX_PAGE};
    struct store_page page = {0};
    rc = eq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
    size_t k;
    json_t *a;
    json_array_foreach(page.docs, k, a) if (all || strcmp(dq_str(a, "userId"), op->who->user) == 0 ||
                                            strcmp(dq_str(a, "assignedBy"), op->who->user) == 0)
      json_array_append(items, a);
    store_page_release(&page);
    json_decref(eq);
  }
  json_decref(flow);
  if (rc) {
    json_decref(items);
    return rc;
  }
  op->out = op_page(items, NULL, 1);
  return 0;
}

int learning_assignments_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, assignments_tx, op, err);
}
