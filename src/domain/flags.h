/* flags: feature flags, the switches for risky behaviour, stored in the
 * database (so every process serving it agrees) and set by an operator with
 * `one flags set` or by an administrator through the API.
 *
 * Each flag is declared here with its default; an unset flag has its
 * default. Reading a flag is one metadata lookup in the caller's
 * transaction, so a change applies from the next request on. */
#ifndef ONE_DOMAIN_FLAGS_H
#define ONE_DOMAIN_FLAGS_H

#include <jansson.h>

#include "store/store.h"

/* Reads of agents present ONE's shape while the backfills are pending:
 * a missing prompt folded from the legacy fields, a missing createdAt from
 * _creationTime. Nothing is written. Default off. */
#define FLAG_READ_ONE_SHAPE "read.one-shape"
/* Mentioning a user or agent who is not a participant adds them (as the
 * author may); off, such a message is refused. Default on. */
#define FLAG_MENTIONS_ADD "mentions.add-participants"

struct flag_def {
  const char *name;
  int on_by_default;
  const char *summary;
};

/* The declared flags, in order. */
const struct flag_def *flags_known(size_t *n);

/* 1 when flag is on in tx's database, 0 when off (an unknown name: 0). */
int flag_on(struct store_tx *tx, const char *name);

/* [{"name", "on", "default", "summary", "setAt"?}] (a new value in *out). */
int flags_list(struct store *s, json_t **out, struct err *err);

/* Sets a declared flag (E_NOTFOUND with the known names otherwise). */
int flags_set(struct store *s, const char *name, int on, struct err *err);

#endif
