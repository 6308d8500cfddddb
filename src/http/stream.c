/* stream: the SSE hub and its streams (see stream.h).
 *
 * Locks: the hub's lock guards its lists and flags; each stream's lock
 * guards its buffer and suspended/closing flags. The worker never calls
 * into libmicrohttpd while holding the hub's lock: it takes references to
 * the streams it must feed, lets go of the hub, then appends under each
 * stream's lock (and resumes the connection if it was suspended). A stream
 * is freed when its last reference goes: the response's (stream_free) and
 * the hub's (unlinked in stream_free) and the worker's short-lived ones. */
#include "http/stream.h"

#include "domain/conversations.h"
#include "domain/dq.h"
#include "util/clock.h"
#include "util/jv.h"
#include "util/log.h"
#include "util/mem.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_BATCH 512

struct stream {
  struct hub *hub;
  enum stream_kind kind;
  char conv[CID_MAX], user[CID_MAX];
  int64_t last;              /* the id of the last event queued */
  atomic_int refs;
  pthread_mutex_t lock;
  char *buf;                 /* bytes waiting to be sent: buf[off..len) */
  size_t len, off, cap;
  int suspended, closing, reset;
  int gone;                  /* the response was freed (hub's lock) */
  struct MHD_Connection *conn;
  struct stream *next;       /* in the hub's pending or live list */
};

struct hub {
  struct store *store;
  int listener;
  pthread_t thread;
  int started;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int changed, stopping;
  struct stream *pending;    /* attached, waiting for their replay */
  struct stream *live;
  int64_t delivered;         /* every change up to here was rendered */
  double heartbeat;
};

static atomic_long open_streams;

long stream_open_count(void) { return atomic_load(&open_streams); }

static void stream_unref(struct stream *st)
{
  if (atomic_fetch_sub(&st->refs, 1) != 1)
    return;
  pthread_mutex_destroy(&st->lock);
  one_free(st->buf);
  one_free(st);
  atomic_fetch_sub(&open_streams, 1);
}

/* Appends text for the stream and wakes its connection. Caller holds no
 * hub lock. */
static void stream_push(struct stream *st, int64_t seq, const char *text, size_t n, int end_after)
{
  pthread_mutex_lock(&st->lock);
  if (!st->closing && (seq < 0 || seq > st->last)) {
    if (st->len + n > STREAM_MAX_PENDING) {
      st->closing = 1; /* too slow: end it, the client resumes from its last id */
    } else {
      if (st->len + n > st->cap) {
        size_t cap = st->cap ? st->cap : 4096;
        while (cap < st->len + n)
          cap *= 2;
        char *b = one_realloc(st->buf, cap);
        if (!b) {
          st->closing = 1;
          goto wake;
        }
        st->buf = b;
        st->cap = cap;
      }
      memcpy(st->buf + st->len, text, n);
      st->len += n;
      if (seq >= 0)
        st->last = seq;
    }
    if (end_after)
      st->closing = 1;
  }
wake:
  if (st->suspended && st->conn) {
    st->suspended = 0;
    MHD_resume_connection(st->conn);
  }
  pthread_mutex_unlock(&st->lock);
}

static void stream_end(struct stream *st)
{
  pthread_mutex_lock(&st->lock);
  st->closing = 1;
  if (st->suspended && st->conn) {
    st->suspended = 0;
    MHD_resume_connection(st->conn);
  }
  pthread_mutex_unlock(&st->lock);
}

ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream *st = cls;
  (void)pos;
  pthread_mutex_lock(&st->lock);
  ssize_t n = 0;
  if (st->off < st->len) {
    size_t k = st->len - st->off < max ? st->len - st->off : max;
    memcpy(buf, st->buf + st->off, k);
    st->off += k;
    if (st->off == st->len)
      st->off = st->len = 0;
    n = (ssize_t)k;
  } else if (st->closing) {
    n = MHD_CONTENT_READER_END_OF_STREAM;
  } else {
    st->suspended = 1;
    MHD_suspend_connection(st->conn);
  }
  pthread_mutex_unlock(&st->lock);
  return n;
}

