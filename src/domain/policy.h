/* policy: the permission policy of each table reached through the generic
 * /api/v1/tables routes. A policy is two predicates on a document: may the
 * actor read it, may the actor write it. A write is allowed when the
 * document before (patch, delete) and the document after (insert, patch)
 * both pass, so nobody can write a document away from themself or onto
 * someone else. Administrators pass every policy. Tables with routes of
 * their own (users, agents, conversations…) and tables without a row here
 * are for administrators only through /tables. */
#ifndef ONE_DOMAIN_POLICY_H
#define ONE_DOMAIN_POLICY_H

#include <jansson.h>
#include <stddef.h>

#include "domain/actor.h"
#include "store/store.h"

typedef int (*policy_fn)(struct store_tx *tx, const struct actor *who, const json_t *doc);

struct policy {
  const char *table;
  const char *summary;   /* for the documentation */
  policy_fn may_read;
  policy_fn may_write;
};

/* The policy of table, or NULL (administrators only). */
const struct policy *policy_find(const char *table);
/* Every policy (n gets the count). */
const struct policy *policy_all(size_t *n);

#endif
