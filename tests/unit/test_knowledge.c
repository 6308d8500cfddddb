/* Tests of the knowledge base and its search (domain/knowledge.c on the
 * store's search spaces, store_search.c): search rows that follow every
 * write, scopes, the three modes, tags, a document's own vector, filling a
 * space named after its documents were written, bad input, the built-in
 * embedder, and search quality on a small labelled set. */
#include "domain/knowledge.h"
#include "domain/vindex.h"
#include "testutil.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dir;
static struct store *st;
static char ann[CID_MAX], bob[CID_MAX];
static const struct actor admin = {"", 1};

static int users_tx(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  json_t *a = tu_json("{\"name\":\"Ann\",\"email\":\"ann@example.org\",\"createdAt\":1.0}");
  json_t *b = tu_json("{\"name\":\"Bob\",\"email\":\"bob@example.org\",\"createdAt\":1.0}");
  int rc = store_insert(tx, "users", a, 0, ann, err);
  if (!rc)
    rc = store_insert(tx, "users", b, 0, bob, err);
  json_decref(a);
  json_decref(b);
  return rc;
}

static struct store *open_store(int with_search)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/t.db", dir);
  struct store_options so = {.path = path, .sync = STORE_SYNC_OFF,
                             .search = with_search ? knowledge_spaces() : NULL};
  struct store *s = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(store_open(&so, &s, &err), 0, "%s", err.msg);
  return s;
}

static void setup(void)
{
  dir = tu_tmpdir();
  st = open_store(1);
  tu_set_latest(st);
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, users_tx, NULL, &err), 0, "%s", err.msg);
}

static void teardown(void)
{
  store_close(st);
  tu_rmdir(dir);
  free(dir);
}

TestSuite(knowledge, .init = setup, .fini = teardown);

struct add {
  const char *owner, *content, *tags;
  char id[CID_MAX];
};

static int add_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct add *a = arg;
  json_t *tags = a->tags ? tu_json(a->tags) : NULL, *doc = NULL;
  int rc = knowledge_add_tx(tx, a->owner, a->content, tags, NULL, &doc, err);
  if (!rc)
    snprintf(a->id, sizeof a->id, "%s", json_string_value(json_object_get(doc, "_id")));
  json_decref(doc);
  json_decref(tags);
  return rc;
}

static void add(const char *owner, const char *content, const char *tags, char *id)
{
  struct add a = {owner, content, tags, ""};
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, add_tx, &a, &err), 0, "%s", err.msg);
  if (id)
    snprintf(id, CID_MAX, "%s", a.id);
}

struct search {
  struct knowledge_query q;
  json_t *items;
  int rc;
  struct err err;
};

static int search_tx(struct store_tx *tx, void *arg, struct err *err)
{
  (void)err;
  struct search *s = arg;
  s->rc = knowledge_search_tx(tx, &admin, &s->q, &s->items, &s->err);
  return 0;
}

/* The ids found for query in owner's knowledge, best first (new array). */
static json_t *find(const char *owner, const char *query, const char *mode, const char *tags,
                    size_t limit)
{
  struct search s = {0};
  s.q.query = query;
  s.q.mode = mode;
  s.q.owners[s.q.nowners++] = owner;
  s.q.limit = limit;
  json_t *t = tags ? tu_json(tags) : NULL;
  s.q.tags = t;
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_READ, search_tx, &s, &err), 0, "%s", err.msg);
  cr_assert_eq(s.rc, 0, "%s", s.err.msg);
  json_t *ids = json_array();
  size_t i;
  json_t *d;
  json_array_foreach(s.items, i, d) json_array_append(ids, json_object_get(d, "_id"));
  json_decref(s.items);
  json_decref(t);
  return ids;
}

static int has(const json_t *ids, const char *id)
{
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) if (strcmp(json_string_value(v), id) == 0) return 1;
  return 0;
}

