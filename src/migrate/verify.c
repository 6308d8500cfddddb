/* verify: checks the database against what the migration position says.
 *
 * From one read snapshot: every document validates against the schema in
 * force; every string that is a well-formed id of a known table names a
 * document that exists; every backfill that is done has nothing left to do
 * (its rewrite, run dry, wants no change); and against the baseline taken
 * before the first step, each table keeps its documents (count) and the
 * fields no step writes (a checksum; after contract the fields moved to
 * migrationLegacy are put back first). Tables the service wrote to since the
 * baseline are reported, not compared, since their changes are legitimate. */
#include "migrate/chain.h"

#include "migrate/steps.h"
#include "schema/schema.h"
#include "util/clock.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define BASELINE_KEY "migrate.baseline"
#define VERIFIED_KEY "migrate.verified"

static int touched_field(const char *name)
{
  size_t n;
  const struct mstep *st = steps_list(&n);
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; st[i].touches && st[i].touches[k]; k++)
      if (strcmp(st[i].touches[k], name) == 0)
        return 1;
  return 0;
}

/* A 64-bit hash of the document's fields that no step writes. */
static uint64_t doc_hash(const char *table, const json_t *doc)
{
  json_t *copy = json_object();
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)doc, k, v) if (!touched_field(k)) json_object_set(copy, k, v);
  char *text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY |
                                  JSON_REAL_PRECISION(17));
  json_decref(copy);
  uint8_t h[8] = {0};
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof h);
  crypto_generichash_update(&st, (const uint8_t *)table, strlen(table) + 1);
  if (text)
    crypto_generichash_update(&st, (const uint8_t *)text, strlen(text));
  crypto_generichash_final(&st, h, sizeof h);
  one_free(text);
  uint64_t x = 0;
  for (int i = 0; i < 8; i++)
    x = x << 8 | h[i];
  return x;
}

/* --- what the steps wrote and created (their undo records) --- */

struct journal_ids {
  json_t *created;           /* id -> true */
};

static int collect_ids(void *arg, int64_t seq, const char *body)
{
  (void)seq;
  struct journal_ids *j = arg;
  json_t *rec = json_loads(body, 0, NULL);
  size_t i;
  json_t *x;
  json_array_foreach(json_object_get(rec, "created"), i, x)
    json_object_set_new(j->created, json_string_value(x), json_true());
  json_decref(rec);
  return 0;
}

static int journal_ids(struct store_tx *tx, struct journal_ids *j, struct err *err)
{
  size_t n;
  const struct mstep *st = steps_list(&n);
  int rc = 0;
  for (size_t i = 0; !rc && i < n; i++) {
    char stream[128];
    snprintf(stream, sizeof stream, "undo:%s", st[i].name);
    rc = store_journal_scan(tx, stream, 0, collect_ids, j, err);
  }
  return rc;
}

/* --- the per-document checks --- */

struct table_check {
  struct store_tx *tx;
  const struct schema *schema;
  const char *table;
  struct id_resolver ids;
  struct journal_ids *j;
  json_t *exists;           /* id -> true/false, checked references */
  int merge_legacy;         /* after contract: put moved fields back for the checksum */
  int64_t count, invalid, dangling;
  uint64_t sum;
  json_t *examples;
};

static void example(struct table_check *c, const char *fmt, const char *a, const char *b)
{
  if (json_array_size(c->examples) >= 5)
    return;
  char line[600];
  snprintf(line, sizeof line, fmt, a, b);
  json_array_append_new(c->examples, json_string(line));
}

static int ref_exists(struct table_check *c, const char *id, struct err *err)
{
  json_t *known = json_object_get(c->exists, id);
  if (known)
    return json_is_true(known);
  char *text = NULL;
  size_t len = 0;
  int rc = store_get_text(c->tx, id, &text, &len, NULL, err);
  one_free(text);
  if (rc && rc != E_NOTFOUND)
    return rc;
  err_clear(err);
  json_object_set_new(c->exists, id, json_boolean(rc == 0));
  return rc == 0;
}

static int check_refs(struct table_check *c, const char *self, const json_t *v, struct err *err)
{
  size_t i;
  const char *k;
  json_t *x;
  switch (json_typeof(v)) {
  case JSON_STRING: {
    const char *s = json_string_value(v);
    uint32_t num = cid_table(s, json_string_length(v));
    if (!num || strcmp(s, self) == 0 || !c->ids.table_name(c->ids.ctx, num))
      return 0;
    int ok = ref_exists(c, s, err);
    if (ok < 0)
      return ok;
    if (!ok) {
      c->dangling++;
      example(c, "%s refers to %s, which does not exist", self, s);
    }
    return 0;
  }
  case JSON_ARRAY:
    json_array_foreach(v, i, x) if (check_refs(c, self, x, err) < 0) return -1;
    return 0;
  case JSON_OBJECT:
    json_object_foreach((json_t *)v, k, x) if (check_refs(c, self, x, err) < 0) return -1;
    return 0;
  default:
    return 0;
  }
}

