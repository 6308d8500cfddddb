/* schema_diff: findings between two schemas, each classified.
 *
 * Main idea: a field's validators are compared by what they accept
 * (validator_accepts_all both ways), not by how they are written, so a union
 * in another order is no change; and by their base kinds (string, id,
 * number…), so that names becoming ids is a type change, not a narrowing. */
#include "schema/diff.h"

#include "util/buf.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

const char *diff_class_name(enum diff_class c)
{
  switch (c) {
  case DIFF_SAFE_ADDITION: return "safe addition";
  case DIFF_WIDENING: return "widening";
  case DIFF_NARROWING: return "narrowing";
  case DIFF_TYPE_CHANGE: return "rename or type change";
  case DIFF_REMOVAL: return "removal";
  }
  return "?";
}

const char *diff_what_name(enum diff_what w)
{
  return w == DIFF_TABLE ? "table" : w == DIFF_FIELD ? "field" : "index";
}

/* --- what validators accept --- */

static enum vkind literal_base(const struct validator *v)
{
  switch (jv_type(v->literal)) {
  case JV_STRING: return VK_STRING;
  case JV_INT64: return VK_INT64;
  case JV_BOOLEAN: return VK_BOOLEAN;
  default: return VK_FLOAT64;
  }
}

static const struct vfield *field_of(const struct validator *o, const char *name)
{
  for (size_t i = 0; i < o->nfields; i++)
    if (strcmp(o->fields[i].name, name) == 0)
      return &o->fields[i];
  return NULL;
}

int validator_accepts_all(const struct validator *b, const struct validator *a)
{
  if (b->kind == VK_ANY)
    return 1;
  if (a->kind == VK_ANY)
    return 0;
  if (a->kind == VK_UNION) {
    for (size_t i = 0; i < a->nmembers; i++)
      if (!validator_accepts_all(b, a->members[i]))
        return 0;
    return 1;
  }
  if (b->kind == VK_UNION) {
    for (size_t i = 0; i < b->nmembers; i++)
      if (validator_accepts_all(b->members[i], a))
        return 1;
    return 0;
  }
  switch (a->kind) {
  case VK_ID:
    return b->kind == VK_STRING || (b->kind == VK_ID && strcmp(a->table, b->table) == 0);
  case VK_LITERAL:
    return b->kind == literal_base(a) || (b->kind == VK_LITERAL && jv_equal(a->literal, b->literal));
  case VK_ARRAY:
    return b->kind == VK_ARRAY && validator_accepts_all(b->elem, a->elem);
  case VK_RECORD:
    return b->kind == VK_RECORD && validator_accepts_all(b->elem, a->elem) &&
           validator_accepts_all(b->value, a->value);
  case VK_OBJECT:
    if (b->kind != VK_OBJECT)
      return 0;
    for (size_t i = 0; i < a->nfields; i++) {
      const struct vfield *fb = field_of(b, a->fields[i].name);
      if (!fb || (a->fields[i].optional && !fb->optional) ||
          !validator_accepts_all(fb->type, a->fields[i].type))
        return 0;
    }
    for (size_t i = 0; i < b->nfields; i++)
      if (!b->fields[i].optional && !field_of(a, b->fields[i].name))
        return 0;
    return 1;
  default:
    return a->kind == b->kind;
  }
}

/* Base kinds as bits: what representation values have, seen through arrays. */
static unsigned base_kinds(const struct validator *v)
{
  switch (v->kind) {
  case VK_ANY: return ~0u;
  case VK_LITERAL: return 1u << literal_base(v);
  case VK_ARRAY: return base_kinds(v->elem) << 16 | (1u << 15);
  case VK_UNION: {
    unsigned k = 0;
    for (size_t i = 0; i < v->nmembers; i++)
      k |= base_kinds(v->members[i]);
    return k;
  }
  default: return 1u << v->kind;
  }
}

/* --- a table's fields, across its object shapes --- */

/* A table's object shapes: the members of its union, or the one object. */
static size_t shape_count(const struct validator *doc)
{
  return doc->kind == VK_UNION ? doc->nmembers : 1;
}

