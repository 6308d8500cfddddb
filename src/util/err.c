/* err: the error table's lookups and the helpers that fill a struct err. */
#include "util/err.h"
#include "util/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
  int code;
  const char *name, *message;
  int http;
} table[] = {
#define X(name, code, msg, http) {code, #name, msg, http},
  ONE_ERRORS(X)
#undef X
};

static int find(int code)
{
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].code == code)
      return (int)i;
  return -1;
}

const char *err_name(int code)
{
  int i = find(code);
  return code == 0 ? "E_OK" : i < 0 ? "E_UNKNOWN" : table[i].name;
}

const char *err_message(int code)
{
  int i = find(code);
  return code == 0 ? "ok" : i < 0 ? "unknown error" : table[i].message;
}

int err_http_status(int code)
{
  int i = find(code);
  return code == 0 ? 200 : i < 0 ? 500 : table[i].http;
}

static void vset(struct err *err, int code, const char *where, const char *fmt, va_list ap)
{
  err->code = code;
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  snprintf(err->where, sizeof err->where, "%s", where ? where : "");
}

int err_set(struct err *err, int code, const char *fmt, ...)
{
  if (!err)
    return code;
  va_list ap;
  va_start(ap, fmt);
  vset(err, code, NULL, fmt, ap);
  va_end(ap);
  return code;
}

int err_set_at(struct err *err, int code, const char *where, const char *fmt, ...)
{
  if (!err)
    return code;
  va_list ap;
  va_start(ap, fmt);
  vset(err, code, where, fmt, ap);
  va_end(ap);
  return code;
}

int err_add_detail(struct err *err, const char *path, const char *fmt, ...)
{
  if (!err)
    return 0;
  if (err->ndetails == err->cap) {
    size_t cap = err->cap ? err->cap * 2 : 4;
    struct err_detail *d = one_realloc(err->details, cap * sizeof *d);
    if (!d)
      return E_NOMEM;
    err->details = d;
    err->cap = cap;
  }
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *p = one_strdup(path ? path : "");
  char *m = one_strdup(msg);
  if (!p || !m) {
    one_free(p);
    one_free(m);
    return E_NOMEM;
  }
  err->details[err->ndetails].path = p;
  err->details[err->ndetails].message = m;
  err->ndetails++;
  return 0;
}

void err_clear(struct err *err)
{
  if (!err)
    return;
  for (size_t i = 0; i < err->ndetails; i++) {
    one_free(err->details[i].path);
    one_free(err->details[i].message);
  }
  one_free(err->details);
  memset(err, 0, sizeof *err);
}
