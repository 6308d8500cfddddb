/* store_backup: online backups of the whole database, made in the caller's
 * thread (store_backup) or on a thread of their own that copies the
 * database as it was when it started while writes go on (store_backup_start,
 * store_backup_finish), on a connection of the store's. */
#include "store/store_int.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

struct store_backup {
  struct store *s;
  void *c;             /* the connection holding the copy's snapshot */
  char *path;
  pthread_t thread;
  atomic_int copying;
  int joined;          /* the thread was waited for */
  unsigned delay_ms;   /* tests: store_backup_test_delay when it started */
  int rc;
  struct err err;
};

int store_backup(struct store *s, const char *path, struct err *err)
{
  void *c = NULL;
  int rc = store_conn_get(s, &c, err);
  if (rc)
    return rc;
  rc = s->be->backup(c, path, err);
  store_conn_put(s, c);
  return rc;
}

static atomic_uint test_delay_ms;

void store_backup_test_delay(unsigned ms) { atomic_store(&test_delay_ms, ms); }

static void *copy(void *arg)
{
  struct store_backup *b = arg;
  unsigned delay = b->delay_ms;
  if (delay) {
    struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  b->rc = b->s->be->backup(b->c, b->path, &b->err);
  b->s->be->rollback(b->c); /* the snapshot backup_hold began */
  atomic_store(&b->copying, 0);
  return NULL;
}

int store_backup_start(struct store *s, const char *path, struct store_backup **out,
                       struct err *err)
{
  *out = NULL;
  struct store_backup *b = one_calloc(1, sizeof *b);
  if (!b || !(b->path = one_strdup(path))) {
    one_free(b);
    return err_set(err, E_NOMEM, "out of memory");
  }
  b->s = s;
  b->err = (struct err)ERR_INIT;
  b->delay_ms = atomic_load(&test_delay_ms);
  int rc = store_conn_get(s, &b->c, err);
  if (!rc && (rc = s->be->backup_hold(b->c, err)))
    store_conn_put(s, b->c);
  if (!rc) {
    atomic_store(&b->copying, 1);
    if (pthread_create(&b->thread, NULL, copy, b) != 0) {
      s->be->rollback(b->c);
      store_conn_put(s, b->c);
      rc = err_set(err, E_IO, "cannot start the backup's thread");
    }
  }
  if (rc) {
    one_free(b->path);
    one_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

int store_backup_copying(struct store_backup *b)
{
  return b && atomic_load(&b->copying);
}

int store_backup_wait(struct store_backup *b, struct err *err)
{
  if (!b)
    return 0;
  if (!b->joined) {
    pthread_join(b->thread, NULL);
    store_conn_put(b->s, b->c);
    b->joined = 1;
  }
  return b->rc ? err_set(err, b->rc, "%s", b->err.msg) : 0;
}

int store_backup_finish(struct store_backup *b, struct err *err)
{
  int rc = store_backup_wait(b, err);
  if (b) {
    err_clear(&b->err);
    one_free(b->path);
    one_free(b);
  }
  return rc;
}
