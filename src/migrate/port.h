/* port: Convex snapshots into and out of ONE's store.
 *
 * port_import reads a snapshot (migrate/snapshot.h) into a database that
 * holds nothing yet, at a given schema version (agent-inbox for a legacy
 * deployment), in one write transaction: every table keeps its number,
 * every document its _id and _creationTime, and every document is validated
 * against that schema. Tables the schema does not know are kept as they are
 * (untyped) and reported. The first bad line or refused document rolls
 * everything back; its error names file and line.
 *
 * port_export writes every table of the database, in the schema or not, as a
 * snapshot in the current ("uniform") format, from one read transaction, so
 * the archive is a consistent picture even while the server writes.
 *
 * Reports are JSON: {"documents": N, "tables": [{"name", "number",
 * "documents", "inSchema", "encoding"}]}. */
#ifndef ONE_MIGRATE_PORT_H
#define ONE_MIGRATE_PORT_H

#include <jansson.h>

#include "store/store.h"
#include "util/err.h"

/* Called now and then on long work: documents done so far. */
struct port_progress {
  void (*fn)(void *arg, const char *what, size_t done);
  void *arg;
};

int port_import(struct store *s, const char *zip_path, const char *schema_name,
                const struct port_progress *progress, json_t **report, struct err *err);

int port_export(struct store *s, const char *zip_path, const struct port_progress *progress,
                json_t **report, struct err *err);

#endif