static const struct validator *shape_at(const struct validator *doc, size_t i)
{
  return doc->kind == VK_UNION ? doc->members[i] : doc;
}

static int union_add(struct validator *u, struct validator *v)
{
  for (size_t i = 0; i < u->nmembers; i++)
    if (validator_equal(u->members[i], v))
      return 0;
  struct validator **m = one_realloc(u->members, (u->nmembers + 1) * sizeof *m);
  if (!m)
    return -1;
  u->members = m;
  m[u->nmembers++] = validator_ref(v);
  return 0;
}

struct validator *table_field(const struct table_def *t, const char *name, int *optional)
{
  size_t n = shape_count(t->doc);
  struct validator *u = validator_new(VK_UNION);
  if (!u)
    return NULL;
  *optional = 0;
  for (size_t i = 0; i < n; i++) {
    const struct validator *sh = shape_at(t->doc, i);
    const struct vfield *f = sh->kind == VK_OBJECT ? field_of(sh, name) : NULL;
    if (!f) {
      *optional = 1;
      continue;
    }
    *optional |= f->optional;
    const struct validator *ty = f->type;
    if (ty->kind == VK_UNION) {
      for (size_t j = 0; j < ty->nmembers; j++)
        if (union_add(u, ty->members[j])) {
          validator_unref(u);
          return NULL;
        }
    } else if (union_add(u, (struct validator *)ty)) {
      validator_unref(u);
      return NULL;
    }
  }
  if (u->nmembers == 0) {
    validator_unref(u);
    return NULL;
  }
  if (u->nmembers == 1) {
    struct validator *one = validator_ref(u->members[0]);
    validator_unref(u);
    return one;
  }
  return u;
}

/* Field names of a table in order of first appearance (borrowed strings). */
static size_t field_names(const struct table_def *t, const char **out, size_t cap)
{
  size_t count = 0;
  for (size_t i = 0; i < shape_count(t->doc); i++) {
    const struct validator *sh = shape_at(t->doc, i);
    if (sh->kind != VK_OBJECT)
      continue;
    for (size_t j = 0; j < sh->nfields; j++) {
      int seen = 0;
      for (size_t k = 0; k < count && !seen; k++)
        seen = strcmp(out[k], sh->fields[j].name) == 0;
      if (!seen && count < cap)
        out[count++] = sh->fields[j].name;
    }
  }
  return count;
}

/* --- findings --- */

struct builder {
  struct schema_diff *d;
  size_t cap;
  int nomem;
};

static struct diff_finding *add(struct builder *b, enum diff_what what, enum diff_class cls,
                                const char *table, const char *name)
{
  if (b->nomem)
    return NULL;
  if (b->d->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    struct diff_finding *f = one_realloc(b->d->f, cap * sizeof *f);
    if (!f) {
      b->nomem = 1;
      return NULL;
    }
    b->d->f = f;
    b->cap = cap;
  }
  struct diff_finding *f = &b->d->f[b->d->n++];
  memset(f, 0, sizeof *f);
  f->what = what;
  f->cls = cls;
  snprintf(f->table, sizeof f->table, "%s", table);
  snprintf(f->name, sizeof f->name, "%s", name ? name : "");
  return f;
}

/* The validator's text on one line (the printer breaks long ones). */
static char *field_text(const struct validator *v, int optional)
{
  char *t = validator_text(v);
  if (!t)
    return NULL;
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  if (optional)
    buf_puts(&b, "v.optional(");
  for (const char *p = t; *p; p++) {
    if (*p == '\n') {
      while (p[1] == ' ')
        p++;
      if (b.len && b.p[b.len - 1] != '(' && p[1] != ')')
        buf_putc(&b, ' ');
      continue;
    }
    if (*p == ',' && p[1] == '\n' && (p[2] == ')' || p[2] == '}'))
      continue; /* the trailing comma of a broken list */
    buf_putc(&b, *p);
  }
  if (optional)
    buf_putc(&b, ')');
  one_free(t);
  return buf_detach(&b);
}

