/* snapshot: reading and writing Convex snapshot ZIPs with libzip.
 *
 * Reading happens in three passes over the archive's directory: classify
 * every entry (refusing what ONE cannot keep), learn every table's number and
 * encoding, then stream each table's documents.jsonl line by line. Nothing
 * reaches the sink's doc callback before every table is known, and the first
 * bad line stops the read. */
#include "migrate/snapshot.h"

#include "migrate/shape.h"
#include "schema/schema.h"
#include "util/buf.h"
#include "util/cid.h"
#include "util/jv.h"
#include "util/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#define READ_CHUNK (256u * 1024)
#define MAX_TABLES 4096

/* --- reading --- */

struct rtable {
  struct snapshot_table t;
  zip_int64_t docs;         /* entry index of documents.jsonl, -1 when none */
  zip_int64_t schema;       /* entry index of generated_schema.jsonl, -1 when none */
  struct shape *shape;      /* legacy: the table's shape (NULL: none given) */
  json_t *overrides;        /* legacy: id -> export context */
};

struct reader {
  zip_t *za;
  struct rtable *t;
  size_t n;
  struct err *err;
};

struct lines {
  zip_file_t *f;
  char *buf;
  size_t len, pos, cap;
  int eof;
  size_t lineno;
  char file[160];
};

static int zip_fail(struct err *err, zip_t *za, const char *what)
{
  return err_set(err, E_IO, "%s: %s", what, za ? zip_strerror(za) : "cannot read the archive");
}

static int lines_open(struct reader *r, zip_int64_t ix, struct lines *L)
{
  memset(L, 0, sizeof *L);
  const char *name = zip_get_name(r->za, (zip_uint64_t)ix, ZIP_FL_ENC_RAW);
  snprintf(L->file, sizeof L->file, "%s", name ? name : "?");
  L->f = zip_fopen_index(r->za, (zip_uint64_t)ix, 0);
  if (!L->f)
    return zip_fail(r->err, r->za, L->file);
  return 0;
}

static void lines_close(struct lines *L)
{
  if (L->f)
    zip_fclose(L->f);
  one_free(L->buf);
  memset(L, 0, sizeof *L);
}

static int line_error(const struct lines *L, struct err *err, int code, const char *msg)
{
  char where[200];
  snprintf(where, sizeof where, "%s:%zu", L->file, L->lineno);
  return err_set_at(err, code, where, "%s: %s", where, msg);
}

/* Next line (without its newline) into *line / *n: 1, or 0 at the end, or a
 * negative code. The line stays valid until the next call. */
static int lines_next(struct lines *L, const char **line, size_t *n, struct err *err)
{
  for (;;) {
    char *nl = L->pos < L->len ? memchr(L->buf + L->pos, '\n', L->len - L->pos) : NULL;
    if (nl || (L->eof && L->pos < L->len)) {
      size_t end = nl ? (size_t)(nl - L->buf) : L->len;
      *line = L->buf + L->pos;
      *n = end - L->pos;
      if (*n && (*line)[*n - 1] == '\r')
        (*n)--;
      L->pos = nl ? end + 1 : L->len;
      L->lineno++;
      return 1;
    }
    if (L->eof)
      return 0;
    if (L->len - L->pos > SNAPSHOT_MAX_LINE) {
      L->lineno++;
      return line_error(L, err, E_TOOBIG, "line longer than 8 MiB");
    }
    if (L->pos) {
      memmove(L->buf, L->buf + L->pos, L->len - L->pos);
      L->len -= L->pos;
      L->pos = 0;
    }
    if (L->cap - L->len < READ_CHUNK) {
      char *b = one_realloc(L->buf, L->cap + READ_CHUNK * 2);
      if (!b)
        return err_set(err, E_NOMEM, "out of memory");
      L->buf = b;
      L->cap += READ_CHUNK * 2;
    }
    zip_int64_t got = zip_fread(L->f, L->buf + L->len, READ_CHUNK);
    if (got < 0)
      return err_set(err, E_IO, "%s: %s", L->file, zip_file_strerror(L->f));
    if (got == 0)
      L->eof = 1;
    L->len += (size_t)got;
  }
}

