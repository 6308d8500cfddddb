/* schema_print: a schema back to text, canonically, and to Convex's JSON.
 *
 * The text is valid input for the parser, so parse(print(s)) equals s: every
 * name is resolved (no consts, no spreads), objects keep their field order,
 * a validator that fits on one line (and holds no object) is printed on one
 * line, otherwise one member per line, two spaces per level. */
#include "schema/schema.h"
#include "util/buf.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define WIDTH 96

static int is_identifier(const char *s)
{
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '$'))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
          *s == '_' || *s == '$'))
      return 0;
  return 1;
}

/* A JSON string literal is also a valid TypeScript string literal. */
static int put_string(struct buf *b, const char *s, size_t len)
{
  json_t *j = json_stringn(s, len);
  char *t = j ? jv_dumps(j) : NULL;
  int rc = t ? buf_puts(b, t) : E_NOMEM;
  one_free(t);
  json_decref(j);
  return rc;
}

static int put_key(struct buf *b, const char *name)
{
  return is_identifier(name) ? buf_puts(b, name) : put_string(b, name, strlen(name));
}

static int put_literal(struct buf *b, const json_t *lit)
{
  switch (jv_type(lit)) {
  case JV_STRING: return put_string(b, json_string_value(lit), json_string_length(lit));
  case JV_INT64: return buf_printf(b, "%lldn", (long long)json_integer_value(lit));
  case JV_BOOLEAN: return buf_puts(b, json_is_true(lit) ? "true" : "false");
  case JV_FLOAT64: {
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.17g", jv_float_value(lit));
    return buf_puts(b, tmp);
  }
  default: return E_INVALID;
  }
}

static int has_object(const struct validator *v)
{
  switch (v->kind) {
  case VK_OBJECT: return 1;
  case VK_ARRAY: return has_object(v->elem);
  case VK_RECORD: return has_object(v->elem) || has_object(v->value);
  case VK_UNION:
    for (size_t i = 0; i < v->nmembers; i++)
      if (has_object(v->members[i]))
        return 1;
    return 0;
  default: return 0;
  }
}

static int put_validator(struct buf *b, const struct validator *v, int indent);

static int put_indent(struct buf *b, int indent)
{
  for (int i = 0; i < indent; i++)
    if (buf_putc(b, ' '))
      return E_NOMEM;
  return 0;
}

static int put_fields(struct buf *b, const struct validator *v, int indent)
{
  int rc = buf_puts(b, "{\n");
  for (size_t i = 0; !rc && i < v->nfields; i++) {
    const struct vfield *f = &v->fields[i];
    if ((rc = put_indent(b, indent + 2)) || (rc = put_key(b, f->name)) ||
        (rc = buf_puts(b, ": ")) || (f->optional && (rc = buf_puts(b, "v.optional("))) ||
        (rc = put_validator(b, f->type, indent + 2)) || (f->optional && (rc = buf_putc(b, ')'))))
      return rc;
    rc = buf_puts(b, ",\n");
  }
  if (!rc)
    rc = put_indent(b, indent);
  return rc ? rc : buf_putc(b, '}');
}

/* Prints v at the current column; indent is the current line's indentation. */
static int put_validator(struct buf *b, const struct validator *v, int indent)
{
  static const char *simple[] = {
    [VK_ANY] = "v.any()", [VK_NULL] = "v.null()", [VK_FLOAT64] = "v.number()",
    [VK_INT64] = "v.int64()", [VK_BOOLEAN] = "v.boolean()", [VK_STRING] = "v.string()",
    [VK_BYTES] = "v.bytes()",
  };
  int rc;
  switch (v->kind) {
  case VK_ANY: case VK_NULL: case VK_FLOAT64: case VK_INT64: case VK_BOOLEAN:
  case VK_STRING: case VK_BYTES:
    return buf_puts(b, simple[v->kind]);
  case VK_ID:
    if ((rc = buf_puts(b, "v.id(")) || (rc = put_string(b, v->table, strlen(v->table))))
      return rc;
    return buf_putc(b, ')');
  case VK_LITERAL:
    if ((rc = buf_puts(b, "v.literal(")) || (rc = put_literal(b, v->literal)))
      return rc;
    return buf_putc(b, ')');
  case VK_ARRAY:
    if ((rc = buf_puts(b, "v.array(")) || (rc = put_validator(b, v->elem, indent)))
      return rc;
    return buf_putc(b, ')');
  case VK_RECORD:
    if ((rc = buf_puts(b, "v.record(")) || (rc = put_validator(b, v->elem, indent)) ||
        (rc = buf_puts(b, ", ")) || (rc = put_validator(b, v->value, indent)))
      return rc;
    return buf_putc(b, ')');
  case VK_OBJECT:
    if ((rc = buf_puts(b, "v.object(")) || (rc = put_fields(b, v, indent)))
      return rc;
    return buf_putc(b, ')');
  case VK_UNION: {
    if (!has_object(v)) {
      struct buf one;
      buf_init(&one, BUF_UNBOUNDED);
      rc = buf_puts(&one, "v.union(");
      for (size_t i = 0; !rc && i < v->nmembers; i++)
        rc = (i ? buf_puts(&one, ", ") : 0) || put_validator(&one, v->members[i], indent);
      if (!rc)
        rc = buf_putc(&one, ')');
      if (!rc && one.len + (size_t)indent + 30 <= WIDTH) {
        rc = buf_append(b, one.p, one.len);
        buf_release(&one);
        return rc;
      }
      buf_release(&one);
      if (rc)
        return rc;
    }
    rc = buf_puts(b, "v.union(\n");
    for (size_t i = 0; !rc && i < v->nmembers; i++) {
      if ((rc = put_indent(b, indent + 2)) || (rc = put_validator(b, v->members[i], indent + 2)))
        return rc;
      rc = buf_puts(b, ",\n");
    }
    if (!rc)
      rc = put_indent(b, indent);
    return rc ? rc : buf_putc(b, ')');
  }
  }
  return E_INVALID;
}

