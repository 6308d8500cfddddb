/* Tests of the model client (agents/llm.c, llm_parse.c) against the fake
 * OpenAI-compatible server on loopback: plain and streamed replies, tool
 * calls joined from fragments, usage, retries on 429 (Retry-After) and 5xx,
 * a Retry-After too long to wait, timeouts, malformed answers, refusals, an
 * unreachable server, many calls on one thread, and stopping with calls in
 * flight. The parsers are also fed byte by byte. No test asserts on time. */
#include "agents/llm.h"
#include "fakellm.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

static struct fakellm *fake;

static void setup(void) { cr_assert(fake = fakellm_start(0)); }
static void teardown(void) { fakellm_stop(fake); }

TestSuite(llm, .init = setup, .fini = teardown, .timeout = 60);

/* What a call's callbacks saw. */
struct seen {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done;
  struct llm_result *res;
  char text[4096];     /* the deltas joined */
  int restarts;
};

static void on_delta(void *arg, const char *text, size_t len)
{
  struct seen *s = arg;
  pthread_mutex_lock(&s->lock);
  if (!text) {
    s->text[0] = '\0';
    s->restarts++;
  } else {
    strncat(s->text, text, len < sizeof s->text - strlen(s->text) - 1 ? len
                                                                       : sizeof s->text - strlen(s->text) - 1);
  }
  pthread_mutex_unlock(&s->lock);
}

static void on_done(void *arg, struct llm_result *r)
{
  struct seen *s = arg;
  pthread_mutex_lock(&s->lock);
  s->res = r;
  s->done++;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

static void seen_init(struct seen *s)
{
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
}

static void wait_done(struct seen *s)
{
  pthread_mutex_lock(&s->lock);
  while (!s->done)
    pthread_cond_wait(&s->cond, &s->lock);
  pthread_mutex_unlock(&s->lock);
}

static void seen_release(struct seen *s)
{
  llm_result_free(s->res);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->cond);
}

static struct llm *client(long timeout_ms, int retries)
{
  struct llm_config cfg = {0};
  cfg.base_url = fakellm_url(fake);
  cfg.model = "fake-model";
  cfg.api_key = "sk-test";
  cfg.timeout_ms = timeout_ms;
  cfg.max_retries = retries;
  cfg.retry_base_ms = 5;
  struct llm *l = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(llm_new(&cfg, &l, &err), 0, "%s", err.msg);
  return l;
}

static json_t *hello(void)
{
  return json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "system", "content", "You are Sage.", "role",
                   "user", "content", "What were my customer's main pains?");
}

/* One call, waited for. */
static void call(struct llm *l, int stream, const json_t *tools, struct seen *s)
{
  seen_init(s);
  json_t *msgs = hello();
  struct err err = ERR_INIT;
  cr_assert_eq(llm_chat(l, NULL, msgs, tools, stream, on_delta, on_done, s, &err), 0, "%s",
               err.msg);
  json_decref(msgs);
  wait_done(s);
  cr_assert_eq(s->done, 1, "the callback ran %d times", s->done);
}

Test(llm, a_plain_reply_with_usage)
{
  fakellm_script(fake, "[{\"reply\":\"Slow delivery and hidden fees.\","
                       "\"usage\":{\"prompt_tokens\":42,\"completion_tokens\":7}}]");
  struct llm *l = client(0, 0);
  struct seen s;
  call(l, 0, NULL, &s);
  cr_assert_eq(s.res->code, 0, "%s", s.res->error);
  cr_expect_str_eq(s.res->content, "Slow delivery and hidden fees.");
  cr_expect_str_eq(s.res->finish_reason, "stop");
  cr_expect_str_eq(s.res->model, "fake-model");
  cr_expect(s.res->has_usage);
  cr_expect_eq(s.res->prompt_tokens, 42);
  cr_expect_eq(s.res->completion_tokens, 7);
  cr_expect_eq(s.res->total_tokens, 49);
  cr_expect_eq(s.res->attempts, 1);
  json_t *reqs = fakellm_requests(fake);
  json_t *req = json_array_get(reqs, 0);
  cr_expect_str_eq(json_string_value(json_object_get(req, "model")), "fake-model");
  cr_expect_eq(json_array_size(json_object_get(req, "messages")), 2);
  cr_expect_null(json_object_get(req, "stream"));
  json_decref(reqs);
  seen_release(&s);
  llm_free(l);
}

