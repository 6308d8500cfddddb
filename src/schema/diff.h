/* diff: what changes between two schemas, and how risky each change is.
 *
 * schema_diff compares two schemas table by table, field by field (a table
 * whose documents are a union of object shapes is seen as the union of its
 * fields: a field missing from one shape is optional) and index by index,
 * and classifies each finding:
 *   safe addition   a new table, index or optional field: old documents fit;
 *   widening        the new validator accepts everything the old one did
 *                   (a literal union widened to string, required made optional);
 *   narrowing       the new validator refuses some old values (optional made
 *                   required, a new required field): documents need a backfill;
 *   type change     the representation changes (tool names to tool ids,
 *                   number to string), or a field that may be a rename of a
 *                   removed one;
 *   removal         a table, field or index that is gone.
 * Pure: it reads schemas only; counting the documents a change affects is
 * the migration layer's job (migrate/gap.h). */
#ifndef ONE_SCHEMA_DIFF_H
#define ONE_SCHEMA_DIFF_H

#include <jansson.h>
#include <stddef.h>

#include "schema/schema.h"

enum diff_class {
  DIFF_SAFE_ADDITION, DIFF_WIDENING, DIFF_NARROWING, DIFF_TYPE_CHANGE, DIFF_REMOVAL,
};

enum diff_what { DIFF_TABLE, DIFF_FIELD, DIFF_INDEX };

struct diff_finding {
  enum diff_what what;
  enum diff_class cls;
  char table[65];
  char name[128];           /* the field or index; "" for a table */
  char *from, *to;          /* validator text or index fields; NULL when absent */
  char note[256];           /* why it has this class, for a reader */
};

struct schema_diff {
  struct diff_finding *f;
  size_t n;
};

/* Fills out (release with schema_diff_release). Tables in the order of
 * `to`, then tables only `from` has; within a table: fields, then indexes. */
int schema_diff(const struct schema *from, const struct schema *to, struct schema_diff *out,
                struct err *err);
void schema_diff_release(struct schema_diff *d);

const char *diff_class_name(enum diff_class c);   /* "safe addition", … */
const char *diff_what_name(enum diff_what w);     /* "table", "field", "index" */

/* Whether every value `a` accepts is accepted by `b`. */
int validator_accepts_all(const struct validator *b, const struct validator *a);

/* The field `name` of a table's document validator as one validator (the
 * union over the table's object shapes), with *optional set when some shape
 * lacks it or marks it optional; NULL when no shape has it. A new reference. */
struct validator *table_field(const struct table_def *t, const char *name, int *optional);

#endif
