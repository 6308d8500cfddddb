/* schema_parse: reads schema files written as Convex's `convex/schema.ts`.
 *
 * Main idea: a file is a list of statements (imports, const declarations,
 * exports; type declarations are skipped); each const's expression is
 * evaluated at once (schema_expr.c) into a parser value, so a later name
 * refers to a finished validator or table. Relative imports load sibling
 * files through the schema_source, each module once, cycles refused. The
 * entry file's default export must be a defineSchema(...) value. Anything
 * this subset does not understand is an error at file:line:column. */
#include "schema/schema_int.h"
#include "util/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_IMPORT_DEPTH 32
#define MAX_MODULES 256

/* --- parser values --- */

struct pval *pval_new(enum pv_kind kind, int line, int col)
{
  struct pval *v = one_calloc(1, sizeof *v);
  if (v) {
    v->kind = kind;
    v->refs = 1;
    v->line = line;
    v->col = col;
  }
  return v;
}

struct pval *pval_ref(struct pval *v)
{
  if (v)
    v->refs++;
  return v;
}

int table_def_copy(struct table_def *dst, const struct table_def *src)
{
  memset(dst, 0, sizeof *dst);
  if (src->name && !(dst->name = one_strdup(src->name)))
    return E_NOMEM;
  dst->doc = validator_ref(src->doc);
  if (src->nindexes) {
    dst->indexes = one_calloc(src->nindexes, sizeof *dst->indexes);
    if (!dst->indexes)
      goto fail;
  }
  for (size_t i = 0; i < src->nindexes; i++) {
    struct index_def *d = &dst->indexes[i];
    const struct index_def *s = &src->indexes[i];
    dst->nindexes++;
    d->name = one_strdup(s->name);
    d->fields = one_calloc(s->nfields ? s->nfields : 1, sizeof *d->fields);
    if (!d->name || !d->fields)
      goto fail;
    for (size_t k = 0; k < s->nfields; k++) {
      if (!(d->fields[k] = one_strdup(s->fields[k])))
        goto fail;
      d->nfields++;
    }
  }
  return 0;
fail:
  table_def_release(dst);
  return E_NOMEM;
}

void pval_unref(struct pval *v)
{
  if (!v || --v->refs > 0)
    return;
  validator_unref(v->val);
  for (size_t i = 0; i < v->nentries; i++) {
    one_free(v->entries[i].key);
    pval_unref(v->entries[i].val);
  }
  one_free(v->entries);
  for (size_t i = 0; i < v->nitems; i++)
    pval_unref(v->items[i]);
  one_free(v->items);
  table_def_release(&v->table);
  schema_free(v->schema);
  one_free(v->str);
  pval_unref(v->recv);
  one_free(v);
}

/* --- tokens --- */

int ps_error(struct pstate *st, int line, int col, const char *fmt, ...)
{
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return lex_error(&st->lx, line, col, st->ps->err, E_PARSE, "%s", msg);
}

int ps_advance(struct pstate *st)
{
  st->prev_line = st->cur.line;
  token_release(&st->cur);
  if (++st->ps->ntokens > SCHEMA_MAX_TOKENS)
    return ps_error(st, st->lx.line, st->lx.col, "schema too large (over %d tokens)",
                    SCHEMA_MAX_TOKENS);
  return lex_next(&st->lx, &st->cur, st->ps->err);
}

int ps_is(const struct pstate *st, char punct)
{
  return st->cur.kind == T_PUNCT && st->cur.punct == punct;
}

int ps_is_ident(const struct pstate *st, const char *word)
{
  return st->cur.kind == T_IDENT && strcmp(st->cur.text, word) == 0;
}

static const char *describe(const struct token *t)
{
  switch (t->kind) {
  case T_EOF: return "end of file";
  case T_IDENT: return "a name";
  case T_STRING: return "a string";
  case T_NUMBER: return "a number";
  case T_ELLIPSIS: return "'...'";
  case T_ARROW: return "'=>'";
  case T_PUNCT: break;
  }
  return "punctuation";
}