static int with_legacy(struct table_check *c, const json_t *doc, json_t **out, struct err *err)
{
  *out = json_incref((json_t *)doc);
  if (!c->merge_legacy)
    return 0;
  json_t *eq = json_pack("[s]", json_string_value(json_object_get(doc, "_id")));
  struct store_query q = {.table = "migrationLegacy", .index = "by_doc", .eq = eq, .limit = 100};
  struct store_page page;
  int rc = store_query(c->tx, &q, &page, err);
  json_decref(eq);
  if (rc)
    return rc;
  if (json_array_size(page.docs)) {
    json_t *merged = json_copy(*out);
    size_t i;
    json_t *l;
    json_array_foreach(page.docs, i, l) json_object_update(merged, json_object_get(l, "fields"));
    json_decref(*out);
    *out = merged;
  }
  store_page_release(&page);
  return 0;
}

static int check_doc(void *arg, const json_t *doc, const char *text, size_t len, struct err *err)
{
  (void)text;
  (void)len;
  struct table_check *c = arg;
  const char *id = json_string_value(json_object_get(doc, "_id"));
  struct err e = ERR_INIT;
  int bad = c->schema && schema_table(c->schema, c->table) &&
            schema_validate(c->schema, c->table, doc, &c->ids, VALIDATE_SYSTEM_FIELDS, &e);
  if (bad) {
    c->invalid++;
    example(c, "%s: %s", id, e.msg);
  }
  err_clear(&e);
  /* references are checked by verify, not while taking the baseline (no
   * schema); the document's own _id is skipped by check_refs */
  int rc = c->schema ? check_refs(c, id, doc, err) : 0;
  if (rc < 0)
    return err->code ? err->code : E_STORE;
  if (json_object_get(c->j->created, id))
    return 0; /* made by a step: not in the baseline */
  json_t *full = NULL;
  if ((rc = with_legacy(c, doc, &full, err)))
    return rc;
  c->count++;
  c->sum += doc_hash(c->table, full);
  json_decref(full);
  return 0;
}

/* --- completeness of the backfills --- */

struct dry {
  struct mctx m;
  const struct mstep *st;
  const char *table;
  int64_t pending;
};

static int dry_doc(void *arg, const json_t *doc, const char *text, size_t len, struct err *err)
{
  (void)err;
  struct dry *d = arg;
  json_t *patch = NULL;
  struct err e = ERR_INIT;
  int rc;
  if (d->st->rewrite_text) { /* as the walk runs it: from the stored text */
    mctx_set_at(&d->m, text, len);
    rc = d->st->rewrite_text(&d->m, d->table, text, len, &patch, &e);
    one_free(d->m.patch_text); /* a dry run writes nothing */
    d->m.patch_text = NULL;
  } else {
    d->m.at = json_number_value(json_object_get(doc, "_creationTime"));
    rc = d->st->rewrite(&d->m, d->table, doc, &patch, &e);
  }
  if (rc || patch)
    d->pending++; /* a change it would make, or a document it would create */
  json_decref(patch);
  err_clear(&e);
  return 0;
}

/* --- baseline --- */

static int table_sums(struct store_tx *tx, const struct schema *schema, struct journal_ids *j,
                      int merge_legacy, json_t *tables_out, json_t *checks, struct err *err)
{
  json_t *tables = store_tables(tx);
  size_t i;
  json_t *t;
  int rc = 0;
  json_t *exists = json_object();
  json_array_foreach(tables, i, t) {
    const char *name = json_string_value(json_object_get(t, "name"));
    if (strcmp(name, "migrationLegacy") == 0)
      continue;
    struct table_check c = {tx, schema, name, store_id_resolver(tx), j, exists, merge_legacy,
                            0, 0, 0, 0, json_array()};
    rc = store_each(tx, name, 0, check_doc, &c, err);
    char sum[32];
    snprintf(sum, sizeof sum, "%016llx", (unsigned long long)c.sum);
    if (!rc)
      json_object_set_new(tables_out, name, json_pack("{s:I,s:s}", "count", (json_int_t)c.count,
                                                      "sum", sum));
    if (!rc && checks && (c.invalid || c.dangling))
      json_array_append_new(checks, json_pack("{s:s,s:I,s:I,s:o}", "table", name, "invalid",
                                              (json_int_t)c.invalid, "dangling",
                                              (json_int_t)c.dangling, "examples", c.examples));
    else
      json_decref(c.examples);
    if (rc)
      break;
  }
  json_decref(exists);
  json_decref(tables);
  return rc;
}

