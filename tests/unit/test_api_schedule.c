/* End-to-end tests of scheduling through the real `one serve` and the fake
 * model server: events listed per person by time, with their checks and
 * permissions; reminders that fire on the person's me stream, also after a
 * kill -9 and a restart; broadcasts posted through the outbound webhook,
 * refused by it, or failed for want of one; and the createReminder and
 * scheduleEvent tools. */
#include "apiutil.h"
#include "fakellm.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static struct fakellm *fake;
static struct api_server srv;
static struct api_user alice, bob, carol;

static void setup(void)
{
  cr_assert(fake = fakellm_start(0));
  char hook[128];
  snprintf(hook, sizeof hook, "http://127.0.0.1:%u/webhook", fakellm_port(fake));
  setenv("ONE_LLM_BASE_URL", fakellm_url(fake), 1);
  setenv("ONE_LLM_MODEL", "fake-model", 1);
  setenv("ONE_BROADCAST_WEBHOOK_URL", hook, 1);
  setenv("ONE_JOB_LEASE_MS", "1500", 1);
  api_start(&srv);
  api_signup(&srv, "alice@example.com", &alice);
  api_signup(&srv, "bob@example.com", &bob);
  api_signup(&srv, "carol@example.com", &carol);
}

static void teardown(void)
{
  api_stop(&srv);
  fakellm_stop(fake);
  unsetenv("ONE_LLM_BASE_URL");
  unsetenv("ONE_LLM_MODEL");
  unsetenv("ONE_BROADCAST_WEBHOOK_URL");
  unsetenv("ONE_JOB_LEASE_MS");
}

TestSuite(api_schedule, .init = setup, .fini = teardown, .timeout = 180);

static double now_ms(void)
{
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0;
}

static void id_of(json_t *doc, char out[64])
{
  snprintf(out, 64, "%s", json_string_value(json_object_get(doc, "_id")));
  json_decref(doc);
}

/* The titles of u's events from `from`, in order, joined by commas. */
static void titles(const struct api_user *u, double from, char *out, size_t cap)
{
  char path[128];
  snprintf(path, sizeof path, "/api/v1/me/events?from=%.0f", from);
  json_t *page = api_expect(&srv, u->token, 200, "GET", path, NULL), *e;
  size_t i;
  out[0] = '\0';
  json_array_foreach(json_object_get(page, "items"), i, e) {
    size_t n = strlen(out);
    snprintf(out + n, cap - n, "%s%s", n ? "," : "", json_string_value(json_object_get(e, "title")));
  }
  json_decref(page);
}

Test(api_schedule, events_are_listed_per_person_by_start_time)
{
  double t = now_ms() + 3600e3;
  char later[64], sooner[64], sage[64], got[512], path[160];
  api_agent_id(&srv, &alice, "Sage", sage);
  id_of(api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/events",
                   "{\"title\":\"Later\",\"startTime\":%.0f,\"endTime\":%.0f,\"createdBy\":\"%s\","
                   "\"participants\":[\"%s\",\"%s\"],\"createdAt\":1}",
                   t + 7200e3, t + 9000e3, alice.id, bob.id, sage), later);
  id_of(api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/events",
                   "{\"title\":\"Sooner\",\"startTime\":%.0f,\"endTime\":%.0f,\"createdBy\":\"%s\","
                   "\"participants\":[\"%s\",\"%s\"],\"createdAt\":1}",
                   t, t + 1800e3, alice.id, alice.id, bob.id), sooner);
  titles(&alice, 0, got, sizeof got);
  cr_expect_str_eq(got, "Sooner,Later", "the creator's, by start, once each");
  titles(&bob, 0, got, sizeof got);
  cr_expect_str_eq(got, "Sooner,Later", "a participant's");
  titles(&bob, t + 1, got, sizeof got);
  cr_expect_str_eq(got, "Later", "from a time on");
  titles(&carol, 0, got, sizeof got);
  cr_expect_str_eq(got, "", "nothing of others'");
  /* only the creator changes it; a participant taken off no longer sees it */
  snprintf(path, sizeof path, "/api/v1/tables/events/%s", later);
  json_decref(api_expect(&srv, bob.token, 403, "PATCH", path, "{\"title\":\"Mine now\"}"));
  json_decref(api_expect(&srv, carol.token, 404, "GET", path, NULL));
  json_decref(api_expect(&srv, alice.token, 200, "PATCH", path,
                         "{\"participants\":[\"%s\"]}", sage));
  titles(&bob, 0, got, sizeof got);
  cr_expect_str_eq(got, "Sooner");
  snprintf(path, sizeof path, "/api/v1/tables/events/%s", sooner);
  json_decref(api_expect(&srv, alice.token, 204, "DELETE", path, NULL));
  titles(&bob, 0, got, sizeof got);
  cr_expect_str_eq(got, "", "a deleted event leaves no one's list");
  /* bad input: an end before the start, someone who is nobody, a bad range */
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/tables/events",
                         "{\"title\":\"Backwards\",\"startTime\":%.0f,\"endTime\":%.0f,"
                         "\"createdBy\":\"%s\",\"createdAt\":1}", t, t - 1, alice.id));
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/tables/events",
                         "{\"title\":\"Ghost\",\"startTime\":%.0f,\"endTime\":%.0f,"
                         "\"createdBy\":\"%s\",\"participants\":[\"nobody\"],\"createdAt\":1}",
                         t, t, alice.id));
  json_decref(api_expect(&srv, alice.token, 403, "POST", "/api/v1/tables/events",
                         "{\"title\":\"As Bob\",\"startTime\":%.0f,\"endTime\":%.0f,"
                         "\"createdBy\":\"%s\",\"createdAt\":1}", t, t, bob.id));
  json_decref(api_expect(&srv, alice.token, 400, "GET", "/api/v1/me/events?from=soon", NULL));
  titles(&alice, 0, got, sizeof got);
  cr_expect_str_eq(got, "Later", "nothing refused was kept");
}

