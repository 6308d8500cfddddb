/* schema_expr: evaluates the expressions of a schema file.
 *
 * An expression is a primary (name, string, number, object or array
 * literal, parenthesised expression) followed by member accesses and calls:
 * `v.array(v.string())`, `defineTable({...}).index("by_x", ["x"])`,
 * `someObjectValidator.fields`. Values are built as they are read, so every
 * error is reported at the position of the expression that caused it. */
#include "schema/schema_int.h"
#include "util/jv.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int nomem(struct pstate *st) { return err_set(st->ps->err, E_NOMEM, "out of memory"); }

static const char *kind_name(enum pv_kind k)
{
  switch (k) {
  case PV_VALIDATOR: return "a validator";
  case PV_OBJECT: return "an object";
  case PV_TABLE: return "a table";
  case PV_SCHEMA: return "a schema";
  case PV_STRING: return "a string";
  case PV_NUMBER: case PV_BIGINT: return "a number";
  case PV_BOOL: return "a boolean";
  case PV_NULL: return "null";
  case PV_ARRAY: return "an array";
  case PV_NS_V: return "the v namespace";
  case PV_FN: return "a function";
  case PV_TYPE: return "a type";
  }
  return "a value";
}

static int set_depth(struct pstate *st, struct validator *v, int line, int col);

/* --- the v.* validators --- */

static const char *const v_names[] = {
  "string", "number", "float64", "int64", "bigint", "boolean", "bytes", "null", "any",
  "id", "literal", "array", "object", "record", "union", "optional", "nullable", NULL,
};

static int is_v_name(const char *name)
{
  for (const char *const *n = v_names; *n; n++)
    if (strcmp(*n, name) == 0)
      return 1;
  return 0;
}

struct pval *builtin_import(const char *module, const char *name, int line, int col)
{
  struct pval *p = NULL;
  if (strcmp(module, "convex/values") == 0 && strcmp(name, "v") == 0) {
    p = pval_new(PV_NS_V, line, col);
  } else if (strcmp(module, "convex/server") == 0 &&
             (strcmp(name, "defineSchema") == 0 || strcmp(name, "defineTable") == 0)) {
    p = pval_new(PV_FN, line, col);
    if (p && !(p->str = one_strdup(name))) {
      pval_unref(p);
      p = NULL;
    }
    return p;
  } else if (strcmp(module, "@convex-dev/auth/server") == 0 && strcmp(name, "authTables") == 0) {
    return auth_tables_value(line, col);
  } else if (strcmp(module, "convex/values") == 0 || strcmp(module, "convex/server") == 0 ||
             strcmp(module, "@convex-dev/auth/server") == 0) {
    p = pval_new(PV_TYPE, line, col); /* a type, or a runtime value schemas do not use */
    if (p && !(p->str = one_strdup(name))) {
      pval_unref(p);
      p = NULL;
    }
  }
  return p;
}

static struct pval *validator_value(struct validator *v, int line, int col)
{
  struct pval *p = v ? pval_new(PV_VALIDATOR, line, col) : NULL;
  if (p)
    p->val = v;
  else
    validator_unref(v);
  return p;
}

/* A validator argument, refusing v.optional outside object fields. */
static int want_validator(struct pstate *st, struct pval *arg, const char *fn)
{
  if (arg->kind != PV_VALIDATOR)
    return ps_error(st, arg->line, arg->col, "%s expects a validator, got %s", fn,
                    kind_name(arg->kind));
  if (arg->optional)
    return ps_error(st, arg->line, arg->col,
                    "v.optional(...) is allowed only as the type of an object field");
  return 0;
}

static int field_name_ok(const char *name)
{
  if (!name[0] || name[0] == '$')
    return 0;
  for (const char *c = name; *c; c++)
    if (*c < 0x20 || *c > 0x7e)
      return 0;
  return 1;
}