Test(knowledge, text_search_finds_stemmed_words_and_follows_writes)
{
  char a[CID_MAX], b[CID_MAX];
  add(ann, "My customers are small bakeries that struggle with pricing", NULL, a);
  add(ann, "The webinar runs every Tuesday", NULL, b);
  json_t *ids = find(ann, "customer pricing", "text", NULL, 5);
  cr_assert_eq(json_array_size(ids), 1);
  cr_assert(has(ids, a));
  json_decref(ids);

  /* a patch of the content moves its words */
  json_t *patch = tu_json("{\"content\":\"The webinar moved to Thursday\"}");
  struct err err = ERR_INIT;
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_patch(tx, b, patch, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  json_decref(patch);
  ids = find(ann, "tuesday", "text", NULL, 5);
  cr_assert_eq(json_array_size(ids), 0);
  json_decref(ids);
  ids = find(ann, "thursday", "text", NULL, 5);
  cr_assert(has(ids, b));
  json_decref(ids);

  /* a deleted item is found no more, by words or by meaning */
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_delete(tx, a, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  ids = find(ann, "customer pricing", "hybrid", NULL, 5);
  cr_assert_not(has(ids, a));
  json_decref(ids);
}

Test(knowledge, a_search_stays_in_its_owners)
{
  char a[CID_MAX], b[CID_MAX];
  add(ann, "Ann sells handmade candles", NULL, a);
  add(bob, "Bob sells handmade candles too", NULL, b);
  json_t *ids = find(ann, "handmade candles", "hybrid", NULL, 5);
  cr_assert(has(ids, a));
  cr_assert_not(has(ids, b));
  json_decref(ids);
}

Test(knowledge, vector_search_matches_word_forms_the_query_lacks)
{
  char a[CID_MAX];
  add(ann, "She is learning to price her coaching packages", NULL, a);
  add(ann, "The office is closed on public holidays", NULL, NULL);
  json_t *ids = find(ann, "learn pricing of packaged coaching", "vector", NULL, 1);
  cr_assert_eq(json_array_size(ids), 1);
  cr_assert(has(ids, a));
  json_decref(ids);
}

Test(knowledge, tags_filter_results)
{
  char a[CID_MAX], b[CID_MAX];
  add(ann, "Offer: a twelve week course on email marketing", "[\"offer\",\"course\"]", a);
  add(ann, "Email marketing tips for the newsletter", "[\"tips\"]", b);
  json_t *ids = find(ann, "email marketing", "hybrid", "[\"offer\"]", 5);
  cr_assert_eq(json_array_size(ids), 1);
  cr_assert(has(ids, a));
  json_decref(ids);
  ids = find(ann, "email marketing", "hybrid", "[\"offer\",\"tips\"]", 5);
  cr_assert_eq(json_array_size(ids), 0);
  json_decref(ids);
}

static int insert_own_tx(struct store_tx *tx, void *arg, struct err *err)
{
  char *id = arg;
  float v[TEXTVEC_DIM];
  textvec_embed("zebra stripes", 13, v);
  json_t *vec = json_array();
  for (size_t i = 0; i < TEXTVEC_DIM; i++)
    json_array_append_new(vec, json_real(v[i]));
  json_t *doc = json_pack("{s:s,s:s,s:s,s:o,s:f}", "ownerType", "user", "ownerId", ann, "content",
                          "apples and pears", "vector", vec, "createdAt", 1.0);
  int rc = store_insert(tx, "knowledge", doc, 0, id, err);
  json_decref(doc);
  return rc;
}

Test(knowledge, a_documents_own_vector_is_used)
{
  char id[CID_MAX];
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, insert_own_tx, id, &err), 0, "%s", err.msg);
  json_t *ids = find(ann, "zebra stripes", "vector", NULL, 5);
  cr_assert(has(ids, id), "its own vector, not the content's, is searched");
  json_decref(ids);
  ids = find(ann, "zebra", "text", NULL, 5);
  cr_assert_eq(json_array_size(ids), 0, "its words are its content's");
  json_decref(ids);
}

