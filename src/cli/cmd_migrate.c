/* cmd_migrate: `one migrate status|plan|up|down|verify|contract|log`. */
#include "cli/cli.h"
#include "cli/progress.h"
#include "migrate/chain.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct cli_opt run_opts[] = {{"to", 1, 0},         {"batch", 1, 0},
                                          {"batch-ms", 1, 0},   {"pause", 1, 0},
                                          {"backup-dir", 1, 0}, {"confirm", 0, 0},
                                          {"json", 0, 0},       {NULL, 0, 0}};

static void on_progress(void *arg, const char *step, size_t done, size_t total)
{
  progress_update(arg, step, done, total);
}

static int print_json(json_t *v)
{
  char *text = v ? json_dumps(v, JSON_INDENT(2)) : NULL;
  if (text)
    puts(text);
  one_free(text);
  json_decref(v);
  return EXIT_OK;
}

static int fail(struct err *err, struct store *s)
{
  int rc = cli_fail(err);
  err_clear(err);
  store_close(s);
  return rc;
}

static void print_status(const json_t *st)
{
  printf("schema    %s\nposition  %lld of %lld steps done\n",
         json_string_value(json_object_get(st, "schema")),
         (long long)json_integer_value(json_object_get(st, "position")),
         (long long)json_integer_value(json_object_get(st, "count")));
  const json_t *lock = json_object_get(st, "lock");
  if (lock)
    printf("running   pid %lld on %s since %s\n",
           (long long)json_integer_value(json_object_get(lock, "pid")),
           json_string_value(json_object_get(lock, "host")),
           json_string_value(json_object_get(lock, "since")));
  printf("\n");
  size_t i;
  const json_t *row;
  json_array_foreach(json_object_get(st, "steps"), i, row) {
    const char *state = json_string_value(json_object_get(row, "state"));
    printf("  %zu. %-26s %-9s %-9s", i + 1, json_string_value(json_object_get(row, "name")),
           json_string_value(json_object_get(row, "kind")), state ? state : "pending");
    if (json_object_get(row, "processed"))
      printf(" %lld documents, %lld changed",
             (long long)json_integer_value(json_object_get(row, "processed")),
             (long long)json_integer_value(json_object_get(row, "changed")));
    printf("\n     %s\n", json_string_value(json_object_get(row, "summary")));
  }
}

static void print_verify(const json_t *v)
{
  int ok = json_is_true(json_object_get(v, "ok"));
  printf("verify: %s at schema %s, %lld steps done\n", ok ? "passed" : "FAILED",
         json_string_value(json_object_get(v, "schema")),
         (long long)json_integer_value(json_object_get(v, "position")));
  size_t i;
  const json_t *x;
  json_array_foreach(json_object_get(v, "problems"), i, x) {
    printf("  %s: %lld invalid documents, %lld dangling references\n",
           json_string_value(json_object_get(x, "table")),
           (long long)json_integer_value(json_object_get(x, "invalid")),
           (long long)json_integer_value(json_object_get(x, "dangling")));
    size_t k;
    const json_t *ex;
    json_array_foreach(json_object_get(x, "examples"), k, ex)
      printf("      %s\n", json_string_value(ex));
  }
  json_array_foreach(json_object_get(v, "incomplete"), i, x)
    printf("  %s: %lld documents of %s still need it\n",
           json_string_value(json_object_get(x, "step")),
           (long long)json_integer_value(json_object_get(x, "documents")),
           json_string_value(json_object_get(x, "table")));
  json_array_foreach(json_object_get(v, "changed"), i, x)
    printf("  %s: %lld documents and checksum %s at the baseline, now %lld and %s\n",
           json_string_value(json_object_get(x, "table")),
           (long long)json_integer_value(json_object_get(x, "count")),
           json_string_value(json_object_get(x, "sum")),
           (long long)json_integer_value(json_object_get(x, "nowCount")),
           json_string_value(json_object_get(x, "nowSum")));
  const char *t;
  const json_t *n;
  json_object_foreach((json_t *)json_object_get(v, "writtenByService"), t, n)
    printf("  %s: %lld writes by the service since the baseline (not compared)\n", t,
           (long long)json_integer_value(n));
  if (!json_is_true(json_object_get(v, "baseline")))
    printf("  no baseline yet: counts and checksums are compared once 'migrate up' has run\n");
  printf("  values kept aside in migrationLegacy: %lld documents\n",
         (long long)json_integer_value(json_object_get(v, "migrationLegacy")));
}

