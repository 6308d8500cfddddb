/* cli: the `one` command: a dispatch table of subcommands (cli.c), one file
 * per command family (cmd_*.c), and the helpers they share.
 *
 * How to add a command: write `int cmd_NAME(struct cli *c)` in a cmd_*.c,
 * declare it below, and add a row to `commands[]` in cli.c with its usage
 * and help text. A command reads its arguments from c (parsed by
 * cli_args), prints results on stdout, and returns an exit code: 0 ok,
 * 1 failure (after cli_fail printed one line per problem on stderr), 2 usage. */
#ifndef ONE_CLI_CLI_H
#define ONE_CLI_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "store/store.h"
#include "util/err.h"

#define CLI_MAX_ARGS 64

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli_opt {
  const char *name;   /* "limit" for --limit */
  int has_value;
  int repeat;         /* may be given more than once */
};

struct cli {
  const char *db_path;                /* --db, ONE_DB, or ./one.db */
  enum store_sync sync;               /* --sync, ONE_SYNC */
  int server;                         /* set by serve: cli_open opens for a server */
  int bulk;                           /* set by migrations: for a bulk writer */
  const char *cmd;                    /* "data insert" */
  int argc;                           /* positional arguments after the command */
  char **argv;
  /* options given (after cli_args) */
  const char *opt_name[CLI_MAX_ARGS];
  const char *opt_value[CLI_MAX_ARGS];
  int nopts;
};

int cli_main(int argc, char **argv);

/* Parses c->argv against opts: positional arguments stay in argv, options
 * are collected. Prints a usage error and returns EXIT_USAGE on unknown
 * options or a wrong count of positionals (min..max, max -1 = any). */
int cli_args(struct cli *c, const struct cli_opt *opts, int min, int max);
const char *cli_opt(const struct cli *c, const char *name);        /* last value, or NULL */
int cli_flag(const struct cli *c, const char *name);              /* given at all */

/* Prints err (and its details) on stderr; returns EXIT_FAIL. */
int cli_fail(const struct err *err);
/* Prints a usage error for the current command; returns EXIT_USAGE. */
int cli_usage(const struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the database (must_exist: refuse to create it). */
int cli_open(const struct cli *c, int must_exist, struct store **s, struct err *err);
/* Removes a database's WAL and journal files, and the database file itself
 * unless keep_main. */
void cli_remove_database(const char *path, int keep_main);
/* Prints a value in Convex JSON (wire) form on stdout, one line. */
int cli_print_value(const json_t *v, int pretty);

/* Puts schema `name` in force on a database that has none yet (sets
 * *created); leaves a database with a schema as it is. */
int cli_ensure_schema(struct store *s, const char *name, int *created, struct err *err);

int cmd_serve(struct cli *c);
int cmd_user_create(struct cli *c);
int cmd_schema_show(struct cli *c);
int cmd_schema_check(struct cli *c);
int cmd_schema_diff(struct cli *c);
int cmd_data_insert(struct cli *c);
int cmd_data_get(struct cli *c);
int cmd_data_patch(struct cli *c);
int cmd_data_delete(struct cli *c);
int cmd_data_list(struct cli *c);
int cmd_db_status(struct cli *c);
int cmd_db_init(struct cli *c);
int cmd_import(struct cli *c);
int cmd_export(struct cli *c);
int cmd_migrate(struct cli *c);
int cmd_backup_list(struct cli *c);
int cmd_seed(struct cli *c);
int cmd_flags_list(struct cli *c);
int cmd_flags_set(struct cli *c);
int cmd_restore(struct cli *c);

#endif
