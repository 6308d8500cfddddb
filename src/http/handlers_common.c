/* handlers_common: running a domain operation for a request (handlers.h). */
#include "http/handlers.h"

#include "util/jv.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

void http_reply_value(struct http_res *res, int status, const json_t *v)
{
  json_t *wire = jv_to_wire(v);
  if (!wire) {
    http_reply_error(res, 500, "E_NOMEM", "", "out of memory");
    return;
  }
  http_reply_json(res, status, wire);
}

json_t *http_body_value(struct http_req *req, struct http_res *res)
{
  json_t *body = http_body_json(req, res);
  if (!body)
    return NULL;
  struct err err = ERR_INIT;
  json_t *v = jv_from_wire(body, &err);
  json_decref(body);
  if (!v) {
    http_reply_err(res, &err);
    err_clear(&err);
  }
  return v;
}

int http_page_params(struct http_req *req, struct http_res *res, struct op *op)
{
  const char *limit = http_query(req, "limit");
  if (limit) {
    char *end = NULL;
    long n = strtol(limit, &end, 10);
    if (!*limit || *end || n < 1 || n > STORE_MAX_PAGE) {
      http_reply_error(res, 400, "E_INVALID", "limit", "limit must be a whole number from 1 to %d",
                       STORE_MAX_PAGE);
      return E_INVALID;
    }
    op->limit = (size_t)n;
  }
  const char *cursor = http_query(req, "cursor");
  op->cursor = cursor && *cursor ? cursor : NULL;
  return 0;
}

/* ?from= and ?to= into op: each a number of ms since 1970 when given. */
static int range_params(struct http_req *req, struct http_res *res, struct op *op)
{
  const char *names[] = {"from", "to"};
  double *at[] = {&op->from, &op->to};
  int *has[] = {&op->has_from, &op->has_to};
  for (int i = 0; i < 2; i++) {
    const char *v = http_query(req, names[i]);
    if (!v || !*v)
      continue;
    char *end = NULL;
    double d = strtod(v, &end);
    if (*end || !(d >= 0 && d < 1e16)) {
      http_reply_error(res, 400, "E_INVALID", names[i], "%s must be a time in ms since 1970",
                       names[i]);
      return E_INVALID;
    }
    *at[i] = d;
    *has[i] = 1;
  }
  return 0;
}

void http_op(struct http_req *req, struct http_res *res, domain_fn fn, int flags)
{
  struct op op;
  memset(&op, 0, sizeof op);
  op.who = &req->who;
  size_t first = 0;
  if (flags & OPF_TABLE) {
    op.table = req->nparams > 0 ? req->params[0] : NULL;
    first = 1;
  }
  op.id = req->nparams > first ? req->params[first] : NULL;
  op.sub = req->nparams > first + 1 ? req->params[first + 1] : NULL;
  json_t *in = NULL;
  if ((flags & OPF_BODY) || ((flags & OPF_OPTBODY) && req->body.len > 0)) {
    if (!(in = http_body_value(req, res)))
      return;
    op.in = in;
  }
  if (flags & (OPF_STATE | OPF_OWNER)) {
    const char *v = http_query(req, flags & OPF_STATE ? "state" : "owner");
    op.filter = v && *v ? v : NULL;
  }
  if (((flags & OPF_PAGE) && http_page_params(req, res, &op) != 0) ||
      ((flags & OPF_RANGE) && range_params(req, res, &op) != 0)) {
    json_decref(in);
    return;
  }
  struct err err = ERR_INIT;
  if (fn(req->store, &op, &err) != 0) {
    http_reply_err(res, &err);
  } else if (flags & OPF_NOBODY) {
    res->status = 204;
  } else if (op.text) {
    res->status = op.created ? 201 : 200;
    res->text = op.text;
    res->len = op.text_len;
    res->content_type = "application/json";
    op.text = NULL;
  } else {
    http_reply_value(res, op.created ? 201 : 200, op.out);
  }
  err_clear(&err);
  json_decref(op.out);
  one_free(op.text);
  json_decref(in);
}
