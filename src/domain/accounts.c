/* accounts: users with passwords, sessions and API tokens (see accounts.h). */
#include "domain/accounts.h"

#include "domain/dq.h"
#include "domain/ratelimit.h"
#include "util/jtext.h"
#include "util/clock.h"
#include "util/mem.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_BYTES 32
#define HASH_HEX 65
#define SESSION_PREFIX "ones_"
#define API_PREFIX "onet_"
#define PREFIX_LEN 5

static struct ratelimit by_account, by_address;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;
static char dummy_hash[crypto_pwhash_STRBYTES];

static void limits_init(void)
{
  ratelimit_init(&by_account, 5, 15 * 60);
  ratelimit_init(&by_address, 20, 15 * 60);
  /* A hash to check wrong emails against, so that an unknown email takes as
   * long as a wrong password and does not reveal that it is unknown. */
  if (crypto_pwhash_str(dummy_hash, "not a password", 14, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    dummy_hash[0] = '\0';
}

/* --- tokens --- */

static void token_new(const char *prefix, char token[TOKEN_MAX])
{
  uint8_t rnd[TOKEN_BYTES];
  randombytes_buf(rnd, sizeof rnd);
  memcpy(token, prefix, PREFIX_LEN);
  sodium_bin2base64(token + PREFIX_LEN, TOKEN_MAX - PREFIX_LEN, rnd, sizeof rnd,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(rnd, sizeof rnd);
}

static void token_hash(const char *token, char out[HASH_HEX])
{
  uint8_t h[32];
  crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), NULL, 0);
  sodium_bin2hex(out, HASH_HEX, h, sizeof h);
}

/* A token has the right prefix, length and alphabet. */
static int token_shape(const char *token, const char *prefix)
{
  size_t n = strlen(token);
  if (n != PREFIX_LEN + 43 || strncmp(token, prefix, PREFIX_LEN) != 0)
    return 0;
  for (size_t i = PREFIX_LEN; i < n; i++)
    if (!isalnum((unsigned char)token[i]) && token[i] != '-' && token[i] != '_')
      return 0;
  return 1;
}

void account_csrf(const char *token, char out[CSRF_MAX])
{
  static const uint8_t key[32] = "ONE cookie session CSRF key v1..";
  uint8_t h[32];
  crypto_generichash(h, sizeof h, (const uint8_t *)token, strlen(token), key, sizeof key);
  sodium_bin2hex(out, CSRF_MAX, h, sizeof h);
}

/* --- input checks --- */

/* Lower-cases a plausible email into out, or E_INVALID with a detail. */
static int email_norm(const char *email, char *out, size_t cap, struct err *err)
{
  size_t n = email ? strlen(email) : 0;
  const char *at = email ? strchr(email, '@') : NULL;
  if (n == 0 || n >= cap || n > 254 || !at || at == email || !at[1] || strchr(at + 1, '@') ||
      !strchr(at + 1, '.')) {
    err_set(err, E_INVALID, "email must look like name@example.org");
    err_add_detail(err, "email", "not an email address");
    return E_INVALID;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)email[i];
    if (c <= ' ' || c == 0x7f) {
      err_set(err, E_INVALID, "email must not contain spaces or control characters");
      err_add_detail(err, "email", "not an email address");
      return E_INVALID;
    }
    out[i] = (char)tolower(c);
  }
  out[n] = '\0';
  return 0;
}

static int password_check(const char *pw, struct err *err)
{
  size_t n = pw ? strlen(pw) : 0;
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
    err_set(err, E_INVALID, "a password has %d to %d characters", PASSWORD_MIN, PASSWORD_MAX);
    err_add_detail(err, "password", "%s", n < PASSWORD_MIN ? "too short" : "too long");
    return E_INVALID;
  }
  return 0;
}

/* --- create --- */

struct create_ctx {
  const char *email, *name, *hash;
  int admin;
  char user_id[CID_MAX];
};

