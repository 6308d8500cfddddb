/* llm: a client for OpenAI-compatible chat completions (POST
 * {base}/chat/completions) with tools and streaming, on libcurl's multi
 * interface: one thread drives every request, so a thousand calls waiting
 * on the model hold no thread each.
 *
 * A call is asynchronous: llm_chat queues it and returns; its done callback
 * runs once, on the client's thread, with the result (or an error that
 * says what went wrong in words a user can act on). A call that fails
 * synchronously never calls its callback. While a streamed reply arrives,
 * the delta callback receives each piece of text as it comes.
 *
 * Retries: a 429 or a 5xx answer, a timeout or a broken connection is
 * tried again up to max_retries times, after the server's Retry-After when
 * it gives one (at most max_retry_after_ms; a longer wait is an error that
 * carries it, so the caller can schedule the retry itself) or an
 * exponential back-off. Other 4xx answers and malformed responses are not
 * retried. Responses are bounded (max_response bytes).
 *
 * Wire format: agents-and-workflow.md, "Wire formats". Unknown fields are
 * ignored. Ownership: callbacks borrow what they are given except the
 * result, which llm_result_free releases. */
#ifndef ONE_AGENTS_LLM_H
#define ONE_AGENTS_LLM_H

#include <jansson.h>
#include <stddef.h>

#include "util/err.h"

struct llm;

struct llm_config {
  const char *base_url;        /* e.g. http://127.0.0.1:11434/v1 (ONE_LLM_BASE_URL) */
  const char *api_key;         /* sent as Bearer; NULL: none (ONE_LLM_API_KEY) */
  const char *model;           /* ONE_LLM_MODEL */
  long timeout_ms;             /* one attempt, whole; 0: 120,000 */
  long connect_timeout_ms;     /* 0: 10,000 */
  int max_retries;             /* 0: 3; -1: none */
  long retry_base_ms;          /* 0: 500 */
  long max_retry_after_ms;     /* the longest Retry-After waited for here; 0: 30,000 */
  size_t max_response;         /* bytes; 0: 8 MiB */
};

struct llm_tool_call {
  char *id;
  char *name;
  char *arguments;             /* the JSON text the model sent (may be invalid JSON) */
};

struct llm_result {
  int code;                    /* 0, or E_IO (network, timeout), E_LIMIT (429),
                                * E_PARSE (malformed response), E_INVALID (refused) */
  char error[600];             /* when code: what happened, for a person */
  long http_status;            /* of the last attempt, 0 when none answered */
  long retry_after_ms;         /* E_LIMIT: when the server asked to come back */
  char *content;               /* the reply's text, NULL when none */
  struct llm_tool_call *calls;
  size_t ncalls;
  char *finish_reason;         /* "stop", "tool_calls", "length"… or NULL */
  char *model;                 /* as the server named it */
  long prompt_tokens, completion_tokens, total_tokens;
  int has_usage;               /* the server reported usage */
  int attempts;
};

typedef void (*llm_delta_fn)(void *arg, const char *text, size_t len);
typedef void (*llm_done_fn)(void *arg, struct llm_result *res);

/* The configuration from ONE_LLM_* (strings borrowed from the environment);
 * returns 0 when no base URL or model is configured. */
int llm_config_from_env(struct llm_config *cfg);

int llm_new(const struct llm_config *cfg, struct llm **out, struct err *err);
/* Queues a chat completion: messages and tools (NULL: none) are OpenAI
 * JSON arrays (copied); stream asks for a streamed reply (with usage).
 * model NULL uses the configured one. delta may be NULL. */
int llm_chat(struct llm *l, const char *model, const json_t *messages, const json_t *tools,
             int stream, llm_delta_fn delta, llm_done_fn done, void *arg, struct err *err);
/* Calls in flight or waiting for a retry. */
size_t llm_pending(struct llm *l);
/* Ends every call (their callbacks get E_IO "the client stopped") and the
 * thread. Accepts NULL. */
void llm_free(struct llm *l);
void llm_result_free(struct llm_result *r);

/* --- the response parsers, for tests and fuzzing --- */

/* Reads a whole (non-streamed) chat completion body into r. */
int llm_parse_completion(const char *body, size_t len, struct llm_result *r, struct err *err);

/* A streamed reply, fed as it arrives: text/event-stream lines of chunks
 * whose tool-call fragments are joined by index. */
struct llm_stream;
struct llm_stream *llm_stream_new(llm_delta_fn delta, void *arg);
/* Feeds bytes; E_PARSE (err set) on a malformed chunk, E_TOOBIG past max. */
int llm_stream_feed(struct llm_stream *s, const char *data, size_t len, size_t max,
                    struct err *err);
/* Whether [DONE] arrived; moves what was read into r (stream emptied). */
int llm_stream_finish(struct llm_stream *s, struct llm_result *r, struct err *err);
void llm_stream_free(struct llm_stream *s);

#endif
