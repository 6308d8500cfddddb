/* fake_llm: the scripted fake model server (fakellm.h) as a program, for
 * tests that run the real `one serve`: `fake_llm [PORT]` prints
 * "listening PORT" on its first line, then serves until SIGTERM or SIGINT.
 * Scripts come over HTTP (POST /_script). */
#include "fakellm.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
  unsigned port = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 0;
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  struct rlimit nofile; /* a benchmark holds thousands of connections */
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  struct fakellm *f = fakellm_start(port);
  if (!f) {
    fprintf(stderr, "fake_llm: cannot listen on port %u\n", port);
    return 1;
  }
  printf("listening %u\n", fakellm_port(f));
  fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  fakellm_stop(f);
  return 0;
}