/* Turns an object literal of validators into a v.object validator. */
static int object_validator(struct pstate *st, struct pval *obj, struct validator **out)
{
  struct validator *v = validator_new(VK_OBJECT);
  if (!v || (obj->nentries && !(v->fields = one_calloc(obj->nentries, sizeof *v->fields)))) {
    validator_unref(v);
    return nomem(st);
  }
  if (obj->nentries > SCHEMA_MAX_FIELDS) {
    validator_unref(v);
    return ps_error(st, obj->line, obj->col, "an object may have at most %d fields",
                    SCHEMA_MAX_FIELDS);
  }
  for (size_t i = 0; i < obj->nentries; i++) {
    struct pval *f = obj->entries[i].val;
    if (f->kind != PV_VALIDATOR) {
      validator_unref(v);
      return ps_error(st, f->line, f->col, "field '%s' must be a validator, got %s",
                      obj->entries[i].key, kind_name(f->kind));
    }
    if (!field_name_ok(obj->entries[i].key)) {
      validator_unref(v);
      return ps_error(st, f->line, f->col, "invalid field name '%s': field names are "
                      "non-empty printable ASCII and do not start with '$'",
                      obj->entries[i].key);
    }
    struct vfield *vf = &v->fields[v->nfields];
    if (!(vf->name = one_strdup(obj->entries[i].key))) {
      validator_unref(v);
      return nomem(st);
    }
    vf->optional = f->optional;
    vf->type = validator_ref(f->val);
    v->nfields++;
  }
  *out = v;
  return 0;
}

static int literal_json(struct pstate *st, struct pval *a, json_t **out)
{
  switch (a->kind) {
  case PV_STRING: *out = json_stringn(a->str, a->len); break;
  case PV_NUMBER: *out = jv_float(a->num); break;
  case PV_BIGINT: *out = json_integer(a->bigint); break;
  case PV_BOOL: *out = json_boolean(a->boolean); break;
  default:
    return ps_error(st, a->line, a->col,
                    "v.literal expects a string, number, bigint or boolean, got %s",
                    kind_name(a->kind));
  }
  return *out ? 0 : nomem(st);
}

static int call_v(struct pstate *st, const char *name, struct pval **args, size_t nargs,
                  int line, int col, struct pval **out)
{
  static const struct { const char *name; enum vkind kind; } simple[] = {
    {"string", VK_STRING}, {"number", VK_FLOAT64}, {"float64", VK_FLOAT64},
    {"int64", VK_INT64}, {"bigint", VK_INT64}, {"boolean", VK_BOOLEAN},
    {"bytes", VK_BYTES}, {"null", VK_NULL}, {"any", VK_ANY},
  };
  char fn[32];
  snprintf(fn, sizeof fn, "v.%s", name);
  for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
    if (strcmp(name, simple[i].name) != 0)
      continue;
    if (nargs)
      return ps_error(st, line, col, "%s() takes no arguments", fn);
    *out = validator_value(validator_new(simple[i].kind), line, col);
    return *out ? 0 : nomem(st);
  }
  int rc;
  struct validator *v = NULL;
  int optional = 0;
  if (strcmp(name, "union") == 0) {
    if (nargs == 0)
      return ps_error(st, line, col, "v.union() needs at least one member");
    v = validator_new(VK_UNION);
    if (!v || !(v->members = one_calloc(nargs, sizeof *v->members))) {
      validator_unref(v);
      return nomem(st);
    }
    for (size_t i = 0; i < nargs; i++) {
      if ((rc = want_validator(st, args[i], fn))) {
        validator_unref(v);
        return rc;
      }
      v->members[v->nmembers++] = validator_ref(args[i]->val);
    }
  } else {
    size_t want = strcmp(name, "record") == 0 ? 2 : 1;
    if (nargs != want)
      return ps_error(st, line, col, "%s takes %zu argument%s, got %zu", fn, want,
                      want > 1 ? "s" : "", nargs);
    struct pval *a = args[0];
    if (strcmp(name, "id") == 0) {
      if (a->kind != PV_STRING)
        return ps_error(st, a->line, a->col, "v.id expects a table name string");
      if (!schema_table_name_ok(a->str, a->len) || strlen(a->str) != a->len)
        return ps_error(st, a->line, a->col, "v.id(\"%s\"): not a valid table name", a->str);
      v = validator_new(VK_ID);
      if (!v || !(v->table = one_strdup(a->str))) {
        validator_unref(v);
        return nomem(st);
      }
    } else if (strcmp(name, "literal") == 0) {
      v = validator_new(VK_LITERAL);
      if (!v)
        return nomem(st);
      if ((rc = literal_json(st, a, &v->literal))) {
        validator_unref(v);
        return rc;
      }
    } else if (strcmp(name, "object") == 0) {
      if (a->kind != PV_OBJECT)
        return ps_error(st, a->line, a->col, "v.object expects an object of fields, got %s",
                        kind_name(a->kind));
      if ((rc = object_validator(st, a, &v)))
        return rc;
    } else if (strcmp(name, "array") == 0) {
      if ((rc = want_validator(st, a, fn)))
        return rc;
      if (!(v = validator_new(VK_ARRAY)))
        return nomem(st);
      v->elem = validator_ref(a->val);
    } else if (strcmp(name, "record") == 0) {
      if ((rc = want_validator(st, a, fn)) || (rc = want_validator(st, args[1], fn)))
        return rc;
      if (!(v = validator_new(VK_RECORD)))
        return nomem(st);
      v->elem = validator_ref(a->val);
      v->value = validator_ref(args[1]->val);
    } else if (strcmp(name, "optional") == 0) {
      if ((rc = want_validator(st, a, fn)))
        return rc;
      v = validator_ref(a->val);
      optional = 1;
    } else if (strcmp(name, "nullable") == 0) {
      if ((rc = want_validator(st, a, fn)))
        return rc;
      if (!(v = validator_new(VK_UNION)) || !(v->members = one_calloc(2, sizeof *v->members)) ||
          !(v->members[1] = validator_new(VK_NULL))) {
        validator_unref(v);
        return nomem(st);
      }
      v->members[0] = validator_ref(a->val);
      v->nmembers = 2;
    }
  }
  if (!optional && (rc = set_depth(st, v, line, col))) {
    validator_unref(v);
    return rc;
  }
  *out = validator_value(v, line, col);
  if (!*out)
    return nomem(st);
  (*out)->optional = optional;
  return 0;
}

