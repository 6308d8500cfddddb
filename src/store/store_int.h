/* store_int: what a storage backend provides to the generic store (store.c).
 *
 * A backend knows rows, not rules: documents by id with their table number
 * and JSON text, index entries (index number, binary key, id), table and
 * index catalogs, a metadata map, and the change log. Validation, ids, index
 * keys, schema handling and listeners live in store.c, so a new backend
 * (PostgreSQL) implements only this table of functions.
 *
 * A backend connection (`void *c`) is used by one thread at a time. Every
 * function returns 0 or a negative code with err set; a "not found" lookup
 * returns E_NOTFOUND. A backend retries transient lock conflicts itself and
 * reports E_BUSY only after a long wait. */
#ifndef ONE_STORE_INT_H
#define ONE_STORE_INT_H

#include <stdatomic.h>

#include "store/store.h"

/* One row of an index scan: key, id and document text (all borrowed for the
 * duration of the callback). Return nonzero to stop the scan with that code. */
typedef int (*scan_row_fn)(void *arg, const uint8_t *key, size_t klen, const char *id,
                           const char *body, size_t blen);

/* The job queue's rows (store.h, "jobs"): the backend does what the store's
 * function of the same name says, with its arguments checked already. */
struct job_backend {
  int (*add)(void *c, const struct store_job_new *j, int64_t now, int64_t *id, int *added,
             struct err *err);
  int (*claim)(void *c, int64_t now, int64_t lease_until, const char *owner,
               struct store_job *out, struct err *err);
  int (*renew)(void *c, int64_t id, const char *owner, int64_t lease_until, struct err *err);
  int (*save)(void *c, int64_t id, const char *owner, const char *saved, struct err *err);
  int (*finish)(void *c, int64_t id, const char *owner, int state, const char *error,
                int64_t run_at, int64_t now, struct err *err);
  int (*cancel)(void *c, int64_t id, int64_t now, struct err *err);
  int (*get)(void *c, int64_t id, struct store_job *out, struct err *err);
  int (*list)(void *c, int state, int64_t before, size_t limit, store_job_fn fn, void *arg,
              struct err *err);
  int (*counts)(void *c, int64_t counts[STORE_JOB_STATES], int64_t *next_due, struct err *err);
  int (*prune)(void *c, int64_t before, size_t limit, size_t *deleted, struct err *err);
  int (*next_due)(void *c, int64_t *next_due, struct err *err);
};

/* The search spaces' rows (store.h, "search"): put replaces a document's
 * row (text and vector; v NULL for none), del removes it (none is fine);
 * both are given the text the row was made from (old, NULL when there is
 * no row), which the full-text index needs to take its words out,
 * match calls fn for the best limit texts holding a word of query, vectors
 * for every vector of space in scope (NULL: all), or only id's when id is
 * given (E_NOTFOUND when it has none). */
struct search_backend {
  int (*put)(void *c, const char *space, const char *id, const char *scope, const char *text,
             size_t tlen, const char *old, size_t olen, const float *v, size_t dim,
             struct err *err);
  int (*del)(void *c, const char *space, const char *id, const char *old, size_t olen,
             struct err *err);
  int (*match)(void *c, const char *space, const char *scope, const char *query, size_t limit,
               int (*fn)(void *arg, const char *id, double score), void *arg, struct err *err);
  int (*vectors)(void *c, const char *space, const char *scope, const char *id,
                 store_vector_fn fn, void *arg, struct err *err);
};

struct backend {
  const char *name;
  /* wal_frames (NULL unless opt->background_checkpoints or bulk): where the
   * connection reports, after each commit, how many pages its log holds. */
  int (*connect)(const struct store_options *opt, int first, atomic_long *wal_frames, void **c,
                 struct err *err);
  void (*disconnect)(void *c);
  /* write: 0 a read transaction, 1 a write, 2 a write committed without a
   * sync (atomic still; see STORE_WRITE_LAZY) */
  int (*begin)(void *c, int write, struct err *err);
  int (*commit)(void *c, struct err *err);
  void (*rollback)(void *c);
  /* Inside a write: SP_MARK sets a savepoint, SP_KEEP releases it keeping
   * what was written since, SP_UNDO takes back what was written since. */
  int (*savepoint)(void *c, int op, struct err *err);

  int (*meta_get)(void *c, const char *key, char **value, struct err *err);
  int (*meta_set)(void *c, const char *key, const char *value, struct err *err);

  int (*doc_get)(void *c, const char *id, uint32_t *table, char **body, struct err *err);
  int (*doc_insert)(void *c, const char *id, uint32_t table, const char *body, size_t len,
                    struct err *err);
  int (*doc_update)(void *c, const char *id, const char *body, size_t len, struct err *err);
  int (*doc_delete)(void *c, const char *id, struct err *err);

