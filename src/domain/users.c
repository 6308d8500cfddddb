/* users: own and public profiles (see users.h). */
#include "domain/users.h"

#include "domain/dq.h"

#include <string.h>

static const char *const public_fields[] = {
  "_id", "_creationTime", "name", "image", "photoUrl", "organization", "jobTitle", NULL,
};

static const char *const editable_fields[] = {
  "name", "image", "phoneNumbers", "emails", "addresses", "organization", "jobTitle",
  "birthday", "notes", "photoUrl", NULL,
};

static int me_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = dq_get(tx, "users", op->who->user, "user", &op->out, err);
  if (rc == 0)
    json_object_set_new(op->out, "role", json_string(op->who->admin ? "admin" : "member"));
  return rc;
}

int users_me(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, me_tx, op, err);
}

static int get_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  json_t *doc = NULL;
  int rc = dq_get(tx, "users", op->id, "user", &doc, err);
  if (rc)
    return rc;
  if (strcmp(op->id, op->who->user) == 0 || op->who->admin) {
    op->out = doc;
    return 0;
  }
  op->out = json_object();
  for (const char *const *f = public_fields; *f; f++) {
    json_t *v = json_object_get(doc, *f);
    if (v)
      json_object_set(op->out, *f, v);
  }
  json_decref(doc);
  return 0;
}

int users_get(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_READ, get_tx, op, err);
}

static int update_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  int rc = op_only_fields(op->in, "users", editable_fields, err);
  if (rc)
    return rc;
  json_t *patch = op_patch(op->in);
  rc = store_patch(tx, op->who->user, patch, err);
  json_decref(patch);
  return rc ? rc : me_tx(tx, op, err);
}

int users_update_me(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, update_tx, op, err);
}
