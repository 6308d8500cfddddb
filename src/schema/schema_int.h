/* schema_int: the insides of the schema parser shared by its files: tokens
 * and the lexer (schema_lex.c) that the parser (schema_parse.c) reads. */
#ifndef ONE_SCHEMA_INT_H
#define ONE_SCHEMA_INT_H

#include <stddef.h>

#include "util/err.h"

enum tok_kind {
  T_EOF, T_IDENT, T_STRING, T_NUMBER, T_PUNCT, T_ELLIPSIS, T_ARROW,
};

struct token {
  enum tok_kind kind;
  char punct;          /* T_PUNCT: the character */
  char *text;          /* T_IDENT, T_STRING (decoded), T_NUMBER (as written); owned */
  size_t len;
  int line, col;
};

struct lexer {
  const char *file;    /* name used in error positions (borrowed) */
  const char *p, *end;
  int line, col;
};

#define SCHEMA_MAX_TOKENS 1000000

void lex_init(struct lexer *lx, const char *file, const char *text, size_t len);
/* Reads the next token into t (previous text must have been freed).
 * Returns 0, or a negative code with err set at file:line:column. */
int lex_next(struct lexer *lx, struct token *t, struct err *err);
void token_release(struct token *t);
/* Sets err at the token's position: "file:line:col". Returns code. */
int lex_error(const struct lexer *lx, int line, int col, struct err *err, int code,
              const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* --- the parser's values (schema_parse.c, schema_expr.c) --- */

#include "schema/schema.h"

/* What an expression evaluates to while a schema file is read. */
enum pv_kind {
  PV_VALIDATOR, /* val (+ optional when it came from v.optional) */
  PV_OBJECT,    /* an object literal: entries in order */
  PV_TABLE,     /* table (name NULL until defineSchema names it) */
  PV_SCHEMA,    /* schema */
  PV_STRING, PV_NUMBER, PV_BIGINT, PV_BOOL, PV_NULL,
  PV_ARRAY,     /* items */
  PV_NS_V,      /* the `v` namespace of convex/values */
  PV_FN,        /* a built-in function, or a method bound to recv */
  PV_TYPE,      /* a type-only import: an error when used as a value */
};

struct pentry {
  char *key;
  struct pval *val;
};

struct pval {
  enum pv_kind kind;
  int refs;
  int line, col;
  struct validator *val;
  int optional;
  struct pentry *entries;
  size_t nentries;
  struct pval **items;
  size_t nitems;
  struct table_def table;
  struct schema *schema;
  char *str;            /* PV_STRING text, PV_FN name, PV_TYPE name */
  size_t len;
  double num;
  long long bigint;
  int boolean;
  struct pval *recv;    /* PV_FN bound to a receiver (table.index) */
};

struct binding {
  char *name;
  struct pval *val;
  int exported;
};

struct module {
  char *path;
  struct binding *bindings;
  size_t nbindings;
  struct pval *default_export;
  int loading;
};

struct parser {
  const struct schema_source *src;
  struct err *err;
  struct module **mods;
  size_t nmods;
  int depth;
  long ntokens;
};

/* One file being read. */
struct pstate {
  struct parser *ps;
  struct module *mod;
  struct lexer lx;
  struct token cur;
  int prev_line;
  int depth;           /* expressions being parsed, one inside the other */
};

struct pval *pval_new(enum pv_kind kind, int line, int col);
struct pval *pval_ref(struct pval *v);
void pval_unref(struct pval *v);
void table_def_release(struct table_def *t);
int table_def_copy(struct table_def *dst, const struct table_def *src);

/* Token stream helpers (schema_parse.c). */
int ps_advance(struct pstate *st);
int ps_is(const struct pstate *st, char punct);
int ps_is_ident(const struct pstate *st, const char *word);
int ps_expect(struct pstate *st, char punct, const char *what);
int ps_error(struct pstate *st, int line, int col, const char *fmt, ...)
  __attribute__((format(printf, 4, 5)));
struct pval *ps_lookup(struct pstate *st, const char *name);

/* The embedded-file source, and the built-in value of authTables. */
int schema_read_embedded(void *ctx, const char *path, char **text, size_t *len);
struct pval *auth_tables_value(int line, int col);

/* Expressions (schema_expr.c): parses one expression at st->cur. */
int parse_expr(struct pstate *st, struct pval **out);
/* The built-in value of a name imported from a Convex module, or NULL. */
struct pval *builtin_import(const char *module, const char *name, int line, int col);

#endif
