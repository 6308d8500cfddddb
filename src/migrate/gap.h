/* gap: the gap analysis with real data: for each finding of a schema diff,
 * how many documents of the database the target schema would refuse, and
 * why.
 *
 * Every document of every table the database holds is validated against
 * the target; each problem is charged to the finding of its top-level field
 * (a document counts once per finding), and problems no finding explains
 * are charged to the table. A table the target lacks charges all its
 * documents to its removal finding. Runs in one read transaction. */
#ifndef ONE_MIGRATE_GAP_H
#define ONE_MIGRATE_GAP_H

#include <jansson.h>

#include "schema/diff.h"
#include "store/store.h"

/* *out: an array parallel to d's findings, each {"documents": N,
 * "reasons": {reason: N}}, followed by {"table", "documents", "reasons"}
 * entries for problems no finding explains, and for tables neither schema
 * knows (with "untyped": true; they are kept as they are). */
int gap_count(struct store *s, const struct schema *to, const struct schema_diff *d,
              json_t **out, struct err *err);

#endif
