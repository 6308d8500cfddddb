/* fuzz_snapshot: arbitrary bytes as a snapshot ZIP through the whole reader:
 * libzip's parse of the archive, the entry classification, _tables and
 * generated_schema.jsonl (shapes and override contexts), and every
 * documents.jsonl line in both encodings. Every document handed to the sink
 * must be a well-formed Convex value with an _id of its table; nothing may
 * crash or leak. */
#include "migrate/snapshot.h"
#include "schema/schema.h"
#include "util/cid.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  mem_init();
  if (sodium_init() < 0)
    abort();
  return 0;
}

static int on_tables(void *arg, const struct snapshot_table *t, size_t n, struct err *err)
{
  (void)arg;
  (void)err;
  for (size_t i = 0; i < n; i++)
    if (!t[i].name[0] || t[i].name[0] == '_')
      abort();
  return 0;
}

static int on_doc(void *arg, const struct snapshot_table *t, const json_t *doc, const char *file,
                  size_t line, struct err *err)
{
  (void)arg;
  (void)file;
  const char *id = json_string_value(json_object_get(doc, "_id"));
  if (!id || cid_table(id, strlen(id)) != t->number || line == 0)
    abort();
  /* the value must be checkable without crashing; refusals are fine */
  struct err e = ERR_INIT;
  schema_validate_untyped(t->name, doc, NULL, 0, &e);
  err_clear(&e);
  (void)err;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct snapshot_sink sink = {NULL, on_tables, on_doc};
  struct err err = ERR_INIT;
  if (snapshot_read(NULL, data, size, &sink, &err) && !err.msg[0])
    abort(); /* every refusal says why */
  err_clear(&err);
  return 0;
}
