/* social: reactions, comments, tags, follows and the feed (see social.h). */
#include "domain/social.h"

#include "domain/agents.h"
#include "domain/conversations.h"
#include "domain/dq.h"
#include "domain/policy.h"
#include "util/clock.h"
#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES 64      /* distinct reaction types counted on one message */
#define MAX_DOC_TAGS 100  /* tags on one document */

static int nomem(struct err *err) { return err_set(err, E_NOMEM, "out of memory"); }

/* A reaction type or a tag name: 1..max bytes, no control characters, no
 * slash (a tag is named in a URL path) and not only spaces. */
static int check_name(const char *what, const char *s, size_t max, struct err *err)
{
  size_t n = s ? strlen(s) : 0;
  if (!s || n == 0 || n > max || strspn(s, " ") == n)
    return err_set(err, E_INVALID, "%s must be 1 to %zu bytes of text", what, max);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f || *p == '/')
      return err_set(err, E_INVALID, "%s may not hold control characters or '/'", what);
  return 0;
}

/* E_NOTFOUND unless msg is a message of conversation conv. */
static int message_of(struct store_tx *tx, const char *conv, const char *msg, struct err *err)
{
  char of[CID_MAX] = "";
  if (msg && dq_is_id_of(tx, msg, "conversationMessages"))
    dq_str_of(tx, msg, "conversationId", of, sizeof of);
  return strcmp(of, conv) == 0 && *of ? 0
                                      : err_set(err, E_NOTFOUND, "no such message in this conversation");
}

/* Who's active participant row of conversation conv (an administrator
 * outside it reads but does not write): *row new reference. */
static int writer_row(struct store_tx *tx, const struct actor *who, const char *conv, json_t **row,
                      struct err *err)
{
  *row = NULL;
  int rc = conv_access(tx, who, conv, NULL, row, err);
  if (rc == 0 && !*row)
    rc = err_set(err, E_PERM, "join the conversation first");
  return rc;
}

/* --- reactions and comments --- */

int social_react_tx(struct store_tx *tx, const char *msg, const char *user, const char *agent,
                    const char *type, int *reacted, struct err *err)
{
  *reacted = 0;
  int rc = check_name("a reaction's type", type, SOCIAL_MAX_TYPE, err);
  if (rc)
    return rc;
  json_t *eq = json_pack("[s,s,s]", msg, user ? user : agent, type), *have = NULL;
  if (!eq)
    return nomem(err);
  rc = dq_first(tx, "reactions", user ? "by_message_and_user" : "by_message_and_agent", eq, &have,
                err);
  json_decref(eq);
  if (rc == 0 && have) {
    rc = store_delete(tx, dq_str(have, "_id"), err);
  } else if (rc == 0) {
    json_t *doc = json_pack("{s:s,s:s,s:s,s:f}", "messageId", msg, user ? "userId" : "agentId",
                            user ? user : agent, "type", type, "createdAt", clock_now_ms());
    rc = doc ? store_insert(tx, "reactions", doc, 0, NULL, err) : nomem(err);
    json_decref(doc);
    *reacted = rc == 0;
  }
  json_decref(have);
  return rc;
}

int social_comment_tx(struct store_tx *tx, const char *msg, const char *author,
                      const json_t *content, char *id, struct err *err)
{
  const char *c = json_string_value(content);
  size_t n = c ? json_string_length(content) : 0;
  if (!c || n == 0 || strspn(c, " \t\r\n") == n)
    return err_set(err, E_INVALID, "a comment's content must be text, not empty");
  if (n > SOCIAL_MAX_COMMENT)
    return err_set(err, E_TOOBIG, "a comment holds at most %d bytes", SOCIAL_MAX_COMMENT);
  json_t *doc = json_pack("{s:s,s:s,s:O,s:f}", "messageId", msg, "authorParticipantId", author,
                          "content", content, "createdAt", clock_now_ms());
  char made[CID_MAX];
  int rc = doc ? store_insert(tx, "comments", doc, 0, made, err) : nomem(err);
  json_decref(doc);
  if (rc == 0 && id)
    snprintf(id, CID_MAX, "%s", made);
  return rc;
}