static void unlink_from(struct stream **list, struct stream *st, int *found)
{
  for (struct stream **p = list; *p; p = &(*p)->next)
    if (*p == st) {
      *p = st->next;
      *found = 1;
      return;
    }
}

void stream_free(void *cls)
{
  struct stream *st = cls;
  struct hub *h = st->hub;
  int found = 0;
  pthread_mutex_lock(&h->lock);
  st->gone = 1; /* a stream the worker holds in its batch is dropped there */
  unlink_from(&h->live, st, &found);
  if (!found)
    unlink_from(&h->pending, st, &found);
  pthread_mutex_unlock(&h->lock);
  if (found)
    stream_unref(st); /* the hub's reference */
  stream_unref(st);   /* the response's */
}

void stream_discard(struct stream *st)
{
  if (st)
    stream_unref(st);
}

struct stream *stream_new(struct hub *h, enum stream_kind kind, const char *conv,
                          const char *user, int64_t after, struct err *err)
{
  int64_t oldest = 0, newest = 0;
  if (store_changes_bounds(h->store, &oldest, &newest, err) != 0)
    return NULL;
  struct stream *st = one_calloc(1, sizeof *st);
  if (!st) {
    err_set(err, E_NOMEM, "out of memory");
    return NULL;
  }
  st->hub = h;
  st->kind = kind;
  snprintf(st->conv, sizeof st->conv, "%s", conv ? conv : "");
  snprintf(st->user, sizeof st->user, "%s", user);
  if (after < 0 || after > newest) {
    st->last = newest;
  } else if (oldest > 0 && after < oldest - 1) {
    st->last = newest; /* the log no longer reaches back there */
    st->reset = 1;
  } else {
    st->last = after;
  }
  atomic_init(&st->refs, 1);
  pthread_mutex_init(&st->lock, NULL);
  atomic_fetch_add(&open_streams, 1);
  static const char hello[] = "retry: 2000\n: connected\n\n";
  static const char reset[] = "event: reset\ndata: {\"reason\":\"the change log no longer reaches "
                              "back to Last-Event-ID; reload, then follow\"}\n\n";
  stream_push(st, -1, hello, sizeof hello - 1, 0);
  if (st->reset)
    stream_push(st, -1, reset, sizeof reset - 1, 0);
  return st;
}

void stream_attach(struct stream *st, struct MHD_Connection *conn)
{
  struct hub *h = st->hub;
  pthread_mutex_lock(&st->lock);
  st->conn = conn;
  pthread_mutex_unlock(&st->lock);
  atomic_fetch_add(&st->refs, 1);
  if (h->stopping)
    stream_end(st);
  pthread_mutex_lock(&h->lock);
  st->next = h->pending;
  h->pending = st;
  h->changed = 1;
  pthread_cond_signal(&h->wake);
  pthread_mutex_unlock(&h->lock);
}

/* --- rendering: a change into the events it makes --- */

struct target {
  enum stream_kind kind;
  char key[CID_MAX];      /* the conversation, or the user of a me stream */
  const char *event;
  json_t *data;           /* wire JSON (owned) */
  char end_user[CID_MAX]; /* conversation streams of this user end after it */
};

struct rendering {
  struct target t[4];
  size_t n;
};

static struct target *add_target(struct rendering *r, enum stream_kind kind, const char *key,
                                  const char *event, const json_t *doc)
{
  if (r->n == sizeof r->t / sizeof r->t[0])
    return NULL;
  struct target *t = &r->t[r->n];
  memset(t, 0, sizeof *t);
  t->data = jv_to_wire(doc);
  if (!t->data)
    return NULL;
  t->kind = kind;
  snprintf(t->key, sizeof t->key, "%s", key);
  t->event = event;
  r->n++;
  return t;
}

static void rendering_release(struct rendering *r)
{
  for (size_t i = 0; i < r->n; i++)
    json_decref(r->t[i].data);
  r->n = 0;
}

/* The users who actively take part in conversation conv, as a JSON array of
 * ids (new reference). */
