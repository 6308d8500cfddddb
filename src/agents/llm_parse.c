/* llm_parse: the chat-completion response parsers of llm.h: a whole body,
 * and a streamed one fed as it arrives (text/event-stream "data:" lines,
 * each a chunk whose delta adds text or fragments of tool calls, joined by
 * their index; a chunk with usage and no choices; then [DONE]). Bounded:
 * a line, the text and the calls grow to the caller's maximum at most. */
#include "agents/llm.h"
#include "util/buf.h"
#include "util/mem.h"

#include <string.h>

#define MAX_CALLS 64

struct acc {
  struct buf content;
  int has_content;
  struct { struct buf id, name, args; int used; } calls[MAX_CALLS];
  size_t ncalls;
  char *finish_reason, *model;
  long prompt, completion, total;
  int has_usage;
};

static void acc_init(struct acc *a, size_t max)
{
  memset(a, 0, sizeof *a);
  buf_init(&a->content, max);
  for (size_t i = 0; i < MAX_CALLS; i++) {
    buf_init(&a->calls[i].id, 256);
    buf_init(&a->calls[i].name, 256);
    buf_init(&a->calls[i].args, max);
  }
}

static void acc_release(struct acc *a)
{
  buf_release(&a->content);
  for (size_t i = 0; i < MAX_CALLS; i++) {
    buf_release(&a->calls[i].id);
    buf_release(&a->calls[i].name);
    buf_release(&a->calls[i].args);
  }
  one_free(a->finish_reason);
  one_free(a->model);
}

static void set_str(char **dst, const json_t *v)
{
  if (!json_is_string(v))
    return;
  one_free(*dst);
  *dst = one_strdup(json_string_value(v));
}

static void read_usage(struct acc *a, const json_t *u)
{
  if (!json_is_object(u))
    return;
  a->prompt = (long)json_integer_value(json_object_get(u, "prompt_tokens"));
  a->completion = (long)json_integer_value(json_object_get(u, "completion_tokens"));
  a->total = (long)json_integer_value(json_object_get(u, "total_tokens"));
  if (!a->total)
    a->total = a->prompt + a->completion;
  a->has_usage = 1;
}

/* An "error" object in a response: its message into err. */
static int server_error(const json_t *e, struct err *err)
{
  const char *msg = json_string_value(json_object_get(e, "message"));
  return err_set(err, E_INVALID, "the model server answered with an error: %s",
                 msg ? msg : "(no message)");
}

/* One tool call (whole, or a fragment of one when streaming) at index i. */
static int add_call(struct acc *a, size_t i, const json_t *c, struct err *err)
{
  if (i >= MAX_CALLS)
    return err_set(err, E_PARSE, "the model sent more than %d tool calls", MAX_CALLS);
  const json_t *fn = json_object_get(c, "function");
  const char *id = json_string_value(json_object_get(c, "id"));
  const char *name = json_string_value(json_object_get(fn, "name"));
  const json_t *args = json_object_get(fn, "arguments");
  if (fn && !json_is_object(fn))
    return err_set(err, E_PARSE, "a tool call's function is not an object");
  if (args && !json_is_string(args) && !json_is_null(args))
    return err_set(err, E_PARSE, "a tool call's arguments are not a JSON string");
  int rc = 0;
  if (id && !rc) {
    buf_reset(&a->calls[i].id);
    rc = buf_puts(&a->calls[i].id, id);
  }
  if (name && !rc)
    rc = buf_puts(&a->calls[i].name, name);
  if (json_is_string(args) && !rc)
    rc = buf_append(&a->calls[i].args, json_string_value(args), json_string_length(args));
  if (rc)
    return err_set(err, rc, rc == E_TOOBIG ? "a tool call is larger than the response limit"
                                           : "out of memory");
  a->calls[i].used = 1;
  if (i + 1 > a->ncalls)
    a->ncalls = i + 1;
  return 0;
}

