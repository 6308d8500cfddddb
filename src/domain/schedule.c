/* schedule: what events, reminders and broadcasts do at their time, kept
 * in step with their documents (schedule.h). */
#include "domain/schedule.h"

#include "domain/dq.h"
#include "util/clock.h"
#include "util/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Queues kind for document id at time at (ms), keyed by both. */
static int queue_at(struct store_tx *tx, const char *kind, const char *id, double at,
                    struct err *err)
{
  char args[CID_MAX + 64], key[CID_MAX + 64];
  snprintf(args, sizeof args, "{\"id\":\"%s\",\"at\":%.17g}", id, at);
  snprintf(key, sizeof key, "%s:%s:%.17g", kind, id, at);
  struct store_job_new j = {kind, args, key, NULL, at > 0 ? (int64_t)at : 1, 8};
  return store_job_add(tx, &j, NULL, NULL, err);
}

static int is_person(struct store_tx *tx, const char *id)
{
  json_t *doc = NULL;
  int ok = dq_get(tx, dq_is_id_of(tx, id, "agents") ? "agents" : "users", id, "", &doc, NULL) == 0;
  json_decref(doc);
  return ok;
}

/* --- events --- */

static int drop_attendees(struct store_tx *tx, const char *event, struct err *err)
{
  json_t *eq = json_pack("[s]", event);
  struct store_query q = {.table = "eventAttendees", .index = "by_event", .eq = eq,
                          .limit = STORE_MAX_PAGE};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  for (size_t i = 0; !rc && i < json_array_size(page.docs); i++)
    rc = store_delete(tx, dq_str(json_array_get(page.docs, i), "_id"), err);
  store_page_release(&page);
  json_decref(eq);
  return rc;
}

static int sync_event(struct store_tx *tx, const char *id, const json_t *doc, struct err *err)
{
  int rc = drop_attendees(tx, id, err);
  if (rc || !doc)
    return rc;
  double start = dq_num(doc, "startTime", 0), end = dq_num(doc, "endTime", 0);
  if (!(end >= start))
    return err_set(err, E_SCHEMA, "an event ends at or after its start (endTime %.17g is "
                   "before startTime %.17g)", end, start);
  const json_t *who = json_object_get(doc, "participants");
  if (json_array_size(who) > SCHEDULE_MAX_ATTENDEES)
    return err_set(err, E_SCHEMA, "an event has at most %d participants, not %zu",
                   SCHEDULE_MAX_ATTENDEES, json_array_size(who));
  for (size_t i = 0; !rc && i < json_array_size(who); i++) {
    const char *p = json_string_value(json_array_get(who, i));
    int seen = 0;
    for (size_t k = 0; k < i; k++)
      seen |= strcmp(p, json_string_value(json_array_get(who, k))) == 0;
    if (seen)
      continue;
    if (!is_person(tx, p))
      return err_set(err, E_SCHEMA, "participant %s of the event is no user or agent", p);
    json_t *row = json_pack("{s:s,s:s,s:f}", "eventId", id, "attendee", p, "startTime", start);
    rc = row ? store_insert(tx, "eventAttendees", row, 0, NULL, err)
             : err_set(err, E_NOMEM, "out of memory");
    json_decref(row);
  }
  return rc;
}

int schedule_event_tx(struct store_tx *tx, const char *creator, const json_t *fields,
                      json_t **out, struct err *err)
{
  *out = NULL;
  json_t *doc = json_deep_copy(fields);
  if (!doc || !json_is_object(doc)) {
    json_decref(doc);
    return err_set(err, E_INVALID, "an event is an object");
  }
  json_object_set_new(doc, "createdBy", json_string(creator));
  json_object_set_new(doc, "createdAt", json_real(clock_now_ms()));
  char id[CID_MAX];
  int rc = store_insert(tx, "events", doc, 0, id, err);
  json_decref(doc);
  if (!rc)
    rc = schedule_sync(tx, "events", id, NULL, err);
  return rc ? rc : store_get(tx, id, out, NULL, err);
}

