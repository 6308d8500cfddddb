/* err: ONE's error codes and the error value that fallible functions fill.
 *
 * Every code comes from the one X-macro table below, which also gives it a
 * name, a message and the HTTP status an API answer uses. Functions return 0
 * or a negative code, and fill a `struct err` with a message a user can act
 * on. Validation may add several details (one per problem, each with a path);
 * `err_clear` frees them. A `struct err` on the stack starts as ERR_INIT. */
#ifndef ONE_UTIL_ERR_H
#define ONE_UTIL_ERR_H

#include <stddef.h>

/*        name           code  message                          http */
#define ONE_ERRORS(X)                                                    \
  X(E_NOMEM,       -1,  "out of memory",                      500)     \
  X(E_INVALID,     -2,  "invalid input",                      400)     \
  X(E_USAGE,       -3,  "usage error",                        400)     \
  X(E_PARSE,       -4,  "parse error",                        400)     \
  X(E_SCHEMA,      -5,  "document does not match the schema", 422)     \
  X(E_NOTFOUND,    -6,  "not found",                          404)     \
  X(E_CONFLICT,    -7,  "conflict",                           409)     \
  X(E_TOOBIG,      -8,  "too large",                          413)     \
  X(E_IO,          -9,  "input/output error",                 500)     \
  X(E_BUSY,        -10, "busy",                               503)     \
  X(E_STORE,       -11, "storage error",                      500)     \
  X(E_PERM,        -12, "not allowed",                        403)     \
  X(E_AUTH,        -13, "not signed in",                      401)     \
  X(E_LIMIT,       -14, "rate limited",                       429)     \
  X(E_INTERNAL,    -15, "internal error",                     500)     \
  X(E_STOPPED,     -16, "stopped",                            503)

enum err_code {
  E_OK = 0,
#define X(name, code, msg, http) name = code,
  ONE_ERRORS(X)
#undef X
};

struct err_detail {
  char *path;    /* where, e.g. "agents.delegatesTo[2]" (owned) */
  char *message; /* what, e.g. "expected id<agents>, got id<users>" (owned) */
};

struct err {
  int code;              /* 0 when no error was set */
  char msg[512];         /* one line for a user */
  char where[256];       /* file:line:column or a document path, may be "" */
  struct err_detail *details;
  size_t ndetails, cap;
};

#define ERR_INIT {0, {0}, {0}, NULL, 0, 0}

/* Sets code and a printf-style message; returns code so callers can write
 * `return err_set(err, E_INVALID, "…")`. err may be NULL. */
int err_set(struct err *err, int code, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Like err_set, and records where (file:line:col or a path). */
int err_set_at(struct err *err, int code, const char *where, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
/* Appends one detail (path and message, both copied). Returns 0 or E_NOMEM. */
int err_add_detail(struct err *err, const char *path, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* Frees details and resets to ERR_INIT. Accepts NULL. */
void err_clear(struct err *err);

const char *err_name(int code);      /* "E_SCHEMA" */
const char *err_message(int code);   /* "document does not match the schema" */
int err_http_status(int code);       /* 422 */

#endif
