/* outbound: see outbound.h. libcurl's easy interface: each call is short,
 * bounded by a timeout, and runs on a worker of the scheduler. */
#include "agents/outbound.h"
#include "util/buf.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 15000L

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static const char *env(const char *name)
{
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

int outbound_web_search_ready(struct err *err)
{
  if (env("ONE_WEB_SEARCH_URL"))
    return 1;
  err_set(err, E_INVALID, "webSearch is not configured: set ONE_WEB_SEARCH_URL to a search API "
          "endpoint (the query replaces {query}, or goes in ?q=) and restart one serve");
  return 0;
}

int outbound_email_ready(struct err *err)
{
  if (env("ONE_SMTP_URL") && env("ONE_SMTP_FROM"))
    return 1;
  err_set(err, E_INVALID, "sendEmail is not configured: set ONE_SMTP_URL (e.g. "
          "smtp://mail.example.org:587) and ONE_SMTP_FROM (and ONE_SMTP_USER and "
          "ONE_SMTP_PASSWORD if the server needs them), then restart one serve");
  return 0;
}

/* An answer kept up to max bytes; cut says when it was longer. */
struct kept {
  struct buf b;
  size_t max;
  int cut;
};

static size_t keep_upto(char *p, size_t size, size_t n, void *arg)
{
  struct kept *k = arg;
  size_t len = size * n, room = k->b.len < k->max ? k->max - k->b.len : 0;
  if (len > room)
    k->cut = 1;
  if (room && buf_append(&k->b, p, len < room ? len : room))
    return 0;
  return len; /* past the limit: read on, keep nothing more */
}

int outbound_web_search(const char *query, char **out, struct err *err)
{
  *out = NULL;
  if (!outbound_web_search_ready(err))
    return err->code;
  pthread_once(&curl_once, curl_init_once);
  CURL *e = curl_easy_init();
  char *q = e ? curl_easy_escape(e, query, 0) : NULL;
  const char *base = env("ONE_WEB_SEARCH_URL");
  struct buf url;
  struct kept answer = {.max = OUTBOUND_MAX_ANSWER, .cut = 0};
  buf_init(&url, 8192);
  buf_init(&answer.b, OUTBOUND_MAX_ANSWER + 1);
  const char *at = strstr(base, "{query}");
  int rc = 0;
  if (!q)
    rc = err_set(err, E_NOMEM, "out of memory");
  else if (at)
    rc = buf_printf(&url, "%.*s%s%s", (int)(at - base), base, q, at + 7);
  else
    rc = buf_printf(&url, "%s%cq=%s", base, strchr(base, '?') ? '&' : '?', q);
  struct curl_slist *h = NULL;
  char auth[1100];
  if (!rc && env("ONE_WEB_SEARCH_KEY")) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", env("ONE_WEB_SEARCH_KEY"));
    h = curl_slist_append(h, auth);
  }
  char cerr[CURL_ERROR_SIZE] = "";
  if (!rc) {
    curl_easy_setopt(e, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_upto);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK)
      rc = err_set(err, E_IO, "the search service did not answer: %s",
                   cerr[0] ? cerr : curl_easy_strerror(cc));
    else if (status / 100 != 2)
      rc = err_set(err, E_IO, "the search service answered HTTP %ld", status);
  }
  if (!rc && !(*out = one_strdup(buf_str(&answer.b))))
    rc = err_set(err, E_NOMEM, "out of memory");
  curl_slist_free_all(h);
  curl_free(q);
  curl_easy_cleanup(e);
  buf_release(&url);
  buf_release(&answer.b);
  return rc;
}

int outbound_post_json(const struct outbound_post *o, const char *json, long *status,
                       char **answer, size_t *len, int *cut, struct err *err)
{
  *status = 0;
  *answer = NULL;
  pthread_once(&curl_once, curl_init_once);
  CURL *e = curl_easy_init();
  struct kept got = {.max = o->max_answer, .cut = 0};
  buf_init(&got.b, o->max_answer + 1);
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  char auth[1100], cerr[CURL_ERROR_SIZE] = "";
  if (h && o->bearer && o->bearer[0]) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->bearer);
    h = curl_slist_append(h, auth);
  }
  int rc = 0;
  if (!e || !h) {
    rc = err_set(err, E_NOMEM, "out of memory");
  } else {
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep_upto);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK)
      rc = err_set(err, E_IO, "%s did not answer: %s", o->what,
                   cerr[0] ? cerr : curl_easy_strerror(cc));
    else
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
  }
  if (!rc && !(*answer = one_strdup(buf_str(&got.b))))
    rc = err_set(err, E_NOMEM, "out of memory");
  if (len)
    *len = got.b.len;
  if (cut)
    *cut = got.cut;
  curl_slist_free_all(h);
  curl_easy_cleanup(e);
  buf_release(&got.b);
  return rc;
}