Test(knowledge, bad_input_is_refused_or_finds_nothing)
{
  add(ann, "Something worth knowing", NULL, NULL);
  struct search s = {0};
  s.q.query = "worth";
  s.q.mode = "fuzzy";
  s.q.owners[s.q.nowners++] = ann;
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_READ, search_tx, &s, &err), 0);
  cr_assert_eq(s.rc, E_SCHEMA);
  cr_assert(strstr(s.err.msg, "fuzzy"), "%s", s.err.msg);
  err_clear(&s.err);
  /* FTS5 syntax in a query is only words */
  json_t *ids = find(ann, "\"worth\" NEAR( AND * OR", "text", NULL, 5);
  cr_assert_eq(json_array_size(ids), 1);
  json_decref(ids);
  ids = find(ann, "!!! ???", "hybrid", NULL, 5);
  cr_assert_eq(json_array_size(ids), 0);
  json_decref(ids);
  struct add a = {ann, "", NULL, ""};
  cr_assert_eq(store_run(st, STORE_WRITE, add_tx, &a, &err), E_SCHEMA);
  err_clear(&err);
}

static int raw_insert_tx(struct store_tx *tx, void *arg, struct err *err)
{
  char *id = arg;
  json_t *doc = json_pack("{s:s,s:s,s:s,s:f}", "ownerType", "user", "ownerId", ann, "content",
                          "written before search was named", "createdAt", 1.0);
  int rc = store_insert(tx, "knowledge", doc, 0, id, err);
  json_decref(doc);
  return rc;
}

static int text_tx(struct store_tx *tx, void *arg, struct err *err)
{
  size_t *n = arg;
  struct store_hit *h = NULL;
  int rc = store_search_text(tx, "knowledge", ann, "written", 10, &h, n, err);
  one_free(h);
  return rc;
}

Test(knowledge, a_space_named_late_is_filled_and_answers_503_until_then)
{
  /* a database an earlier ONE wrote, with no search spaces */
  store_close(st);
  tu_rmdir(dir);
  free(dir);
  dir = tu_tmpdir();
  st = open_store(0);
  tu_set_latest(st);
  char id[CID_MAX];
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, users_tx, NULL, &err), 0, "%s", err.msg);
  for (int i = 0; i < 7; i++)
    cr_assert_eq(store_run(st, STORE_WRITE, raw_insert_tx, id, &err), 0, "%s", err.msg);
  store_close(st);
  st = open_store(1);
  size_t n = 0;
  cr_assert_eq(store_run(st, STORE_READ, text_tx, &n, &err), E_STOPPED);
  cr_assert(strstr(err.msg, "being prepared"), "%s", err.msg);
  err_clear(&err);
  int more = 1, rounds = 0;
  size_t done = 0;
  while (more) {
    cr_assert_eq(store_search_fill(st, 3, &more, &done, &err), 0, "%s", err.msg);
    cr_assert_lt(++rounds, 10);
  }
  cr_assert_gt(rounds, 2, "filled in batches of 3");
  cr_assert_eq(store_run(st, STORE_READ, text_tx, &n, &err), 0, "%s", err.msg);
  cr_assert_eq(n, 7);
  cr_assert_eq(store_search_fill(st, 3, &more, &done, &err), 0);
  cr_assert_eq(more, 0);
}

