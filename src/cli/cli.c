/* cli: dispatch of `one` subcommands, global options, help, and the helpers
 * commands share (argument parsing, opening the database, printing). */
#include "cli/cli.h"
#include "domain/knowledge.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct command {
  const char *name;
  int (*run)(struct cli *c);
  const char *usage;
  const char *summary;
  const char *help;
};

static const struct command commands[] = {
  {"serve", cmd_serve, "one serve [--listen HOST:PORT] [--threads N]",
   "serve the API (and, later, the web app) over HTTP",
   "Serves ONE over HTTP on --listen (default 127.0.0.1:8080, or $ONE_LISTEN;\n"
   "port 0 picks a free port). A new database is created at the latest\n"
   "schema first. Logs one JSON line per request on stderr ($ONE_LOG sets the\n"
   "level: debug, info, warn, error). SIGTERM or SIGINT stops taking new\n"
   "connections, lets requests in flight finish (up to 30 s), then exits 0.\n"
   "Endpoints: /healthz, /readyz, /metrics (Prometheus), /api/v1/…"},
  {"user create", cmd_user_create,
   "one user create --email EMAIL [--name NAME] [--admin] [--password-file FILE]",
   "create an account (the first administrator, for one)",
   "Creates a user and its account on the database (created at the latest\n"
   "schema if new). The password is read from --password-file FILE, else\n"
   "from $ONE_PASSWORD, else from the first line of standard input; never\n"
   "from a flag, so it stays out of shell history and process lists. It\n"
   "has 8 to 1024 characters. --admin makes the account an administrator;\n"
   "on an email that already has an account, --admin promotes it instead."},
  {"db init", cmd_db_init, "one db init [--schema NAME]",
   "create the database at the latest schema (or NAME)",
   "Creates the database file if needed and puts a schema in force: the\n"
   "latest built-in schema (one) unless --schema names another built-in\n"
   "schema or a schema file. Does nothing on a database that already has a\n"
   "schema. Then prints its status."},
  {"db status", cmd_db_status, "one db status [--json]",
   "show the database path, schema version and tables with document counts",
   "Prints the database's path, the schema version in force, and each table\n"
   "with its number and document count. Tables the schema no longer names\n"
   "but that still hold documents are listed too, marked (not in schema)."},
  {"import", cmd_import, "one import SNAPSHOT.zip [--schema NAME] [--json]",
   "read a Convex snapshot export into a new database",
   "Reads a Convex snapshot ZIP (what `npx convex export` writes) into a new\n"
   "database (--db; the file must not exist or hold nothing) at schema\n"
   "agent-inbox, or NAME. Both value encodings are read exactly: int64 stays\n"
   "int64, bytes stay bytes, NaN keeps its bits; _id, _creationTime and table\n"
   "numbers are kept. Tables the schema does not know are kept as they are\n"
   "and reported. Everything lands in one transaction: a malformed line or a\n"
   "document the schema refuses is reported as file:line and nothing is\n"
   "imported (a database file the import created is removed again)."},
  {"export", cmd_export, "one export OUT.zip [--json]",
   "write the database as a Convex snapshot ZIP",
   "Writes every table of the database (also tables no longer in the schema)\n"
   "as a snapshot in Convex's current format, from one consistent read, while\n"
   "the server keeps serving. `one import` of it gives back identical\n"
   "documents, and `npx convex import` can load it. OUT must not exist."},
  {"migrate status", cmd_migrate, "one migrate status [--json]",
   "where the migration to ONE stands: schema, steps done, progress",
   "Prints the schema in force, how many steps of the agent-inbox -> one chain\n"
   "are done, each step's state and counts, and who holds the migration lock."},
  {"migrate plan", cmd_migrate, "one migrate plan [--json]", "list the steps of the migration",
   "Lists the chain's steps in order: expand, the backfills, contract, with\n"
   "what each does and the schema in force after it."},
  {"migrate up", cmd_migrate,
   "one migrate up [--to STEP] [--batch N] [--batch-ms MS] [--pause MS] [--backup-dir DIR]",
   "run the migration steps (all but contract, or up to STEP)",
   "Runs the steps after the current position, up to STEP (default: every\n"
   "step but contract), while the server keeps serving. An online backup goes\n"
   "into DIR (default: backups/ beside the database) at the start of the run\n"
   "and before expand, the backfills (one for all of them) and contract.\n"
   "Backfills rewrite documents in batches that write at most N documents\n"
   "(--batch, default 1000), one transaction each with its checkpoint, so a killed run\n"
   "continues where it stopped. A batch takes about 2 ms while someone else\n"
   "writes to the database, then rests as long, leaving it to the server;\n"
   "once no one else has written for a second, batches take up to 100 ms.\n"
   "--batch-ms MS fixes the batch time (the rest is then a twentieth of it)\n"
   "and --pause MS the rest. The run lowers its own CPU priority (nice 10)\n"
   "so that a server on the same machine comes first. Only one migration runs\n"
   "at a time."},
  {"migrate down", cmd_migrate,
   "one migrate down [--to STEP|agent-inbox] [--batch-ms MS] [--pause MS] [--backup-dir DIR]",
   "reverse migration steps (all of them, or back to just after STEP)",
   "Reverses the steps done, newest first, down to just after STEP (default:\n"
   "all, back to agent-inbox), after an online backup at the start of the run\n"
   "and before each of expand, the backfills and contract; paced and at a\n"
   "lower CPU priority like 'migrate up'. A backfill's\n"
   "reverse puts back exactly the values it changed, keeping any value the\n"
   "service wrote since, and deletes the documents it created. Reversing\n"
   "expand is refused while a document would not fit agent-inbox."},
  {"migrate verify", cmd_migrate, "one migrate verify [--json]",
   "check the database at its migration position",
   "Checks, from one consistent read: every document validates against the\n"
   "schema in force; every id a document holds names a document that exists;\n"
   "every backfill done has nothing left to do; and each table keeps the\n"
   "documents and the values of the fields no step writes that it had before\n"
   "the first step (count and checksum; tables the service wrote to since are\n"
   "listed, not compared). Exits 1 when a check fails. Contract needs a pass."},
  {"migrate contract", cmd_migrate, "one migrate contract --confirm",
   "narrow to the one schema (after a passing verify)",
   "The last step: moves every field the one schema has no place for into\n"
   "migrationLegacy and puts one in force. Refused without --confirm, before\n"
   "every backfill is done, and unless 'one migrate verify' passed at the\n"
   "current position."},
  {"migrate log", cmd_migrate, "one migrate log", "print the migration log (JSON)",
   "Prints every step's start, end, failure and backup as JSON, oldest first."},
  {"seed", cmd_seed, "one seed",
   "create the system agents, their tools, prompt templates and the learning flow",
   "Creates, where they are missing, the twelve system agents of the ONE team\n"
   "(Director, Sage, Teacher, Writer, Marketer, SEO, Researcher, Connector,\n"
   "Seller, MediaBuyer, Advocate, Guide) with their prompts, the steps they\n"
   "guide, their tools and whom they hand work to; the tools; a prompt\n"
   "template for each Elevate step; and the default learning flow over the\n"
   "ten steps. Safe to run again: what exists is never changed (an existing\n"
   "system agent only gains seeded fields it lacks). `one serve` seeds a\n"
   "database it creates. Needs the ONE schema (after `one migrate up`)."},
  {"flags list", cmd_flags_list, "one flags list [--json]",
   "list the feature flags and whether each is on",
   "Lists the feature flags, the switches for risky behaviour, with whether\n"
   "each is on, whether that is its default, and what it does. Flags live in\n"
   "the database, so every server on it follows them from its next request."},
  {"flags set", cmd_flags_set, "one flags set NAME on|off",
   "turn a feature flag on or off",
   "Turns the flag NAME on or off for every process serving the database,\n"
   "from their next request on. 'one flags list' shows the names."},
  {"backup list", cmd_backup_list, "one backup list [--backup-dir DIR] [--json]",
   "list the backups the migration steps took",
   "Lists the online backups in DIR (default: backups/ beside the database),\n"
   "oldest first, with their size, when they were taken and which step they\n"
   "precede (\"before-backfill-tools-up\")."},
  {"restore", cmd_restore, "one restore BACKUP.db",
   "put a backup back in place of the database",
   "Replaces the database (--db) with a copy of BACKUP.db, after checking that\n"
   "it is a ONE database. The database as it was is first saved beside it as\n"
   "DB.<time>.before-restore.db, so a restore can itself be undone. Stop\n"
   "'one serve' first: a running server keeps the old file open."},
  {"schema show", cmd_schema_show, "one schema show NAME|PATH [--json]",
   "print a schema canonically",
   "Parses a built-in schema (agent-inbox, one), a schema file, or a folder\n"
   "holding schema.ts, and prints it in canonical form: every name resolved,\n"
   "one table after another, in the same TypeScript subset. With --json,\n"
   "prints Convex's JSON form of the schema instead."},
  {"schema check", cmd_schema_check, "one schema check PATH",
   "parse a schema file and report errors at file:line:column",
   "Parses PATH (a schema file, or a folder holding schema.ts, following\n"
   "relative imports) and reports the first error as file:line:column:\n"
   "message. Prints the tables and index counts when the schema is valid."},
  {"schema diff", cmd_schema_diff, "one schema diff FROM TO [--data] [--json]",
   "gap analysis: what changes between two schemas, and what it means for the data",
   "Compares two schemas (built-in names such as agent-inbox and one, schema\n"
   "files, or folders holding schema.ts, like a Convex project's convex/)\n"
   "table by table, field by field and index by index. Each finding is\n"
   "classified: safe addition, widening, narrowing, rename or type change,\n"
   "removal, with the resolution the migration plan applies. With --data it\n"
   "also reads the database (--db) and counts, per finding, the documents the\n"
   "target schema would refuse and why. --json prints the same as JSON."},
  {"data insert", cmd_data_insert, "one data insert TABLE JSON",
   "insert a document (JSON, or - for standard input)",
   "Inserts one document into TABLE and prints its id. JSON is Convex JSON:\n"
   "plain numbers are float64, {\"$integer\":\"<base64>\"} is an int64,\n"
   "{\"$bytes\":\"<base64>\"} bytes. The document is validated against the\n"
   "schema in force; every problem is printed with its path."},
  {"data get", cmd_data_get, "one data get ID [--pretty]", "print a document",
   "Prints the document with this id in Convex JSON."},
  {"data patch", cmd_data_patch, "one data patch ID JSON [--unset FIELD]...",
   "merge fields into a document",
   "Shallow-merges JSON into the document. A field given as\n"
   "{\"$undefined\":true}, or named with --unset, is removed. The result is\n"
   "validated against the schema in force before anything is written."},
  {"data delete", cmd_data_delete, "one data delete ID", "delete a document",
   "Deletes the document with this id."},
  {"data list", cmd_data_list,
   "one data list TABLE [--index NAME] [--eq V]... [--gt V|--gte V] [--lt V|--lte V]\n"
   "                    [--order asc|desc] [--limit N] [--cursor C] [--json]",
   "list documents through an index, a page at a time",
   "Lists TABLE's documents in the order of an index (by_creation_time when\n"
   "--index is not given). Each --eq fixes the next field of the index, in\n"
   "order; --gt/--gte and --lt/--lte bound the field after them. Values are\n"
   "JSON (Convex JSON); a value that is not JSON is taken as a string.\n"
   "Prints one document per line; when more remain, prints the option that\n"
   "fetches the next page on standard error. --limit defaults to 100 (1 to\n"
   "1000). With --json prints {\"page\", \"continueCursor\", \"isDone\"}."},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_help(FILE *f)
{
  fprintf(f, "one %s: people and AI agents in the same conversations.\n\n"
             "Usage: one [--db PATH] COMMAND [ARGS]\n\nCommands:\n", ONE_VERSION);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "  %-14s %s\n", "help [CMD]", "show help for a command");
  fprintf(f, "\nGlobal options (before or after the command):\n"
             "  --db PATH        the database (default ./one.db, or $ONE_DB)\n"
             "  --sync MODE      full (default), normal or off (or $ONE_SYNC)\n"
             "  --version        print the version\n"
             "\nExit codes: 0 ok, 1 failure, 2 usage error.\n");
}

