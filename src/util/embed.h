/* embed: files compiled into the binary at build time (cmake/embed.cmake).
 * The table ends with an entry whose path is NULL. Paths are relative to the
 * source tree, e.g. "schema/one/schema.ts". */
#ifndef ONE_UTIL_EMBED_H
#define ONE_UTIL_EMBED_H

#include <stddef.h>

struct embedded_file {
  const char *path;
  const char *data; /* NUL-terminated */
  size_t len;
};

extern const struct embedded_file one_embedded_files[];

/* The embedded file at path, or NULL. */
const struct embedded_file *embed_find(const char *path);

#endif