Test(llm, a_streamed_reply_arrives_in_pieces_with_usage)
{
  fakellm_script(fake, "[{\"chunks\":[\"Slow \",\"delivery\",\" and fees.\"],"
                       "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":3}}]");
  struct llm *l = client(0, 0);
  struct seen s;
  call(l, 1, NULL, &s);
  cr_assert_eq(s.res->code, 0, "%s", s.res->error);
  cr_expect_str_eq(s.res->content, "Slow delivery and fees.");
  cr_expect_str_eq(s.text, "Slow delivery and fees.", "the deltas make the reply");
  cr_expect_eq(s.res->prompt_tokens, 30);
  cr_expect_eq(s.res->completion_tokens, 3);
  json_t *reqs = fakellm_requests(fake);
  json_t *req = json_array_get(reqs, 0);
  cr_expect(json_is_true(json_object_get(req, "stream")));
  cr_expect(json_is_true(json_object_get(json_object_get(req, "stream_options"), "include_usage")),
            "usage is asked for in streams, so that no call goes uncounted");
  json_decref(reqs);
  seen_release(&s);
  llm_free(l);
}

static void expect_tool_calls(const struct llm_result *r)
{
  cr_assert_eq(r->code, 0, "%s", r->error);
  cr_assert_eq(r->ncalls, 2);
  cr_expect_str_eq(r->calls[0].name, "searchKnowledge");
  cr_expect_str_eq(r->calls[0].arguments, "{\"query\":\"customer pains\",\"limit\":3}");
  cr_expect_str_eq(r->calls[0].id, "call_0");
  cr_expect_str_eq(r->calls[1].name, "noOutput");
  cr_expect_str_eq(r->calls[1].arguments, "{}");
  cr_expect_str_eq(r->finish_reason, "tool_calls");
}

#define TOOL_SCRIPT \
  "{\"tool_calls\":[{\"name\":\"searchKnowledge\",\"arguments\":{\"query\":\"customer pains\"," \
  "\"limit\":3}},{\"name\":\"noOutput\",\"arguments\":{}}]}"

Test(llm, tool_calls_whole_and_streamed_in_fragments)
{
  fakellm_script(fake, "[" TOOL_SCRIPT "," TOOL_SCRIPT "]");
  struct llm *l = client(0, 0);
  json_t *tools = json_pack("[{s:s,s:{s:s,s:s,s:{s:s}}}]", "type", "function", "function", "name",
                            "searchKnowledge", "description", "search", "parameters", "type",
                            "object");
  struct seen a, b;
  call(l, 0, tools, &a);
  expect_tool_calls(a.res);
  call(l, 1, tools, &b);
  expect_tool_calls(b.res);
  json_t *reqs = fakellm_requests(fake);
  cr_expect(json_equal(json_object_get(json_array_get(reqs, 0), "tools"), tools),
            "the tools go to the model as given");
  json_decref(reqs);
  json_decref(tools);
  seen_release(&a);
  seen_release(&b);
  llm_free(l);
}

Test(llm, a_broken_stream_is_retried_and_its_text_started_over)
{
  fakellm_script(fake, "[{\"chunks\":[\"Half a \",\"sent\"],\"cut_after\":2},"
                       "{\"chunks\":[\"A whole \",\"reply.\"]}]");
  struct llm *l = client(0, 2);
  struct seen s;
  call(l, 1, NULL, &s);
  cr_assert_eq(s.res->code, 0, "%s", s.res->error);
  cr_expect_str_eq(s.res->content, "A whole reply.");
  cr_expect_eq(s.restarts, 1, "the delta callback heard that the text starts over");
  cr_expect_str_eq(s.text, "A whole reply.");
  cr_expect_eq(s.res->attempts, 2);
  seen_release(&s);
  llm_free(l);
}

Test(llm, a_429_is_retried_after_retry_after)
{
  fakellm_script(fake, "[{\"status\":429,\"headers\":{\"Retry-After\":\"0\"}},"
                       "{\"status\":429,\"headers\":{\"retry-after-ms\":\"20\"}},"
                       "{\"reply\":\"at last\"}]");
  struct llm *l = client(0, 3);
  struct seen s;
  call(l, 1, NULL, &s);
  cr_assert_eq(s.res->code, 0, "%s", s.res->error);
  cr_expect_str_eq(s.res->content, "at last");
  cr_expect_eq(s.res->attempts, 3);
  cr_expect_eq(fakellm_request_count(fake), 3);
  seen_release(&s);
  llm_free(l);
}

Test(llm, a_5xx_is_retried_and_gives_up_with_the_servers_words)
{
  fakellm_script(fake, "[{\"status\":503,\"raw\":\"{\\\"error\\\":{\\\"message\\\":\\\"overloaded\\\"}}\","
                       "\"times\":0}]");
  struct llm *l = client(0, 2);
  struct seen s;
  call(l, 0, NULL, &s);
  cr_expect_eq(s.res->code, E_IO);
  cr_expect_eq(s.res->http_status, 503);
  cr_expect(strstr(s.res->error, "HTTP 503: overloaded (after 3 attempts)"), "%s", s.res->error);
  cr_expect_eq(fakellm_request_count(fake), 3);
  seen_release(&s);
  llm_free(l);
}

