/* cmd_flags: `one flags list` and `one flags set NAME on|off`. */
#include "cli/cli.h"
#include "domain/flags.h"

#include <stdio.h>
#include <string.h>

static const struct cli_opt opts[] = {{"json", 0, 0}, {NULL, 0, 0}};

static int done(struct store *s, struct err *err, int rc)
{
  if (rc)
    rc = cli_fail(err);
  err_clear(err);
  store_close(s);
  return rc;
}

int cmd_flags_list(struct cli *c)
{
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  struct store *s = NULL;
  json_t *list = NULL;
  if (cli_open(c, 1, &s, &err) || flags_list(s, &list, &err))
    return done(s, &err, 1);
  if (cli_flag(c, "json")) {
    cli_print_value(list, 1);
  } else {
    size_t i;
    json_t *f;
    json_array_foreach(list, i, f) {
      int on = json_is_true(json_object_get(f, "on"));
      int dflt = json_is_true(json_object_get(f, "default"));
      printf("%-28s %-3s %s\n%28s     %s\n", json_string_value(json_object_get(f, "name")),
             on ? "on" : "off", on == dflt ? "(default)" : "(set)", "",
             json_string_value(json_object_get(f, "summary")));
    }
  }
  json_decref(list);
  return done(s, &err, 0);
}

int cmd_flags_set(struct cli *c)
{
  int rc = cli_args(c, opts, 2, 2);
  if (rc)
    return rc;
  const char *v = c->argv[1];
  int on = strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
  int off = strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0;
  if (!on && !off)
    return cli_usage(c, "a flag is set 'on' or 'off', not '%s'", v);
  struct err err = ERR_INIT;
  struct store *s = NULL;
  if (cli_open(c, 1, &s, &err) || flags_set(s, c->argv[0], on, &err))
    return done(s, &err, 1);
  printf("%s is %s\n", c->argv[0], on ? "on" : "off");
  return done(s, &err, 0);
}