/* --- reminders --- */

int schedule_related_conversation(struct store_tx *tx, const char *related, char conv[CID_MAX])
{
  conv[0] = '\0';
  if (!related || !related[0])
    return 0;
  json_t *doc = NULL;
  if (dq_is_id_of(tx, related, "conversations")) {
    if (dq_get(tx, "conversations", related, "", &doc, NULL) == 0)
      snprintf(conv, CID_MAX, "%s", related);
  } else if (dq_is_id_of(tx, related, "conversationMessages")) {
    dq_str_of(tx, related, "conversationId", conv, CID_MAX);
  }
  json_decref(doc);
  return conv[0] != '\0';
}

static int sync_reminder(struct store_tx *tx, const char *id, const json_t *before,
                         const json_t *doc, struct err *err)
{
  if (!doc)
    return 0; /* its job finds it gone */
  int user = json_object_get(doc, "userId") != NULL, agent = json_object_get(doc, "agentId") != NULL;
  if (user == agent)
    return err_set(err, E_SCHEMA, "a reminder is for one user (userId) or one agent (agentId)");
  double fired = dq_num(doc, "firedAt", -1), was = before ? dq_num(before, "firedAt", -1) : -1;
  if (fired != was)
    return err_set(err, E_SCHEMA, "firedAt is set by the scheduler when the reminder fires");
  char conv[CID_MAX];
  if (agent && !schedule_related_conversation(tx, dq_str(doc, "relatedEntity"), conv))
    return err_set(err, E_SCHEMA, "an agent's reminder names the conversation (or a message "
                   "of it) to run in, as relatedEntity");
  double at = dq_num(doc, "remindAt", 0);
  if (!isfinite(at) || at < 0)
    return err_set(err, E_SCHEMA, "remindAt is a time in ms since 1970");
  if (fired >= 0 || (before && dq_num(before, "remindAt", -1) == at))
    return 0; /* fired already, or its job is queued */
  return queue_at(tx, SCHEDULE_REMINDER_JOB, id, at, err);
}

int schedule_reminder_tx(struct store_tx *tx, const char *user, const char *agent,
                         const char *message, double remind_at, const char *related,
                         json_t **out, struct err *err)
{
  *out = NULL;
  json_t *doc = json_pack("{s:s,s:f,s:f}", "message", message ? message : "", "remindAt",
                          remind_at, "createdAt", clock_now_ms());
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  json_object_set_new(doc, user ? "userId" : "agentId", json_string(user ? user : agent));
  if (related && related[0])
    json_object_set_new(doc, "relatedEntity", json_string(related));
  char id[CID_MAX];
  int rc = store_insert(tx, "reminders", doc, 0, id, err);
  json_decref(doc);
  if (!rc)
    rc = schedule_sync(tx, "reminders", id, NULL, err);
  return rc ? rc : store_get(tx, id, out, NULL, err);
}

/* --- broadcasts --- */

static int sync_broadcast(struct store_tx *tx, const char *id, const json_t *before,
                          const json_t *doc, struct err *err)
{
  if (before && strcmp(dq_str(before, "status"), "posted") == 0)
    return err_set(err, E_CONFLICT, "this broadcast was posted: it is history and cannot be "
                   "changed or deleted");
  if (!doc)
    return 0;
  const char *status = dq_str(doc, "status");
  int same = before && strcmp(dq_str(before, "status"), status) == 0;
  if (!same && strcmp(status, "scheduled") != 0 && strcmp(status, "cancelled") != 0)
    return err_set(err, E_SCHEMA, "a broadcast is set to scheduled or cancelled; \"%s\" is "
                   "the scheduler's to set", status);
  double at = dq_num(doc, "scheduledTime", 0);
  if (strcmp(status, "scheduled") != 0 ||
      (same && dq_num(before, "scheduledTime", -1) == at))
    return 0;
  return queue_at(tx, SCHEDULE_BROADCAST_JOB, id, at, err);
}

