/* plan: what the agent-inbox to ONE migration does about each difference.
 * docs/migrations.md explains each conversion and why. */
#include "migrate/plan.h"

#include <string.h>

static const struct {
  const char *table, *name, *resolution;
} resolutions[] = {
  {"users", "name", "backfill: the name part of the email, else the phone number, else "
   "\"Anonymous user\"; recorded in migrationLegacy as derived, so down removes it"},
  {"users", "email", "backfill: <user id>@users.invalid (a reserved domain, never "
   "deliverable) for users without one; recorded in migrationLegacy as derived"},
  {"users", "createdAt", "backfill: from _creationTime"},
  {"users", "phoneNumbers", "backfill: [phone] for users with a phone"},
  {"users", "phone", "kept: copied into phoneNumbers; the field itself moves to "
   "migrationLegacy at contract"},
  {"users", "emailVerificationTime", "kept: moves to migrationLegacy at contract"},
  {"users", "phoneVerificationTime", "kept: moves to migrationLegacy at contract"},
  {"users", "isAnonymous", "kept: moves to migrationLegacy at contract"},
  {"agents", "prompt", "backfill: personality, goal, systemPrompt and instructions joined "
   "(each non-empty part once, labelled), so no part is lost"},
  {"agents", "personality", "folded into prompt by backfill; the original moves to "
   "migrationLegacy at contract"},
  {"agents", "goal", "folded into prompt by backfill; moves to migrationLegacy at contract"},
  {"agents", "systemPrompt", "folded into prompt by backfill; moves to migrationLegacy at "
   "contract"},
  {"agents", "instructions", "folded into prompt by backfill; moves to migrationLegacy at "
   "contract"},
  {"agents", "tools", "backfill: each tool name becomes the id of its tools document "
   "(created when missing), in the same order"},
  {"agents", "createdAt", "backfill: from _creationTime"},
  {"agents", "systemAgentKind", "the triage agent's duty passes to the Director (created "
   "when missing, added wherever triage takes part); the field moves to migrationLegacy "
   "at contract"},
  {"agents", "lastActiveTime", "kept: moves to migrationLegacy at contract"},
  {"conversations", "createdAt", "backfill: from _creationTime"},
  {"conversationMessages", "authorParticipantId", "backfill: a system message's author is "
   "the participant of the agent its meta names, else the conversation's Director "
   "participant (added, marked removed, when there is none)"},
  {"conversationMessages", "createdAt", "backfill: from _creationTime"},
  {"authSessions", "", "kept as a table outside the schema (ONE has its own sessions); "
   "exported as it is"},
  {"authAccounts", "", "kept as a table outside the schema (ONE has its own accounts); "
   "exported as it is"},
  {"authRefreshTokens", "", "kept as a table outside the schema; exported as it is"},
  {"authVerificationCodes", "", "kept as a table outside the schema; exported as it is"},
  {"authVerifiers", "", "kept as a table outside the schema; exported as it is"},
  {"authRateLimits", "", "kept as a table outside the schema; exported as it is"},
};

const char *plan_resolution(const char *table, const char *name)
{
  for (size_t i = 0; i < sizeof resolutions / sizeof resolutions[0]; i++)
    if (strcmp(resolutions[i].table, table) == 0 && strcmp(resolutions[i].name, name) == 0)
      return resolutions[i].resolution;
  return NULL;
}
