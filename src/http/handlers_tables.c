/* handlers_tables: every table of the schema under /api/v1/tables/{table},
 * checked against the table's policy (domain/policy.c).
 * List parameters: ?index=NAME (default by_creation_time), ?eq=JSON array
 * of values for the index's first fields (Convex JSON), ?order=asc|desc,
 * ?limit=, ?cursor=. */
#include "http/handlers.h"
#include "http/routes.h"

#include "domain/tables.h"
#include "util/jv.h"

#include <string.h>

void h_tables_list(struct http_req *req, struct http_res *res)
{
  struct op op;
  memset(&op, 0, sizeof op);
  op.who = &req->who;
  op.table = req->params[0];
  op.index = http_query(req, "index");
  const char *order = http_query(req, "order");
  if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0) {
    http_reply_error(res, 400, "E_INVALID", "order", "order is asc or desc");
    return;
  }
  op.desc = order && strcmp(order, "desc") == 0;
  if (http_page_params(req, res, &op) != 0)
    return;
  json_t *eq = NULL;
  const char *eqs = http_query(req, "eq");
  struct err err = ERR_INIT;
  if (eqs) {
    json_error_t je;
    json_t *wire = json_loads(eqs, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(wire)) {
      http_reply_error(res, 400, "E_INVALID", "eq", "eq must be a JSON array of index values");
      json_decref(wire);
      return;
    }
    eq = jv_from_wire(wire, &err);
    json_decref(wire);
    if (!eq) {
      http_reply_err(res, &err);
      err_clear(&err);
      return;
    }
    op.eq = eq;
  }
  if (tables_list(req->store, &op, &err) != 0)
    http_reply_err(res, &err);
  else
    http_reply_value(res, 200, op.out);
  json_decref(op.out);
  json_decref(eq);
  err_clear(&err);
}

OP_HANDLER(h_tables_insert, tables_insert, OPF_BODY | OPF_TABLE)
OP_HANDLER(h_tables_get, tables_get, OPF_TABLE)
OP_HANDLER(h_tables_patch, tables_patch, OPF_BODY | OPF_TABLE)
OP_HANDLER(h_tables_delete, tables_delete, OPF_NOBODY | OPF_TABLE)
