/* progress: progress lines for long commands on a terminal.
 *
 * On a terminal, progress_update rewrites one status line on stderr (at most
 * ten times a second); elsewhere (pipes, CI logs) it prints nothing, so
 * outputs stay clean. progress_done ends the line. */
#ifndef ONE_CLI_PROGRESS_H
#define ONE_CLI_PROGRESS_H

#include <stddef.h>

struct progress {
  int tty;
  double last;          /* monotonic seconds of the last print */
  int shown;            /* a status line is on screen */
};

void progress_init(struct progress *p);
/* Shows "what: done" or, when total > 0, a bar with done/total. */
void progress_update(struct progress *p, const char *what, size_t done, size_t total);
void progress_done(struct progress *p);

#endif
