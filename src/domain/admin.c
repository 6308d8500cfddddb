/* admin: see admin.h. */
#include "domain/admin.h"

#include "domain/flags.h"
#include "migrate/chain.h"
#include "util/clock.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>

#include <string.h>

static int only_admins(const struct op *op, struct err *err)
{
  return op->who->admin ? 0 : err_set(err, E_PERM, "administrators only");
}

/* Counts in the migration's JSON are plain integers; the API's values are
 * Convex values, where a number is a float64: convert them in place. */
static void as_numbers(json_t *v)
{
  const char *k;
  json_t *x;
  size_t i;
  if (json_is_object(v)) {
    json_object_foreach(v, k, x) {
      if (json_is_integer(x))
        json_object_set_new(v, k, json_real((double)json_integer_value(x)));
      else
        as_numbers(x);
    }
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, x) {
      if (json_is_integer(x))
        json_array_set_new(v, i, json_real((double)json_integer_value(x)));
      else
        as_numbers(x);
    }
  }
}

int admin_migrations(struct store *s, struct op *op, struct err *err)
{
  int rc = only_admins(op, err);
  json_t *status = NULL, *log = NULL;
  if (!rc)
    rc = migrate_status(s, &status, err);
  if (!rc)
    rc = migrate_log(s, &log, err);
  if (rc) {
    json_decref(status);
    return rc;
  }
  json_t *recent = json_array();
  size_t n = json_array_size(log), failures = 0;
  for (size_t i = n; i > 0; i--) {
    json_t *e = json_array_get(log, i - 1);
    failures += strcmp(json_string_value(json_object_get(e, "event")), "fail") == 0;
    if (json_array_size(recent) < 50)
      json_array_append(recent, e);
  }
  json_decref(log);
  op->out = json_pack("{s:o,s:I,s:o}", "status", status, "failures", (json_int_t)failures,
                      "log", recent);
  as_numbers(op->out);
  return op->out ? 0 : err_set(err, E_NOMEM, "out of memory");
}

int admin_flags_list(struct store *s, struct op *op, struct err *err)
{
  json_t *list = NULL;
  int rc = only_admins(op, err);
  if (!rc)
    rc = flags_list(s, &list, err);
  if (!rc)
    op->out = op_page(list, NULL, 1);
  return rc;
}

int admin_flags_set(struct store *s, struct op *op, struct err *err)
{
  int rc = only_admins(op, err);
  if (!rc)
    rc = op_need_object(op->in, err);
  if (rc)
    return rc;
  static const char *const allowed[] = {"on", NULL};
  if ((rc = op_only_fields(op->in, "flag", allowed, err)))
    return rc;
  json_t *on = json_object_get(op->in, "on");
  if (!json_is_boolean(on)) {
    err_set(err, E_SCHEMA, "a flag is set with {\"on\": true} or {\"on\": false}");
    err_add_detail(err, "on", "expected a boolean");
    return E_SCHEMA;
  }
  if ((rc = flags_set(s, op->id, json_is_true(on), err)))
    return rc;
  json_t *list = NULL;
  if ((rc = flags_list(s, &list, err)))
    return rc;
  size_t i;
  json_t *f;
  json_array_foreach(list, i, f) if (strcmp(json_string_value(json_object_get(f, "name")),
                                            op->id) == 0) op->out = json_incref(f);
  json_decref(list);
  return 0;
}

/* --- the job queue --- */

static json_t *opt_string(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *job_json(const struct store_job *j)
{
  json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:s,s:f,s:f,s:f,s:o,s:o,s:f,s:f}",
                        "id", "", "kind", j->kind, "key", opt_string(j->key), "lane",
                        opt_string(j->lane), "state", store_job_state_name(j->state), "runAt",
                        (double)j->run_at, "attempts", (double)j->attempts, "maxAttempts",
                        (double)j->max_attempts, "error", opt_string(j->error), "owner",
                        opt_string(j->owner), "createdAt", (double)j->created_at,
                        "finishedAt", (double)j->finished_at);
  if (o) {
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    json_object_set_new(o, "id", json_string(id));
    if (!j->finished_at)
      json_object_set_new(o, "finishedAt", json_null());
  }
  return o;
}

static int add_job(void *arg, const struct store_job *j)
{
  return json_array_append_new(arg, job_json(j)) ? E_NOMEM : 0;
}

/* A job id from the API's text: 1 to 2^63-1. */
static int parse_job_id(const char *text, const char *what, int64_t *id, struct err *err)
{
  char *end = NULL;
  errno = 0;
  long long n = text ? strtoll(text, &end, 10) : 0;
  if (!text || !*text || *end || errno || n < 1)
    return err_set(err, E_INVALID, "%s must be a job id (a whole number from 1)", what);
  *id = (int64_t)n;
  return 0;
}

struct jobs_arg {
  struct op *op;
  int state;
  int64_t before;
};

