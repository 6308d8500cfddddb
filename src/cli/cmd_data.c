/* cmd_data: `one data insert|get|patch|delete|list`, admin access to
 * documents. Input and output are Convex JSON (see util/jv.h); every write
 * goes through the store and so is validated against the schema in force. */
#include "cli/cli.h"
#include "util/buf.h"
#include "util/jv.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (2 * 1024 * 1024)

/* The JSON text of an argument, or of standard input for "-". */
static char *read_arg(const char *arg, struct err *err)
{
  if (strcmp(arg, "-") != 0) {
    char *s = one_strdup(arg);
    if (!s)
      err_set(err, E_NOMEM, "out of memory");
    return s;
  }
  struct buf b;
  buf_init(&b, MAX_INPUT);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
    int rc = buf_append(&b, chunk, n);
    if (rc) {
      buf_release(&b);
      err_set(err, rc, rc == E_TOOBIG ? "input larger than %d bytes" : "out of memory", MAX_INPUT);
      return NULL;
    }
  }
  return buf_detach(&b);
}

/* Parses wire JSON into the in-memory encoding. With allow_undefined, a
 * top-level field {"$undefined":true} is kept as the store's marker. */
static json_t *parse_value(const char *text, int allow_undefined, struct err *err)
{
  json_t *wire = jv_parse(text, strlen(text), err);
  if (!wire)
    return NULL;
  json_t *v = NULL;
  if (allow_undefined && json_is_object(wire)) {
    v = json_object();
    const char *k;
    json_t *x;
    json_object_foreach(wire, k, x) {
      json_t *y = store_is_undefined(x) ? json_incref(x) : jv_from_wire(x, err);
      if (!y || json_object_set_new(v, k, y)) {
        json_decref(v);
        v = NULL;
        break;
      }
    }
    if (!v && !err->code)
      err_set(err, E_NOMEM, "out of memory");
  } else {
    v = jv_from_wire(wire, err);
  }
  json_decref(wire);
  return v;
}

struct data_op {
  struct cli *c;
  const char *table, *id;
  json_t *value;
  char new_id[CID_MAX];
  json_t *doc;
};

static int run(struct cli *c, enum store_mode mode, store_fn fn, void *op)
{
  struct err err = ERR_INIT;
  struct store *s = NULL;
  int rc = cli_open(c, 1, &s, &err);
  if (!rc)
    rc = store_run(s, mode, fn, op, &err);
  store_close(s);
  if (rc) {
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  return EXIT_OK;
}

static int insert_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct data_op *op = arg;
  return store_insert(tx, op->table, op->value, 0, op->new_id, err);
}

int cmd_data_insert(struct cli *c)
{
  int rc = cli_args(c, NULL, 2, 2);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  char *text = read_arg(c->argv[1], &err);
  struct data_op op = {c, c->argv[0], NULL, NULL, {0}, NULL};
  if (text)
    op.value = parse_value(text, 0, &err);
  one_free(text);
  if (!op.value) {
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  rc = run(c, STORE_WRITE, insert_tx, &op);
  if (rc == EXIT_OK)
    printf("%s\n", op.new_id);
  json_decref(op.value);
  return rc;
}

static int get_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct data_op *op = arg;
  return store_get(tx, op->id, &op->doc, NULL, err);
}

int cmd_data_get(struct cli *c)
{
  static const struct cli_opt opts[] = {{"pretty", 0, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 1, 1);
  if (rc)
    return rc;
  struct data_op op = {c, NULL, c->argv[0], NULL, {0}, NULL};
  rc = run(c, STORE_READ, get_tx, &op);
  if (rc == EXIT_OK)
    cli_print_value(op.doc, cli_flag(c, "pretty"));
  json_decref(op.doc);
  return rc;
}

static int patch_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct data_op *op = arg;
  return store_patch(tx, op->id, op->value, err);
}

int cmd_data_patch(struct cli *c)
{
  static const struct cli_opt opts[] = {{"unset", 1, 1}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 1, 2);
  if (rc)
    return rc;
  if (c->argc == 1 && !cli_flag(c, "unset"))
    return cli_usage(c, "give the fields to merge as JSON, or --unset FIELD");
  struct err err = ERR_INIT;
  struct data_op op = {c, NULL, c->argv[0], NULL, {0}, NULL};
  char *text = c->argc == 2 ? read_arg(c->argv[1], &err) : one_strdup("{}");
  if (text)
    op.value = parse_value(text, 1, &err);
  one_free(text);
  if (op.value && !json_is_object(op.value)) {
    err_set(&err, E_INVALID, "a patch must be a JSON object");
    json_decref(op.value);
    op.value = NULL;
  }
  for (int i = 0; op.value && i < c->nopts; i++)
    if (strcmp(c->opt_name[i], "unset") == 0)
      json_object_set_new(op.value, c->opt_value[i], store_undefined());
  if (!op.value) {
    rc = cli_fail(&err);
    err_clear(&err);
    return rc;
  }
  rc = run(c, STORE_WRITE, patch_tx, &op);
  json_decref(op.value);
  return rc;
}

