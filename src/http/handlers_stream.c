/* handlers_stream: the two Server-Sent Events routes. The permission check
 * is the domain's; the streaming is stream.c's. */
#include "http/handlers.h"
#include "http/routes.h"
#include "http/stream.h"

#include "domain/conversations.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Last-Event-ID (header, or ?lastEventId= for clients that cannot set
 * headers): the id to resume after, -1 when none; -2 when malformed. */
static int64_t last_event_id(const struct http_req *req)
{
  const char *v = http_header(req, "Last-Event-ID");
  if (!v)
    v = http_query(req, "lastEventId");
  if (!v || !*v)
    return -1;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*end || errno || n < 0)
    return -2;
  return (int64_t)n;
}

static void open_stream(struct http_req *req, struct http_res *res, enum stream_kind kind,
                        const char *conv)
{
  int64_t after = last_event_id(req);
  if (after == -2) {
    http_reply_error(res, 400, "E_INVALID", "Last-Event-ID", "Last-Event-ID must be an event id");
    return;
  }
  struct err err = ERR_INIT;
  struct stream *st = stream_new(http_server_hub(req->server), kind, conv, req->who.user, after,
                                 &err);
  if (!st) {
    http_reply_err(res, &err);
    err_clear(&err);
    return;
  }
  res->status = 200;
  res->stream = st;
}

void h_conversation_stream(struct http_req *req, struct http_res *res)
{
  struct op op;
  memset(&op, 0, sizeof op);
  op.who = &req->who;
  op.id = req->params[0];
  struct err err = ERR_INIT;
  if (conversations_follow(req->store, &op, &err) != 0) {
    http_reply_err(res, &err);
    err_clear(&err);
    return;
  }
  open_stream(req, res, STREAM_CONVERSATION, op.id);
}

void h_me_stream(struct http_req *req, struct http_res *res)
{
  open_stream(req, res, STREAM_ME, NULL);
}