int ps_expect(struct pstate *st, char punct, const char *what)
{
  if (!ps_is(st, punct)) {
    if (st->cur.kind == T_PUNCT)
      return ps_error(st, st->cur.line, st->cur.col, "expected '%c' %s, found '%c'", punct,
                      what, st->cur.punct);
    if (st->cur.kind == T_IDENT)
      return ps_error(st, st->cur.line, st->cur.col, "expected '%c' %s, found '%s'", punct,
                      what, st->cur.text);
    return ps_error(st, st->cur.line, st->cur.col, "expected '%c' %s, found %s", punct, what,
                    describe(&st->cur));
  }
  return ps_advance(st);
}

/* --- modules and bindings --- */

static void module_free(struct module *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->nbindings; i++) {
    one_free(m->bindings[i].name);
    pval_unref(m->bindings[i].val);
  }
  one_free(m->bindings);
  pval_unref(m->default_export);
  one_free(m->path);
  one_free(m);
}

static struct binding *find_binding(struct module *m, const char *name)
{
  for (size_t i = 0; i < m->nbindings; i++)
    if (strcmp(m->bindings[i].name, name) == 0)
      return &m->bindings[i];
  return NULL;
}

struct pval *ps_lookup(struct pstate *st, const char *name)
{
  struct binding *b = find_binding(st->mod, name);
  return b ? b->val : NULL;
}

/* Binds name to val (the binding takes the reference). */
static int bind(struct pstate *st, const char *name, struct pval *val, int exported, int line,
                int col)
{
  if (find_binding(st->mod, name)) {
    pval_unref(val);
    return ps_error(st, line, col, "'%s' is already declared in this file", name);
  }
  struct binding *nb = one_realloc(st->mod->bindings,
                                   (st->mod->nbindings + 1) * sizeof *nb);
  char *copy = one_strdup(name);
  if (!nb || !copy) {
    if (nb)
      st->mod->bindings = nb;
    one_free(copy);
    pval_unref(val);
    return err_set(st->ps->err, E_NOMEM, "out of memory");
  }
  st->mod->bindings = nb;
  nb[st->mod->nbindings++] = (struct binding){copy, val, exported};
  return 0;
}

/* Joins dir of `from` with the relative `spec`, folding "." and "..". */
static char *join_path(const char *from, const char *spec)
{
  char buf[4096];
  const char *slash = strrchr(from, '/');
  size_t dirlen = slash ? (size_t)(slash - from) : 0;
  if (dirlen + strlen(spec) + 2 > sizeof buf)
    return NULL;
  snprintf(buf, sizeof buf, "%.*s%s%s", (int)dirlen, from, dirlen ? "/" : "", spec);
  /* fold segments */
  char *segs[512];
  size_t n = 0;
  int absolute = buf[0] == '/';
  for (char *save = NULL, *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
    if (strcmp(s, ".") == 0)
      continue;
    if (strcmp(s, "..") == 0 && n > 0 && strcmp(segs[n - 1], "..") != 0) {
      n--;
      continue;
    }
    if (n == 512)
      return NULL;
    segs[n++] = s;
  }
  char out[4096];
  size_t o = 0;
  if (absolute)
    out[o++] = '/';
  for (size_t i = 0; i < n; i++) {
    int w = snprintf(out + o, sizeof out - o, "%s%s", i ? "/" : "", segs[i]);
    if (w < 0 || (size_t)w >= sizeof out - o)
      return NULL;
    o += (size_t)w;
  }
  out[o] = '\0';
  return one_strdup(out);
}

static int load_module(struct parser *ps, const char *path, const char *text, size_t len,
                       struct module **out);

