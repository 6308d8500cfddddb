/* conversations: conversations and their participants (see
 * conversations.h); messages are in messages.c. */
#include "domain/conversations.h"

#include "domain/agents.h"
#include "domain/dq.h"
#include "domain/flags.h"
#include "domain/fuse.h"
#include "domain/mentions.h"
#include "domain/pages.h"
#include "domain/replies.h"
#include "domain/social.h"
#include "domain/vindex.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"
#include "util/memo.h"
#include "util/textvec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* who's participant row in conversation id (removed or not), or NULL. */
static int find_user_row(struct store_tx *tx, const char *id, const char *user, json_t **row,
                         struct err *err)
{
  json_t *eq = json_pack("[s,s,s]", id, "user", user);
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = dq_first(tx, "conversationParticipants", "by_conversationId_kind_userId", eq, row, err);
  json_decref(eq);
  return rc;
}

static int find_agent_row(struct store_tx *tx, const char *id, const char *agent, json_t **row,
                          struct err *err)
{
  json_t *eq = json_pack("[s,s,s]", id, "agent", agent);
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = dq_first(tx, "conversationParticipants", "by_conversationId_kind_agentId", eq, row, err);
  json_decref(eq);
  return rc;
}

int conv_is_participant(struct store_tx *tx, const char *id, const char *user)
{
  json_t *row = NULL;
  int yes = find_user_row(tx, id, user, &row, NULL) == 0 && row && !dq_bool(row, "isRemoved");
  json_decref(row);
  return yes;
}

/* Where who's participant row of a conversation was found last, per
 * thread: a hint, used only when the row there is still one of that
 * conversation, kind and user (dq_text_at). */
struct row_hint {
  char conv[CID_MAX], user[CID_MAX], row[CID_MAX];
};

#define ROW_HINTS 64
static _Thread_local struct row_hint row_hints[ROW_HINTS];

static struct row_hint *row_hint_for(const char *conv, const char *user)
{
  size_t h = 5381;
  for (const char *p = conv; *p; p++)
    h = h * 33 + (unsigned char)*p;
  for (const char *p = user; *p; p++)
    h = h * 33 + (unsigned char)*p;
  return &row_hints[h % ROW_HINTS];
}

/* conv_access when the caller wants neither document (every page read and
 * message sent): both are read as stored text, not parsed. With me_id, the
 * id of who's participant row goes there ("" when who takes part only as
 * an administrator). */
static int conv_check(struct store_tx *tx, const struct actor *who, const char *id,
                      char me_id[CID_MAX], struct err *err)
{
  if (me_id)
    me_id[0] = '\0';
  if (!dq_is_id_of(tx, id, "conversations"))
    return err_set(err, E_NOTFOUND, "no such conversation");
  char *text = NULL;
  size_t n = 0;
  int rc = store_get_text(tx, id, &text, &n, NULL, err);
  one_free(text);
  text = NULL;
  if (rc == E_NOTFOUND) {
    err_clear(err);
    return err_set(err, E_NOTFOUND, "no such conversation");
  }
  if (rc)
    return rc;
  struct row_hint *h = row_hint_for(id, who->user);
  if (strcmp(h->conv, id) == 0 && strcmp(h->user, who->user) == 0)
    text = dq_text_at(tx, h->row, "conversationParticipants",
                      (const char *[]){"conversationId", "kind", "userId"},
                      (const char *[]){id, "user", who->user}, 3, &n);
  if (!text) {
    json_t *eq = json_pack("[s,s,s]", id, "user", who->user);
    if (!eq)
      return err_set(err, E_NOMEM, "out of memory");
    rc = dq_first_text(tx, "conversationParticipants", "by_conversationId_kind_userId", eq,
                       &text, &n, err);
    json_decref(eq);
    struct row_hint next;
    if (rc == 0 && text && strlen(id) < CID_MAX && strlen(who->user) < CID_MAX &&
        jtext_str(text, n, "_id", next.row, sizeof next.row)) {
      snprintf(next.conv, sizeof next.conv, "%s", id);
      snprintf(next.user, sizeof next.user, "%s", who->user);
      *h = next;
    }
  }
  int member = rc == 0 && text && !jtext_bool(text, n, "isRemoved");
  if (member && me_id && !jtext_str(text, n, "_id", me_id, CID_MAX))
    rc = err_set(err, E_STORE, "a stored participant has no id");
  one_free(text);
  if (rc == 0 && !member && !who->admin)
    rc = err_set(err, E_NOTFOUND, "no such conversation");
  return rc;
}

