/* cmd_port: `one import` and `one export`, Convex snapshots in and out. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "migrate/port.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void on_progress(void *arg, const char *what, size_t done)
{
  progress_update(arg, what, done, 0);
}

static void print_report(const json_t *report, const char *verb, const char *where)
{
  const json_t *tables = json_object_get(report, "tables");
  printf("%s %lld documents in %zu tables %s\n\n  %-28s %7s %10s  %s\n", verb,
         (long long)json_integer_value(json_object_get(report, "documents")),
         json_array_size(tables), where, "table", "number", "documents", "");
  size_t i;
  const json_t *t;
  size_t untyped = 0;
  json_array_foreach(tables, i, t) {
    int typed = json_is_true(json_object_get(t, "inSchema")) ||
                !json_object_get(t, "inSchema");
    untyped += !typed;
    printf("  %-28s %7lld %10lld  %s%s\n", json_string_value(json_object_get(t, "name")),
           (long long)json_integer_value(json_object_get(t, "number")),
           (long long)json_integer_value(json_object_get(t, "documents")),
           json_string_value(json_object_get(t, "encoding")),
           typed ? "" : ", not in the schema: kept as it is");
  }
  if (untyped)
    printf("\n%zu table%s not in the schema %s kept untouched; 'one db status' lists %s.\n",
           untyped, untyped > 1 ? "s" : "", untyped > 1 ? "were" : "was",
           untyped > 1 ? "them" : "it");
}

/* Prints the report (JSON with --json) and frees it. */
static int finish(struct cli *c, json_t *report, const char *verb, const char *where)
{
  if (cli_flag(c, "json")) {
    char *text = json_dumps(report, JSON_INDENT(2));
    if (text)
      puts(text);
    one_free(text);
  } else {
    print_report(report, verb, where);
  }
  json_decref(report);
  return EXIT_OK;
}

int cmd_import(struct cli *c)
{
  static const struct cli_opt opts[] = {{"schema", 1, 0}, {"json", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 1, 1);
  if (rc)
    return rc;
  const char *zip = c->argv[0];
  const char *schema = cli_opt(c, "schema") ? cli_opt(c, "schema") : "agent-inbox";
  struct err err = ERR_INIT;
  if (access(zip, R_OK) != 0) {
    err_set(&err, E_NOTFOUND, "cannot read %s", zip);
    return cli_fail(&err);
  }
  int existed = access(c->db_path, F_OK) == 0;
  struct store *s = NULL;
  json_t *report = NULL;
  struct progress p;
  progress_init(&p);
  struct port_progress pp = {on_progress, &p};
  rc = cli_open(c, 0, &s, &err);
  if (!rc)
    rc = port_import(s, zip, schema, &pp, &report, &err);
  progress_done(&p);
  store_close(s);
  if (rc) {
    if (!existed)
      cli_remove_database(c->db_path, 0); /* nothing half-imported is left behind */
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  char where[4300];
  snprintf(where, sizeof where, "into %s at schema %s", c->db_path, schema);
  return finish(c, report, "imported", where);
}

int cmd_export(struct cli *c)
{
  static const struct cli_opt opts[] = {{"json", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 1, 1);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  struct store *s = NULL;
  json_t *report = NULL;
  struct progress p;
  progress_init(&p);
  struct port_progress pp = {on_progress, &p};
  rc = cli_open(c, 1, &s, &err);
  if (!rc)
    rc = port_export(s, c->argv[0], &pp, &report, &err);
  progress_done(&p);
  store_close(s);
  if (rc) {
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  char where[4300];
  snprintf(where, sizeof where, "to %s", c->argv[0]);
  return finish(c, report, "exported", where);
}