/* Sets v's depth from its children; refuses validators nested too deep. */
static int set_depth(struct pstate *st, struct validator *v, int line, int col)
{
  int d = 0;
  if (v->elem && v->elem->depth > d)
    d = v->elem->depth;
  if (v->value && v->value->depth > d)
    d = v->value->depth;
  for (size_t i = 0; i < v->nfields; i++)
    if (v->fields[i].type->depth > d)
      d = v->fields[i].type->depth;
  for (size_t i = 0; i < v->nmembers; i++)
    if (v->members[i]->depth > d)
      d = v->members[i]->depth;
  v->depth = d + 1;
  if (v->depth > SCHEMA_MAX_VALIDATOR_DEPTH)
    return ps_error(st, line, col, "validator nested deeper than %d levels",
                    SCHEMA_MAX_VALIDATOR_DEPTH);
  return 0;
}

/* --- tables and schemas --- */

/* A table's validator must be an object or a union of objects. */
static int table_doc_ok(const struct validator *v)
{
  if (v->kind == VK_OBJECT)
    return 1;
  if (v->kind != VK_UNION)
    return 0;
  for (size_t i = 0; i < v->nmembers; i++)
    if (!table_doc_ok(v->members[i]))
      return 0;
  return 1;
}

static int call_define_table(struct pstate *st, struct pval **args, size_t nargs, int line,
                             int col, struct pval **out)
{
  if (nargs != 1)
    return ps_error(st, line, col, "defineTable takes 1 argument, got %zu", nargs);
  struct validator *doc = NULL;
  int rc;
  if (args[0]->kind == PV_OBJECT) {
    if ((rc = object_validator(st, args[0], &doc)))
      return rc;
    if ((rc = set_depth(st, doc, args[0]->line, args[0]->col))) {
      validator_unref(doc);
      return rc;
    }
  } else if (args[0]->kind == PV_VALIDATOR && !args[0]->optional) {
    doc = validator_ref(args[0]->val);
  }
  if (!doc || !table_doc_ok(doc)) {
    validator_unref(doc);
    return ps_error(st, args[0]->line, args[0]->col,
                    "defineTable expects an object of fields, v.object(...), or a union of "
                    "objects");
  }
  struct pval *t = pval_new(PV_TABLE, line, col);
  if (!t) {
    validator_unref(doc);
    return nomem(st);
  }
  t->table.doc = doc;
  *out = t;
  return 0;
}