int conv_access(struct store_tx *tx, const struct actor *who, const char *id, json_t **conv,
                json_t **me, struct err *err)
{
  if (!conv && !me)
    return conv_check(tx, who, id, NULL, err);
  json_t *c = NULL, *row = NULL;
  if (me)
    *me = NULL;
  int rc = dq_get(tx, "conversations", id, "conversation", &c, err);
  if (rc)
    return rc;
  if ((rc = find_user_row(tx, id, who->user, &row, err))) {
    json_decref(c);
    return rc;
  }
  if (row && dq_bool(row, "isRemoved")) {
    json_decref(row);
    row = NULL;
  }
  if (!row && !who->admin) {
    json_decref(c);
    return err_set(err, E_NOTFOUND, "no such conversation");
  }
  if (conv)
    *conv = c;
  else
    json_decref(c);
  if (me)
    *me = row;
  else
    json_decref(row);
  return 0;
}

/* conv_access for writing: an administrator outside gets E_PERM. */
static int conv_write_access(struct store_tx *tx, const struct actor *who, const char *id,
                             json_t **conv, json_t **me, struct err *err)
{
  json_t *row = NULL;
  int rc = conv_access(tx, who, id, conv, &row, err);
  if (rc == 0 && !row) {
    if (conv) {
      json_decref(*conv);
      *conv = NULL;
    }
    return err_set(err, E_PERM, "join the conversation first");
  }
  if (me)
    *me = row;
  else
    json_decref(row);
  return rc;
}

/* --- list mine --- */

struct listed {
  json_t *conv;
  double t;
};

static int by_time_desc(const void *a, const void *b)
{
  const struct listed *x = a, *y = b;
  return x->t < y->t ? 1 : x->t > y->t ? -1 : strcmp(dq_str(x->conv, "_id"), dq_str(y->conv, "_id"));
}

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  char *end = NULL;
  unsigned long offset = op->cursor ? strtoul(op->cursor, &end, 10) : 0;
  if (op->cursor && (!*op->cursor || *end))
    return err_set(err, E_INVALID, "malformed cursor");
  json_t *eq = json_pack("[s]", op->who->user);
  struct store_query q = {.table = "conversationParticipants", .index = "by_userId", .eq = eq,
                          .limit = CONV_MAX_LISTED};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  if (rc)
    return rc;
  size_t n = 0, cap = json_array_size(page.docs);
  struct listed *all = one_calloc(cap ? cap : 1, sizeof *all);
  if (!all)
    rc = err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; rc == 0 && i < cap; i++) {
    json_t *row = json_array_get(page.docs, i), *c = NULL;
    if (dq_bool(row, "isRemoved"))
      continue;
    struct err e = ERR_INIT;
    if (store_get(tx, dq_str(row, "conversationId"), &c, NULL, &e) == 0) {
      all[n].conv = c;
      all[n].t = dq_num(c, "lastMessageTime", dq_num(c, "createdAt", 0));
      n++;
    }
    err_clear(&e);
  }
  store_page_release(&page);
  if (rc == 0) {
    qsort(all, n, sizeof *all, by_time_desc);
    json_t *items = json_array();
    size_t limit = op_limit(op), i = offset;
    for (; i < n && i < offset + limit; i++)
      json_array_append(items, all[i].conv);
    char next[32];
    snprintf(next, sizeof next, "%zu", i);
    op->out = op_page(items, next, i >= n);
  }
  for (size_t i = 0; i < n; i++)
    json_decref(all[i].conv);
  one_free(all);
  return rc;
}

int conversations_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, list_tx, op, err);
}

/* --- participants: the one place rows are made or revived --- */

/* Adds (or revives) a participant of kind "user"/"agent" with id to conv;
 * checks that who may. *row gets the row (new reference) when not NULL;
 * *created says whether it is new or revived. */
static int add_participant(struct store_tx *tx, const struct actor *who, const char *conv,
                           const char *kind, const char *id, json_t **row, int *created,
                           struct err *err)
{
  int agent = strcmp(kind, "agent") == 0;
  json_t *target = NULL, *existing = NULL;
  int rc = agent ? agent_load(tx, who, id, &target, err)
                 : dq_get(tx, "users", id, "user", &target, err);
  json_decref(target);
  if (rc)
    return rc;
  rc = agent ? find_agent_row(tx, conv, id, &existing, err)
             : find_user_row(tx, conv, id, &existing, err);
  if (rc)
    return rc;
  char rid[CID_MAX];
  *created = 0;
  if (existing && !dq_bool(existing, "isRemoved")) {
    snprintf(rid, sizeof rid, "%s", dq_str(existing, "_id"));
  } else if (existing) {
    snprintf(rid, sizeof rid, "%s", dq_str(existing, "_id"));
    json_t *patch = json_pack("{s:b,s:s,s:f}", "isRemoved", 0, "status", "inactive", "addedAt",
                              clock_now_ms());
    rc = store_patch(tx, rid, patch, err);
    json_decref(patch);
    *created = 1;
  } else {
    json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:b,s:f}", "conversationId", conv, "kind", kind,
                            agent ? "agentId" : "userId", id, "status", "inactive", "isRemoved", 0,
                            "addedAt", clock_now_ms());
    rc = doc ? store_insert(tx, "conversationParticipants", doc, 0, rid, err)
             : err_set(err, E_NOMEM, "out of memory");
    json_decref(doc);
    *created = 1;
  }
  json_decref(existing);
  if (rc == 0 && row)
    rc = store_get(tx, rid, row, NULL, err);
  return rc;
}