static int delete_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct data_op *op = arg;
  return store_delete(tx, op->id, err);
}

int cmd_data_delete(struct cli *c)
{
  int rc = cli_args(c, NULL, 1, 1);
  if (rc)
    return rc;
  struct data_op op = {c, NULL, c->argv[0], NULL, {0}, NULL};
  return run(c, STORE_WRITE, delete_tx, &op);
}

struct list_op {
  struct store_query q;
  json_t *eq, *lower, *upper;
  struct store_page page;
};

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct list_op *op = arg;
  return store_query(tx, &op->q, &op->page, err);
}

/* A --eq/--gt… value: JSON (Convex JSON), or else the text as a string. */
static json_t *option_value(const char *text, struct err *err)
{
  json_t *wire = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (!wire)
    return json_string(text);
  json_t *v = jv_from_wire(wire, err);
  json_decref(wire);
  return v;
}

static int list_print(struct cli *c, struct list_op *op)
{
  if (cli_flag(c, "json")) {
    json_t *page = jv_to_wire(op->page.docs);
    json_t *out = json_pack("{s:o*,s:s?,s:b}", "page", page, "continueCursor", op->page.cursor,
                            "isDone", op->page.done);
    char *s = out ? jv_dumps(out) : NULL;
    json_decref(out);
    if (!s)
      return EXIT_FAIL;
    puts(s);
    one_free(s);
    return EXIT_OK;
  }
  size_t i;
  json_t *d;
  json_array_foreach(op->page.docs, i, d)
    if (cli_print_value(d, 0))
      return EXIT_FAIL;
  if (!op->page.done && op->page.cursor)
    fprintf(stderr, "more: add --cursor %s\n", op->page.cursor);
  return EXIT_OK;
}

int cmd_data_list(struct cli *c)
{
  static const struct cli_opt opts[] = {
    {"index", 1, 0}, {"eq", 1, 1}, {"gt", 1, 0}, {"gte", 1, 0}, {"lt", 1, 0}, {"lte", 1, 0},
    {"order", 1, 0}, {"limit", 1, 0}, {"cursor", 1, 0}, {"json", 0, 0}, {NULL, 0, 0},
  };
  int rc = cli_args(c, opts, 1, 1);
  if (rc)
    return rc;
  struct list_op op;
  memset(&op, 0, sizeof op);
  op.q.table = c->argv[0];
  op.q.index = cli_opt(c, "index");
  op.q.cursor = cli_opt(c, "cursor");
  op.q.limit = 100;
  const char *order = cli_opt(c, "order");
  if (order && strcmp(order, "asc") != 0 && strcmp(order, "desc") != 0)
    return cli_usage(c, "--order takes asc or desc");
  op.q.desc = order && strcmp(order, "desc") == 0;
  const char *limit = cli_opt(c, "limit");
  if (limit) {
    char *end = NULL;
    errno = 0;
    long n = strtol(limit, &end, 10);
    if (*end || errno || n < 1 || n > STORE_MAX_PAGE)
      return cli_usage(c, "--limit takes a number from 1 to %d", STORE_MAX_PAGE);
    op.q.limit = (size_t)n;
  }
  if ((cli_flag(c, "gt") && cli_flag(c, "gte")) || (cli_flag(c, "lt") && cli_flag(c, "lte")))
    return cli_usage(c, "give at most one lower bound (--gt/--gte) and one upper (--lt/--lte)");
  struct err err = ERR_INIT;
  op.eq = json_array();
  for (int i = 0; i < c->nopts && op.eq; i++) {
    if (strcmp(c->opt_name[i], "eq") != 0)
      continue;
    json_t *v = option_value(c->opt_value[i], &err);
    if (!v) {
      rc = cli_fail(&err);
      goto out;
    }
    json_array_append_new(op.eq, v);
  }
  op.q.eq = json_array_size(op.eq) ? op.eq : NULL;
  const char *lo = cli_opt(c, "gt") ? cli_opt(c, "gt") : cli_opt(c, "gte");
  const char *hi = cli_opt(c, "lt") ? cli_opt(c, "lt") : cli_opt(c, "lte");
  if (lo) {
    op.q.lower_op = cli_flag(c, "gt") ? STORE_GT : STORE_GTE;
    if (!(op.lower = option_value(lo, &err))) {
      rc = cli_fail(&err);
      goto out;
    }
    op.q.lower = op.lower;
  }
  if (hi) {
    op.q.upper_op = cli_flag(c, "lt") ? STORE_LT : STORE_LTE;
    if (!(op.upper = option_value(hi, &err))) {
      rc = cli_fail(&err);
      goto out;
    }
    op.q.upper = op.upper;
  }
  rc = run(c, STORE_READ, list_tx, &op);
  if (rc == EXIT_OK)
    rc = list_print(c, &op);
out:
  err_clear(&err);
  store_page_release(&op.page);
  json_decref(op.eq);
  json_decref(op.lower);
  json_decref(op.upper);
  return rc;
}