/* Does some object shape of doc have a top-level field named like path's
 * first segment? */
static int has_field(const struct validator *doc, const char *path)
{
  size_t n = strcspn(path, ".");
  if (doc->kind == VK_UNION) {
    for (size_t i = 0; i < doc->nmembers; i++)
      if (has_field(doc->members[i], path))
        return 1;
    return 0;
  }
  for (size_t i = 0; i < doc->nfields; i++)
    if (strlen(doc->fields[i].name) == n && strncmp(doc->fields[i].name, path, n) == 0)
      return 1;
  return 0;
}

static int call_index(struct pstate *st, struct pval *recv, struct pval **args, size_t nargs,
                      int line, int col, struct pval **out)
{
  if (nargs != 2 || args[0]->kind != PV_STRING || args[1]->kind != PV_ARRAY)
    return ps_error(st, line, col, ".index expects a name and an array of field names");
  const char *name = args[0]->str;
  if (!schema_table_name_ok(name, strlen(name)) || strcmp(name, "by_id") == 0 ||
      strcmp(name, "by_creation_time") == 0)
    return ps_error(st, args[0]->line, args[0]->col,
                    "invalid index name '%s' (letters, digits and _, not starting with _; "
                    "by_id and by_creation_time are reserved)", name);
  if (table_index(&recv->table, name))
    return ps_error(st, args[0]->line, args[0]->col, "duplicate index '%s'", name);
  if (recv->table.nindexes >= SCHEMA_MAX_INDEXES)
    return ps_error(st, line, col, "a table may have at most %d indexes", SCHEMA_MAX_INDEXES);
  struct pval *fl = args[1];
  if (fl->nitems == 0 || fl->nitems > SCHEMA_MAX_INDEX_FIELDS)
    return ps_error(st, fl->line, fl->col, "an index needs 1 to %d fields",
                    SCHEMA_MAX_INDEX_FIELDS);
  for (size_t i = 0; i < fl->nitems; i++) {
    struct pval *f = fl->items[i];
    if (f->kind != PV_STRING)
      return ps_error(st, f->line, f->col, "index fields must be strings");
    if (strcmp(f->str, "_creationTime") == 0)
      return ps_error(st, f->line, f->col,
                      "_creationTime is added to every index by itself; do not list it");
    if (strcmp(f->str, "_id") != 0 && !has_field(recv->table.doc, f->str))
      return ps_error(st, f->line, f->col, "index '%s' names field '%s', which the table "
                      "does not have", name, f->str);
    for (size_t j = 0; j < i; j++)
      if (strcmp(fl->items[j]->str, f->str) == 0)
        return ps_error(st, f->line, f->col, "field '%s' is listed twice in index '%s'",
                        f->str, name);
  }
  struct pval *t = pval_new(PV_TABLE, line, col);
  if (!t || table_def_copy(&t->table, &recv->table) != 0)
    goto fail;
  struct index_def *ix = one_realloc(t->table.indexes,
                                     (t->table.nindexes + 1) * sizeof *ix);
  if (!ix)
    goto fail;
  t->table.indexes = ix;
  ix = &ix[t->table.nindexes];
  memset(ix, 0, sizeof *ix);
  t->table.nindexes++;
  if (!(ix->name = one_strdup(name)) || !(ix->fields = one_calloc(fl->nitems, sizeof(char *))))
    goto fail;
  for (size_t i = 0; i < fl->nitems; i++) {
    if (!(ix->fields[i] = one_strdup(fl->items[i]->str)))
      goto fail;
    ix->nfields++;
  }
  *out = t;
  return 0;
fail:
  pval_unref(t);
  return nomem(st);
}