static char *index_text(const struct index_def *ix)
{
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  buf_putc(&b, '[');
  for (size_t i = 0; i < ix->nfields; i++)
    buf_printf(&b, "%s%s", i ? ", " : "", ix->fields[i]);
  buf_putc(&b, ']');
  return buf_detach(&b);
}

#define MAX_FIELDS 1024

static int listed(const char *const *names, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return 1;
  return 0;
}

static enum diff_class classify(const struct validator *vf, int ofrom, const struct validator *vt,
                                int oto, const char **note)
{
  int fwd = (!ofrom || oto) && validator_accepts_all(vt, vf);
  int back = (!oto || ofrom) && validator_accepts_all(vf, vt);
  unsigned kf = base_kinds(vf), kt = base_kinds(vt);
  /* names becoming ids (also inside arrays) is a conversion, not a filter */
  unsigned id = 1u << VK_ID | 1u << (16 + VK_ID), str = 1u << VK_STRING | 1u << (16 + VK_STRING);
  if (fwd) {
    *note = "the target accepts every value the source did";
    return DIFF_WIDENING;
  }
  if (!(kf & kt) || ((kt & id) && !(kf & id) && (kf & str))) {
    *note = "values change representation and must be converted";
    return DIFF_TYPE_CHANGE;
  }
  if (back) {
    *note = ofrom && !oto ? "optional becomes required: documents without it need a value"
                          : "the target refuses some values the source accepted";
    return DIFF_NARROWING;
  }
  *note = "the validators accept different values";
  return DIFF_TYPE_CHANGE;
}

static void diff_field(struct builder *b, const struct table_def *tf, const struct table_def *tt,
                       const char *name)
{
  int ofrom = 0, oto = 0;
  struct validator *vf = table_field(tf, name, &ofrom);
  struct validator *vt = table_field(tt, name, &oto);
  struct diff_finding *f = NULL;
  const char *note = "";
  if (!vf && vt) {
    f = add(b, DIFF_FIELD, oto ? DIFF_SAFE_ADDITION : DIFF_NARROWING, tt->name, name);
    note = oto ? "a new optional field" : "a new required field: existing documents need a value";
  } else if (vf && !vt) {
    f = add(b, DIFF_FIELD, DIFF_REMOVAL, tf->name, name);
    note = "the target has no such field: its values must be moved or kept aside";
  } else if (vf && vt) {
    int same = (ofrom == oto) && validator_accepts_all(vt, vf) && validator_accepts_all(vf, vt);
    if (!same)
      f = add(b, DIFF_FIELD, classify(vf, ofrom, vt, oto, &note), tt->name, name);
  }
  if (f) {
    snprintf(f->note, sizeof f->note, "%s", note);
    f->from = vf ? field_text(vf, ofrom) : NULL;
    f->to = vt ? field_text(vt, oto) : NULL;
    if ((vf && !f->from) || (vt && !f->to))
      b->nomem = 1;
  }
  validator_unref(vf);
  validator_unref(vt);
}

/* A removed field whose values a new field of the same kind could hold may
 * be a rename: say which, and class it so. */
static void mark_renames(struct builder *b, size_t first, const struct table_def *tf,
                         const struct table_def *tt)
{
  for (size_t i = first; i < b->d->n; i++) {
    struct diff_finding *r = &b->d->f[i];
    if (r->what != DIFF_FIELD || r->cls != DIFF_REMOVAL)
      continue;
    int o = 0;
    struct validator *vr = table_field(tf, r->name, &o);
    struct buf names;
    buf_init(&names, 200);
    int candidates = 0;
    for (size_t j = first; vr && j < b->d->n; j++) {
      struct diff_finding *a = &b->d->f[j];
      if (a->what != DIFF_FIELD || a->from || !a->to)
        continue;
      int oa = 0;
      struct validator *va = table_field(tt, a->name, &oa);
      if (va && va->kind != VK_ANY && base_kinds(va) == base_kinds(vr) &&
          validator_accepts_all(va, vr)) {
        buf_printf(&names, "%s%s", names.len ? ", " : "", a->name);
        candidates++;
      }
      validator_unref(va);
    }
    if (candidates && candidates <= 2) { /* more is no rename, only a coincidence of kind */
      r->cls = DIFF_TYPE_CHANGE;
      snprintf(r->note, sizeof r->note, "gone from the target; may be renamed to %s (same kind "
               "of value)", buf_str(&names));
    }
    buf_release(&names);
    validator_unref(vr);
  }
}

