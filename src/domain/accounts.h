/* accounts: sign-up, sign-in, sessions and personal API tokens.
 *
 * A user is a `users` document (the public profile) plus an `accounts`
 * document (email, argon2id password hash, role). Sign-in returns an opaque
 * random token; only its BLAKE2b hash is stored (`sessions`), so a copy of
 * the database does not let anyone sign in. Personal API tokens work the
 * same way (`apiTokens`) and are revocable. Tokens are
 * "ones_" (session) or "onet_" (API token) + 43 base64url characters.
 *
 * Failed sign-ins are limited per account (5 in 15 minutes) and per client
 * address (20 in 15 minutes); a limited attempt fails with E_LIMIT and the
 * seconds to wait, before any password is checked. */
#ifndef ONE_DOMAIN_ACCOUNTS_H
#define ONE_DOMAIN_ACCOUNTS_H

#include <jansson.h>

#include "domain/actor.h"
#include "store/store.h"

#define TOKEN_MAX 64                     /* a token with its NUL fits */
#define CSRF_MAX 65
#define SESSION_TTL_MS (30.0 * 24 * 3600 * 1000)
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

struct account_new {
  const char *email;
  const char *name;        /* NULL: the part of the email before '@' */
  const char *password;
  int admin;
};

/* Creates a user with an account. E_CONFLICT when the email is taken,
 * E_INVALID (with a detail path) for a bad email, name or password. */
int account_create(struct store *s, const struct account_new *a, char user_id[CID_MAX],
                   struct err *err);

struct signin {
  const char *email, *password;
  const char *address;     /* client address, for the rate limit */
  const char *user_agent;  /* kept with the session, may be NULL */
};

/* Checks the password and opens a session: token (TOKEN_MAX bytes) and who.
 * E_AUTH for a wrong email or password (the same message for both);
 * E_LIMIT with *retry_after seconds when limited. */
int account_signin(struct store *s, const struct signin *in, char token[TOKEN_MAX],
                   struct actor *who, double *expires_at, unsigned *retry_after,
                   struct err *err);

/* Who holds token (a session or an API token). E_AUTH when it is unknown,
 * expired or revoked. */
int account_authenticate(struct store *s, const char *token, struct actor *who,
                         struct err *err);

/* Ends the session of token (API tokens are revoked with token_revoke). */
int account_signout(struct store *s, const char *token, struct err *err);

/* The CSRF token of a cookie session: derived from the session token, so
 * nothing more is stored; a page of another site cannot read it. */
void account_csrf(const char *token, char out[CSRF_MAX]);

/* Creates a personal API token named name for who: token (shown once) and
 * the apiTokens document (new reference, without its hash). */
int token_create(struct store *s, const struct actor *who, const char *name,
                 char token[TOKEN_MAX], json_t **doc, struct err *err);
/* who's API tokens, newest first, without hashes (new reference). */
int token_list(struct store *s, const struct actor *who, json_t **out, struct err *err);
/* Revokes who's token id. E_NOTFOUND when it is not who's. */
int token_revoke(struct store *s, const struct actor *who, const char *id, struct err *err);

/* Sets an account's role (the CLI's `user create --admin` on an existing
 * email, and tests). */
int account_set_role(struct store *s, const char *email, int admin, struct err *err);

#endif