static int call_define_schema(struct pstate *st, struct pval **args, size_t nargs, int line,
                              int col, struct pval **out)
{
  if (nargs < 1 || nargs > 2 || args[0]->kind != PV_OBJECT)
    return ps_error(st, line, col, "defineSchema expects an object of tables");
  if (nargs == 2) {
    struct pval *o = args[1];
    if (o->kind != PV_OBJECT)
      return ps_error(st, o->line, o->col, "defineSchema's options must be an object");
    for (size_t i = 0; i < o->nentries; i++) {
      struct pval *x = o->entries[i].val;
      int ok = x->kind == PV_BOOL &&
               (strcmp(o->entries[i].key, "strictTableNameTypes") == 0 ||
                (strcmp(o->entries[i].key, "schemaValidation") == 0 && x->boolean));
      if (!ok)
        return ps_error(st, x->line, x->col, "unsupported defineSchema option '%s' (ONE "
                        "always validates; only strictTableNameTypes and "
                        "schemaValidation: true are accepted)", o->entries[i].key);
    }
  }
  struct pval *obj = args[0];
  struct schema *s = one_calloc(1, sizeof *s);
  if (!s || (obj->nentries && !(s->tables = one_calloc(obj->nentries, sizeof *s->tables)))) {
    schema_free(s);
    return nomem(st);
  }
  for (size_t i = 0; i < obj->nentries; i++) {
    struct pval *t = obj->entries[i].val;
    if (t->kind != PV_TABLE) {
      schema_free(s);
      return ps_error(st, t->line, t->col, "'%s' must be a defineTable(...), got %s",
                      obj->entries[i].key, kind_name(t->kind));
    }
    if (!schema_table_name_ok(obj->entries[i].key, strlen(obj->entries[i].key))) {
      schema_free(s);
      return ps_error(st, t->line, t->col, "invalid table name '%s' (letters, digits and _, "
                      "not starting with _ or a digit, at most 64)", obj->entries[i].key);
    }
    if (table_def_copy(&s->tables[i], &t->table) != 0 ||
        !(s->tables[i].name = one_strdup(obj->entries[i].key))) {
      s->ntables = i + 1;
      schema_free(s);
      return nomem(st);
    }
    s->ntables = i + 1;
  }
  struct pval *p = pval_new(PV_SCHEMA, line, col);
  if (!p) {
    schema_free(s);
    return nomem(st);
  }
  p->schema = s;
  *out = p;
  return 0;
}

static int call(struct pstate *st, struct pval *fn, struct pval **args, size_t nargs, int line,
                int col, struct pval **out)
{
  if (fn->recv && fn->recv->kind == PV_NS_V)
    return call_v(st, fn->str, args, nargs, line, col, out);
  if (fn->recv && fn->recv->kind == PV_TABLE)
    return call_index(st, fn->recv, args, nargs, line, col, out);
  if (strcmp(fn->str, "defineTable") == 0)
    return call_define_table(st, args, nargs, line, col, out);
  return call_define_schema(st, args, nargs, line, col, out);
}

/* --- expressions --- */

static int parse_number(struct pstate *st, int negative, struct pval **out)
{
  struct token *t = &st->cur;
  char clean[128];
  size_t n = 0;
  for (size_t i = 0; i < t->len && n + 1 < sizeof clean; i++)
    if (t->text[i] != '_')
      clean[n++] = t->text[i];
  clean[n] = '\0';
  struct pval *p = NULL;
  char *end = NULL;
  errno = 0;
  if (n > 1 && clean[n - 1] == 'n') { /* bigint literal */
    clean[n - 1] = '\0';
    long long x = strtoll(clean, &end, 0);
    if (*end || errno)
      return ps_error(st, t->line, t->col, "invalid bigint literal '%s'", t->text);
    if (!(p = pval_new(PV_BIGINT, t->line, t->col)))
      return nomem(st);
    p->bigint = negative ? -x : x;
  } else {
    double d;
    if (n > 2 && clean[0] == '0' && (clean[1] == 'x' || clean[1] == 'X'))
      d = (double)strtoull(clean, &end, 16);
    else
      d = strtod(clean, &end);
    if (*end || !isfinite(d) || n == 0)
      return ps_error(st, t->line, t->col, "invalid number '%s'", t->text);
    if (!(p = pval_new(PV_NUMBER, t->line, t->col)))
      return nomem(st);
    p->num = negative ? -d : d;
  }
  *out = p;
  return ps_advance(st);
}

