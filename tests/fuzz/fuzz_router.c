/* fuzz_router: the route matcher on arbitrary methods and paths. It must
 * not crash, parameters must be non-empty slices without '/', and a match
 * must agree with the table's method. */
#include "http/routes.h"
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
  /* first line: method, rest: path */
  char buf[HTTP_MAX_PATH + 64];
  if (size >= sizeof buf)
    return 0;
  memcpy(buf, data, size);
  buf[size] = '\0';
  char *nl = strchr(buf, '\n');
  const char *method = "GET", *path = buf;
  if (nl) {
    *nl = '\0';
    method = buf;
    path = nl + 1;
  }
  const char *params[HTTP_MAX_PARAMS];
  size_t n = 0;
  char seg[HTTP_MAX_PATH], allow[64];
  int r = route_match(method, path, params, &n, seg, sizeof seg, allow, sizeof allow);
  if (r >= 0) {
    if ((size_t)r >= nroutes || strcmp(routes[r].method, method) != 0 || n > HTTP_MAX_PARAMS)
      abort();
    for (size_t i = 0; i < n; i++)
      if (!params[i][0] || strchr(params[i], '/'))
        abort();
  } else if (strlen(allow) >= sizeof allow) {
    abort();
  }
  return 0;
}
