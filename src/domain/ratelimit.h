/* ratelimit: counts failures per key (an account's email, a client address)
 * in a fixed window and says when a key must wait.
 *
 * A key that reaches `limit` failures within `window` seconds is blocked
 * until that window ends. Success does not erase an address's count, only
 * the caller decides (ratelimit_reset). The table has a fixed size; when it
 * is full the oldest window is reused, so memory never grows with the
 * number of attackers. Thread-safe; per process (see docs/decisions.md). */
#ifndef ONE_DOMAIN_RATELIMIT_H
#define ONE_DOMAIN_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 4096

struct ratelimit_slot {
  uint64_t key;      /* hash of the key; 0 = free */
  double start;      /* window start, monotonic seconds */
  unsigned failures;
};

struct ratelimit {
  pthread_mutex_t lock;
  unsigned limit;
  double window;
  struct ratelimit_slot slots[RATELIMIT_SLOTS];
};

void ratelimit_init(struct ratelimit *rl, unsigned limit, double window_s);
/* 0 when key may try now; otherwise the whole seconds to wait (>= 1). */
unsigned ratelimit_wait(struct ratelimit *rl, const char *key, double now);
/* Records a failure of key at now. */
void ratelimit_fail(struct ratelimit *rl, const char *key, double now);
/* Forgets key's failures. */
void ratelimit_reset(struct ratelimit *rl, const char *key);

#endif