/* Sets key in obj, replacing an earlier value as JavaScript does. */
static int object_set(struct pstate *st, struct pval *obj, const char *key, struct pval *val)
{
  for (size_t i = 0; i < obj->nentries; i++) {
    if (strcmp(obj->entries[i].key, key) == 0) {
      pval_unref(obj->entries[i].val);
      obj->entries[i].val = val;
      return 0;
    }
  }
  struct pentry *e = one_realloc(obj->entries, (obj->nentries + 1) * sizeof *e);
  char *k = one_strdup(key);
  if (!e || !k) {
    if (e)
      obj->entries = e;
    one_free(k);
    pval_unref(val);
    return nomem(st);
  }
  obj->entries = e;
  e[obj->nentries++] = (struct pentry){k, val};
  return 0;
}

static int parse_object(struct pstate *st, struct pval **out)
{
  struct pval *obj = pval_new(PV_OBJECT, st->cur.line, st->cur.col);
  if (!obj)
    return nomem(st);
  int rc = ps_advance(st); /* { */
  while (!rc && !ps_is(st, '}')) {
    int line = st->cur.line, col = st->cur.col;
    if (st->cur.kind == T_ELLIPSIS) {
      struct pval *src = NULL;
      if ((rc = ps_advance(st)) || (rc = parse_expr(st, &src)))
        break;
      if (src->kind != PV_OBJECT) {
        rc = ps_error(st, line, col, "only objects can be spread with '...', got %s",
                      kind_name(src->kind));
        pval_unref(src);
        break;
      }
      for (size_t i = 0; !rc && i < src->nentries; i++)
        rc = object_set(st, obj, src->entries[i].key, pval_ref(src->entries[i].val));
      pval_unref(src);
    } else if (st->cur.kind == T_IDENT || st->cur.kind == T_STRING) {
      int is_ident = st->cur.kind == T_IDENT;
      if (st->cur.kind == T_STRING && strlen(st->cur.text) != st->cur.len) {
        rc = ps_error(st, line, col, "a field name cannot contain a NUL character");
        break;
      }
      if (!field_name_ok(st->cur.text)) {
        rc = ps_error(st, line, col, "invalid field name '%s': field names are non-empty "
                      "printable ASCII and do not start with '$'", st->cur.text);
        break;
      }
      char *key = st->cur.text;
      st->cur.text = NULL;
      if ((rc = ps_advance(st))) {
        one_free(key);
        break;
      }
      struct pval *val = NULL;
      if (is_ident && (ps_is(st, ',') || ps_is(st, '}'))) { /* shorthand { name } */
        val = pval_ref(ps_lookup(st, key));
        if (!val)
          rc = ps_error(st, line, col, "unknown name '%s'", key);
      } else if (!(rc = ps_expect(st, ':', "after a field name"))) {
        rc = parse_expr(st, &val);
      }
      if (!rc)
        rc = object_set(st, obj, key, val);
      one_free(key);
    } else if (ps_is(st, '[')) {
      rc = ps_error(st, line, col, "computed field names are not supported");
    } else {
      rc = ps_error(st, line, col, "expected a field name, '...' or '}'");
    }
    if (!rc && !ps_is(st, '}'))
      rc = ps_expect(st, ',', "between fields");
  }
  if (!rc)
    rc = ps_advance(st);
  if (rc) {
    pval_unref(obj);
    return rc;
  }
  *out = obj;
  return 0;
}

/* Parses "(a, b, …)" or "[a, b, …]" into a list of values. */
static int parse_list(struct pstate *st, char close, struct pval ***items, size_t *n)
{
  int rc = ps_advance(st); /* ( or [ */
  *items = NULL;
  *n = 0;
  while (!rc && !ps_is(st, close)) {
    if (*n >= 65536) {
      rc = ps_error(st, st->cur.line, st->cur.col, "too many items");
      break;
    }
    if (st->cur.kind == T_ELLIPSIS) {
      rc = ps_error(st, st->cur.line, st->cur.col, "spreading into a list is not supported");
      break;
    }
    struct pval *v = NULL;
    if ((rc = parse_expr(st, &v)))
      break;
    struct pval **grown = one_realloc(*items, (*n + 1) * sizeof *grown);
    if (!grown) {
      pval_unref(v);
      rc = nomem(st);
      break;
    }
    *items = grown;
    grown[(*n)++] = v;
    if (!ps_is(st, close)) {
      char what[32];
      snprintf(what, sizeof what, "or '%c'", close);
      rc = ps_expect(st, ',', what);
    }
  }
  if (!rc)
    rc = ps_advance(st);
  if (rc) {
    for (size_t i = 0; i < *n; i++)
      pval_unref((*items)[i]);
    one_free(*items);
    *items = NULL;
    *n = 0;
  }
  return rc;
}