/* Moves what a holds into r (a emptied). */
static int acc_result(struct acc *a, struct llm_result *r, struct err *err)
{
  for (size_t i = 0; i < a->ncalls; i++)
    if (!a->calls[i].used || !a->calls[i].name.len)
      return err_set(err, E_PARSE, "tool call %zu has no function name", i);
  if (a->ncalls) {
    r->calls = one_calloc(a->ncalls, sizeof *r->calls);
    if (!r->calls)
      return err_set(err, E_NOMEM, "out of memory");
    r->ncalls = a->ncalls;
    for (size_t i = 0; i < a->ncalls; i++) {
      if (!a->calls[i].id.len) /* some servers omit ids: make one that is stable */
        buf_printf(&a->calls[i].id, "call_%zu", i);
      r->calls[i].id = buf_detach(&a->calls[i].id);
      r->calls[i].name = buf_detach(&a->calls[i].name);
      r->calls[i].arguments = buf_detach(&a->calls[i].args);
      if (!r->calls[i].id || !r->calls[i].name || !r->calls[i].arguments)
        return err_set(err, E_NOMEM, "out of memory");
    }
  }
  if (a->has_content)
    r->content = buf_detach(&a->content);
  r->finish_reason = a->finish_reason;
  r->model = a->model;
  a->finish_reason = a->model = NULL;
  r->prompt_tokens = a->prompt;
  r->completion_tokens = a->completion;
  r->total_tokens = a->total;
  r->has_usage = a->has_usage;
  return 0;
}

int llm_parse_completion(const char *body, size_t len, struct llm_result *r, struct err *err)
{
  json_error_t je;
  json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(root)) {
    json_decref(root);
    return err_set(err, E_PARSE, "the model server sent a malformed response (not a JSON "
                   "object: %s at %d:%d)", je.text, je.line, je.column);
  }
  struct acc a;
  acc_init(&a, len + 1);
  int rc = 0;
  const json_t *choices = json_object_get(root, "choices");
  const json_t *msg = json_object_get(json_array_get(choices, 0), "message");
  if (json_object_get(root, "error") && !choices)
    rc = server_error(json_object_get(root, "error"), err);
  else if (!json_is_object(msg))
    rc = err_set(err, E_PARSE, "the model server sent a malformed response (no "
                 "choices[0].message)");
  if (!rc) {
    const json_t *content = json_object_get(msg, "content");
    if (content && !json_is_string(content) && !json_is_null(content))
      rc = err_set(err, E_PARSE, "the model's message content is not a string");
    else if (json_is_string(content)) {
      a.has_content = 1;
      rc = buf_append(&a.content, json_string_value(content), json_string_length(content));
    }
  }
  const json_t *calls = json_object_get(msg, "tool_calls");
  if (!rc && calls && !json_is_array(calls) && !json_is_null(calls))
    rc = err_set(err, E_PARSE, "the model's tool_calls is not an array");
  for (size_t i = 0; !rc && i < json_array_size(calls); i++)
    rc = add_call(&a, i, json_array_get(calls, i), err);
  if (!rc) {
    set_str(&a.finish_reason, json_object_get(json_array_get(choices, 0), "finish_reason"));
    set_str(&a.model, json_object_get(root, "model"));
    read_usage(&a, json_object_get(root, "usage"));
    rc = acc_result(&a, r, err);
  }
  acc_release(&a);
  json_decref(root);
  return rc;
}

/* --- streams --- */

struct llm_stream {
  struct acc a;
  struct buf line;
  int done, inited;
  llm_delta_fn delta;
  void *arg;
};

struct llm_stream *llm_stream_new(llm_delta_fn delta, void *arg)
{
  struct llm_stream *s = one_calloc(1, sizeof *s);
  if (s) {
    s->delta = delta;
    s->arg = arg;
  }
  return s;
}

