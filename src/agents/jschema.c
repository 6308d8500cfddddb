/* jschema: see jschema.h. The walk is bounded by the schema's depth (the
 * schemas are ONE's own, not the model's), and the value is only read. */
#include "agents/jschema.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 16

static int fits_type(const char *type, const json_t *v)
{
  if (strcmp(type, "object") == 0)
    return json_is_object(v);
  if (strcmp(type, "array") == 0)
    return json_is_array(v);
  if (strcmp(type, "string") == 0)
    return json_is_string(v);
  if (strcmp(type, "boolean") == 0)
    return json_is_boolean(v);
  if (strcmp(type, "null") == 0)
    return json_is_null(v);
  if (strcmp(type, "number") == 0)
    return json_is_number(v);
  if (strcmp(type, "integer") == 0)
    return json_is_integer(v) ||
           (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v));
  return 1; /* a type this subset does not know constrains nothing */
}

static int check(const json_t *s, const json_t *v, const char *path, int depth, struct err *err)
{
  if (!json_is_object(s) || depth > MAX_DEPTH)
    return 0;
  const char *type = json_string_value(json_object_get(s, "type"));
  if (type && !fits_type(type, v))
    return err_set(err, E_SCHEMA, "%s: expected %s %s", path,
                   strchr("aeiou", type[0]) ? "an" : "a", type);
  const json_t *en = json_object_get(s, "enum");
  if (json_is_array(en)) {
    int found = 0;
    size_t i;
    json_t *e;
    json_array_foreach(en, i, e) found |= json_equal(e, (json_t *)v);
    if (!found)
      return err_set(err, E_SCHEMA, "%s: not one of the allowed values", path);
  }
  if (json_is_string(v)) {
    size_t len = json_string_length(v);
    json_t *mn = json_object_get(s, "minLength"), *mx = json_object_get(s, "maxLength");
    if (json_is_integer(mn) && (json_int_t)len < json_integer_value(mn))
      return err_set(err, E_SCHEMA, "%s: shorter than %lld characters", path,
                     (long long)json_integer_value(mn));
    if (json_is_integer(mx) && (json_int_t)len > json_integer_value(mx))
      return err_set(err, E_SCHEMA, "%s: longer than %lld characters", path,
                     (long long)json_integer_value(mx));
  }
  if (json_is_number(v)) {
    double x = json_number_value(v);
    json_t *mn = json_object_get(s, "minimum"), *mx = json_object_get(s, "maximum");
    if (json_is_number(mn) && x < json_number_value(mn))
      return err_set(err, E_SCHEMA, "%s: less than %g", path, json_number_value(mn));
    if (json_is_number(mx) && x > json_number_value(mx))
      return err_set(err, E_SCHEMA, "%s: more than %g", path, json_number_value(mx));
  }
  char sub[512];
  if (json_is_object(v)) {
    const json_t *props = json_object_get(s, "properties");
    const json_t *req = json_object_get(s, "required");
    size_t i;
    json_t *r;
    json_array_foreach(req, i, r) {
      const char *name = json_string_value(r);
      if (name && !json_object_get(v, name))
        return err_set(err, E_SCHEMA, "%s.%s: required", path, name);
    }
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
      const json_t *ps = json_object_get(props, k);
      snprintf(sub, sizeof sub, "%s.%s", path, k);
      if (!ps && json_is_false(json_object_get(s, "additionalProperties")))
        return err_set(err, E_SCHEMA, "%s: no such parameter", sub);
      int rc = check(ps, x, sub, depth + 1, err);
      if (rc)
        return rc;
    }
  }
  if (json_is_array(v)) {
    const json_t *items = json_object_get(s, "items");
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
      snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      int rc = check(items, x, sub, depth + 1, err);
      if (rc)
        return rc;
    }
  }
  return 0;
}

int jschema_check(const json_t *schema, const json_t *v, struct err *err)
{
  return check(schema, v, "arguments", 0, err);
}