/* --- create, get, update --- */

static int create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"title", "tags", "agents", "users", NULL};
  struct op *op = arg;
  int rc = op_only_fields(op->in, "conversations", fields, err);
  if (rc)
    return rc;
  const json_t *title = json_object_get(op->in, "title");
  const json_t *agents = json_object_get(op->in, "agents");
  const json_t *users = json_object_get(op->in, "users");
  if ((agents && !json_is_array(agents)) || (users && !json_is_array(users))) {
    err_set(err, E_SCHEMA, "agents and users are arrays of ids");
    err_add_detail(err, agents && !json_is_array(agents) ? "agents" : "users", "expected an array");
    return E_SCHEMA;
  }
  if (!title) {
    err_set(err, E_SCHEMA, "a conversation needs a title");
    err_add_detail(err, "conversations.title", "missing required field");
    return E_SCHEMA;
  }
  double now = clock_now_ms();
  json_t *doc = json_pack("{s:O,s:s,s:f,s:f}", "title", title, "createdBy", op->who->user,
                          "createdAt", now, "lastMessageTime", now);
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  const json_t *tags = json_object_get(op->in, "tags");
  if (tags)
    json_object_set(doc, "tags", (json_t *)tags);
  char id[CID_MAX];
  rc = store_insert(tx, "conversations", doc, 0, id, err);
  json_decref(doc);
  int created;
  if (rc == 0)
    rc = add_participant(tx, op->who, id, "user", op->who->user, NULL, &created, err);
  for (size_t i = 0; rc == 0 && i < json_array_size(agents); i++) {
    const char *a = json_string_value(json_array_get(agents, i));
    rc = a ? add_participant(tx, op->who, id, "agent", a, NULL, &created, err)
           : err_set(err, E_INVALID, "agents[%zu] is not an id", i);
  }
  for (size_t i = 0; rc == 0 && i < json_array_size(users); i++) {
    const char *u = json_string_value(json_array_get(users, i));
    rc = u ? add_participant(tx, op->who, id, "user", u, NULL, &created, err)
           : err_set(err, E_INVALID, "users[%zu] is not an id", i);
  }
  if (rc == 0)
    rc = store_get(tx, id, &op->out, NULL, err);
  op->created = rc == 0;
  return rc;
}

int conversations_create(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, create_tx, op, err);
}

static int get_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  return conv_access(tx, op->who, op->id, &op->out, NULL, err);
}

int conversations_get(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, get_tx, op, err);
}

static int update_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"title", "tags", NULL};
  struct op *op = arg;
  int rc = conv_write_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc || (rc = op_only_fields(op->in, "conversations", fields, err)))
    return rc;
  json_t *patch = json_deep_copy(op->in);
  if (json_is_null(json_object_get(patch, "tags")))
    json_object_set_new(patch, "tags", store_undefined());
  rc = store_patch(tx, op->id, patch, err);
  json_decref(patch);
  return rc ? rc : store_get(tx, op->id, &op->out, NULL, err);
}

int conversations_update(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, update_tx, op, err);
}

static int follow_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  return conv_write_access(tx, op->who, op->id, NULL, NULL, err);
}

int conversations_follow(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, follow_tx, op, err);
}

/* --- participants --- */

static int participants_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = conv_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc)
    return rc;
  json_t *eq = json_pack("[s]", op->id);
  rc = op_list(tx, op, "conversationParticipants", "by_conversationId", eq, err);
  json_decref(eq);
  return rc;
}

int participants_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, participants_list_tx, op, err);
}

