/* store_sqlite_search: the search spaces of the SQLite backend (store.h,
 * "search"). one_search has a row per document of a space: its scope, its
 * vector (float32, native order; the scope index holds only rows with one)
 * and, as its rowid, the rowid of its text in one_fts, a
 * contentless FTS5 table (porter stemming over unicode61 words, BM25
 * ranking): it holds the index of the words, not a second copy of every
 * text, so taking a text out needs the text it was made from. A text
 * query becomes an FTS5 query of its words, each quoted, joined by OR, so
 * no user input is ever read as FTS5 syntax. Statements are prepared on a
 * connection's first use. */
#include "store/store_sqlite_int.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/textvec.h"

#include <string.h>

enum {
  Q_OLD, Q_DEL_ROW, Q_DEL_TEXT, Q_ADD_TEXT, Q_ADD_ROW, Q_MATCH, Q_MATCH_SCOPE, Q_VECS,
  Q_VECS_SCOPE, Q_VEC_OF, Q_COUNT_STMTS
};

static const char *const sql[Q_COUNT_STMTS] = {
  [Q_OLD] = "SELECT fts FROM one_search WHERE space = ?1 AND id = ?2",
  [Q_DEL_ROW] = "DELETE FROM one_search WHERE fts = ?1",
  [Q_DEL_TEXT] = "INSERT INTO one_fts(one_fts, rowid, body) VALUES('delete', ?1, ?2)",
  [Q_ADD_TEXT] = "INSERT INTO one_fts(body) VALUES(?1)",
  [Q_ADD_ROW] = "INSERT INTO one_search(space, id, scope, fts, vec) VALUES(?1, ?2, ?3, ?4, ?5)",
  [Q_MATCH] = "SELECT s.id, bm25(one_fts) AS r FROM one_fts JOIN one_search s"
              " ON s.fts = one_fts.rowid WHERE one_fts MATCH ?1 AND s.space = ?2"
              " ORDER BY r LIMIT ?3",
  [Q_MATCH_SCOPE] = "SELECT s.id, bm25(one_fts) AS r FROM one_fts JOIN one_search s"
                    " ON s.fts = one_fts.rowid WHERE one_fts MATCH ?1 AND s.space = ?2"
                    " AND s.scope = ?4 ORDER BY r LIMIT ?3",
  [Q_VECS] = "SELECT id, scope, vec FROM one_search WHERE space = ?1 AND vec IS NOT NULL",
  [Q_VECS_SCOPE] = "SELECT id, scope, vec FROM one_search WHERE space = ?1 AND scope = ?2"
                   " AND vec IS NOT NULL",
  [Q_VEC_OF] = "SELECT id, scope, vec FROM one_search WHERE space = ?1 AND id = ?2"
               " AND vec IS NOT NULL",
};

struct sq_search {
  sqlite3_stmt *st[Q_COUNT_STMTS];
};

void sq_search_free(struct sq_search *q)
{
  if (!q)
    return;
  for (int i = 0; i < Q_COUNT_STMTS; i++)
    sqlite3_finalize(q->st[i]);
  one_free(q);
}

static sqlite3_stmt *qstmt(struct conn *c, int which, struct err *err)
{
  struct sq_search **slot = sq_search_slot(c);
  if (!*slot) {
    *slot = one_calloc(1, sizeof **slot);
    if (!*slot) {
      err_set(err, E_NOMEM, "out of memory");
      return NULL;
    }
  }
  return sq_stmt(c, &(*slot)->st[which], sql[which], "cannot prepare the search statements", err);
}

static int step_done(struct conn *c, sqlite3_stmt *s, const char *what, struct err *err)
{
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : sq_fail(c, err, what);
}

static int q_del(void *p, const char *space, const char *id, const char *old, size_t olen,
                 struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = qstmt(c, Q_OLD, err);
  if (!s)
    return err->code;
  sqlite3_bind_text(s, 1, space, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(s);
    return 0;
  }
  if (rc != SQLITE_ROW) {
    sqlite3_reset(s);
    return sq_fail(c, err, "cannot read a search row");
  }
  sqlite3_int64 fts = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (!(s = qstmt(c, Q_DEL_TEXT, err)))
    return err->code;
  sqlite3_bind_int64(s, 1, fts);
  sqlite3_bind_text(s, 2, old ? old : "", old ? (int)olen : 0, SQLITE_STATIC);
  if ((rc = step_done(c, s, "cannot delete a searched text", err)))
    return rc;
  if (!(s = qstmt(c, Q_DEL_ROW, err)))
    return err->code;
  sqlite3_bind_int64(s, 1, fts);
  return step_done(c, s, "cannot delete a search row", err);
}

