/* ratelimit: fixed-window failure counters in an open-addressed table. */
#include "domain/ratelimit.h"

#include <math.h>
#include <string.h>

#define PROBE 8

void ratelimit_init(struct ratelimit *rl, unsigned limit, double window_s)
{
  memset(rl, 0, sizeof *rl);
  pthread_mutex_init(&rl->lock, NULL);
  rl->limit = limit;
  rl->window = window_s;
}

static uint64_t hash(const char *key)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)key; *p; p++)
    h = (h ^ *p) * 1099511628211ULL;
  return h ? h : 1;
}

/* The slot of key: its own, or (create) a free or expired or the oldest one
 * of its probe run. NULL when not found and !create. */
static struct ratelimit_slot *slot(struct ratelimit *rl, uint64_t h, double now, int create)
{
  struct ratelimit_slot *victim = NULL;
  int victim_stale = 0;
  for (unsigned i = 0; i < PROBE; i++) {
    struct ratelimit_slot *s = &rl->slots[(h + i) % RATELIMIT_SLOTS];
    if (s->key == h)
      return s;
    if (s->key == 0 || now - s->start >= rl->window) {
      if (!victim_stale) {
        victim = s;
        victim_stale = 1;
      }
    } else if (!victim_stale && (!victim || s->start < victim->start)) {
      victim = s;
    }
  }
  if (!create)
    return NULL;
  victim->key = h;
  victim->start = now;
  victim->failures = 0;
  return victim;
}

unsigned ratelimit_wait(struct ratelimit *rl, const char *key, double now)
{
  unsigned wait = 0;
  pthread_mutex_lock(&rl->lock);
  struct ratelimit_slot *s = slot(rl, hash(key), now, 0);
  if (s && s->failures >= rl->limit && now - s->start < rl->window) {
    double left = ceil(rl->window - (now - s->start));
    wait = left < 1 ? 1 : (unsigned)left;
  }
  pthread_mutex_unlock(&rl->lock);
  return wait;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, double now)
{
  pthread_mutex_lock(&rl->lock);
  struct ratelimit_slot *s = slot(rl, hash(key), now, 1);
  if (now - s->start >= rl->window) {
    s->start = now;
    s->failures = 0;
  }
  s->failures++;
  pthread_mutex_unlock(&rl->lock);
}

void ratelimit_reset(struct ratelimit *rl, const char *key)
{
  pthread_mutex_lock(&rl->lock);
  struct ratelimit_slot *s = slot(rl, hash(key), 0, 0);
  if (s)
    memset(s, 0, sizeof *s);
  pthread_mutex_unlock(&rl->lock);
}
