/* bench_search: the search benchmarks of issue 6 (scripts/bench_search.sh).
 *
 *   bench_search vectors DIR N Q
 *     N texts on 200 topics of a generated vocabulary (four words in five
 *     from the text's topic, the rest from all words), embedded by ONE's
 *     embedder (util/textvec.h, 384 dimensions), and Q queries: the exact
 *     search's latency, the HNSW index's build time, and its latency and
 *     recall@10 against the exact top 10 at several ef; writes base.f32,
 *     queries.f32 and truth.i32 into DIR for the FAISS peer (faiss_hnsw).
 *   bench_search fts DB N Q
 *     N messages in 1,000 conversations written through the store (so with
 *     their search rows) into a new database DB, then Q queries of one to
 *     three words: ONE's store_search_text over all messages and within a
 *     conversation, against the same FTS5 query run raw on the same table.
 * Prints one JSON object per line. */
#include "domain/knowledge.h"
#include "schema/schema.h"
#include "util/hnsw.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <time.h>

static double now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* A vocabulary of VOCAB words made of syllables, drawn with a Zipf-like
 * skew (word i about as often as 1/(i+1)), as words are in real text. */
#define VOCAB 3000
static char vocab[VOCAB][16];
static double cdf[VOCAB];

static void make_vocab(void)
{
  static const char *const syl[] = {"ka", "lo", "mi", "ra", "te", "su", "ne", "po", "di",
                                    "an", "el", "or", "un", "is", "ve", "ba", "ti", "go"};
  double total = 0;
  for (size_t i = 0; i < VOCAB; i++) {
    size_t n = 2 + next() % 3;
    vocab[i][0] = '\0';
    for (size_t s = 0; s < n; s++)
      strcat(vocab[i], syl[next() % 18]);
    total += 1.0 / (double)(i + 1);
    cdf[i] = total;
  }
  for (size_t i = 0; i < VOCAB; i++)
    cdf[i] /= total;
}

static const char *word(void)
{
  double u = (double)(next() >> 11) / 9007199254740992.0;
  size_t lo = 0, hi = VOCAB - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (cdf[mid] < u)
      lo = mid + 1;
    else
      hi = mid;
  }
  return vocab[lo];
}

/* Topics, as a knowledge base has them: each a list of TOPIC_WORDS words
 * of the vocabulary; a topical text takes most of its words from one. */
#define TOPICS 200
#define TOPIC_WORDS 40
static const char *topic[TOPICS][TOPIC_WORDS];

static void make_topics(void)
{
  for (size_t t = 0; t < TOPICS; t++)
    for (size_t w = 0; w < TOPIC_WORDS; w++)
      topic[t][w] = vocab[next() % VOCAB];
}

static void topical(char *out, size_t cap, size_t words)
{
  size_t t = next() % TOPICS;
  out[0] = '\0';
  for (size_t w = 0; w < words; w++) {
    const char *x = next() % 5 ? topic[t][next() % TOPIC_WORDS] : word();
    strncat(out, x, cap - strlen(out) - 2);
    strncat(out, " ", cap - strlen(out) - 1);
  }
}

static void sentence(char *out, size_t cap, size_t words)
{
  out[0] = '\0';
  for (size_t w = 0; w < words; w++) {
    strncat(out, word(), cap - strlen(out) - 2);
    strncat(out, " ", cap - strlen(out) - 1);
  }
}

static void write_file(const char *dir, const char *name, const void *p, size_t bytes)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, bytes, f) != bytes) {
    fprintf(stderr, "bench_search: cannot write %s\n", path);
    exit(1);
  }
  fclose(f);
}

