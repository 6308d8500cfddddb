/* evals: the eval runner, the handler of EVALS_RUN_JOB (domain/evals.h).
 *
 * It reads the eval and its agent, asks the model once with the agent's
 * prompt and the eval's input (no tools: an eval measures what the agent
 * says), then records in one transaction with the job's end the output,
 * its score, the status ("done", or "failed" with the error) and the
 * call's inferenceUsage row (meta.eval names the eval). The model call
 * holds no thread while it waits. */
#include "agents/llm.h"
#include "agents/runtime_int.h"
#include "domain/dq.h"
#include "domain/evals.h"
#include "util/clock.h"
#include "util/mem.h"

#include <stdio.h>
#include <string.h>

struct evalrun {
  struct runtime *rt;
  struct sched_run *job;
  char id[CID_MAX], agent[CID_MAX], user[CID_MAX], model[128];
  json_t *messages, *expected;
  struct llm_result *res;
  char error[700];          /* when the run failed before or at the model */
};

static void evalrun_free(struct evalrun *e)
{
  json_decref(e->messages);
  json_decref(e->expected);
  llm_result_free(e->res);
  one_free(e);
}

static int read_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct evalrun *e = arg;
  json_t *eval = NULL, *agent = NULL;
  int rc = dq_get(tx, "evals", e->id, "eval", &eval, err);
  if (!rc && dq_get(tx, "agents", dq_str(eval, "agentId"), "agent", &agent, NULL) != 0)
    snprintf(e->error, sizeof e->error, "the eval's agent %s is gone", dq_str(eval, "agentId"));
  if (!rc && agent) {
    snprintf(e->agent, sizeof e->agent, "%s", dq_str(agent, "_id"));
    snprintf(e->user, sizeof e->user, "%s", dq_str(eval, "userId"));
    const char *model = dq_str(eval, "model")[0] ? dq_str(eval, "model") : dq_str(agent, "model");
    snprintf(e->model, sizeof e->model, "%s", model);
    e->messages = evals_messages(dq_str(agent, "prompt"), json_object_get(eval, "input"));
    e->expected = json_incref(json_object_get(eval, "expectedOutput"));
    if (!e->messages)
      rc = err_set(err, E_NOMEM, "out of memory");
  }
  json_decref(eval);
  json_decref(agent);
  return rc;
}

/* The outcome and the call's usage, with the job's end. */
static int record_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct evalrun *e = arg;
  json_t *doc = NULL;
  if (dq_get(tx, "evals", e->id, "eval", &doc, NULL) != 0)
    return 0; /* deleted meanwhile */
  json_decref(doc);
  const struct llm_result *r = e->res;
  const char *output = r && !r->code && r->content ? r->content : NULL;
  double now = clock_now_ms();
  json_t *patch = json_pack("{s:s,s:f}", "status", output || (r && !r->code) ? "done" : "failed",
                            "updatedAt", now);
  if (!patch)
    return err_set(err, E_NOMEM, "out of memory");
  if (r && !r->code) {
    json_object_set_new(patch, "actualOutput", json_string(output ? output : ""));
    double score = evals_score(e->expected, output);
    json_object_set_new(patch, "score", score >= 0 ? json_real(score) : store_undefined());
    json_object_set_new(patch, "error", store_undefined());
  } else {
    json_object_set_new(patch, "error", json_string(e->error[0] ? e->error
                                                    : r ? r->error : "the model did not answer"));
  }
  int rc = store_patch(tx, e->id, patch, err);
  json_decref(patch);
  if (!rc && r) {
    const char *model = r->model ? r->model : e->model[0] ? e->model : e->rt->model;
    json_t *use = json_pack("{s:s,s:f,s:f,s:s,s:f,s:{s:s,s:b}}", "agentId", e->agent,
                            "tokensUsed", (double)r->total_tokens, "cost",
                            runtime_cost(e->rt, model, r->prompt_tokens, r->completion_tokens),
                            "model", model, "createdAt", now, "meta", "eval", e->id, "ok",
                            r->code == 0);
    if (use && e->user[0])
      json_object_set_new(use, "userId", json_string(e->user));
    rc = use ? store_insert(tx, "inferenceUsage", use, 0, NULL, err)
             : err_set(err, E_NOMEM, "out of memory");
    json_decref(use);
  }
  return rc;
}

static void finish(struct evalrun *e)
{
  struct err err = ERR_INIT;
  sched_done(e->job, record_tx, e, &err); /* on an error it retries the job itself */
  err_clear(&err);
  evalrun_free(e);
}

static void after(void *arg, struct sched_run *job)
{
  (void)job;
  finish(arg);
}

static void on_done(void *arg, struct llm_result *res)
{
  struct evalrun *e = arg;
  e->res = res;
  sched_post(e->job, after, e); /* off the client's thread */
}

void evals_job(void *arg, struct sched_run *run)
{
  struct evalrun *e = one_calloc(1, sizeof *e);
  if (!e) {
    sched_retry(run, "out of memory", 0);
    return;
  }
  e->rt = arg;
  e->job = run;
  json_error_t je;
  json_t *a = json_loads(sched_job(run)->args, 0, &je);
  const char *id = json_string_value(json_object_get(a, "id"));
  if (!id || strlen(id) >= CID_MAX) {
    json_decref(a);
    one_free(e);
    sched_fail(run, "an eval job needs the eval's id");
    return;
  }
  snprintf(e->id, sizeof e->id, "%s", id);
  json_decref(a);
  struct err err = ERR_INIT;
  if (store_run(e->rt->s, STORE_READ, read_tx, e, &err) != 0) {
    if (err.code == E_NOTFOUND)
      sched_done(run, NULL, NULL, &err); /* the eval was deleted */
    else
      sched_retry(run, err.msg, 0);
    err_clear(&err);
    evalrun_free(e);
    return;
  }
  if (!e->error[0] && !e->rt->llm)
    snprintf(e->error, sizeof e->error, "no language model is configured: set "
             "ONE_LLM_BASE_URL and ONE_LLM_MODEL and restart one serve");
  if (!e->error[0] && llm_chat(e->rt->llm, e->model[0] ? e->model : NULL, e->messages, NULL, 0,
                               NULL, on_done, e, &err) == 0) {
    err_clear(&err);
    return; /* on_done goes on */
  }
  if (!e->error[0])
    snprintf(e->error, sizeof e->error, "could not ask the model: %s", err.msg);
  err_clear(&err);
  finish(e);
}
