/* replies: see replies.h. */
#include "domain/replies.h"

#include "domain/dq.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

int replies_agent_row(struct store_tx *tx, const char *conv, const char *agent,
                      char pid[CID_MAX], int *active, struct err *err)
{
  pid[0] = '\0';
  *active = 0;
  json_t *eq = json_pack("[s,s,s]", conv, "agent", agent), *row = NULL;
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = dq_first(tx, "conversationParticipants", "by_conversationId_kind_agentId", eq, &row,
                    err);
  json_decref(eq);
  if (!rc && row) {
    snprintf(pid, CID_MAX, "%s", dq_str(row, "_id"));
    *active = !dq_bool(row, "isRemoved");
  }
  json_decref(row);
  return rc;
}

int replies_conv_has_agents(struct store_tx *tx, const char *conv, struct err *err)
{
  json_t *eq = json_pack("[s,s]", conv, "agent");
  char *text = NULL;
  size_t n = 0;
  int rc = eq ? dq_first_text(tx, "conversationParticipants", "by_conversationId_kind_agentId",
                              eq, &text, &n, err)
              : err_set(err, E_NOMEM, "out of memory");
  json_decref(eq);
  int yes = text != NULL;
  one_free(text);
  return rc ? rc : yes;
}

/* store_patch of id through its stored text: the patched fields are
 * spliced in and checked alone, the rest is not parsed (store_patch_text). */
static int patch_stored(struct store_tx *tx, const char *id, const json_t *patch,
                        struct err *err)
{
  char *text = NULL;
  size_t len = 0;
  int rc = store_get_text(tx, id, &text, &len, NULL, err);
  if (!rc)
    rc = store_patch_text(tx, id, text, len, patch, NULL, err);
  one_free(text);
  return rc;
}

int replies_post(struct store_tx *tx, const struct reply *r, char id_out[CID_MAX],
                 struct err *err)
{
  if (!r->content || !r->content[0])
    return err_set(err, E_INVALID, "a message needs content");
  double now = clock_now_ms();
  json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:f}", "conversationId", r->conv,
                          "authorParticipantId", r->author, "kind",
                          r->system ? "system" : "participant", "content", r->content,
                          "createdAt", now);
  if (doc && r->meta)
    json_object_set(doc, "meta", (json_t *)r->meta);
  if (doc && r->cost > 0)
    json_object_set_new(doc, "cost", json_real(r->cost));
  if (doc && r->tokens > 0)
    json_object_set_new(doc, "tokensUsed", json_real(r->tokens));
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  char id[CID_MAX];
  int rc = store_insert(tx, "conversationMessages", doc, 0, id, err);
  json_decref(doc);
  if (!rc && !r->system) { /* a notice does not move the conversation up the list */
    json_t *patch = json_pack("{s:f}", "lastMessageTime", now);
    rc = patch ? patch_stored(tx, r->conv, patch, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(patch);
  }
  if (!rc && id_out)
    snprintf(id_out, CID_MAX, "%s", id);
  return rc;
}

int replies_set_status(struct store_tx *tx, const char *pid, const char *status,
                       struct err *err)
{
  json_t *patch = json_pack("{s:s}", "status", status);
  int rc = patch ? patch_stored(tx, pid, patch, err) : err_set(err, E_NOMEM, "out of memory");
  json_decref(patch);
  return rc;
}

int replies_route_later(struct store_tx *tx, const char *conv, const char *id,
                        struct err *err)
{
  char args[3 * CID_MAX + 64], key[CID_MAX + 16];
  snprintf(args, sizeof args, "{\"conversationId\":\"%s\",\"messageId\":\"%s\"}", conv, id);
  snprintf(key, sizeof key, "route:%s", id);
  struct store_job_new j = {REPLIES_ROUTE_JOB, args, key, NULL, 0, 0};
  return store_job_add(tx, &j, NULL, NULL, err);
}
