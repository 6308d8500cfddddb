/* bench/store: ONE's store against raw SQLite doing the same work, in the
 * same run, on the same machine: inserting N messages of realistic size,
 * point gets by id, and pages of 50 through an index. Raw SQLite stores the
 * same JSON text with equivalent indexes (by id, by creation time, by
 * conversation then creation time) through prepared statements; both use
 * WAL, synchronous=NORMAL and the same batching (100 writes or 100 gets a
 * transaction, one page a transaction). Prints rates and ONE/raw ratios. */
#include "store/store.h"
#include "util/jv.h"
#include "util/mem.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 100
#define PAGE 50
/* Conversations: N / 200, so each holds 200 messages (4 pages). */
static long CONVERSATIONS = 1000;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
  fprintf(stderr, "bench: %s: %s\n", what, msg);
  exit(1);
}

static const char schema_text[] =
  "import { defineSchema, defineTable } from \"convex/server\";\n"
  "import { v } from \"convex/values\";\n"
  "export default defineSchema({\n"
  "  conversations: defineTable({ title: v.string() }),\n"
  "  messages: defineTable({ conversationId: v.id(\"conversations\"), author: v.string(),\n"
  "    kind: v.union(v.literal(\"participant\"), v.literal(\"system\")), content: v.string(),\n"
  "    createdAt: v.number() }).index(\"by_conversationId\", [\"conversationId\"]),\n"
  "});\n";

static int set_schema(struct store_tx *tx, void *arg, struct err *err)
{
  struct schema *s = NULL;
  int rc = schema_parse_text(schema_text, strlen(schema_text), "bench.ts", &s, err);
  if (!rc)
    rc = store_set_schema(tx, "bench", s, err);
  schema_free(s);
  (void)arg;
  return rc;
}

/* A message body of about 400 bytes, different for each i. */
static json_t *message(const char *conv, long i)
{
  char content[400];
  snprintf(content, sizeof content,
           "Message %ld: here is the draft of three Hook headlines for the pain you named, "
           "each under twelve words, with a short note on the angle behind it and which "
           "audience it speaks to. @[Writer](agent:k57abc) please review the second one "
           "and tell me if the tone fits the brand voice we agreed on.", i);
  return json_pack("{s:s,s:s,s:s,s:s,s:f}", "conversationId", conv, "author", "participant-1",
                   "kind", "participant", "content", content, "createdAt", 1.7e12 + (double)i);
}

struct result {
  double insert_rate, get_rate, get_text_rate, page_rate;
};

static void bench_one(const char *path, long n, char (*ids)[CID_MAX], char (*convs)[CID_MAX],
                      struct result *r)
{
  struct store *st = NULL;
  struct err err = ERR_INIT;
  struct store_options o = {.path = path, .sync = STORE_SYNC_NORMAL};
  if (store_open(&o, &st, &err) || store_run(st, STORE_WRITE, set_schema, NULL, &err))
    die("open", err.msg);
  struct store_tx *tx = NULL;
  if (store_begin(st, STORE_WRITE, &tx, &err))
    die("begin", err.msg);
  for (int c = 0; c < CONVERSATIONS; c++) {
    json_t *conv = json_pack("{s:s}", "title", "bench");
    if (store_insert(tx, "conversations", conv, 0, convs[c], &err))
      die("insert conversation", err.msg);
    json_decref(conv);
  }
  if (store_commit(tx, &err))
    die("commit", err.msg);
  /* inserts */
  json_t **docs = malloc((size_t)n * sizeof *docs);
  for (long i = 0; i < n; i++)
    docs[i] = message(convs[i % CONVERSATIONS], i);
  double t0 = now();
  for (long i = 0; i < n; i += BATCH) {
    if (store_begin(st, STORE_WRITE, &tx, &err))
      die("begin", err.msg);
    for (long j = i; j < i + BATCH && j < n; j++)
      if (store_insert(tx, "messages", docs[j], 0, ids[j], &err))
        die("insert", err.msg);
    if (store_commit(tx, &err))
      die("commit", err.msg);
  }
  r->insert_rate = (double)n / (now() - t0);
  for (long i = 0; i < n; i++)
    json_decref(docs[i]);
  free(docs);
  /* point gets, in random order */
  srand(7);
  long gets = n;
  t0 = now();
  for (long i = 0; i < gets; i += BATCH) {
    if (store_begin(st, STORE_READ, &tx, &err))
      die("begin", err.msg);
    for (long j = 0; j < BATCH; j++) {
      json_t *doc = NULL;
      if (store_get(tx, ids[rand() % n], &doc, NULL, &err))
        die("get", err.msg);
      json_decref(doc);
    }
    store_rollback(tx);
  }
  r->get_rate = (double)gets / (now() - t0);
  srand(7);
  t0 = now();
  for (long i = 0; i < gets; i += BATCH) {
    if (store_begin(st, STORE_READ, &tx, &err))
      die("begin", err.msg);
    for (long j = 0; j < BATCH; j++) {
      char *text = NULL;
      size_t len = 0;
      if (store_get_text(tx, ids[rand() % n], &text, &len, NULL, &err))
        die("get text", err.msg);
      one_free(text);
    }
    store_rollback(tx);
  }
  r->get_text_rate = (double)gets / (now() - t0);
  /* index pages of 50: first page of a conversation, then the next one */
  long pages = 20000;
  t0 = now();
  char *cursor = NULL;
  for (long i = 0; i < pages; i++) {
    json_t *eq = json_pack("[s]", convs[rand() % CONVERSATIONS]);
    struct store_query q = {.table = "messages", .index = "by_conversationId", .eq = eq,
                            .limit = PAGE, .cursor = NULL};
    struct store_page page;
    for (int k = 0; k < 2; k++) {
      if (store_begin(st, STORE_READ, &tx, &err))
        die("begin", err.msg);
      q.cursor = cursor;
      if (store_query(tx, &q, &page, &err))
        die("query", err.msg);
      store_rollback(tx);
      if (json_array_size(page.docs) != PAGE)
        die("query", "short page");
      free(cursor);
      cursor = page.cursor ? strdup(page.cursor) : NULL;
      store_page_release(&page);
    }
    free(cursor);
    cursor = NULL;
    json_decref(eq);
  }
  r->page_rate = (double)pages * 2 / (now() - t0);
  store_close(st);
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    die("prepare", sqlite3_errmsg(db));
  return s;
}

