/* fuzz_schema: the schema parser on arbitrary text. It must never crash or
 * leak, and a schema it accepts must print to text that parses back to the
 * same schema and prints identically (canonical form). */
#include "schema/schema.h"
#include "util/mem.h"

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
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct err err = ERR_INIT;
  struct schema *s = NULL;
  if (schema_parse_text((const char *)data, size, "fuzz.ts", &s, &err) != 0) {
    if (!err.code || !err.msg[0])
      abort(); /* every refusal carries a message */
    err_clear(&err);
    return 0;
  }
  char *text = schema_print(s);
  struct schema *again = NULL;
  if (!text || schema_parse_text(text, strlen(text), "printed.ts", &again, &err) != 0)
    abort();
  char *text2 = schema_print(again);
  if (!text2 || strcmp(text, text2) != 0 || again->ntables != s->ntables)
    abort();
  for (size_t i = 0; i < s->ntables; i++)
    if (!validator_equal(s->tables[i].doc, again->tables[i].doc))
      abort();
  one_free(text);
  one_free(text2);
  schema_free(again);
  schema_free(s);
  return 0;
}