static int participants_add_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"kind", "userId", "agentId", "email", NULL};
  struct op *op = arg;
  int rc = conv_write_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc || (rc = op_only_fields(op->in, "conversationParticipants", fields, err)))
    return rc;
  const char *kind = dq_str(op->in, "kind");
  int agent = strcmp(kind, "agent") == 0;
  const char *id = dq_str(op->in, agent ? "agentId" : "userId");
  char by_email[CID_MAX] = "";
  const char *email = dq_str(op->in, "email");
  if (!agent && !id[0] && email[0]) { /* a person named by their email address */
    json_t *u = NULL;
    rc = dq_first_str(tx, "users", "by_email", email, &u, err);
    if (!rc && !u) {
      err_set(err, E_SCHEMA, "no one has the email address %s", email);
      err_add_detail(err, "email", "no account with this address");
      return E_SCHEMA;
    }
    if (u)
      snprintf(by_email, sizeof by_email, "%s", dq_str(u, "_id"));
    json_decref(u);
    if (rc)
      return rc;
    id = by_email;
  }
  if (!agent && strcmp(kind, "user") != 0) {
    err_set(err, E_SCHEMA, "kind must be \"user\" or \"agent\"");
    err_add_detail(err, "kind", "expected \"user\" or \"agent\"");
    return E_SCHEMA;
  }
  if (!id[0]) {
    err_set(err, E_SCHEMA, "give the %s to add", agent ? "agentId" : "userId (or email)");
    err_add_detail(err, agent ? "agentId" : "userId", "missing required field");
    return E_SCHEMA;
  }
  rc = add_participant(tx, op->who, op->id, kind, id, &op->out, &op->created, err);
  if (rc == E_NOTFOUND) {
    /* The body names something that does not exist (or that who may not
     * use): that is a fault of the body, the conversation exists. */
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    err_clear(err);
    err_set(err, E_SCHEMA, "%s", msg);
    err_add_detail(err, agent ? "agentId" : "userId", "%s", msg);
    rc = E_SCHEMA;
  }
  return rc;
}

int participants_add(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, participants_add_tx, op, err);
}

/* The participant row op->sub of conversation op->id, for writing. */
static int load_row(struct store_tx *tx, const struct op *op, json_t **row, struct err *err)
{
  int rc = dq_get(tx, "conversationParticipants", op->sub, "participant", row, err);
  if (rc == 0 && strcmp(dq_str(*row, "conversationId"), op->id) != 0) {
    json_decref(*row);
    *row = NULL;
    rc = err_set(err, E_NOTFOUND, "no such participant in this conversation");
  }
  return rc;
}

static int set_removed(struct store_tx *tx, const char *id, struct err *err)
{
  json_t *patch = json_pack("{s:b,s:s}", "isRemoved", 1, "status", "inactive");
  int rc = store_patch(tx, id, patch, err);
  json_decref(patch);
  return rc;
}

static int participants_remove_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *conv = NULL, *row = NULL, *agent = NULL;
  int rc = conv_write_access(tx, op->who, op->id, &conv, NULL, err);
  if (rc == 0)
    rc = load_row(tx, op, &row, err);
  if (rc == 0 && strcmp(dq_str(row, "kind"), "agent") == 0) {
    rc = dq_get(tx, "agents", dq_str(row, "agentId"), "agent", &agent, err);
    if (rc == E_NOTFOUND) { /* a deleted agent may always go */
      err_clear(err);
      rc = 0;
    } else if (rc == 0 && strcmp(dq_str(agent, "kind"), "system_agent") == 0) {
      rc = err_set(err, E_PERM, "system agents cannot be removed from a conversation");
    }
  } else if (rc == 0 && strcmp(dq_str(row, "userId"), op->who->user) != 0 &&
             strcmp(dq_str(conv, "createdBy"), op->who->user) != 0) {
    rc = err_set(err, E_PERM, "only the conversation's creator removes other people");
  }
  if (rc == 0 && !dq_bool(row, "isRemoved"))
    rc = set_removed(tx, op->sub, err);
  if (rc == 0)
    rc = store_get(tx, op->sub, &op->out, NULL, err);
  json_decref(conv);
  json_decref(row);
  json_decref(agent);
  return rc;
}

int participants_remove(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, participants_remove_tx, op, err);
}

static int participants_update_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"status", NULL};
  struct op *op = arg;
  json_t *row = NULL;
  int rc = conv_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc == 0)
    rc = load_row(tx, op, &row, err);
  if (rc == 0 && !op->who->admin && strcmp(dq_str(row, "userId"), op->who->user) != 0)
    rc = err_set(err, E_PERM, "only the participant themself or an administrator sets a status");
  json_decref(row);
  if (rc == 0)
    rc = op_only_fields(op->in, "conversationParticipants", fields, err);
  if (rc == 0)
    rc = store_patch(tx, op->sub, op->in, err);
  return rc ? rc : store_get(tx, op->sub, &op->out, NULL, err);
}

int participants_update(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, participants_update_tx, op, err);
}

