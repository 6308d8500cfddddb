/* buf: bounded growable buffer. */
#include "util/buf.h"
#include "util/err.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
  b->p = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

static int grow(struct buf *b, size_t extra)
{
  if (extra > b->max || b->len > b->max - extra)
    return E_TOOBIG;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
  char *p = one_realloc(b->p, cap);
  if (!p)
    return E_NOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
  int rc = grow(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

int buf_puts(struct buf *b, const char *s) { return buf_append(b, s, strlen(s)); }

int buf_putc(struct buf *b, char c) { return buf_append(b, &c, 1); }

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return E_INVALID;
  int rc = grow(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

char *buf_detach(struct buf *b)
{
  char *p = b->p;
  if (!p)
    p = one_strdup("");
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void buf_release(struct buf *b)
{
  one_free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

const char *buf_str(const struct buf *b) { return b->p ? b->p : ""; }