static void diff_fields(struct builder *b, const struct table_def *tf, const struct table_def *tt)
{
  const char **nt = one_calloc(MAX_FIELDS, sizeof *nt), **nf = one_calloc(MAX_FIELDS, sizeof *nf);
  if (!nt || !nf) {
    b->nomem = 1;
  } else {
    size_t first = b->d->n;
    size_t ct = field_names(tt, nt, MAX_FIELDS), cf = field_names(tf, nf, MAX_FIELDS);
    for (size_t i = 0; i < ct; i++)
      diff_field(b, tf, tt, nt[i]);
    for (size_t i = 0; i < cf; i++)
      if (!listed(nt, ct, nf[i]))
        diff_field(b, tf, tt, nf[i]);
    if (!b->nomem)
      mark_renames(b, first, tf, tt);
  }
  one_free(nt);
  one_free(nf);
}

static void diff_indexes(struct builder *b, const struct table_def *tf, const struct table_def *tt)
{
  for (size_t i = 0; i < tt->nindexes; i++) {
    const struct index_def *it = &tt->indexes[i], *ix = table_index(tf, it->name);
    int same = ix && ix->nfields == it->nfields;
    for (size_t k = 0; same && k < it->nfields; k++)
      same = strcmp(ix->fields[k], it->fields[k]) == 0;
    if (same)
      continue;
    struct diff_finding *f = add(b, DIFF_INDEX, ix ? DIFF_TYPE_CHANGE : DIFF_SAFE_ADDITION,
                                 tt->name, it->name);
    if (!f)
      return;
    snprintf(f->note, sizeof f->note, "%s", ix ? "the index's fields change: it is rebuilt"
                                               : "a new index, built from the documents");
    f->from = ix ? index_text(ix) : NULL;
    f->to = index_text(it);
  }
  for (size_t i = 0; i < tf->nindexes; i++) {
    if (table_index(tt, tf->indexes[i].name))
      continue;
    struct diff_finding *f = add(b, DIFF_INDEX, DIFF_REMOVAL, tf->name, tf->indexes[i].name);
    if (!f)
      return;
    snprintf(f->note, sizeof f->note, "the index is dropped; queries on it must move first");
    f->from = index_text(&tf->indexes[i]);
  }
}

int schema_diff(const struct schema *from, const struct schema *to, struct schema_diff *out,
                struct err *err)
{
  memset(out, 0, sizeof *out);
  struct builder b = {out, 0, 0};
  for (size_t i = 0; i < to->ntables && !b.nomem; i++) {
    const struct table_def *tt = &to->tables[i], *tf = schema_table(from, tt->name);
    if (!tf) {
      struct diff_finding *f = add(&b, DIFF_TABLE, DIFF_SAFE_ADDITION, tt->name, NULL);
      if (f)
        snprintf(f->note, sizeof f->note, "a new table with %zu index%s", tt->nindexes,
                 tt->nindexes == 1 ? "" : "es");
      continue;
    }
    diff_fields(&b, tf, tt);
    diff_indexes(&b, tf, tt);
  }
  for (size_t i = 0; i < from->ntables && !b.nomem; i++) {
    if (schema_table(to, from->tables[i].name))
      continue;
    struct diff_finding *f = add(&b, DIFF_TABLE, DIFF_REMOVAL, from->tables[i].name, NULL);
    if (f)
      snprintf(f->note, sizeof f->note, "the target has no such table");
  }
  if (b.nomem) {
    schema_diff_release(out);
    return err_set(err, E_NOMEM, "out of memory");
  }
  return 0;
}

void schema_diff_release(struct schema_diff *d)
{
  for (size_t i = 0; i < d->n; i++) {
    one_free(d->f[i].from);
    one_free(d->f[i].to);
  }
  one_free(d->f);
  memset(d, 0, sizeof *d);
}
