/* schema: Convex validators, schemas, and document validation.
 *
 * A schema is a list of tables; each table has a document validator (an
 * object, or a union of objects) and indexes. Schemas are written in the
 * TypeScript subset of Convex's `convex/schema.ts` (schema_parse*), may span
 * several files joined by relative imports, and print back canonically
 * (schema_print) in the same language, so print-then-parse is the identity.
 *
 * Validation follows Convex exactly (spec/convex-formats.md): optional is not
 * null, int64 is not number, v.id("t") accepts only ids of table t (decided
 * from the id's table number through a resolver, with no lookup), plus the
 * limits on size, depth and field names. Every problem becomes one detail in
 * the struct err, with its path ("agents.delegatesTo[2]").
 *
 * Ownership: schema_* constructors return objects the caller frees with
 * schema_free. Validators are reference-counted because one `const` may be
 * used in many places; a schema owns one reference to each of its tables'.
 * Everything here is immutable after parsing, so a schema may be read from
 * any number of threads at once. */
#ifndef ONE_SCHEMA_SCHEMA_H
#define ONE_SCHEMA_SCHEMA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum vkind {
  VK_ANY, VK_NULL, VK_FLOAT64, VK_INT64, VK_BOOLEAN, VK_STRING, VK_BYTES,
  VK_ID, VK_LITERAL, VK_ARRAY, VK_OBJECT, VK_RECORD, VK_UNION,
};

struct validator;

struct vfield {
  char *name;
  int optional;
  struct validator *type;
};

struct validator {
  enum vkind kind;
  int refs;
  int depth;                   /* 1 for a leaf, 1 + the deepest child otherwise */
  char *table;                 /* VK_ID: the table name */
  json_t *literal;             /* VK_LITERAL: string, number, int64 or boolean */
  struct validator *elem;      /* VK_ARRAY: elements; VK_RECORD: keys */
  struct validator *value;     /* VK_RECORD: values */
  struct vfield *fields;       /* VK_OBJECT, in declaration order */
  size_t nfields;
  struct validator **members;  /* VK_UNION */
  size_t nmembers;
};

struct index_def {
  char *name;
  char **fields;               /* dotted field paths; _creationTime is implied last */
  size_t nfields;
};

struct table_def {
  char *name;
  struct validator *doc;
  struct index_def *indexes;
  size_t nindexes;
};

struct schema {
  struct table_def *tables;    /* in declaration order */
  size_t ntables;
};

/* Convex limits (spec/convex-formats.md). */
#define SCHEMA_MAX_DOC_BYTES (1024 * 1024)
#define SCHEMA_MAX_DEPTH 16
#define SCHEMA_MAX_FIELDS 1024
#define SCHEMA_MAX_ARRAY 8192
#define SCHEMA_MAX_TOP_FIELD_NAME 64
#define SCHEMA_MAX_FIELD_NAME 1024
#define SCHEMA_MAX_INDEXES 32
#define SCHEMA_MAX_INDEX_FIELDS 16
/* Parser limits: validators nested deeper (through consts too) and
 * expressions nested deeper are refused, so no walk can exhaust the stack. */
#define SCHEMA_MAX_VALIDATOR_DEPTH 64
#define SCHEMA_MAX_EXPR_DEPTH 128

/* --- validators --- */
struct validator *validator_new(enum vkind kind);        /* refs = 1 */
struct validator *validator_ref(struct validator *v);    /* returns v */
void validator_unref(struct validator *v);               /* accepts NULL */
/* Structural equality (field order matters for objects, not for printing). */
int validator_equal(const struct validator *a, const struct validator *b);
/* Canonical one-line text, e.g. v.union(v.string(), v.null()). one_free. */
char *validator_text(const struct validator *v);
/* Convex's JSON form of a validator (new reference). */
json_t *validator_to_json(const struct validator *v);

/* --- schemas --- */

/* Where schema files come from: read(ctx, path) fills a new NUL-terminated
 * buffer (one_free) or returns -1 when there is no such file. */
struct schema_source {
  int (*read)(void *ctx, const char *path, char **text, size_t *len);
  void *ctx;
};

/* Parses the schema whose entry file is `entry` (a path the source knows),
 * following relative imports through src. On error returns a negative code
 * with err->where = "file:line:column". */
int schema_parse(const struct schema_source *src, const char *entry,
                 struct schema **out, struct err *err);
/* Parses one text with no imports but the Convex ones. */
int schema_parse_text(const char *text, size_t len, const char *filename,
                      struct schema **out, struct err *err);
/* Loads a built-in schema by name ("agent-inbox", "one"), a schema file, or a
 * folder holding schema.ts (as a Convex project's convex/ folder). */
int schema_load(const char *name_or_path, struct schema **out, struct err *err);
/* Names of the built-in schemas, NULL-terminated, oldest first. */
const char *const *schema_builtin_names(void);
/* The name of the newest built-in schema ("one"). */
const char *schema_latest_name(void);

void schema_free(struct schema *s);                       /* accepts NULL */
/* Whether the n bytes at s are a user table name: a letter, then letters,
 * digits and _, at most 64 (spec/convex-formats.md). */
int schema_table_name_ok(const char *s, size_t n);
const struct table_def *schema_table(const struct schema *s, const char *name);
const struct index_def *table_index(const struct table_def *t, const char *name);

/* Canonical text in the schema language (one_free). */
char *schema_print(const struct schema *s);
/* Convex's JSON form: {"tables":[{"tableName","documentType","indexes"}]}. */
json_t *schema_to_json(const struct schema *s);

/* --- validation --- */

/* Maps an id's table number to the table's name; NULL when unknown. */
struct id_resolver {
  const char *(*table_name)(void *ctx, uint32_t number);
  void *ctx;
};

enum {
  VALIDATE_SYSTEM_FIELDS = 1, /* require _id (of this table) and _creationTime */
};

/* Validates doc (in-memory encoding, see util/jv.h) as a document of table.
 * Returns 0, or E_SCHEMA with one err detail per problem (err->msg sums up),
 * or E_NOTFOUND when the schema has no such table. */
int schema_validate(const struct schema *s, const char *table, const json_t *doc,
                    const struct id_resolver *ids, int flags, struct err *err);

/* Validates doc as a document of a table that no schema describes (an
 * imported table the schema does not know): system fields as above, other
 * fields any value within Convex's limits and naming rules. */
int schema_validate_untyped(const char *table, const json_t *doc, const struct id_resolver *ids,
                            int flags, struct err *err);

/* Validates one top-level field of a document of table as schema_validate
 * does within the whole document: value against the field's validator
 * (value NULL: the field removed, which it must be optional for). A
 * document that was valid stays valid with the field so changed, since an
 * object's fields are checked one by one. Returns 0, E_SCHEMA (err says
 * why), or SCHEMA_WHOLE_DOC when only the whole document's check can tell:
 * the table is not one object (a union of shapes), the field is a system
 * field or not in the table's validator. */
#define SCHEMA_WHOLE_DOC 1
int schema_validate_field(const struct schema *s, const char *table, const char *field,
                          const json_t *value, const struct id_resolver *ids, struct err *err);

/* Validates any value against one validator; path prefixes error paths. */
int validator_check(const struct validator *v, const json_t *value, const char *path,
                    const struct id_resolver *ids, struct err *err);

#endif