void llm_stream_free(struct llm_stream *s)
{
  if (!s)
    return;
  if (s->inited)
    acc_release(&s->a);
  buf_release(&s->line);
  one_free(s);
}

static int chunk(struct llm_stream *s, const char *data, size_t len, struct err *err)
{
  json_error_t je;
  json_t *c = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
  if (!json_is_object(c)) {
    json_decref(c);
    return err_set(err, E_PARSE, "the model server sent a malformed stream chunk (%s)", je.text);
  }
  int rc = 0;
  const json_t *choices = json_object_get(c, "choices");
  if (json_object_get(c, "error") && !json_array_size(choices))
    rc = server_error(json_object_get(c, "error"), err);
  const json_t *choice = json_array_get(choices, 0);
  const json_t *delta = json_object_get(choice, "delta");
  const json_t *text = json_object_get(delta, "content");
  if (!rc && choices && !json_is_array(choices))
    rc = err_set(err, E_PARSE, "a stream chunk's choices is not an array");
  if (!rc && json_is_string(text) && json_string_length(text)) {
    s->a.has_content = 1;
    rc = buf_append(&s->a.content, json_string_value(text), json_string_length(text));
    if (rc)
      err_set(err, rc, "the reply is larger than the response limit");
    else if (s->delta)
      s->delta(s->arg, json_string_value(text), json_string_length(text));
  }
  const json_t *calls = json_object_get(delta, "tool_calls");
  for (size_t i = 0; !rc && i < json_array_size(calls); i++) {
    const json_t *call = json_array_get(calls, i);
    const json_t *index = json_object_get(call, "index");
    if (!json_is_integer(index) || json_integer_value(index) < 0)
      rc = err_set(err, E_PARSE, "a streamed tool call has no index");
    else
      rc = add_call(&s->a, (size_t)json_integer_value(index), call, err);
  }
  if (!rc) {
    set_str(&s->a.finish_reason, json_object_get(choice, "finish_reason"));
    set_str(&s->a.model, json_object_get(c, "model"));
    read_usage(&s->a, json_object_get(c, "usage"));
  }
  json_decref(c);
  return rc;
}

static int line(struct llm_stream *s, const char *p, size_t n, struct err *err)
{
  if (n && p[n - 1] == '\r')
    n--;
  if (n < 5 || memcmp(p, "data:", 5) != 0)
    return 0; /* blank lines, comments, event: and id: lines */
  p += 5;
  n -= 5;
  while (n && *p == ' ') {
    p++;
    n--;
  }
  if (n == 6 && memcmp(p, "[DONE]", 6) == 0) {
    s->done = 1;
    return 0;
  }
  if (s->done)
    return 0;
  return chunk(s, p, n, err);
}

int llm_stream_feed(struct llm_stream *s, const char *data, size_t len, size_t max,
                    struct err *err)
{
  if (!s->inited) {
    acc_init(&s->a, max);
    buf_init(&s->line, max);
    s->inited = 1;
  }
  while (len) {
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) : len;
    if (buf_append(&s->line, data, take))
      return err_set(err, E_TOOBIG, "a line of the streamed reply is larger than %zu bytes", max);
    data += take;
    len -= take;
    if (!nl)
      break;
    data++;
    len--;
    int rc = line(s, s->line.p ? s->line.p : "", s->line.len, err);
    buf_reset(&s->line);
    if (rc)
      return rc;
  }
  return 0;
}

int llm_stream_finish(struct llm_stream *s, struct llm_result *r, struct err *err)
{
  if (!s->inited) {
    acc_init(&s->a, 1);
    buf_init(&s->line, 1);
    s->inited = 1;
  }
  if (s->line.len) { /* a last line without its newline */
    int rc = line(s, s->line.p, s->line.len, err);
    buf_reset(&s->line);
    if (rc)
      return rc;
  }
  int rc = acc_result(&s->a, r, err);
  return rc ? rc : s->done;
}
