/* store: ONE's document store with Convex semantics, backend-neutral.
 *
 * Documents are Convex values (util/jv.h encoding) in tables, each with
 * `_id` (a Convex id carrying its table number) and `_creationTime`. Every
 * write is validated against the schema in force, which is stored in the
 * database with the name of its version. Indexes come from the schema and
 * always end with _creationTime (then _id); every table also has the index
 * "by_creation_time". Queries run on one index: equality on a prefix of its
 * fields, then an optional lower and upper bound on the next field, in
 * either order, paged with opaque cursors that stay stable while documents
 * are inserted.
 *
 * Transactions: all writes of a transaction commit together or not at all.
 * One write transaction runs at a time (others wait; SQLITE_BUSY never
 * reaches a caller), read transactions run concurrently on a snapshot. A
 * transaction belongs to the thread that began it; the store itself may be
 * used from any number of threads.
 *
 * Change feed: each committed write appends (seq, table, id, kind) to a
 * durable log; in-process listeners are called after each commit with that
 * commit's changes, in commit order, from the committing thread.
 *
 * Ownership: json_t * results are new references; arguments are borrowed.
 * Strings returned through char ** are freed with one_free. */
#ifndef ONE_STORE_STORE_H
#define ONE_STORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "schema/schema.h"
#include "util/cid.h"
#include "util/err.h"

struct store;
struct store_tx;
struct store_search_space;

enum store_sync { STORE_SYNC_FULL = 0, STORE_SYNC_NORMAL, STORE_SYNC_OFF };

struct store_options {
  const char *path;        /* the database file (SQLite backend) */
  enum store_sync sync;    /* durability; FULL by default */
  int must_exist;          /* fail with E_NOTFOUND instead of creating the file */
  size_t changes_kept;     /* changes the log keeps at least (0: 100,000) */
  int background_checkpoints; /* a server's: commits never copy the log into the
                               * database (a request would wait for it); a
                               * thread of the store does, once it holds
                               * 1,000 pages */
  int group_commit;        /* a server's: the writes of concurrent store_run
                            * calls share one transaction and one sync of
                            * the log (each still all or nothing) */
  int bulk;                /* a bulk writer's (a migration's): commits never
                            * copy the log into the database; a thread of the
                            * store does, from 64 MiB, and starts the log over
                            * at 256 MiB (a page many batches write is copied
                            * once, on the other core); the file is read
                            * through a memory map */
  const struct store_search_space *search; /* kept in step by every write (may be NULL;
                                            * ends with a NULL name; borrowed) */
};

/* Opens (creating when allowed) the database. */
int store_open(const struct store_options *opt, struct store **out, struct err *err);
void store_close(struct store *s);                 /* accepts NULL */

/* --- transactions --- */
/* STORE_WRITE_LAZY: a write transaction whose commit is atomic but not
 * synced to disk. A power failure may lose it, with the lazy commits just
 * before it, never half of one; the next synced commit of any connection
 * makes it durable too. For work that is resumed from its own checkpoint,
 * such as a migration's batches. */
enum store_mode { STORE_READ = 0, STORE_WRITE = 1, STORE_WRITE_LAZY = 2 };

int store_begin(struct store *s, enum store_mode mode, struct store_tx **out, struct err *err);
/* Commits and frees tx. On failure nothing was written and tx is freed. */
int store_commit(struct store_tx *tx, struct err *err);
/* Abandons every write of tx and frees it. Accepts NULL. */
void store_rollback(struct store_tx *tx);

/* Runs fn in a transaction: commits when fn returns 0, rolls back otherwise
 * and returns fn's code.
 *
 * With opt.group_commit a STORE_WRITE may run on another thread, in one
 * transaction with the writes other threads queued meanwhile, each inside
 * a savepoint of its own: fn returning an error takes back its writes
 * only. store_run returns when the group's commit is durable. So fn must
 * not depend on the thread it runs on, nor call store_run for a write. */
typedef int (*store_fn)(struct store_tx *tx, void *arg, struct err *err);
int store_run(struct store *s, enum store_mode mode, store_fn fn, void *arg, struct err *err);

/* Runs fn inside tx (a write) within a savepoint: when fn fails its
 * writes are taken back and tx goes on as before it, so that one failing
 * part of a transaction does not fail the rest. Returns fn's code; a
 * savepoint that cannot be set or undone fails tx as a whole. */
