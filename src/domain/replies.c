/* replies: see replies.h. */
#include "domain/replies.h"

#include "domain/dq.h"
#include "domain/mentions.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

int replies_agent_row(struct store_tx *tx, const char *conv, const char *agent,
                      char pid[CID_MAX], int *active, struct err *err)
{
  pid[0] = '\0';
  *active = 0;
  json_t *eq = json_pack("[s,s,s]", conv, "agent", agent);
  char *text = NULL;
  size_t n = 0;
  int rc = eq ? dq_first_text(tx, "conversationParticipants", "by_conversationId_kind_agentId",
                              eq, &text, &n, err)
              : err_set(err, E_NOMEM, "out of memory");
  json_decref(eq);
  if (!rc && text) {
    jtext_str(text, n, "_id", pid, CID_MAX);
    *active = !jtext_bool(text, n, "isRemoved");
  }
  one_free(text);
  return rc;
}

int replies_system_agent(struct store_tx *tx, const char *name, char out[CID_MAX],
                         struct err *err)
{
  out[0] = '\0';
  json_t *eq = json_pack("[s]", name);
  struct store_query q = {.table = "agents", .index = "by_name", .eq = eq, .limit = 50,
                          .as_text = 1};
  struct store_page page = {0};
  int rc = eq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; !rc && i < page.ntexts && !out[0]; i++) {
    char kind[16] = "";
    jtext_str(page.texts[i], page.lens[i], "kind", kind, sizeof kind);
    if (strcmp(kind, "system_agent") == 0)
      jtext_str(page.texts[i], page.lens[i], "_id", out, CID_MAX);
  }
  store_page_release(&page);
  json_decref(eq);
  return rc;
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

int replies_answer_later(struct store_tx *tx, const char *conv, const char *message,
                         const char *agent, const char *user, int depth,
                         const json_t *handoffs, struct err *err)
{
  json_t *h = handoffs ? json_incref((json_t *)handoffs) : json_array();
  json_t *args = json_pack("{s:s,s:s,s:s,s:s,s:i,s:o}", "conversationId", conv, "messageId",
                           message, "agentId", agent, "userId", user ? user : "", "depth",
                           depth, "handoffs", h);
  char *text = args ? json_dumps(args, JSON_COMPACT) : NULL;
  json_decref(args);
  if (!text)
    return err_set(err, E_NOMEM, "out of memory");
  char key[3 * CID_MAX], lane[2 * CID_MAX + 2];
  snprintf(key, sizeof key, "reply:%s:%s", message, agent);
  snprintf(lane, sizeof lane, "%s/%s", conv, agent);
  struct store_job_new j = {REPLIES_REPLY_JOB, text, key, lane, 0, 0};
  int rc = store_job_add(tx, &j, NULL, NULL, err);
  one_free(text);
  return rc;
}

/* agent answers when it takes part (not removed). */
static int answer_if_here(struct store_tx *tx, const char *conv, const char *message,
                          const char *agent, const char *user, struct err *err)
{
  char pid[CID_MAX];
  int active = 0;
  int rc = replies_agent_row(tx, conv, agent, pid, &active, err);
  return rc || !active ? rc : replies_answer_later(tx, conv, message, agent, user, 0, NULL, err);
}

int replies_start(struct store_tx *tx, const char *conv, const char *message,
                  const char *content, const char *user, struct err *err)
{
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(content, strlen(content), m, MENTION_MAX_PER_MESSAGE);
  int mentioned = 0, rc = 0;
  for (size_t i = 0; !rc && i < n; i++) {
    if (m[i].kind != MENTION_AGENT)
      continue;
    mentioned = 1;
    int again = 0; /* a second mention of the same agent asks it once */
    for (size_t k = 0; k < i && !again; k++)
      again = m[k].kind == MENTION_AGENT && strcmp(m[k].id, m[i].id) == 0;
    if (!again)
      rc = answer_if_here(tx, conv, message, m[i].id, user, err);
  }
  if (rc || mentioned)
    return rc;
  char director[CID_MAX];
  rc = replies_system_agent(tx, "Director", director, err);
  return rc || !director[0] ? rc : answer_if_here(tx, conv, message, director, user, err);
}
