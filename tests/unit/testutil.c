/* testutil: see testutil.h. */
#include "testutil.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tu_tmpdir(void)
{
  const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char *p = NULL;
  cr_assert(asprintf(&p, "%s/one-test-XXXXXX", base) > 0);
  cr_assert(mkdtemp(p), "mkdtemp: %s", strerror(errno));
  return p;
}

void tu_rmdir(const char *dir)
{
  char *cmd = NULL;
  if (asprintf(&cmd, "rm -rf '%s'", dir) > 0)
    cr_assert(system(cmd) == 0);
  free(cmd);
}

void tu_write(const char *dir, const char *name, const char *text)
{
  char *path = NULL, *cmd = NULL;
  cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
  cr_assert(asprintf(&cmd, "mkdir -p \"$(dirname '%s')\"", path) > 0);
  cr_assert(system(cmd) == 0);
  FILE *f = fopen(path, "w");
  cr_assert(f, "cannot write %s", path);
  fputs(text, f);
  fclose(f);
  free(path);
  free(cmd);
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return strdup("");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = '\0';
  fclose(f);
  return s;
}

int tu_run(const char *cmdline, char **out, char **errout)
{
  char *dir = tu_tmpdir(), *cmd = NULL, *o = NULL, *e = NULL;
  cr_assert(asprintf(&o, "%s/out", dir) > 0 && asprintf(&e, "%s/err", dir) > 0);
  cr_assert(asprintf(&cmd, "( %s ) >'%s' 2>'%s' </dev/null", cmdline, o, e) > 0);
  int st = system(cmd);
  if (out)
    *out = slurp(o);
  if (errout)
    *errout = slurp(e);
  tu_rmdir(dir);
  free(dir);
  free(cmd);
  free(o);
  free(e);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

json_t *tu_json(const char *text)
{
  json_error_t je;
  json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
  cr_assert(v, "bad test JSON %s: %s", text, je.text);
  return v;
}

struct schema *tu_schema(const char *text)
{
  struct err err = ERR_INIT;
  struct schema *s = NULL;
  int rc = schema_parse_text(text, strlen(text), "test.ts", &s, &err);
  cr_assert_eq(rc, 0, "schema did not parse: %s %s", err.where, err.msg);
  err_clear(&err);
  return s;
}

struct set_arg {
  struct schema *s;
};

static int set_schema(struct store_tx *tx, void *arg, struct err *err)
{
  struct set_arg *a = arg;
  return store_set_schema(tx, "test", a->s, err);
}

static int set_latest(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  struct schema *s = NULL;
  int rc = schema_load(schema_latest_name(), &s, err);
  if (rc == 0)
    rc = store_set_schema(tx, schema_latest_name(), s, err);
  schema_free(s);
  return rc;
}

void tu_set_latest(struct store *s)
{
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(s, STORE_WRITE, set_latest, NULL, &err), 0, "%s", err.msg);
}

struct store *tu_store(const char *dir, const char *schema_text)
{
  char *path = NULL;
  cr_assert(asprintf(&path, "%s/test.db", dir) > 0);
  struct store_options o = {.path = path, .sync = STORE_SYNC_OFF};
  struct store *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&o, &s, &err), 0, "store_open: %s", err.msg);
  free(path);
  struct set_arg a = {tu_schema(schema_text)};
  cr_assert_eq(store_run(s, STORE_WRITE, set_schema, &a, &err), 0, "set_schema: %s", err.msg);
  schema_free(a.s);
  return s;
}

/* Every test process starts with ONE's allocator and libsodium ready. */
__attribute__((constructor)) static void tu_init(void)
{
  mem_init();
  if (sodium_init() < 0)
    abort();
}

void tu_sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}