struct tally {
  char type[MAX_TYPES][SOCIAL_MAX_TYPE + 1];
  int64_t n[MAX_TYPES];
  size_t ntypes;
  int64_t other;   /* reactions beyond MAX_TYPES distinct types */
  int64_t count;   /* documents seen */
};

static int tally_type(void *arg, const char *t, size_t len, struct err *err)
{
  (void)err;
  struct tally *y = arg;
  char type[SOCIAL_MAX_TYPE + 1];
  y->count++;
  if (jtext_str(t, len, "type", type, sizeof type) != 1)
    return 0; /* a type longer than the API allows: written round it, not counted */
  for (size_t i = 0; i < y->ntypes; i++)
    if (strcmp(y->type[i], type) == 0) {
      y->n[i]++;
      return 0;
    }
  if (y->ntypes == MAX_TYPES) {
    y->other++;
    return 0;
  }
  memcpy(y->type[y->ntypes], type, sizeof type);
  y->n[y->ntypes++] = 1;
  return 0;
}

static int tally_one(void *arg, const char *t, size_t len, struct err *err)
{
  (void)t;
  (void)len;
  (void)err;
  ((struct tally *)arg)->count++;
  return 0;
}

/* Runs each over every document of table's index prefix [msg]. */
static int each_of_message(struct store_tx *tx, const char *table, const char *msg,
                           int (*each)(void *, const char *, size_t, struct err *), void *arg,
                           struct err *err)
{
  json_t *eq = json_pack("[s]", msg);
  if (!eq)
    return nomem(err);
  char *cursor = NULL;
  int rc = 0, done = 0;
  while (!rc && !done) {
    struct store_query q = {.table = table, .index = "by_message", .eq = eq,
                            .limit = STORE_MAX_PAGE, .cursor = cursor, .as_text = 1,
                            .each = each, .each_arg = arg};
    struct store_page page = {0};
    rc = store_query(tx, &q, &page, err);
    one_free(cursor);
    cursor = page.cursor;
    page.cursor = NULL;
    done = page.done || !cursor;
    store_page_release(&page);
  }
  one_free(cursor);
  json_decref(eq);
  return rc;
}

static int counts_of(struct store_tx *tx, const char *msg, struct tally *reactions,
                     struct tally *comments, struct err *err)
{
  memset(reactions, 0, sizeof *reactions);
  memset(comments, 0, sizeof *comments);
  int rc = each_of_message(tx, "reactions", msg, tally_type, reactions, err);
  return rc ? rc : each_of_message(tx, "comments", msg, tally_one, comments, err);
}

static json_t *counts_json(const struct tally *r)
{
  json_t *o = json_object();
  for (size_t i = 0; o && i < r->ntypes; i++)
    json_object_set_new(o, r->type[i], json_real((double)r->n[i]));
  return o;
}

int social_counts_text(struct store_tx *tx, const char *msg, struct buf *b, struct err *err)
{
  struct tally *r = one_malloc(2 * sizeof *r);
  if (!r)
    return nomem(err);
  int rc = counts_of(tx, msg, &r[0], &r[1], err);
  json_t *o = rc ? NULL : counts_json(&r[0]);
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  if (rc == 0 && (!text || buf_printf(b, ",\"reactionCounts\":%s,\"commentCount\":%lld", text,
                                      (long long)r[1].count)))
    rc = nomem(err);
  free(text);
  json_decref(o);
  one_free(r);
  return rc;
}

