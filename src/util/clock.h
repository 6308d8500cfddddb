/* clock: wall-clock time in Convex's unit (milliseconds since the epoch, as
 * a double, like JavaScript's Date.now()) and a monotonic clock for
 * durations. */
#ifndef ONE_UTIL_CLOCK_H
#define ONE_UTIL_CLOCK_H

/* Milliseconds since 1970-01-01 UTC, whole. */
double clock_now_ms(void);
/* Seconds on a monotonic clock (durations, rate limits, timeouts). */
double clock_mono_s(void);

#endif