static const struct command *find_command(const char *a, const char *b, int *words)
{
  char name[128];
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, a) == 0) {
      *words = 1;
      return &commands[i];
    }
  if (b) {
    snprintf(name, sizeof name, "%s %s", a, b);
    for (size_t i = 0; i < NCOMMANDS; i++)
      if (strcmp(commands[i].name, name) == 0) {
        *words = 2;
        return &commands[i];
      }
  }
  return NULL;
}

static int help_for(const char *a, const char *b)
{
  int words = 0;
  const struct command *cmd = find_command(a, b, &words);
  if (cmd) {
    printf("Usage: %s\n\n%s\n", cmd->usage, cmd->help);
    return EXIT_OK;
  }
  int any = 0;
  for (size_t i = 0; i < NCOMMANDS; i++) {
    if (strncmp(commands[i].name, a, strlen(a)) == 0 && commands[i].name[strlen(a)] == ' ') {
      if (!any)
        printf("Commands of 'one %s':\n", a);
      printf("  %-40s %s\n", commands[i].usage, commands[i].summary);
      any = 1;
    }
  }
  if (any)
    return EXIT_OK;
  fprintf(stderr, "one: no command '%s%s%s'; see 'one help'\n", a, b ? " " : "", b ? b : "");
  return EXIT_USAGE;
}

