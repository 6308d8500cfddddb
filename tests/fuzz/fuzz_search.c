/* fuzz_search: search queries on arbitrary bytes. Every query must become
 * a valid FTS5 query (its words only: a search never fails on what a user
 * typed) and the embedder must take any bytes; the store is a small
 * database made once, with the ONE schema and a few knowledge items. */
#include "domain/knowledge.h"
#include "schema/schema.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static char owner[CID_MAX];

static int setup_tx(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  struct schema *sc = NULL;
  int rc = schema_load("one", &sc, err);
  if (!rc)
    rc = store_set_schema(tx, "one", sc, err);
  schema_free(sc);
  json_t *u = json_pack("{s:s,s:s,s:f}", "name", "Ann", "email", "ann@example.org", "createdAt", 1.0);
  if (!rc)
    rc = store_insert(tx, "users", u, 0, owner, err);
  json_decref(u);
  static const char *const items[] = {"inconsistent leads", "the webinar is on Tuesdays",
                                      "prices start at 300 dollars \"quoted\" AND NEAR(x)"};
  for (size_t i = 0; !rc && i < 3; i++)
    rc = knowledge_add_tx(tx, owner, items[i], NULL, NULL, NULL, err);
  return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  mem_init();
  char dir[] = "/tmp/fuzz_search.XXXXXX";
  if (!mkdtemp(dir))
    abort();
  char path[64];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF, .search = knowledge_spaces()};
  struct err err = ERR_INIT;
  if (store_open(&so, &st, &err) || store_run(st, STORE_WRITE, setup_tx, NULL, &err))
    abort();
  return 0;
}

static int search_tx(struct store_tx *tx, void *arg, struct err *err)
{
  const char *q = arg;
  struct store_hit *h = NULL;
  size_t n = 0;
  int rc = store_search_text(tx, "knowledge", owner, q, 10, &h, &n, err);
  one_free(h);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  char *q = malloc(size + 1);
  if (!q)
    return 0;
  memcpy(q, data, size);
  q[size] = '\0';
  struct err err = ERR_INIT;
  if (store_run(st, STORE_READ, search_tx, q, &err) != 0)
    abort(); /* a query the FTS5 syntax refused */
  float v[TEXTVEC_DIM];
  textvec_embed(q, size, v);
  float len = textvec_dot(v, v, TEXTVEC_DIM);
  if (!(len < 1e-6f || fabsf(len - 1.0f) < 1e-4f))
    abort();
  free(q);
  return 0;
}
