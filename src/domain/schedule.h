/* schedule: events, reminders and broadcasts, the documents that do
 * something at a time (spec schema-one.md, "Scheduling", "broadcasts").
 *
 * schedule_sync runs after every write to those tables made for a person
 * (through /api/v1/tables or an agent's tool), inside the write's
 * transaction, so a write it refuses leaves nothing behind. It checks what
 * the schema cannot say, keeps each event's attendee rows (eventAttendees,
 * the index behind "my events"), and queues the job that fires a reminder
 * or posts a broadcast at its time. A job carries its document's id and
 * time and is keyed by both: a reminder moved to another time fires once,
 * at the new time, and its old job finds the time changed and does nothing.
 *
 *   events      endTime >= startTime; each participant an existing user or
 *               agent (at most SCHEDULE_MAX_ATTENDEES)
 *   reminders   for exactly one user or one agent; an agent's reminder names
 *               the conversation (or a message of it) its run happens in, as
 *               relatedEntity; firedAt is the scheduler's to set
 *   broadcasts  a person writes "scheduled" or "cancelled"; "posted" and
 *               "failed" are the scheduler's; a posted broadcast is history
 *               and cannot be changed
 *
 * The jobs' handlers are in agents/timed.c. */
#ifndef ONE_DOMAIN_SCHEDULE_H
#define ONE_DOMAIN_SCHEDULE_H

#include <jansson.h>

#include "domain/op.h"
#include "store/store.h"
#include "util/cid.h"

#define SCHEDULE_REMINDER_JOB "reminder.fire"
#define SCHEDULE_BROADCAST_JOB "broadcast.post"
#define SCHEDULE_MAX_ATTENDEES 100

/* After a write of document id of table (before: the document as it was,
 * NULL for an insert; the document as it is now is read back, missing for
 * a delete). 0 for tables it does not concern. E_INVALID names what is
 * wrong. */
int schedule_sync(struct store_tx *tx, const char *table, const char *id, const json_t *before,
                  struct err *err);

/* An event created by creator (a user or agent id) from fields {title,
 * description?, startTime, endTime, participants?, tags?}; *out the stored
 * event (new reference). */
int schedule_event_tx(struct store_tx *tx, const char *creator, const json_t *fields,
                      json_t **out, struct err *err);
/* A reminder for a user (or, when user is NULL, an agent) at remind_at;
 * related may be NULL (required for an agent). *out as above. */
int schedule_reminder_tx(struct store_tx *tx, const char *user, const char *agent,
                         const char *message, double remind_at, const char *related,
                         json_t **out, struct err *err);

/* The conversation a reminder's relatedEntity names (itself, or a message's
 * conversation) into conv, "" when none. */
int schedule_related_conversation(struct store_tx *tx, const char *related, char conv[CID_MAX]);

/* --- the API's operations, as the signed-in user --- */

/* My events by start time: those I created and those I attend, from op's
 * ?from= (default: now) to ?to= (default: no end), at most op_limit. */
int schedule_my_events(struct store *s, struct op *op, struct err *err);
/* My reminders by time from ?from= (default: 0) to ?to=. */
int schedule_my_reminders(struct store *s, struct op *op, struct err *err);

#endif