int cli_usage(const struct cli *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "one %s: ", c->cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(commands[i].name, c->cmd) == 0)
      fprintf(stderr, "usage: %s\n", commands[i].usage);
  return EXIT_USAGE;
}

int cli_fail(const struct err *err)
{
  if (err->ndetails) {
    fprintf(stderr, "one: %s%s%s (%zu problem%s):\n", err->where, err->where[0] ? ": " : "",
            err_message(err->code), err->ndetails, err->ndetails > 1 ? "s" : "");
    for (size_t i = 0; i < err->ndetails; i++)
      fprintf(stderr, "  %s: %s\n", err->details[i].path, err->details[i].message);
    return EXIT_FAIL;
  }
  if (err->where[0] && !strstr(err->msg, err->where))
    fprintf(stderr, "one: %s: %s\n", err->where, err->msg);
  else
    fprintf(stderr, "one: %s\n", err->msg);
  return EXIT_FAIL;
}

int cli_args(struct cli *c, const struct cli_opt *opts, int min, int max)
{
  int npos = 0;
  for (int i = 0; i < c->argc; i++) {
    char *a = c->argv[i];
    if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0 || a[2] == '\0') {
      c->argv[npos++] = a;
      continue;
    }
    char name[64];
    const char *eq = strchr(a + 2, '=');
    size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    snprintf(name, sizeof name, "%.*s", (int)n, a + 2);
    const struct cli_opt *o = NULL;
    for (const struct cli_opt *p = opts; p && p->name; p++)
      if (strcmp(p->name, name) == 0)
        o = p;
    if (!o)
      return cli_usage(c, "unknown option --%s", name);
    const char *value = NULL;
    if (o->has_value) {
      if (eq)
        value = eq + 1;
      else if (i + 1 < c->argc)
        value = c->argv[++i];
      else
        return cli_usage(c, "--%s needs a value", name);
    } else if (eq) {
      return cli_usage(c, "--%s takes no value", name);
    }
    if (!o->repeat && cli_flag(c, o->name))
      return cli_usage(c, "--%s given twice", name);
    if (c->nopts == CLI_MAX_ARGS)
      return cli_usage(c, "too many options");
    c->opt_name[c->nopts] = o->name;
    c->opt_value[c->nopts++] = value ? value : "";
  }
  c->argc = npos;
  if (npos < min || (max >= 0 && npos > max))
    return cli_usage(c, npos < min ? "missing argument" : "too many arguments");
  return 0;
}