int migrate_baseline(struct store *s, struct err *err)
{
  struct store_tx *tx = NULL;
  int rc = store_begin(s, STORE_WRITE, &tx, err);
  if (rc)
    return rc;
  struct journal_ids j = {json_object()};
  json_t *tables = json_object();
  int64_t oldest = 0, newest = 0;
  rc = store_changes_bounds(s, &oldest, &newest, err);
  if (!rc)
    rc = table_sums(tx, NULL, &j, 0, tables, NULL, err);
  /* the seed the ids of created documents derive from: the same data gives
   * the same seed, so two runs over one snapshot create the same ids */
  char seed[2 * 16 + 1] = "";
  char *sums = rc ? NULL : json_dumps(tables, JSON_COMPACT | JSON_SORT_KEYS);
  if (sums) {
    uint8_t h[16];
    crypto_generichash(h, sizeof h, (const uint8_t *)sums, strlen(sums), NULL, 0);
    sodium_bin2hex(seed, sizeof seed, h, sizeof h);
  }
  one_free(sums);
  json_t *b = json_pack("{s:I,s:f,s:s,s:o}", "seq", (json_int_t)newest, "at", clock_now_ms(),
                        "seed", seed, "tables", tables);
  char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
  if (!rc)
    rc = text ? store_meta_set(tx, BASELINE_KEY, text, err) : err_set(err, E_NOMEM, "out of memory");
  if (!rc) /* verify tells the service's writes from the steps' by the change log */
    rc = store_changes_keep(tx, newest > 0 ? newest : 1, err);
  one_free(text);
  json_decref(b);
  json_decref(j.created);
  if (!rc) {
    rc = store_commit(tx, err);
    tx = NULL;
  }
  store_rollback(tx);
  return rc;
}

int migrate_seed(struct store_tx *tx, char seed[MIGRATE_SEED_MAX], struct err *err)
{
  char *text = NULL;
  seed[0] = '\0';
  int rc = store_meta_get(tx, BASELINE_KEY, &text, err);
  if (rc == E_NOTFOUND) {
    err_clear(err);
    return 0;
  }
  json_t *b = rc ? NULL : json_loads(text, 0, NULL);
  const char *v = json_string_value(json_object_get(b, "seed"));
  snprintf(seed, MIGRATE_SEED_MAX, "%s", v ? v : "");
  json_decref(b);
  one_free(text);
  return rc;
}

/* Ids written since the baseline by anyone but the steps, by table. */
static int service_writes(struct store *s, int64_t since, struct journal_ids *j, json_t *out,
                          int *unknown, struct err *err)
{
  int64_t oldest = 0, newest = 0;
  int rc = store_changes_bounds(s, &oldest, &newest, err);
  if (rc)
    return rc;
  *unknown = oldest > since + 1 && newest > since;
  int64_t after = since;
  for (;;) {
    struct store_change *ch = NULL;
    size_t n = 0;
    if ((rc = store_changes_since(s, after, 10000, &ch, &n, err)) || n == 0) {
      one_free(ch);
      return rc;
    }
    for (size_t i = 0; i < n; i++) {
      after = ch[i].seq;
      if (ch[i].origin == STORE_ORIGIN_MIGRATION || json_object_get(j->created, ch[i].id) ||
          strcmp(ch[i].table, "migrationLegacy") == 0)
        continue;
      json_object_set_new(out, ch[i].table,
                          json_integer(json_integer_value(json_object_get(out, ch[i].table)) + 1));
    }
    one_free(ch);
  }
}