Test(llm, a_retry_after_too_long_to_wait_is_handed_back)
{
  fakellm_script(fake, "[{\"status\":429,\"headers\":{\"Retry-After\":\"3600\"}}]");
  struct llm *l = client(0, 3);
  struct seen s;
  call(l, 0, NULL, &s);
  cr_expect_eq(s.res->code, E_LIMIT);
  cr_expect_eq(s.res->retry_after_ms, 3600000);
  cr_expect(strstr(s.res->error, "retry after 3600.0 s"), "%s", s.res->error);
  cr_expect_eq(fakellm_request_count(fake), 1, "not waited for here");
  seen_release(&s);
  llm_free(l);
}

Test(llm, a_server_that_never_answers_times_out)
{
  fakellm_script(fake, "[{\"hang\":true}]");
  struct llm *l = client(300, -1);
  struct seen s;
  call(l, 0, NULL, &s);
  cr_expect_eq(s.res->code, E_IO);
  cr_expect(strstr(s.res->error, "did not answer within 300 ms"), "%s", s.res->error);
  seen_release(&s);
  llm_free(l);
}

Test(llm, malformed_answers_and_refusals_say_what_is_wrong)
{
  fakellm_script(fake, "[{\"raw\":\"{\\\"choices\\\": [\"},"
                       "{\"raw\":\"{\\\"object\\\":\\\"list\\\"}\"},"
                       "{\"raw\":\"data: {not json}\\n\\n\",\"sse\":true},"
                       "{\"status\":400,\"raw\":\"{\\\"error\\\":{\\\"message\\\":\\\"unknown model\\\"}}\"}]");
  struct llm *l = client(0, 3);
  struct seen a, b, c, d;
  call(l, 0, NULL, &a);
  cr_expect_eq(a.res->code, E_PARSE);
  cr_expect(strstr(a.res->error, "malformed response"), "%s", a.res->error);
  call(l, 0, NULL, &b);
  cr_expect_eq(b.res->code, E_PARSE);
  cr_expect(strstr(b.res->error, "no choices[0].message"), "%s", b.res->error);
  call(l, 1, NULL, &c);
  cr_expect_eq(c.res->code, E_PARSE);
  cr_expect(strstr(c.res->error, "malformed stream chunk"), "%s", c.res->error);
  call(l, 0, NULL, &d);
  cr_expect_eq(d.res->code, E_INVALID);
  cr_expect(strstr(d.res->error, "refused the request (HTTP 400: unknown model)"), "%s",
            d.res->error);
  cr_expect_eq(fakellm_request_count(fake), 4, "none of these is retried");
  seen_release(&a);
  seen_release(&b);
  seen_release(&c);
  seen_release(&d);
  llm_free(l);
}

Test(llm, an_unreachable_server_is_named)
{
  struct llm_config cfg = {0};
  cfg.base_url = "http://127.0.0.1:1/v1";
  cfg.model = "m";
  cfg.max_retries = 1;
  cfg.retry_base_ms = 1;
  struct llm *l = NULL;
  struct err err = ERR_INIT;
  cr_assert_eq(llm_new(&cfg, &l, &err), 0, "%s", err.msg);
  struct seen s;
  call(l, 0, NULL, &s);
  cr_expect_eq(s.res->code, E_IO);
  cr_expect(strstr(s.res->error, "cannot reach the model server at http://127.0.0.1:1/v1/chat/completions"),
            "%s", s.res->error);
  cr_expect_eq(s.res->attempts, 2);
  seen_release(&s);
  llm_free(l);
}

Test(llm, bad_configuration_and_bad_calls_fail_at_once)
{
  struct llm_config cfg = {0};
  struct llm *l = NULL;
  struct err err = ERR_INIT;
  cfg.base_url = "ftp://x";
  cfg.model = "m";
  cr_expect_eq(llm_new(&cfg, &l, &err), E_INVALID);
  cr_expect(strstr(err.msg, "ONE_LLM_BASE_URL"), "%s", err.msg);
  cfg.base_url = "http://127.0.0.1:1/v1";
  cfg.model = NULL;
  cr_expect_eq(llm_new(&cfg, &l, &err), E_INVALID);
  cr_expect(strstr(err.msg, "ONE_LLM_MODEL"), "%s", err.msg);
  l = client(0, 0);
  struct seen s;
  seen_init(&s);
  json_t *empty = json_array();
  cr_expect_eq(llm_chat(l, NULL, empty, NULL, 0, NULL, on_done, &s, &err), E_INVALID);
  json_decref(empty);
  cr_expect_eq(s.done, 0, "a call that fails at once never calls back");
  seen_release(&s);
  llm_free(l);
}

#define MANY 200