int cmd_migrate(struct cli *c)
{
  int rc = cli_args(c, run_opts, 0, 0);
  if (rc)
    return rc;
  const char *what = strrchr(c->cmd, ' ') + 1;
  if (strcmp(what, "plan") == 0) {
    json_t *plan = migrate_plan();
    if (cli_flag(c, "json"))
      return print_json(plan);
    size_t i;
    json_t *row;
    json_array_foreach(plan, i, row)
      printf("%zu. %-26s %-9s -> %s\n   %s\n", i + 1,
             json_string_value(json_object_get(row, "name")),
             json_string_value(json_object_get(row, "kind")),
             json_string_value(json_object_get(row, "schema")),
             json_string_value(json_object_get(row, "summary")));
    json_decref(plan);
    return EXIT_OK;
  }
  struct err err = ERR_INIT;
  struct store *s = NULL;
  c->bulk = 1; /* fewer, larger checkpoints of the log */
  if (cli_open(c, 1, &s, &err))
    return fail(&err, s);
  struct progress p;
  progress_init(&p);
  const char *batch = cli_opt(c, "batch");
  const char *pause = cli_opt(c, "pause");
  const char *batch_ms = cli_opt(c, "batch-ms");
  struct migrate_opts o = {batch ? (size_t)strtoul(batch, NULL, 10) : 0,
                           cli_opt(c, "backup-dir"),
                           pause ? (unsigned)strtoul(pause, NULL, 10) : 0,
                           c->db_path, on_progress, &p, 0,
                           batch_ms ? (unsigned)strtoul(batch_ms, NULL, 10) : 0, NULL};
  if (pause && (strspn(pause, "0123456789") != strlen(pause) || o.pause_ms > 60000)) {
    store_close(s);
    return cli_usage(c, "--pause takes 0 to 60000 milliseconds");
  }
  if (batch_ms && (strspn(batch_ms, "0123456789") != strlen(batch_ms) || o.batch_ms < 1 ||
                   o.batch_ms > 60000)) {
    store_close(s);
    return cli_usage(c, "--batch-ms takes 1 to 60000 milliseconds");
  }
  const char *backup_delay = getenv("ONE_TEST_BACKUP_DELAY_MS");
  if (backup_delay)
    store_backup_test_delay((unsigned)strtoul(backup_delay, NULL, 10));
  const char *kill_at = getenv("ONE_TEST_KILL_AT");
  if (kill_at)
    o.kill_at = (size_t)strtoul(kill_at, NULL, 10);
  if (batch && (o.batch < 1 || o.batch > STORE_MAX_PAGE)) {
    store_close(s);
    return cli_usage(c, "--batch takes 1 to %d", STORE_MAX_PAGE);
  }
  if (strcmp(what, "up") == 0 || strcmp(what, "down") == 0 || strcmp(what, "contract") == 0) {
    /* background work: a server on the same machine comes first (docs/decisions.md) */
    errno = 0;
    if (nice(10) == -1 && errno)
      fprintf(stderr, "one: cannot lower this run's CPU priority: %s\n", strerror(errno));
  }
  if (strcmp(what, "up") == 0)
    rc = migrate_up(s, cli_opt(c, "to"), &o, &err);
  else if (strcmp(what, "down") == 0)
    rc = migrate_down(s, cli_opt(c, "to"), &o, &err);
  else if (strcmp(what, "contract") == 0)
    rc = migrate_contract(s, cli_flag(c, "confirm"), &o, &err);
  progress_done(&p);
  if (rc)
    return fail(&err, s);
  json_t *out = NULL;
  if (strcmp(what, "verify") == 0) {
    rc = migrate_verify(s, &out, &err);
    store_close(s);
    if (rc)
      return fail(&err, NULL);
    int ok = json_is_true(json_object_get(out, "ok"));
    if (cli_flag(c, "json")) {
      print_json(out);
    } else {
      print_verify(out);
      json_decref(out);
    }
    return ok ? EXIT_OK : EXIT_FAIL;
  }
  if (strcmp(what, "log") == 0)
    rc = migrate_log(s, &out, &err);
  else
    rc = migrate_status(s, &out, &err);
  if (rc)
    return fail(&err, s);
  store_close(s);
  if (cli_flag(c, "json") || strcmp(what, "log") == 0)
    return print_json(out);
  print_status(out);
  json_decref(out);
  return EXIT_OK;
}
