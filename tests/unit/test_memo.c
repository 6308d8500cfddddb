/* Unit tests of util/memo: results found only for the very same text,
 * replaced in their slot, never shared between threads, big ones let go. */
#include "util/memo.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static void keep(const char *t, const char *r) { memo_keep(t, strlen(t), r, strlen(r)); }

static int found(const char *t, const char *want)
{
  size_t len = 0;
  const char *got = memo_find(t, strlen(t), &len);
  if (!want)
    return got == NULL;
  return got && len == strlen(want) && memcmp(got, want, len) == 0;
}

/* Texts of one length that differ only after their first 64 bytes share
 * a slot: a document whose content changed. */
#define ID "{\"_id\":\"k57a2bayt9wtcvx8sjqjeeewg0000nq5\",\"_creationTime\":1796168792504.2202,"
Test(memo, finds_only_the_same_text)
{
  cr_assert(found(ID "\"content\":\"x\"}", NULL));
  keep(ID "\"content\":\"x\"}", "A");
  cr_assert(found(ID "\"content\":\"x\"}", "A"));
  cr_assert(found(ID "\"content\":\"y\"}", NULL), "a changed document is not found");
  keep(ID "\"content\":\"y\"}", "B");
  cr_assert(found(ID "\"content\":\"y\"}", "B"));
  cr_assert(found(ID "\"content\":\"x\"}", NULL), "replaced in its slot");
}

Test(memo, keeps_many_and_lets_big_ones_go)
{
  char t[64], r[64];
  for (int i = 0; i < 100; i++) {
    snprintf(t, sizeof t, "{\"_id\":\"doc%d\"}", i);
    snprintf(r, sizeof r, "rendered %d", i);
    memo_keep(t, strlen(t), r, strlen(r));
  }
  int kept = 0;
  for (int i = 0; i < 100; i++) {
    snprintf(t, sizeof t, "{\"_id\":\"doc%d\"}", i);
    snprintf(r, sizeof r, "rendered %d", i);
    size_t len = 0;
    const char *got = memo_find(t, strlen(t), &len);
    if (got) {
      cr_assert(len == strlen(r) && memcmp(got, r, len) == 0, "a result for the wrong text");
      kept++;
    }
  }
  cr_expect_gt(kept, 80, "most of 100 texts fit in 1024 slots");
  static char big[MEMO_MAX_TEXT + 2];
  memset(big, 'x', sizeof big - 1);
  memo_keep(big, sizeof big - 1, "r", 1);
  size_t len = 0;
  cr_assert_null(memo_find(big, sizeof big - 1, &len));
}

static void *other_thread(void *arg)
{
  (void)arg;
  return (void *)(long)found("{\"_id\":\"mine\"}", NULL);
}

Test(memo, each_thread_has_its_own)
{
  keep("{\"_id\":\"mine\"}", "M");
  pthread_t t;
  void *rv = NULL;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, &rv);
  cr_assert(rv, "another thread found this thread's entry");
  cr_assert(found("{\"_id\":\"mine\"}", "M"));
}
