/* cmd_schema: `one schema show`, `one schema check` and `one schema diff`. */
#include "cli/cli.h"
#include "migrate/gap.h"
#include "migrate/plan.h"
#include "schema/diff.h"
#include "schema/schema.h"
#include "util/jv.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* --- schema diff --- */

static json_t *findings_json(const struct schema_diff *d, const json_t *counts)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < d->n; i++) {
    const struct diff_finding *f = &d->f[i];
    const char *res = f->what == DIFF_FIELD ? plan_resolution(f->table, f->name)
                      : f->what == DIFF_TABLE && f->cls == DIFF_REMOVAL
                          ? plan_resolution(f->table, "")
                      : f->what == DIFF_TABLE ? "created, empty, by the expand step"
                      : f->cls == DIFF_REMOVAL ? "kept while both versions are served; dropped "
                                                 "by the contract step"
                                               : "built by the expand step";
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s?,s:s,s:s?}", "what", diff_what_name(f->what),
                          "class", diff_class_name(f->cls), "table", f->table, "name", f->name,
                          "from", f->from, "to", f->to, "note", f->note, "resolution", res);
    const json_t *c = counts ? json_array_get(counts, i) : NULL;
    if (o && c) {
      json_object_set(o, "documents", json_object_get(c, "documents"));
      json_object_set(o, "reasons", json_object_get(c, "reasons"));
    }
    json_array_append_new(a, o);
  }
  for (size_t i = d->n; counts && i < json_array_size(counts); i++) {
    json_t *c = json_array_get(counts, i);
    int untyped = json_is_true(json_object_get(c, "untyped"));
    json_array_append_new(
      a, json_pack("{s:s,s:s,s:O,s:s,s:s,s:O,s:O,s:s?}", "what", untyped ? "table" : "documents",
                   "class", untyped ? "outside both schemas" : "invalid", "table",
                   json_object_get(c, "table"), "name", "", "note",
                   untyped ? "a table neither schema knows, kept from the import"
                           : "documents with problems no schema change explains",
                   "documents", json_object_get(c, "documents"), "reasons",
                   json_object_get(c, "reasons"), "resolution",
                   untyped ? "kept as it is, untyped; exported as it is" : NULL));
  }
  return a;
}

static void print_findings(const char *from, const char *to, const json_t *findings, int data)
{
  size_t counts[7] = {0};
  static const char *const classes[] = {"safe addition", "widening", "narrowing",
                                        "rename or type change", "removal", "invalid",
                                        "outside both schemas"};
  size_t i;
  const json_t *f;
  json_array_foreach(findings, i, f)
    for (size_t k = 0; k < 7; k++)
      counts[k] += strcmp(json_string_value(json_object_get(f, "class")), classes[k]) == 0;
  printf("%s -> %s: %zu findings (", from, to, json_array_size(findings));
  for (size_t k = 0, first = 1; k < 7; k++)
    if (counts[k]) {
      printf("%s%zu %s", first ? "" : ", ", counts[k], classes[k]);
      first = 0;
    }
  printf(")\n");
  const char *table = "";
  json_array_foreach(findings, i, f) {
    const char *t = json_string_value(json_object_get(f, "table"));
    if (strcmp(t, table) != 0)
      printf("\n%s\n", t);
    table = t;
    const char *name = json_string_value(json_object_get(f, "name"));
    const char *what = json_string_value(json_object_get(f, "what"));
    printf("  %-22s %-6s %s\n", json_string_value(json_object_get(f, "class")), what,
           name ? name : "");
    const char *fr = json_string_value(json_object_get(f, "from"));
    const char *tt = json_string_value(json_object_get(f, "to"));
    if (fr || tt)
      printf("      %s  ->  %s\n", fr ? fr : "(none)", tt ? tt : "(none)");
    printf("      %s\n", json_string_value(json_object_get(f, "note")));
    if (data && json_object_get(f, "documents")) {
      json_int_t n = json_integer_value(json_object_get(f, "documents"));
      printf("      documents affected: %lld\n", (long long)n);
      const char *reason;
      json_t *c;
      json_object_foreach(json_object_get(f, "reasons"), reason, c)
        printf("        %6lld  %s\n", (long long)json_integer_value(c), reason);
    }
    const char *res = json_string_value(json_object_get(f, "resolution"));
    if (res)
      printf("      resolution: %s\n", res);
  }
}

int cmd_schema_diff(struct cli *c)
{
  static const struct cli_opt opts[] = {{"json", 0, 0}, {"data", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 2, 2);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  struct schema *from = NULL, *to = NULL;
  struct schema_diff d = {0};
  struct store *s = NULL;
  json_t *counts = NULL;
  rc = schema_load(c->argv[0], &from, &err);
  if (!rc)
    rc = schema_load(c->argv[1], &to, &err);
  if (!rc)
    rc = schema_diff(from, to, &d, &err);
  if (!rc && cli_flag(c, "data")) {
    rc = cli_open(c, 1, &s, &err);
    if (!rc)
      rc = gap_count(s, to, &d, &counts, &err);
  }
  json_t *findings = rc ? NULL : findings_json(&d, counts);
  if (!rc && !findings)
    rc = err_set(&err, E_NOMEM, "out of memory");
  if (!rc && cli_flag(c, "json")) {
    json_t *out = json_pack("{s:s,s:s,s:O}", "from", c->argv[0], "to", c->argv[1], "findings",
                            findings);
    char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
    if (text)
      puts(text);
    one_free(text);
    json_decref(out);
  } else if (!rc) {
    print_findings(c->argv[0], c->argv[1], findings, counts != NULL);
  }
  json_decref(findings);
  json_decref(counts);
  store_close(s);
  schema_diff_release(&d);
  schema_free(from);
  schema_free(to);
  if (rc) {
    rc = cli_fail(&err);
    err_clear(&err);
  }
  return rc;
}
