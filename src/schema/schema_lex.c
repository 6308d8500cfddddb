/* schema_lex: turns schema source text (a TypeScript subset) into tokens:
 * identifiers, strings (quotes and backticks without substitutions, with
 * escapes decoded), numbers, punctuation, "..." and "=>". Comments and white
 * space are skipped. Every error carries file:line:column. */
#include "schema/schema_int.h"
#include "util/buf.h"
#include "util/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void lex_init(struct lexer *lx, const char *file, const char *text, size_t len)
{
  lx->file = file;
  lx->p = text;
  lx->end = text + len;
  lx->line = 1;
  lx->col = 1;
}

void token_release(struct token *t)
{
  one_free(t->text);
  t->text = NULL;
}

int lex_error(const struct lexer *lx, int line, int col, struct err *err, int code,
              const char *fmt, ...)
{
  char where[300], msg[400];
  snprintf(where, sizeof where, "%s:%d:%d", lx->file, line, col);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return err_set_at(err, code, where, "%s", msg);
}

static void advance(struct lexer *lx)
{
  if (*lx->p == '\n') {
    lx->line++;
    lx->col = 1;
  } else if (((unsigned char)*lx->p & 0xc0) != 0x80) {
    lx->col++;
  }
  lx->p++;
}

static int skip_space(struct lexer *lx, struct err *err)
{
  while (lx->p < lx->end) {
    char c = *lx->p;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      advance(lx);
    } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '/') {
      while (lx->p < lx->end && *lx->p != '\n')
        advance(lx);
    } else if (c == '/' && lx->p + 1 < lx->end && lx->p[1] == '*') {
      int line = lx->line, col = lx->col;
      advance(lx);
      advance(lx);
      while (lx->p < lx->end && !(*lx->p == '*' && lx->p + 1 < lx->end && lx->p[1] == '/'))
        advance(lx);
      if (lx->p >= lx->end)
        return lex_error(lx, line, col, err, E_PARSE, "unterminated comment");
      advance(lx);
      advance(lx);
    } else if ((unsigned char)c == 0xef && lx->end - lx->p >= 3 &&
               (unsigned char)lx->p[1] == 0xbb && (unsigned char)lx->p[2] == 0xbf) {
      lx->p += 3; /* UTF-8 byte order mark */
    } else {
      break;
    }
  }
  return 0;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int put_utf8(struct buf *b, unsigned long cp)
{
  char s[4];
  size_t n;
  if (cp < 0x80) {
    s[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    s[0] = (char)(0xc0 | (cp >> 6));
    s[1] = (char)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    s[0] = (char)(0xe0 | (cp >> 12));
    s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    s[2] = (char)(0x80 | (cp & 0x3f));
    n = 3;
  } else {
    s[0] = (char)(0xf0 | (cp >> 18));
    s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    s[3] = (char)(0x80 | (cp & 0x3f));
    n = 4;
  }
  return buf_append(b, s, n);
}

/* Reads \u{...} or \uXXXX after the "u"; returns the code point or -1. */
static long read_unicode_escape(struct lexer *lx)
{
  long cp = 0;
  if (lx->p < lx->end && *lx->p == '{') {
    advance(lx);
    int digits = 0;
    while (lx->p < lx->end && *lx->p != '}') {
      int h = hexval(*lx->p);
      if (h < 0 || ++digits > 6)
        return -1;
      cp = cp * 16 + h;
      advance(lx);
    }
    if (lx->p >= lx->end || digits == 0)
      return -1;
    advance(lx);
  } else {
    for (int i = 0; i < 4; i++) {
      if (lx->p >= lx->end || hexval(*lx->p) < 0)
        return -1;
      cp = cp * 16 + hexval(*lx->p);
      advance(lx);
    }
  }
  return cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? -1 : cp;
}

/* Is p[0..n) well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF)? */
static int utf8_valid(const unsigned char *p, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || i + len > n)
      return 0;
    unsigned long cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return 0;
      cp = cp << 6 | (p[i + k] & 0x3f);
    }
    static const unsigned long min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += len;
  }
  return 1;
}

