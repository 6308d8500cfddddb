/* port: import of a Convex snapshot into a new database, export of a
 * database as a snapshot. */
#include "migrate/port.h"

#include "migrate/snapshot.h"
#include "schema/schema.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

#define PROGRESS_EVERY 10000

struct importer {
  struct store_tx *tx;
  struct schema *schema;
  const char *schema_name;
  const struct port_progress *progress;
  json_t *tables;           /* the report's table list */
  size_t documents;
};

static void report_progress(const struct port_progress *p, const char *what, size_t done)
{
  if (p && p->fn)
    p->fn(p->arg, what, done);
}

static int import_tables(void *arg, const struct snapshot_table *t, size_t n, struct err *err)
{
  struct importer *im = arg;
  for (size_t i = 0; i < n; i++) {
    if (!t[i].number)
      continue; /* an empty table without a number: the schema numbers it, if it has it */
    int rc = store_add_table(im->tx, t[i].name, t[i].number, err);
    if (rc)
      return rc;
  }
  int rc = store_set_schema(im->tx, im->schema_name, im->schema, err);
  for (size_t i = 0; !rc && i < n; i++) {
    int typed = schema_table(im->schema, t[i].name) != NULL;
    json_t *row = json_pack("{s:s,s:I,s:i,s:b,s:s}", "name", t[i].name, "number",
                            (json_int_t)t[i].number, "documents", 0, "inSchema", typed,
                            "encoding", t[i].legacy ? "legacy" : "uniform");
    if (!row || json_array_append_new(im->tables, row))
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  return rc;
}

static int import_doc(void *arg, const struct snapshot_table *t, const json_t *doc,
                      const char *file, size_t line, struct err *err)
{
  struct importer *im = arg;
  int typed = schema_table(im->schema, t->name) != NULL;
  int flags = STORE_KEEP_SYSTEM | (typed ? 0 : STORE_UNTYPED);
  int rc = store_insert(im->tx, t->name, doc, flags, NULL, err);
  if (rc) {
    char where[200], msg[sizeof err->msg];
    snprintf(where, sizeof where, "%s:%zu", file, line);
    snprintf(msg, sizeof msg, "%s", err->msg);
    /* keep the per-path details; put file:line in front of the summary */
    err->code = 0;
    err_set_at(err, rc, where, "%s: %s", where, msg);
    return rc;
  }
  im->documents++;
  if (im->documents % PROGRESS_EVERY == 0)
    report_progress(im->progress, "documents imported", im->documents);
  return 0;
}

static int empty_database(struct store_tx *tx, struct err *err)
{
  char name[128];
  store_schema_name(tx, name, sizeof name);
  json_t *tables = store_tables(tx);
  size_t n = json_array_size(tables);
  json_decref(tables);
  if (name[0] || n)
    return err_set(err, E_CONFLICT, "the database already holds data (schema %s, %zu tables); "
                   "import into a new database", name[0] ? name : "none", n);
  return 0;
}

int port_import(struct store *s, const char *zip_path, const char *schema_name,
                const struct port_progress *progress, json_t **report, struct err *err)
{
  *report = NULL;
  struct importer im = {0};
  im.schema_name = schema_name;
  im.progress = progress;
  int rc = schema_load(schema_name, &im.schema, err);
  if (rc)
    return rc;
  im.tables = json_array();
  if (!im.tables)
    rc = err_set(err, E_NOMEM, "out of memory");
  if (!rc)
    rc = store_begin(s, STORE_WRITE, &im.tx, err);
  if (!rc)
    rc = empty_database(im.tx, err);
  struct snapshot_sink sink = {&im, import_tables, import_doc};
  if (!rc)
    rc = snapshot_read(zip_path, NULL, 0, &sink, err);
  if (!rc) {
    /* the report's per-table counts, from the store itself */
    size_t i;
    json_t *row;
    json_array_foreach(im.tables, i, row) {
      int64_t n = 0;
      if ((rc = store_count(im.tx, json_string_value(json_object_get(row, "name")), &n, err)))
        break;
      json_object_set_new(row, "documents", json_integer(n));
    }
  }
  if (!rc) {
    rc = store_commit(im.tx, err);
    im.tx = NULL;
  }
  store_rollback(im.tx);
  schema_free(im.schema);
  if (rc) {
    json_decref(im.tables);
    return rc;
  }
  *report = json_pack("{s:I,s:o}", "documents", (json_int_t)im.documents, "tables", im.tables);
  return *report ? 0 : err_set(err, E_NOMEM, "out of memory");
}

/* --- export --- */

struct export_arg {
  struct snapshot_writer *w;
  const struct port_progress *progress;
  size_t total;
  int64_t count;
};

static int export_doc(void *arg, const json_t *doc, const char *text, size_t len,
                      struct err *err)
{
  (void)doc;
  struct export_arg *a = arg;
  a->count++;
  if (++a->total % PROGRESS_EVERY == 0)
    report_progress(a->progress, "documents exported", a->total);
  return snapshot_writer_doc(a->w, text, len, err);
}

int port_export(struct store *s, const char *zip_path, const struct port_progress *progress,
                json_t **report, struct err *err)
{
  *report = NULL;
  struct store_tx *tx = NULL;
  json_t *tables = NULL;
  struct export_arg a = {NULL, progress, 0, 0};
  int rc = store_begin(s, STORE_READ, &tx, err);
  if (!rc)
    rc = snapshot_writer_open(zip_path, &a.w, err);
  if (!rc && !(tables = store_tables(tx)))
    rc = err_set(err, E_NOMEM, "out of memory");
  size_t i;
  json_t *row;
  json_array_foreach(tables, i, row) {
    if (rc)
      break;
    const char *name = json_string_value(json_object_get(row, "name"));
    uint32_t number = (uint32_t)json_integer_value(json_object_get(row, "number"));
    a.count = 0;
    rc = snapshot_writer_table(a.w, name, number, err);
    if (!rc)
      rc = store_each(tx, name, 1, export_doc, &a, err);
    json_object_set_new(row, "documents", json_integer(a.count));
    json_object_set_new(row, "encoding", json_string("uniform"));
  }
  store_rollback(tx); /* a read transaction: nothing to keep */
  if (!rc) {
    rc = snapshot_writer_close(a.w, err);
    a.w = NULL;
  }
  snapshot_writer_abort(a.w);
  if (rc) {
    json_decref(tables);
    return rc;
  }
  *report = json_pack("{s:I,s:o}", "documents", (json_int_t)a.total, "tables", tables);
  return *report ? 0 : err_set(err, E_NOMEM, "out of memory");
}
