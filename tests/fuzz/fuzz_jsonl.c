/* fuzz_jsonl: one snapshot line in the legacy encoding. The input's first
 * line is a table shape (generated_schema.jsonl line 1, unquoted), the
 * second an override context, the rest a documents.jsonl line; the line is
 * also decoded as uniform. Decoding must never crash or leak; a decoded
 * legacy document must hold only well-formed values. */
#include "migrate/shape.h"
#include "migrate/snapshot.h"
#include "util/jv.h"
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

static int well_formed(const json_t *v)
{
  enum jv_type t = jv_type(v);
  if (t == JV_INVALID)
    return 0;
  size_t i;
  const char *k;
  json_t *x;
  if (t == JV_ARRAY)
    json_array_foreach(v, i, x) if (!well_formed(x)) return 0;
  if (t == JV_OBJECT)
    json_object_foreach((json_t *)v, k, x) if (k[0] == '$' || !well_formed(x)) return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  const char *nl1 = memchr(p, '\n', size);
  if (!nl1)
    return 0;
  const char *nl2 = memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1));
  if (!nl2)
    return 0;
  struct err err = ERR_INIT;
  struct shape *shape = NULL;
  if (shape_parse(p, (size_t)(nl1 - p), &shape, &err)) {
    err_clear(&err);
    shape = NULL;
  }
  json_t *overrides = json_object();
  json_t *ctx = json_loadb(nl1 + 1, (size_t)(nl2 - nl1 - 1), JSON_DECODE_ANY, NULL);
  struct err e2 = ERR_INIT;
  if (ctx && shape_check_context(ctx, &e2) == 0) {
    json_t *raw = json_loadb(nl2 + 1, (size_t)(end - nl2 - 1), JSON_DECODE_ANY, NULL);
    const char *id = json_string_value(json_object_get(raw, "_id"));
    if (id)
      json_object_set(overrides, id, ctx);
    json_decref(raw);
  }
  err_clear(&e2);
  json_decref(ctx);
  json_t *doc = snapshot_decode_line(nl2 + 1, (size_t)(end - nl2 - 1), shape, 1, overrides, &err);
  if (doc && !well_formed(doc))
    abort();
  json_decref(doc);
  err_clear(&err);
  doc = snapshot_decode_line(nl2 + 1, (size_t)(end - nl2 - 1), NULL, 0, NULL, &err);
  json_decref(doc);
  err_clear(&err);
  json_decref(overrides);
  shape_free(shape);
  return 0;
}