static void exec(sqlite3 *db, const char *sql)
{
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    die(sql, sqlite3_errmsg(db));
}

static void bench_raw(const char *path, long n, char (*ids)[CID_MAX], char (*convs)[CID_MAX],
                      struct result *r, int parse)
{
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK)
    die("open", "raw");
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;"
           "CREATE TABLE messages(id TEXT PRIMARY KEY, conv TEXT NOT NULL, ct REAL NOT NULL,"
           " body TEXT NOT NULL) WITHOUT ROWID;"
           "CREATE INDEX by_ct ON messages(ct, id);"
           "CREATE INDEX by_conv ON messages(conv, ct, id);");
  sqlite3_stmt *ins = prep(db, "INSERT INTO messages(id, conv, ct, body) VALUES(?1, ?2, ?3, ?4)");
  sqlite3_stmt *get = prep(db, "SELECT body FROM messages WHERE id = ?1");
  sqlite3_stmt *first = prep(db, "SELECT id, ct, body FROM messages WHERE conv = ?1 "
                                 "ORDER BY ct, id LIMIT ?2");
  sqlite3_stmt *next = prep(db, "SELECT id, ct, body FROM messages WHERE conv = ?1 AND "
                                "(ct, id) > (?3, ?4) ORDER BY ct, id LIMIT ?2");
  /* the same JSON text ONE writes, prepared before the clock starts */
  char **bodies = malloc((size_t)n * sizeof *bodies);
  for (long i = 0; i < n; i++) {
    json_t *d = message(convs[i % CONVERSATIONS], i);
    json_object_set_new(d, "_id", json_string(ids[i]));
    json_object_set_new(d, "_creationTime", json_real(1.7e12 + (double)i));
    bodies[i] = jv_dumps(d);
    json_decref(d);
  }
  double t0 = now();
  for (long i = 0; i < n; i += BATCH) {
    exec(db, "BEGIN IMMEDIATE");
    for (long j = i; j < i + BATCH && j < n; j++) {
      sqlite3_reset(ins);
      sqlite3_bind_text(ins, 1, ids[j], -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, convs[j % CONVERSATIONS], -1, SQLITE_STATIC);
      sqlite3_bind_double(ins, 3, 1.7e12 + (double)j);
      sqlite3_bind_text(ins, 4, bodies[j], -1, SQLITE_STATIC);
      if (sqlite3_step(ins) != SQLITE_DONE)
        die("raw insert", sqlite3_errmsg(db));
    }
    exec(db, "COMMIT");
  }
  r->insert_rate = (double)n / (now() - t0);
  srand(7);
  t0 = now();
  for (long i = 0; i < n; i += BATCH) {
    exec(db, "BEGIN");
    for (long j = 0; j < BATCH; j++) {
      sqlite3_reset(get);
      sqlite3_bind_text(get, 1, ids[rand() % n], -1, SQLITE_STATIC);
      if (sqlite3_step(get) != SQLITE_ROW)
        die("raw get", sqlite3_errmsg(db));
      if (parse) {
        json_t *d = jv_parse((const char *)sqlite3_column_text(get, 0), (size_t)sqlite3_column_bytes(get, 0), NULL);
        json_decref(d);
      }
    }
    exec(db, "COMMIT");
  }
  r->get_rate = (double)n / (now() - t0);
  long pages = 20000;
  t0 = now();
  for (long i = 0; i < pages; i++) {
    const char *conv = convs[rand() % CONVERSATIONS];
    char last_id[CID_MAX] = "";
    double last_ct = 0;
    for (int k = 0; k < 2; k++) {
      sqlite3_stmt *s = k ? next : first;
      exec(db, "BEGIN");
      sqlite3_reset(s);
      sqlite3_bind_text(s, 1, conv, -1, SQLITE_STATIC);
      sqlite3_bind_int(s, 2, PAGE);
      if (k) {
        sqlite3_bind_double(s, 3, last_ct);
        sqlite3_bind_text(s, 4, last_id, -1, SQLITE_TRANSIENT);
      }
      int rows = 0;
      while (sqlite3_step(s) == SQLITE_ROW) {
        snprintf(last_id, sizeof last_id, "%s", (const char *)sqlite3_column_text(s, 0));
        last_ct = sqlite3_column_double(s, 1);
        if (parse) {
          json_t *d = jv_parse((const char *)sqlite3_column_text(s, 2), (size_t)sqlite3_column_bytes(s, 2), NULL);
          json_decref(d);
        }
        rows++;
      }
      exec(db, "COMMIT");
      if (rows != PAGE)
        die("raw page", "short page");
    }
  }
  r->page_rate = (double)pages * 2 / (now() - t0);
  for (long i = 0; i < n; i++)
    one_free(bodies[i]);
  free(bodies);
  sqlite3_finalize(ins);
  sqlite3_finalize(get);
  sqlite3_finalize(first);
  sqlite3_finalize(next);
  sqlite3_close(db);
}