static struct rtable *table_named(struct reader *r, const char *name, size_t n, int create)
{
  for (size_t i = 0; i < r->n; i++)
    if (strlen(r->t[i].t.name) == n && memcmp(r->t[i].t.name, name, n) == 0)
      return &r->t[i];
  if (!create || r->n >= MAX_TABLES)
    return NULL;
  struct rtable *t = one_realloc(r->t, (r->n + 1) * sizeof *t);
  if (!t)
    return NULL;
  r->t = t;
  t = &r->t[r->n++];
  memset(t, 0, sizeof *t);
  memcpy(t->t.name, name, n);
  t->docs = t->schema = -1;
  return t;
}

/* Pass 1: what each entry is. */
static int classify(struct reader *r, zip_int64_t *tables_ix)
{
  zip_int64_t n = zip_get_num_entries(r->za, 0);
  *tables_ix = -1;
  for (zip_int64_t i = 0; i < n; i++) {
    const char *name = zip_get_name(r->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
    if (!name)
      return zip_fail(r->err, r->za, "reading the archive's directory");
    size_t len = strlen(name);
    if (strcmp(name, "README.md") == 0 || (len && name[len - 1] == '/'))
      continue;
    if (strcmp(name, "_tables/documents.jsonl") == 0) {
      *tables_ix = i;
      continue;
    }
    if (strncmp(name, "_components/", 12) == 0)
      return err_set(r->err, E_INVALID, "%s: the snapshot holds component tables, which "
                     "ONE cannot import; nothing was imported", name);
    if (strncmp(name, "_storage/", 9) == 0) {
      zip_stat_t st;
      if (strcmp(name, "_storage/documents.jsonl") == 0 && zip_stat_index(r->za, (zip_uint64_t)i,
          0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) && st.size == 0)
        continue;
      return err_set(r->err, E_INVALID, "%s: the snapshot holds stored files, which ONE "
                     "cannot import; export without file storage; nothing was imported", name);
    }
    const char *slash = strchr(name, '/');
    int docs = slash && strcmp(slash, "/documents.jsonl") == 0;
    int schema = slash && strcmp(slash, "/generated_schema.jsonl") == 0;
    if (!docs && !schema)
      return err_set(r->err, E_PARSE, "%s: not an entry of a Convex snapshot", name);
    if (!schema_table_name_ok(name, (size_t)(slash - name)))
      return err_set(r->err, E_PARSE, "%s: '%.*s' is not a table name", name,
                     (int)(slash - name), name);
    struct rtable *t = table_named(r, name, (size_t)(slash - name), 1);
    if (!t)
      return err_set(r->err, E_TOOBIG, "too many tables (at most %d)", MAX_TABLES);
    if (docs)
      t->docs = i;
    else
      t->schema = i;
  }
  return 0;
}

/* Calls fn for each non-empty line of entry ix, until fn returns nonzero
 * (LINE_STOP: stop without error; negative: an error). */
#define LINE_STOP 1
typedef int (*line_fn)(struct reader *r, void *arg, const struct lines *L, const char *line,
                       size_t n);

static int each_line(struct reader *r, zip_int64_t ix, line_fn fn, void *arg)
{
  struct lines L;
  int rc = lines_open(r, ix, &L);
  const char *line = NULL;
  size_t n = 0;
  while (!rc && (rc = lines_next(&L, &line, &n, r->err)) == 1)
    rc = n ? fn(r, arg, &L, line, n) : 0;
  lines_close(&L);
  return rc < 0 ? rc : 0;
}

/* _tables/documents.jsonl: {"name": "users", "id": 10001} per line. */
static int table_number_line(struct reader *r, void *arg, const struct lines *L, const char *line,
                             size_t n)
{
  (void)arg;
  json_error_t je;
  json_t *o = json_loadb(line, n, JSON_REJECT_DUPLICATES, &je);
  const char *name = json_string_value(json_object_get(o, "name"));
  json_t *id = json_object_get(o, "id");
  double num = json_is_number(id) ? json_number_value(id) : 0;
  int rc = 0;
  if (!o)
    rc = line_error(L, r->err, E_PARSE, je.text);
  else if (!name || !schema_table_name_ok(name, strlen(name)) || num < 1 ||
           num > CID_TABLE_MAX || num != (double)(uint32_t)num)
    rc = line_error(L, r->err, E_PARSE, "expected {\"name\": a table name, \"id\": a table "
                    "number}");
  else {
    struct rtable *t = table_named(r, name, strlen(name), 1);
    if (!t)
      rc = err_set(r->err, E_TOOBIG, "too many tables (at most %d)", MAX_TABLES);
    else if (t->t.number)
      rc = line_error(L, r->err, E_PARSE, "table listed twice");
    else
      t->t.number = (uint32_t)num;
  }
  json_decref(o);
  return rc;
}

/* The table number in the _id of a table's first document. */
static int first_doc_line(struct reader *r, void *arg, const struct lines *L, const char *line,
                          size_t n)
{
  struct rtable *t = arg;
  json_error_t je;
  json_t *o = json_loadb(line, n, JSON_DECODE_INT_AS_REAL, &je);
  const char *id = json_string_value(json_object_get(o, "_id"));
  t->t.number = id ? cid_table(id, strlen(id)) : 0;
  int rc = LINE_STOP;
  if (!o)
    rc = line_error(L, r->err, E_PARSE, je.text);
  else if (!t->t.number)
    rc = line_error(L, r->err, E_PARSE, "the document has no valid _id");
  json_decref(o);
  return rc;
}

/* The overrides of one generated_schema.jsonl line: {"<id>": context}. */
static int add_overrides(struct reader *r, struct rtable *t, const struct lines *L, json_t *v)
{
  if (!t->t.legacy)
    return line_error(L, r->err, E_PARSE, "a uniform snapshot has no per-document overrides");
  if (!json_is_object(v))
    return line_error(L, r->err, E_PARSE, "expected {\"<id>\": export context}");
  const char *id;
  json_t *ctx;
  json_object_foreach(v, id, ctx) {
    struct err e = ERR_INIT;
    int bad = shape_check_context(ctx, &e);
    err_clear(&e);
    if (bad)
      return line_error(L, r->err, E_PARSE, "malformed export context");
    if (json_object_set(t->overrides, id, ctx))
      return err_set(r->err, E_NOMEM, "out of memory");
  }
  return 0;
}

/* generated_schema.jsonl: "uniform", or a shape and then override lines. */
static int schema_line(struct reader *r, void *arg, const struct lines *L, const char *line,
                       size_t n)
{
  struct rtable *t = arg;
  json_error_t je;
  json_t *v = json_loadb(line, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
  int rc = 0;
  if (!v) {
    rc = line_error(L, r->err, E_PARSE, je.text);
  } else if (t->t.legacy == 0) { /* the first line decides the encoding */
    const char *s = json_string_value(v);
    if (!s) {
      rc = line_error(L, r->err, E_PARSE, "expected \"uniform\" or a shape as a JSON string");
    } else if (strcmp(s, "uniform") == 0) {
      t->t.legacy = -1; /* decided: uniform */
    } else {
      t->t.legacy = 1;
      struct err e = ERR_INIT;
      if (shape_parse(s, json_string_length(v), &t->shape, &e))
        rc = line_error(L, r->err, E_PARSE, e.msg);
      else if (!(t->overrides = json_object()))
        rc = err_set(r->err, E_NOMEM, "out of memory");
      err_clear(&e);
    }
  } else {
    rc = add_overrides(r, t, L, v);
  }
  json_decref(v);
  return rc;
}

static int read_generated_schema(struct reader *r, struct rtable *t)
{
  int rc = each_line(r, t->schema, schema_line, t);
  /* an empty file: no shape, so numbers are float64 and strings strings */
  t->t.legacy = t->t.legacy >= 0;
  return rc;
}

json_t *snapshot_decode_line(const char *line, size_t len, const struct shape *shape, int legacy,
                             const json_t *overrides, struct err *err)
{
  json_error_t je;
  size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | (legacy ? JSON_DECODE_INT_AS_REAL : 0);
  json_t *raw = json_loadb(line, len, flags, &je);
  if (!raw) {
    err_set(err, E_PARSE, "invalid JSON at column %d: %s", je.column, je.text);
    return NULL;
  }
  if (!json_is_object(raw) || !json_is_string(json_object_get(raw, "_id"))) {
    json_decref(raw);
    err_set(err, E_PARSE, "a document must be a JSON object with an _id");
    return NULL;
  }
  if (!legacy)
    return raw;
  const json_t *ctx = overrides ? json_object_get(overrides, json_string_value(
                                    json_object_get(raw, "_id"))) : NULL;
  json_t *doc = shape_decode(shape, ctx, raw, err);
  json_decref(raw);
  return doc;
}

struct doc_arg {
  struct rtable *t;
  const struct snapshot_sink *sink;
};

static int document_line(struct reader *r, void *arg, const struct lines *L, const char *line,
                         size_t n)
{
  struct doc_arg *a = arg;
  struct rtable *t = a->t;
  struct err e = ERR_INIT;
  json_t *doc = snapshot_decode_line(line, n, t->shape, t->t.legacy, t->overrides, &e);
  const char *id = doc ? json_string_value(json_object_get(doc, "_id")) : NULL;
  int rc;
  if (!doc) {
    rc = line_error(L, r->err, E_PARSE, e.msg);
  } else if (cid_table(id, strlen(id)) != t->t.number) {
    char msg[160];
    snprintf(msg, sizeof msg, "_id %.40s is not an id of table %s (number %u)", id, t->t.name,
             t->t.number);
    rc = line_error(L, r->err, E_PARSE, msg);
  } else {
    t->t.documents++;
    rc = a->sink->doc(a->sink->arg, &t->t, doc, L->file, L->lineno, r->err);
  }
  err_clear(&e);
  json_decref(doc);
  return rc;
}

static int read_documents(struct reader *r, struct rtable *t, const struct snapshot_sink *sink)
{
  struct doc_arg a = {t, sink};
  return t->docs < 0 ? 0 : each_line(r, t->docs, document_line, &a);
}

static int by_number(const void *a, const void *b)
{
  const struct rtable *x = a, *y = b;
  uint32_t nx = x->t.number ? x->t.number : UINT32_MAX, ny = y->t.number ? y->t.number : UINT32_MAX;
  if (nx != ny)
    return nx < ny ? -1 : 1;
  return strcmp(x->t.name, y->t.name);
}

int snapshot_read(const char *path, const void *data, size_t n, const struct snapshot_sink *sink,
                  struct err *err)
{
  struct reader r = {0};
  r.err = err;
  int zerr = 0;
  if (path) {
    r.za = zip_open(path, ZIP_RDONLY, &zerr);
    if (!r.za) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, zerr);
      err_set(err, zerr == ZIP_ER_NOENT ? E_NOTFOUND : E_PARSE, "%s: %s", path,
              zip_error_strerror(&ze));
      zip_error_fini(&ze);
      return err->code;
    }
  } else {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(data, n, 0, &ze);
    r.za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!r.za) {
      err_set(err, E_PARSE, "not a ZIP archive: %s", zip_error_strerror(&ze));
      zip_source_free(src);
      zip_error_fini(&ze);
      return err->code;
    }
    zip_error_fini(&ze);
  }
  zip_int64_t tables_ix = -1;
  int rc = classify(&r, &tables_ix);
  if (!rc && tables_ix >= 0)
    rc = each_line(&r, tables_ix, table_number_line, NULL);
  for (size_t i = 0; !rc && i < r.n; i++)
    if (!r.t[i].t.number && r.t[i].docs >= 0)
      rc = each_line(&r, r.t[i].docs, first_doc_line, &r.t[i]);
  if (!rc && r.n)
    qsort(r.t, r.n, sizeof *r.t, by_number);
  for (size_t i = 0; !rc && i + 1 < r.n; i++)
    if (r.t[i].t.number && r.t[i].t.number == r.t[i + 1].t.number)
      rc = err_set(err, E_PARSE, "tables %s and %s have the same number %u", r.t[i].t.name,
                   r.t[i + 1].t.name, r.t[i].t.number);
  for (size_t i = 0; !rc && i < r.n; i++)
    if (r.t[i].schema >= 0)
      rc = read_generated_schema(&r, &r.t[i]);
    else
      r.t[i].t.legacy = 1; /* no shapes: numbers are float64, strings strings */
  struct snapshot_table *list = rc ? NULL : one_calloc(r.n ? r.n : 1, sizeof *list);
  if (!rc && !list)
    rc = err_set(err, E_NOMEM, "out of memory");
  for (size_t i = 0; !rc && i < r.n; i++)
    list[i] = r.t[i].t;
  if (!rc)
    rc = sink->tables(sink->arg, list, r.n, err);
  one_free(list);
  for (size_t i = 0; !rc && i < r.n; i++)
    rc = read_documents(&r, &r.t[i], sink);
  for (size_t i = 0; i < r.n; i++) {
    shape_free(r.t[i].shape);
    json_decref(r.t[i].overrides);
  }
  one_free(r.t);
  zip_discard(r.za);
  return rc;
}