static int toggle_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *row = NULL;
  int rc = writer_row(tx, op->who, op->id, &row, err);
  json_decref(row);
  if (rc || (rc = message_of(tx, op->id, op->sub, err)))
    return rc;
  static const char *const fields[] = {"type", NULL};
  if ((rc = op_only_fields(op->in, "reactions", fields, err)))
    return rc;
  const char *type = json_string_value(json_object_get(op->in, "type"));
  int reacted = 0;
  if ((rc = social_react_tx(tx, op->sub, op->who->user, NULL, type, &reacted, err)))
    return rc;
  struct tally *r = one_malloc(2 * sizeof *r);
  rc = r ? counts_of(tx, op->sub, &r[0], &r[1], err) : nomem(err);
  if (rc == 0 &&
      !(op->out = json_pack("{s:s,s:b,s:o,s:f}", "type", type, "reacted", reacted,
                            "reactionCounts", counts_json(&r[0]), "commentCount",
                            (double)r[1].count)))
    rc = nomem(err);
  one_free(r);
  return rc;
}

int reactions_toggle(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, toggle_tx, op, err);
}

static int list_of_message_tx(struct store_tx *tx, struct op *op, const char *table,
                              struct err *err)
{
  int rc = conv_access(tx, op->who, op->id, NULL, NULL, err);
  if (rc || (rc = message_of(tx, op->id, op->sub, err)))
    return rc;
  json_t *eq = json_pack("[s]", op->sub);
  rc = eq ? op_list(tx, op, table, "by_message", eq, err) : nomem(err);
  json_decref(eq);
  return rc;
}

static int reactions_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return list_of_message_tx(tx, arg, "reactions", err);
}

int reactions_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, reactions_list_tx, op, err);
}

static int comments_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return list_of_message_tx(tx, arg, "comments", err);
}

int comments_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, comments_list_tx, op, err);
}

static int comments_add_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  static const char *const fields[] = {"content", NULL};
  json_t *row = NULL;
  int rc = writer_row(tx, op->who, op->id, &row, err);
  if (rc == 0)
    rc = message_of(tx, op->id, op->sub, err);
  if (rc == 0)
    rc = op_only_fields(op->in, "comments", fields, err);
  char id[CID_MAX];
  if (rc == 0)
    rc = social_comment_tx(tx, op->sub, dq_str(row, "_id"), json_object_get(op->in, "content"),
                           id, err);
  json_decref(row);
  if (rc == 0 && (rc = store_get(tx, id, &op->out, NULL, err)) == 0)
    op->created = 1;
  return rc;
}

int comments_add(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, comments_add_tx, op, err);
}

/* --- tags --- */

static int tags_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return op_list(tx, arg, "tags", "by_name", NULL, err);
}

int tags_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, tags_list_tx, op, err);
}

/* The tag named name into *tag (new reference), made (by who, with color)
 * when make and there is none; *tag NULL when there is none and !make. */
static int tag_named(struct store_tx *tx, const struct actor *who, const char *name,
                     const json_t *color, int make, json_t **tag, struct err *err)
{
  *tag = NULL;
  int rc = check_name("a tag's name", name, SOCIAL_MAX_TAG, err);
  if (rc || (rc = dq_first_str(tx, "tags", "by_name", name, tag, err)) || *tag || !make)
    return rc;
  json_t *doc = json_pack("{s:s,s:s,s:f}", "name", name, "createdBy", who->user, "createdAt",
                          clock_now_ms());
  if (doc && color)
    json_object_set(doc, "color", (json_t *)color);
  char id[CID_MAX];
  rc = doc ? store_insert(tx, "tags", doc, 0, id, err) : nomem(err);
  json_decref(doc);
  return rc ? rc : store_get(tx, id, tag, NULL, err);
}

static int tags_create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  static const char *const fields[] = {"name", "color", NULL};
  int rc = op_only_fields(op->in, "tags", fields, err);
  if (rc)
    return rc;
  const json_t *color = json_object_get(op->in, "color");
  if (color && !json_is_string(color))
    return err_set(err, E_SCHEMA, "a tag's color is a string, such as \"#3b82f6\"");
  const char *name = json_string_value(json_object_get(op->in, "name"));
  json_t *have = NULL;
  if ((rc = check_name("a tag's name", name, SOCIAL_MAX_TAG, err)) ||
      (rc = dq_first_str(tx, "tags", "by_name", name, &have, err)))
    return rc;
  if (have) {
    json_decref(have);
    return err_set(err, E_CONFLICT, "there is a tag named \"%s\" already", name);
  }
  rc = tag_named(tx, op->who, name, color, 1, &op->out, err);
  op->created = rc == 0;
  return rc;
}

