/* fuzz_body: arbitrary bytes as a request body, through what every handler
 * does with one: the Content-Type check and JSON parse (http_parse_body),
 * the Convex wire decoding, the field checks of the domain, the mention
 * scan of message content, and the error body a refusal renders. Nothing
 * may crash or leak, and every refusal must render a well-formed error.
 * The stored text of an accepted body also goes through util/jtext, whose
 * one-pass scan must agree with its field lookup and integer check. */
#include "domain/mentions.h"
#include "domain/op.h"
#include "http/http.h"
#include "util/jtext.h"
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

/* jtext_scan against jtext_field and jtext_has_integer on text t. */
static void check_jtext(const char *t, size_t n)
{
  const char *v1 = NULL, *v2 = NULL;
  size_t l1 = 0, l2 = 0;
  int has = 0, want = jtext_field(t, n, "content", &v1, &l1);
  int got = jtext_scan(t, n, "content", &v2, &l2, &has);
  if (want < 0 || got < 0)
    return; /* not an object: both say so, in their own way */
  if (has != jtext_has_integer(t, n))
    abort();
  if (want == 1 && v1[0] == '"' ? got != 1 || l1 != l2 || memcmp(v1, v2, l1) != 0
                                : got != (want == 1 ? 2 : 0))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  {
    const char *v = NULL;
    size_t l = 0;
    int has = 0;
    (void)jtext_scan((const char *)data, size, "content", &v, &l, &has); /* any bytes */
  }
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
  char *stored = jv_dumps(in);
  if (stored)
    check_jtext(stored, strlen(stored));
  one_free(stored);
  json_t *back = jv_to_wire(in);
  if (!back)
    abort();
  json_decref(back);
  json_decref(in);
  json_decref(wire);
  return 0;
}
