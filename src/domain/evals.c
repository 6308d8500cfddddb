/* evals: queueing an eval's run and scoring its output (evals.h). */
#include "domain/evals.h"

#include "domain/agents.h"
#include "domain/dq.h"
#include "util/clock.h"
#include "util/mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s lowercased, runs of space made one, space and end punctuation trimmed
 * (one_free). */
static char *normal(const char *s)
{
  size_t n = strlen(s);
  char *out = one_malloc(n + 1);
  if (!out)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isspace(c)) {
      if (k && out[k - 1] != ' ')
        out[k++] = ' ';
    } else {
      out[k++] = (char)tolower(c);
    }
  }
  while (k && (out[k - 1] == ' ' || strchr(".!?,;:", out[k - 1])))
    k--;
  out[k] = '\0';
  return out;
}

/* The words of s (runs of letters, digits and bytes past ASCII),
 * lowercased, as a JSON array. */
static json_t *words(const char *s)
{
  json_t *out = json_array();
  char w[256];
  size_t k = 0;
  for (const char *p = s;; p++) {
    unsigned char c = (unsigned char)*p;
    if (c && (isalnum(c) || c >= 0x80)) {
      if (k < sizeof w - 1)
        w[k++] = (char)tolower(c);
      continue;
    }
    if (k) {
      w[k] = '\0';
      json_t *v = json_string(w);
      json_array_append_new(out, v ? v : json_string("?"));
      k = 0;
    }
    if (!c)
      break;
  }
  return out;
}

/* The F1 of the two texts' words (as multisets). */
static double word_f1(const char *a, const char *b)
{
  json_t *x = words(a), *y = words(b);
  size_t nx = json_array_size(x), ny = json_array_size(y), common = 0;
  char *used = one_calloc(ny ? ny : 1, 1);
  for (size_t i = 0; used && i < nx; i++)
    for (size_t j = 0; j < ny; j++)
      if (!used[j] && strcmp(json_string_value(json_array_get(x, i)),
                             json_string_value(json_array_get(y, j))) == 0) {
        used[j] = 1;
        common++;
        break;
      }
  one_free(used);
  json_decref(x);
  json_decref(y);
  if (!common)
    return nx == 0 && ny == 0 ? 1.0 : 0.0;
  double p = (double)common / (double)ny, r = (double)common / (double)nx;
  return 2 * p * r / (p + r);
}

static int same_text(const char *a, const char *b)
{
  char *x = normal(a), *y = normal(b);
  int same = x && y && strcmp(x, y) == 0;
  one_free(x);
  one_free(y);
  return same;
}

/* Whether needle is in hay, letter case aside. */
static int contains(const char *hay, const char *needle)
{
  char *h = normal(hay), *n = normal(needle);
  int yes = h && n && strstr(h, n) != NULL;
  one_free(h);
  one_free(n);
  return yes;
}

double evals_score(const json_t *expected, const char *actual)
{
  if (!expected)
    return -1;
  actual = actual ? actual : "";
  if (json_is_string(expected)) {
    const char *e = json_string_value(expected);
    return same_text(e, actual) ? 1.0 : word_f1(e, actual);
  }
  const json_t *phrases = json_object_get(expected, "contains");
  const json_t *equals = json_object_get(expected, "equals");
  if (json_is_array(phrases) && json_object_size(expected) == 1) {
    size_t n = json_array_size(phrases), found = 0;
    for (size_t i = 0; i < n; i++)
      found += json_is_string(json_array_get(phrases, i)) &&
               contains(actual, json_string_value(json_array_get(phrases, i)));
    return n ? (double)found / (double)n : 1.0;
  }
  if (json_is_string(equals) && json_object_size(expected) == 1)
    return same_text(json_string_value(equals), actual) ? 1.0 : 0.0;
  json_error_t je;
  json_t *got = json_loads(actual, JSON_DECODE_ANY, &je);
  double score = got && json_equal(got, expected) ? 1.0 : 0.0;
  json_decref(got);
  return score;
}

json_t *evals_messages(const char *prompt, const json_t *input)
{
  json_t *out = json_pack("[{s:s,s:s}]", "role", "system", "content", prompt ? prompt : "");
  const json_t *list = json_object_get(input, "messages");
  const json_t *one = json_object_get(input, "message");
  if (out && json_is_array(list)) {
    json_array_extend(out, (json_t *)list);
  } else if (out) {
    char *text = json_is_string(input) ? NULL : json_dumps(input, JSON_COMPACT | JSON_ENCODE_ANY);
    const char *content = json_is_string(input) ? json_string_value(input)
                          : json_is_string(one)  ? json_string_value(one)
                                                 : text ? text : "";
    json_array_append_new(out, json_pack("{s:s,s:s}", "role", "user", "content", content));
    free(text);
  }
  return out;
}

static int run_tx(struct store_tx *tx, void *arg, struct err *err)
{
  struct op *op = arg;
  static const char *const none[] = {NULL};
  json_t *eval = NULL, *agent = NULL;
  int rc = op->in ? op_only_fields(op->in, "evals", none, err) : 0;
  if (!rc)
    rc = dq_get(tx, "evals", op->id, "eval", &eval, err);
  if (!rc && !op->who->admin && strcmp(dq_str(eval, "userId"), op->who->user) != 0)
    rc = err_set(err, E_NOTFOUND, "no eval %s", op->id);
  if (!rc && !json_object_get(eval, "agentId"))
    rc = err_set(err, E_INVALID, "the eval names no agent to run against (agentId)");
  if (!rc && dq_get(tx, "agents", dq_str(eval, "agentId"), "agent", &agent, NULL) != 0)
    rc = err_set(err, E_INVALID, "the eval's agent %s is gone", dq_str(eval, "agentId"));
  if (!rc && !agent_usable(op->who, agent))
    rc = err_set(err, E_PERM, "the eval's agent is not one you may use");
  if (!rc && strcmp(dq_str(eval, "status"), "queued") == 0)
    rc = err_set(err, E_CONFLICT, "this eval is queued already: wait for its result");
  double now = clock_now_ms();
  if (!rc) {
    json_t *patch = json_pack("{s:s,s:f}", "status", "queued", "updatedAt", now);
    rc = patch ? store_patch(tx, op->id, patch, err) : err_set(err, E_NOMEM, "out of memory");
    json_decref(patch);
  }
  if (!rc) {
    char args[CID_MAX + 16], key[CID_MAX + 48];
    snprintf(args, sizeof args, "{\"id\":\"%s\"}", op->id);
    snprintf(key, sizeof key, "eval:%s:%.0f", op->id, now);
    struct store_job_new j = {EVALS_RUN_JOB, args, key, NULL, 0, 3};
    rc = store_job_add(tx, &j, NULL, NULL, err);
  }
  if (!rc)
    rc = store_get(tx, op->id, &op->out, NULL, err);
  json_decref(eval);
  json_decref(agent);
  return rc;
}

int evals_run(struct store *s, struct op *op, struct err *err)
{
  return store_run(s, STORE_WRITE, run_tx, op, err);
}
