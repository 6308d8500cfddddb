/* env: configuration read from ONE_* environment variables (after flags,
 * before defaults: DESIGN.md, "Config"). */
#ifndef ONE_UTIL_ENV_H
#define ONE_UTIL_ENV_H

/* The whole number in variable name, or dflt when it is unset, empty, not a
 * whole number, or outside lo..hi. */
long long env_int(const char *name, long long dflt, long long lo, long long hi);

#endif
