/* usage: summaries of inferenceUsage over a time range (usage.h). */
#include "domain/usage.h"

#include "domain/agents.h"
#include "domain/dq.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000.0

struct sums {
  json_t *total, *day, *model, *agent, *user; /* objects: key -> {tokens, cost, calls} */
  size_t rows;
  int truncated;
};

static void add_to(json_t *groups, const char *key, double tokens, double cost)
{
  json_t *g = json_object_get(groups, key);
  if (!g) {
    g = json_pack("{s:f,s:f,s:f}", "tokens", 0.0, "cost", 0.0, "calls", 0.0);
    if (!g || json_object_set_new(groups, key, g))
      return;
  }
  json_object_set_new(g, "tokens", json_real(json_real_value(json_object_get(g, "tokens")) + tokens));
  json_object_set_new(g, "cost", json_real(json_real_value(json_object_get(g, "cost")) + cost));
  json_object_set_new(g, "calls", json_real(json_real_value(json_object_get(g, "calls")) + 1));
}

static void add_row(struct sums *s, const json_t *row)
{
  double tokens = dq_num(row, "tokensUsed", 0), cost = dq_num(row, "cost", 0);
  time_t t = (time_t)(dq_num(row, "createdAt", 0) / 1000.0);
  struct tm tm;
  char day[16] = "unknown";
  if (gmtime_r(&t, &tm))
    strftime(day, sizeof day, "%Y-%m-%d", &tm);
  const char *model = dq_str(row, "model"), *agent = dq_str(row, "agentId");
  const char *user = dq_str(row, "userId");
  add_to(s->total, "all", tokens, cost);
  add_to(s->day, day, tokens, cost);
  add_to(s->model, model[0] ? model : "(none)", tokens, cost);
  add_to(s->agent, agent[0] ? agent : "(none)", tokens, cost);
  if (s->user)
    add_to(s->user, user[0] ? user : "(none)", tokens, cost);
}

/* Reads index (eq: its leading values, NULL for by_creation_time, whose
 * range is on the rows' _creationTime: the moment each was written, as
 * createdAt is) over [from, to) into s, a page at a time. */
static int gather(struct store_tx *tx, const char *index, const json_t *eq, double from,
                  double to, struct sums *s, struct err *err)
{
  json_t *lo = json_real(from), *hi = json_real(to);
  char *cursor = NULL;
  int rc = 0;
  for (;;) {
    struct store_query q = {.table = "inferenceUsage", .index = index, .eq = eq,
                            .lower_op = STORE_GTE, .lower = lo, .upper_op = STORE_LT,
                            .upper = hi, .limit = STORE_MAX_PAGE, .cursor = cursor};
    struct store_page page = {0};
    if ((rc = store_query(tx, &q, &page, err))) {
      store_page_release(&page);
      break;
    }
    for (size_t i = 0; i < json_array_size(page.docs) && !s->truncated; i++) {
      if (s->rows == USAGE_MAX_ROWS) {
        s->truncated = 1;
      } else {
        add_row(s, json_array_get(page.docs, i));
        s->rows++;
      }
    }
    int done = page.done || !page.cursor || s->truncated;
    one_free(cursor);
    cursor = done ? NULL : one_strdup(page.cursor);
    store_page_release(&page);
    if (done || !cursor)
      break;
  }
  one_free(cursor);
  json_decref(lo);
  json_decref(hi);
  return rc;
}

/* {key, tokens, cost, calls} rows of groups, by key (new reference). */
static json_t *rows_of(const json_t *groups, const char *name)
{
  json_t *out = json_array();
  const char *k;
  json_t *g;
  json_object_foreach((json_t *)groups, k, g) {
    json_t *r = json_deep_copy(g);
    json_object_set_new(r, name, json_string(k));
    json_array_append_new(out, r);
  }
  return out;
}

struct ask {
  struct op *op;
  const char *index;
  int everyone;
};

static int summary_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct ask *a = arg;
  struct op *op = a->op;
  double to = op->has_to ? op->to : clock_now_ms() + 1;
  double from = op->has_from ? op->from : to - 30 * DAY_MS;
  if (from > to)
    return err_set(err, E_INVALID, "from (%.0f) is after to (%.0f)", from, to);
  const char *who = op->id ? op->id : op->who->user;
  if (op->id) {
    json_t *agent = NULL;
    int rc = dq_get(tx, "agents", op->id, "agent", &agent, err);
    if (!rc && !agent_usable(op->who, agent))
      rc = err_set(err, E_NOTFOUND, "no agent %s", op->id);
    else if (!rc && !agent_editable(op->who, agent))
      rc = err_set(err, E_PERM, "only the agent's editors see what it costs");
    json_decref(agent);
    if (rc)
      return rc;
  }
  struct sums s = {json_object(), json_object(), json_object(), json_object(),
                   a->everyone ? json_object() : NULL, 0, 0};
  json_t *eq = a->everyone ? NULL : json_pack("[s]", who);
  int rc = gather(tx, a->index, eq, from, to, &s, err);
  json_decref(eq);
  if (!rc) {
    json_t *total = json_object_get(s.total, "all");
    op->out = json_pack("{s:f,s:f,s:o,s:o,s:o,s:o,s:b}", "from", from, "to", to, "total",
                        total ? json_incref(total)
                              : json_pack("{s:f,s:f,s:f}", "tokens", 0.0, "cost", 0.0, "calls",
                                          0.0),
                        "byDay", rows_of(s.day, "day"), "byModel", rows_of(s.model, "model"),
                        "byAgent", rows_of(s.agent, "agentId"), "truncated", s.truncated);
    if (op->out && s.user)
      json_object_set_new(op->out, "byUser", rows_of(s.user, "userId"));
    if (!op->out)
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  json_decref(s.total);
  json_decref(s.day);
  json_decref(s.model);
  json_decref(s.agent);
  json_decref(s.user);
  return rc;
}

int usage_mine(struct store *s, struct op *op, struct err *err)
{
  op->id = NULL;
  struct ask a = {op, "by_user", 0};
  return store_run(s, STORE_READ, summary_tx, &a, err);
}

int usage_of_agent(struct store *s, struct op *op, struct err *err)
{
  struct ask a = {op, "by_agent", 0};
  return store_run(s, STORE_READ, summary_tx, &a, err);
}

int usage_all(struct store *s, struct op *op, struct err *err)
{
  op->id = NULL;
  struct ask a = {op, "by_creation_time", 1};
  return store_run(s, STORE_READ, summary_tx, &a, err);
}