Test(llm, many_calls_wait_together_on_one_thread)
{
  fakellm_script(fake, "[{\"reply\":\"ok\",\"delay_ms\":100,\"times\":0}]");
  struct llm *l = client(0, 0);
  static struct seen s[MANY];
  json_t *msgs = hello();
  struct err err = ERR_INIT;
  for (int i = 0; i < MANY; i++) {
    seen_init(&s[i]);
    cr_assert_eq(llm_chat(l, NULL, msgs, NULL, i % 2, NULL, on_done, &s[i], &err), 0, "%s",
                 err.msg);
  }
  json_decref(msgs);
  for (int i = 0; i < MANY; i++) {
    wait_done(&s[i]);
    cr_expect_eq(s[i].res->code, 0, "%s", s[i].res->error);
    cr_expect_str_eq(s[i].res->content, "ok");
    seen_release(&s[i]);
  }
  cr_expect_eq(llm_pending(l), 0);
  llm_free(l);
}

Test(llm, stopping_ends_calls_in_flight_with_a_reason)
{
  fakellm_script(fake, "[{\"hang\":true,\"times\":0}]");
  struct llm *l = client(0, 0);
  struct seen s;
  seen_init(&s);
  json_t *msgs = hello();
  struct err err = ERR_INIT;
  cr_assert_eq(llm_chat(l, NULL, msgs, NULL, 1, on_delta, on_done, &s, &err), 0);
  json_decref(msgs);
  while (fakellm_request_count(fake) < 1)
    ;
  llm_free(l);
  cr_expect_eq(s.done, 1);
  cr_expect_eq(s.res->code, E_IO);
  cr_expect(strstr(s.res->error, "stopped before the model answered"), "%s", s.res->error);
  seen_release(&s);
}

/* --- the parsers alone --- */

static char streamed[4096];

static void collect(void *arg, const char *text, size_t len)
{
  (void)arg;
  if (text)
    strncat(streamed, text, len);
}

Test(llm, a_stream_fed_byte_by_byte_reads_the_same)
{
  const char *sse =
    ": a comment\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\r\n\r\n"
    "event: message\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\","
    "\"function\":{\"name\":\"react\",\"arguments\":\"{\\\"ty\"}}]}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"function\":{\"arguments\":\"pe\\\":\\\"love\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
    "\"total_tokens\":7},\"model\":\"m1\"}\n\n"
    "data: [DONE]\n\n";
  streamed[0] = '\0';
  struct llm_stream *st = llm_stream_new(collect, NULL);
  struct err err = ERR_INIT;
  for (size_t i = 0; sse[i]; i++)
    cr_assert_eq(llm_stream_feed(st, sse + i, 1, 1 << 20, &err), 0, "%s", err.msg);
  struct llm_result *r = one_calloc(1, sizeof *r);
  cr_assert_eq(llm_stream_finish(st, r, &err), 1, "[DONE] arrived: %s", err.msg);
  cr_expect_str_eq(r->content, "Hello");
  cr_expect_str_eq(streamed, "Hello");
  cr_assert_eq(r->ncalls, 1);
  cr_expect_str_eq(r->calls[0].id, "c1");
  cr_expect_str_eq(r->calls[0].arguments, "{\"type\":\"love\"}");
  cr_expect_eq(r->total_tokens, 7);
  cr_expect_str_eq(r->model, "m1");
  llm_result_free(r);
  llm_stream_free(st);
}

Test(llm, parsers_refuse_bad_shapes_with_a_reason)
{
  struct err err = ERR_INIT;
  struct llm_result *r = one_calloc(1, sizeof *r);
  const char *bad[] = {
    "[]", "{\"choices\":[{\"message\":{\"content\":5}}]}",
    "{\"choices\":[{\"message\":{\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}}]}",
    "{\"choices\":[{\"message\":{\"tool_calls\":{}}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"choices\":[]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_expect_eq(llm_parse_completion(bad[i], strlen(bad[i]), r, &err), E_PARSE, "%s", bad[i]);
    cr_expect(err.msg[0], "an error says why");
  }
  const char *refused = "{\"error\":{\"message\":\"quota exceeded\"}}";
  cr_expect_eq(llm_parse_completion(refused, strlen(refused), r, &err), E_INVALID);
  cr_expect(strstr(err.msg, "quota exceeded"), "%s", err.msg);
  llm_result_free(r);

  struct llm_stream *st = llm_stream_new(NULL, NULL);
  const char *big = "data: {\"choices\":[{\"delta\":{\"content\":\"0123456789\"}}]}\n\n";
  cr_expect_eq(llm_stream_feed(st, big, strlen(big), 16, &err), E_TOOBIG);
  llm_stream_free(st);
  st = llm_stream_new(NULL, NULL);
  const char *noindex = "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"x\"}]}}]}\n";
  cr_expect_eq(llm_stream_feed(st, noindex, strlen(noindex), 1 << 20, &err), E_PARSE);
  llm_stream_free(st);
}