int tags_create(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, tags_create_tx, op, err);
}

/* Whether who may retag document doc of table: 0, or E_NOTFOUND when who
 * may not know it, E_PERM when they see it but may not change it. */
static int may_tag(struct store_tx *tx, const struct actor *who, const char *table,
                   const json_t *doc, struct err *err)
{
  json_t *row = NULL;
  int rc;
  if (strcmp(table, "agents") == 0) {
    if (agent_editable(who, doc))
      return 0;
    return agent_usable(who, doc) ? err_set(err, E_PERM, "only an agent's editors tag it")
                                  : err_set(err, E_NOTFOUND, "no such agent");
  }
  if (strcmp(table, "conversations") == 0 || strcmp(table, "conversationMessages") == 0) {
    const char *conv = strcmp(table, "conversations") == 0 ? dq_str(doc, "_id")
                                                           : dq_str(doc, "conversationId");
    rc = writer_row(tx, who, conv, &row, err);
    json_decref(row);
    return rc;
  }
  if (strcmp(table, "knowledge") == 0) {
    const struct policy *p = policy_find("knowledge");
    if (who->admin || p->may_write(tx, who, doc))
      return 0;
    return p->may_read(tx, who, doc) ? err_set(err, E_PERM, "only the item's owner tags it")
                                     : err_set(err, E_NOTFOUND, "no such knowledge item");
  }
  return err_set(err, E_INVALID, "tags apply to agents, conversations, messages and knowledge, "
                 "not to %s", table);
}

static int retag_tx(struct store_tx *tx, struct op *op, int add, struct err *err)
{
  char table[65] = "";
  json_t *doc = NULL, *tag = NULL;
  int rc = store_get(tx, op->sub, &doc, table, err);
  if (rc == E_NOTFOUND || rc == E_INVALID) { /* gone, or not an id at all */
    err_clear(err);
    return err_set(err, E_NOTFOUND, "nothing to tag has id %s", op->sub);
  }
  if (rc == 0)
    rc = may_tag(tx, op->who, table, doc, err);
  if (rc == 0)
    rc = tag_named(tx, op->who, op->id, NULL, add, &tag, err);
  if (rc == 0 && !tag)
    rc = err_set(err, E_NOTFOUND, "there is no tag named \"%s\"", op->id);
  json_t *tags = rc ? NULL : json_deep_copy(json_object_get(doc, "tags"));
  if (rc == 0 && !json_is_array(tags)) {
    json_decref(tags);
    tags = json_array();
  }
  int has = tags && dq_list_has(tags, op->id), change = tags && has != add;
  if (rc == 0 && change && add && json_array_size(tags) >= MAX_DOC_TAGS)
    rc = err_set(err, E_INVALID, "a document carries at most %d tags", MAX_DOC_TAGS);
  for (size_t i = json_array_size(tags); rc == 0 && change && !add && i-- > 0;) {
    const char *t = json_string_value(json_array_get(tags, i));
    if (t && strcmp(t, op->id) == 0)
      json_array_remove(tags, i);
  }
  if (rc == 0 && change && add)
    json_array_append_new(tags, json_string(op->id));
  if (rc == 0 && change) {
    json_t *patch = json_pack("{s:O}", "tags", tags);
    rc = patch ? store_patch(tx, op->sub, patch, err) : nomem(err);
    json_decref(patch);
  }
  if (rc == 0 && !(op->out = json_pack("{s:s,s:s,s:O}", "id", op->sub, "table", table, "tags",
                                       tags)))
    rc = nomem(err);
  json_decref(tags);
  json_decref(tag);
  json_decref(doc);
  return rc;
}

