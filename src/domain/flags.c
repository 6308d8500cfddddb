/* flags: see flags.h. Stored as metadata "flag.<name>" = {"on", "at"}. */
#include "domain/flags.h"

#include "util/buf.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

static const struct flag_def known[] = {
  {FLAG_READ_ONE_SHAPE, 0,
   "reads of agents show ONE's shape while backfills are pending (prompt folded from "
   "personality, goal, systemPrompt and instructions; createdAt from _creationTime)"},
  {FLAG_MENTIONS_ADD, 1,
   "mentioning someone who is not a participant adds them; off, such a message is refused"},
};

const struct flag_def *flags_known(size_t *n)
{
  *n = sizeof known / sizeof known[0];
  return known;
}

static const struct flag_def *find(const char *name)
{
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(known[i].name, name) == 0)
      return &known[i];
  return NULL;
}

/* The stored setting of def: {"on", "at"} or NULL when unset. */
static json_t *stored(struct store_tx *tx, const struct flag_def *def)
{
  char key[128], *text = NULL;
  snprintf(key, sizeof key, "flag.%s", def->name);
  struct err e = ERR_INIT;
  json_t *v = store_meta_get(tx, key, &text, &e) == 0 ? json_loads(text, 0, NULL) : NULL;
  err_clear(&e);
  one_free(text);
  return v;
}

int flag_on(struct store_tx *tx, const char *name)
{
  const struct flag_def *def = find(name);
  if (!def)
    return 0;
  json_t *v = stored(tx, def);
  int on = v ? json_is_true(json_object_get(v, "on")) : def->on_by_default;
  json_decref(v);
  return on;
}

static int list_tx(struct store_tx *tx, void *arg, struct err *err)
{
  json_t *out = arg;
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
    json_t *v = stored(tx, &known[i]);
    json_t *row = json_pack("{s:s,s:b,s:b,s:s}", "name", known[i].name, "on",
                            v ? json_is_true(json_object_get(v, "on")) : known[i].on_by_default,
                            "default", known[i].on_by_default, "summary", known[i].summary);
    if (row && v)
      json_object_set(row, "setAt", json_object_get(v, "at"));
    json_decref(v);
    if (!row || json_array_append_new(out, row))
      return err_set(err, E_NOMEM, "out of memory");
  }
  return 0;
}

int flags_list(struct store *s, json_t **out, struct err *err)
{
  *out = json_array();
  int rc = *out ? store_run(s, STORE_READ, list_tx, *out, err) : err_set(err, E_NOMEM, "out of memory");
  if (rc) {
    json_decref(*out);
    *out = NULL;
  }
  return rc;
}

struct set_arg {
  const struct flag_def *def;
  int on;
};

static int set_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct set_arg *a = arg;
  char key[128];
  snprintf(key, sizeof key, "flag.%s", a->def->name);
  json_t *v = json_pack("{s:b,s:f}", "on", a->on, "at", clock_now_ms());
  char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
  json_decref(v);
  int rc = text ? store_meta_set(tx, key, text, err) : err_set(err, E_NOMEM, "out of memory");
  one_free(text);
  return rc;
}

int flags_set(struct store *s, const char *name, int on, struct err *err)
{
  struct set_arg a = {find(name), on};
  if (!a.def) {
    struct buf b;
    buf_init(&b, 4096);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
      buf_printf(&b, "%s%s", i ? ", " : "", known[i].name);
    err_set(err, E_NOTFOUND, "no feature flag '%s' (known: %s)", name, buf_str(&b));
    buf_release(&b);
    return E_NOTFOUND;
  }
  return store_run(s, STORE_WRITE, set_tx, &a, err);
}
