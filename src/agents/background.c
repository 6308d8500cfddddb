/* background: see background.h. One migration thread at most: the jobs
 * share the lane "migrate", so the scheduler hands over one at a time. */
#include "agents/background.h"
#include "domain/admin.h"
#include "migrate/chain.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct background {
  struct store *s;
  char db_path[4096];
  atomic_int stopping;
  pthread_mutex_t lock;
  pthread_t thread;
  int running;              /* a thread to join (guarded by lock) */
};

struct task {
  struct background *b;
  struct sched_run *run;
  char action[16], to[128];
};

static int should_stop(void *arg)
{
  struct background *b = arg;
  return atomic_load(&b->stopping);
}

static void *migrate_thread(void *arg)
{
  struct task *t = arg;
  struct background *b = t->b;
  /* this thread only: the requests go first */
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10);
  struct migrate_opts o;
  memset(&o, 0, sizeof o);
  o.db_path = b->db_path;
  o.stop = should_stop;
  o.arg = b;
  struct err err = ERR_INIT;
  const char *to = t->to[0] ? t->to : NULL;
  int rc;
  json_t *report = NULL;
  if (strcmp(t->action, "up") == 0)
    rc = migrate_up(b->s, to, &o, &err);
  else if (strcmp(t->action, "down") == 0)
    rc = migrate_down(b->s, to, &o, &err);
  else if (strcmp(t->action, "contract") == 0)
    rc = migrate_contract(b->s, 1, &o, &err);
  else
    rc = migrate_verify(b->s, &report, &err);
  json_decref(report);
  json_t *f = json_pack("{s:s,s:s}", "action", t->action, "result",
                        rc ? err.msg : "done");
  log_json(rc ? LOG_WARN : LOG_INFO, NULL, "background migration ended", f);
  json_decref(f);
  if (!rc)
    sched_done(t->run, NULL, NULL, &err);
  else if (rc == E_STOPPED)
    sched_retry(t->run, err.msg, (int64_t)clock_now_ms()); /* on at the next start */
  else
    sched_fail(t->run, err.msg);
  err_clear(&err);
  one_free(t);
  return NULL;
}

static void migration_job(void *arg, struct sched_run *run)
{
  struct background *b = arg;
  struct task *t = one_calloc(1, sizeof *t);
  json_error_t je;
  json_t *args = json_loads(sched_job(run)->args, 0, &je);
  const char *action = json_string_value(json_object_get(args, "action"));
  const char *to = json_string_value(json_object_get(args, "to"));
  if (!t || !action) {
    json_decref(args);
    one_free(t);
    sched_fail(run, "a migration job names its action (up, down, verify, contract)");
    return;
  }
  t->b = b;
  t->run = run;
  snprintf(t->action, sizeof t->action, "%s", action);
  snprintf(t->to, sizeof t->to, "%s", to ? to : "");
  json_decref(args);
  pthread_mutex_lock(&b->lock);
  if (b->running) { /* the previous thread has ended its job: reap it */
    pthread_join(b->thread, NULL);
    b->running = 0;
  }
  int ok = !atomic_load(&b->stopping) && pthread_create(&b->thread, NULL, migrate_thread, t) == 0;
  b->running = ok;
  pthread_mutex_unlock(&b->lock);
  if (!ok) {
    one_free(t);
    sched_retry(run, "the server is stopping", 0);
  }
}

int background_new(struct store *s, struct sched *sc, const char *db_path,
                   struct background **out, struct err *err)
{
  struct background *b = one_calloc(1, sizeof *b);
  if (!b)
    return err_set(err, E_NOMEM, "out of memory");
  b->s = s;
  snprintf(b->db_path, sizeof b->db_path, "%s", db_path ? db_path : "one.db");
  pthread_mutex_init(&b->lock, NULL);
  int rc = sched_on(sc, ADMIN_MIGRATION_JOB, migration_job, b, err);
  if (rc) {
    pthread_mutex_destroy(&b->lock);
    one_free(b);
    return rc;
  }
  *out = b;
  return 0;
}

void background_free(struct background *b)
{
  if (!b)
    return;
  atomic_store(&b->stopping, 1);
  pthread_mutex_lock(&b->lock);
  if (b->running)
    pthread_join(b->thread, NULL);
  b->running = 0;
  pthread_mutex_unlock(&b->lock);
  pthread_mutex_destroy(&b->lock);
  one_free(b);
}