  int (*entry_put)(void *c, int64_t ix, const uint8_t *key, size_t klen, const char *id,
                   struct err *err);
  int (*entry_delete)(void *c, int64_t ix, const uint8_t *key, size_t klen, struct err *err);
  /* Entries of ix with lo <= key < hi (hi NULL: no upper bound), ascending or
   * descending, at most limit rows (0: no limit), joined with their documents. */
  int (*scan)(void *c, int64_t ix, const uint8_t *lo, size_t lolen, const uint8_t *hi,
              size_t hilen, int desc, size_t limit, scan_row_fn fn, void *arg, struct err *err);
  int (*count)(void *c, int64_t ix, int64_t *n, struct err *err);

  /* Catalogs: tables (number, name) and indexes (ix, table, name, fields as
   * a JSON array text). The callbacks return nonzero to stop. */
  int (*tables)(void *c, int (*fn)(void *arg, uint32_t number, const char *name), void *arg,
                struct err *err);
  int (*table_add)(void *c, uint32_t number, const char *name, struct err *err);
  int (*indexes)(void *c, int (*fn)(void *arg, int64_t ix, uint32_t table, const char *name,
                                    const char *fields), void *arg, struct err *err);
  int (*index_add)(void *c, uint32_t table, const char *name, const char *fields, int64_t *ix,
                   struct err *err);
  int (*index_drop)(void *c, int64_t ix, struct err *err);

  int (*change_add)(void *c, uint32_t table, const char *id, int kind, int origin,
                    int64_t *seq, struct err *err);
  int (*changes)(void *c, int64_t after, size_t max,
                 int (*fn)(void *arg, int64_t seq, uint32_t table, const char *id, int kind,
                           int origin),
                 void *arg, struct err *err);
  int (*change_bounds)(void *c, int64_t *oldest, int64_t *newest, struct err *err);

  int (*meta_del)(void *c, const char *key, struct err *err);
  /* Keys starting with prefix, in order; fn returns nonzero to stop. */
  int (*meta_list)(void *c, const char *prefix,
                   int (*fn)(void *arg, const char *key, const char *value), void *arg,
                   struct err *err);
  int (*journal_add)(void *c, const char *stream, const char *body, int64_t *seq,
                     struct err *err);
  int (*journal_scan)(void *c, const char *stream, int desc,
                      int (*fn)(void *arg, int64_t seq, const char *body), void *arg,
                      struct err *err);
  int (*journal_drop)(void *c, const char *stream, struct err *err);
  /* A consistent copy of the whole database at path, while others write.
   * Called outside any transaction of c (the copy is of the database as it
   * is then), or inside a read transaction that backup_hold began (the copy
   * is of the database as it was then). */
  int (*backup)(void *c, const char *path, struct err *err);
  /* Begins a read transaction on c whose snapshot is taken now, not at its
   * first read, for a backup to copy (ended with rollback). */
  int (*backup_hold)(void *c, struct err *err);
  /* Copies what it can of the write-ahead log into the database without
   * waiting for anyone (c is the checkpointer's own connection): *log
   * pages in the log, *copied of them now in the database. With restart,
   * copies all of it, waiting for writers and then for readers to leave
   * the log, so that the next write starts the log over. */
  int (*checkpoint)(void *c, int restart, int *log, int *copied, struct err *err);
  /* Documents of table with id > after (NULL: from the first) in id order,
   * at most limit rows (0: no limit); fn's key is the id itself. */
  int (*doc_scan)(void *c, uint32_t table, const char *after, size_t limit, scan_row_fn fn,
                  void *arg, struct err *err);
  const struct job_backend *jobs;
  const struct search_backend *search;
};

enum { SP_MARK, SP_KEEP, SP_UNDO };

extern const struct backend store_sqlite_backend;

/* --- the generic store's insides, shared by store.c and store_docs.c --- */

#include <pthread.h>
#include <stdatomic.h>

#include "util/buf.h"

struct sindex {
  char *name;
  int64_t ix;
  const struct index_def *def;  /* borrowed from the state's schema, or owned */
  struct index_def *owned;      /* a building index's definition (not in the schema) */
  int building;                 /* kept up to date by every write, not yet queryable */
};

struct stable {
  char *name;
  uint32_t number;
  int64_t by_ct;                /* the by_creation_time index, 0 when missing */
  struct sindex *ix;
  size_t nix;
  const struct table_def *def;  /* NULL when the schema no longer has the table */
};

/* What the database says is in force: an immutable snapshot, shared by the
 * transactions that began under it. refs is atomic: transactions on any
 * thread take and drop references; store.lock only guards store.state, the
 * pointer to the newest snapshot. */
