/* seed: see seed.h. The team's data is seed/team.json; this file only
 * knows how to find each thing and create what is missing. */
#include "agents/seed.h"
#include "domain/dq.h"
#include "domain/replies.h"
#include "util/clock.h"
#include "util/embed.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define FLOW_KEY "seed.elevateFlow"

struct seeding {
  json_t *team;
  json_t *tool_ids;    /* name -> id */
  json_t *prompt_ids;  /* step -> id */
  json_t *agent_ids;   /* name -> id */
  json_t *created;     /* names of the agents created now */
  struct seed_report r;
  double now;
};

static int insert(struct store_tx *tx, const char *table, json_t *doc, char id[CID_MAX],
                  struct err *err)
{
  int rc = doc ? store_insert(tx, table, doc, 0, id, err) : err_set(err, E_NOMEM, "out of memory");
  json_decref(doc);
  return rc;
}

static int seed_tools(struct store_tx *tx, struct seeding *sd, struct err *err)
{
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(sd->team, "tools"), i, t) {
    const char *name = dq_str(t, "name");
    json_t *doc = NULL;
    char id[CID_MAX];
    int rc = dq_first_str(tx, "tools", "by_name", name, &doc, err);
    if (rc)
      return rc;
    if (doc) {
      snprintf(id, sizeof id, "%s", dq_str(doc, "_id"));
      json_decref(doc);
    } else {
      rc = insert(tx, "tools", json_pack("{s:s,s:s}", "name", name, "description",
                                         dq_str(t, "description")), id, err);
      if (rc)
        return rc;
      sd->r.tools++;
    }
    json_object_set_new(sd->tool_ids, name, json_string(id));
  }
  return 0;
}

static int seed_prompts(struct store_tx *tx, struct seeding *sd, struct err *err)
{
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(sd->team, "prompts"), i, p) {
    const char *step = dq_str(p, "step"), *title = dq_str(p, "title");
    json_t *eq = json_pack("[s]", step);
    struct store_query q = {.table = "prompts", .index = "by_step", .eq = eq, .limit = 200};
    struct store_page page = {0};
    int rc = store_query(tx, &q, &page, err);
    json_decref(eq);
    char id[CID_MAX] = "";
    size_t k;
    json_t *doc;
    json_array_foreach(page.docs, k, doc) if (!id[0] && strcmp(dq_str(doc, "title"), title) == 0)
      snprintf(id, sizeof id, "%s", dq_str(doc, "_id"));
    store_page_release(&page);
    if (rc)
      return rc;
    if (!id[0]) {
      rc = insert(tx, "prompts",
                  json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:f}", "title", title, "template",
                            dq_str(p, "template"), "step", step, "description",
                            dq_str(p, "description"), "outputType", dq_str(p, "outputType"),
                            "status", "active", "createdAt", sd->now),
                  id, err);
      if (rc)
        return rc;
      sd->r.prompts++;
    }
    json_object_set_new(sd->prompt_ids, step, json_string(id));
  }
  return 0;
}

/* The ids of names (tool names, through sd->tool_ids). */
static json_t *tool_list(const struct seeding *sd, const json_t *names)
{
  json_t *out = json_array();
  size_t i;
  json_t *n;
  json_array_foreach(names, i, n) {
    const char *id = json_string_value(json_object_get(sd->tool_ids, json_string_value(n)));
    if (id)
      json_array_append_new(out, json_string(id));
  }
  return out;
}

/* The existing system agent called name, or NULL. */
static int find_system_agent(struct store_tx *tx, const char *name, json_t **out,
                             struct err *err)
{
  *out = NULL;
  char id[CID_MAX];
  int rc = replies_system_agent(tx, name, id, err);
  return rc || !id[0] ? rc : dq_get(tx, "agents", id, "agent", out, err);
}

static int seed_agents(struct store_tx *tx, struct seeding *sd, struct err *err)
{
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(sd->team, "agents"), i, a) {
    const char *name = dq_str(a, "name");
    json_t *have = NULL;
    int rc = find_system_agent(tx, name, &have, err);
    if (rc)
      return rc;
    json_t *fields = json_pack("{s:s,s:s,s:O,s:o,s:s}", "description", dq_str(a, "description"),
                               "prompt", dq_str(a, "prompt"), "canGuideSteps",
                               json_object_get(a, "canGuideSteps"), "tools",
                               tool_list(sd, json_object_get(a, "tools")), "visibility",
                               "public");
    char id[CID_MAX];
    if (have) { /* complete, never change */
      json_t *patch = json_object();
      const char *k;
      json_t *v;
      json_object_foreach(fields, k, v) if (!json_object_get(have, k))
        json_object_set(patch, k, v);
      snprintf(id, sizeof id, "%s", dq_str(have, "_id"));
      if (json_object_size(patch)) {
        rc = store_patch(tx, id, patch, err);
        sd->r.agents_completed++;
      }
      if (!json_object_get(have, "delegatesTo"))
        json_array_append_new(sd->created, json_string(name));
      json_decref(patch);
      json_decref(have);
      json_decref(fields);
    } else {
      json_object_set_new(fields, "name", json_string(name));
      json_object_set_new(fields, "kind", json_string("system_agent"));
      json_object_set_new(fields, "createdAt", json_real(sd->now));
      rc = insert(tx, "agents", fields, id, err);
      sd->r.agents += !rc;
      json_array_append_new(sd->created, json_string(name));
    }
    if (rc)
      return rc;
    json_object_set_new(sd->agent_ids, name, json_string(id));
  }
  return 0;
}

