/* bench_sse: delivery latency of a posted message to many stream
 * subscribers. Opens N Server-Sent Events connections to one conversation
 * (non-blocking sockets on one epoll), waits until every one is connected,
 * then posts messages one at a time and records, for every subscriber, the
 * time from just before the POST is written to the moment the message
 * arrives on its stream. Prints p50, p99 and max over all deliveries.
 *
 * usage: bench_sse HOST PORT TOKEN CONVERSATION SUBSCRIBERS POSTS */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct sub {
  int fd;
  int connected;
  int got;          /* the current message arrived */
  char tail[64];    /* the last bytes read, for markers cut in two */
};

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(const char *host, int port, int nonblock)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  inet_pton(AF_INET, host, &a.sin_addr);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  if (nonblock)
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Reads what fd has; sets s->connected / s->got when the marker shows. */
static void drain(struct sub *s, const char *marker)
{
  char buf[16384 + 64];
  for (;;) {
    size_t keep = strlen(s->tail);
    memcpy(buf, s->tail, keep);
    ssize_t r = read(s->fd, buf + keep, 16384);
    if (r <= 0)
      return;
    buf[keep + (size_t)r] = '\0';
    if (!s->connected && strstr(buf, ": connected"))
      s->connected = 1;
    if (marker && !s->got && strstr(buf, marker))
      s->got = 1;
    size_t total = keep + (size_t)r, t = total < sizeof s->tail - 1 ? total : sizeof s->tail - 1;
    memcpy(s->tail, buf + total - t, t);
    s->tail[t] = '\0';
  }
}

int main(int argc, char **argv)
{
  if (argc != 7) {
    fprintf(stderr, "usage: bench_sse HOST PORT TOKEN CONVERSATION SUBSCRIBERS POSTS\n");
    return 2;
  }
  const char *host = argv[1], *token = argv[3], *conv = argv[4];
  int port = atoi(argv[2]), n = atoi(argv[5]), posts = atoi(argv[6]);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  struct sub *subs = calloc((size_t)n, sizeof *subs);
  int ep = epoll_create1(0);
  char req[1024];
  int len = snprintf(req, sizeof req,
                     "GET /api/v1/conversations/%s/stream HTTP/1.1\r\nHost: %s\r\n"
                     "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                     conv, host, token);
  for (int i = 0; i < n; i++) {
    subs[i].fd = dial(host, port, 0);
    if (subs[i].fd < 0 || write_all(subs[i].fd, req, (size_t)len) != 0) {
      fprintf(stderr, "bench_sse: subscriber %d cannot connect: %s\n", i, strerror(errno));
      return 1;
    }
    fcntl(subs[i].fd, F_SETFL, fcntl(subs[i].fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].fd, &ev);
  }
  struct epoll_event evs[256];
  int connected = 0;
  double deadline = now_ms() + 30000;
  while (connected < n && now_ms() < deadline) {
    int k = epoll_wait(ep, evs, 256, 100);
    for (int e = 0; e < k; e++) {
      struct sub *s = &subs[evs[e].data.u32];
      int was = s->connected;
      drain(s, NULL);
      connected += !was && s->connected;
    }
  }
  if (connected < n) {
    fprintf(stderr, "bench_sse: only %d of %d subscribers connected\n", connected, n);
    return 1;
  }
  double *lat = calloc((size_t)n * (size_t)posts, sizeof *lat);
  size_t nlat = 0, missed = 0;
  for (int p = 0; p < posts; p++) {
    char marker[64], body[128], post[2048];
    snprintf(marker, sizeof marker, "bench-%d-%d\"", p, rand());
    snprintf(body, sizeof body, "{\"content\":\"%.*s\"}", (int)strlen(marker) - 1, marker);
    int plen = snprintf(post, sizeof post,
                        "POST /api/v1/conversations/%s/messages HTTP/1.1\r\nHost: %s\r\n"
                        "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        conv, host, token, strlen(body), body);
    for (int i = 0; i < n; i++)
      subs[i].got = 0;
    int pfd = dial(host, port, 0);
    double t0 = now_ms();
    if (pfd < 0 || write_all(pfd, post, (size_t)plen) != 0) {
      fprintf(stderr, "bench_sse: cannot post\n");
      return 1;
    }
    int got = 0;
    double until = t0 + 10000;
    while (got < n && now_ms() < until) {
      int k = epoll_wait(ep, evs, 256, 50);
      double t = now_ms();
      for (int e = 0; e < k; e++) {
        struct sub *s = &subs[evs[e].data.u32];
        if (s->got) {
          drain(s, NULL);
          continue;
        }
        drain(s, marker);
        if (s->got) {
          lat[nlat++] = t - t0;
          got++;
        }
      }
    }
    missed += (size_t)(n - got);
    close(pfd);
    struct timespec pause = {0, 20 * 1000000L};
    nanosleep(&pause, NULL);
  }
  qsort(lat, nlat, sizeof *lat, cmp);
  double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(nlat * 99 + 99) / 100 - 1] : 0;
  printf("subscribers=%d posts=%d deliveries=%zu missed=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
         n, posts, nlat, missed, p50, p99, nlat ? lat[nlat - 1] : 0);
  for (int i = 0; i < n; i++)
    close(subs[i].fd);
  free(lat);
  free(subs);
  return missed ? 1 : 0;
}
