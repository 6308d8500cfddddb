/* actor: who is asking. Every domain function that reads or writes on
 * someone's behalf takes one; the HTTP layer fills it from the session or
 * API token, the CLI acts as an administrator. */
#ifndef ONE_DOMAIN_ACTOR_H
#define ONE_DOMAIN_ACTOR_H

#include "util/cid.h"

struct actor {
  char user[CID_MAX];   /* the user's id ("" for nobody) */
  int admin;            /* the account's role is "admin" */
};

#endif