static int participants_leave_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *me = NULL;
  int rc = conv_write_access(tx, op->who, op->id, NULL, &me, err);
  if (rc == 0)
    rc = set_removed(tx, dq_str(me, "_id"), err);
  if (rc == 0)
    rc = store_get(tx, dq_str(me, "_id"), &op->out, NULL, err);
  json_decref(me);
  return rc;
}

int participants_leave(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, participants_leave_tx, op, err);
}

/* --- messages --- */

json_t *message_with_parts(const json_t *msg)
{
  json_t *m = json_copy((json_t *)msg);
  const json_t *content = json_object_get(msg, "content");
  json_t *parts = mentions_parts(json_string_value(content) ? json_string_value(content) : "",
                                 json_string_length(content));
  if (!m || !parts) {
    json_decref(m);
    json_decref(parts);
    return NULL;
  }
  json_object_set_new(m, "parts", parts);
  return m;
}

/* The parts of a message whose content is the JSON string token c (clen
 * bytes), appended to b as JSON. The raw token is reused when it has no
 * escapes and no mention; otherwise only the content is parsed. */
static int parts_text(struct buf *b, const char *c, size_t clen)
{
  if (clen <= 2)
    return buf_puts(b, "[]");
  if (!memchr(c, '\\', clen)) {
    struct mention m;
    if (!memmem(c, clen, "@[", 2) || mentions_find(c + 1, clen - 2, &m, 1) == 0)
      return buf_puts(b, "[{\"type\":\"text\",\"text\":") || buf_append(b, c, clen) ||
             buf_puts(b, "}]");
  }
  json_t *str = json_loadb(c, clen, JSON_DECODE_ANY, NULL);
  json_t *parts = json_is_string(str) ? mentions_parts(json_string_value(str), json_string_length(str))
                                      : NULL;
  char *text = parts ? jv_dumps(parts) : NULL;
  int rc = text ? buf_puts(b, text) : E_NOMEM;
  one_free(text);
  json_decref(parts);
  json_decref(str);
  return rc;
}

/* Appends message text t (stored JSON) with its parts to b, as wire JSON.
 * A message without int64 values (all of them, as the schema has it) is
 * forwarded as stored; only an `any` field holding an int64 makes it go
 * through parsing. */
static int message_text(struct buf *b, const char *t, size_t n, struct err *err)
{
  const char *c = NULL;
  size_t clen = 0;
  int ints = 1, has = n > 2 && t[n - 1] == '}' ? jtext_scan(t, n, "content", &c, &clen, &ints) : -1;
  if ((has == 0 || has == 1) && !ints) {
    int rc = buf_append(b, t, n - 1) || buf_puts(b, ",\"parts\":") ||
             (has ? parts_text(b, c, clen) : buf_puts(b, "[]")) || buf_putc(b, '}');
    return rc ? err_set(err, E_NOMEM, "out of memory") : 0;
  }
  json_t *doc = jv_parse(t, n, err);
  if (!doc)
    return err_set(err, E_STORE, "a stored message is damaged");
  json_t *m = message_with_parts(doc), *wire = m ? jv_to_wire(m) : NULL;
  char *text = wire ? jv_dumps(wire) : NULL;
  int rc = text ? buf_puts(b, text) : E_NOMEM;
  one_free(text);
  json_decref(wire);
  json_decref(m);
  json_decref(doc);
  return rc ? err_set(err, E_NOMEM, "out of memory") : 0;
}

/* message_text through this thread's memo: a page read again renders only
 * the messages that changed. */
static int message_text_memo(struct buf *b, const char *t, size_t n, struct err *err)
{
  size_t len = 0;
  const char *done = memo_find(t, n, &len);
  if (done)
    return buf_append(b, done, len) ? err_set(err, E_NOMEM, "out of memory") : 0;
  size_t at = b->len;
  int rc = message_text(b, t, n, err);
  if (rc == 0)
    memo_keep(t, n, b->p + at, b->len - at);
  return rc;
}

/* Appends one message of a page to the answer, after a comma but for the
 * first. Each carries its reaction counts and comment count, which are not
 * in its stored text and so not in the memo: they go in before its last
 * brace. */
struct page_out {
  struct store_tx *tx;
  struct buf b;
  size_t n;
};

static int page_message(void *arg, const char *text, size_t len, struct err *err)
{
  struct page_out *o = arg;
  char id[CID_MAX];
  if (o->n++ && buf_putc(&o->b, ','))
    return err_set(err, E_NOMEM, "out of memory");
  int rc = message_text_memo(&o->b, text, len, err);
  if (rc == 0 && jtext_str(text, len, "_id", id, sizeof id) != 1)
    rc = err_set(err, E_STORE, "a stored message has no id");
  if (rc == 0) {
    o->b.len--; /* the closing brace */
    rc = social_counts_text(o->tx, id, &o->b, err);
  }
  return rc ? rc : buf_putc(&o->b, '}') ? err_set(err, E_NOMEM, "out of memory") : 0;
}