/* E_SCHEMA unless a PUT that takes nothing came with nothing, or {}. */
static int no_fields(const struct op *op, const char *table, struct err *err)
{
  static const char *const none[] = {NULL};
  return op->in ? op_only_fields(op->in, table, none, err) : 0;
}

static int tags_apply_tx(struct store_tx *tx, void *arg, struct err *err)
{
  int rc = no_fields(arg, "tags", err);
  return rc ? rc : retag_tx(tx, arg, 1, err);
}

static int tags_remove_tx(struct store_tx *tx, void *arg, struct err *err)
{
  return retag_tx(tx, arg, 0, err);
}

int tags_apply(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, tags_apply_tx, op, err);
}

int tags_remove(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, tags_remove_tx, op, err);
}

/* --- follows --- */

/* The kind of followee id ("user" or "agent") into kind, checking who may
 * know it and is not following themself. */
static int followee_kind(struct store_tx *tx, const struct actor *who, const char *id,
                         const char **kind, struct err *err)
{
  json_t *doc = NULL;
  if (dq_is_id_of(tx, id, "users")) {
    *kind = "user";
    if (strcmp(id, who->user) == 0)
      return err_set(err, E_INVALID, "you cannot follow yourself");
    int rc = dq_get(tx, "users", id, "user", &doc, err);
    json_decref(doc);
    return rc;
  }
  *kind = "agent";
  if (!dq_is_id_of(tx, id, "agents"))
    return err_set(err, E_NOTFOUND, "no user or agent has id %s", id);
  int rc = agent_load(tx, who, id, &doc, err);
  json_decref(doc);
  return rc;
}

static int follows_add_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  const char *kind = NULL;
  int rc = no_fields(op, "follows", err);
  if (rc == 0)
    rc = followee_kind(tx, op->who, op->id, &kind, err);
  json_t *eq = rc ? NULL : json_pack("[s,s]", op->who->user, op->id);
  if (rc == 0 && !eq)
    rc = nomem(err);
  if (rc == 0)
    rc = dq_first(tx, "follows", "by_follower_and_followee", eq, &op->out, err);
  json_decref(eq);
  if (rc || op->out)
    return rc; /* following already: as it was */
  json_t *doc = json_pack("{s:s,s:s,s:s,s:f}", "followerId", op->who->user, "followeeId", op->id,
                          "kind", kind, "createdAt", clock_now_ms());
  char id[CID_MAX];
  rc = doc ? store_insert(tx, "follows", doc, 0, id, err) : nomem(err);
  json_decref(doc);
  if (rc == 0 && (rc = store_get(tx, id, &op->out, NULL, err)) == 0)
    op->created = 1;
  return rc;
}

int follows_add(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, follows_add_tx, op, err);
}

static int follows_remove_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *eq = json_pack("[s,s]", op->who->user, op->id), *have = NULL;
  int rc = eq ? dq_first(tx, "follows", "by_follower_and_followee", eq, &have, err) : nomem(err);
  json_decref(eq);
  if (rc == 0 && !have)
    rc = err_set(err, E_NOTFOUND, "you do not follow %s", op->id);
  if (rc == 0)
    rc = store_delete(tx, dq_str(have, "_id"), err);
  json_decref(have);
  return rc;
}

int follows_remove(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, follows_remove_tx, op, err);
}

static int follows_mine_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *eq = json_pack("[s]", op->who->user);
  op->desc = 1;
  int rc = eq ? op_list(tx, op, "follows", "by_follower", eq, err) : nomem(err);
  json_decref(eq);
  return rc;
}

int follows_mine(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, follows_mine_tx, op, err);
}

static int follows_of_me_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *eq = json_pack("[s]", op->who->user);
  op->desc = 1;
  int rc = eq ? op_list(tx, op, "follows", "by_followee", eq, err) : nomem(err);
  json_decref(eq);
  return rc;
}

int follows_of_me(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, follows_of_me_tx, op, err);
}

/* --- the feed --- */

struct ids {
  char (*v)[CID_MAX];
  size_t n, cap;
};

