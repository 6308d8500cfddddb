/* testutil: helpers shared by the unit tests: temporary folders, running
 * the `one` binary, loading JSON and schemas from strings, waiting. */
#ifndef ONE_TESTUTIL_H
#define ONE_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>

#include "schema/schema.h"
#include "store/store.h"

/* A new empty folder under $TMPDIR; the path is owned by the caller (free). */
char *tu_tmpdir(void);
/* rm -rf of a folder made by tu_tmpdir. */
void tu_rmdir(const char *dir);
/* Writes text to dir/name, creating sub-folders. */
void tu_write(const char *dir, const char *name, const char *text);
/* Runs a shell command line; returns its exit status, fills out (stdout)
 * and errout (stderr) with new strings (free) when not NULL. */
int tu_run(const char *cmdline, char **out, char **errout);
/* Sleeps ms milliseconds (between polls of a condition: never a timing
 * assertion). */
void tu_sleep_ms(long ms);
/* Parses JSON text (aborts the test on error). */
json_t *tu_json(const char *text);
/* Parses a one-file schema (aborts the test on error). */
struct schema *tu_schema(const char *text);
/* Sets the latest built-in schema (ONE's) on s, as a new epoch. */
void tu_set_latest(struct store *s);
/* Opens a new store in dir at the given schema source. */
struct store *tu_store(const char *dir, const char *schema_text);

#endif