static json_t *conv_users(struct store_tx *tx, const char *conv)
{
  json_t *eq = json_pack("[s,b]", conv, 0), *users = json_array();
  struct store_query q = {.table = "conversationParticipants", .index = "by_conversationId_isRemoved",
                          .eq = eq, .limit = STORE_MAX_PAGE};
  struct store_page page = {0};
  if (store_query(tx, &q, &page, NULL) == 0)
    for (size_t i = 0; i < json_array_size(page.docs); i++) {
      const json_t *row = json_array_get(page.docs, i);
      if (strcmp(dq_str(row, "kind"), "user") == 0)
        json_array_append_new(users, json_string(dq_str(row, "userId")));
    }
  store_page_release(&page);
  json_decref(eq);
  return users;
}

/* The me-stream users of a conversation change (for a rendering of many
 * targets the hub delivers per user). */
struct me_fanout {
  json_t *users;   /* array of user ids, or NULL */
  json_t *data;    /* wire JSON of the conversation (owned) */
};

static void render(struct store_tx *tx, const struct store_change *c, struct rendering *r,
                   struct me_fanout *fan)
{
  json_t *doc = NULL;
  memset(fan, 0, sizeof *fan);
  if (c->kind == STORE_DELETED || store_get(tx, c->id, &doc, NULL, NULL) != 0)
    return;
  if (strcmp(c->table, "conversationMessages") == 0) {
    json_t *m = message_with_parts(doc);
    if (m)
      add_target(r, STREAM_CONVERSATION, dq_str(doc, "conversationId"),
                 c->kind == STORE_INSERTED ? "message" : "message.updated", m);
    json_decref(m);
  } else if (strcmp(c->table, "conversationParticipants") == 0) {
    const char *conv = dq_str(doc, "conversationId");
    struct target *t = add_target(r, STREAM_CONVERSATION, conv, "participant", doc);
    int user = strcmp(dq_str(doc, "kind"), "user") == 0;
    if (t && user && dq_bool(doc, "isRemoved"))
      snprintf(t->end_user, sizeof t->end_user, "%s", dq_str(doc, "userId"));
    if (user)
      add_target(r, STREAM_ME, dq_str(doc, "userId"), "membership", doc);
  } else if (strcmp(c->table, "reminders") == 0) {
    if (json_object_get(doc, "firedAt") && json_object_get(doc, "userId"))
      add_target(r, STREAM_ME, dq_str(doc, "userId"), "reminder", doc);
  } else if (strcmp(c->table, "conversations") == 0) {
    add_target(r, STREAM_CONVERSATION, dq_str(doc, "_id"), "conversation", doc);
    fan->users = conv_users(tx, dq_str(doc, "_id"));
    fan->data = jv_to_wire(doc);
  }
  json_decref(doc);
}

/* The SSE text of one event (one_free). */
static char *event_text(int64_t seq, const char *event, const json_t *data, size_t *n)
{
  char *json = jv_dumps(data);
  if (!json)
    return NULL;
  size_t cap = strlen(json) + strlen(event) + 64;
  char *text = one_malloc(cap);
  if (text)
    *n = (size_t)snprintf(text, cap, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", seq, event, json);
  one_free(json);
  return text;
}

static int matches(const struct stream *st, enum stream_kind kind, const char *key)
{
  return st->kind == kind &&
         strcmp(kind == STREAM_CONVERSATION ? st->conv : st->user, key) == 0;
}

/* Feeds one change to the streams in list[0..n) that it concerns. */
static void deliver(int64_t seq, struct rendering *r, struct me_fanout *fan,
                    struct stream **list, size_t n)
{
  for (size_t i = 0; i < r->n; i++) {
    struct target *t = &r->t[i];
    char *text = NULL;
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
      struct stream *st = list[k];
      if (!matches(st, t->kind, t->key))
        continue;
      if (!text && !(text = event_text(seq, t->event, t->data, &len)))
        break;
      int end = t->end_user[0] && strcmp(st->user, t->end_user) == 0;
      stream_push(st, seq, text, len, end);
    }
    one_free(text);
  }
  if (fan->users && fan->data) {
    char *text = NULL;
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
      struct stream *st = list[k];
      if (st->kind != STREAM_ME || !dq_list_has(fan->users, st->user))
        continue;
      if (!text && !(text = event_text(seq, "conversation", fan->data, &len)))
        break;
      stream_push(st, seq, text, len, 0);
    }
    one_free(text);
  }
  json_decref(fan->users);
  json_decref(fan->data);
  fan->users = fan->data = NULL;
}