Test(knowledge, the_embedder_is_deterministic_and_of_length_one)
{
  float a[TEXTVEC_DIM], b[TEXTVEC_DIM], z[TEXTVEC_DIM];
  textvec_embed("Pricing our coaching", 20, a);
  textvec_embed("pricing OUR coaching!", 21, b);
  cr_assert_float_eq(textvec_dot(a, b, TEXTVEC_DIM), 1.0f, 1e-5, "case and punctuation");
  cr_assert_float_eq(textvec_dot(a, a, TEXTVEC_DIM), 1.0f, 1e-5);
  textvec_embed("the and of", 10, z);
  cr_assert_float_eq(textvec_dot(z, z, TEXTVEC_DIM), 0.0f, 1e-9, "only common words: zero");
  textvec_embed("\xff\xfe broken \xc3", 12, z); /* not UTF-8: taken as it comes */
  cr_assert_float_eq(textvec_dot(z, z, TEXTVEC_DIM), 1.0f, 1e-5);
}

/* A labelled set: each query's relevant item must be in the top 3. */
Test(knowledge, search_quality_on_a_labelled_set)
{
  static const char *const docs[] = {
    "Our ideal customer is a solo fitness coach who wants more online clients",
    "The main pain of our customers: they cannot get consistent leads",
    "Pricing: the group program costs 497 dollars, the private one 1997",
    "Brand voice: warm, direct, no jargon, short sentences",
    "The lead magnet is a free seven day meal plan",
    "Results so far: 140 clients, average 9 kg lost in twelve weeks",
    "The webinar runs on Tuesdays at 7pm Eastern",
    "Refund policy: full refund within 30 days, no questions asked",
    "Our Instagram posts perform best with before and after photos",
    "Competitors charge around 300 dollars for similar programs",
    "The email newsletter goes out every Sunday morning",
    "Main objection on sales calls: not having enough time to train",
  };
  static const struct { const char *q; size_t doc; } cases[] = {
    {"who is my ideal client", 0},
    {"what are my customers' main pains", 1},
    {"how much does the program cost", 2},
    {"how should the copy sound, what tone of voice", 3},
    {"what free lead magnet do we offer", 4},
    {"what results have clients had", 5},
    {"when is the webinar", 6},
    {"can people get a refund", 7},
    {"which Instagram posts work", 8},
    {"what do competitors charge", 9},
    {"objections on sales calls", 11},
    {"newsletter schedule", 10},
  };
  char ids[12][CID_MAX];
  for (size_t i = 0; i < 12; i++)
    add(ann, docs[i], NULL, ids[i]);
  static const char *const modes[] = {"text", "vector", "hybrid"};
  size_t hits[3] = {0};
  for (size_t m = 0; m < 3; m++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      json_t *found = find(ann, cases[i].q, modes[m], NULL, 3);
      hits[m] += has(found, ids[cases[i].doc]);
      json_decref(found);
    }
  size_t n = sizeof cases / sizeof cases[0];
  cr_log_info("recall@3 on %zu queries: text %zu, vector %zu, hybrid %zu", n, hits[0], hits[1],
              hits[2]);
  cr_assert_geq(hits[2], n - 1, "hybrid found %zu of %zu", hits[2], n);
  cr_assert_geq(hits[1], n - 3, "vector found %zu of %zu", hits[1], n);
}

/* --- the approximate index of a large scope (domain/vindex.c) --- */

static const char *const words[] = {
  "price", "offer", "customer", "lead", "webinar", "email", "course", "coach", "client",
  "refund", "brand", "voice", "launch", "funnel", "podcast", "video", "ads", "budget",
  "audience", "pain", "desire", "result", "story", "review", "partner", "event", "sale",
  "upsell", "bonus", "guide", "template", "checklist", "newsletter", "seo", "blog", "social",
};
#define NWORDS (sizeof words / sizeof words[0])

static int many_tx(struct store_tx *tx, void *arg, struct err *err)
{
  size_t *count = arg;
  uint64_t r = 99;
  int rc = 0;
  for (size_t i = 0; !rc && i < *count; i++) {
    char text[256] = "";
    for (int w = 0; w < 6; w++) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      strcat(text, words[(r >> 33) % NWORDS]);
      strcat(text, " ");
    }
    rc = knowledge_add_tx(tx, ann, text, NULL, NULL, NULL, err);
  }
  return rc;
}