static int create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct create_ctx *c = arg;
  json_t *existing = NULL;
  int rc = dq_first_str(tx, "accounts", "by_email", c->email, &existing, err);
  if (rc != 0)
    return rc;
  if (existing) {
    json_decref(existing);
    err_set(err, E_CONFLICT, "an account with this email exists");
    err_add_detail(err, "email", "taken");
    return E_CONFLICT;
  }
  double now = clock_now_ms();
  json_t *user = json_pack("{s:s,s:s,s:f}", "name", c->name, "email", c->email, "createdAt", now);
  if (!user)
    return err_set(err, E_NOMEM, "out of memory");
  rc = store_insert(tx, "users", user, 0, c->user_id, err);
  json_decref(user);
  if (rc != 0)
    return rc;
  json_t *acct = json_pack("{s:s,s:s,s:s,s:s,s:f}", "userId", c->user_id, "email", c->email,
                           "passwordHash", c->hash, "role", c->admin ? "admin" : "member",
                           "createdAt", now);
  if (!acct)
    return err_set(err, E_NOMEM, "out of memory");
  rc = store_insert(tx, "accounts", acct, 0, NULL, err);
  json_decref(acct);
  return rc;
}

int account_create(struct store *s, const struct account_new *a, char user_id[CID_MAX],
                   struct err *err)
{
  char email[256], name[256];
  if (email_norm(a->email, email, sizeof email, err) != 0 || password_check(a->password, err) != 0)
    return err ? err->code : E_INVALID;
  if (a->name) {
    size_t n = strlen(a->name);
    if (n == 0 || n > 200) {
      err_set(err, E_INVALID, "a name has 1 to 200 characters");
      err_add_detail(err, "name", "%s", n ? "too long" : "empty");
      return E_INVALID;
    }
    memcpy(name, a->name, n + 1);
  } else {
    size_t n = (size_t)(strchr(a->email, '@') - a->email); /* as typed: "Ann@…" is Ann */
    memcpy(name, a->email, n);
    name[n] = '\0';
  }
  struct create_ctx c = {.email = email, .name = name, .admin = a->admin};
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(hash, a->password, strlen(a->password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return err_set(err, E_NOMEM, "out of memory hashing the password");
  c.hash = hash;
  int rc = store_run(s, STORE_WRITE, create_tx, &c, err);
  if (rc == 0 && user_id)
    memcpy(user_id, c.user_id, CID_MAX);
  return rc;
}

/* --- sign in --- */

struct signin_ctx {
  const char *email;
  char user_id[CID_MAX];
  char hash[crypto_pwhash_STRBYTES];
  int found, admin;
  /* session */
  const char *token_hash, *user_agent;
  double now, expires;
};

static int lookup_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct signin_ctx *c = arg;
  json_t *acct = NULL;
  int rc = dq_first_str(tx, "accounts", "by_email", c->email, &acct, err);
  if (rc != 0 || !acct)
    return rc;
  const char *hash = dq_str(acct, "passwordHash");
  if (strlen(hash) < sizeof c->hash) {
    memcpy(c->hash, hash, strlen(hash) + 1);
    snprintf(c->user_id, sizeof c->user_id, "%s", dq_str(acct, "userId"));
    c->admin = strcmp(dq_str(acct, "role"), "admin") == 0;
    c->found = 1;
  }
  json_decref(acct);
  return 0;
}

/* Deletes up to 100 expired sessions of the user (they pile up otherwise). */
static int sweep_sessions(struct store_tx *tx, const char *user_id, double now, struct err *err)
{
  json_t *eq = json_pack("[s]", user_id);
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  struct store_query q = {.table = "sessions", .index = "by_user", .eq = eq, .limit = 100};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  for (size_t i = 0; rc == 0 && i < json_array_size(page.docs); i++) {
    json_t *d = json_array_get(page.docs, i);
    if (dq_num(d, "expiresAt", 0) <= now)
      rc = store_delete(tx, dq_str(d, "_id"), err);
  }
  store_page_release(&page);
  return rc;
}

static int session_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct signin_ctx *c = arg;
  int rc = sweep_sessions(tx, c->user_id, c->now, err);
  if (rc != 0)
    return rc;
  json_t *doc = json_pack("{s:s,s:s,s:f,s:f}", "userId", c->user_id, "tokenHash", c->token_hash,
                          "createdAt", c->now, "expiresAt", c->expires);
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  if (c->user_agent) {
    /* Kept only when it is valid UTF-8 (json_stringn checks), cut to 200. */
    size_t n = strnlen(c->user_agent, 200);
    json_t *ua = json_stringn(c->user_agent, n);
    if (ua)
      json_object_set_new(doc, "userAgent", ua);
  }
  rc = store_insert(tx, "sessions", doc, 0, NULL, err);
  json_decref(doc);
  return rc;
}

