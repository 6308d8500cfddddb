/* embeddings: a client for an OpenAI-compatible embeddings endpoint (POST
 * {base}/embeddings with {"model", "input", "dimensions"}), and the job
 * that keeps knowledge vectors from it (domain/knowledge.h, "remote
 * vectors").
 *
 * Configured by ONE_EMBEDDINGS_URL (the base, e.g. http://127.0.0.1:11434/v1),
 * ONE_EMBEDDINGS_MODEL and ONE_EMBEDDINGS_API_KEY (a Bearer token, when the
 * service wants one). Without them knowledge uses the built-in embedder.
 * Every vector has TEXTVEC_DIM (384) numbers: the request asks for that many
 * ("dimensions", which models with a variable size honour), and an answer
 * of another size is an error that says so. A call is synchronous, bounded
 * by a timeout, and is never made inside a write transaction. */
#ifndef ONE_AGENTS_EMBEDDINGS_H
#define ONE_AGENTS_EMBEDDINGS_H

#include "agents/sched.h"
#include "util/err.h"
#include "util/textvec.h"

struct embeddings {
  char url[512];           /* {base}/embeddings */
  char model[128];
  char key[512];           /* "" when none */
};

/* The configuration from ONE_EMBEDDINGS_*: 1 when set, 0 when not. */
int embeddings_from_env(struct embeddings *e);
/* The vector of text into out (length 1). E_IO when the service did not
 * answer or answered an error, E_PARSE for an answer that is not one, E_INVALID
 * for a vector of another size. */
int embeddings_get(const struct embeddings *e, const char *text, float out[TEXTVEC_DIM],
                   struct err *err);
/* The vector of an answer of the service (its data[0].embedding), scaled to
 * length 1, into out: for the client, tests and fuzzing. Errors as above. */
int embeddings_parse(const char *answer, size_t len, float out[TEXTVEC_DIM], struct err *err);

/* With ONE_EMBEDDINGS_* set: registers the service as knowledge's embedder
 * (domain/knowledge.h, "remote vectors") and the handler of its jobs on sc
 * (before sched_start), into *out; *out = NULL when it is not configured.
 * The handler gives a knowledge item its vector from the service, unless
 * its content changed since the job was queued (a newer job has it). */
struct embeddings_service;
int embeddings_start(struct store *s, struct sched *sc, struct embeddings_service **out,
                     struct err *err);
/* Back to the built-in embedder; after sched_stop. Accepts NULL. */
void embeddings_stop(struct embeddings_service *es);
const char *embeddings_model(const struct embeddings_service *es);

#endif
