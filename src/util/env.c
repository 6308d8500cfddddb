/* env: see env.h. */
#include "util/env.h"

#include <errno.h>
#include <stdlib.h>

long long env_int(const char *name, long long dflt, long long lo, long long hi)
{
  const char *v = getenv(name);
  if (!v || !*v)
    return dflt;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  return *end || errno || n < lo || n > hi ? dflt : n;
}