const char *cli_opt(const struct cli *c, const char *name)
{
  const char *v = NULL;
  for (int i = 0; i < c->nopts; i++)
    if (strcmp(c->opt_name[i], name) == 0)
      v = c->opt_value[i];
  return v;
}

int cli_flag(const struct cli *c, const char *name) { return cli_opt(c, name) != NULL; }

int cli_open(const struct cli *c, int must_exist, struct store **s, struct err *err)
{
  if (must_exist && access(c->db_path, F_OK) != 0)
    return err_set(err, E_NOTFOUND, "no database at %s (create one with 'one db init', or "
                   "name another with --db)", c->db_path);
  const char *mv = getenv("ONE_MESSAGE_VECTORS");
  knowledge_vectorise_messages(mv && strcmp(mv, "1") == 0);
  struct store_options o = {.path = c->db_path, .sync = c->sync, .must_exist = must_exist,
                            .background_checkpoints = c->server, .group_commit = c->server,
                            .bulk = c->bulk, .search = knowledge_spaces()};
  return store_open(&o, s, err);
}

void cli_remove_database(const char *path, int keep_main)
{
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[4200];
  for (size_t i = keep_main ? 1 : 0; i < sizeof suffix / sizeof suffix[0]; i++) {
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    unlink(p);
  }
}

