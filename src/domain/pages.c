/* pages: the kept pages of conversations' messages and the proof that one
 * still holds (see pages.h). Pages are immutable once kept but for their
 * seq, which only moves forward as reads prove them current; readers hold a
 * reference while they copy one out, so the lock covers only the lookup. */
#include "domain/pages.h"

#include "domain/dq.h"
#include "util/env.h"
#include "util/jtext.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_SLOTS 256

struct page {
  atomic_int refs;
  _Atomic int64_t seq;
  char *key;
  size_t klen, len;
  char text[]; /* len bytes, then NUL */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct page **slots;
static size_t nslots;
static atomic_ulong hits, misses;

static void init(void)
{
  size_t n = (size_t)env_int("ONE_PAGE_CACHE", DEFAULT_SLOTS, 0, 65536);
  if (n && (slots = one_calloc(n, sizeof *slots)))
    nslots = n;
}

static void page_unref(struct page *p)
{
  if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
    one_free(p->key);
    one_free(p);
  }
}

/* "epoch conv limit cursor" with unit separators: no part holds one. */
static char *key_text(const char *epoch, const struct pages_key *k, size_t *n)
{
  char lim[32];
  snprintf(lim, sizeof lim, "%zu", k->limit);
  const char *cur = k->cursor ? k->cursor : "";
  size_t len = strlen(epoch) + strlen(k->conv) + strlen(lim) + strlen(cur) + 3;
  char *t = one_malloc(len + 1);
  if (t)
    snprintf(t, len + 1, "%s\x1f%s\x1f%s\x1f%s", epoch, k->conv, lim, cur);
  *n = len;
  return t;
}

static size_t slot_of(const char *key, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)key[i]) * 0x100000001b3ull;
  return (size_t)(h % nslots);
}

static int is_key(const struct page *p, const char *key, size_t klen)
{
  return p && p->klen == klen && memcmp(p->key, key, klen) == 0;
}

/* The kept page for key with a reference, or NULL. */
static struct page *lookup(const char *key, size_t klen)
{
  pthread_mutex_lock(&lock);
  struct page *p = slots[slot_of(key, klen)];
  if (is_key(p, key, klen))
    atomic_fetch_add(&p->refs, 1);
  else
    p = NULL;
  pthread_mutex_unlock(&lock);
  return p;
}

/* Whether change c may alter a page of conversation conv: 1 yes, 0 no,
 * negative on a store error. A page renders its conversation's messages
 * with their reaction and comment counts, and nothing else
 * (conversations.c, messages_list_tx): a reaction or a comment moves the
 * page of its message's conversation. */
static int touches(struct store_tx *tx, const struct store_change *c, const char *conv,
                   struct err *err)
{
  int counted = strcmp(c->table, "reactions") == 0 || strcmp(c->table, "comments") == 0;
  if (!counted && strcmp(c->table, "conversationMessages") != 0)
    return 0;
  char *text = NULL, of[CID_MAX], msg[CID_MAX];
  size_t n = 0;
  int rc = store_get_text(tx, c->id, &text, &n, NULL, err);
  if (rc == E_NOTFOUND) {
    err_clear(err);
    return 1; /* deleted: its conversation is not known any more */
  }
  if (rc)
    return -rc;
  int same;
  if (counted) {
    same = jtext_str(text, n, "messageId", msg, sizeof msg) != 1 ||
           dq_str_of(tx, msg, "conversationId", of, sizeof of) != 1 || strcmp(of, conv) == 0;
  } else {
    same = jtext_str(text, n, "conversationId", of, sizeof of) != 1 || strcmp(of, conv) == 0;
  }
  one_free(text);
  return same;
}

/* Whether page p, kept at its seq, is still what tx would render, tx's log
 * ending at newest (oldest its first): 1 yes, 0 no, negative on error. */
static int still_holds(struct store_tx *tx, struct page *p, const char *conv, int64_t oldest,
                       int64_t newest, struct err *err)
{
  int64_t at = atomic_load(&p->seq);
  if (at == newest)
    return 1;
  if (at > newest || newest - at > PAGES_MAX_CHANGES || oldest > at + 1)
    return 0; /* kept after tx's snapshot, too much since, or the log lost some */
  struct store_change *ch = NULL;
  size_t n = 0;
  int rc = store_tx_changes_since(tx, at, PAGES_MAX_CHANGES, &ch, &n, err);
  if (rc)
    return -rc;
  int holds = 1;
  for (size_t i = 0; i < n && holds == 1; i++) {
    int t = touches(tx, &ch[i], conv, err);
    holds = t < 0 ? t : !t;
  }
  one_free(ch);
  if (holds == 1) { /* proven current at newest: later reads need only look from there */
    int64_t cur = at;
    while (cur < newest && !atomic_compare_exchange_weak(&p->seq, &cur, newest)) {
    }
  }
  return holds;
}

int pages_find(struct store_tx *tx, const struct pages_key *key, char **text, size_t *len,
               int64_t *seq, struct err *err)
{
  pthread_once(&once, init);
  *text = NULL;
  *len = 0;
  *seq = 0;
  if (!nslots)
    return 0;
  int64_t oldest = 0, newest = 0;
  int rc = store_tx_change_bounds(tx, &oldest, &newest, err);
  if (rc)
    return -rc;
  *seq = newest;
  size_t klen = 0;
  char *k = key_text(store_tx_epoch(tx), key, &klen);
  struct page *p = k ? lookup(k, klen) : NULL;
  one_free(k);
  int holds = p ? still_holds(tx, p, key->conv, oldest, newest, err) : 0;
  if (holds == 1 && !(*text = one_malloc(p->len + 1)))
    holds = 0;
  if (holds == 1) {
    memcpy(*text, p->text, p->len + 1);
    *len = p->len;
  }
  page_unref(p);
  atomic_fetch_add(holds == 1 ? &hits : &misses, 1);
  return holds;
}

void pages_keep(const struct store_tx *tx, const struct pages_key *key, int64_t seq,
                const char *text, size_t len)
{
  pthread_once(&once, init);
  if (!nslots || len > PAGES_MAX_TEXT)
    return;
  struct page *p = one_malloc(sizeof *p + len + 1);
  if (!p)
    return;
  p->key = key_text(store_tx_epoch(tx), key, &p->klen);
  if (!p->key) {
    one_free(p);
    return;
  }
  atomic_init(&p->refs, 1);
  atomic_init(&p->seq, seq);
  p->len = len;
  memcpy(p->text, text, len);
  p->text[len] = '\0';
  pthread_mutex_lock(&lock);
  struct page **slot = &slots[slot_of(p->key, p->klen)], *old = *slot;
  if (is_key(old, p->key, p->klen) && atomic_load(&old->seq) >= seq) {
    old = p; /* a page as new or newer is kept already */
  } else {
    *slot = p;
  }
  pthread_mutex_unlock(&lock);
  page_unref(old);
}

void pages_stats(struct pages_stats *out)
{
  out->hits = atomic_load(&hits);
  out->misses = atomic_load(&misses);
}