static int q_put(void *p, const char *space, const char *id, const char *scope, const char *text,
                 size_t tlen, const char *old, size_t olen, const float *v, size_t dim,
                 struct err *err)
{
  struct conn *c = p;
  int rc = q_del(p, space, id, old, olen, err);
  sqlite3_stmt *s = rc ? NULL : qstmt(c, Q_ADD_TEXT, err);
  if (!s)
    return rc ? rc : err->code;
  sqlite3_bind_text(s, 1, text, (int)tlen, SQLITE_STATIC);
  if ((rc = step_done(c, s, "cannot index a text for search", err)))
    return rc;
  sqlite3_int64 fts = sqlite3_last_insert_rowid(sq_db(c));
  if (!(s = qstmt(c, Q_ADD_ROW, err)))
    return err->code;
  sqlite3_bind_text(s, 1, space, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, scope, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, fts);
  if (v && dim)
    sqlite3_bind_blob(s, 5, v, (int)(dim * sizeof *v), SQLITE_STATIC);
  else
    sqlite3_bind_null(s, 5);
  return step_done(c, s, "cannot add a search row", err);
}

static int word_byte(unsigned char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         ch >= 0x80;
}

/* The FTS5 query for the words of query: "w1" OR "w2" …, the most common
 * English words left out unless the query has no other (a text about
 * "our office" is no answer to "what is our price"); "" when none. */
static int fts_query(const char *query, struct buf *b)
{
  const unsigned char *q = (const unsigned char *)query;
  int words = 0, others = 0;
  for (size_t i = 0; q[i];) {
    size_t j = i;
    while (q[j] && word_byte(q[j]))
      j++;
    others |= j > i && !textvec_is_stop_word((const char *)q + i, j - i);
    i = j > i ? j : i + 1;
  }
  for (size_t i = 0; q[i];) {
    if (!word_byte(q[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (q[j] && word_byte(q[j]))
      j++;
    if (others && textvec_is_stop_word((const char *)q + i, j - i)) {
      i = j;
      continue;
    }
    if ((words && buf_puts(b, " OR ")) || buf_puts(b, "\"") ||
        buf_append(b, (const char *)q + i, j - i) || buf_puts(b, "\""))
      return E_NOMEM;
    words++;
    i = j;
    if (words == 64) /* a longer query says nothing more */
      break;
  }
  return 0;
}

static int q_match(void *p, const char *space, const char *scope, const char *query, size_t limit,
                   int (*fn)(void *arg, const char *id, double score), void *arg,
                   struct err *err)
{
  struct conn *c = p;
  struct buf b;
  buf_init(&b, BUF_UNBOUNDED);
  if (fts_query(query, &b)) {
    buf_release(&b);
    return err_set(err, E_NOMEM, "out of memory");
  }
  if (!b.len) {
    buf_release(&b);
    return 0;
  }
  sqlite3_stmt *s = qstmt(c, scope ? Q_MATCH_SCOPE : Q_MATCH, err);
  if (!s) {
    buf_release(&b);
    return err->code;
  }
  sqlite3_bind_text(s, 1, b.p, (int)b.len, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, space, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
  if (scope)
    sqlite3_bind_text(s, 4, scope, -1, SQLITE_STATIC);
  int rc = 0, step;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
    rc = fn(arg, (const char *)sqlite3_column_text(s, 0), -sqlite3_column_double(s, 1));
  if (!rc && step != SQLITE_DONE)
    rc = sq_fail(c, err, "cannot search the texts");
  sqlite3_reset(s);
  buf_release(&b);
  return rc;
}

static int q_vectors(void *p, const char *space, const char *scope, const char *id,
                     store_vector_fn fn, void *arg, struct err *err)
{
  struct conn *c = p;
  sqlite3_stmt *s = qstmt(c, id ? Q_VEC_OF : scope ? Q_VECS_SCOPE : Q_VECS, err);
  if (!s)
    return err->code;
  sqlite3_bind_text(s, 1, space, -1, SQLITE_STATIC);
  if (id || scope)
    sqlite3_bind_text(s, 2, id ? id : scope, -1, SQLITE_STATIC);
  int rc = 0, step, seen = 0;
  float *f = NULL; /* a blob may sit anywhere in a page: copied to be read as floats */
  size_t cap = 0;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    const void *v = sqlite3_column_blob(s, 2);
    size_t bytes = (size_t)sqlite3_column_bytes(s, 2);
    seen = 1;
    if (!v || bytes % sizeof(float))
      continue;
    if (bytes > cap) {
      float *g = one_realloc(f, bytes);
      if (!g) {
        rc = err_set(err, E_NOMEM, "out of memory");
        break;
      }
      f = g;
      cap = bytes;
    }
    memcpy(f, v, bytes);
    rc = fn(arg, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
            f, bytes / sizeof(float));
  }
  if (!rc && step != SQLITE_DONE)
    rc = sq_fail(c, err, "cannot read the search vectors");
  sqlite3_reset(s);
  one_free(f);
  if (!rc && id && !seen)
    rc = err_set(err, E_NOTFOUND, "no vector for %s in %s", id, space);
  return rc;
}

const struct search_backend sq_search_backend = {q_put, q_del, q_match, q_vectors};