struct exact {
  const float *q;
  struct store_hit top[10];
  size_t n;
};

static int exact_add(void *arg, const char *id, const char *scope, const float *v, size_t dim)
{
  (void)scope;
  struct exact *e = arg;
  float s = textvec_dot(e->q, v, dim);
  if (e->n == 10 && s <= e->top[9].score)
    return 0;
  size_t i = e->n < 10 ? e->n++ : 9;
  while (i > 0 && e->top[i - 1].score < s) {
    e->top[i] = e->top[i - 1];
    i--;
  }
  snprintf(e->top[i].id, CID_MAX, "%s", id);
  e->top[i].score = s;
  return 0;
}

struct vq {
  const char *text;
  struct store_hit hits[10];
  size_t n;
  int approx;
  struct exact ex;
};

static int vq_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct vq *v = arg;
  float q[TEXTVEC_DIM];
  textvec_embed(v->text, strlen(v->text), q);
  v->ex.q = q;
  v->ex.n = 0;
  int rc = store_search_vectors(tx, "knowledge", ann, exact_add, &v->ex, err);
  return rc ? rc : vindex_search(tx, "knowledge", "knowledge", ann, q, TEXTVEC_DIM, 10, v->hits,
                                 &v->n, &v->approx, err);
}

static int vq_has(const struct vq *v, const char *id)
{
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->hits[i].id, id) == 0)
      return 1;
  return 0;
}

Test(knowledge, a_large_scope_gets_an_approximate_index_kept_current)
{
  vindex_reset();
  size_t count = VINDEX_MIN + 500;
  struct err err = ERR_INIT;
  cr_assert_eq(store_run(st, STORE_WRITE, many_tx, &count, &err), 0, "%s", err.msg);
  struct vq v = {.text = "webinar refund budget"};
  cr_assert_eq(store_run(st, STORE_READ, vq_tx, &v, &err), 0, "%s", err.msg);
  cr_assert_eq(v.approx, 0, "the first search builds the index and answers exactly");
  static const char *const queries[] = {"webinar refund budget", "coach client story",
                                        "seo blog social", "price offer upsell bonus",
                                        "email newsletter template", "ads funnel launch"};
  size_t found = 0, want = 0;
  for (size_t i = 0; i < 6; i++) {
    struct vq a = {.text = queries[i]};
    cr_assert_eq(store_run(st, STORE_READ, vq_tx, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(a.approx, 1);
    cr_assert_eq(a.n, 10);
    for (size_t j = 0; j < a.ex.n; j++) /* ties at the tenth place count either way */
      found += vq_has(&a, a.ex.top[j].id) || a.ex.top[j].score <= a.hits[9].score + 1e-6;
    want += a.ex.n;
  }
  cr_log_info("approximate recall@10 over %zu items: %zu of %zu", count, found, want);
  cr_assert_geq((double)found / (double)want, 0.9);

  /* a new item is found at once; a deleted one no more */
  char id[CID_MAX];
  add(ann, "zanzibar quokka xylophone", NULL, id);
  struct vq n = {.text = "zanzibar quokka xylophone"};
  cr_assert_eq(store_run(st, STORE_READ, vq_tx, &n, &err), 0, "%s", err.msg);
  cr_assert_eq(n.approx, 1);
  cr_assert_str_eq(n.hits[0].id, id, "the change log brought it in");
  struct store_tx *tx = NULL;
  cr_assert_eq(store_begin(st, STORE_WRITE, &tx, &err), 0);
  cr_assert_eq(store_delete(tx, id, &err), 0, "%s", err.msg);
  cr_assert_eq(store_commit(tx, &err), 0, "%s", err.msg);
  cr_assert_eq(store_run(st, STORE_READ, vq_tx, &n, &err), 0, "%s", err.msg);
  cr_assert_not(vq_has(&n, id));
  vindex_reset();
}
