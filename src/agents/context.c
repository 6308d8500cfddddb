/* context: what a run tells the model (runtime.h): a system message with
 * the agent's identity and prompt, its attached prompt templates, the steps
 * it can guide, who takes part and how to hand work on, what the knowledge
 * base holds that bears on the message (domain/knowledge.h), then a window
 * of the conversation:
 * the agent's own messages as the assistant's, everyone else's as the
 * user's, each led by its author's name. */
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/knowledge.h"
#include "domain/replies.h"
#include "util/buf.h"
#include "util/jtext.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define MAX_PARTICIPANTS 200

/* The name of a user or agent, read from its stored text, into out. */
static void name_of(struct store_tx *tx, int agent, const char *id, char *out, size_t n)
{
  if (!dq_str_of(tx, id, "name", out, n) || !out[0])
    snprintf(out, n, "%s", agent ? "an agent" : "someone");
}

static int participants(struct store_tx *tx, const char *conv, struct buf *b, json_t *names,
                        struct err *err)
{
  json_t *eq = json_pack("[s,b]", conv, 0);
  struct store_query q = {.table = "conversationParticipants",
                          .index = "by_conversationId_isRemoved", .eq = eq,
                          .limit = MAX_PARTICIPANTS, .as_text = 1};
  struct store_page page = {0};
  int rc = eq ? store_query(tx, &q, &page, err) : err_set(err, E_NOMEM, "out of memory");
  if (!rc)
    rc = buf_puts(b, "\n\nWho takes part in this conversation:");
  for (size_t i = 0; !rc && i < page.ntexts; i++) {
    const char *t = page.texts[i];
    size_t n = page.lens[i];
    char kind[16] = "", id[CID_MAX] = "", who[CID_MAX] = "", name[200];
    jtext_str(t, n, "kind", kind, sizeof kind);
    jtext_str(t, n, "_id", id, sizeof id);
    int agent = strcmp(kind, "agent") == 0;
    jtext_str(t, n, agent ? "agentId" : "userId", who, sizeof who);
    name_of(tx, agent, who, name, sizeof name);
    json_object_set_new(names, id, json_string(name));
    rc = agent ? buf_printf(b, "\n- %s (agent; mention as @[%s](agent:%s))", name, name, who)
               : buf_printf(b, "\n- %s (person)", name);
  }
  store_page_release(&page);
  json_decref(eq);
  return rc;
}

static int attached(struct store_tx *tx, const json_t *agent, struct buf *b)
{
  const json_t *ids = json_object_get(agent, "attachedPrompts");
  size_t i;
  json_t *id;
  int rc = 0, first = 1;
  json_array_foreach(ids, i, id) {
    json_t *p = NULL;
    struct err e = ERR_INIT;
    if (dq_get(tx, "prompts", json_string_value(id), "prompt", &p, &e) == 0 && !rc) {
      rc = buf_printf(b, "%s\n## %s (step %s)\n%s", first ? "\n\nPrompt templates you can use:"
                                                         : "", dq_str(p, "title"),
                      dq_str(p, "step"), dq_str(p, "template"));
      first = 0;
    }
    err_clear(&e);
    json_decref(p);
  }
  return rc;
}

/* Retrieval: the knowledge of the person who started the exchange and of
 * the agent that best matches the message being answered, at most
 * RETRIEVED items, each cut to RETRIEVED_CHARS. It runs for agents with
 * searchKnowledge or addKnowledge among their tools, the ones whose work
 * rests on what is known (Sage first). Nothing found adds nothing; a
 * search that fails (its index still being prepared) is left out, never
 * fatal: the agent can still call searchKnowledge. */
#define RETRIEVED 5
#define RETRIEVED_CHARS 600

static int knowledge(struct store_tx *tx, const struct chain *c, const json_t *agent,
                     struct buf *b)
{
  if (!tools_enabled(tx, agent, "searchKnowledge") && !tools_enabled(tx, agent, "addKnowledge"))
    return 0;
  char *msg = NULL;
  size_t n = 0;
  struct err e = ERR_INIT;
  char content[4096] = "";
  if (store_get_text(tx, c->message, &msg, &n, NULL, &e) == 0)
    jtext_str(msg, n, "content", content, sizeof content);
  one_free(msg);
  err_clear(&e);
  if (!content[0])
    return 0;
  struct knowledge_query q = {.query = content, .limit = RETRIEVED};
  if (c->user[0])
    q.owners[q.nowners++] = c->user;
  q.owners[q.nowners++] = dq_str(agent, "_id");
  struct actor who = {{0}, 0};
  snprintf(who.user, sizeof who.user, "%s", c->user);
  json_t *items = NULL;
  if (knowledge_search_tx(tx, &who, &q, &items, &e) != 0) {
    err_clear(&e);
    return 0;
  }
  int rc = 0;
  size_t i;
  json_t *d;
  json_array_foreach(items, i, d) {
    if (!rc && i == 0)
      rc = buf_puts(b, "\n\nFrom the knowledge base (most relevant first; say so when it "
                       "does not answer the request):");
    const char *text = dq_str(d, "content");
    size_t len = strlen(text), keep = len > RETRIEVED_CHARS ? RETRIEVED_CHARS : len;
    while (keep < len && keep > 0 && ((unsigned char)text[keep] & 0xC0) == 0x80)
      keep--; /* never half a character */
    if (!rc)
      rc = buf_printf(b, "\n- [%s] %.*s%s", strcmp(dq_str(d, "ownerType"), "agent") == 0
                                               ? "yours" : "the user's",
                      (int)keep, text, keep < len ? "…" : "");
  }
  json_decref(items);
  return rc;
}