static int vectors(const char *dir, size_t n, size_t nq)
{
  const size_t d = TEXTVEC_DIM, k = 10;
  make_vocab();
  float *base = malloc(n * d * sizeof *base), *qs = malloc(nq * d * sizeof *qs);
  int32_t *truth = malloc(nq * k * sizeof *truth);
  struct hnsw_hit *all = malloc(16 * sizeof *all);
  if (!base || !qs || !truth || !all)
    return 1;
  char text[512];
  make_topics();
  for (size_t i = 0; i < n; i++) {
    topical(text, sizeof text, 8 + next() % 17);
    textvec_embed(text, strlen(text), base + i * d);
  }
  for (size_t i = 0; i < nq; i++) {
    topical(text, sizeof text, 3 + next() % 6);
    textvec_embed(text, strlen(text), qs + i * d);
  }
  /* the exact search as ONE's scope scan runs it: every dot product, the
   * best k kept in order as they come */
  double t0 = now_ms();
  for (size_t q = 0; q < nq; q++) {
    size_t top = 0;
    for (size_t i = 0; i < n; i++) {
      float sc = textvec_dot(qs + q * d, base + i * d, d);
      if (top == k && sc <= all[k - 1].score)
        continue;
      size_t j = top < k ? top++ : k - 1;
      while (j > 0 && all[j - 1].score < sc) {
        all[j] = all[j - 1];
        j--;
      }
      all[j] = (struct hnsw_hit){(uint32_t)i, sc};
    }
    for (size_t j = 0; j < k; j++)
      truth[q * k + j] = (int32_t)all[j].node;
  }
  double exact_ms = (now_ms() - t0) / (double)nq;
  printf("{\"what\":\"exact\",\"n\":%zu,\"dim\":%zu,\"ms_per_query\":%.3f}\n", n, d, exact_ms);
  t0 = now_ms();
  struct hnsw *h = hnsw_new(d, 16, 200, 1);
  for (size_t i = 0; i < n; i++) {
    uint32_t node;
    if (!h || hnsw_add(h, base + i * d, &node))
      return 1;
  }
  printf("{\"what\":\"build\",\"seconds\":%.2f,\"mb\":%.1f}\n", (now_ms() - t0) / 1000.0,
         (double)hnsw_bytes(h) / 1048576.0);
  static const size_t efs[] = {16, 32, 64, 96, 128, 192, 256, 384, 512};
  struct hnsw_hit got[10];
  for (size_t e = 0; e < sizeof efs / sizeof efs[0]; e++) {
    size_t found = 0;
    t0 = now_ms();
    for (size_t q = 0; q < nq; q++) {
      int m = hnsw_search(h, qs + q * d, k, efs[e], got);
      for (int i = 0; i < m; i++)
        for (size_t j = 0; j < k; j++)
          found += (int32_t)got[i].node == truth[q * k + j];
    }
    double ms = (now_ms() - t0) / (double)nq;
    printf("{\"what\":\"hnsw\",\"ef\":%zu,\"ms_per_query\":%.4f,\"recall\":%.4f}\n", efs[e], ms,
           (double)found / (double)(nq * k));
  }
  write_file(dir, "base.f32", base, n * d * sizeof *base);
  write_file(dir, "queries.f32", qs, nq * d * sizeof *qs);
  write_file(dir, "truth.i32", truth, nq * k * sizeof *truth);
  hnsw_free(h);
  free(base);
  free(qs);
  free(truth);
  free(all);
  return 0;
}

/* --- full-text search over messages --- */

struct fill {
  size_t from, to;
  char (*convs)[CID_MAX];
  char (*parts)[CID_MAX];
};

static int setup_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct fill *f = arg;
  struct schema *sc = NULL;
  int rc = schema_load("one", &sc, err);
  if (!rc)
    rc = store_set_schema(tx, "one", sc, err);
  schema_free(sc);
  char user[CID_MAX];
  json_t *u = json_pack("{s:s,s:s,s:f}", "name", "Bench", "email", "bench@example.org",
                        "createdAt", 1.0);
  if (!rc)
    rc = store_insert(tx, "users", u, 0, user, err);
  json_decref(u);
  for (size_t c = 0; !rc && c < 1000; c++) {
    json_t *conv = json_pack("{s:s,s:s,s:f}", "title", "bench", "createdBy", user, "createdAt", 1.0);
    rc = store_insert(tx, "conversations", conv, 0, f->convs[c], err);
    json_decref(conv);
    json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:b,s:f}", "conversationId", f->convs[c], "kind",
                          "user", "userId", user, "status", "inactive", "isRemoved", 0,
                          "addedAt", 1.0);
    if (!rc)
      rc = store_insert(tx, "conversationParticipants", p, 0, f->parts[c], err);
    json_decref(p);
  }
  return rc;
}