int schedule_sync(struct store_tx *tx, const char *table, const char *id, const json_t *before,
                  struct err *err)
{
  int events = strcmp(table, "events") == 0, reminders = strcmp(table, "reminders") == 0;
  if (!events && !reminders && strcmp(table, "broadcasts") != 0)
    return 0;
  json_t *doc = NULL;
  int rc = store_get(tx, id, &doc, NULL, NULL);
  if (rc && rc != E_NOTFOUND)
    return err_set(err, rc, "cannot read %s back", id);
  rc = events ? sync_event(tx, id, doc, err)
       : reminders ? sync_reminder(tx, id, before, doc, err)
                   : sync_broadcast(tx, id, before, doc, err);
  json_decref(doc);
  return rc;
}

/* --- my events and reminders --- */

/* Appends the page of table's index for who between op's times. */
static int range(struct store_tx *tx, const struct op *op, const char *table, const char *index,
                 const char *who, double from, json_t **docs, struct err *err)
{
  json_t *eq = json_pack("[s]", who), *lo = json_real(from),
         *hi = op->has_to ? json_real(op->to) : NULL;
  struct store_query q = {.table = table, .index = index, .eq = eq, .lower_op = STORE_GTE,
                          .lower = lo, .upper_op = hi ? STORE_LT : STORE_NONE, .upper = hi,
                          .limit = op_limit(op)};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  if (!rc) {
    *docs = page.docs;
    page.docs = NULL;
  }
  store_page_release(&page);
  json_decref(eq);
  json_decref(lo);
  json_decref(hi);
  return rc;
}

static int by_start(const void *a, const void *b)
{
  double x = dq_num(*(json_t *const *)a, "startTime", 0);
  double y = dq_num(*(json_t *const *)b, "startTime", 0);
  return x < y ? -1 : x > y;
}

static int events_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  double from = op->has_from ? op->from : clock_now_ms();
  json_t *mine = NULL, *rows = NULL;
  int rc = range(tx, op, "events", "by_creator_and_start", op->who->user, from, &mine, err);
  if (!rc)
    rc = range(tx, op, "eventAttendees", "by_attendee_and_start", op->who->user, from, &rows,
               err);
  size_t n = json_array_size(mine);
  for (size_t i = 0; !rc && i < json_array_size(rows); i++) {
    const char *ev = dq_str(json_array_get(rows, i), "eventId");
    int dup = 0;
    for (size_t k = 0; k < n; k++)
      dup |= strcmp(dq_str(json_array_get(mine, k), "_id"), ev) == 0;
    json_t *doc = NULL;
    if (!dup && dq_get(tx, "events", ev, "event", &doc, NULL) == 0)
      json_array_append_new(mine, doc);
  }
  json_decref(rows);
  if (rc) {
    json_decref(mine);
    return rc;
  }
  size_t total = json_array_size(mine), limit = op_limit(op);
  json_t **v = one_malloc((total ? total : 1) * sizeof *v);
  if (!v) {
    json_decref(mine);
    return err_set(err, E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < total; i++)
    v[i] = json_array_get(mine, i);
  qsort(v, total, sizeof *v, by_start);
  json_t *items = json_array();
  for (size_t i = 0; i < total && i < limit; i++)
    json_array_append(items, v[i]);
  one_free(v);
  json_decref(mine);
  op->out = json_pack("{s:o,s:b}", "items", items, "more", total > limit);
  return op->out ? 0 : err_set(err, E_NOMEM, "out of memory");
}

int schedule_my_events(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, events_tx, op, err);
}

static int reminders_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *items = NULL;
  int rc = range(tx, op, "reminders", "by_user", op->who->user, op->has_from ? op->from : 0,
                 &items, err);
  if (!rc)
    op->out = json_pack("{s:o,s:b}", "items", items,
                        "more", json_array_size(items) == op_limit(op));
  return rc ? rc : op->out ? 0 : err_set(err, E_NOMEM, "out of memory");
}

int schedule_my_reminders(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, reminders_tx, op, err);
}
