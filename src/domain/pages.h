/* pages: rendered pages of a conversation's messages, kept so that a page
 * read again is answered without reading and rendering its fifty messages.
 *
 * A page is kept with the change-log seq of the snapshot it was rendered
 * in. It is used again only in a read transaction that proves it still
 * holds: nothing was committed since (the log's newest seq is the page's),
 * or the few changes committed since (at most PAGES_MAX_CHANGES, all still
 * in the log) touch no message of its conversation. The log holds every
 * document write of every process, migrations' too, so a page is never
 * older than the snapshot it is served in: read-your-writes holds as if
 * there were no cache. A page is also tied to the schema epoch, the
 * conversation, the page size and the cursor.
 *
 * What a page depends on is listed in one place, pages.c's touches(): a
 * message of its conversation (any change; a deleted document, whose
 * conversation cannot be read, counts). Whoever makes a page render
 * anything else must add it there.
 *
 * ONE_PAGE_CACHE sets how many pages are kept (default 256; 0 turns the
 * cache off). Pages over PAGES_MAX_TEXT bytes are not kept. Thread-safe. */
#ifndef ONE_DOMAIN_PAGES_H
#define ONE_DOMAIN_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define PAGES_MAX_CHANGES 64
#define PAGES_MAX_TEXT (256 * 1024)

struct pages_key {
  const char *conv;
  size_t limit;
  const char *cursor; /* NULL for the first page */
};

/* The kept page for key, valid in tx: 1 with *text (one_free) and *len set,
 * 0 when there is none to use; *seq is then the seq to keep a page
 * rendered in tx with (pages_keep). Negative on a store error. */
int pages_find(struct store_tx *tx, const struct pages_key *key, char **text, size_t *len,
               int64_t *seq, struct err *err);
/* Keeps text, rendered in a transaction whose log ends at seq, for key at
 * tx's epoch. A newer page for the key stays. */
void pages_keep(const struct store_tx *tx, const struct pages_key *key, int64_t seq,
                const char *text, size_t len);

struct pages_stats {
  unsigned long hits, misses;
};
void pages_stats(struct pages_stats *out);

#endif
