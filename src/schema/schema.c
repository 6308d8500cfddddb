/* schema: validator and schema lifecycles, lookups, and loading schemas from
 * the binary's built-in files or from disk. */
#include "schema/schema.h"
#include "schema/schema_int.h"
#include "util/embed.h"
#include "util/jv.h"
#include "util/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const builtin_names[] = {"agent-inbox", "one-expand", "one", NULL};

const char *const *schema_builtin_names(void) { return builtin_names; }

const char *schema_latest_name(void) { return "one"; }

struct validator *validator_new(enum vkind kind)
{
  struct validator *v = one_calloc(1, sizeof *v);
  if (v) {
    v->kind = kind;
    v->refs = 1;
    v->depth = 1;
  }
  return v;
}

struct validator *validator_ref(struct validator *v)
{
  if (v)
    v->refs++;
  return v;
}

void validator_unref(struct validator *v)
{
  if (!v || --v->refs > 0)
    return;
  one_free(v->table);
  json_decref(v->literal);
  validator_unref(v->elem);
  validator_unref(v->value);
  for (size_t i = 0; i < v->nfields; i++) {
    one_free(v->fields[i].name);
    validator_unref(v->fields[i].type);
  }
  one_free(v->fields);
  for (size_t i = 0; i < v->nmembers; i++)
    validator_unref(v->members[i]);
  one_free(v->members);
  one_free(v);
}

int validator_equal(const struct validator *a, const struct validator *b)
{
  if (a == b)
    return 1;
  if (!a || !b || a->kind != b->kind)
    return 0;
  switch (a->kind) {
  case VK_ID: return strcmp(a->table, b->table) == 0;
  case VK_LITERAL: return jv_equal(a->literal, b->literal);
  case VK_ARRAY: return validator_equal(a->elem, b->elem);
  case VK_RECORD: return validator_equal(a->elem, b->elem) && validator_equal(a->value, b->value);
  case VK_OBJECT:
    if (a->nfields != b->nfields)
      return 0;
    for (size_t i = 0; i < a->nfields; i++)
      if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
          a->fields[i].optional != b->fields[i].optional ||
          !validator_equal(a->fields[i].type, b->fields[i].type))
        return 0;
    return 1;
  case VK_UNION:
    if (a->nmembers != b->nmembers)
      return 0;
    for (size_t i = 0; i < a->nmembers; i++)
      if (!validator_equal(a->members[i], b->members[i]))
        return 0;
    return 1;
  default: return 1;
  }
}

void table_def_release(struct table_def *t)
{
  one_free(t->name);
  validator_unref(t->doc);
  for (size_t j = 0; j < t->nindexes; j++) {
    one_free(t->indexes[j].name);
    for (size_t k = 0; k < t->indexes[j].nfields; k++)
      one_free(t->indexes[j].fields[k]);
    one_free(t->indexes[j].fields);
  }
  one_free(t->indexes);
  memset(t, 0, sizeof *t);
}

void schema_free(struct schema *s)
{
  if (!s)
    return;
  for (size_t i = 0; i < s->ntables; i++)
    table_def_release(&s->tables[i]);
  one_free(s->tables);
  one_free(s);
}

int schema_table_name_ok(const char *s, size_t n)
{
  if (n == 0 || n > 64 || !isalpha((unsigned char)s[0]))
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_')
      return 0;
  return 1;
}

const struct table_def *schema_table(const struct schema *s, const char *name)
{
  for (size_t i = 0; s && i < s->ntables; i++)
    if (strcmp(s->tables[i].name, name) == 0)
      return &s->tables[i];
  return NULL;
}

const struct index_def *table_index(const struct table_def *t, const char *name)
{
  for (size_t i = 0; t && i < t->nindexes; i++)
    if (strcmp(t->indexes[i].name, name) == 0)
      return &t->indexes[i];
  return NULL;
}

/* --- sources --- */

int schema_read_embedded(void *ctx, const char *path, char **text, size_t *len)
{
  (void)ctx;
  const struct embedded_file *f = embed_find(path);
  if (!f)
    return -1;
  *text = one_strndup(f->data, f->len);
  *len = f->len;
  return *text ? 0 : -1;
}

static int read_disk(void *ctx, const char *path, char **text, size_t *len)
{
  (void)ctx;
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 16 * 1024 * 1024)
    return -1;
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  char *p = one_malloc((size_t)st.st_size + 1);
  size_t n = p ? fread(p, 1, (size_t)st.st_size, f) : 0;
  fclose(f);
  if (!p || n != (size_t)st.st_size) {
    one_free(p);
    return -1;
  }
  p[n] = '\0';
  *text = p;
  *len = n;
  return 0;
}

static int is_builtin(const char *name)
{
  for (const char *const *n = builtin_names; *n; n++)
    if (strcmp(*n, name) == 0)
      return 1;
  return 0;
}

int schema_load(const char *name_or_path, struct schema **out, struct err *err)
{
  char entry[4096];
  if (is_builtin(name_or_path)) {
    struct schema_source src = {schema_read_embedded, NULL};
    snprintf(entry, sizeof entry, "schema/%s/schema.ts", name_or_path);
    return schema_parse(&src, entry, out, err);
  }
  struct stat st;
  if (stat(name_or_path, &st) != 0) {
    char names[128] = "";
    for (const char *const *n = builtin_names; *n; n++) {
      strncat(names, *n, sizeof names - strlen(names) - 3);
      if (n[1])
        strncat(names, ", ", sizeof names - strlen(names) - 1);
    }
    return err_set(err, E_NOTFOUND, "no built-in schema or file named '%s' (%s); "
                   "built-in schemas: %s", name_or_path, strerror(errno), names);
  }
  if (S_ISDIR(st.st_mode))
    snprintf(entry, sizeof entry, "%s/schema.ts", name_or_path);
  else
    snprintf(entry, sizeof entry, "%s", name_or_path);
  struct schema_source src = {read_disk, NULL};
  return schema_parse(&src, entry, out, err);
}