int outbound_webhook_post(const char *json, long *status, char **answer, struct err *err)
{
  *status = 0;
  *answer = NULL;
  const char *url = env("ONE_BROADCAST_WEBHOOK_URL");
  if (!url)
    return err_set(err, E_INVALID, "no outbound webhook is configured: set "
                   "ONE_BROADCAST_WEBHOOK_URL (and ONE_BROADCAST_WEBHOOK_TOKEN if it needs one) "
                   "and restart one serve");
  struct outbound_post o = {"the broadcast webhook", url, env("ONE_BROADCAST_WEBHOOK_TOKEN"),
                            OUTBOUND_MAX_ANSWER, TIMEOUT_MS};
  return outbound_post_json(&o, json, status, answer, NULL, NULL, err);
}

struct upload {
  const char *p;
  size_t left;
};

static size_t give(char *dst, size_t size, size_t n, void *arg)
{
  struct upload *u = arg;
  size_t take = size * n < u->left ? size * n : u->left;
  memcpy(dst, u->p, take);
  u->p += take;
  u->left -= take;
  return take;
}

static int one_line(const char *s) { return s && !strpbrk(s, "\r\n"); }

int outbound_send_email(const char *to, const char *subject, const char *body,
                        struct err *err)
{
  if (!outbound_email_ready(err))
    return err->code;
  if (!one_line(to) || !strchr(to, '@') || !one_line(subject))
    return err_set(err, E_INVALID, "an email needs one address and a one-line subject");
  pthread_once(&curl_once, curl_init_once);
  struct buf msg;
  buf_init(&msg, 1 << 20);
  char recipient[600];
  snprintf(recipient, sizeof recipient, "<%s>", to);
  int rc = buf_printf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nContent-Type: text/plain; "
                      "charset=utf-8\r\n\r\n", env("ONE_SMTP_FROM"), to, subject);
  for (const char *p = body; !rc && *p; p++) /* lines end in CRLF on the wire */
    rc = *p == '\n' && (p == body || p[-1] != '\r') ? buf_puts(&msg, "\r\n") : buf_putc(&msg, *p);
  if (rc) {
    buf_release(&msg);
    return err_set(err, rc, "the email is too large (1 MiB at most)");
  }
  CURL *e = curl_easy_init();
  struct curl_slist *rcpt = curl_slist_append(NULL, recipient);
  struct upload up = {msg.p, msg.len};
  char cerr[CURL_ERROR_SIZE] = "", from[600];
  snprintf(from, sizeof from, "<%s>", env("ONE_SMTP_FROM"));
  if (!e || !rcpt) {
    rc = err_set(err, E_NOMEM, "out of memory");
  } else {
    curl_easy_setopt(e, CURLOPT_URL, env("ONE_SMTP_URL"));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
    if (env("ONE_SMTP_USER")) {
      curl_easy_setopt(e, CURLOPT_USERNAME, env("ONE_SMTP_USER"));
      curl_easy_setopt(e, CURLOPT_PASSWORD, env("ONE_SMTP_PASSWORD") ? env("ONE_SMTP_PASSWORD") : "");
      curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    }
    curl_easy_setopt(e, CURLOPT_READFUNCTION, give);
    curl_easy_setopt(e, CURLOPT_READDATA, &up);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK)
      rc = err_set(err, E_IO, "the mail server refused or did not answer: %s",
                   cerr[0] ? cerr : curl_easy_strerror(cc));
  }
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(e);
  buf_release(&msg);
  return rc;
}

void outbound_email_job(void *arg, struct sched_run *run)
{
  (void)arg;
  json_error_t je;
  json_t *a = json_loads(sched_job(run)->args, 0, &je);
  const char *to = json_string_value(json_object_get(a, "to"));
  const char *subject = json_string_value(json_object_get(a, "subject"));
  const char *body = json_string_value(json_object_get(a, "body"));
  struct err err = ERR_INIT;
  if (!to || !subject || !body)
    sched_fail(run, "an email job needs to, subject and body");
  else if (outbound_send_email(to, subject, body, &err) == 0)
    sched_done(run, NULL, NULL, &err);
  else if (err.code == E_INVALID)
    sched_fail(run, err.msg); /* it will not get better by itself */
  else
    sched_retry(run, err.msg, 0);
  err_clear(&err);
  json_decref(a);
}
