/* outbound: the outside services agents' tools use, configured by the
 * environment, each with a timeout and an answer bounded in size:
 *
 *   web search   ONE_WEB_SEARCH_URL: GET of the URL with the query in place
 *                of "{query}", or appended as ?q= (URL-encoded);
 *                ONE_WEB_SEARCH_KEY, when set, is sent as a Bearer token.
 *                The answer (JSON or text, at most 16 KiB kept) goes to the
 *                model as it is.
 *   email        ONE_SMTP_URL (smtp://host:port or smtps://…), ONE_SMTP_FROM,
 *                and ONE_SMTP_USER / ONE_SMTP_PASSWORD when the server
 *                wants them. Mail goes out from a job of the scheduler
 *                (OUTBOUND_EMAIL_JOB), keyed by the run and the tool call,
 *                so that a retried step sends it once; a failed send is
 *                retried with back-off.
 *   broadcasts   ONE_BROADCAST_WEBHOOK_URL: a POST of the broadcast as JSON
 *                ({id, platform, content, scheduledTime, agentId?, groupId?,
 *                meta?}); ONE_BROADCAST_WEBHOOK_TOKEN, when set, is sent as
 *                a Bearer token. A 2xx answer means posted (its body, at
 *                most 16 KiB, is the broadcast's result); 4xx, refused for
 *                good; anything else is retried (agents/timed.c).
 *
 * Without its variables a service fails with a message that names them.
 * Blocking: call from a worker, never inside a transaction. */
#ifndef ONE_AGENTS_OUTBOUND_H
#define ONE_AGENTS_OUTBOUND_H

#include "agents/sched.h"
#include "util/err.h"

#define OUTBOUND_EMAIL_JOB "email.send"
#define OUTBOUND_MAX_ANSWER (16 * 1024)

/* 1 when the service's variables are set (else err names them). */
int outbound_web_search_ready(struct err *err);
int outbound_email_ready(struct err *err);
/* The search service's answer into *out (one_free). */
int outbound_web_search(const char *query, char **out, struct err *err);
/* Sends one plain-text message now. to, subject: one line each. */
int outbound_send_email(const char *to, const char *subject, const char *body,
                        struct err *err);
/* One POST of a JSON body to an outside service, for the clients here and
 * agents/embeddings.c: what names the service in errors ("the broadcast
 * webhook"); bearer (NULL or "": none) goes as a Bearer token. */
struct outbound_post {
  const char *what, *url, *bearer;
  size_t max_answer;        /* bytes of the answer kept; the rest is read and dropped */
  long timeout_ms;
};
/* *status gets the HTTP status and *answer the body (one_free; *len bytes
 * and *cut set when it was longer than max_answer, each may be NULL) when
 * the service answered; E_IO naming o->what when it did not. */
int outbound_post_json(const struct outbound_post *o, const char *json, long *status,
                       char **answer, size_t *len, int *cut, struct err *err);
/* POSTs json (a JSON object's text) to the broadcast webhook: *status gets
 * the HTTP status and *answer its body (one_free) when it answered; E_IO
 * when it did not. E_INVALID when no webhook is configured. */
int outbound_webhook_post(const char *json, long *status, char **answer, struct err *err);
/* The handler of OUTBOUND_EMAIL_JOB jobs ({to, subject, body}). */
void outbound_email_job(void *arg, struct sched_run *run);

#endif