static int has_suffix(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Finds and loads the module a relative import names. */
static int import_module(struct pstate *st, const char *spec, int line, int col,
                         struct module **out)
{
  char *base = join_path(st->mod->path, spec);
  if (!base)
    return ps_error(st, line, col, "import path too long: '%s'", spec);
  if (has_suffix(base, ".js"))
    base[strlen(base) - 3] = '\0';
  char cand[3][4200];
  int ncand = 0;
  if (has_suffix(base, ".ts"))
    snprintf(cand[ncand++], sizeof cand[0], "%s", base);
  snprintf(cand[ncand++], sizeof cand[0], "%s.ts", base);
  snprintf(cand[ncand++], sizeof cand[0], "%s/index.ts", base);
  one_free(base);
  for (int i = 0; i < ncand; i++) {
    for (size_t m = 0; m < st->ps->nmods; m++) {
      struct module *mod = st->ps->mods[m];
      if (strcmp(mod->path, cand[i]) == 0) {
        if (mod->loading)
          return ps_error(st, line, col, "import cycle: '%s' imports '%s', which is still loading",
                          st->mod->path, cand[i]);
        *out = mod;
        return 0;
      }
    }
    char *text = NULL;
    size_t len = 0;
    if (st->ps->src->read(st->ps->src->ctx, cand[i], &text, &len) != 0)
      continue;
    if (st->ps->depth >= MAX_IMPORT_DEPTH) {
      one_free(text);
      return ps_error(st, line, col, "imports nested deeper than %d files", MAX_IMPORT_DEPTH);
    }
    st->ps->depth++;
    int rc = load_module(st->ps, cand[i], text, len, out);
    st->ps->depth--;
    one_free(text);
    return rc;
  }
  return ps_error(st, line, col, "cannot find module '%s' (looked for %s and %s)", spec,
                  cand[ncand - 2], cand[ncand - 1]);
}

/* import { a, b as c } from "m";  import x from "m";  import type … */
static int parse_import(struct pstate *st)
{
  int rc = ps_advance(st); /* import */
  if (rc)
    return rc;
  int type_only = 0;
  if (ps_is_ident(st, "type")) {
    type_only = 1;
    if ((rc = ps_advance(st)))
      return rc;
  }
  struct { char *name, *local; int line, col, type_only; } names[256];
  size_t n = 0;
  char *default_name = NULL;
  int dline = 0, dcol = 0;
  if (st->cur.kind == T_STRING) { /* import "./side-effect" */
    rc = ps_error(st, st->cur.line, st->cur.col, "an import must name what it imports");
    return rc;
  }
  if (st->cur.kind == T_IDENT && !ps_is_ident(st, "from")) {
    dline = st->cur.line;
    dcol = st->cur.col;
    default_name = one_strdup(st->cur.text);
    if (!default_name)
      return err_set(st->ps->err, E_NOMEM, "out of memory");
    if ((rc = ps_advance(st)))
      goto out;
    if (ps_is(st, ',') && (rc = ps_advance(st)))
      goto out;
  }
  if (ps_is(st, '*')) {
    rc = ps_error(st, st->cur.line, st->cur.col,
                  "'import * as' is not supported; import names with { … }");
    goto out;
  }
  if (ps_is(st, '{')) {
    if ((rc = ps_advance(st)))
      goto out;
    while (!ps_is(st, '}')) {
      int this_type = type_only;
      if (ps_is_ident(st, "type")) {
        this_type = 1;
        if ((rc = ps_advance(st)))
          goto out;
      }
      if (st->cur.kind != T_IDENT) {
        rc = ps_error(st, st->cur.line, st->cur.col, "expected a name to import");
        goto out;
      }
      if (n == 256) {
        rc = ps_error(st, st->cur.line, st->cur.col, "too many names in one import");
        goto out;
      }
      names[n].name = one_strdup(st->cur.text);
      names[n].local = NULL;
      names[n].line = st->cur.line;
      names[n].col = st->cur.col;
      names[n].type_only = this_type;
      n++;
      if (!names[n - 1].name) {
        rc = err_set(st->ps->err, E_NOMEM, "out of memory");
        goto out;
      }
      if ((rc = ps_advance(st)))
        goto out;
      if (ps_is_ident(st, "as")) {
        if ((rc = ps_advance(st)))
          goto out;
        if (st->cur.kind != T_IDENT) {
          rc = ps_error(st, st->cur.line, st->cur.col, "expected a name after 'as'");
          goto out;
        }
        if (!(names[n - 1].local = one_strdup(st->cur.text))) {
          rc = err_set(st->ps->err, E_NOMEM, "out of memory");
          goto out;
        }
        if ((rc = ps_advance(st)))
          goto out;
      }
      if (!ps_is(st, '}') && (rc = ps_expect(st, ',', "between imported names")))
        goto out;
    }
    if ((rc = ps_advance(st)))
      goto out;
  }
  if (!ps_is_ident(st, "from")) {
    rc = ps_error(st, st->cur.line, st->cur.col, "expected 'from' in import");
    goto out;
  }
  if ((rc = ps_advance(st)))
    goto out;
  if (st->cur.kind != T_STRING) {
    rc = ps_error(st, st->cur.line, st->cur.col, "expected a module name string after 'from'");
    goto out;
  }
  char *spec = st->cur.text;
  int sline = st->cur.line, scol = st->cur.col;
  st->cur.text = NULL;
  if ((rc = ps_advance(st))) {
    one_free(spec);
    goto out;
  }
  if (ps_is(st, ';'))
    rc = ps_advance(st);
  struct module *mod = NULL;
  int relative = spec[0] == '.';
  if (relative && strstr(spec, "_generated/")) /* Convex's generated types */
    for (size_t i = 0; i < n; i++)
      names[i].type_only = 1;
  int all_types = 1;
  for (size_t i = 0; i < n; i++)
    all_types &= names[i].type_only;
  if (!rc && relative && !(all_types && !default_name))
    rc = import_module(st, spec, sline, scol, &mod);
  for (size_t i = 0; !rc && i < n; i++) {
    const char *local = names[i].local ? names[i].local : names[i].name;
    struct pval *val = NULL;
    if (names[i].type_only) {
      val = pval_new(PV_TYPE, names[i].line, names[i].col);
      if (val && !(val->str = one_strdup(names[i].name))) {
        pval_unref(val);
        val = NULL;
      }
      if (!val)
        rc = err_set(st->ps->err, E_NOMEM, "out of memory");
    } else if (relative) {
      struct binding *b = find_binding(mod, names[i].name);
      if (!b || !b->exported)
        rc = ps_error(st, names[i].line, names[i].col, "module '%s' has no export named '%s'",
                      spec, names[i].name);
      else
        val = pval_ref(b->val);
    } else {
      val = builtin_import(spec, names[i].name, names[i].line, names[i].col);
      if (!val)
        rc = ps_error(st, names[i].line, names[i].col,
                      "cannot import from '%s': a schema may import only relative files, "
                      "convex/server, convex/values and @convex-dev/auth/server", spec);
    }
    if (!rc)
      rc = bind(st, local, val, 0, names[i].line, names[i].col);
  }
  if (!rc && default_name) {
    if (!relative) {
      rc = ps_error(st, dline, dcol, "module '%s' has no default export ONE knows", spec);
    } else if (!mod->default_export) {
      rc = ps_error(st, dline, dcol, "module '%s' has no default export", spec);
    } else {
      rc = bind(st, default_name, pval_ref(mod->default_export), 0, dline, dcol);
    }
  }
  one_free(spec);
out:
  for (size_t i = 0; i < n; i++) {
    one_free(names[i].name);
    one_free(names[i].local);
  }
  one_free(default_name);
  return rc;
}

static int is_statement_word(const struct token *t)
{
  static const char *words[] = {"import", "export", "const", "let", "var", "type", "interface"};
  if (t->kind != T_IDENT)
    return 0;
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (strcmp(t->text, words[i]) == 0)
      return 1;
  return 0;
}

static int bracket_depth_change(const struct token *t)
{
  if (t->kind != T_PUNCT)
    return 0;
  switch (t->punct) {
  case '(': case '[': case '{': case '<': return 1;
  case ')': case ']': case '}': case '>': return -1;
  }
  return 0;
}

/* Skips a TypeScript type: until one of `stops` at bracket depth 0, or (when
 * at_newline) a statement word starting a new line. */
static int skip_type(struct pstate *st, const char *stops, int at_newline)
{
  int depth = 0, rc;
  int line = st->cur.line, col = st->cur.col;
  for (;;) {
    if (st->cur.kind == T_EOF)
      return depth ? ps_error(st, line, col, "unterminated type") : 0;
    if (depth == 0 && st->cur.kind == T_PUNCT && strchr(stops, st->cur.punct))
      return 0;
    if (depth == 0 && at_newline && st->cur.line > st->prev_line && is_statement_word(&st->cur))
      return 0;
    depth += bracket_depth_change(&st->cur);
    if (depth < 0)
      return 0;
    if ((rc = ps_advance(st)))
      return rc;
  }
}

/* type X = …;   interface X [extends Y] { … } */
static int skip_type_declaration(struct pstate *st)
{
  int interface = ps_is_ident(st, "interface");
  int rc = ps_advance(st);
  if (rc)
    return rc;
  if (!interface) {
    if ((rc = skip_type(st, ";", 1)))
      return rc;
    return ps_is(st, ';') ? ps_advance(st) : 0;
  }
  if ((rc = skip_type(st, "{", 0)))
    return rc;
  if (!ps_is(st, '{'))
    return ps_error(st, st->cur.line, st->cur.col, "expected '{' to start the interface body");
  int depth = 0, line = st->cur.line, col = st->cur.col;
  do { /* through the matching '}' */
    if (st->cur.kind == T_EOF)
      return ps_error(st, line, col, "unterminated interface body");
    if (st->cur.kind == T_PUNCT && strchr("({[", st->cur.punct))
      depth++;
    else if (st->cur.kind == T_PUNCT && strchr(")}]", st->cur.punct))
      depth--;
    if ((rc = ps_advance(st)))
      return rc;
  } while (depth > 0);
  return 0;
}

/* const NAME [: Type] = expr; */
static int parse_const(struct pstate *st, int exported)
{
  int rc = ps_advance(st); /* const / let / var */
  if (rc)
    return rc;
  if (st->cur.kind != T_IDENT)
    return ps_error(st, st->cur.line, st->cur.col,
                    "expected a name after 'const' (destructuring is not supported)");
  int line = st->cur.line, col = st->cur.col;
  char *name = st->cur.text;
  st->cur.text = NULL;
  if ((rc = ps_advance(st)))
    goto out;
  if (ps_is(st, ':')) {
    if ((rc = ps_advance(st)) || (rc = skip_type(st, "=;", 0)))
      goto out;
  }
  if ((rc = ps_expect(st, '=', "after the declared name")))
    goto out;
  struct pval *val = NULL;
  if ((rc = parse_expr(st, &val)))
    goto out;
  if ((rc = bind(st, name, val, exported, line, col)))
    goto out;
  if (ps_is(st, ';'))
    rc = ps_advance(st);
out:
  one_free(name);
  return rc;
}

/* export { a, b as c }; */
static int parse_export_list(struct pstate *st)
{
  int rc = ps_advance(st); /* { */
  while (!rc && !ps_is(st, '}')) {
    if (st->cur.kind != T_IDENT)
      return ps_error(st, st->cur.line, st->cur.col, "expected a name to export");
    int line = st->cur.line, col = st->cur.col;
    char *name = st->cur.text;
    st->cur.text = NULL;
    char *as = NULL;
    if (!(rc = ps_advance(st)) && ps_is_ident(st, "as")) {
      if (!(rc = ps_advance(st))) {
        if (st->cur.kind != T_IDENT)
          rc = ps_error(st, st->cur.line, st->cur.col, "expected a name after 'as'");
        else {
          as = st->cur.text;
          st->cur.text = NULL;
          rc = ps_advance(st);
        }
      }
    }
    if (!rc) {
      struct binding *b = find_binding(st->mod, name);
      if (!b)
        rc = ps_error(st, line, col, "cannot export '%s': it is not declared in this file", name);
      else if (!as)
        b->exported = 1;
      else if (strcmp(as, "default") == 0) {
        pval_unref(st->mod->default_export);
        st->mod->default_export = pval_ref(b->val);
      } else
        rc = bind(st, as, pval_ref(b->val), 1, line, col);
    }
    one_free(name);
    one_free(as);
    if (!rc && !ps_is(st, '}'))
      rc = ps_expect(st, ',', "between exported names");
  }
  if (!rc && ps_is_ident(st, "from"))
    return ps_error(st, st->cur.line, st->cur.col,
                    "'export … from' is not supported; import the names, then export them");
  if (!rc)
    rc = ps_advance(st);
  if (!rc && ps_is(st, ';'))
    rc = ps_advance(st);
  return rc;
}

static int parse_export(struct pstate *st)
{
  int rc = ps_advance(st); /* export */
  if (rc)
    return rc;
  if (ps_is_ident(st, "const") || ps_is_ident(st, "let") || ps_is_ident(st, "var"))
    return parse_const(st, 1);
  if (ps_is_ident(st, "type") || ps_is_ident(st, "interface"))
    return skip_type_declaration(st);
  if (ps_is(st, '{'))
    return parse_export_list(st);
  if (ps_is_ident(st, "default")) {
    int line = st->cur.line, col = st->cur.col;
    if ((rc = ps_advance(st)))
      return rc;
    if (st->mod->default_export)
      return ps_error(st, line, col, "this file already has a default export");
    if ((rc = parse_expr(st, &st->mod->default_export)))
      return rc;
    return ps_is(st, ';') ? ps_advance(st) : 0;
  }
  return ps_error(st, st->cur.line, st->cur.col,
                  "expected const, default, type or { … } after 'export'");
}

static int parse_statements(struct pstate *st)
{
  int rc = 0;
  while (!rc && st->cur.kind != T_EOF) {
    if (ps_is(st, ';'))
      rc = ps_advance(st);
    else if (ps_is_ident(st, "import"))
      rc = parse_import(st);
    else if (ps_is_ident(st, "export"))
      rc = parse_export(st);
    else if (ps_is_ident(st, "const") || ps_is_ident(st, "let") || ps_is_ident(st, "var"))
      rc = parse_const(st, 0);
    else if (ps_is_ident(st, "type") || ps_is_ident(st, "interface"))
      rc = skip_type_declaration(st);
    else if (st->cur.kind == T_IDENT)
      rc = ps_error(st, st->cur.line, st->cur.col,
                    "'%s' is not supported here: a schema file holds imports, const "
                    "declarations, exports and types", st->cur.text);
    else
      rc = ps_error(st, st->cur.line, st->cur.col,
                    "expected a declaration (import, const, export)");
  }
  return rc;
}

static int load_module(struct parser *ps, const char *path, const char *text, size_t len,
                       struct module **out)
{
  if (ps->nmods >= MAX_MODULES)
    return err_set(ps->err, E_PARSE, "too many schema files (over %d)", MAX_MODULES);
  struct module *m = one_calloc(1, sizeof *m);
  struct module **mods = one_realloc(ps->mods, (ps->nmods + 1) * sizeof *mods);
  if (mods)
    ps->mods = mods;
  if (!m || !mods || !(m->path = one_strdup(path))) {
    module_free(m);
    return err_set(ps->err, E_NOMEM, "out of memory");
  }
  ps->mods[ps->nmods++] = m;
  m->loading = 1;
  struct pstate st;
  memset(&st, 0, sizeof st);
  st.ps = ps;
  st.mod = m;
  lex_init(&st.lx, m->path, text, len);
  int rc = lex_next(&st.lx, &st.cur, ps->err);
  if (!rc)
    rc = parse_statements(&st);
  token_release(&st.cur);
  m->loading = 0;
  *out = m;
  return rc;
}

static int finish(struct parser *ps, struct module *entry, struct schema **out)
{
  struct pval *d = entry->default_export;
  if (!d)
    return err_set_at(ps->err, E_PARSE, entry->path,
                      "%s: no `export default defineSchema({...})` found", entry->path);
  if (d->kind != PV_SCHEMA) {
    char where[300];
    snprintf(where, sizeof where, "%s:%d:%d", entry->path, d->line, d->col);
    return err_set_at(ps->err, E_PARSE, where,
                      "the default export must be defineSchema({...})");
  }
  *out = d->schema;
  d->schema = NULL;
  return 0;
}

int schema_parse(const struct schema_source *src, const char *entry, struct schema **out,
                 struct err *err)
{
  struct parser ps = {src, err, NULL, 0, 0, 0};
  char *text = NULL;
  size_t len = 0;
  *out = NULL;
  if (src->read(src->ctx, entry, &text, &len) != 0)
    return err_set_at(err, E_NOTFOUND, entry, "cannot read schema file '%s'", entry);
  struct module *m = NULL;
  int rc = load_module(&ps, entry, text, len, &m);
  one_free(text);
  if (!rc)
    rc = finish(&ps, m, out);
  for (size_t i = 0; i < ps.nmods; i++)
    module_free(ps.mods[i]);
  one_free(ps.mods);
  if (rc && err && !err->msg[0]) /* a path that forgot to say why */
    err_set(err, rc, "%s", err_message(rc));
  if (rc && err && !err->where[0] && err->code == E_NOMEM)
    snprintf(err->where, sizeof err->where, "%s", entry);
  return rc;
}

struct text_source {
  const char *name, *text;
  size_t len;
};

static int read_text(void *ctx, const char *path, char **text, size_t *len)
{
  struct text_source *ts = ctx;
  if (strcmp(path, ts->name) != 0)
    return -1;
  *text = one_strndup(ts->text, ts->len);
  *len = ts->len;
  return *text ? 0 : -1;
}

int schema_parse_text(const char *text, size_t len, const char *filename,
                      struct schema **out, struct err *err)
{
  struct text_source ts = {filename, text, len};
  struct schema_source src = {read_text, &ts};
  return schema_parse(&src, filename, out, err);
}

/* The value of `authTables` from @convex-dev/auth/server: read from the
 * built-in file schema/builtin/convex-auth.ts, which declares the Convex
 * Auth tables in the schema language. NULL if it cannot be read. */
struct pval *auth_tables_value(int line, int col)
{
  struct schema_source src = {schema_read_embedded, NULL};
  struct err err = ERR_INIT;
  struct parser ps = {&src, &err, NULL, 0, 0, 0};
  const char *path = "schema/builtin/convex-auth.ts";
  char *text = NULL;
  size_t len = 0;
  struct pval *val = NULL;
  struct module *m = NULL;
  if (src.read(NULL, path, &text, &len) == 0 && load_module(&ps, path, text, len, &m) == 0) {
    struct binding *b = find_binding(m, "authTables");
    if (b && b->val->kind == PV_OBJECT) {
      val = pval_ref(b->val);
      val->line = line;
      val->col = col;
    }
  }
  one_free(text);
  for (size_t i = 0; i < ps.nmods; i++)
    module_free(ps.mods[i]);
  one_free(ps.mods);
  err_clear(&err);
  return val;
}
