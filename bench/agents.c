/* bench/agents: N concurrent agent runs of ONE against a fake model server
 * (fake_llm, scripted by scripts/bench_agents.sh to answer each call after
 * a delay: a tool call first, then a reply, so two model steps a run).
 *
 * Set-up (not measured): a database at the ONE schema on a temporary
 * folder, opened as `one serve` opens it (group commit, background
 * checkpoints, synchronous=FULL), the seeded team, N conversations of one
 * user with Sage, and in each a message that mentions Sage. Measured: from
 * the scheduler's start until every run has replied: wall time, this
 * process's CPU time (user + system: ONE's own work, since waiting on the
 * model costs none), model steps (inferenceUsage rows), and the peak
 * resident memory (VmHWM). Prints one JSON line. */
#include "agents/runtime.h"
#include "agents/seed.h"
#include "domain/conversations.h"
#include "domain/dq.h"
#include "util/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long peak_kb(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0)
      kb = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

static void die(const char *what, const struct err *err)
{
  fprintf(stderr, "bench_agents: %s: %s\n", what, err->msg);
  exit(1);
}

static int set_schema(struct store_tx *tx, void *arg, struct err *err)
{
  (void)arg;
  struct schema *sc = NULL;
  int rc = schema_load("one", &sc, err);
  if (!rc)
    rc = store_set_schema(tx, "one", sc, err);
  schema_free(sc);
  return rc;
}

static int add_user(struct store_tx *tx, void *arg, struct err *err)
{
  json_t *u = json_pack("{s:s,s:s,s:f}", "name", "Alice", "email", "alice@example.com",
                        "createdAt", 1.0);
  int rc = store_insert(tx, "users", u, 0, arg, err);
  json_decref(u);
  return rc;
}

static int find_sage(struct store_tx *tx, void *arg, struct err *err)
{
  json_t *a = NULL;
  int rc = dq_first_str(tx, "agents", "by_name", "Sage", &a, err);
  if (!rc && a)
    snprintf(arg, CID_MAX, "%s", dq_str(a, "_id"));
  json_decref(a);
  return rc;
}

static int counts(struct store_tx *tx, void *arg, struct err *err)
{
  int64_t *c = arg;
  int rc = store_job_counts(tx, c, NULL, err);
  if (!rc)
    rc = store_count(tx, "inferenceUsage", &c[STORE_JOB_STATES], err);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: bench_agents MODEL_BASE_URL RUNS\n");
    return 2;
  }
  mem_init();
  const char *base = argv[1];
  long n = strtol(argv[2], NULL, 10);
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  char dir[] = "/tmp/one-bench-agents-XXXXXX", path[128];
  if (!mkdtemp(dir))
    return 1;
  snprintf(path, sizeof path, "%s/one.db", dir);
  struct err err = ERR_INIT;
  struct store *st = NULL;
  struct store_options o = {.path = path, .sync = STORE_SYNC_FULL, .group_commit = 1,
                            .background_checkpoints = 1};
  if (store_open(&o, &st, &err) || store_run(st, STORE_WRITE, set_schema, NULL, &err))
    die("open", &err);
  struct seed_report seeded;
  struct actor alice = {{0}, 0};
  char sage[CID_MAX] = "";
  if (seed_run(st, &seeded, &err) || store_run(st, STORE_WRITE, add_user, alice.user, &err) ||
      store_run(st, STORE_READ, find_sage, sage, &err))
    die("seed", &err);
  for (long i = 0; i < n; i++) {
    char body[200], msg[200];
    snprintf(body, sizeof body, "{\"title\":\"c%ld\",\"agents\":[\"%s\"]}", i, sage);
    json_error_t je;
    json_t *in = json_loads(body, 0, &je);
    struct op op;
    memset(&op, 0, sizeof op);
    op.who = &alice;
    op.in = in;
    if (conversations_create(st, &op, &err))
      die("conversation", &err);
    char conv[CID_MAX];
    snprintf(conv, sizeof conv, "%s", dq_str(op.out, "_id"));
    json_decref(op.out);
    json_decref(in);
    snprintf(msg, sizeof msg, "@[Sage](agent:%s) question %ld: what were my customers' pains?",
             sage, i);
    in = json_pack("{s:s}", "content", msg);
    memset(&op, 0, sizeof op);
    op.who = &alice;
    op.id = conv;
    op.in = in;
    if (messages_send(st, &op, &err))
      die("message", &err);
    one_free(op.text);
    json_decref(in);
  }

  struct sched *sc = NULL;
  struct runtime *rt = NULL;
  struct sched_options so = {.workers = (unsigned)(getenv("W") ? atoi(getenv("W")) : 2), .max_running = (unsigned)(n + 16)};
  struct llm_config cfg = {0};
  cfg.base_url = base;
  cfg.model = "fake-model";
  struct runtime_limits lim;
  runtime_limits_from_env(&lim);
  lim.runs_per_minute = 64;
  if (sched_new(st, &so, &sc, &err) || runtime_new(st, sc, &cfg, &lim, &rt, &err))
    die("runtime", &err);
  if (getenv("BENCH_PAUSE_S")) { /* time to attach a profiler to the measured part */
    fprintf(stderr, "bench_agents: set up, pid %ld\n", (long)getpid());
    sleep((unsigned)atoi(getenv("BENCH_PAUSE_S")));
  }
  double t0 = now(), c0 = cpu_s();
  if (sched_start(sc, &err))
    die("start", &err);
  int64_t c[STORE_JOB_STATES + 1];
  for (;;) {
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    if (store_run(st, STORE_READ, counts, c, &err))
      die("counts", &err);
    if (c[STORE_JOB_DONE] + c[STORE_JOB_FAILED] >= n && !c[STORE_JOB_PENDING] &&
        !c[STORE_JOB_RUNNING])
      break;
  }
  double wall = now() - t0, cpu = cpu_s() - c0;
  long peak = peak_kb();
  int64_t steps = c[STORE_JOB_STATES];
  printf("{\"peer\":\"one\",\"runs\":%ld,\"failed\":%lld,\"steps\":%lld,\"wall_s\":%.3f,"
         "\"cpu_s\":%.3f,\"overhead_ms_per_step\":%.4f,\"runs_per_s\":%.1f,\"peak_rss_mb\":%.1f}\n",
         n, (long long)c[STORE_JOB_FAILED], (long long)steps, wall, cpu,
         steps ? cpu * 1e3 / (double)steps : 0, (double)n / wall, (double)peak / 1024.0);
  sched_stop(sc, 5000);
  runtime_free(rt);
  sched_free(sc);
  store_close(st);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench_agents: could not remove %s\n", dir);
  return c[STORE_JOB_FAILED] ? 1 : 0;
}