int store_try(struct store_tx *tx, store_fn fn, void *arg, struct err *err);

/* A request's reads: between store_hold_reads and store_release_reads
 * the STORE_READ store_runs of this thread share one read transaction (one
 * snapshot), begun by the first of them. A write of this thread
 * (store_run or store_begin) ends it first, so that the reads after a
 * write see it. */
void store_hold_reads(struct store *s);
void store_release_reads(struct store *s);

/* Write commits and the writes that shared a commit with others, since
 * open; and the writes waiting for a group now (group commit only). */
struct store_stats {
  long commits, grouped;
  size_t waiting;
};
void store_stats(struct store *s, struct store_stats *out);

/* --- schema in force --- */

/* The name of the schema version in force ("" for a new, empty database).
 * Copied into out (size n). */
void store_schema_name(struct store_tx *tx, char *out, size_t n);
/* The schema in force, borrowed for the life of tx; NULL when none. */
const struct schema *store_schema(struct store_tx *tx);
/* Puts schema s in force under name: numbers new tables, creates and fills
 * new indexes, drops indexes that are gone. Existing documents are not
 * revalidated (migrations do that). Write transactions only. */
int store_set_schema(struct store_tx *tx, const char *name, const struct schema *s,
                     struct err *err);
/* Records that table `name` has number `number` (1 to 2^31-1), before a
 * schema names it: an import keeps the numbers its ids carry. E_CONFLICT
 * when the name or the number is taken by another table; nothing to do when
 * this exact pair exists. Write transactions only. */
int store_add_table(struct store_tx *tx, const char *name, uint32_t number, struct err *err);
/* The number of table name, or 0 when tx knows no such table. */
uint32_t store_table_number(struct store_tx *tx, const char *name);
/* The id resolver of the tables known to tx (for validation outside). */
struct id_resolver store_id_resolver(struct store_tx *tx);

/* --- documents --- */

enum {
  STORE_KEEP_SYSTEM = 1,   /* insert: keep the given _id and _creationTime (import) */
  STORE_UNTYPED = 2,       /* with KEEP_SYSTEM: a table known by number but not in the
                              schema takes any values (an imported table ONE does not
                              know, kept as it is) */
};

/* Inserts fields (an object without system fields) into table; writes the
 * new id into id_out when not NULL. */
int store_insert(struct store_tx *tx, const char *table, const json_t *fields, int flags,
                 char id_out[CID_MAX], struct err *err);
/* The document with id into *doc (new reference), E_NOTFOUND when none.
 * table_out (when not NULL, 65 bytes) receives its table name. */
int store_get(struct store_tx *tx, const char *id, json_t **doc, char *table_out,
              struct err *err);
/* The document's stored JSON text (in-memory encoding, see util/jv.h) into
 * *text (one_free) without parsing it: for read paths that forward JSON.
 * E_NOTFOUND when none. */
int store_get_text(struct store_tx *tx, const char *id, char **text, size_t *len,
                   char *table_out, struct err *err);
/* Shallow merge of patch into the document; a field whose value is
 * store_undefined() is removed. */
int store_patch(struct store_tx *tx, const char *id, const json_t *patch, struct err *err);
/* store_patch of old, a document as this transaction read it (from a page
 * or store_get, not changed since): it is not read again. */
int store_patch_doc(struct store_tx *tx, const json_t *old, const json_t *patch, struct err *err);
/* store_patch of the document id whose stored text, as this transaction
 * read it, is old[0..len): when every field the patch sets can be checked
 * alone against the schema in force, the new text is the old one with those
 * fields spliced in, byte for byte what the whole-document path writes,
 * without parsing or printing the rest (the document was valid, and an
 * object's fields are checked one by one); an index that holds a patched
 * field is kept from the few fields it reads. Otherwise the whole-document
 * path. patch_text: jv_dumps(patch) when the caller has it (NULL: printed
 * here), so that each value is printed once. */
int store_patch_text(struct store_tx *tx, const char *id, const char *old, size_t len,
                     const json_t *patch, const char *patch_text, struct err *err);
/* Replaces every field but _id and _creationTime. */
int store_replace(struct store_tx *tx, const char *id, const json_t *fields, struct err *err);
int store_delete(struct store_tx *tx, const char *id, struct err *err);

