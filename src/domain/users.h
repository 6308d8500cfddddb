/* users: profiles. My own profile in full (with my email and role); anyone
 * else's as a public profile (name, picture, organization, job title), to
 * any signed-in user. Only I change my profile; the email is the sign-in
 * name and changes through the account, not here. */
#ifndef ONE_DOMAIN_USERS_H
#define ONE_DOMAIN_USERS_H

#include "domain/op.h"

int users_me(struct store *s, struct op *op, struct err *err);
int users_get(struct store *s, struct op *op, struct err *err);        /* op.id */
int users_update_me(struct store *s, struct op *op, struct err *err);  /* op.in */

#endif
