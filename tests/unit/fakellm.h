/* fakellm: a fake OpenAI-compatible chat-completions server on loopback,
 * scripted per test, so that ONE's real model client runs end to end.
 *
 * A script is a JSON array of rules, tried in order for each request to
 * POST /v1/chat/completions; the first whose "match" (a substring of the
 * request body; absent matches all) fits and that has uses left answers:
 *   {"match": "Sage", "times": 1 (0: forever),
 *    "status": 200, "delay_ms": 0, "headers": {"Retry-After": "1"},
 *    "reply": "text", "chunks": ["te", "xt"] (how a stream splits it),
 *    "tool_calls": [{"name": "listAgents", "arguments": {…} or "raw"}],
 *    "usage": {"prompt_tokens": 12, "completion_tokens": 5},
 *    "raw": "an exact body (malformed answers)", "hang": true,
 *    "chunk_delay_ms": 0, "cut_after": n (a stream breaks after n pieces),
 *    "gate": "name" (the answer waits until the test calls fakellm_open)}
 * A request that asked to stream gets text/event-stream chunks (the usage
 * chunk too when stream_options.include_usage), else one JSON body. With
 * no rule left it answers 500. Every request body is kept, in order.
 *
 * POST /v1/embeddings answers a bag-of-words vector of 384 numbers (10 for
 * the model "short-model", a 503 for "down-model").
 *
 * POST /webhook keeps its body and answers 200 {"postId":"p-1"} (422 when
 * the body holds "refuse me"): an outbound webhook for broadcasts.
 *
 * GET /search?q= answers {"results":[{"title","url","query"}]}, a web
 * search service for the webSearch tool.
 *
 * The standalone `fake_llm` (tests/fake_llm_main.c) is controlled over
 * HTTP: POST /_script appends rules, DELETE /_script clears them, GET
 * /_requests lists the requests. */
#ifndef ONE_TESTS_FAKELLM_H
#define ONE_TESTS_FAKELLM_H

#include <jansson.h>

struct fakellm;

/* Starts on 127.0.0.1 (port 0: any free one); NULL on failure. */
struct fakellm *fakellm_start(unsigned port);
unsigned fakellm_port(const struct fakellm *f);
/* "http://127.0.0.1:PORT/v1" (owned by f). */
const char *fakellm_url(const struct fakellm *f);
/* Appends the rules of a JSON array text; 0, or -1 when it is not one. */
int fakellm_script(struct fakellm *f, const char *rules);
void fakellm_reset(struct fakellm *f);
/* Lets the answers held at gate go (and every later one at it). */
void fakellm_open(struct fakellm *f, const char *gate);
/* The requests so far, oldest first (a new reference: an array of the
 * parsed bodies). */
json_t *fakellm_requests(struct fakellm *f);
/* The bodies POSTed to /webhook, oldest first (a new reference). */
json_t *fakellm_webhooks(struct fakellm *f);
/* The bodies POSTed to /v1/embeddings, oldest first (a new reference). */
json_t *fakellm_embedding_requests(struct fakellm *f);
size_t fakellm_request_count(struct fakellm *f);
void fakellm_stop(struct fakellm *f);

#endif