/* The marker that removes a field in store_patch: {"$undefined":true}
 * (a new reference), and its text as jv_dumps prints it. */
json_t *store_undefined(void);
#define STORE_UNDEFINED_TEXT "{\"$undefined\":true}"
int store_is_undefined(const json_t *v);

/* --- queries --- */
enum store_bound { STORE_NONE = 0, STORE_GT, STORE_GTE, STORE_LT, STORE_LTE };

struct store_query {
  const char *table;
  const char *index;        /* NULL means "by_creation_time" */
  const json_t *eq;         /* array: values for the first fields, or NULL */
  enum store_bound lower_op; /* STORE_NONE, STORE_GT or STORE_GTE on the next field */
  const json_t *lower;
  enum store_bound upper_op; /* STORE_NONE, STORE_LT or STORE_LTE on the next field */
  const json_t *upper;
  int desc;
  int as_text;              /* fill page.texts with the stored JSON, not page.docs */
  size_t limit;             /* 1 to STORE_MAX_PAGE */
  const char *cursor;       /* from a previous page, or NULL */
  int first_only;           /* a lookup: page.done and page.cursor are not set */
  /* With each: every document's stored text goes to each (borrowed for the
   * call; nonzero stops the query with that code) and is not kept: the
   * page has only its cursor and done. For pages forwarded as read. */
  int (*each)(void *arg, const char *text, size_t len, struct err *err);
  void *each_arg;
};

#define STORE_MAX_PAGE 1000

struct store_page {
  json_t *docs;             /* array of documents (empty when as_text) */
  char **texts;             /* as_text: each document's stored JSON text (util/jv.h) */
  size_t *lens;
  size_t ntexts;
  char *cursor;             /* continue from here (NULL when nothing was returned) */
  int done;                 /* no more documents after this page */
};

int store_query(struct store_tx *tx, const struct store_query *q, struct store_page *page,
                struct err *err);
void store_page_release(struct store_page *p);

/* A page of up to limit (1 to STORE_MAX_PAGE) documents of table in id
 * order, the order they are stored in and so the cheapest walk of a whole
 * table, after the document with id `after` (NULL: from the first). The
 * page's cursor is the last id it returned. The order means nothing to a
 * user: for whole-table work (migrations, verification, export), not for
 * request paths, which query an index. */
int store_scan(struct store_tx *tx, const char *table, const char *after, size_t limit,
               int as_text, struct store_page *page, struct err *err);

/* Calls fn for every document of table in id order (store_scan), a page at a
 * time, within tx: with the document (as_text 0) or its stored JSON text
 * (as_text 1; doc is NULL). fn returns nonzero to stop with that code. */
typedef int (*store_each_fn)(void *arg, const json_t *doc, const char *text, size_t len,
                             struct err *err);
int store_each(struct store_tx *tx, const char *table, int as_text, store_each_fn fn, void *arg,
               struct err *err);

/* --- index builds ahead of a schema change ---
 * store_set_schema fills the new indexes of the schema it puts in force in
 * its one transaction, holding the write lock as long. To keep every
 * transaction short, build them first (store/store_index.c):
 *   store_indexes_prepare  adds every index sc declares that the database
 *                          lacks (on the tables it has) as "building": from
 *                          that commit on, every write of every process keeps
 *                          it up to date; *indexes and *documents (either may
 *                          be NULL) receive how many and how many documents
 *                          their tables hold;
 *   store_indexes_fill     fills building indexes from their tables, up to
 *                          limit (1 to STORE_MAX_PAGE) documents, in one lazy
 *                          write transaction; adds the documents filled to
 *                          *done (may be NULL); *more is 0 once all are full;
 *   store_set_schema(sc)   then finds them built and only switches (what a
 *                          fill left undone it completes itself).
 * A building index cannot be queried. Putting in force a schema without it
 * drops it. */
int store_indexes_prepare(struct store *s, const struct schema *sc, size_t *indexes,
                          size_t *documents, struct err *err);
int store_indexes_fill(struct store *s, size_t limit, int *more, size_t *done, struct err *err);

/* Document count of a table (walks its by_creation_time index). */
int store_count(struct store_tx *tx, const char *table, int64_t *count, struct err *err);

/* Names and numbers of every table the database knows (also tables that are
 * no longer in the schema), as a new array of {"name","number"}. */
json_t *store_tables(struct store_tx *tx);