static int interesting(const char *table)
{
  return strcmp(table, "conversationMessages") == 0 ||
         strcmp(table, "conversationParticipants") == 0 || strcmp(table, "conversations") == 0 ||
         strcmp(table, "reminders") == 0;
}

/* Renders the log in (from, to] (to < 0: to its end) for the streams
 * list[0..n); returns the last seq seen. */
static int64_t follow(struct hub *h, int64_t from, int64_t to, struct stream **list, size_t n)
{
  for (;;) {
    struct store_change *changes = NULL;
    size_t nc = 0;
    struct err err = ERR_INIT;
    if (store_changes_since(h->store, from, LOG_BATCH, &changes, &nc, &err) != 0) {
      json_t *f = json_pack("{s:s}", "error", err.msg);
      log_json(LOG_WARN, NULL, "streams cannot read the change log", f);
      json_decref(f);
      err_clear(&err);
      return from;
    }
    struct store_tx *tx = NULL;
    if (nc && store_begin(h->store, STORE_READ, &tx, &err) != 0) {
      err_clear(&err);
      one_free(changes);
      return from;
    }
    size_t i = 0;
    for (; i < nc && (to < 0 || changes[i].seq <= to); i++) {
      if (interesting(changes[i].table)) {
        struct rendering r = {0};
        struct me_fanout fan;
        render(tx, &changes[i], &r, &fan);
        deliver(changes[i].seq, &r, &fan, list, n);
        rendering_release(&r);
      }
      from = changes[i].seq;
    }
    store_rollback(tx);
    one_free(changes);
    if (nc < LOG_BATCH || i < nc)
      return from;
  }
}

/* The streams of the list at head (hub's lock held), each with a
 * reference (release them), or NULL when out of memory. */
static struct stream **take_refs(struct stream *head, size_t *n)
{
  size_t count = 0;
  for (struct stream *s = head; s; s = s->next)
    count++;
  *n = 0;
  struct stream **list = one_malloc((count ? count : 1) * sizeof *list);
  if (!list)
    return NULL;
  for (struct stream *s = head; s; s = s->next) {
    atomic_fetch_add(&s->refs, 1);
    list[(*n)++] = s;
  }
  return list;
}

static void release(struct stream **list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    stream_unref(list[i]);
  one_free(list);
}

static void *worker(void *arg)
{
  struct hub *h = arg;
  pthread_mutex_lock(&h->lock);
  while (!h->stopping) {
    if (!h->changed && !h->pending) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += 1;
      pthread_cond_timedwait(&h->wake, &h->lock, &ts);
    }
    h->changed = 0;
    /* the new streams, each with a reference of the worker's */
    size_t np = 0;
    struct stream **fresh = take_refs(h->pending, &np);
    if (fresh)
      h->pending = NULL; /* out of memory: they wait for the next round */
    int64_t delivered = h->delivered;
    pthread_mutex_unlock(&h->lock);

    /* New streams catch up to what the live ones have had, then join them. */
    for (size_t i = 0; i < np; i++)
      if (fresh[i]->last < delivered)
        follow(h, fresh[i]->last, delivered, &fresh[i], 1);
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < np; i++) {
      if (fresh[i]->gone) {
        stream_unref(fresh[i]); /* the hub's reference: stream_free did not find it */
        continue;
      }
      fresh[i]->next = h->live;
      h->live = fresh[i];
    }
    size_t n = 0;
    struct stream **list = take_refs(h->live, &n);
    pthread_mutex_unlock(&h->lock);
    if (fresh)
      release(fresh, np); /* the worker's references */

    int64_t upto = delivered;
    if (list && n > 0) {
      upto = follow(h, delivered, -1, list, n);
    } else if (list) {
      /* nobody listens: skip to the end of the log without rendering */
      int64_t oldest = 0, newest = 0;
      struct err err = ERR_INIT;
      if (store_changes_bounds(h->store, &oldest, &newest, &err) == 0 && newest > upto)
        upto = newest;
      err_clear(&err);
    }
    double now = clock_mono_s();
    int beat = now - h->heartbeat >= STREAM_HEARTBEAT_S;
    if (beat) {
      static const char ping[] = ": ping\n\n";
      h->heartbeat = now;
      for (size_t i = 0; i < n; i++)
        stream_push(list[i], -1, ping, sizeof ping - 1, 0);
    }
    if (list)
      release(list, n);
    pthread_mutex_lock(&h->lock);
    h->delivered = upto;
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