int account_signin(struct store *s, const struct signin *in, char token[TOKEN_MAX],
                   struct actor *who, double *expires_at, unsigned *retry_after,
                   struct err *err)
{
  pthread_once(&limits_once, limits_init);
  *retry_after = 0;
  char email[256];
  if (email_norm(in->email, email, sizeof email, err) != 0)
    return E_INVALID;
  if (!in->password || !in->password[0]) {
    err_set(err, E_INVALID, "a password is required");
    err_add_detail(err, "password", "missing");
    return E_INVALID;
  }
  char akey[300], ikey[80];
  snprintf(akey, sizeof akey, "a:%s", email);
  snprintf(ikey, sizeof ikey, "ip:%s", in->address ? in->address : "");
  double mono = clock_mono_s();
  unsigned wa = ratelimit_wait(&by_account, akey, mono);
  unsigned wi = ratelimit_wait(&by_address, ikey, mono);
  if (wa || wi) {
    *retry_after = wa > wi ? wa : wi;
    return err_set(err, E_LIMIT, "too many failed sign-ins; try again in %u seconds",
                   *retry_after);
  }
  struct signin_ctx c = {.email = email};
  int rc = store_run(s, STORE_READ, lookup_tx, &c, err);
  if (rc != 0)
    return rc;
  size_t pwlen = strnlen(in->password, PASSWORD_MAX + 1);
  int ok = pwlen <= PASSWORD_MAX &&
           crypto_pwhash_str_verify(c.found ? c.hash : dummy_hash, in->password, pwlen) == 0;
  sodium_memzero(c.hash, sizeof c.hash);
  if (!ok || !c.found) {
    ratelimit_fail(&by_account, akey, mono);
    ratelimit_fail(&by_address, ikey, mono);
    return err_set(err, E_AUTH, "wrong email or password");
  }
  ratelimit_reset(&by_account, akey);
  char hash[HASH_HEX];
  token_new(SESSION_PREFIX, token);
  token_hash(token, hash);
  c.token_hash = hash;
  c.user_agent = in->user_agent;
  c.now = clock_now_ms();
  c.expires = c.now + SESSION_TTL_MS;
  rc = store_run(s, STORE_WRITE, session_tx, &c, err);
  if (rc != 0) {
    sodium_memzero(token, TOKEN_MAX);
    return rc;
  }
  memcpy(who->user, c.user_id, CID_MAX);
  who->admin = c.admin;
  if (expires_at)
    *expires_at = c.expires;
  return 0;
}

/* --- authenticate --- */

struct auth_ctx {
  const char *table;
  const char *hash;
  struct actor *who;
};

/* Where each token's session (or API token) and account were found last,
 * kept per thread: a hint, never trusted. The document at a hinted id is
 * used only when it is in the right table and holds the very field value
 * the index lookup would have looked for (the token's hash; the session's
 * user), so it is the document that lookup would find; otherwise the
 * lookup runs. A request then reads two documents by id instead of two
 * index ranges, and every check is made on what they hold now. */
struct auth_hint {
  char hash[HASH_HEX];
  char doc[CID_MAX], acct[CID_MAX];
};

#define AUTH_HINTS 64
static _Thread_local struct auth_hint hints[AUTH_HINTS];

static struct auth_hint *hint_for(const char *hash)
{
  unsigned long slot = strtoul((char[]){hash[0], hash[1], hash[2], hash[3], '\0'}, NULL, 16);
  return &hints[slot % AUTH_HINTS];
}

/* Every request runs this: the session (or token) and the account are
 * read as stored text, for the few fields it needs, not parsed. */