static int parse_primary(struct pstate *st, struct pval **out)
{
  struct token *t = &st->cur;
  int line = t->line, col = t->col;
  switch (t->kind) {
  case T_STRING: {
    struct pval *p = pval_new(PV_STRING, line, col);
    if (!p)
      return nomem(st);
    p->str = t->text;
    p->len = t->len;
    t->text = NULL;
    *out = p;
    return ps_advance(st);
  }
  case T_NUMBER: return parse_number(st, 0, out);
  case T_IDENT: {
    struct pval *p = NULL;
    if (strcmp(t->text, "true") == 0 || strcmp(t->text, "false") == 0) {
      if (!(p = pval_new(PV_BOOL, line, col)))
        return nomem(st);
      p->boolean = t->text[0] == 't';
    } else if (strcmp(t->text, "null") == 0) {
      if (!(p = pval_new(PV_NULL, line, col)))
        return nomem(st);
    } else {
      p = pval_ref(ps_lookup(st, t->text));
      if (!p)
        return ps_error(st, line, col, "unknown name '%s'%s", t->text,
                        strcmp(t->text, "v") == 0 || strcmp(t->text, "defineTable") == 0 ||
                                strcmp(t->text, "defineSchema") == 0
                            ? " (import it from convex/values or convex/server)"
                            : "");
      if (p->kind == PV_TYPE) {
        int rc = ps_error(st, line, col, "'%s' is a type or an import ONE does not use; it "
                          "cannot be used as a value in a schema", t->text);
        pval_unref(p);
        return rc;
      }
    }
    *out = p;
    return ps_advance(st);
  }
  case T_PUNCT:
    if (t->punct == '{')
      return parse_object(st, out);
    if (t->punct == '[') {
      struct pval *p = pval_new(PV_ARRAY, line, col);
      if (!p)
        return nomem(st);
      int rc = parse_list(st, ']', &p->items, &p->nitems);
      if (rc)
        pval_unref(p);
      else
        *out = p;
      return rc;
    }
    if (t->punct == '(') {
      int rc = ps_advance(st);
      if (!rc)
        rc = parse_expr(st, out);
      if (!rc && (rc = ps_expect(st, ')', "to close '('"))) {
        pval_unref(*out);
        *out = NULL;
      }
      return rc;
    }
    if (t->punct == '-') {
      int rc = ps_advance(st);
      if (rc)
        return rc;
      if (st->cur.kind != T_NUMBER)
        return ps_error(st, line, col, "'-' must be followed by a number");
      return parse_number(st, 1, out);
    }
    return ps_error(st, line, col, "unexpected '%c'", t->punct);
  case T_ELLIPSIS: return ps_error(st, line, col, "unexpected '...'");
  case T_ARROW: return ps_error(st, line, col, "functions are not supported in a schema");
  case T_EOF: return ps_error(st, line, col, "unexpected end of file");
  }
  return ps_error(st, line, col, "unexpected token");
}