int main(int argc, char **argv)
{
  mem_init();
  if (sodium_init() < 0)
    return 1;
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
  if (n < 2000)
    n = 2000;
  char dir[] = "/tmp/one-bench-XXXXXX";
  if (!mkdtemp(dir))
    die("mkdtemp", "failed");
  char one_path[128], raw_path[128], raw2_path[128];
  snprintf(one_path, sizeof one_path, "%s/one.db", dir);
  snprintf(raw_path, sizeof raw_path, "%s/raw.db", dir);
  snprintf(raw2_path, sizeof raw2_path, "%s/raw2.db", dir);
  CONVERSATIONS = n / 200;
  char (*ids)[CID_MAX] = calloc((size_t)n, CID_MAX);
  char (*convs)[CID_MAX] = calloc((size_t)CONVERSATIONS, CID_MAX);
  struct result one, raw, rawp;
  fprintf(stderr, "bench store: %ld messages of ~%d bytes, batches of %d\n", n, 470, BATCH);
  bench_one(one_path, n, ids, convs, &one);
  bench_raw(raw_path, n, ids, convs, &raw, 0);
  bench_raw(raw2_path, n, ids, convs, &rawp, 1);
  printf("| operation | ONE (ops/s) | raw SQLite (ops/s) | ONE / raw | target | raw + JSON parse (ops/s) | ONE / (raw + parse) |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  printf("| insert | %.0f | %.0f | %.2f | >= 0.50 | %.0f | %.2f |\n", one.insert_rate, raw.insert_rate,
         one.insert_rate / raw.insert_rate, rawp.insert_rate, one.insert_rate / rawp.insert_rate);
  printf("| point get, JSON text (store_get_text) | %.0f | %.0f | %.2f | >= 0.60 | - | - |\n",
         one.get_text_rate, raw.get_rate, one.get_text_rate / raw.get_rate);
  printf("| point get, parsed (store_get) | %.0f | %.0f | %.2f | - | %.0f | %.2f |\n", one.get_rate,
         raw.get_rate, one.get_rate / raw.get_rate, rawp.get_rate, one.get_rate / rawp.get_rate);
  printf("| index page of 50, parsed (store_query) | %.0f | %.0f | %.2f | - | %.0f | %.2f |\n", one.page_rate, raw.page_rate,
         one.page_rate / raw.page_rate, rawp.page_rate, one.page_rate / rawp.page_rate);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench: could not remove %s\n", dir);
  free(ids);
  free(convs);
  return 0;
}