static int messages_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = conv_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc)
    return rc;
  struct pages_key key = {.conv = op->id, .limit = op_limit(op), .cursor = op->cursor};
  int64_t seq = 0;
  rc = pages_find(tx, &key, &op->text, &op->text_len, &seq, err);
  if (rc)
    return rc < 0 ? -rc : 0; /* kept and still current: answered */
  json_t *eq = json_pack("[s]", op->id);
  struct page_out o = {.tx = tx, .n = 0};
  buf_init(&o.b, BUF_UNBOUNDED);
  struct store_query q = {.table = "conversationMessages", .index = "by_conversationId",
                          .eq = eq, .desc = 1, .limit = op_limit(op), .cursor = op->cursor,
                          .as_text = 1, .each = page_message, .each_arg = &o};
  struct store_page page = {0};
  if (buf_puts(&o.b, "{\"items\":["))
    rc = err_set(err, E_NOMEM, "out of memory");
  if (rc == 0)
    rc = store_query(tx, &q, &page, err); /* the messages go straight into o.b */
  json_decref(eq);
  if (rc == 0 && ((page.cursor && !page.done)
                      ? buf_printf(&o.b, "],\"cursor\":\"%s\",\"done\":false}", page.cursor)
                      : buf_puts(&o.b, "],\"cursor\":null,\"done\":true}")))
    rc = err_set(err, E_NOMEM, "out of memory");
  if (rc == 0) {
    pages_keep(tx, &key, seq, o.b.p, o.b.len);
    op->text_len = o.b.len;
    op->text = buf_detach(&o.b);
  }
  buf_release(&o.b);
  store_page_release(&page);
  return rc;
}

int messages_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, messages_list_tx, op, err);
}

/* The conversation's best messages for query: by its words (FTS5, BM25),
 * by meaning (the messages' vectors, when they have them: a message's own,
 * or the built-in embedder's with ONE_MESSAGE_VECTORS=1), or both fused by
 * rank. *hits is one_free'd by the caller. */
static int search_messages(struct store_tx *tx, const char *conv, const char *query,
                           size_t limit, int text, int vector, struct store_hit **hits,
                           size_t *n, struct err *err)
{
  *hits = NULL;
  *n = 0;
  if (text && !vector)
    return store_search_text(tx, "messages", conv, query, limit, hits, n, err);
  size_t want = limit * 4 < 40 ? 40 : limit * 4, k = 0;
  struct fusion f = {0};
  struct store_hit *list = NULL;
  int rc = 0;
  if (text && (rc = store_search_text(tx, "messages", conv, query, want, &list, &k, err)) == 0 &&
      fuse_add(&f, list, k, 1))
    rc = err_set(err, E_NOMEM, "out of memory");
  one_free(list);
  float qv[TEXTVEC_DIM];
  struct store_hit *near = rc ? NULL : one_malloc(want * sizeof *near);
  if (!rc && !near)
    rc = err_set(err, E_NOMEM, "out of memory");
  if (!rc) {
    textvec_embed(query, strlen(query), qv);
    rc = vindex_search(tx, "messages", "conversationMessages", conv, qv, TEXTVEC_DIM, want, near,
                       &k, NULL, err);
    while (!rc && k && near[k - 1].score < TEXTVEC_MIN_COSINE)
      k--;
    if (!rc && fuse_add(&f, near, k, 2))
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  one_free(near);
  fuse_sort(&f);
  size_t keep = f.n < limit ? f.n : limit;
  *hits = rc || !keep ? NULL : one_malloc(keep * sizeof **hits);
  if (!rc && keep && !*hits)
    rc = err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; !rc && i < keep; i++) {
    snprintf((*hits)[i].id, sizeof (*hits)[i].id, "%s", f.v[i].id);
    (*hits)[i].score = f.v[i].score;
  }
  if (!rc)
    *n = keep;
  fuse_release(&f);
  return rc;
}

/* The conversation's messages for {query, mode?, limit?}, best first (the
 * store's "messages" search space), rendered as a page's. */
