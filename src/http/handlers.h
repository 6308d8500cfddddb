/* handlers: what the handlers share. Most handlers are one line: they run a
 * domain operation (domain/op.h) through http_op, which fills the op from
 * the request (path parameters, body, paging), runs it as the signed-in
 * actor and renders the result or the error. */
#ifndef ONE_HTTP_HANDLERS_H
#define ONE_HTTP_HANDLERS_H

#include "domain/op.h"
#include "http/http.h"

typedef int (*domain_fn)(struct store *s, struct op *op, struct err *err);

enum op_flags {
  OPF_BODY = 1,      /* a JSON object body is required */
  OPF_OPTBODY = 2,   /* a JSON body is read when there is one */
  OPF_PAGE = 4,      /* ?limit= and ?cursor= */
  OPF_NOBODY = 8,    /* answer 204 without a body */
  OPF_TABLE = 16,    /* params[0] is a table name; the id is params[1] */
  OPF_STATE = 32,    /* ?state= into op.filter */
  OPF_OWNER = 64,    /* ?owner= into op.filter */
  OPF_RANGE = 128,   /* ?from= and ?to= (ms since 1970) into op.from, op.to */
};

/* Runs fn for req: op.id = params[0], op.sub = params[1] (see OPF_TABLE). */
void http_op(struct http_req *req, struct http_res *res, domain_fn fn, int flags);
/* The request body converted from Convex JSON, or NULL with res set. */
json_t *http_body_value(struct http_req *req, struct http_res *res);
/* Reads ?limit= (1..1000) and ?cursor= into op; 0, or sets res to a 400. */
int http_page_params(struct http_req *req, struct http_res *res, struct op *op);
/* Sets res to 200 (or status) with v converted to Convex JSON (v borrowed). */
void http_reply_value(struct http_res *res, int status, const json_t *v);

#define OP_HANDLER(name, fn, flags)                                  \
  void name(struct http_req *req, struct http_res *res)              \
  {                                                                  \
    http_op(req, res, fn, flags);                                    \
  }

#endif