static int ids_add(struct ids *s, const char *id)
{
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 64;
    char(*v)[CID_MAX] = one_realloc(s->v, cap * sizeof *v);
    if (!v)
      return E_NOMEM;
    s->v = v;
    s->cap = cap;
  }
  snprintf(s->v[s->n++], CID_MAX, "%s", id);
  return 0;
}

static int by_id(const void *a, const void *b) { return strcmp(a, b); }

static int ids_has(const struct ids *s, const char *id)
{
  return s->n && bsearch(id, s->v, s->n, sizeof *s->v, by_id) != NULL;
}

/* Every document of table's index prefix eq, a page at a time, to fn. */
static int each_doc(struct store_tx *tx, const char *table, const char *index, const json_t *eq,
                    size_t most, int (*fn)(void *, const json_t *), void *arg, int *cut,
                    struct err *err)
{
  char *cursor = NULL;
  int rc = 0, done = 0;
  size_t seen = 0;
  *cut = 0;
  while (!rc && !done) {
    struct store_query q = {.table = table, .index = index, .eq = eq, .limit = STORE_MAX_PAGE,
                            .cursor = cursor};
    struct store_page page = {0};
    rc = store_query(tx, &q, &page, err);
    for (size_t i = 0; !rc && i < json_array_size(page.docs); i++) {
      if (most && seen++ == most) {
        *cut = 1;
        break;
      }
      if (fn(arg, json_array_get(page.docs, i)))
        rc = nomem(err);
    }
    one_free(cursor);
    cursor = page.cursor;
    page.cursor = NULL;
    done = *cut || page.done || !cursor;
    store_page_release(&page);
  }
  one_free(cursor);
  return rc;
}

static int add_active_conv(void *arg, const json_t *row)
{
  return dq_bool(row, "isRemoved") ? 0 : ids_add(arg, dq_str(row, "conversationId"));
}

struct rows_in {
  const struct ids *mine;
  struct ids *rows;
};

static int add_row_if_mine(void *arg, const json_t *row)
{
  struct rows_in *r = arg;
  return ids_has(r->mine, dq_str(row, "conversationId")) ? ids_add(r->rows, dq_str(row, "_id"))
                                                         : 0;
}

/* The participant rows of followee (kind "user" or "agent") in the
 * conversations of mine, appended to rows: the followee's rows read while
 * they are fewer than mine, else each of mine looked up. */
static int rows_of(struct store_tx *tx, const char *followee, const char *kind,
                   const struct ids *mine, struct ids *rows, struct err *err)
{
  int user = strcmp(kind, "user") == 0, cut = 0;
  json_t *eq = json_pack("[s]", followee);
  struct rows_in r = {mine, rows};
  size_t had = rows->n;
  int rc = eq ? each_doc(tx, "conversationParticipants", user ? "by_userId" : "by_agentId", eq,
                         mine->n, add_row_if_mine, &r, &cut, err)
              : nomem(err);
  json_decref(eq);
  if (rc || !cut)
    return rc;
  rows->n = had; /* the followee is in more conversations than I am: look mine up */
  for (size_t i = 0; !rc && i < mine->n; i++) {
    json_t *row = NULL;
    json_t *k = json_pack("[s,s,s]", mine->v[i], kind, followee);
    rc = k ? dq_first(tx, "conversationParticipants",
                      user ? "by_conversationId_kind_userId" : "by_conversationId_kind_agentId", k,
                      &row, err)
           : nomem(err);
    if (rc == 0 && row && ids_add(rows, dq_str(row, "_id")))
      rc = nomem(err);
    json_decref(row);
    json_decref(k);
  }
  return rc;
}

static int by_time_desc(const void *a, const void *b)
{
  double x = dq_num(*(json_t *const *)a, "_creationTime", 0);
  double y = dq_num(*(json_t *const *)b, "_creationTime", 0);
  return x < y ? 1 : x > y ? -1 : 0;
}

/* The newest limit messages of the author rows, before `before` (0: now),
 * into *out sorted newest first; *more when there may be older ones. */