static int jobs_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct jobs_arg *a = p;
  int64_t counts[STORE_JOB_STATES], next = 0;
  int rc = store_job_counts(tx, counts, &next, err);
  if (rc)
    return rc;
  size_t limit = op_limit(a->op);
  json_t *items = json_array();
  rc = store_job_list(tx, a->state, a->before, limit + 1, add_job, items, err);
  if (rc) {
    json_decref(items);
    return rc;
  }
  int done = json_array_size(items) <= limit;
  if (!done)
    json_array_remove(items, limit);
  json_t *last = json_array_get(items, json_array_size(items) - 1);
  const char *cursor = !done && last ? json_string_value(json_object_get(last, "id")) : NULL;
  json_t *by_state = json_object();
  for (int i = 0; i < STORE_JOB_STATES; i++)
    json_object_set_new(by_state, store_job_state_name((enum store_job_state)i),
                        json_real((double)counts[i]));
  json_t *out = op_page(items, cursor, done);
  json_object_set_new(out, "counts", by_state);
  json_object_set_new(out, "nextDue", next ? json_real((double)next) : json_null());
  a->op->out = out;
  return 0;
}

int admin_jobs(struct store *s, struct op *op, struct err *err)
{
  int rc = only_admins(op, err);
  if (rc)
    return rc;
  struct jobs_arg a = {op, -1, 0};
  if (op->filter) {
    for (int i = 0; i < STORE_JOB_STATES && a.state < 0; i++)
      if (strcmp(op->filter, store_job_state_name((enum store_job_state)i)) == 0)
        a.state = i;
    if (a.state < 0)
      return err_set(err, E_INVALID, "state must be one of pending, running, done, failed, "
                     "cancelled, not '%s'", op->filter);
  }
  if (op->cursor && (rc = parse_job_id(op->cursor, "cursor", &a.before, err)))
    return rc;
  return store_run(s, STORE_READ, jobs_tx, &a, err);
}

struct cancel_arg {
  int64_t id;
  json_t *out;
};

static int cancel_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct cancel_arg *a = p;
  int rc = store_job_cancel(tx, a->id, (int64_t)clock_now_ms(), err);
  struct store_job j;
  if (!rc)
    rc = store_job_get(tx, a->id, &j, err);
  if (!rc) {
    a->out = job_json(&j);
    store_job_release(&j);
  }
  return rc;
}

int admin_job_cancel(struct store *s, struct op *op, struct err *err)
{
  int rc = only_admins(op, err);
  struct cancel_arg a = {0, NULL};
  if (!rc)
    rc = parse_job_id(op->id, "the job", &a.id, err);
  if (!rc)
    rc = store_run(s, STORE_WRITE, cancel_tx, &a, err);
  op->out = a.out;
  return rc;
}

/* --- migrations in the background --- */

struct start_arg {
  const char *args;
  json_t *out;
};

static int start_tx(struct store_tx *tx, void *p, struct err *err)
{
  struct start_arg *a = p;
  /* many attempts: a server that stops or dies mid-step goes on at its next start; a
   * step that fails is not retried (the handler fails the job) */
  struct store_job_new j = {ADMIN_MIGRATION_JOB, a->args, NULL, "migrate", 0, 100};
  int64_t id = 0;
  int rc = store_job_add(tx, &j, &id, NULL, err);
  struct store_job job;
  if (!rc)
    rc = store_job_get(tx, id, &job, err);
  if (!rc) {
    a->out = job_json(&job);
    store_job_release(&job);
  }
  return rc;
}

/* Whether name is a step of the plan (or "agent-inbox", the start, for down). */
static int known_step(const char *name, int down)
{
  if (down && strcmp(name, "agent-inbox") == 0)
    return 1;
  json_t *plan = migrate_plan();
  size_t i;
  json_t *st;
  int found = 0;
  json_array_foreach(plan, i, st) found |= strcmp(json_string_value(json_object_get(st, "name")),
                                                  name) == 0;
  json_decref(plan);
  return found;
}

int admin_migration_start(struct store *s, struct op *op, struct err *err)
{
  int rc = only_admins(op, err);
  if (rc)
    return rc;
  const char *action = op->id;
  int up = strcmp(action, "up") == 0, down = strcmp(action, "down") == 0;
  int verify = strcmp(action, "verify") == 0, contract = strcmp(action, "contract") == 0;
  if (op->in && !json_is_object(op->in))
    return op_need_object(op->in, err);
  static const char *const allowed[] = {"to", "confirm", NULL};
  if (op->in && (rc = op_only_fields(op->in, "migration", allowed, err)))
    return rc;
  if (!up && !down && !verify && !contract)
    return err_set(err, E_NOTFOUND, "no migration action '%s' (up, down, verify, contract)",
                   action);
  const json_t *to = json_object_get(op->in, "to");
  if (to && (!json_is_string(to) || !(up || down) || !known_step(json_string_value(to), down))) {
    err_set(err, E_SCHEMA, "'to' names a step of the plan, for up and down");
    err_add_detail(err, "to", "not a step of the migration plan");
    return E_SCHEMA;
  }
  if (contract && !json_is_true(json_object_get(op->in, "confirm"))) {
    err_set(err, E_SCHEMA, "contract drops the deprecated fields: send {\"confirm\": true}");
    err_add_detail(err, "confirm", "required, true");
    return E_SCHEMA;
  }
  json_t *args = json_pack("{s:s}", "action", action);
  if (args && to)
    json_object_set(args, "to", (json_t *)to);
  char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
  json_decref(args);
  if (!text)
    return err_set(err, E_NOMEM, "out of memory");
  struct start_arg a = {text, NULL};
  rc = store_run(s, STORE_WRITE, start_tx, &a, err);
  one_free(text);
  op->out = a.out;
  op->created = !rc;
  return rc;
}
