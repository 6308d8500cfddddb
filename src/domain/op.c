/* op: helpers shared by the domain operations. */
#include "domain/op.h"

#include <stdio.h>
#include <string.h>

json_t *op_page(json_t *items, const char *cursor, int done)
{
  json_t *p = json_object();
  if (!p) {
    json_decref(items);
    return NULL;
  }
  json_object_set_new(p, "items", items ? items : json_array());
  json_object_set_new(p, "cursor", cursor && !done ? json_string(cursor) : json_null());
  json_object_set_new(p, "done", json_boolean(done));
  return p;
}

size_t op_limit(const struct op *op)
{
  if (op->limit == 0)
    return OP_DEFAULT_PAGE;
  return op->limit > STORE_MAX_PAGE ? STORE_MAX_PAGE : op->limit;
}

int op_need_object(const json_t *in, struct err *err)
{
  if (json_is_object(in))
    return 0;
  err_set(err, E_SCHEMA, "the body must be a JSON object");
  err_add_detail(err, "", "expected an object");
  return E_SCHEMA;
}

int op_only_fields(const json_t *in, const char *table, const char *const *allowed,
                   struct err *err)
{
  int rc = op_need_object(in, err);
  if (rc)
    return rc;
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)in, key, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++)
      ok = strcmp(*a, key) == 0;
    if (!ok) {
      if (!rc)
        err_set(err, E_SCHEMA, "%s may not be set here", key);
      rc = E_SCHEMA;
      char path[160];
      snprintf(path, sizeof path, "%s.%s", table, key);
      err_add_detail(err, path, "may not be set here (the server sets it, or it has its own "
                     "route)");
    }
  }
  (void)v;
  return rc;
}

int op_list(struct store_tx *tx, struct op *op, const char *table, const char *index,
            const json_t *eq, struct err *err)
{
  struct store_query q = {.table = table, .index = index, .eq = eq, .desc = op->desc,
                          .limit = op_limit(op), .cursor = op->cursor};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  if (rc == 0 && !(op->out = op_page(json_incref(page.docs), page.cursor, page.done)))
    rc = err_set(err, E_NOMEM, "out of memory");
  store_page_release(&page);
  return rc;
}

json_t *op_patch(const json_t *in)
{
  json_t *p = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)in, k, v)
    json_object_set_new(p, k, json_is_null(v) ? store_undefined() : json_incref(v));
  return p;
}