/* --- application metadata and journals ---
 * What migrations keep beside the documents, in the same database (so a
 * backup holds it and a batch commits its checkpoint with its writes).
 * Keys and streams are the caller's; the store's own metadata is apart. */

/* The value of key (one_free) or E_NOTFOUND. */
int store_meta_get(struct store_tx *tx, const char *key, char **value, struct err *err);
/* Sets key; a NULL value deletes it. Write transactions only. */
int store_meta_set(struct store_tx *tx, const char *key, const char *value, struct err *err);
/* Every key starting with prefix, in key order; fn returns nonzero to stop. */
typedef int (*store_meta_fn)(void *arg, const char *key, const char *value);
int store_meta_list(struct store_tx *tx, const char *prefix, store_meta_fn fn, void *arg,
                    struct err *err);
/* Appends body to stream; *seq (when not NULL) receives its place. */
int store_journal_add(struct store_tx *tx, const char *stream, const char *body, int64_t *seq,
                      struct err *err);
/* The entries of stream, oldest first (desc: newest first). */
typedef int (*store_journal_fn)(void *arg, int64_t seq, const char *body);
int store_journal_scan(struct store_tx *tx, const char *stream, int desc, store_journal_fn fn,
                       void *arg, struct err *err);
int store_journal_drop(struct store_tx *tx, const char *stream, struct err *err);

/* An online backup of the whole database into path (a new file), while
 * other transactions go on: SQLite's backup API (store_backup.c). */
int store_backup(struct store *s, const char *path, struct err *err);

/* The same copy made on a thread of its own: store_backup_start returns
 * once the database the copy will hold is fixed (what was committed then),
 * so that writes may go on beside the copy without being in it.
 * store_backup_copying says whether it still runs; store_backup_wait waits
 * for it to end and says how it went (again on every call);
 * store_backup_finish does the same and frees b. Each accepts NULL. */
struct store_backup;
int store_backup_start(struct store *s, const char *path, struct store_backup **b,
                       struct err *err);
int store_backup_copying(struct store_backup *b);
int store_backup_wait(struct store_backup *b, struct err *err);
int store_backup_finish(struct store_backup *b, struct err *err);
/* Tests: copies started from now on wait ms, their snapshot held, before
 * they copy, so that what runs beside them surely writes while they do. */
void store_backup_test_delay(unsigned ms);

/* --- jobs: a durable queue (store_jobs.c) ---
 * Jobs live beside the documents, in no schema, so that the scheduler works
 * at every schema version, during a migration too. A job is due from run_at
 * (ms since the epoch). store_job_claim hands the earliest due job to one
 * owner under a lease: its state becomes RUNNING and its run_at the lease's
 * end, so a job whose owner died is due again when the lease ends. Only the
 * owner of the current lease may save progress, renew, or finish a job, so
 * a job finishes once whatever the crashes: a finish that lost its lease
 * fails with E_CONFLICT, and the caller's transaction with it. Jobs of one
 * lane run one at a time, in the order they were added. A key makes adding
 * idempotent: a second job with the key of an existing one is not added.
 *
 *   PENDING --claim--> RUNNING --finish DONE--> DONE
 *      ^                  |  \--finish FAILED--> FAILED
 *      +--finish PENDING--+   (a retry, at the run_at given)
 *   PENDING or RUNNING --cancel--> CANCELLED
 *
 * Strings in struct store_job are owned by it (store_job_release). */
enum store_job_state {
  STORE_JOB_PENDING = 0,
  STORE_JOB_RUNNING = 1,
  STORE_JOB_DONE = 2,
  STORE_JOB_FAILED = 3,
  STORE_JOB_CANCELLED = 4,
};
#define STORE_JOB_STATES 5
#define STORE_JOB_KIND_MAX 64
#define STORE_JOB_KEY_MAX 256
#define STORE_JOB_ARGS_MAX (1 << 20)

struct store_job {
  int64_t id;
  char kind[STORE_JOB_KIND_MAX];
  char *key, *lane;         /* NULL when none */
  char *args;               /* JSON text, never NULL once read */
  char *saved;              /* the progress its runs saved, NULL when none */
  char *error;              /* the last attempt's error, NULL when none */
  char *owner;              /* the lease's owner while RUNNING */
  enum store_job_state state;
  int64_t run_at;           /* PENDING: when due; RUNNING: when the lease ends */
  int64_t created_at, finished_at; /* finished_at 0 until DONE, FAILED or CANCELLED */
  int attempts, max_attempts;
};