/* The reminder's firedAt (0 when it has not fired). */
static double fired_at(const struct api_user *u, const char *id)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/tables/reminders/%s", id);
  json_t *r = api_expect(&srv, u->token, 200, "GET", path, NULL);
  double at = json_number_value(json_object_get(r, "firedAt"));
  json_decref(r);
  return at;
}

Test(api_schedule, reminders_fire_on_the_me_stream_after_a_restart)
{
  char soon[64], later[64];
  double t = (double)(long long)now_ms(); /* whole ms, as the body carries it */
  id_of(api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/reminders",
                   "{\"userId\":\"%s\",\"message\":\"Call the supplier\",\"remindAt\":%.0f,"
                   "\"createdAt\":1}", alice.id, t + 2500), soon);
  id_of(api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/reminders",
                   "{\"userId\":\"%s\",\"message\":\"Next year\",\"remindAt\":%.0f,"
                   "\"createdAt\":1}", alice.id, t + 365 * 86400e3), later);
  api_kill9(&srv); /* the reminder waits in the database */
  api_relaunch(&srv);
  struct api_stream *st = api_stream_open(&srv, "/api/v1/me/stream", alice.token, NULL);
  cr_assert(api_stream_wait(st, "Call the supplier", 30000), "the reminder reached the stream");
  char *text = api_stream_text(st);
  cr_expect(strstr(text, "event: reminder"), "as a reminder event: %s", text);
  cr_expect(!strstr(text, "Next year"));
  free(text);
  api_stream_close(st);
  cr_expect_geq(fired_at(&alice, soon), t + 2500, "fired at its time, not before: %.0f < %.0f",
                fired_at(&alice, soon), t + 2500);
  cr_expect_eq(fired_at(&alice, later), 0);
  json_t *mine = api_expect(&srv, alice.token, 200, "GET", "/api/v1/me/reminders", NULL);
  cr_expect_eq(json_array_size(json_object_get(mine, "items")), 2, "by time, fired or not");
  json_decref(mine);
  /* nobody sets firedAt but the scheduler; nobody sets reminders for others */
  char path[160];
  snprintf(path, sizeof path, "/api/v1/tables/reminders/%s", later);
  json_decref(api_expect(&srv, alice.token, 422, "PATCH", path, "{\"firedAt\":1}"));
  json_decref(api_expect(&srv, bob.token, 404, "PATCH", path, "{\"message\":\"x\"}"));
  json_decref(api_expect(&srv, bob.token, 403, "POST", "/api/v1/tables/reminders",
                         "{\"userId\":\"%s\",\"message\":\"m\",\"remindAt\":1,\"createdAt\":1}",
                         alice.id));
  char sage[64];
  api_agent_id(&srv, &alice, "Sage", sage);
  json_decref(api_expect(&srv, alice.token, 403, "POST", "/api/v1/tables/reminders",
                         "{\"agentId\":\"%s\",\"message\":\"m\",\"remindAt\":1,\"createdAt\":1}",
                         sage)); /* a seeded agent is not alice's to edit */
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/tables/reminders",
                         "{\"message\":\"for no one\",\"remindAt\":1,\"createdAt\":1}"));
}

/* Waits (a guard, not a timing assertion) for the broadcast to leave
 * "scheduled"; returns it. */
static json_t *settled(const char *id)
{
  char path[160];
  snprintf(path, sizeof path, "/api/v1/tables/broadcasts/%s", id);
  for (int i = 0; i < 3000; i++) {
    json_t *b = api_expect(&srv, alice.token, 200, "GET", path, NULL);
    if (strcmp(json_string_value(json_object_get(b, "status")), "scheduled") != 0)
      return b;
    json_decref(b);
    tu_sleep_ms(10);
  }
  cr_assert_fail("broadcast %s was never dealt with", id);
  return NULL;
}

static void broadcast(const char *content, const char *status, double at, char out[64])
{
  id_of(api_expect(&srv, alice.token, 201, "POST", "/api/v1/tables/broadcasts",
                   "{\"platform\":\"x\",\"content\":\"%s\",\"scheduledTime\":%.0f,\"status\":"
                   "\"%s\",\"createdBy\":\"%s\",\"createdAt\":1}", content, at, status, alice.id),
        out);
}

