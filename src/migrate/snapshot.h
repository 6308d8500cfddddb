/* snapshot: Convex snapshot export ZIPs, read and written
 * (spec/convex-formats.md).
 *
 * Reading is a stream: snapshot_read first hands the sink every table with
 * its number (from _tables/documents.jsonl, else from the table number in
 * its first document's _id), then each document in ONE's in-memory encoding
 * (util/jv.h), with the entry and line it came from. Both value encodings
 * are decoded exactly: the current "uniform" one, and the legacy one whose
 * shapes are in generated_schema.jsonl (migrate/shape.h). Any malformed
 * entry or line stops the read with an error naming file and line, so a
 * caller that writes inside one transaction never keeps half an import.
 *
 * What the reader refuses rather than drop: component tables
 * (_components/) and stored files (_storage/), which ONE cannot hold, and
 * entries it does not recognise.
 *
 * Writing builds a snapshot in the current format: README.md first, then
 * _tables/documents.jsonl, then each table's documents.jsonl (one compact
 * document per line) and generated_schema.jsonl ("uniform"), all deflated.
 * Table contents go through temporary files, so a large database is not held
 * in memory; the archive appears under its name only when complete. */
#ifndef ONE_MIGRATE_SNAPSHOT_H
#define ONE_MIGRATE_SNAPSHOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The longest line read from a .jsonl entry. */
#define SNAPSHOT_MAX_LINE (8u * 1024 * 1024)

struct snapshot_table {
  char name[65];
  uint32_t number;      /* 0 when the snapshot does not say (an empty table) */
  int legacy;           /* values in the legacy encoding */
  size_t documents;     /* filled as documents are read */
};

struct snapshot_sink {
  void *arg;
  /* Every table, before any document. */
  int (*tables)(void *arg, const struct snapshot_table *t, size_t n, struct err *err);
  /* One document (borrowed), of table t, from file:line. */
  int (*doc)(void *arg, const struct snapshot_table *t, const json_t *doc, const char *file,
             size_t line, struct err *err);
};

/* Reads the ZIP at path, or the n bytes at data (path NULL). */
int snapshot_read(const char *path, const void *data, size_t n, const struct snapshot_sink *sink,
                  struct err *err);

/* Decodes one line of a documents.jsonl: in the uniform encoding when shape
 * text is NULL, else in the legacy encoding with that table shape and the
 * table's overrides (an object id -> context, or NULL). A new value, or NULL
 * with err set. Exposed for the fuzz target and tests. */
struct shape;
json_t *snapshot_decode_line(const char *line, size_t len, const struct shape *shape, int legacy,
                             const json_t *overrides, struct err *err);

struct snapshot_writer;

/* Starts a snapshot to be written at path (refused when path exists). */
int snapshot_writer_open(const char *path, struct snapshot_writer **out, struct err *err);
/* Starts a table; documents follow with snapshot_writer_doc. */
int snapshot_writer_table(struct snapshot_writer *w, const char *name, uint32_t number,
                          struct err *err);
/* Appends one document's JSON text (uniform encoding, one line, no newline). */
int snapshot_writer_doc(struct snapshot_writer *w, const char *text, size_t len, struct err *err);
/* Writes the archive and frees w; on failure nothing is left at path. */
int snapshot_writer_close(struct snapshot_writer *w, struct err *err);
/* Abandons the snapshot and frees w (accepts NULL). */
void snapshot_writer_abort(struct snapshot_writer *w);

#endif
