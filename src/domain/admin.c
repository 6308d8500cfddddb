/* admin: see admin.h. */
#include "domain/admin.h"

#include "domain/flags.h"
#include "migrate/chain.h"

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
