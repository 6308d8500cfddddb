/* log: JSON lines on stderr. */
#include "util/log.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Configuration set once at start-up (log_init), read-only afterwards. */
static enum log_level threshold = LOG_INFO;

void log_init(void)
{
  const char *v = getenv("ONE_LOG");
  if (!v)
    return;
  threshold = strcmp(v, "debug") == 0 ? LOG_DEBUG
              : strcmp(v, "warn") == 0 ? LOG_WARN
              : strcmp(v, "error") == 0 ? LOG_ERROR
                                        : LOG_INFO;
}

int log_enabled(enum log_level level) { return level >= threshold; }

void log_json(enum log_level level, const char *request_id, const char *msg, const json_t *extra)
{
  static const char *names[] = {"debug", "info", "warn", "error"};
  if (!log_enabled(level))
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char when[40];
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  size_t n = strlen(when);
  snprintf(when + n, sizeof when - n, ".%03ldZ", ts.tv_nsec / 1000000);
  json_t *o = json_pack("{s:s,s:s,s:s}", "ts", when, "level", names[level], "msg", msg);
  if (!o)
    return;
  if (request_id && *request_id)
    json_object_set_new(o, "req", json_string(request_id));
  if (extra)
    json_object_update(o, (json_t *)extra);
  char *line = jv_dumps(o);
  json_decref(o);
  if (!line)
    return;
  size_t len = strlen(line);
  line[len] = '\n'; /* jv_dumps leaves room: the NUL becomes the newline */
  ssize_t w = write(STDERR_FILENO, line, len + 1);
  (void)w;
  one_free(line);
}