static int system_text(struct runtime *rt, struct store_tx *tx, const struct chain *c,
                       const json_t *agent, struct buf *b, json_t *names, struct err *err)
{
  const char *name = dq_str(agent, "name");
  int rc = buf_printf(b, "You are %s, an agent in ONE, a workspace where people and AI agents "
                         "work together in conversations. %s", name, dq_str(agent, "description"));
  if (!rc && dq_str(agent, "prompt")[0])
    rc = buf_printf(b, "\n\n%s", dq_str(agent, "prompt"));
  const json_t *steps = json_object_get(agent, "canGuideSteps");
  if (!rc && json_array_size(steps)) {
    rc = buf_puts(b, "\n\nThe Elevate steps you can guide:");
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) if (!rc) rc = buf_printf(b, " %s%s", json_string_value(s),
                                                            i + 1 < json_array_size(steps) ? ","
                                                                                           : ".");
  }
  if (!rc)
    rc = attached(tx, agent, b);
  if (!rc)
    rc = participants(tx, c->conv, b, names, err);
  const json_t *to = json_object_get(agent, "delegatesTo");
  if (!rc)
    rc = buf_puts(b, "\n\nTo hand work to another agent, mention it in your reply as "
                     "@[Name](agent:ID), or call messageAnotherAgent.");
  if (!rc && json_is_array(to))
    rc = buf_printf(b, " You may hand work only to the %zu agent%s in your delegatesTo.",
                    json_array_size(to), json_array_size(to) == 1 ? "" : "s");
  if (!rc && c->depth >= rt->lim.max_depth)
    rc = buf_puts(b, " This request has been handed on as far as it may go: answer it "
                     "yourself.");
  if (!rc)
    rc = knowledge(tx, c, agent, b);
  if (!rc)
    rc = buf_printf(b, "\n\nAnswer as %s, in your role. Call noOutput when you have nothing "
                       "to add.", name);
  return rc ? err_set(err, rc, "cannot build the agent's context") : 0;
}

int context_build(struct runtime *rt, struct store_tx *tx, const struct chain *c,
                  const json_t *agent, json_t **messages, struct err *err)
{
  struct buf b;
  buf_init(&b, 1 << 20);
  json_t *names = json_object(), *out = json_array();
  int rc = names && out ? system_text(rt, tx, c, agent, &b, names, err)
                        : err_set(err, E_NOMEM, "out of memory");
  if (!rc)
    json_array_append_new(out, json_pack("{s:s,s:s}", "role", "system", "content", buf_str(&b)));
  buf_release(&b);
  /* the window: newest first from the index, given oldest first */
  json_t *eq = json_pack("[s]", c->conv);
  struct store_query q = {.table = "conversationMessages", .index = "by_conversationId",
                          .eq = eq, .desc = 1, .limit = (size_t)rt->lim.history, .as_text = 1};
  struct store_page page = {0};
  if (!rc)
    rc = store_query(tx, &q, &page, err);
  char row[CID_MAX] = "";
  int active = 0;
  if (!rc)
    rc = replies_agent_row(tx, c->conv, dq_str(agent, "_id"), row, &active, err);
  for (size_t i = page.ntexts; !rc && i > 0; i--) {
    const char *t = page.texts[i - 1];
    size_t n = page.lens[i - 1];
    char kind[16] = "", id[CID_MAX] = "", author[CID_MAX] = "";
    jtext_str(t, n, "kind", kind, sizeof kind);
    jtext_str(t, n, "_id", id, sizeof id);
    int system = strcmp(kind, "system") == 0;
    if (system && strcmp(id, c->message) != 0)
      continue; /* notices are for people (the model has its tools' results), but the
                 * one a run answers (a scheduled task's) is for the agent */
    jtext_str(t, n, "authorParticipantId", author, sizeof author);
    const char *raw = NULL;
    size_t rawlen = 0;
    jtext_field(t, n, "content", &raw, &rawlen);
    const char *name = json_string_value(json_object_get(names, author));
    int mine = !system && strcmp(author, row) == 0;
    size_t cap = rawlen + 256;
    char *text = one_malloc(cap);
    if (!text) {
      rc = err_set(err, E_NOMEM, "out of memory");
      break;
    }
    size_t lead = mine || system ? 0 : (size_t)snprintf(text, cap, "%s: ",
                                                        name ? name : "Someone who left");
    if (lead >= cap)
      lead = 0;
    text[lead] = '\0';
    jtext_str(t, n, "content", text + lead, cap - lead);
    json_array_append_new(out, json_pack("{s:s,s:s}", "role", mine ? "assistant" : "user",
                                         "content", text));
    one_free(text);
  }
  store_page_release(&page);
  json_decref(eq);
  json_decref(names);
  if (rc) {
    json_decref(out);
    return rc;
  }
  *messages = out;
  return 0;
}
