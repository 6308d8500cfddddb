/* handlers_health: liveness, readiness and metrics. */
#include "http/routes.h"
#include "util/mem.h"

#include <string.h>

void h_healthz(struct http_req *req, struct http_res *res)
{
  (void)req;
  http_reply_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static int probe(struct store_tx *tx, void *arg, struct err *err)
{
  (void)err;
  store_schema_name(tx, arg, 128);
  return 0;
}

void h_readyz(struct http_req *req, struct http_res *res)
{
  char name[128] = "";
  struct err err = ERR_INIT;
  if (store_run(req->store, STORE_READ, probe, name, &err) != 0) {
    http_reply_error(res, 503, "E_BUSY", "", "the database does not answer: %s", err.msg);
  } else if (!name[0]) {
    http_reply_error(res, 503, "E_BUSY", "", "the database has no schema yet");
  } else {
    http_reply_json(res, 200, json_pack("{s:s,s:s}", "status", "ready", "schema", name));
  }
  err_clear(&err);
}

void h_metrics(struct http_req *req, struct http_res *res)
{
  char *text = metrics_render(req->store, http_server_sched(req->server));
  if (!text) {
    http_reply_error(res, 500, "E_NOMEM", "", "out of memory");
    return;
  }
  res->status = 200;
  res->text = text;
  res->len = strlen(text);
  res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