static int auth_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct auth_ctx *c = arg;
  struct auth_hint *h = hint_for(c->hash);
  int hint = strcmp(h->hash, c->hash) == 0;
  char *doc = NULL, *acct = NULL;
  size_t n = 0, an = 0;
  int rc = 0;
  if (hint)
    doc = dq_text_at(tx, h->doc, c->table, (const char *[]){"tokenHash"},
                     (const char *[]){c->hash}, 1, &n);
  if (!doc && (rc = dq_first_text_str(tx, c->table, "by_token", c->hash, &doc, &n, err)) != 0)
    return rc;
  if (!doc)
    return err_set(err, E_AUTH, "the session or token is unknown or has ended; sign in again");
  int session = strcmp(c->table, "sessions") == 0;
  char user[sizeof c->who->user], role[32];
  if (session && dq_text_num(doc, n, "expiresAt", 0) <= clock_now_ms())
    rc = err_set(err, E_AUTH, "the session has expired; sign in again");
  else if (!session && dq_text_has(doc, n, "revokedAt"))
    rc = err_set(err, E_AUTH, "this API token was revoked");
  else if (!jtext_str(doc, n, "userId", user, sizeof user))
    rc = err_set(err, E_AUTH, "the account of this session no longer exists");
  if (rc == 0 && hint)
    acct = dq_text_at(tx, h->acct, "accounts", (const char *[]){"userId"},
                      (const char *[]){user}, 1, &an);
  if (rc == 0 && !acct)
    rc = dq_first_text_str(tx, "accounts", "by_user", user, &acct, &an, err);
  if (rc == 0 && !acct)
    rc = err_set(err, E_AUTH, "the account of this session no longer exists");
  if (rc == 0) {
    snprintf(c->who->user, sizeof c->who->user, "%s", user);
    c->who->admin = jtext_str(acct, an, "role", role, sizeof role) && strcmp(role, "admin") == 0;
    struct auth_hint next;
    if (jtext_str(doc, n, "_id", next.doc, sizeof next.doc) &&
        jtext_str(acct, an, "_id", next.acct, sizeof next.acct)) {
      memcpy(next.hash, c->hash, HASH_HEX);
      *h = next;
    }
  }
  one_free(acct);
  one_free(doc);
  return rc;
}

int account_authenticate(struct store *s, const char *token, struct actor *who, struct err *err)
{
  const char *table = NULL;
  if (token && token_shape(token, SESSION_PREFIX))
    table = "sessions";
  else if (token && token_shape(token, API_PREFIX))
    table = "apiTokens";
  if (!table)
    return err_set(err, E_AUTH, "not a ONE session or API token");
  char hash[HASH_HEX];
  token_hash(token, hash);
  memset(who, 0, sizeof *who);
  struct auth_ctx c = {table, hash, who};
  return store_run(s, STORE_READ, auth_tx, &c, err);
}

static int signout_tx(struct store_tx *tx, void *arg, struct err *err)
{
  json_t *doc = NULL;
  int rc = dq_first_str(tx, "sessions", "by_token", arg, &doc, err);
  if (rc == 0 && doc)
    rc = store_delete(tx, dq_str(doc, "_id"), err);
  json_decref(doc);
  return rc;
}

int account_signout(struct store *s, const char *token, struct err *err)
{
  if (!token || !token_shape(token, SESSION_PREFIX))
    return 0; /* API tokens are revoked, not signed out */
  char hash[HASH_HEX];
  token_hash(token, hash);
  return store_run(s, STORE_WRITE, signout_tx, hash, err);
}

/* --- API tokens --- */

struct token_ctx {
  const struct actor *who;
  const char *name, *hash, *prefix, *id;
  json_t *out;
};

static json_t *token_public(const json_t *doc)
{
  json_t *d = json_deep_copy(doc);
  if (d)
    json_object_del(d, "tokenHash");
  return d;
}

