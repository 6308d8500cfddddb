/* fuzz_llm: what ONE reads from a model, on arbitrary bytes: a whole chat
 * completion, the same bytes as a stream fed in two pieces split at a point
 * the input chooses, the bytes as a tool call's arguments checked against
 * tool schemas, and as an embeddings answer (a vector read is finite and of
 * length 1). None may crash or leak; a parse that succeeds gives
 * calls with names and arguments; a refused argument names a path. */
#include "agents/embeddings.h"
#include "agents/jschema.h"
#include "agents/llm.h"
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

static void check(const struct llm_result *r)
{
  for (size_t i = 0; i < r->ncalls; i++)
    if (!r->calls[i].id || !r->calls[i].name || !r->calls[i].name[0] || !r->calls[i].arguments)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct err err = ERR_INIT;
  struct llm_result *r = one_calloc(1, sizeof *r);
  if (llm_parse_completion((const char *)data, size, r, &err) == 0)
    check(r);
  llm_result_free(r);
  err_clear(&err);

  size_t cut = size ? data[0] % size : 0;
  struct llm_stream *st = llm_stream_new(NULL, NULL);
  r = one_calloc(1, sizeof *r);
  if (st && r && llm_stream_feed(st, (const char *)data, cut, 1 << 16, &err) == 0 &&
      llm_stream_feed(st, (const char *)data + cut, size - cut, 1 << 16, &err) == 0 &&
      llm_stream_finish(st, r, &err) >= 0)
    check(r);
  llm_result_free(r);
  llm_stream_free(st);
  err_clear(&err);

  static const char *const schemas[] = {
    "{\"type\":\"object\",\"properties\":{\"agentId\":{\"type\":\"string\",\"minLength\":1},"
    "\"message\":{\"type\":\"string\",\"maxLength\":20000}},\"required\":[\"agentId\",\"message\"],"
    "\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{\"at\":{\"type\":\"number\",\"minimum\":0},\"n\":"
    "{\"type\":\"integer\",\"maximum\":9},\"tags\":{\"type\":\"array\",\"items\":{\"enum\":"
    "[\"a\",\"b\"]}},\"deep\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"boolean\"}}}}}",
  };
  json_error_t je;
  json_t *args = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
  for (size_t i = 0; args && i < sizeof schemas / sizeof schemas[0]; i++) {
    json_t *schema = json_loads(schemas[i], 0, &je);
    if (jschema_check(schema, args, &err) && strncmp(err.msg, "arguments", 9) != 0)
      abort(); /* every refusal names where */
    err_clear(&err);
    json_decref(schema);
  }
  json_decref(args);

  float v[TEXTVEC_DIM];
  if (embeddings_parse((const char *)data, size, v, &err) == 0) {
    double norm = 0;
    for (size_t i = 0; i < TEXTVEC_DIM; i++)
      norm += (double)v[i] * (double)v[i];
    if (!(norm > 0.99 && norm < 1.01))
      abort();
  }
  err_clear(&err);
  return 0;
}
