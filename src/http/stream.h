/* stream: Server-Sent Events of what changes in the store, for the
 * conversation streams and each user's "me" stream.
 *
 * One hub per server. Its worker thread follows the store's durable change
 * log (woken by the store's commit listener, and every second for writes
 * made by other processes), renders each change once into SSE text
 * ("id: SEQ\nevent: TYPE\ndata: JSON\n\n", the id being the change's seq in
 * the log), and appends it to the streams it concerns:
 *
 *   conversation C   "message", "message.updated" (with parts),
 *                    "participant" (joins, leaves, status changes),
 *                    "partial" (an agent's reply as it is generated,
 *                    hub_publish_partial: no id, not replayed),
 *                    "conversation" (title, tags, lastMessageTime);
 *                    ends when its user is removed from C
 *   me (user U)      "conversation" for every conversation U is in,
 *                    "membership" when U is added to or removed from one
 *
 * A stream resumes after Last-Event-ID: the worker replays the log from
 * there before the stream goes live, so nothing is lost or repeated. When
 * the log no longer reaches back that far the stream gets "event: reset"
 * (reload, then follow). A stream whose client reads too slowly (more than
 * STREAM_MAX_PENDING bytes waiting) is ended; the client resumes.
 *
 * The stream's connection is suspended while it has nothing to send and
 * resumed when an event arrives (libmicrohttpd's suspend/resume), so an
 * idle subscriber costs no thread. A comment line is sent every
 * STREAM_HEARTBEAT_S seconds to keep proxies and dead peers honest. */
#ifndef ONE_HTTP_STREAM_H
#define ONE_HTTP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "store/store.h"

#define STREAM_MAX_PENDING (4 * 1024 * 1024)
#define STREAM_HEARTBEAT_S 20

struct hub;
struct stream;
struct MHD_Connection;

enum stream_kind { STREAM_CONVERSATION = 1, STREAM_ME = 2 };

int hub_start(struct store *s, struct hub **out, struct err *err);
/* Ends every stream (their clients see the end of the response). */
void hub_close_streams(struct hub *h);
/* Stops the worker and frees the hub; after hub_close_streams and after
 * the server has stopped. Accepts NULL. */
void hub_free(struct hub *h);
/* Sends "event: partial" with data (borrowed) to the live streams of
 * conversation conv now: an agent's reply as it is generated. Partials
 * carry no id and are not replayed; the finished message follows as an
 * ordinary "message" event. Any thread. */
void hub_publish_partial(struct hub *h, const char *conv, const json_t *data);
/* Streams open in this process. */
long stream_open_count(void);

/* A stream for user on conversation conv (STREAM_CONVERSATION) or on the
 * user's conversations (STREAM_ME). after: resume after this event id, or
 * -1 for "from now". The caller checks permissions first. */
struct stream *stream_new(struct hub *h, enum stream_kind kind, const char *conv,
                          const char *user, int64_t after, struct err *err);
/* Hands the stream to its connection and starts it; the stream belongs to
 * the response from now on (stream_free is its free callback). */
void stream_attach(struct stream *st, struct MHD_Connection *conn);
/* A stream never attached (the answer failed). */
void stream_discard(struct stream *st);

/* libmicrohttpd content reader and free callbacks. */
ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max);
void stream_free(void *cls);

#endif
