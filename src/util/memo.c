/* memo: a direct-mapped cache per thread (see memo.h). */
#include "util/memo.h"

#include "util/mem.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 1024 /* at most SLOTS * 2 * MEMO_MAX_TEXT bytes a thread; ~1 MB for messages */

struct slot {
  char *text; /* the text, then the result, in one allocation */
  size_t n, len;
};

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int key_ok;

static void free_slots(void *p)
{
  struct slot *s = p;
  for (size_t i = 0; i < SLOTS; i++)
    one_free(s[i].text);
  one_free(s);
}

static void make_key(void) { key_ok = pthread_key_create(&key, free_slots) == 0; }

static struct slot *slots(int create)
{
  pthread_once(&once, make_key);
  if (!key_ok)
    return NULL;
  struct slot *s = pthread_getspecific(key);
  if (!s && create && (s = one_calloc(SLOTS, sizeof *s)) && pthread_setspecific(key, s) != 0) {
    one_free(s);
    s = NULL;
  }
  return s;
}

/* The text's slot: a hash of its length and first 64 bytes (a stored
 * document starts with its _id, so these tell documents apart). */
static size_t slot_of(const char *t, size_t n)
{
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  size_t m = n < 64 ? n : 64, i = 0;
  for (; i + 8 <= m; i += 8) { /* eight bytes at a time */
    uint64_t w;
    memcpy(&w, t + i, 8);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  for (; i < m; i++)
    h = (h ^ (unsigned char)t[i]) * 0x100000001b3ull;
  h ^= h >> 29;
  return (size_t)(h % SLOTS);
}

const char *memo_find(const char *t, size_t n, size_t *len)
{
  struct slot *s = slots(0);
  if (!s)
    return NULL;
  struct slot *e = &s[slot_of(t, n)];
  if (!e->text || e->n != n || memcmp(e->text, t, n) != 0)
    return NULL;
  *len = e->len;
  return e->text + n;
}

void memo_keep(const char *t, size_t n, const char *out, size_t len)
{
  if (n > MEMO_MAX_TEXT || len > MEMO_MAX_TEXT)
    return;
  struct slot *s = slots(1);
  if (!s)
    return;
  struct slot *e = &s[slot_of(t, n)];
  char *p = one_malloc(n + len + 1);
  if (!p)
    return;
  memcpy(p, t, n);
  memcpy(p + n, out, len);
  p[n + len] = '\0';
  one_free(e->text);
  e->text = p;
  e->n = n;
  e->len = len;
}