char *validator_text(const struct validator *v)
{
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  if (put_validator(&b, v, 0)) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b);
}

char *schema_print(const struct schema *s)
{
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  int rc = buf_puts(&b, "import { defineSchema, defineTable } from \"convex/server\";\n"
                        "import { v } from \"convex/values\";\n\n"
                        "export default defineSchema({\n");
  for (size_t i = 0; !rc && i < s->ntables; i++) {
    const struct table_def *t = &s->tables[i];
    rc = buf_printf(&b, "  %s: defineTable(", t->name);
    if (!rc)
      rc = t->doc->kind == VK_OBJECT ? put_fields(&b, t->doc, 2) : put_validator(&b, t->doc, 2);
    if (!rc)
      rc = buf_putc(&b, ')');
    for (size_t j = 0; !rc && j < t->nindexes; j++) {
      const struct index_def *ix = &t->indexes[j];
      rc = buf_printf(&b, "\n    .index(\"%s\", [", ix->name);
      for (size_t k = 0; !rc && k < ix->nfields; k++)
        rc = (k ? buf_puts(&b, ", ") : 0) || put_string(&b, ix->fields[k], strlen(ix->fields[k]));
      if (!rc)
        rc = buf_puts(&b, "])");
    }
    if (!rc)
      rc = buf_puts(&b, ",\n");
  }
  if (!rc)
    rc = buf_puts(&b, "});\n");
  if (rc) {
    buf_release(&b);
    return NULL;
  }
  return buf_detach(&b);
}

/* --- Convex's JSON form --- */

static json_t *field_json(const struct validator *v, int optional)
{
  json_t *t = validator_to_json(v);
  return t ? json_pack("{s:o,s:b}", "fieldType", t, "optional", optional) : NULL;
}

json_t *validator_to_json(const struct validator *v)
{
  static const char *simple[] = {
    [VK_ANY] = "any", [VK_NULL] = "null", [VK_FLOAT64] = "number", [VK_INT64] = "bigint",
    [VK_BOOLEAN] = "boolean", [VK_STRING] = "string", [VK_BYTES] = "bytes",
  };
  json_t *o, *x;
  switch (v->kind) {
  case VK_ANY: case VK_NULL: case VK_FLOAT64: case VK_INT64: case VK_BOOLEAN:
  case VK_STRING: case VK_BYTES:
    return json_pack("{s:s}", "type", simple[v->kind]);
  case VK_ID: return json_pack("{s:s,s:s}", "type", "id", "tableName", v->table);
  case VK_LITERAL: {
    json_t *lit = jv_to_wire(v->literal);
    return lit ? json_pack("{s:s,s:o}", "type", "literal", "value", lit) : NULL;
  }
  case VK_ARRAY:
    x = validator_to_json(v->elem);
    return x ? json_pack("{s:s,s:o}", "type", "array", "value", x) : NULL;
  case VK_RECORD: {
    json_t *k = validator_to_json(v->elem), *val = field_json(v->value, 0);
    if (!k || !val) {
      json_decref(k);
      json_decref(val);
      return NULL;
    }
    return json_pack("{s:s,s:o,s:o}", "type", "record", "keys", k, "values", val);
  }
  case VK_OBJECT:
    o = json_object();
    for (size_t i = 0; o && i < v->nfields; i++) {
      x = field_json(v->fields[i].type, v->fields[i].optional);
      if (!x || json_object_set_new(o, v->fields[i].name, x)) {
        json_decref(o);
        return NULL;
      }
    }
    return o ? json_pack("{s:s,s:o}", "type", "object", "value", o) : NULL;
  case VK_UNION:
    o = json_array();
    for (size_t i = 0; o && i < v->nmembers; i++) {
      x = validator_to_json(v->members[i]);
      if (!x || json_array_append_new(o, x)) {
        json_decref(o);
        return NULL;
      }
    }
    return o ? json_pack("{s:s,s:o}", "type", "union", "value", o) : NULL;
  }
  return NULL;
}

json_t *schema_to_json(const struct schema *s)
{
  json_t *tables = json_array();
  for (size_t i = 0; tables && i < s->ntables; i++) {
    const struct table_def *t = &s->tables[i];
    json_t *ixs = json_array();
    for (size_t j = 0; ixs && j < t->nindexes; j++) {
      json_t *fields = json_array();
      for (size_t k = 0; fields && k < t->indexes[j].nfields; k++)
        json_array_append_new(fields, json_string(t->indexes[j].fields[k]));
      if (fields)
        json_array_append_new(fields, json_string("_creationTime"));
      json_array_append_new(ixs, json_pack("{s:s,s:o*}", "indexDescriptor", t->indexes[j].name,
                                           "fields", fields));
    }
    json_t *doc = validator_to_json(t->doc);
    json_t *tj = json_pack("{s:s,s:o*,s:o*}", "tableName", t->name, "documentType", doc,
                           "indexes", ixs);
    if (!tj || json_array_append_new(tables, tj)) {
      json_decref(tables);
      return NULL;
    }
  }
  return tables ? json_pack("{s:o,s:b}", "tables", tables, "schemaValidation", 1) : NULL;
}
