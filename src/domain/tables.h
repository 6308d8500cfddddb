/* tables: list, get, insert, patch and delete on any table of the schema in
 * force, each document checked against the table's policy (policy.h).
 * Reads the actor may not see are left out of lists and answer E_NOTFOUND
 * on get; writes they may not make answer E_PERM (E_NOTFOUND when they may
 * not even see the document). Lists run on one index (op.index, default
 * by_creation_time) with op.eq, so no request scans a table. */
#ifndef ONE_DOMAIN_TABLES_H
#define ONE_DOMAIN_TABLES_H

#include "domain/op.h"

int tables_list(struct store *s, struct op *op, struct err *err);    /* op.table, index, eq… */
int tables_get(struct store *s, struct op *op, struct err *err);     /* op.table, op.id */
int tables_insert(struct store *s, struct op *op, struct err *err);  /* op.table, op.in */
int tables_patch(struct store *s, struct op *op, struct err *err);   /* op.table, op.id, op.in */
int tables_delete(struct store *s, struct op *op, struct err *err);  /* op.table, op.id */

#endif
