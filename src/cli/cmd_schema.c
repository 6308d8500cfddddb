/* cmd_schema: `one schema show` and `one schema check`. */
#include "cli/cli.h"
#include "schema/schema.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>

/* Loads the schema c->argv[0] names, or prints why not (returns nonzero). */
static int load(struct cli *c, struct schema **s)
{
  struct err err = ERR_INIT;
  if (schema_load(c->argv[0], s, &err) == 0)
    return 0;
  int rc = cli_fail(&err);
  err_clear(&err);
  return rc;
}

int cmd_schema_show(struct cli *c)
{
  static const struct cli_opt opts[] = {{"json", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 1, 1);
  struct schema *s = NULL;
  if (rc || (rc = load(c, &s)))
    return rc;
  char *text = NULL;
  if (cli_flag(c, "json")) {
    json_t *j = schema_to_json(s);
    text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    json_decref(j);
  } else {
    text = schema_print(s);
  }
  schema_free(s);
  if (!text) {
    fprintf(stderr, "one: out of memory\n");
    return EXIT_FAIL;
  }
  fputs(text, stdout);
  if (cli_flag(c, "json"))
    fputc('\n', stdout);
  one_free(text);
  return EXIT_OK;
}

int cmd_schema_check(struct cli *c)
{
  int rc = cli_args(c, NULL, 1, 1);
  struct schema *s = NULL;
  if (rc || (rc = load(c, &s)))
    return rc;
  size_t nix = 0;
  for (size_t i = 0; i < s->ntables; i++)
    nix += s->tables[i].nindexes;
  printf("%s: ok, %zu tables, %zu indexes\n", c->argv[0], s->ntables, nix);
  schema_free(s);
  return EXIT_OK;
}
