/* tables: the generic table operations behind /api/v1/tables (tables.h). */
#include "domain/tables.h"

#include "domain/dq.h"
#include "domain/knowledge.h"
#include "domain/policy.h"
#include "domain/schedule.h"

#include <string.h>

/* The table's policy for who, or E_NOTFOUND (unknown table) / E_PERM. */
static int table_policy(struct store_tx *tx, const struct op *op, const struct policy **p,
                        struct err *err)
{
  const struct schema *sc = store_schema(tx);
  if (!sc || !schema_table(sc, op->table))
    return err_set(err, E_NOTFOUND, "no table %s in the schema in force", op->table);
  *p = policy_find(op->table);
  if (!*p && !op->who->admin)
    return err_set(err, E_PERM, "table %s is for administrators only", op->table);
  return 0;
}

static int may(const struct policy *p, policy_fn fn, struct store_tx *tx, const struct actor *who,
               const json_t *doc)
{
  return who->admin || !p || fn(tx, who, doc);
}

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const struct policy *p = NULL;
  int rc = table_policy(tx, op, &p, err);
  if (rc)
    return rc;
  struct store_query q = {.table = op->table, .index = op->index, .eq = op->eq, .desc = op->desc,
                          .limit = op_limit(op), .cursor = op->cursor};
  struct store_page page = {0};
  if ((rc = store_query(tx, &q, &page, err)))
    return rc;
  json_t *items = json_array();
  for (size_t i = 0; i < json_array_size(page.docs); i++) {
    json_t *d = json_array_get(page.docs, i);
    if (may(p, p ? p->may_read : NULL, tx, op->who, d))
      json_array_append(items, d);
  }
  op->out = op_page(items, page.cursor, page.done);
  store_page_release(&page);
  return 0;
}

int tables_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, list_tx, op, err);
}

/* The document op->id of op->table that who may read, into *doc. */
static int load(struct store_tx *tx, const struct op *op, const struct policy *p, json_t **doc,
                struct err *err)
{
  int rc = dq_get(tx, op->table, op->id, "document in this table", doc, err);
  if (rc == 0 && !may(p, p ? p->may_read : NULL, tx, op->who, *doc)) {
    json_decref(*doc);
    *doc = NULL;
    rc = err_set(err, E_NOTFOUND, "no such document in this table");
  }
  return rc;
}

static int get_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const struct policy *p = NULL;
  int rc = table_policy(tx, op, &p, err);
  return rc ? rc : load(tx, op, p, &op->out, err);
}

int tables_get(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, get_tx, op, err);
}

static int refuse(struct err *err, const char *table)
{
  return err_set(err, E_PERM, "this write to %s is not allowed to you (policy: %s)", table,
                 policy_find(table) ? policy_find(table)->summary : "administrators only");
}

static int insert_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const struct policy *p = NULL;
  int rc = table_policy(tx, op, &p, err);
  if (rc || (rc = op_need_object(op->in, err)))
    return rc;
  if (!may(p, p ? p->may_write : NULL, tx, op->who, op->in))
    return refuse(err, op->table);
  char id[CID_MAX];
  if ((rc = store_insert(tx, op->table, op->in, 0, id, err)) ||
      (rc = schedule_sync(tx, op->table, id, NULL, err)) ||
      (rc = knowledge_sync(tx, op->table, id, NULL, err)))
    return rc;
  op->created = 1;
  return store_get(tx, id, &op->out, NULL, err);
}

int tables_insert(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, insert_tx, op, err);
}

static int patch_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const struct policy *p = NULL;
  json_t *before = NULL;
  int rc = table_policy(tx, op, &p, err);
  if (rc || (rc = op_need_object(op->in, err)) || (rc = load(tx, op, p, &before, err)))
    return rc;
  /* the document as it would be after: before with the patch applied */
  json_t *after = json_copy(before), *patch = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)op->in, k, v) {
    if (json_is_null(v)) {
      json_object_del(after, k);
      json_object_set_new(patch, k, store_undefined());
    } else {
      json_object_set(after, k, v);
      json_object_set(patch, k, v);
    }
  }
  if (!may(p, p ? p->may_write : NULL, tx, op->who, before) ||
      !may(p, p ? p->may_write : NULL, tx, op->who, after))
    rc = refuse(err, op->table);
  if (rc == 0)
    rc = store_patch(tx, op->id, patch, err);
  if (rc == 0)
    rc = schedule_sync(tx, op->table, op->id, before, err);
  if (rc == 0)
    rc = knowledge_sync(tx, op->table, op->id, before, err);
  if (rc == 0)
    rc = store_get(tx, op->id, &op->out, NULL, err);
  json_decref(before);
  json_decref(after);
  json_decref(patch);
  return rc;
}

int tables_patch(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, patch_tx, op, err);
}

static int delete_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const struct policy *p = NULL;
  json_t *before = NULL;
  int rc = table_policy(tx, op, &p, err);
  if (rc || (rc = load(tx, op, p, &before, err)))
    return rc;
  if (!may(p, p ? p->may_write : NULL, tx, op->who, before))
    rc = refuse(err, op->table);
  if (rc == 0 && (rc = store_delete(tx, op->id, err)) == 0)
    rc = schedule_sync(tx, op->table, op->id, before, err);
  json_decref(before);
  return rc;
}

int tables_delete(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, delete_tx, op, err);
}