struct store_job_new {
  const char *kind;         /* 1 to STORE_JOB_KIND_MAX-1 characters */
  const char *args;         /* a JSON object's text, NULL for {} */
  const char *key;          /* NULL: none */
  const char *lane;         /* NULL: none */
  int64_t run_at;           /* 0: now */
  int max_attempts;         /* 0: 5 */
};

const char *store_job_state_name(enum store_job_state state);
/* Adds a job; *id (may be NULL) receives its id, or the id of the job that
 * already has its key, and *added (may be NULL) whether it was added. */
int store_job_add(struct store_tx *tx, const struct store_job_new *j, int64_t *id, int *added,
                  struct err *err);
/* The earliest due job (run_at <= now, its lane free) into *out, now
 * RUNNING under owner until lease_until: E_NOTFOUND when none is due. A job
 * claimed max_attempts times already (its runs died) becomes FAILED instead
 * and the next is looked at. */
int store_job_claim(struct store_tx *tx, int64_t now, int64_t lease_until, const char *owner,
                    struct store_job *out, struct err *err);
/* Moves the lease's end (E_CONFLICT when owner no longer holds it). */
int store_job_renew(struct store_tx *tx, int64_t id, const char *owner, int64_t lease_until,
                    struct err *err);
/* Keeps saved (text) as the job's progress, for its next attempt. */
int store_job_save(struct store_tx *tx, int64_t id, const char *owner, const char *saved,
                   struct err *err);
/* Ends owner's attempt: state DONE or FAILED (at now: its saved progress
 * is dropped), or PENDING again (a retry, due at run_at, keeping it);
 * error, when not NULL, becomes the last error.
 * E_CONFLICT when owner no longer holds the lease. */
int store_job_finish(struct store_tx *tx, int64_t id, const char *owner,
                     enum store_job_state state, const char *error, int64_t run_at, int64_t now,
                     struct err *err);
/* Cancels a PENDING or RUNNING job (E_NOTFOUND; E_CONFLICT when it has
 * finished). A running attempt then fails to finish. */
int store_job_cancel(struct store_tx *tx, int64_t id, int64_t now, struct err *err);
int store_job_get(struct store_tx *tx, int64_t id, struct store_job *out, struct err *err);
/* Jobs newest first with id < before (0: from the newest), of one state
 * (-1: any), at most limit; fn (its job borrowed) returns nonzero to stop. */
typedef int (*store_job_fn)(void *arg, const struct store_job *job);
int store_job_list(struct store_tx *tx, int state, int64_t before, size_t limit,
                   store_job_fn fn, void *arg, struct err *err);
/* How many jobs are in each state, and when the next PENDING or RUNNING
 * one is due (0 when none). */
int store_job_counts(struct store_tx *tx, int64_t counts[STORE_JOB_STATES], int64_t *next_due,
                     struct err *err);
/* fn(arg) runs after every commit of this process that added a job, on the
 * committing thread (a scheduler's wake-up). One per store: fn NULL removes
 * the one registered with arg. */
void store_on_jobs(struct store *s, void (*fn)(void *arg), void *arg);
/* When the next PENDING or RUNNING job is due (0 when none). */
int store_job_next_due(struct store_tx *tx, int64_t *next_due, struct err *err);
/* Deletes DONE and CANCELLED jobs that finished before `before`, at most
 * limit; *deleted (may be NULL) receives how many. */
int store_job_prune(struct store_tx *tx, int64_t before, size_t limit, size_t *deleted,
                    struct err *err);
void store_job_release(struct store_job *j);

/* --- change feed --- */
enum store_change_kind { STORE_INSERTED = 1, STORE_UPDATED = 2, STORE_DELETED = 3 };
/* Who made a change: the service (requests, the CLI's data commands) or a
 * migration step (set on its transactions with store_tx_set_origin). */
enum store_origin { STORE_ORIGIN_SERVICE = 0, STORE_ORIGIN_MIGRATION = 1 };

/* The origin recorded with every change tx makes from now on. */
void store_tx_set_origin(struct store_tx *tx, enum store_origin origin);
/* While since > 0, changes the service made after seq `since` stay in the
 * change log however long it grows (a migration's verify needs them);
 * since = 0 lets them be pruned again. Write transactions only. */