int cli_print_value(const json_t *v, int pretty)
{
  json_t *w = jv_to_wire(v);
  char *s = NULL;
  if (w && pretty)
    s = json_dumps(w, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
  else if (w)
    s = jv_dumps(w);
  json_decref(w);
  if (!s)
    return E_NOMEM;
  puts(s);
  one_free(s);
  return 0;
}

/* Takes --db, --sync and --version out of argv wherever they stand. */
static int global_options(struct cli *c, int *argc, char **argv)
{
  int n = 0;
  for (int i = 0; i < *argc; i++) {
    const char *a = argv[i];
    const char *val = NULL;
    int is_db = strcmp(a, "--db") == 0 || strncmp(a, "--db=", 5) == 0;
    int is_sync = strcmp(a, "--sync") == 0 || strncmp(a, "--sync=", 7) == 0;
    if (is_db || is_sync) {
      const char *eq = strchr(a, '=');
      if (eq)
        val = eq + 1;
      else if (i + 1 < *argc)
        val = argv[++i];
      else {
        fprintf(stderr, "one: %s needs a value\n", a);
        return EXIT_USAGE;
      }
      if (!*val) {
        fprintf(stderr, "one: %s needs a non-empty value\n", is_db ? "--db" : "--sync");
        return EXIT_USAGE;
      }
      if (is_db)
        c->db_path = val;
      else if (strcmp(val, "full") == 0)
        c->sync = STORE_SYNC_FULL;
      else if (strcmp(val, "normal") == 0)
        c->sync = STORE_SYNC_NORMAL;
      else if (strcmp(val, "off") == 0)
        c->sync = STORE_SYNC_OFF;
      else {
        fprintf(stderr, "one: --sync takes full, normal or off, not '%s'\n", val);
        return EXIT_USAGE;
      }
      continue;
    }
    argv[n++] = argv[i];
  }
  *argc = n;
  return 0;
}

int cli_main(int argc, char **argv)
{
  mem_init();
  if (sodium_init() < 0) {
    fprintf(stderr, "one: cannot initialise libsodium\n");
    return EXIT_FAIL;
  }
  struct cli c;
  memset(&c, 0, sizeof c);
  c.db_path = getenv("ONE_DB") && *getenv("ONE_DB") ? getenv("ONE_DB") : "./one.db";
  const char *sync = getenv("ONE_SYNC");
  c.sync = sync && strcmp(sync, "normal") == 0 ? STORE_SYNC_NORMAL
           : sync && strcmp(sync, "off") == 0  ? STORE_SYNC_OFF
                                               : STORE_SYNC_FULL;
  argc--;
  argv++;
  int rc = global_options(&c, &argc, argv);
  if (rc)
    return rc;
  if (argc == 0) {
    print_help(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[0], "--version") == 0 || strcmp(argv[0], "version") == 0) {
    printf("one %s\n", ONE_VERSION);
    return EXIT_OK;
  }
  if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    if (argc == 1) {
      print_help(stdout);
      return EXIT_OK;
    }
    return help_for(argv[1], argc > 2 ? argv[2] : NULL);
  }
  int words = 0;
  const struct command *cmd = find_command(argv[0], argc > 1 ? argv[1] : NULL, &words);
  if (!cmd) {
    help_for(argv[0], NULL); /* lists a family's commands, or says there is none */
    return EXIT_USAGE;
  }
  for (int i = words; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("Usage: %s\n\n%s\n", cmd->usage, cmd->help);
      return EXIT_OK;
    }
  c.cmd = cmd->name;
  c.argc = argc - words;
  c.argv = argv + words;
  return cmd->run(&c);
}
