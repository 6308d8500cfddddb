/* cmd_backup: `one backup list` and `one restore FILE`. */
#include "cli/cli.h"
#include "migrate/chain.h"
#include "util/mem.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct cli_opt opts[] = {{"backup-dir", 1, 0}, {"json", 0, 0}, {NULL, 0, 0}};

static int by_name(const void *a, const void *b)
{
  return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "file")),
                json_string_value(json_object_get(*(json_t *const *)b, "file")));
}

int cmd_backup_list(struct cli *c)
{
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  char dir[4096];
  migrate_backup_dir(c->db_path, cli_opt(c, "backup-dir"), dir, sizeof dir);
  DIR *d = opendir(dir);
  json_t *list = json_array();
  if (!d && errno != ENOENT) {
    struct err err = ERR_INIT;
    err_set(&err, E_IO, "cannot read %s: %s", dir, strerror(errno));
    json_decref(list);
    return cli_fail(&err);
  }
  struct dirent *e;
  while (d && (e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 3, ".db") != 0)
      continue;
    char path[8300];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    const char *before = strstr(e->d_name, ".before-");
    char taken[32];
    strftime(taken, sizeof taken, "%Y-%m-%dT%H:%M:%SZ", gmtime(&st.st_mtime));
    json_array_append_new(list, json_pack("{s:s,s:s,s:I,s:s,s:s#}", "file", e->d_name, "path",
                                          path, "bytes", (json_int_t)st.st_size, "taken", taken,
                                          "before", before ? before + 8 : "",
                                          before ? (int)(len - 3 - (size_t)(before + 8 - e->d_name))
                                                 : 0));
  }
  if (d)
    closedir(d);
  size_t n = json_array_size(list);
  json_t **rows = n ? one_malloc(n * sizeof *rows) : NULL;
  for (size_t i = 0; rows && i < n; i++)
    rows[i] = json_array_get(list, i);
  if (rows)
    qsort(rows, n, sizeof *rows, by_name);
  if (cli_flag(c, "json")) {
    json_t *sorted = json_array();
    for (size_t i = 0; rows && i < n; i++)
      json_array_append(sorted, rows[i]);
    char *text = json_dumps(sorted, JSON_INDENT(2));
    if (text)
      puts(text);
    one_free(text);
    json_decref(sorted);
  } else {
    printf("%zu backup%s in %s\n", n, n == 1 ? "" : "s", dir);
    for (size_t i = 0; rows && i < n; i++)
      printf("  %s  %10lld bytes  before %s\n    %s\n",
             json_string_value(json_object_get(rows[i], "taken")),
             (long long)json_integer_value(json_object_get(rows[i], "bytes")),
             json_string_value(json_object_get(rows[i], "before")),
             json_string_value(json_object_get(rows[i], "path")));
  }
  one_free(rows);
  json_decref(list);
  return EXIT_OK;
}

int cmd_restore(struct cli *c)
{
  int rc = cli_args(c, opts, 1, 1);
  if (rc)
    return rc;
  const char *from = c->argv[0];
  struct err err = ERR_INIT;
  struct store *src = NULL, *cur = NULL;
  struct store_options so = {.path = from, .sync = STORE_SYNC_FULL, .must_exist = 1};
  char name[128] = "", tmp[4200], safety[4300];
  /* the file must be a ONE database */
  rc = store_open(&so, &src, &err);
  if (!rc) {
    struct store_tx *tx = NULL;
    rc = store_begin(src, STORE_READ, &tx, &err);
    if (!rc)
      store_schema_name(tx, name, sizeof name);
    store_rollback(tx);
    if (!rc && !name[0])
      rc = err_set(&err, E_INVALID, "%s holds no ONE database", from);
  }
  /* keep what is there now, then copy the backup beside it and swap */
  if (!rc && access(c->db_path, F_OK) == 0) {
    time_t now = time(NULL);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", gmtime(&now));
    snprintf(safety, sizeof safety, "%s.%s.before-restore.db", c->db_path, stamp);
    if (!(rc = cli_open(c, 1, &cur, &err)))
      rc = store_backup(cur, safety, &err);
    store_close(cur);
  } else {
    safety[0] = '\0';
  }
  snprintf(tmp, sizeof tmp, "%s.restoring", c->db_path);
  unlink(tmp);
  if (!rc)
    rc = store_backup(src, tmp, &err);
  store_close(src);
  if (!rc && rename(tmp, c->db_path) != 0)
    rc = err_set(&err, E_IO, "cannot replace %s: %s", c->db_path, strerror(errno));
  if (rc) {
    unlink(tmp);
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  cli_remove_database(c->db_path, 1);
  printf("restored %s from %s (schema %s)\n", c->db_path, from, name);
  if (safety[0])
    printf("the database as it was is kept in %s\n", safety);
  return EXIT_OK;
}
