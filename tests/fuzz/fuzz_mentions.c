/* fuzz_mentions: the mention parser on arbitrary bytes. It must not crash,
 * every mention must lie inside the content in order, and the parts must
 * join back to the content exactly. */
#include "domain/mentions.h"
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
  const char *s = (const char *)data;
  struct mention m[MENTION_MAX_PER_MESSAGE];
  size_t n = mentions_find(s, size, m, MENTION_MAX_PER_MESSAGE);
  size_t prev = 0;
  for (size_t i = 0; i < n; i++) {
    if (m[i].start < prev || m[i].end > size || m[i].start >= m[i].end || s[m[i].start] != '@' ||
        s[m[i].end - 1] != ')' || m[i].name_len == 0 || m[i].name_len > MENTION_MAX_NAME)
      abort();
    prev = m[i].end;
  }
  json_t *parts = mentions_parts(s, size);
  if (parts) { /* NULL only for content that is not UTF-8 */
    size_t i, joined = 0;
    json_t *p;
    json_array_foreach(parts, i, p) {
      json_t *t = json_object_get(p, "text");
      if (t)
        joined += json_string_length(t);
    }
    if (n == 0 && joined != size)
      abort();
    json_decref(parts);
  }
  return 0;
}