static int messages_search_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = conv_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc || (rc = op_need_object(op->in, err)))
    return rc;
  static const char *const allowed[] = {"query", "limit", "mode", NULL};
  if ((rc = op_only_fields(op->in, "search", allowed, err)))
    return rc;
  const json_t *query = json_object_get(op->in, "query"), *limit = json_object_get(op->in, "limit");
  const char *mode = json_object_get(op->in, "mode") ? dq_str(op->in, "mode") : "text";
  if (!json_is_string(query) || !json_string_length(query))
    return err_set_at(err, E_SCHEMA, "search.query", "expected a non-empty string");
  if (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
                json_integer_value(limit) > 100))
    return err_set_at(err, E_SCHEMA, "search.limit", "expected an integer from 1 to 100");
  int words = strcmp(mode, "text") == 0 || strcmp(mode, "hybrid") == 0;
  int vector = strcmp(mode, "vector") == 0 || strcmp(mode, "hybrid") == 0;
  if (!words && !vector)
    return err_set_at(err, E_SCHEMA, "search.mode", "expected \"text\", \"vector\" or \"hybrid\"");
  struct store_hit *hits = NULL;
  size_t n = 0;
  rc = search_messages(tx, op->id, json_string_value(query),
                       limit ? (size_t)json_integer_value(limit) : 20, words, vector, &hits, &n, err);
  struct page_out o = {.tx = tx, .n = 0};
  buf_init(&o.b, BUF_UNBOUNDED);
  if (!rc && buf_puts(&o.b, "{\"items\":["))
    rc = err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; !rc && i < n; i++) {
    char *text = NULL;
    size_t len = 0;
    if ((rc = store_get_text(tx, hits[i].id, &text, &len, NULL, err)) == 0)
      rc = page_message(&o, text, len, err);
    one_free(text);
  }
  one_free(hits);
  if (!rc && buf_puts(&o.b, "]}"))
    rc = err_set(err, E_NOMEM, "out of memory");
  if (!rc) {
    op->text_len = o.b.len;
    op->text = buf_detach(&o.b);
  }
  buf_release(&o.b);
  return rc;
}

int messages_search(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, messages_search_tx, op, err);
}

/* 1 when the user or agent id is an active participant of conv, 0 when
 * not, minus an error code on failure. */
static int mentioned_is_participant(struct store_tx *tx, const char *conv, int agent,
                                    const char *id, struct err *err)
{
  json_t *row = NULL;
  int rc = agent ? find_agent_row(tx, conv, id, &row, err) : find_user_row(tx, conv, id, &row, err);
  if (rc)
    return -rc;
  int yes = row && !dq_bool(row, "isRemoved");
  json_decref(row);
  return yes;
}

/* Adds every mentioned user or agent who is not an active participant, as
 * the author may; a mention of something unknown or unusable refuses the
 * message (E_SCHEMA at content, or E_PERM). */
static int add_mentioned(struct store_tx *tx, const struct actor *who, const char *conv,
                         const char *content, json_t *added, struct err *err)
{
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(content, strlen(content), m, MENTION_MAX_PER_MESSAGE);
  int may_add = flag_on(tx, FLAG_MENTIONS_ADD);
  for (size_t i = 0; i < n; i++) {
    int agent = m[i].kind == MENTION_AGENT;
    json_t *row = NULL;
    int created = 0;
    if (!may_add) {
      int rc = mentioned_is_participant(tx, conv, agent, m[i].id, err);
      if (rc < 0)
        return -rc;
      if (rc == 0) {
        err_set(err, E_SCHEMA, "the message mentions %.*s, who is not a participant (the "
                "feature flag %s is off: add them first)",
                (int)(m[i].name_len > 100 ? 100 : m[i].name_len), content + m[i].name_start,
                FLAG_MENTIONS_ADD);
        err_add_detail(err, "content", "mention %zu (%s:%s): not a participant", i + 1,
                       agent ? "agent" : "user", m[i].id);
        return E_SCHEMA;
      }
      continue;
    }
    int rc = add_participant(tx, who, conv, agent ? "agent" : "user", m[i].id, &row, &created, err);
    if (rc == E_NOTFOUND) {
      err_clear(err);
      err_set(err, E_SCHEMA, "the message mentions %.*s, who is not a %s you may add",
              (int)(m[i].name_len > 100 ? 100 : m[i].name_len), content + m[i].name_start,
              agent ? "agent" : "user");
      err_add_detail(err, "content", "mention %zu (%s:%s): no such %s", i + 1,
                     agent ? "agent" : "user", m[i].id, agent ? "agent" : "user");
      return E_SCHEMA;
    }
    if (rc)
      return rc;
    if (created)
      json_array_append(added, row);
    json_decref(row);
  }
  return 0;
}

/* The message id as the API answers it, into op->text: the stored text
 * with its parts (message_text), its reaction and comment counts and the
 * participants its mentions added. */
