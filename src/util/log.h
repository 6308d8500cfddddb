/* log: one JSON object per line on stderr, each with a time, a level, the
 * request id when there is one, and a message. The level threshold comes from
 * ONE_LOG (debug, info, warn, error; default info) at log_init. Thread-safe:
 * each line is one write. Secrets never go into a log line. */
#ifndef ONE_UTIL_LOG_H
#define ONE_UTIL_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(void);                      /* reads ONE_LOG; call at start-up */
int log_enabled(enum log_level level);
/* Logs msg with the fields of extra (borrowed, may be NULL). */
void log_json(enum log_level level, const char *request_id, const char *msg, const json_t *extra);

#endif
