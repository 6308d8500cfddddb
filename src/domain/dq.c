/* dq: index lookups and field access for the domain modules. */
#include "domain/dq.h"

#include "util/jtext.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

int dq_first(struct store_tx *tx, const char *table, const char *index, const json_t *eq,
             json_t **doc, struct err *err)
{
  struct store_query q = {.table = table, .index = index, .eq = eq, .limit = 1, .first_only = 1};
  struct store_page page = {0};
  *doc = NULL;
  int rc = store_query(tx, &q, &page, err);
  if (rc == 0 && json_array_size(page.docs) > 0)
    *doc = json_incref(json_array_get(page.docs, 0));
  store_page_release(&page);
  return rc;
}

int dq_first_str(struct store_tx *tx, const char *table, const char *index, const char *key,
                 json_t **doc, struct err *err)
{
  json_t *eq = json_pack("[s]", key);
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  int rc = dq_first(tx, table, index, eq, doc, err);
  json_decref(eq);
  return rc;
}

struct first_text {
  char *text;
  size_t len;
};

static int keep_first(void *arg, const char *text, size_t len, struct err *err)
{
  struct first_text *f = arg;
  if (!(f->text = one_strndup(text, len)))
    return err_set(err, E_NOMEM, "out of memory");
  f->len = len;
  return 0;
}

int dq_first_text(struct store_tx *tx, const char *table, const char *index, const json_t *eq,
                  char **text, size_t *len, struct err *err)
{
  struct first_text f = {NULL, 0};
  struct store_query q = {.table = table, .index = index, .eq = eq, .limit = 1, .as_text = 1,
                          .first_only = 1, .each = keep_first, .each_arg = &f};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  store_page_release(&page);
  if (rc) {
    one_free(f.text);
    f.text = NULL;
    f.len = 0;
  }
  *text = f.text;
  *len = f.len;
  return rc;
}

int dq_first_text_str(struct store_tx *tx, const char *table, const char *index, const char *key,
                      char **text, size_t *len, struct err *err)
{
  json_t *eq = json_pack("[s]", key);
  if (!eq) {
    *text = NULL;
    *len = 0;
    return err_set(err, E_NOMEM, "out of memory");
  }
  int rc = dq_first_text(tx, table, index, eq, text, len, err);
  json_decref(eq);
  return rc;
}

char *dq_text_at(struct store_tx *tx, const char *id, const char *table,
                 const char *const *fields, const char *const *values, size_t k, size_t *n)
{
  char *t = NULL, found[65], got[128];
  struct err e = ERR_INIT;
  if (!id[0] || store_get_text(tx, id, &t, n, found, &e) != 0) {
    err_clear(&e);
    return NULL;
  }
  int ok = strcmp(found, table) == 0;
  for (size_t i = 0; ok && i < k; i++)
    ok = jtext_str(t, *n, fields[i], got, sizeof got) && strcmp(got, values[i]) == 0;
  if (!ok) {
    one_free(t);
    return NULL;
  }
  return t;
}

int dq_str_of(struct store_tx *tx, const char *id, const char *field, char *out, size_t cap)
{
  char *text = NULL;
  size_t n = 0;
  struct err e = ERR_INIT;
  int ok = 0;
  if (cap)
    out[0] = '\0';
  if (id && id[0] && store_get_text(tx, id, &text, &n, NULL, &e) == 0)
    ok = jtext_str(text, n, field, out, cap);
  err_clear(&e);
  one_free(text);
  return ok;
}

double dq_text_num(const char *t, size_t n, const char *field, double dflt)
{
  const char *v = NULL;
  size_t vlen = 0;
  char num[64];
  if (jtext_field(t, n, field, &v, &vlen) != 1 || vlen == 0 || vlen >= sizeof num ||
      !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
    return dflt; /* missing, not a number, or a {"$float"} NaN or infinity */
  memcpy(num, v, vlen);
  num[vlen] = '\0';
  char *end = NULL;
  double d = strtod(num, &end);
  return end && *end == '\0' ? d : dflt;
}

int dq_text_has(const char *t, size_t n, const char *field)
{
  const char *v = NULL;
  size_t vlen = 0;
  return jtext_field(t, n, field, &v, &vlen) == 1;
}

int dq_is_id_of(struct store_tx *tx, const char *id, const char *table)
{
  uint32_t number = id ? cid_table(id, strlen(id)) : 0;
  if (!number)
    return 0;
  struct id_resolver r = store_id_resolver(tx);
  const char *name = r.table_name ? r.table_name(r.ctx, number) : NULL;
  return name && strcmp(name, table) == 0;
}

int dq_get(struct store_tx *tx, const char *table, const char *id, const char *what,
           json_t **doc, struct err *err)
{
  *doc = NULL;
  if (!dq_is_id_of(tx, id, table))
    return err_set(err, E_NOTFOUND, "no such %s", what);
  char found[65];
  struct err e = ERR_INIT;
  int rc = store_get(tx, id, doc, found, &e);
  if (rc == E_NOTFOUND) {
    err_clear(&e);
    return err_set(err, E_NOTFOUND, "no such %s", what);
  }
  if (rc != 0) {
    if (err)
      *err = e;
    else
      err_clear(&e);
    return rc;
  }
  return 0;
}

const char *dq_str(const json_t *doc, const char *field)
{
  const char *s = json_string_value(json_object_get(doc, field));
  return s ? s : "";
}

int dq_list_has(const json_t *list, const char *s)
{
  for (size_t i = 0; i < json_array_size(list); i++) {
    const char *v = json_string_value(json_array_get(list, i));
    if (v && strcmp(v, s) == 0)
      return 1;
  }
  return 0;
}

int dq_bool(const json_t *doc, const char *field)
{
  return json_is_true(json_object_get(doc, field));
}

double dq_num(const json_t *doc, const char *field, double dflt)
{
  const json_t *v = json_object_get(doc, field);
  if (!v)
    return dflt;
  if (json_is_integer(v))
    return (double)json_integer_value(v);
  if (jv_type(v) == JV_FLOAT64)
    return jv_float_value(v);
  return dflt;
}