static int message_out(struct store_tx *tx, struct op *op, const char *id, json_t *added,
                       struct err *err)
{
  char *t = NULL, *more = NULL;
  size_t n = 0;
  int rc = store_get_text(tx, id, &t, &n, NULL, err);
  if (rc)
    return rc;
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  rc = message_text(&b, t, n, err);
  one_free(t);
  json_t *wire = rc == 0 ? jv_to_wire(added) : NULL;
  if (rc == 0 && (!wire || !(more = jv_dumps(wire))))
    rc = err_set(err, E_NOMEM, "out of memory");
  if (rc == 0 && b.len && b.p[b.len - 1] == '}') {
    b.len--; /* the message object stays open for more fields */
    rc = social_counts_text(tx, id, &b, err);
    if (rc == 0 &&
        (buf_puts(&b, ",\"addedParticipants\":") || buf_puts(&b, more) || buf_putc(&b, '}')))
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  if (rc == 0) {
    op->text_len = b.len;
    op->text = buf_detach(&b);
  }
  buf_release(&b);
  one_free(more);
  json_decref(wire);
  return rc;
}

static int messages_send_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"content", "type", "tags", "attachments", "step", NULL};
  struct op *op = arg;
  char me[CID_MAX];
  int rc = conv_check(tx, op->who, op->id, me, err);
  if (rc == 0 && !me[0])
    rc = err_set(err, E_PERM, "join the conversation first");
  if (rc)
    return rc;
  const char *content = json_string_value(json_object_get(op->in, "content"));
  if ((rc = op_only_fields(op->in, "conversationMessages", fields, err)) == 0 &&
      (!content || !content[0] || strlen(content) > MESSAGE_MAX_CONTENT)) {
    err_set(err, E_SCHEMA, "a message needs content of 1 to %d bytes", MESSAGE_MAX_CONTENT);
    err_add_detail(err, "conversationMessages.content", "%s",
                   !content ? "missing or not a string" : content[0] ? "too long" : "empty");
    rc = E_SCHEMA;
  }
  json_t *added = json_array();
  if (rc == 0)
    rc = add_mentioned(tx, op->who, op->id, content, added, err);
  double now = clock_now_ms();
  char id[CID_MAX];
  if (rc == 0) {
    json_t *doc = json_deep_copy(op->in);
    json_object_set_new(doc, "conversationId", json_string(op->id));
    json_object_set_new(doc, "authorParticipantId", json_string(me));
    json_object_set_new(doc, "kind", json_string("participant"));
    json_object_set_new(doc, "createdAt", json_real(now));
    rc = store_insert(tx, "conversationMessages", doc, 0, id, err);
    json_decref(doc);
  }
  if (rc == 0) {
    json_t *patch = json_pack("{s:f}", "lastMessageTime", now);
    rc = store_patch(tx, op->id, patch, err);
    json_decref(patch);
  }
  if (rc == 0)
    rc = replies_start(tx, op->id, id, content, op->who->user, err); /* its answers */
  if (rc == 0 && (rc = message_out(tx, op, id, added, err)) == 0)
    op->created = 1;
  json_decref(added);
  return rc;
}

int messages_send(struct store *s, struct op *op, struct err *err)
{
  int rc = op_need_object(op->in, err);
  return rc ? rc : store_run(s, STORE_WRITE, messages_send_tx, op, err);
}

static int messages_update_tx(struct store_tx *tx, void *arg, struct err *err)
{
  static const char *const fields[] = {"content", "tags", NULL};
  struct op *op = arg;
  json_t *me = NULL, *msg = NULL;
  int rc = conv_write_access(tx, op->who, op->id, NULL, &me, err);
  if (rc == 0)
    rc = dq_get(tx, "conversationMessages", op->sub, "message", &msg, err);
  if (rc == 0 && strcmp(dq_str(msg, "conversationId"), op->id) != 0)
    rc = err_set(err, E_NOTFOUND, "no such message in this conversation");
  if (rc == 0 && strcmp(dq_str(msg, "authorParticipantId"), dq_str(me, "_id")) != 0)
    rc = err_set(err, E_PERM, "only a message's author edits it");
  if (rc == 0)
    rc = op_only_fields(op->in, "conversationMessages", fields, err);
  json_t *added = json_array();
  const char *content = json_string_value(json_object_get(op->in, "content"));
  if (rc == 0 && content)
    rc = add_mentioned(tx, op->who, op->id, content, added, err);
  if (rc == 0)
    rc = store_patch(tx, op->sub, op->in, err);
  if (rc == 0)
    rc = message_out(tx, op, op->sub, added, err);
  json_decref(added);
  json_decref(msg);
  json_decref(me);
  return rc;
}

int messages_update(struct store *s, struct op *op, struct err *err)
{
  int rc = op_need_object(op->in, err);
  return rc ? rc : store_run(s, STORE_WRITE, messages_update_tx, op, err);
}
