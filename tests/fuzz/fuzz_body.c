/* fuzz_body: arbitrary bytes as a request body, through what every handler
 * does with one: the Content-Type check and JSON parse (http_parse_body),
 * the Convex wire decoding, the field checks of the domain, the mention
 * scan of message content, and the error body a refusal renders. Nothing
 * may crash or leak, and every refusal must render a well-formed error. */
#include "domain/mentions.h"
#include "domain/op.h"
#include "http/http.h"
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

/* A refusal must render {"error":{"code","message","path"}} with a status. */
static void check_refusal(const struct err *err)
{
  struct http_res res;
  memset(&res, 0, sizeof res);
  http_reply_err(&res, err);
  json_t *e = json_object_get(res.json, "error");
  if (res.status < 400 || !json_is_string(json_object_get(e, "code")) ||
      !json_is_string(json_object_get(e, "message")) || !json_is_string(json_object_get(e, "path")))
    abort();
  json_decref(res.json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  /* the first byte picks the Content-Type; with 3 the rest up to a NUL is it */
  const char *types[] = {NULL, "application/json", "application/json; charset=utf-8"};
  const char *type = data[0] < 3 ? types[data[0]] : NULL;
  const char *body = (const char *)data + 1;
  size_t len = size - 1;
  char custom[64];
  if (data[0] == 3) {
    size_t k = strnlen(body, len < sizeof custom - 1 ? len : sizeof custom - 1);
    memcpy(custom, body, k);
    custom[k] = '\0';
    type = custom;
    body += k < len ? k + 1 : k;
    len -= k < len ? k + 1 : k;
  }
  struct err err = ERR_INIT;
  json_t *wire = NULL;
  if (http_parse_body(type, body, len, &wire, &err) != 0) {
    if (wire)
      abort(); /* no partial result */
    check_refusal(&err);
    err_clear(&err);
    return 0;
  }
  json_t *in = jv_from_wire(wire, &err);
  if (!in) {
    check_refusal(&err);
    err_clear(&err);
    json_decref(wire);
    return 0;
  }
  static const char *const fields[] = {"content", "title", "name", "description", "tags", NULL};
  if (op_only_fields(in, "things", fields, &err) != 0)
    check_refusal(&err);
  err_clear(&err);
  const char *content = json_string_value(json_object_get(in, "content"));
  if (content) {
    json_t *parts = mentions_parts(content, strlen(content));
    if (!parts)
      abort();
    json_decref(parts);
  }
  json_t *back = jv_to_wire(in);
  if (!back)
    abort();
  json_decref(back);
  json_decref(in);
  json_decref(wire);
  return 0;
}
