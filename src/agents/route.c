/* route: who answers a person's message (runtime.h): each agent it
 * mentions that takes part in the conversation, or the Director when it
 * mentions no agent and the Director takes part. The runs start as reply
 * jobs committed with the routing job's end, so a message is routed once. */
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/mentions.h"
#include "domain/replies.h"
#include "util/jtext.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define MAX_TARGETS MENTION_MAX_PER_MESSAGE

struct route {
  struct runtime *rt;
  struct chain c;
  char targets[MAX_TARGETS][CID_MAX];
  char rows[MAX_TARGETS][CID_MAX];
  size_t n;
};

static int add_target(struct route *r, struct store_tx *tx, const char *agent, struct err *err)
{
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->targets[i], agent) == 0)
      return 0;
  char pid[CID_MAX];
  int active = 0;
  int rc = replies_agent_row(tx, r->c.conv, agent, pid, &active, err);
  if (rc || !active || r->n == MAX_TARGETS)
    return rc;
  snprintf(r->targets[r->n], CID_MAX, "%s", agent);
  snprintf(r->rows[r->n], CID_MAX, "%s", pid);
  r->n++;
  return 0;
}

/* Reads the message and finds its targets (none when the author is no
 * person: agents' messages are routed by their runs). Read from the stored
 * text, without parsing the documents. */
static int read_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct route *r = arg;
  char *msg = NULL, *author = NULL, *content = NULL;
  size_t mlen = 0, alen = 0;
  char kind[16] = "", row[CID_MAX] = "", akind[16] = "";
  int rc = store_get_text(tx, r->c.message, &msg, &mlen, NULL, err);
  if (!rc) {
    jtext_str(msg, mlen, "kind", kind, sizeof kind);
    jtext_str(msg, mlen, "authorParticipantId", row, sizeof row);
    rc = row[0] ? store_get_text(tx, row, &author, &alen, NULL, err) : E_NOTFOUND;
  }
  if (!rc)
    jtext_str(author, alen, "kind", akind, sizeof akind);
  if (rc || strcmp(kind, "participant") != 0 || strcmp(akind, "user") != 0)
    goto out;
  jtext_str(author, alen, "userId", r->c.user, sizeof r->c.user);
  const char *raw = NULL;
  size_t rawlen = 0;
  jtext_field(msg, mlen, "content", &raw, &rawlen);
  content = one_malloc(rawlen + 1);
  if (!content || !jtext_str(msg, mlen, "content", content, rawlen + 1)) {
    rc = content ? 0 : err_set(err, E_NOMEM, "out of memory");
    goto out;
  }
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(content, strlen(content), m, MENTION_MAX_PER_MESSAGE);
  int mentioned = 0;
  for (size_t i = 0; !rc && i < n; i++)
    if (m[i].kind == MENTION_AGENT) {
      mentioned = 1;
      rc = add_target(r, tx, m[i].id, err);
    }
  if (!rc && !mentioned) {
    char director[CID_MAX];
    rc = runtime_director(tx, director, err);
    if (!rc && director[0])
      rc = add_target(r, tx, director, err);
  }
out:
  one_free(msg);
  one_free(author);
  one_free(content);
  if (rc == E_NOTFOUND) { /* a message gone: nothing to answer */
    err_clear(err);
    return 0;
  }
  return rc;
}

static int start_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct route *r = arg;
  for (size_t i = 0; i < r->n; i++) {
    int rc;
    if (runtime_rate_take(r->rt, r->c.conv)) {
      rc = runtime_add_reply_job(tx, &r->c, r->c.message, r->targets[i], 0, NULL, err);
    } else {
      char text[300];
      snprintf(text, sizeof text, "Not answering: this conversation reached its limit of %d "
               "agent runs a minute. Ask again in a minute.", r->rt->lim.runs_per_minute);
      json_t *meta = json_pack("{s:s,s:s}", "limit", "runsPerMinute", "agentId", r->targets[i]);
      struct reply rep = {r->c.conv, r->rows[i], 1, text, meta, 0, 0};
      rc = replies_post(tx, &rep, NULL, err);
      json_decref(meta);
    }
    if (rc)
      return rc;
  }
  return 0;
}

void route_job(void *arg, struct sched_run *run)
{
  struct route *r = one_calloc(1, sizeof *r);
  struct err err = ERR_INIT;
  if (!r) {
    sched_retry(run, "out of memory", 0);
    return;
  }
  r->rt = arg;
  int rc = chain_parse(sched_job(run)->args, &r->c, &err);
  if (rc) {
    sched_fail(run, err.msg);
  } else if ((rc = store_run(r->rt->s, STORE_READ, read_tx, r, &err))) {
    sched_retry(run, err.msg, 0);
  } else {
    sched_done_lazy(run, start_tx, r, &err); /* its effects are keyed jobs and notices */
  }
  err_clear(&err);
  chain_release(&r->c);
  one_free(r);
}