/* delegatesTo of the agents created (or lacking it) now: names to ids,
 * "all" for every other seeded agent. */
static int seed_delegation(struct store_tx *tx, struct seeding *sd, struct err *err)
{
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(sd->team, "agents"), i, a) {
    const char *name = dq_str(a, "name");
    if (!dq_list_has(sd->created, name))
      continue;
    const json_t *to = json_object_get(a, "delegatesTo");
    json_t *ids = json_array();
    const char *k;
    json_t *v;
    if (json_is_string(to) && strcmp(json_string_value(to), "all") == 0) {
      json_object_foreach(sd->agent_ids, k, v) if (strcmp(k, name) != 0)
        json_array_append(ids, v);
    } else {
      size_t j;
      json_t *n;
      json_array_foreach(to, j, n) {
        json_t *id = json_object_get(sd->agent_ids, json_string_value(n));
        if (id)
          json_array_append(ids, id);
      }
    }
    json_t *patch = json_pack("{s:o}", "delegatesTo", ids);
    int rc = store_patch(tx, json_string_value(json_object_get(sd->agent_ids, name)), patch, err);
    json_decref(patch);
    if (rc)
      return rc;
  }
  return 0;
}

static int seed_flow(struct store_tx *tx, struct seeding *sd, struct err *err)
{
  char *known = NULL;
  int rc = store_meta_get(tx, FLOW_KEY, &known, err);
  if (rc == 0) {
    json_t *doc = NULL;
    struct err e = ERR_INIT;
    int there = dq_get(tx, "learningFlows", known, "flow", &doc, &e) == 0;
    err_clear(&e);
    json_decref(doc);
    one_free(known);
    if (there)
      return 0; /* seeded before (a flow deleted since is seeded again) */
  } else if (rc != E_NOTFOUND) {
    return rc;
  }
  err_clear(err);
  const json_t *flow = json_object_get(sd->team, "flow");
  const json_t *instructions = json_object_get(flow, "instructions");
  static const char *const order[] = {"Foundation", "Hook", "Gift", "Identify", "Engage",
                                      "Sell", "Nurture", "Upsell", "Educate", "Share"};
  json_t *steps = json_array();
  for (size_t i = 0; i < 10; i++) {
    json_t *s = json_pack("{s:s,s:s,s:f}", "stepName", order[i], "instructions",
                          dq_str(instructions, order[i]), "order", (double)(i + 1));
    json_t *pid = json_object_get(sd->prompt_ids, order[i]);
    if (s && pid)
      json_object_set(s, "promptId", pid);
    json_array_append_new(steps, s);
  }
  char id[CID_MAX];
  rc = insert(tx, "learningFlows",
              json_pack("{s:s,s:s,s:f,s:o}", "title", dq_str(flow, "title"), "description",
                        dq_str(flow, "description"), "createdAt", sd->now, "steps", steps),
              id, err);
  if (!rc)
    rc = store_meta_set(tx, FLOW_KEY, id, err);
  sd->r.flows += !rc;
  return rc;
}

static int seed_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct seeding *sd = arg;
  char name[64];
  store_schema_name(tx, name, sizeof name);
  if (strcmp(name, "one") != 0 && strcmp(name, "one-expand") != 0)
    return err_set(err, E_INVALID, "seeding needs the ONE schema, and this database is at "
                   "'%s' (run one migrate up first)", name[0] ? name : "no schema");
  int rc = seed_tools(tx, sd, err);
  if (!rc)
    rc = seed_prompts(tx, sd, err);
  if (!rc)
    rc = seed_agents(tx, sd, err);
  if (!rc)
    rc = seed_delegation(tx, sd, err);
  if (!rc)
    rc = seed_flow(tx, sd, err);
  return rc;
}

int seed_run(struct store *s, struct seed_report *out, struct err *err)
{
  const struct embedded_file *f = embed_find("seed/team.json");
  if (!f)
    return err_set(err, E_INTERNAL, "this build of ONE carries no seed data");
  json_error_t je;
  struct seeding sd;
  memset(&sd, 0, sizeof sd);
  sd.team = json_loadb(f->data, f->len, 0, &je);
  sd.tool_ids = json_object();
  sd.prompt_ids = json_object();
  sd.agent_ids = json_object();
  sd.created = json_array();
  sd.now = clock_now_ms();
  int rc = sd.team && sd.tool_ids && sd.prompt_ids && sd.agent_ids && sd.created
             ? store_run(s, STORE_WRITE, seed_tx, &sd, err)
             : err_set(err, E_INTERNAL, "the seed data does not parse: %s", je.text);
  if (!rc && out)
    *out = sd.r;
  json_decref(sd.team);
  json_decref(sd.tool_ids);
  json_decref(sd.prompt_ids);
  json_decref(sd.agent_ids);
  json_decref(sd.created);
  return rc;
}