int store_changes_keep(struct store_tx *tx, int64_t since, struct err *err);

struct store_change {
  int64_t seq;
  char table[65];
  char id[CID_MAX];
  enum store_change_kind kind;
  enum store_origin origin;
};

typedef void (*store_listener)(void *arg, const struct store_change *changes, size_t n);
/* Returns a handle (> 0) for store_unsubscribe, or a negative code. */
int store_subscribe(struct store *s, store_listener fn, void *arg);
void store_unsubscribe(struct store *s, int handle);
/* Up to max changes with seq > after, oldest first, from the durable log
 * (also changes made by other processes). *out is freed with one_free. */
int store_changes_since(struct store *s, int64_t after, size_t max, struct store_change **out,
                        size_t *n, struct err *err);
/* store_changes_since and store_changes_bounds as tx sees the log: in its
 * snapshot, consistent with everything else it reads. */
int store_tx_changes_since(struct store_tx *tx, int64_t after, size_t max,
                           struct store_change **out, size_t *n, struct err *err);
int store_tx_change_bounds(struct store_tx *tx, int64_t *oldest, int64_t *newest,
                           struct err *err);
/* The schema epoch tx reads at: it changes with every schema change, so a
 * result computed at one epoch is not reused at another. */
const char *store_tx_epoch(const struct store_tx *tx);
/* The oldest and newest seq the durable log holds (0, 0 when it is empty).
 * The log keeps the most recent changes only: a reader that fell behind
 * oldest has missed some. */
int store_changes_bounds(struct store *s, int64_t *oldest, int64_t *newest, struct err *err);

/* --- search (store_search.c) ---
 * A search space is a table whose documents the store also keeps ready for
 * search, in step with every write of the table (the same transaction, as
 * with indexes): the text of one string field, for full-text search with
 * ranking (SQLite FTS5, BM25; words stemmed, "learning" finds "learn"), and
 * a vector: the document's own (its vector field, when it holds dim
 * numbers) or else the embedder's of the text. Each search is confined to
 * one value of a scope field (a knowledge owner, a conversation) or spans
 * the space. Spaces are named by the caller at open (store_options.search);
 * a database that had documents before its space was named is filled by
 * store_search_fill, and until then the space answers E_STOPPED. */
struct store_search_space {
  const char *name;    /* "knowledge" */
  const char *table;   /* the documents searched */
  const char *text;    /* the string field searched; documents without it are left out */
  const char *scope;   /* the string field a search may be confined to */
  const char *vector;  /* the field of a document's own vector, or NULL */
  size_t dim;          /* the vectors' dimension */
  void (*embed)(const char *text, size_t n, float *out); /* out[dim], length 1 */
};

struct store_hit {
  char id[CID_MAX];
  double score;        /* larger is better: BM25 (sign turned), or a cosine */
};

/* Full-text search: up to limit documents of space whose text holds any
 * word of query (ranked: the rarer the word and the more of them, the
 * better), in scope (NULL: all). *hits is freed with one_free; none is not
 * an error. A query with no word answers nothing. */
int store_search_text(struct store_tx *tx, const char *space, const char *scope,
                      const char *query, size_t limit, struct store_hit **hits, size_t *n,
                      struct err *err);
/* Calls fn for every vector of space in scope (NULL: all), in no set order;
 * fn returning non-zero stops the walk and is returned. v is borrowed for
 * the call. */
typedef int (*store_vector_fn)(void *arg, const char *id, const char *scope, const float *v,
                               size_t dim);
int store_search_vectors(struct store_tx *tx, const char *space, const char *scope,
                         store_vector_fn fn, void *arg, struct err *err);
/* The vector and scope of document id in space through fn (called once), or
 * E_NOTFOUND when the space holds none for it. */
int store_search_vector_of(struct store_tx *tx, const char *space, const char *id,
                           store_vector_fn fn, void *arg, struct err *err);
/* The space named, or NULL when the store was not opened with it. */
const struct store_search_space *store_search_space(struct store *s, const char *name);
/* Fills the unfilled spaces from their tables: up to limit documents, in
 * one write transaction; *more says whether any is left, *done adds the
 * documents filled. Resumes where the last call stopped (even in another
 * process). */
int store_search_fill(struct store *s, size_t limit, int *more, size_t *done, struct err *err);

#endif
