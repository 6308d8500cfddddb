/* fuzz_validate: arbitrary bytes as JSON, validated against every table of
 * the ONE schema, converted to and from the wire encoding, and encoded as
 * index keys. Nothing may crash or leak, and the wire round trip must give
 * back an equal value. */
#include "schema/schema.h"
#include "store/keys.h"
#include "util/cid.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct schema *one_schema;

static const char *table_name(void *ctx, uint32_t number)
{
  (void)ctx;
  if (number < 10001 || number - 10001 >= one_schema->ntables)
    return NULL;
  return one_schema->tables[number - 10001].name;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  mem_init();
  if (sodium_init() < 0)
    abort();
  struct err err = ERR_INIT;
  if (schema_load("one", &one_schema, &err) != 0)
    abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct err err = ERR_INIT;
  json_t *wire = jv_parse((const char *)data, size, &err);
  err_clear(&err);
  if (!wire)
    return 0;
  json_t *v = jv_from_wire(wire, &err);
  err_clear(&err);
  if (v) {
    json_t *back = jv_to_wire(v);
    json_t *again = back ? jv_from_wire(back, &err) : NULL;
    err_clear(&err);
    if (!again || !json_equal(again, v))
      abort();
    json_decref(again);
    json_decref(back);
  }
  const json_t *doc = v ? v : wire; /* also the raw form, as an import sees it */
  struct id_resolver ids = {table_name, NULL};
  for (size_t i = 0; i < one_schema->ntables; i++) {
    int rc = schema_validate(one_schema, one_schema->tables[i].name, doc, &ids, 0, &err);
    if (rc != 0 && (rc != E_SCHEMA || err.ndetails == 0))
      abort(); /* a refusal always says why */
    err_clear(&err);
  }
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  key_put_value(&b, doc);
  buf_release(&b);
  json_decref(v);
  json_decref(wire);
  return 0;
}