struct sstate {
  atomic_int refs;
  char *epoch;
  char *name;
  struct schema *schema;
  struct stable *tables;
  size_t ntables;
};

struct listener {
  int handle;
  store_listener fn;
  void *arg;
};

struct store {
  const struct backend *be;
  struct store_options opt;
  char *path;
  pthread_mutex_t lock;         /* guards idle, state, listeners, last_ct */
  pthread_mutex_t write_lock;   /* one write transaction at a time here */
  void **idle;
  size_t nidle, capidle;
  struct sstate *state;
  struct listener *listeners;
  size_t nlisteners;
  int next_handle;
  double last_ct;
  /* background checkpoints (opt.background_checkpoints or bulk) */
  pthread_t checkpointer;
  int checkpointing;            /* the thread runs */
  atomic_long wal_frames;       /* pages in the log after the last commit here */
  int stopping;                 /* guarded by lock: the thread should end */
  pthread_cond_t stop;
  /* group commit (opt.group_commit, store_group.c): writers queue their
   * work; one of them, the leader, runs the queue in one transaction */
  pthread_mutex_t group_lock;
  struct group_job *queue, *queue_tail;
  size_t queued;
  int leading;                  /* a leader is running a group */
  atomic_long commits, grouped; /* write commits; writes that shared one */
  void (*on_jobs)(void *arg);   /* store_on_jobs; guarded by lock */
  void *on_jobs_arg;
};

struct store_tx {
  struct store *s;
  void *c;
  int write;
  int failed;                   /* a write went half-way: commit must refuse */
  int origin;                   /* enum store_origin of the changes it records */
  int jobs_added;               /* store_on_jobs runs after the commit */
  struct sstate *state;
  struct store_change *changes;
  size_t nchanges, capchanges;
};

void state_unref(struct sstate *st);
/* A backend connection of the store's (an idle one or a new one), and back. */
int store_conn_get(struct store *s, void **c, struct err *err);
void store_conn_put(struct store *s, void *c);
/* store_run of a write, grouped with other threads' writes (store_group.c). */
int group_run(struct store *s, store_fn fn, void *arg, struct err *err);

const struct stable *state_table(const struct sstate *st, const char *name);
const struct stable *state_table_number(const struct sstate *st, uint32_t number);
double store_next_creation_time(struct store *s);
int tx_record_change(struct store_tx *tx, const struct stable *t, const char *id, int kind,
                     struct err *err);
/* Tells every process that the catalog or the schema changed: the next
 * transaction anywhere reloads the state. */
int tx_bump_epoch(struct store_tx *tx, struct err *err);

/* --- indexes (store_index.c) --- */

/* The fields of ix as the JSON text the catalog keeps (one_free). */
char *index_fields_text(const struct index_def *ix);
/* An index definition from the catalog's name and fields text (NULL when
 * out of memory or the text is not an array of strings); index_def_free. */
struct index_def *index_def_parse(const char *name, const char *fields);
void index_def_free(struct index_def *def);
/* The building marks in *out (a new object, empty when none), read on c. */
int index_building_load(struct store *s, void *c, json_t **out, struct err *err);
/* Whether index ix is being built, by the marks. */
int index_is_building(const json_t *marks, int64_t ix);
/* Brings the catalog in line with sc inside a schema change: by_creation_time
 * for every table, drops the indexes sc lacks, adds and fills the ones it
 * has, and finishes the builds begun for it (store_indexes_prepare). */
int tx_sync_indexes(struct store_tx *tx, const struct schema *sc, struct err *err);

/* Moves the index entries of a document of t from old to doc, for every
 * index of t: old NULL inserts doc's entries, doc NULL deletes old's, and
 * an entry whose key is the same in both is left alone. changed (may be
 * NULL) holds the top-level fields an update set: an index holding none of
 * them is not even looked at. */
int tx_index_doc(struct store_tx *tx, const struct stable *t, const json_t *old,
                 const json_t *doc, const json_t *changed, struct err *err);
/* The same for the search spaces of t's table (store_search.c): a
 * document's search row follows it (old NULL: inserted; doc NULL: deleted).
 * tx_search_touched: whether a patch of changed moves any search row. */
int tx_search_doc(struct store_tx *tx, const struct stable *t, const json_t *old,
                  const json_t *doc, const json_t *changed, struct err *err);
int tx_search_touched(const struct store_tx *tx, const struct stable *t, const json_t *changed);
/* At open: a space the database meets for the first time is filled at once
 * when its table is empty, else left for store_search_fill. */
int search_on_open(struct store *s, struct err *err);

#endif
