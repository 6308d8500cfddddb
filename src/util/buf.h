/* buf: a growable byte buffer with a maximum size set at init.
 *
 * Every buffer that may hold untrusted input is bounded: appending past the
 * maximum fails with E_TOOBIG and leaves the buffer as it was. The content is
 * always NUL-terminated (the NUL is not counted in len). The buffer owns p;
 * buf_detach hands it to the caller. */
#ifndef ONE_UTIL_BUF_H
#define ONE_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
  char *p;
  size_t len, cap, max;
};

#define BUF_UNBOUNDED ((size_t)-1)

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *data, size_t n); /* 0, E_TOOBIG, E_NOMEM */
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_reset(struct buf *b);              /* len = 0, keeps memory */
char *buf_detach(struct buf *b);            /* caller frees with one_free */
void buf_release(struct buf *b);            /* frees memory, back to init state */
const char *buf_str(const struct buf *b);   /* "" when empty, never NULL */

#endif
