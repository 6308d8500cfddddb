/* cmd_seed: `one seed`: the seeded team and content (agents/seed.h). */
#include "agents/seed.h"
#include "cli/cli.h"

#include <stdio.h>

int cmd_seed(struct cli *c)
{
  static const struct cli_opt opts[] = {{NULL, 0, 0}};
  int rc = cli_args(c, opts, 0, 0);
  if (rc)
    return rc;
  struct err err = ERR_INIT;
  struct store *s = NULL;
  struct seed_report r;
  if (cli_open(c, 1, &s, &err) || seed_run(s, &r, &err)) {
    rc = cli_fail(&err);
    err_clear(&err);
    store_close(s);
    return rc;
  }
  store_close(s);
  if (!r.agents && !r.agents_completed && !r.tools && !r.prompts && !r.flows)
    printf("seed: everything is there already\n");
  else
    printf("seed: created %d agents (completed %d), %d tools, %d prompt templates, %d learning "
           "flow%s\n", r.agents, r.agents_completed, r.tools, r.prompts, r.flows,
           r.flows == 1 ? "" : "s");
  return EXIT_OK;
}