/* value.name */
static int member(struct pstate *st, struct pval *obj, const char *name, int line, int col,
                  struct pval **out)
{
  if (obj->kind == PV_NS_V) {
    if (!is_v_name(name))
      return ps_error(st, line, col, "unknown validator v.%s", name);
  } else if (obj->kind == PV_TABLE) {
    if (strcmp(name, "searchIndex") == 0 || strcmp(name, "vectorIndex") == 0)
      return ps_error(st, line, col, ".%s is not supported: ONE's search is configured "
                      "apart from the schema", name);
    if (strcmp(name, "index") != 0)
      return ps_error(st, line, col, "a table has no member '%s' (only .index)", name);
  } else if (obj->kind == PV_VALIDATOR && obj->val->kind == VK_OBJECT && !obj->optional &&
             strcmp(name, "fields") == 0) {
    struct pval *o = pval_new(PV_OBJECT, line, col);
    if (!o)
      return nomem(st);
    for (size_t i = 0; i < obj->val->nfields; i++) {
      struct vfield *f = &obj->val->fields[i];
      struct pval *fv = validator_value(validator_ref(f->type), line, col);
      int rc = fv ? 0 : nomem(st);
      if (fv) {
        fv->optional = f->optional;
        rc = object_set(st, o, f->name, fv);
      }
      if (rc) {
        pval_unref(o);
        return rc;
      }
    }
    *out = o;
    return 0;
  } else if (obj->kind == PV_OBJECT) {
    for (size_t i = 0; i < obj->nentries; i++)
      if (strcmp(obj->entries[i].key, name) == 0) {
        *out = pval_ref(obj->entries[i].val);
        return 0;
      }
    return ps_error(st, line, col, "the object has no field '%s'", name);
  } else {
    return ps_error(st, line, col, "%s has no member '%s'", kind_name(obj->kind), name);
  }
  struct pval *fn = pval_new(PV_FN, line, col);
  if (!fn || !(fn->str = one_strdup(name))) {
    pval_unref(fn);
    return nomem(st);
  }
  fn->recv = pval_ref(obj);
  *out = fn;
  return 0;
}

static int parse_expr_inner(struct pstate *st, struct pval **out);

int parse_expr(struct pstate *st, struct pval **out)
{
  if (st->depth >= SCHEMA_MAX_EXPR_DEPTH)
    return ps_error(st, st->cur.line, st->cur.col, "expression nested deeper than %d levels",
                    SCHEMA_MAX_EXPR_DEPTH);
  st->depth++;
  int rc = parse_expr_inner(st, out);
  st->depth--;
  return rc;
}

static int parse_expr_inner(struct pstate *st, struct pval **out)
{
  struct pval *v = NULL;
  int sline = st->cur.line, scol = st->cur.col; /* errors point at the expression's start */
  int rc = parse_primary(st, &v);
  while (!rc) {
    int line = st->cur.line, col = st->cur.col;
    if (ps_is(st, '.')) {
      if ((rc = ps_advance(st)))
        break;
      if (st->cur.kind != T_IDENT) {
        rc = ps_error(st, st->cur.line, st->cur.col, "expected a name after '.'");
        break;
      }
      struct pval *m = NULL;
      rc = member(st, v, st->cur.text, st->cur.line, st->cur.col, &m);
      if (!rc) {
        pval_unref(v);
        v = m;
        rc = ps_advance(st);
      }
    } else if (ps_is(st, '(')) {
      if (v->kind != PV_FN) {
        rc = ps_error(st, line, col, "%s cannot be called", kind_name(v->kind));
        break;
      }
      struct pval **args = NULL;
      size_t nargs = 0;
      if ((rc = parse_list(st, ')', &args, &nargs)))
        break;
      struct pval *r = NULL;
      rc = call(st, v, args, nargs, sline, scol, &r);
      for (size_t i = 0; i < nargs; i++)
        pval_unref(args[i]);
      one_free(args);
      if (!rc) {
        pval_unref(v);
        v = r;
      }
    } else if (ps_is_ident(st, "as") || ps_is_ident(st, "satisfies")) {
      /* `as const` and `satisfies T` change only TypeScript's view */
      if ((rc = ps_advance(st)))
        break;
      if (st->cur.kind != T_IDENT) {
        rc = ps_error(st, st->cur.line, st->cur.col, "expected a type name");
        break;
      }
      rc = ps_advance(st);
    } else {
      break;
    }
  }
  if (rc) {
    pval_unref(v);
    return rc;
  }
  if (v->kind == PV_FN || v->kind == PV_NS_V) {
    const char *prefix = v->kind == PV_FN && v->recv ? (v->recv->kind == PV_NS_V ? "v." : ".") : "";
    rc = ps_error(st, sline, scol, "%s%s must be called", prefix, v->kind == PV_FN ? v->str : "v");
    pval_unref(v);
    return rc;
  }
  *out = v;
  return 0;
}