static int lex_string(struct lexer *lx, struct token *t, struct err *err)
{
  char quote = *lx->p;
  struct buf b;
  buf_init(&b, 1024 * 1024);
  advance(lx);
  for (;;) {
    if (lx->p >= lx->end || (*lx->p == '\n' && quote != '`')) {
      buf_release(&b);
      return lex_error(lx, t->line, t->col, err, E_PARSE, "unterminated string");
    }
    char c = *lx->p;
    if (c == quote) {
      advance(lx);
      break;
    }
    if (quote == '`' && c == '$' && lx->p + 1 < lx->end && lx->p[1] == '{') {
      buf_release(&b);
      return lex_error(lx, lx->line, lx->col, err, E_PARSE,
                       "template strings with ${...} substitutions are not supported in a schema");
    }
    int rc = 0;
    if (c == '\\') {
      int line = lx->line, col = lx->col;
      advance(lx);
      if (lx->p >= lx->end)
        continue;
      char e = *lx->p;
      advance(lx);
      switch (e) {
      case 'n': rc = buf_putc(&b, '\n'); break;
      case 't': rc = buf_putc(&b, '\t'); break;
      case 'r': rc = buf_putc(&b, '\r'); break;
      case 'b': rc = buf_putc(&b, '\b'); break;
      case 'f': rc = buf_putc(&b, '\f'); break;
      case 'v': rc = buf_putc(&b, '\v'); break;
      case '0': rc = buf_putc(&b, '\0'); break;
      case '\n': break; /* line continuation */
      case 'u': {
        long cp = read_unicode_escape(lx);
        if (cp < 0) {
          buf_release(&b);
          return lex_error(lx, line, col, err, E_PARSE, "invalid \\u escape in string");
        }
        rc = put_utf8(&b, (unsigned long)cp);
        break;
      }
      case 'x': {
        int h1 = lx->p < lx->end ? hexval(*lx->p) : -1;
        int h2 = lx->p + 1 < lx->end ? hexval(lx->p[1]) : -1;
        if (h1 < 0 || h2 < 0) {
          buf_release(&b);
          return lex_error(lx, line, col, err, E_PARSE, "invalid \\x escape in string");
        }
        advance(lx);
        advance(lx);
        rc = put_utf8(&b, (unsigned long)(h1 * 16 + h2));
        break;
      }
      default: rc = buf_putc(&b, e); break;
      }
    } else {
      rc = buf_putc(&b, c);
      advance(lx);
    }
    if (rc) {
      buf_release(&b);
      return lex_error(lx, t->line, t->col, err, rc, "string too long");
    }
  }
  if (!utf8_valid((const unsigned char *)buf_str(&b), b.len)) {
    buf_release(&b);
    return lex_error(lx, t->line, t->col, err, E_PARSE, "string is not valid UTF-8");
  }
  t->kind = T_STRING;
  t->len = b.len;
  t->text = buf_detach(&b);
  return t->text ? 0 : err_set(err, E_NOMEM, "out of memory");
}

static int is_ident_start(unsigned char c) { return isalpha(c) || c == '_' || c == '$'; }
static int is_ident_char(unsigned char c) { return isalnum(c) || c == '_' || c == '$'; }

int lex_next(struct lexer *lx, struct token *t, struct err *err)
{
  memset(t, 0, sizeof *t);
  int rc = skip_space(lx, err);
  if (rc)
    return rc;
  t->line = lx->line;
  t->col = lx->col;
  if (lx->p >= lx->end) {
    t->kind = T_EOF;
    return 0;
  }
  unsigned char c = (unsigned char)*lx->p;
  const char *start = lx->p;
  if (c == '"' || c == '\'' || c == '`')
    return lex_string(lx, t, err);
  if (is_ident_start(c)) {
    while (lx->p < lx->end && is_ident_char((unsigned char)*lx->p))
      advance(lx);
    t->kind = T_IDENT;
  } else if (isdigit(c) || (c == '.' && lx->p + 1 < lx->end && isdigit((unsigned char)lx->p[1]))) {
    while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '.' || *lx->p == '_' ||
                               ((*lx->p == '+' || *lx->p == '-') &&
                                (lx->p[-1] == 'e' || lx->p[-1] == 'E'))))
      advance(lx);
    t->kind = T_NUMBER;
  } else if (c == '.' && lx->end - lx->p >= 3 && lx->p[1] == '.' && lx->p[2] == '.') {
    advance(lx);
    advance(lx);
    advance(lx);
    t->kind = T_ELLIPSIS;
    return 0;
  } else if (c == '=' && lx->p + 1 < lx->end && lx->p[1] == '>') {
    advance(lx);
    advance(lx);
    t->kind = T_ARROW;
    return 0;
  } else if (strchr("{}()[],:;.=<>|&?!*+-/@#%^~", (char)c)) {
    advance(lx);
    t->kind = T_PUNCT;
    t->punct = (char)c;
    return 0;
  } else {
    return lex_error(lx, t->line, t->col, err, E_PARSE,
                     c < 0x20 || c >= 0x7f ? "unexpected character (byte 0x%02x)"
                                          : "unexpected character '%c'",
                     c);
  }
  t->len = (size_t)(lx->p - start);
  t->text = one_strndup(start, t->len);
  return t->text ? 0 : err_set(err, E_NOMEM, "out of memory");
}