/* --- writing --- */

struct wtable {
  char name[65];
  uint32_t number;
  char path[4200];
};

struct snapshot_writer {
  char path[4096];          /* the archive's final name */
  char dir[4096];           /* temporary folder for table contents */
  struct wtable *t;
  size_t n;
  FILE *cur;                /* the current table's documents */
};

static const char readme[] =
  "# Convex snapshot\n\n"
  "Written by `one export`. Each table's documents are in `<table>/documents.jsonl`,\n"
  "one JSON document per line, in the \"uniform\" value encoding\n"
  "(`<table>/generated_schema.jsonl`). `_tables/documents.jsonl` lists the tables and\n"
  "their numbers. Load it with `one import` or `npx convex import`.\n";

int snapshot_writer_open(const char *path, struct snapshot_writer **out, struct err *err)
{
  *out = NULL;
  if (access(path, F_OK) == 0)
    return err_set(err, E_CONFLICT, "%s already exists; name a new file", path);
  struct snapshot_writer *w = one_calloc(1, sizeof *w);
  if (!w)
    return err_set(err, E_NOMEM, "out of memory");
  snprintf(w->path, sizeof w->path, "%s", path);
  snprintf(w->dir, sizeof w->dir, "%s.parts.XXXXXX", path);
  if (!mkdtemp(w->dir)) {
    one_free(w);
    return err_set(err, E_IO, "cannot create a temporary folder beside %s: %s", path,
                   strerror(errno));
  }
  *out = w;
  return 0;
}

