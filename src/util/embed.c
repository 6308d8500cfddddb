/* embed: lookup in the table of files compiled into the binary. */
#include "util/embed.h"

#include <string.h>

const struct embedded_file *embed_find(const char *path)
{
  for (const struct embedded_file *f = one_embedded_files; f->path; f++)
    if (strcmp(f->path, path) == 0)
      return f;
  return NULL;
}
