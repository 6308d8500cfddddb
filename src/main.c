/* main: the `one` command's entry point; everything else is in cli/. */
#include "cli/cli.h"

int main(int argc, char **argv) { return cli_main(argc, argv); }