static int newest_of(struct store_tx *tx, const struct ids *rows, double before, size_t limit,
                     json_t **out, int *more, struct err *err)
{
  json_t *all = json_array(), *upper = before > 0 ? json_real(before) : NULL;
  int rc = all ? 0 : nomem(err);
  *more = 0;
  for (size_t i = 0; !rc && i < rows->n; i++) {
    json_t *eq = json_pack("[s]", rows->v[i]);
    struct store_query q = {.table = "conversationMessages", .index = "by_author", .eq = eq,
                            .upper_op = upper ? STORE_LT : STORE_NONE, .upper = upper,
                            .desc = 1, .limit = limit};
    struct store_page page = {0};
    rc = eq ? store_query(tx, &q, &page, err) : nomem(err);
    if (rc == 0 && !page.done)
      *more = 1;
    if (rc == 0)
      json_array_extend(all, page.docs);
    store_page_release(&page);
    json_decref(eq);
  }
  json_decref(upper);
  size_t n = json_array_size(all);
  json_t **v = rc || !n ? NULL : one_malloc(n * sizeof *v);
  if (!rc && n && !v)
    rc = nomem(err);
  for (size_t i = 0; v && i < n; i++)
    v[i] = json_array_get(all, i);
  if (v)
    qsort(v, n, sizeof *v, by_time_desc);
  json_t *items = rc ? NULL : json_array();
  for (size_t i = 0; items && i < n && i < limit; i++) {
    json_t *m = message_with_parts(v[i]);
    if (!m || json_array_append_new(items, m))
      rc = nomem(err);
  }
  if (n > limit)
    *more = 1;
  one_free(v);
  json_decref(all);
  if (rc == 0 && !items)
    rc = nomem(err);
  *out = items;
  return rc;
}

static int add_followee(void *arg, const json_t *f)
{
  return json_array_append((json_t *)arg, (json_t *)f) ? E_NOMEM : 0;
}

static int feed_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  double before = 0;
  if (op->cursor) {
    char *end = NULL;
    before = strtod(op->cursor, &end);
    if (*end || before <= 0)
      return err_set(err, E_INVALID, "cursor: not one this feed gave");
  }
  struct ids mine = {0}, rows = {0};
  json_t *eq = json_pack("[s]", op->who->user), *followees = json_array();
  int cut = 0;
  int rc = eq && followees ? each_doc(tx, "conversationParticipants", "by_userId", eq, 0,
                                      add_active_conv, &mine, &cut, err)
                           : nomem(err);
  if (rc == 0)
    rc = each_doc(tx, "follows", "by_follower", eq, 0, add_followee, followees, &cut, err);
  json_decref(eq);
  if (mine.n)
    qsort(mine.v, mine.n, sizeof *mine.v, by_id);
  for (size_t i = 0; rc == 0 && i < json_array_size(followees) && rows.n < SOCIAL_FEED_AUTHORS;
       i++) {
    const json_t *f = json_array_get(followees, i);
    rc = rows_of(tx, dq_str(f, "followeeId"), dq_str(f, "kind"), &mine, &rows, err);
  }
  if (rows.n > SOCIAL_FEED_AUTHORS)
    rows.n = SOCIAL_FEED_AUTHORS;
  json_t *items = NULL;
  int more = 0;
  size_t limit = op_limit(op);
  if (rc == 0)
    rc = newest_of(tx, &rows, before, limit, &items, &more, err);
  char next[64] = "";
  size_t n = json_array_size(items);
  if (rc == 0 && more && n)
    snprintf(next, sizeof next, "%.17g",
             dq_num(json_array_get(items, n - 1), "_creationTime", 0));
  if (rc == 0 && !(op->out = op_page(items, *next ? next : NULL, !*next)))
    rc = nomem(err);
  else if (rc)
    json_decref(items);
  one_free(mine.v);
  json_decref(followees);
  one_free(rows.v);
  return rc;
}

int feed_list(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, feed_tx, op, err);
}