int migrate_verify(struct store *s, json_t **report, struct err *err)
{
  *report = NULL;
  size_t pos = 0, n;
  const struct mstep *st = steps_list(&n);
  int rc = migrate_position(s, &pos, err);
  if (rc)
    return rc;
  struct store_tx *tx = NULL;
  if ((rc = store_begin(s, STORE_READ, &tx, err)))
    return rc;
  char name[128];
  store_schema_name(tx, name, sizeof name);
  struct schema *schema = NULL;
  struct journal_ids j = {json_object()};
  json_t *tables = json_object(), *problems = json_array(), *incomplete = json_array();
  json_t *mismatch = json_array(), *written = json_object(), *baseline = NULL;
  char *btext = NULL;
  int unknown = 0;
  rc = schema_load(name, &schema, err);
  if (!rc)
    rc = journal_ids(tx, &j, err);
  if (!rc)
    rc = table_sums(tx, schema, &j, pos == n, tables, problems, err);
  for (size_t i = 0; !rc && i < pos && i < n; i++) {
    if (st[i].kind != MSTEP_BACKFILL)
      continue;
    for (size_t k = 0; !rc && st[i].tables[k]; k++) {
      struct dry d = {{tx, st[i].name, json_array(), json_object(), NULL, "", 0, NULL, 0, NULL}, &st[i],
                      st[i].tables[k], 0};
      rc = store_each(tx, st[i].tables[k], st[i].rewrite_text != NULL, dry_doc, &d, err);
      if (!rc && d.pending)
        json_array_append_new(incomplete, json_pack("{s:s,s:s,s:I}", "step", st[i].name, "table",
                                                    st[i].tables[k], "documents",
                                                    (json_int_t)d.pending));
      json_decref(d.m.created);
      json_decref(d.m.memo);
    }
  }
  struct err e = ERR_INIT;
  if (!rc && store_meta_get(tx, BASELINE_KEY, &btext, &e) == 0)
    baseline = json_loads(btext, 0, NULL);
  err_clear(&e);
  int64_t legacy = 0;
  if (!rc && schema_table(schema, "migrationLegacy"))
    rc = store_count(tx, "migrationLegacy", &legacy, err);
  store_rollback(tx);
  if (!rc && baseline)
    rc = service_writes(s, json_integer_value(json_object_get(baseline, "seq")), &j, written,
                        &unknown, err);
  if (!rc && baseline) {
    const char *t;
    json_t *b;
    json_object_foreach(json_object_get(baseline, "tables"), t, b) {
      json_t *now = json_object_get(tables, t);
      int same = now && json_equal(json_object_get(now, "count"), json_object_get(b, "count")) &&
                 json_equal(json_object_get(now, "sum"), json_object_get(b, "sum"));
      if (!same && !unknown && !json_object_get(written, t))
        json_array_append_new(mismatch, json_pack(
          "{s:s,s:O,s:O,s:O,s:O}", "table", t, "count", json_object_get(b, "count"), "nowCount",
          now ? json_object_get(now, "count") : json_integer(0), "sum", json_object_get(b, "sum"),
          "nowSum", now ? json_object_get(now, "sum") : json_string("")));
    }
  }
  if (!rc) {
    int ok = json_array_size(problems) == 0 && json_array_size(incomplete) == 0 &&
             json_array_size(mismatch) == 0;
    *report = json_pack("{s:b,s:s,s:I,s:o,s:o,s:o,s:o,s:b,s:I,s:b}", "ok", ok, "schema", name,
                        "position", (json_int_t)pos, "problems", problems, "incomplete",
                        incomplete, "changed", mismatch, "writtenByService", written,
                        "logTooShort", unknown, "migrationLegacy", (json_int_t)legacy,
                        "baseline", baseline != NULL);
    problems = incomplete = mismatch = written = NULL;
    json_t *v = json_pack("{s:b,s:I,s:f}", "ok", ok, "position", (json_int_t)pos, "at",
                          clock_now_ms());
    char *vt = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!vt)
      rc = err_set(err, E_NOMEM, "out of memory");
    else if ((rc = store_begin(s, STORE_WRITE, &tx, err)) == 0) {
      rc = store_meta_set(tx, VERIFIED_KEY, vt, err);
      if (!rc && ok && pos == n) /* the chain is complete: the log may be pruned again */
        rc = store_changes_keep(tx, 0, err);
      if (!rc)
        rc = migrate_log_add(tx, "verify", ok ? "verified" : "verify failed",
                             json_pack("{s:b,s:I}", "ok", ok, "position", (json_int_t)pos), err);
      if (!rc) {
        rc = store_commit(tx, err);
        tx = NULL;
      }
      store_rollback(tx);
    }
    one_free(vt);
  }
  json_decref(problems);
  json_decref(incomplete);
  json_decref(mismatch);
  json_decref(written);
  json_decref(baseline);
  json_decref(tables);
  json_decref(j.created);
  one_free(btext);
  schema_free(schema);
  if (rc) {
    json_decref(*report);
    *report = NULL;
  }
  return rc;
}
