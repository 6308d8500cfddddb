/* timed: the scheduler's jobs that domain/schedule.c queues at a time.
 *
 * A reminder fires once: its firedAt is set (which puts a "reminder" event
 * on its user's me stream, http/stream.h) and, for an agent, a task job
 * starts the agent's run in the reminder's conversation. A broadcast is
 * POSTed to the outbound webhook (agents/outbound.h) and moves to posted,
 * or to failed with the reason: no webhook configured, refused (4xx), or
 * out of attempts. Either job does nothing when its document is gone, was
 * moved to another time, or was dealt with already: the job is a promise
 * about a document as it was, checked against the document as it is. */
#include "agents/outbound.h"
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/schedule.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

struct timed {
  char id[CID_MAX];
  double at;
  const char *status, *result; /* broadcasts: what to record */
};

/* The job's {id, at}, or -1 after failing the run. */
static int timed_args(struct sched_run *run, struct timed *t)
{
  memset(t, 0, sizeof *t);
  json_error_t je;
  json_t *a = json_loads(sched_job(run)->args, 0, &je);
  const char *id = json_string_value(json_object_get(a, "id"));
  int ok = id && strlen(id) < CID_MAX && json_is_number(json_object_get(a, "at"));
  if (ok) {
    snprintf(t->id, sizeof t->id, "%s", id);
    t->at = json_number_value(json_object_get(a, "at"));
  }
  json_decref(a);
  if (!ok)
    sched_fail(run, "a timed job needs the document's id and its time");
  return ok ? 0 : -1;
}

static int fire_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct timed *t = arg;
  json_t *doc = NULL;
  if (dq_get(tx, "reminders", t->id, "reminder", &doc, NULL) != 0)
    return 0; /* deleted */
  int rc = 0;
  if (dq_num(doc, "remindAt", -1) == t->at && !json_object_get(doc, "firedAt")) {
    json_t *patch = json_pack("{s:f}", "firedAt", clock_now_ms());
    rc = patch ? store_patch(tx, t->id, patch, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(patch);
    char conv[CID_MAX];
    const char *agent = dq_str(doc, "agentId");
    if (!rc && agent[0] &&
        schedule_related_conversation(tx, dq_str(doc, "relatedEntity"), conv)) {
      char task[4200], key[CID_MAX + 64];
      snprintf(task, sizeof task, "A reminder you set has come due: %.4000s",
               dq_str(doc, "message"));
      json_t *a = json_pack("{s:s,s:s,s:s,s:s}", "conversationId", conv, "agentId", agent,
                            "userId", "", "task", task);
      char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
      json_decref(a);
      snprintf(key, sizeof key, "reminder-run:%s:%.17g", t->id, t->at);
      struct store_job_new j = {"agent.task", text, key, NULL, 0, 0};
      rc = text ? store_job_add(tx, &j, NULL, NULL, err) : err_set(err, E_NOMEM, "out of memory");
      one_free(text);
    }
  }
  json_decref(doc);
  return rc;
}

void timed_reminder_job(void *arg, struct sched_run *run)
{
  (void)arg;
  struct timed t;
  if (timed_args(run, &t))
    return;
  struct err err = ERR_INIT;
  sched_done(run, fire_tx, &t, &err); /* an agent's run it adds is looked at once (store_on_jobs) */
  err_clear(&err);
}

/* The broadcast as the webhook gets it, when it is still due as the job
 * says: 1 (*json set, one_free), 0 when it is not, < 0 on error. */
static int due_broadcast(struct store_tx *tx, const struct timed *t, char **json,
                         struct err *err)
{
  json_t *doc = NULL;
  if (dq_get(tx, "broadcasts", t->id, "broadcast", &doc, NULL) != 0)
    return 0;
  int due = strcmp(dq_str(doc, "status"), "scheduled") == 0 &&
            dq_num(doc, "scheduledTime", -1) == t->at;
  if (due) {
    json_t *out = json_pack("{s:s,s:O,s:O,s:O}", "id", t->id, "platform",
                            json_object_get(doc, "platform"), "content",
                            json_object_get(doc, "content"), "scheduledTime",
                            json_object_get(doc, "scheduledTime"));
    const char *more[] = {"agentId", "groupId", "meta"};
    for (size_t i = 0; out && i < 3; i++)
      if (json_object_get(doc, more[i]))
        json_object_set(out, more[i], json_object_get(doc, more[i]));
    *json = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    if (!*json) {
      err_set(err, E_NOMEM, "out of memory");
      due = -1;
    }
  }
  json_decref(doc);
  return due;
}

struct due {
  const struct timed *t;
  char *json;
  int due;
};

static int due_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct due *d = arg;
  d->due = due_broadcast(tx, d->t, &d->json, err);
  return d->due < 0 ? err->code : 0;
}

/* The result text as a JSON string: at most 4000 bytes, cut at a
 * character; text that is not UTF-8 is said to be so. */
static json_t *result_value(const char *text)
{
  size_t n = strlen(text);
  if (n > 4000) {
    n = 4000;
    while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
      n--;
  }
  json_t *v = json_stringn(text, n);
  return v ? v : json_string("(the webhook answered with bytes that are not UTF-8 text)");
}

/* Records t's outcome when the broadcast is still the one posted. */
static int outcome_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct timed *t = arg;
  json_t *doc = NULL;
  if (dq_get(tx, "broadcasts", t->id, "broadcast", &doc, NULL) != 0)
    return 0;
  int rc = 0;
  if (dq_num(doc, "scheduledTime", -1) == t->at && strcmp(dq_str(doc, "status"), "posted") != 0) {
    json_t *patch = json_pack("{s:s,s:o,s:f}", "status", t->status, "result",
                              result_value(t->result), "updatedAt", clock_now_ms());
    rc = patch ? store_patch(tx, t->id, patch, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(patch);
  }
  json_decref(doc);
  return rc;
}

void timed_broadcast_job(void *arg, struct sched_run *run)
{
  struct runtime *rt = arg;
  struct timed t;
  if (timed_args(run, &t))
    return;
  struct err err = ERR_INIT;
  struct due d = {&t, NULL, 0};
  if (store_run(rt->s, STORE_READ, due_tx, &d, &err) != 0) {
    sched_retry(run, err.msg, 0);
  } else if (!d.due) {
    sched_done(run, NULL, NULL, &err); /* cancelled, moved, deleted or done */
  } else {
    long status = 0;
    char *answer = NULL, why[600];
    int rc = outbound_webhook_post(d.json, &status, &answer, &err);
    const struct store_job *job = sched_job(run);
    int last = job->attempts >= job->max_attempts;
    if (rc == 0 && status / 100 == 2) {
      t.status = "posted";
      t.result = answer ? answer : "";
    } else if (rc == 0 && status / 100 == 4) {
      snprintf(why, sizeof why, "the webhook refused it: HTTP %ld %.400s", status, answer);
      t.status = "failed";
      t.result = why;
    } else if (rc == E_INVALID || last) {
      snprintf(why, sizeof why, "%s%.500s", last && rc != E_INVALID ? "out of attempts: " : "",
               rc ? err.msg : "the webhook answered with an error");
      t.status = "failed";
      t.result = why;
    }
    if (t.status) {
      err_clear(&err);
      sched_done(run, outcome_tx, &t, &err);
    } else {
      snprintf(why, sizeof why, "%.500s", rc ? err.msg : "the webhook answered with an error");
      if (rc == 0)
        snprintf(why, sizeof why, "the webhook answered HTTP %ld", status);
      sched_retry(run, why, 0);
    }
    one_free(answer);
  }
  one_free(d.json);
  err_clear(&err);
}
