/* Tests of the mention parser (domain/mentions): a table of contents and
 * the parts they split into. */
#include "domain/mentions.h"
#include "testutil.h"
#include "util/jv.h"
#include "util/mem.h"

#include <criterion/criterion.h>
#include <string.h>

struct mcase {
  const char *content;
  const char *parts; /* compact JSON of the expected parts */
};

static const struct mcase cases[] = {
  {"hello", "[{\"type\":\"text\",\"text\":\"hello\"}]"},
  {"", "[]"},
  {"@[Sage](agent:k57abc) what were my pains?",
   "[{\"type\":\"mention\",\"kind\":\"agent\",\"id\":\"k57abc\",\"name\":\"Sage\"},"
   "{\"type\":\"text\",\"text\":\" what were my pains?\"}]"},
  {"ask @[Writer](agent:w1)", "[{\"type\":\"text\",\"text\":\"ask \"},"
   "{\"type\":\"mention\",\"kind\":\"agent\",\"id\":\"w1\",\"name\":\"Writer\"}]"},
  {"@[A](agent:1)@[B](user:2)", "[{\"type\":\"mention\",\"kind\":\"agent\",\"id\":\"1\",\"name\":\"A\"},"
   "{\"type\":\"mention\",\"kind\":\"user\",\"id\":\"2\",\"name\":\"B\"}]"},
  /* names may hold any character but ] */
  {"@[Dr. O'Neil (PhD), \xc3\xa9quipe!](user:u_9-x)",
   "[{\"type\":\"mention\",\"kind\":\"user\",\"id\":\"u_9-x\",\"name\":\"Dr. O'Neil (PhD), \\u00e9quipe!\"}]"},
  {"@[a [nested](agent:x)", "[{\"type\":\"mention\",\"kind\":\"agent\",\"id\":\"x\",\"name\":\"a [nested\"}]"},
  /* malformed mentions stay text */
  {"@[Sage](robot:k1)", "[{\"type\":\"text\",\"text\":\"@[Sage](robot:k1)\"}]"},
  {"@[Sage](agent:)", "[{\"type\":\"text\",\"text\":\"@[Sage](agent:)\"}]"},
  {"@[](agent:k1)", "[{\"type\":\"text\",\"text\":\"@[](agent:k1)\"}]"},
  {"@[Sage] (agent:k1)", "[{\"type\":\"text\",\"text\":\"@[Sage] (agent:k1)\"}]"},
  {"@[Sage](agent:k1", "[{\"type\":\"text\",\"text\":\"@[Sage](agent:k1\"}]"},
  {"@[Sa\nge](agent:k1)", "[{\"type\":\"text\",\"text\":\"@[Sa\\nge](agent:k1)\"}]"},
  {"@[Sage](agent:k 1)", "[{\"type\":\"text\",\"text\":\"@[Sage](agent:k 1)\"}]"},
  {"email me@[x](agent:y)", "[{\"type\":\"text\",\"text\":\"email me\"},"
   "{\"type\":\"mention\",\"kind\":\"agent\",\"id\":\"y\",\"name\":\"x\"}]"},
  {"@@[X](user:1)@", "[{\"type\":\"text\",\"text\":\"@\"},"
   "{\"type\":\"mention\",\"kind\":\"user\",\"id\":\"1\",\"name\":\"X\"},{\"type\":\"text\",\"text\":\"@\"}]"},
};

Test(mentions, table_of_contents)
{
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *parts = mentions_parts(cases[i].content, strlen(cases[i].content));
    cr_assert(parts, "case %zu", i);
    char *got = jv_dumps(parts);
    json_t *want = tu_json(cases[i].parts);
    char *want_text = jv_dumps(want);
    cr_assert_str_eq(got, want_text, "case %zu: %s", i, cases[i].content);
    one_free(got);
    one_free(want_text);
    json_decref(want);
    json_decref(parts);
  }
}

Test(mentions, limits)
{
  char name[MENTION_MAX_NAME + 2];
  memset(name, 'n', sizeof name - 1);
  name[sizeof name - 1] = '\0';
  char text[512];
  snprintf(text, sizeof text, "@[%s](agent:x)", name); /* 201 bytes: too long */
  struct mention m[4];
  cr_assert_eq(mentions_find(text, strlen(text), m, 4), 0);
  snprintf(text, sizeof text, "@[%.*s](agent:x)", MENTION_MAX_NAME, name);
  cr_assert_eq(mentions_find(text, strlen(text), m, 4), 1);
  cr_assert_eq(m[0].name_len, MENTION_MAX_NAME);
  char many[4096] = "";
  for (int i = 0; i < 10; i++)
    strcat(many, "@[a](user:b) ");
  cr_assert_eq(mentions_find(many, strlen(many), m, 4), 4, "never more than asked for");
}