static int messages_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct fill *f = arg;
  char text[512];
  int rc = 0;
  for (size_t i = f->from; !rc && i < f->to; i++) {
    size_t c = i % 1000;
    sentence(text, sizeof text, 5 + next() % 30);
    json_t *m = json_pack("{s:s,s:s,s:s,s:s,s:f}", "conversationId", f->convs[c],
                          "authorParticipantId", f->parts[c], "kind", "participant", "content",
                          text, "createdAt", 1.0);
    rc = store_insert(tx, "conversationMessages", m, 0, NULL, err);
    json_decref(m);
  }
  return rc;
}

struct query {
  const char *q, *scope;
  size_t n;
};

static int query_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct query *q = arg;
  struct store_hit *h = NULL;
  int rc = store_search_text(tx, "messages", q->scope, q->q, 10, &h, &q->n, err);
  one_free(h);
  return rc;
}

static int fts(const char *path, size_t n, size_t nq)
{
  make_vocab();
  remove(path);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF, .search = knowledge_spaces()};
  struct store *s = NULL;
  struct err err = ERR_INIT;
  struct fill f = {0, 0, calloc(1000, CID_MAX), calloc(1000, CID_MAX)};
  if (store_open(&so, &s, &err) || store_run(s, STORE_WRITE, setup_tx, &f, &err)) {
    fprintf(stderr, "bench_search: %s\n", err.msg);
    return 1;
  }
  double t0 = now_ms();
  for (size_t i = 0; i < n; i += 10000) {
    f.from = i;
    f.to = i + 10000 < n ? i + 10000 : n;
    if (store_run(s, STORE_WRITE, messages_tx, &f, &err)) {
      fprintf(stderr, "bench_search: %s\n", err.msg);
      return 1;
    }
  }
  printf("{\"what\":\"fts_load\",\"messages\":%zu,\"seconds\":%.1f}\n", n,
         (now_ms() - t0) / 1000.0);
  char (*qs)[64] = malloc(nq * sizeof *qs);
  for (size_t i = 0; i < nq; i++)
    sentence(qs[i], sizeof qs[i], 1 + next() % 3);
  double one_all = 0, one_conv = 0, raw_all = 0;
  size_t hits = 0;
  for (int round = 0; round < 2; round++) { /* the first warms the cache; the second counts */
    double a = 0, c = 0;
    for (size_t i = 0; i < nq; i++) {
      struct query q = {qs[i], NULL, 0};
      double t = now_ms();
      if (store_run(s, STORE_READ, query_tx, &q, &err))
        return 1;
      a += now_ms() - t;
      hits += round ? q.n : 0;
      struct query qc = {qs[i], f.convs[i % 1000], 0};
      t = now_ms();
      if (store_run(s, STORE_READ, query_tx, &qc, &err))
        return 1;
      c += now_ms() - t;
    }
    one_all = a / (double)nq;
    one_conv = c / (double)nq;
  }
  store_close(s);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT s.id, bm25(one_fts) AS r FROM one_fts JOIN one_search s ON "
                         "s.fts = one_fts.rowid WHERE one_fts MATCH ?1 ORDER BY r LIMIT 10", -1,
                         &st, NULL) != SQLITE_OK)
    return 1;
  for (int round = 0; round < 2; round++) {
    double a = 0;
    for (size_t i = 0; i < nq; i++) {
      char m[256] = "";
      char *save = NULL, copy[64];
      snprintf(copy, sizeof copy, "%s", qs[i]);
      for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        if (m[0])
          strcat(m, " OR ");
        strcat(m, "\"");
        strcat(m, w);
        strcat(m, "\"");
      }
      double t = now_ms();
      sqlite3_bind_text(st, 1, m, -1, SQLITE_STATIC);
      while (sqlite3_step(st) == SQLITE_ROW)
        ;
      sqlite3_reset(st);
      a += now_ms() - t;
    }
    raw_all = a / (double)nq;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("{\"what\":\"fts\",\"queries\":%zu,\"one_all_ms\":%.3f,\"one_conversation_ms\":%.3f,"
         "\"raw_all_ms\":%.3f,\"hits\":%zu}\n", nq, one_all, one_conv, raw_all, hits);
  free(qs);
  free(f.convs);
  free(f.parts);
  return 0;
}

int main(int argc, char **argv)
{
  mem_init();
  if (argc == 5 && strcmp(argv[1], "vectors") == 0)
    return vectors(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
  if (argc == 5 && strcmp(argv[1], "fts") == 0)
    return fts(argv[2], strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10));
  fprintf(stderr, "usage: bench_search vectors DIR N Q | fts DB N Q\n");
  return 2;
}