static int token_create_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct token_ctx *c = arg;
  json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:f}", "userId", c->who->user, "name", c->name,
                          "tokenHash", c->hash, "prefix", c->prefix, "createdAt", clock_now_ms());
  if (!doc)
    return err_set(err, E_NOMEM, "out of memory");
  char id[CID_MAX];
  int rc = store_insert(tx, "apiTokens", doc, 0, id, err);
  json_decref(doc);
  json_t *stored = NULL;
  if (rc == 0)
    rc = store_get(tx, id, &stored, NULL, err);
  if (rc == 0) {
    c->out = token_public(stored);
    json_decref(stored);
  }
  return rc;
}

int token_create(struct store *s, const struct actor *who, const char *name,
                 char token[TOKEN_MAX], json_t **doc, struct err *err)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 100) {
    err_set(err, E_INVALID, "a token needs a name of 1 to 100 characters");
    err_add_detail(err, "name", "%s", n ? "too long" : "missing");
    return E_INVALID;
  }
  char hash[HASH_HEX], prefix[16];
  token_new(API_PREFIX, token);
  token_hash(token, hash);
  snprintf(prefix, sizeof prefix, "%.12s", token);
  struct token_ctx c = {.who = who, .name = name, .hash = hash, .prefix = prefix};
  int rc = store_run(s, STORE_WRITE, token_create_tx, &c, err);
  if (rc != 0) {
    sodium_memzero(token, TOKEN_MAX);
    return rc;
  }
  *doc = c.out;
  return 0;
}

static int token_list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct token_ctx *c = arg;
  json_t *eq = json_pack("[s]", c->who->user);
  if (!eq)
    return err_set(err, E_NOMEM, "out of memory");
  struct store_query q = {.table = "apiTokens", .index = "by_user", .eq = eq, .desc = 1,
                          .limit = STORE_MAX_PAGE};
  struct store_page page = {0};
  int rc = store_query(tx, &q, &page, err);
  json_decref(eq);
  c->out = json_array();
  for (size_t i = 0; rc == 0 && i < json_array_size(page.docs); i++)
    json_array_append_new(c->out, token_public(json_array_get(page.docs, i)));
  store_page_release(&page);
  return rc;
}

int token_list(struct store *s, const struct actor *who, json_t **out, struct err *err)
{
  struct token_ctx c = {.who = who};
  int rc = store_run(s, STORE_READ, token_list_tx, &c, err);
  if (rc != 0)
    json_decref(c.out);
  else
    *out = c.out;
  return rc;
}

static int token_revoke_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct token_ctx *c = arg;
  json_t *doc = NULL;
  int rc = dq_get(tx, "apiTokens", c->id, "API token", &doc, err);
  if (rc != 0)
    return rc;
  if (strcmp(dq_str(doc, "userId"), c->who->user) != 0) {
    json_decref(doc);
    return err_set(err, E_NOTFOUND, "no such API token");
  }
  if (!json_object_get(doc, "revokedAt")) {
    json_t *patch = json_pack("{s:f}", "revokedAt", clock_now_ms());
    rc = patch ? store_patch(tx, c->id, patch, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(patch);
  }
  json_decref(doc);
  return rc;
}

int token_revoke(struct store *s, const struct actor *who, const char *id, struct err *err)
{
  struct token_ctx c = {.who = who, .id = id};
  return store_run(s, STORE_WRITE, token_revoke_tx, &c, err);
}

/* --- roles --- */

struct role_ctx {
  const char *email;
  int admin;
};

static int role_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct role_ctx *c = arg;
  json_t *acct = NULL;
  int rc = dq_first_str(tx, "accounts", "by_email", c->email, &acct, err);
  if (rc != 0)
    return rc;
  if (!acct)
    return err_set(err, E_NOTFOUND, "no account with email %s", c->email);
  json_t *patch = json_pack("{s:s}", "role", c->admin ? "admin" : "member");
  rc = patch ? store_patch(tx, dq_str(acct, "_id"), patch, err) : err_set(err, E_NOMEM, "out of memory");
  json_decref(patch);
  json_decref(acct);
  return rc;
}

int account_set_role(struct store *s, const char *email, int admin, struct err *err)
{
  char norm[256];
  if (email_norm(email, norm, sizeof norm, err) != 0)
    return E_INVALID;
  struct role_ctx c = {norm, admin};
  return store_run(s, STORE_WRITE, role_tx, &c, err);
}