Test(api_schedule, broadcasts_go_out_through_the_webhook_or_fail_with_a_reason)
{
  char ok[64], refused[64], cancelled[64], path[160];
  broadcast("cancelled before its time", "scheduled", now_ms() + 1500, cancelled);
  snprintf(path, sizeof path, "/api/v1/tables/broadcasts/%s", cancelled);
  json_decref(api_expect(&srv, alice.token, 200, "PATCH", path, "{\"status\":\"cancelled\"}"));
  broadcast("Spring sale starts today", "scheduled", now_ms(), ok);
  broadcast("please refuse me", "scheduled", now_ms(), refused);
  json_t *b = settled(ok);
  cr_expect_str_eq(json_string_value(json_object_get(b, "status")), "posted");
  cr_expect(strstr(json_string_value(json_object_get(b, "result")), "p-1"), "the webhook's answer");
  json_decref(b);
  b = settled(refused);
  cr_expect_str_eq(json_string_value(json_object_get(b, "status")), "failed");
  cr_expect(strstr(json_string_value(json_object_get(b, "result")), "422"), "with why");
  json_decref(b);
  /* a posted broadcast is history; only the scheduler posts */
  snprintf(path, sizeof path, "/api/v1/tables/broadcasts/%s", ok);
  json_decref(api_expect(&srv, alice.token, 409, "PATCH", path, "{\"content\":\"edited\"}"));
  json_decref(api_expect(&srv, alice.token, 422, "POST", "/api/v1/tables/broadcasts",
                         "{\"platform\":\"x\",\"content\":\"c\",\"scheduledTime\":1,\"status\":"
                         "\"posted\",\"createdBy\":\"%s\",\"createdAt\":1}", alice.id));
  json_decref(api_expect(&srv, bob.token, 404, "GET", path, NULL));
  tu_sleep_ms(2500); /* past the cancelled one's time */
  json_t *hooks = fakellm_webhooks(fake);
  cr_expect_eq(json_array_size(hooks), 2, "the cancelled one never went out");
  char *all = json_dumps(hooks, 0);
  cr_expect(strstr(all, "Spring sale") && !strstr(all, "cancelled before"), "%s", all);
  free(all);
  json_decref(hooks);
  snprintf(path, sizeof path, "/api/v1/tables/broadcasts/%s", cancelled);
  b = api_expect(&srv, alice.token, 200, "GET", path, NULL);
  cr_expect_str_eq(json_string_value(json_object_get(b, "status")), "cancelled");
  json_decref(b);
  /* without a webhook: failed, saying what to set */
  api_kill9(&srv);
  unsetenv("ONE_BROADCAST_WEBHOOK_URL");
  api_relaunch(&srv);
  broadcast("nowhere to go", "scheduled", now_ms(), ok);
  b = settled(ok);
  cr_expect_str_eq(json_string_value(json_object_get(b, "status")), "failed");
  cr_expect(strstr(json_string_value(json_object_get(b, "result")), "ONE_BROADCAST_WEBHOOK_URL"));
  json_decref(b);
}

Test(api_schedule, agents_set_reminders_and_schedule_events_with_their_tools)
{
  char director[64], conv[64], path[200], got[512];
  api_agent_id(&srv, &alice, "Director", director);
  json_t *c = api_expect(&srv, alice.token, 201, "POST", "/api/v1/conversations",
                         "{\"title\":\"plans\",\"agents\":[\"%s\"],\"users\":[\"%s\"]}", director,
                         bob.id);
  snprintf(conv, sizeof conv, "%s", json_string_value(json_object_get(c, "_id")));
  json_decref(c);
  char rules[2000];
  snprintf(rules, sizeof rules,
           "[{\"match\":\"You are Director\",\"times\":1,\"tool_calls\":[{\"name\":\"createReminder\","
           "\"arguments\":{\"message\":\"Send the draft to Bob\",\"delayMinutes\":0.02}},"
           "{\"name\":\"scheduleEvent\",\"arguments\":{\"title\":\"Launch review\","
           "\"startInMinutes\":60,\"durationMinutes\":30,\"participants\":[\"%s\"]}}]},"
           "{\"match\":\"You are Director\",\"reply\":\"Reminder set and review booked.\"}]",
           bob.id);
  cr_assert_eq(fakellm_script(fake, rules), 0);
  struct api_stream *st = api_stream_open(&srv, "/api/v1/me/stream", alice.token, NULL);
  snprintf(path, sizeof path, "/api/v1/conversations/%s/messages", conv);
  json_decref(api_expect(&srv, alice.token, 201, "POST", path,
                         "{\"content\":\"Remind me to send the draft, and book a review.\"}"));
  cr_assert(api_stream_wait(st, "Send the draft to Bob", 60000), "the agent's reminder fired");
  api_stream_close(st);
  titles(&alice, 0, got, sizeof got);
  cr_expect_str_eq(got, "Launch review");
  titles(&bob, 0, got, sizeof got);
  cr_expect_str_eq(got, "Launch review", "a person of the conversation named");
  titles(&carol, 0, got, sizeof got);
  cr_expect_str_eq(got, "");
}
