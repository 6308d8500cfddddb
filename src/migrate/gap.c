/* gap: counting the documents each schema change affects. */
#include "migrate/gap.h"

#include "util/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/types.h>

struct counter {
  const struct schema_diff *d;
  json_t *counts;           /* parallel to d->f, then per-table extras */
};

/* The top-level field of a problem's path "table.field[2].x": into out. */
static void top_field(const char *path, const char *table, char *out, size_t n)
{
  size_t tl = strlen(table);
  const char *p = strncmp(path, table, tl) == 0 && path[tl] == '.' ? path + tl + 1 : "";
  size_t len = strcspn(p, ".[");
  snprintf(out, n, "%.*s", (int)len, p);
}

/* The problem's message without array positions, so reasons group. */
static void reason_of(const char *path, const char *table, const char *msg, char *out, size_t n)
{
  size_t tl = strlen(table), o = 0;
  const char *p = strncmp(path, table, tl) == 0 && path[tl] == '.' ? path + tl + 1 : path;
  for (; *p && o + 3 < n; p++) {
    if (*p == '[') {
      out[o++] = '[';
      out[o++] = ']';
      p += strcspn(p, "]");
      if (!*p)
        break;
      continue;
    }
    out[o++] = *p;
  }
  out[o] = '\0';
  snprintf(out + o, n - o, ": %s", msg);
}

static json_t *entry(json_t *counts, size_t i)
{
  return json_array_get(counts, i);
}

static void bump(json_t *e, const char *reason)
{
  json_object_set_new(e, "documents",
                      json_integer(json_integer_value(json_object_get(e, "documents")) + 1));
  json_t *r = json_object_get(e, "reasons");
  if (reason && json_object_size(r) < 20)
    json_object_set_new(r, reason, json_integer(json_integer_value(json_object_get(r, reason)) + 1));
}

static ssize_t field_finding(const struct schema_diff *d, const char *table, const char *field)
{
  for (size_t i = 0; i < d->n; i++)
    if (d->f[i].what == DIFF_FIELD && strcmp(d->f[i].table, table) == 0 &&
        strcmp(d->f[i].name, field) == 0)
      return (ssize_t)i;
  return -1;
}

static json_t *table_extra(json_t *counts, size_t nfindings, const char *table)
{
  for (size_t i = nfindings; i < json_array_size(counts); i++)
    if (strcmp(json_string_value(json_object_get(entry(counts, i), "table")), table) == 0)
      return entry(counts, i);
  json_t *e = json_pack("{s:s,s:i,s:o}", "table", table, "documents", 0, "reasons", json_object());
  json_array_append_new(counts, e);
  return e;
}

/* Charges one document's problems. */
static void charge(struct counter *c, const char *table, const struct err *e)
{
  size_t nf = c->d->n;
  ssize_t seen[64];
  size_t nseen = 0;
  int extra = 0;
  for (size_t i = 0; i < e->ndetails; i++) {
    char field[128], reason[256];
    top_field(e->details[i].path, table, field, sizeof field);
    reason_of(e->details[i].path, table, e->details[i].message, reason, sizeof reason);
    ssize_t f = field_finding(c->d, table, field);
    if (f < 0) {
      if (!extra)
        bump(table_extra(c->counts, nf, table), reason);
      extra = 1;
      continue;
    }
    int dup = 0;
    for (size_t k = 0; k < nseen && !dup; k++)
      dup = seen[k] == f;
    if (dup)
      continue;
    if (nseen < 64)
      seen[nseen++] = f;
    bump(entry(c->counts, (size_t)f), reason);
  }
}

struct scan_arg {
  struct counter *c;
  const struct schema *to;
  const char *table;
  struct id_resolver ids;
};

static int scan_doc(void *arg, const json_t *doc, const char *text, size_t len, struct err *err)
{
  (void)text;
  (void)len;
  (void)err;
  struct scan_arg *a = arg;
  struct err e = ERR_INIT;
  if (schema_validate(a->to, a->table, doc, &a->ids, VALIDATE_SYSTEM_FIELDS, &e) == E_SCHEMA)
    charge(a->c, a->table, &e);
  err_clear(&e);
  return 0;
}

struct count_arg {
  struct counter c;
  const struct schema *to;
};

static int count_all(struct store_tx *tx, void *arg, struct err *err)
{
  struct count_arg *a = arg;
  json_t *tables = store_tables(tx);
  if (!tables)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = 0;
  size_t i;
  json_t *t;
  json_array_foreach(tables, i, t) {
    const char *name = json_string_value(json_object_get(t, "name"));
    if (schema_table(a->to, name)) {
      struct scan_arg sa = {&a->c, a->to, name, store_id_resolver(tx)};
      if ((rc = store_each(tx, name, 0, scan_doc, &sa, err)))
        break;
      continue;
    }
    int64_t n = 0;
    if ((rc = store_count(tx, name, &n, err)))
      break;
    int found = 0;
    for (size_t k = 0; k < a->c.d->n; k++)
      if (a->c.d->f[k].what == DIFF_TABLE && strcmp(a->c.d->f[k].table, name) == 0) {
        json_object_set_new(entry(a->c.counts, k), "documents", json_integer(n));
        found = 1;
      }
    if (!found && n) { /* a table neither schema knows (an import kept it) */
      json_t *e = table_extra(a->c.counts, a->c.d->n, name);
      json_object_set_new(e, "documents", json_integer(n));
      json_object_set_new(e, "untyped", json_true());
    }
  }
  json_decref(tables);
  return rc;
}

int gap_count(struct store *s, const struct schema *to, const struct schema_diff *d,
              json_t **out, struct err *err)
{
  struct count_arg a = {{d, json_array()}, to};
  *out = NULL;
  for (size_t i = 0; a.c.counts && i < d->n; i++)
    json_array_append_new(a.c.counts, json_pack("{s:i,s:o}", "documents", 0, "reasons",
                                                 json_object()));
  if (!a.c.counts || json_array_size(a.c.counts) != d->n) {
    json_decref(a.c.counts);
    return err_set(err, E_NOMEM, "out of memory");
  }
  int rc = store_run(s, STORE_READ, count_all, &a, err);
  if (rc) {
    json_decref(a.c.counts);
    return rc;
  }
  *out = a.c.counts;
  return 0;
}
