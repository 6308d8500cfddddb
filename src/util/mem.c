/* mem: allocation wrapper with a fault-injection switch for tests. */
#include "util/mem.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Shared across threads; -1 means "never fail". Only tests change it. */
static atomic_long fail_countdown = -1;

static int should_fail(void)
{
  long n = atomic_load(&fail_countdown);
  if (n < 0)
    return 0;
  if (n == 0)
    return 1;
  return atomic_fetch_sub(&fail_countdown, 1) <= 0;
}

void mem_fail_after(long n) { atomic_store(&fail_countdown, n); }

void *one_malloc(size_t n) { return should_fail() ? NULL : malloc(n ? n : 1); }

void *one_calloc(size_t count, size_t n)
{
  return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1);
}

void *one_realloc(void *p, size_t n)
{
  return should_fail() ? NULL : realloc(p, n ? n : 1);
}

char *one_strndup(const char *s, size_t n)
{
  char *d = one_malloc(n + 1);
  if (!d)
    return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *one_strdup(const char *s) { return one_strndup(s, strlen(s)); }

void one_free(void *p) { free(p); }

void mem_init(void) { json_set_alloc_funcs(one_malloc, one_free); }