static int close_current(struct snapshot_writer *w, struct err *err)
{
  if (!w->cur)
    return 0;
  int bad = ferror(w->cur) | fclose(w->cur);
  w->cur = NULL;
  return bad ? err_set(err, E_IO, "cannot write a temporary file in %s", w->dir) : 0;
}

int snapshot_writer_table(struct snapshot_writer *w, const char *name, uint32_t number,
                          struct err *err)
{
  int rc = close_current(w, err);
  if (rc)
    return rc;
  if (!schema_table_name_ok(name, strlen(name)))
    return err_set(err, E_INVALID, "'%s' is not a table name", name);
  struct wtable *t = one_realloc(w->t, (w->n + 1) * sizeof *t);
  if (!t)
    return err_set(err, E_NOMEM, "out of memory");
  w->t = t;
  t = &w->t[w->n++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->number = number;
  snprintf(t->path, sizeof t->path, "%s/%zu.jsonl", w->dir, w->n);
  w->cur = fopen(t->path, "w");
  if (!w->cur)
    return err_set(err, E_IO, "cannot create %s: %s", t->path, strerror(errno));
  return 0;
}

int snapshot_writer_doc(struct snapshot_writer *w, const char *text, size_t len, struct err *err)
{
  if (!w->cur)
    return err_set(err, E_INVALID, "snapshot_writer_doc before snapshot_writer_table");
  if (fwrite(text, 1, len, w->cur) != len || fputc('\n', w->cur) == EOF)
    return err_set(err, E_IO, "cannot write a temporary file in %s: %s", w->dir,
                   strerror(errno));
  return 0;
}

static void remove_parts(struct snapshot_writer *w)
{
  for (size_t i = 0; i < w->n; i++)
    unlink(w->t[i].path);
  rmdir(w->dir);
}

void snapshot_writer_abort(struct snapshot_writer *w)
{
  if (!w)
    return;
  if (w->cur)
    fclose(w->cur);
  remove_parts(w);
  one_free(w->t);
  one_free(w);
}

static int add_entry(zip_t *za, const char *name, zip_source_t *src, struct err *err)
{
  if (!src)
    return zip_fail(err, za, name);
  zip_int64_t ix = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
  if (ix < 0) {
    zip_source_free(src);
    return zip_fail(err, za, name);
  }
  if (zip_set_file_compression(za, (zip_uint64_t)ix, ZIP_CM_DEFLATE, 0))
    return zip_fail(err, za, name);
  return 0;
}

int snapshot_writer_close(struct snapshot_writer *w, struct err *err)
{
  int rc = close_current(w, err);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/archive.zip", w->dir);
  int zerr = 0;
  zip_t *za = rc ? NULL : zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &zerr);
  if (!rc && !za)
    rc = err_set(err, E_IO, "cannot create %s (libzip error %d)", tmp, zerr);
  struct buf tables;
  buf_init(&tables, BUF_UNBOUNDED);
  for (size_t i = 0; !rc && i < w->n; i++)
    if (buf_printf(&tables, "{\"name\":\"%s\",\"id\":%u}\n", w->t[i].name, w->t[i].number))
      rc = err_set(err, E_NOMEM, "out of memory");
  static const char uniform[] = "\"uniform\"\n";
  if (!rc)
    rc = add_entry(za, "README.md", zip_source_buffer(za, readme, sizeof readme - 1, 0), err);
  if (!rc)
    rc = add_entry(za, "_tables/documents.jsonl",
                   zip_source_buffer(za, tables.p ? tables.p : "", tables.len, 0), err);
  for (size_t i = 0; !rc && i < w->n; i++) {
    char name[128];
    snprintf(name, sizeof name, "%s/documents.jsonl", w->t[i].name);
    rc = add_entry(za, name, zip_source_file(za, w->t[i].path, 0, -1), err);
    snprintf(name, sizeof name, "%s/generated_schema.jsonl", w->t[i].name);
    if (!rc)
      rc = add_entry(za, name, zip_source_buffer(za, uniform, sizeof uniform - 1, 0), err);
  }
  if (!rc && zip_close(za) != 0)
    rc = zip_fail(err, za, "writing the archive");
  else if (!rc)
    za = NULL;
  if (za)
    zip_discard(za);
  buf_release(&tables);
  if (!rc && link(tmp, w->path) != 0)
    rc = err_set(err, E_IO, "cannot create %s: %s", w->path, strerror(errno));
  unlink(tmp);
  remove_parts(w);
  one_free(w->t);
  one_free(w);
  return rc;
}
