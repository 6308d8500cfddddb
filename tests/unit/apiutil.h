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
/* The same, after running the shell command prepare in the server's folder
 * (which may create t.db, e.g. by importing a snapshot). */
void api_start_in(struct api_server *s, const char *prepare);
/* kill -9 and wait (the folder and database stay for api_relaunch). */
void api_kill9(struct api_server *s);
/* Starts `one serve` again on the same folder and database (a new port). */
void api_relaunch(struct api_server *s);
/* SIGTERM, wait; returns the exit status (0 for a graceful stop). */
int api_stop(struct api_server *s);
/* One request. extra_headers is NULL or a NULL-terminated list of "Name: value". */
struct api_reply api_call(const struct api_server *s, const char *method, const char *path,
                          const char *body, size_t body_len, const char *const *extra_headers);
void api_reply_free(struct api_reply *r);
/* One request that may get no answer (status 0 then: the server is gone
 * or closed the connection); asserts nothing, so any thread may call it. */
struct api_reply api_try(const struct api_server *s, const char *token, const char *method,
                         const char *path, const char *body);

#include <jansson.h>

/* A request with a printf-formatted JSON body (fmt NULL: none) as the
 * holder of token (NULL: anonymous). */
struct api_reply api_req(const struct api_server *s, const char *token, const char *method,
                         const char *path, const char *fmt, ...)
  __attribute__((format(printf, 5, 6)));
/* The same, asserting the status; returns the parsed body (json_decref). */
json_t *api_expect(const struct api_server *s, const char *token, long status, const char *method,
                   const char *path, const char *fmt, ...)
  __attribute__((format(printf, 6, 7)));

struct api_user {
  char id[64];
  char token[80];
};
/* Signs up email (password "correct horse") and keeps its session. */
void api_signup(const struct api_server *s, const char *email, struct api_user *u);
/* Creates an administrator with `one user create --admin`, and signs in. */
void api_admin(const struct api_server *s, const char *email, struct api_user *u);

/* The id of the agent called name in u's directory (asserts there is one). */
void api_agent_id(const struct api_server *s, const struct api_user *u, const char *name,
                  char out[64]);
/* How many of conv's newest 100 messages, as u reads them, hold needle. */
int api_count_content(const struct api_server *s, const struct api_user *u, const char *conv,
                      const char *needle);

/* A Server-Sent Events client on a thread of its own. */
struct api_stream;
struct api_stream *api_stream_open(const struct api_server *s, const char *path, const char *token,
                                   const char *last_event_id);
/* 1 when needle has arrived within timeout_ms. */
int api_stream_wait(struct api_stream *st, const char *needle, int timeout_ms);
/* 1 when the server ended the stream within timeout_ms (status: its HTTP status). */
int api_stream_ended(struct api_stream *st, int timeout_ms, long *status);
/* Everything received so far (free). */
char *api_stream_text(struct api_stream *st);
void api_stream_close(struct api_stream *st);

#endif