void hub_publish_partial(struct hub *h, const char *conv, const json_t *data)
{
  char *json = h ? jv_dumps(data) : NULL;
  if (!json)
    return;
  size_t cap = strlen(json) + 32, n = 0;
  char *text = one_malloc(cap);
  if (text)
    n = (size_t)snprintf(text, cap, "event: partial\ndata: %s\n\n", json);
  one_free(json);
  /* live streams, and those still catching up: a partial is news from
   * after anything they replay, and lost once the reply is done */
  for (int pass = 0; pass < 2; pass++) {
    pthread_mutex_lock(&h->lock);
    size_t count = 0;
    struct stream **list = text ? take_refs(pass ? h->pending : h->live, &count) : NULL;
    pthread_mutex_unlock(&h->lock);
    for (size_t i = 0; i < count; i++)
      if (matches(list[i], STREAM_CONVERSATION, conv))
        stream_push(list[i], -1, text, n, 0); /* no id: a partial is not replayed */
    if (list)
      release(list, count);
  }
  one_free(text);
}

/* The store's commit listener: only wakes the worker. */
static void on_commit(void *arg, const struct store_change *changes, size_t n)
{
  struct hub *h = arg;
  int any = 0;
  for (size_t i = 0; i < n && !any; i++)
    any = interesting(changes[i].table);
  if (!any)
    return;
  pthread_mutex_lock(&h->lock);
  h->changed = 1;
  pthread_cond_signal(&h->wake);
  pthread_mutex_unlock(&h->lock);
}

int hub_start(struct store *s, struct hub **out, struct err *err)
{
  struct hub *h = one_calloc(1, sizeof *h);
  if (!h)
    return err_set(err, E_NOMEM, "out of memory");
  h->store = s;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->wake, NULL);
  h->heartbeat = clock_mono_s();
  int64_t oldest = 0;
  h->listener = store_subscribe(s, on_commit, h);
  int rc = h->listener < 0 ? err_set(err, E_NOMEM, "cannot follow the store")
                           : store_changes_bounds(s, &oldest, &h->delivered, err);
  if (rc == 0 && pthread_create(&h->thread, NULL, worker, h) != 0)
    rc = err_set(err, E_NOMEM, "cannot start the stream worker");
  if (rc != 0) {
    if (h->listener > 0)
      store_unsubscribe(s, h->listener);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->lock);
    one_free(h);
    return rc;
  }
  h->started = 1;
  *out = h;
  return 0;
}

void hub_close_streams(struct hub *h)
{
  if (!h)
    return;
  pthread_mutex_lock(&h->lock);
  h->stopping = 1;
  pthread_cond_signal(&h->wake);
  size_t n = 0, nw = 0;
  struct stream **list = take_refs(h->live, &n);
  struct stream **waiting = take_refs(h->pending, &nw);
  pthread_mutex_unlock(&h->lock);
  for (size_t i = 0; waiting && i < nw; i++)
    stream_end(waiting[i]);
  if (waiting)
    release(waiting, nw);
  for (size_t i = 0; list && i < n; i++)
    stream_end(list[i]);
  if (list)
    release(list, n);
}

void hub_free(struct hub *h)
{
  if (!h)
    return;
  pthread_mutex_lock(&h->lock);
  h->stopping = 1;
  pthread_cond_signal(&h->wake);
  pthread_mutex_unlock(&h->lock);
  if (h->started)
    pthread_join(h->thread, NULL);
  store_unsubscribe(h->store, h->listener);
  pthread_cond_destroy(&h->wake);
  pthread_mutex_destroy(&h->lock);
  one_free(h);
}
