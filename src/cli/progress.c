/* progress: a one-line status on stderr when it is a terminal. */
#include "cli/progress.h"

#include "util/clock.h"

#include <stdio.h>
#include <unistd.h>

void progress_init(struct progress *p)
{
  p->tty = isatty(2);
  p->last = 0;
  p->shown = 0;
}

void progress_update(struct progress *p, const char *what, size_t done, size_t total)
{
  if (!p->tty)
    return;
  double now = clock_mono_s();
  if (p->shown && now - p->last < 0.1 && (total == 0 || done < total))
    return;
  p->last = now;
  p->shown = 1;
  if (total) {
    int width = 30, filled = (int)((double)done / (double)total * width);
    if (filled > width)
      filled = width;
    fprintf(stderr, "\r[%.*s%*s] %3d%% %zu/%zu %s\033[K", filled,
            "##############################", width - filled, "",
            (int)((double)done * 100.0 / (double)total), done, total, what);
  } else {
    fprintf(stderr, "\r%s: %zu\033[K", what, done);
  }
  fflush(stderr);
}

void progress_done(struct progress *p)
{
  if (p->tty && p->shown)
    fputs("\r\033[K", stderr);
  p->shown = 0;
}
