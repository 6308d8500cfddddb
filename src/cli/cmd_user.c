/* cmd_user: `one user create`, the way in for the first administrator. */
#include "cli/cli.h"
#include "domain/accounts.h"
#include "schema/schema.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the password into pw (size n): --password-file, $ONE_PASSWORD or
 * the first line of standard input. 0, or -1 with a message printed. */
static int read_password(const struct cli *c, char *pw, size_t n)
{
  const char *file = cli_opt(c, "password-file");
  const char *env = getenv("ONE_PASSWORD");
  FILE *f = NULL;
  if (file) {
    if (!(f = fopen(file, "r"))) {
      fprintf(stderr, "one: cannot read the password file %s\n", file);
      return -1;
    }
  } else if (env) {
    snprintf(pw, n, "%s", env);
    return 0;
  } else {
    f = stdin;
  }
  if (!fgets(pw, (int)n, f))
    pw[0] = '\0';
  if (f != stdin)
    fclose(f);
  pw[strcspn(pw, "\r\n")] = '\0';
  return 0;
}

int cmd_user_create(struct cli *c)
{
  static const struct cli_opt opts[] = {
    {"email", 1, 0}, {"name", 1, 0}, {"admin", 0, 0}, {"password-file", 1, 0}, {NULL, 0, 0}};
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  const char *email = cli_opt(c, "email");
  if (!email)
    return cli_usage(c, "--email is required");
  struct store *s = NULL;
  struct err err = ERR_INIT;
  int created = 0;
  if (cli_open(c, 0, &s, &err) != 0 || cli_ensure_schema(s, schema_latest_name(), &created, &err) != 0) {
    rc = cli_fail(&err);
    err_clear(&err);
    store_close(s);
    return rc;
  }
  if (cli_flag(c, "admin")) {
    /* an existing account is promoted; no password needed */
    rc = account_set_role(s, email, 1, &err);
    if (rc == 0) {
      printf("%s is now an administrator\n", email);
      store_close(s);
      return EXIT_OK;
    }
    if (rc != E_NOTFOUND) {
      rc = cli_fail(&err);
      err_clear(&err);
      store_close(s);
      return rc;
    }
    err_clear(&err);
  }
  char pw[PASSWORD_MAX + 2];
  if (read_password(c, pw, sizeof pw) != 0) {
    store_close(s);
    return EXIT_FAIL;
  }
  struct account_new a = {email, cli_opt(c, "name"), pw, cli_flag(c, "admin")};
  char id[CID_MAX];
  rc = account_create(s, &a, id, &err);
  sodium_memzero(pw, sizeof pw);
  if (rc == 0) {
    printf("%s\n", id);
    fprintf(stderr, "created %s%s\n", email, a.admin ? " (administrator)" : "");
  }
  if (rc != 0)
    rc = cli_fail(&err);
  err_clear(&err);
  store_close(s);
  return rc;
}
