/* dq: small document helpers shared by the domain modules: the first
 * document of an index prefix, field access, and ids checked for their
 * table. They run inside a caller's transaction. */
#ifndef ONE_DOMAIN_DQ_H
#define ONE_DOMAIN_DQ_H

#include <jansson.h>

#include "store/store.h"

/* The first document of table's index whose leading fields equal eq (an
 * array, borrowed) into *doc (new reference), or *doc = NULL when none. */
int dq_first(struct store_tx *tx, const char *table, const char *index, const json_t *eq,
             json_t **doc, struct err *err);
/* Same with one string key. */
int dq_first_str(struct store_tx *tx, const char *table, const char *index, const char *key,
                 json_t **doc, struct err *err);
/* The document with id if it is in table, into *doc; E_NOTFOUND (with what,
 * e.g. "conversation", in the message) when there is none or the id is of
 * another table or malformed. */
int dq_get(struct store_tx *tx, const char *table, const char *id, const char *what,
           json_t **doc, struct err *err);
/* The stored JSON text of the first document of table's index whose
 * leading fields equal eq, into *text (one_free) and *len; *text = NULL
 * when none. For hot read paths that need a few fields, not a parse. */
int dq_first_text(struct store_tx *tx, const char *table, const char *index, const json_t *eq,
                  char **text, size_t *len, struct err *err);
/* Same with one string key (as dq_first_str). */
int dq_first_text_str(struct store_tx *tx, const char *table, const char *index, const char *key,
                      char **text, size_t *len, struct err *err);
/* The stored text of document id (*n bytes, one_free) when it is in table
 * and its string fields fields[0..k) hold values[0..k); NULL otherwise
 * (also when id is "" or gone). For hints: an id remembered from an index
 * lookup is used only when the document there still matches that lookup. */
char *dq_text_at(struct store_tx *tx, const char *id, const char *table,
                 const char *const *fields, const char *const *values, size_t k, size_t *n);
/* Fields of stored document text t (n bytes), read without parsing it
 * (strings and booleans: jtext_str, jtext_bool): a number (float64 or
 * int64, or dflt), whether a field is there at all. */
double dq_text_num(const char *t, size_t n, const char *field, double dflt);
int dq_text_has(const char *t, size_t n, const char *field);
/* The string field of document id, read from its stored text, into out
 * (cap bytes): 1 read, 0 when the document, the field or room for it is
 * missing (out is then ""). */
int dq_str_of(struct store_tx *tx, const char *id, const char *field, char *out, size_t cap);
/* A string field of doc, or "" (never NULL). */
const char *dq_str(const json_t *doc, const char *field);
/* A boolean field of doc (false when missing). */
int dq_bool(const json_t *doc, const char *field);
/* A number field (float64 or int64) of doc, or dflt. */
double dq_num(const json_t *doc, const char *field, double dflt);
/* 1 when the array list holds the string s. */
int dq_list_has(const json_t *list, const char *s);
/* 1 when id is a well-formed id of table (no lookup). */
int dq_is_id_of(struct store_tx *tx, const char *id, const char *table);

#endif
