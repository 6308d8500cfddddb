/* apiutil: API tests against the real `one serve` on a temporary database
 * and a free port, with libcurl as the client. */
#ifndef ONE_APIUTIL_H
#define ONE_APIUTIL_H

#include <sys/types.h>

struct api_server {
  pid_t pid;
  char url[64];
  char *dir;      /* temporary folder with t.db and serve.log */
};

struct api_reply {
  long status;
  char *body;     /* free */
  char *headers;  /* free; raw header block */
};

/* Starts `one serve --listen 127.0.0.1:0` on a new database; waits until it
 * says where it listens. */
void api_start(struct api_server *s);
/* SIGTERM, wait; returns the exit status (0 for a graceful stop). */
int api_stop(struct api_server *s);
/* One request. extra_headers is NULL or a NULL-terminated list of "Name: value". */
struct api_reply api_call(const struct api_server *s, const char *method, const char *path,
                          const char *body, size_t body_len, const char *const *extra_headers);
void api_reply_free(struct api_reply *r);

#endif
