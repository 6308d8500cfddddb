/* cmd_db: `one db init` and `one db status`. */
#include "cli/cli.h"
#include "schema/schema.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

struct status {
  json_t *out;
};

static int collect_status(struct store_tx *tx, void *arg, struct err *err)
{
  struct status *st = arg;
  char name[128];
  store_schema_name(tx, name, sizeof name);
  json_t *tables = store_tables(tx);
  if (!tables)
    return err_set(err, E_NOMEM, "out of memory");
  size_t i;
  json_t *t;
  json_array_foreach(tables, i, t) {
    int64_t n = 0;
    int rc = store_count(tx, json_string_value(json_object_get(t, "name")), &n, err);
    if (rc) {
      json_decref(tables);
      return rc;
    }
    json_object_set_new(t, "documents", json_integer(n));
  }
  st->out = json_pack("{s:s,s:s,s:o}", "schema", name, "path", "", "tables", tables);
  return st->out ? 0 : err_set(err, E_NOMEM, "out of memory");
}

static int print_status(struct cli *c, struct store *s, int as_json)
{
  struct err err = ERR_INIT;
  struct status st = {NULL};
  if (store_run(s, STORE_READ, collect_status, &st, &err)) {
    int rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  json_object_set_new(st.out, "path", json_string(c->db_path));
  if (as_json) {
    char *text = json_dumps(st.out, JSON_INDENT(2));
    if (text)
      puts(text);
    one_free(text);
  } else {
    const char *schema = json_string_value(json_object_get(st.out, "schema"));
    printf("database  %s\nschema    %s\n", c->db_path, schema[0] ? schema : "(none: run 'one db init')");
    json_t *tables = json_object_get(st.out, "tables");
    printf("tables    %zu\n\n  %-28s %7s %12s\n", json_array_size(tables), "table", "number",
           "documents");
    size_t i;
    json_t *t;
    json_array_foreach(tables, i, t)
      printf("  %-28s %7lld %12lld%s\n", json_string_value(json_object_get(t, "name")),
             (long long)json_integer_value(json_object_get(t, "number")),
             (long long)json_integer_value(json_object_get(t, "documents")),
             json_is_true(json_object_get(t, "inSchema")) ? "" : "  (not in schema)");
  }
  json_decref(st.out);
  return EXIT_OK;
}

int cmd_db_status(struct cli *c)
{
  static const struct cli_opt opts[] = {{"json", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  struct store *s = NULL;
  if (cli_open(c, 1, &s, &err)) {
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  rc = print_status(c, s, cli_flag(c, "json"));
  store_close(s);
  return rc;
}

struct init_arg {
  const char *name;
  struct schema *schema;
  int created;
};

static int init_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct init_arg *a = arg;
  char current[128];
  store_schema_name(tx, current, sizeof current);
  if (current[0])
    return 0; /* already initialised: leave it as it is */
  a->created = 1;
  return store_set_schema(tx, a->name, a->schema, err);
}

int cli_ensure_schema(struct store *s, const char *name, int *created, struct err *err)
{
  struct init_arg a = {name, NULL, 0};
  int rc = schema_load(name, &a.schema, err);
  if (!rc)
    rc = store_run(s, STORE_WRITE, init_tx, &a, err);
  schema_free(a.schema);
  if (created)
    *created = a.created;
  return rc;
}

int cmd_db_init(struct cli *c)
{
  static const struct cli_opt opts[] = {{"schema", 1, 0}, {"json", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  const char *name = cli_opt(c, "schema") ? cli_opt(c, "schema") : schema_latest_name();
  struct err err = ERR_INIT;
  struct store *s = NULL;
  int created = 0;
  if (cli_open(c, 0, &s, &err) || cli_ensure_schema(s, name, &created, &err)) {
    rc = cli_fail(&err);
    err_clear(&err);
    store_close(s);
    return rc;
  }
  if (!cli_flag(c, "json"))
    printf("%s %s\n\n", created ? "created" : "already initialised:", c->db_path);
  rc = print_status(c, s, cli_flag(c, "json"));
  store_close(s);
  return rc;
}
