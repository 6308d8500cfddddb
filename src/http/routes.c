/* routes: the route table and the matcher. */
#include "http/routes.h"

#include <stdio.h>
#include <string.h>

#define V1 "/api/v1"
#define CONV V1 "/conversations/{id}"

const struct route routes[] = {
  {"GET", "/", h_web_index, ROUTE_PUBLIC, "the web app"},
  {"GET", "/app/{file}", h_web_file, ROUTE_PUBLIC, "the web app's scripts, styles and images"},
  {"GET", "/healthz", h_healthz, ROUTE_PUBLIC, "liveness: the process answers"},
  {"GET", "/readyz", h_readyz, ROUTE_PUBLIC, "readiness: the database answers"},
  {"GET", "/metrics", h_metrics, ROUTE_PUBLIC, "Prometheus metrics"},
  {"GET", V1 "/openapi.json", h_openapi, ROUTE_PUBLIC, "this API as an OpenAPI 3 document"},

  {"POST", V1 "/auth/signup", h_signup, ROUTE_PUBLIC,
   "create an account and sign in: {email, password, name?, session?: \"token\"|\"cookie\"}"},
  {"POST", V1 "/auth/signin", h_signin, ROUTE_PUBLIC,
   "sign in: {email, password, session?: \"token\"|\"cookie\"}; 429 with Retry-After after "
   "repeated failures"},
  {"POST", V1 "/auth/signout", h_signout, ROUTE_AUTH, "end this session"},
  {"GET", V1 "/auth/session", h_session, ROUTE_AUTH,
   "who is signed in, and the CSRF token of a cookie session"},

  {"GET", V1 "/me", h_me, ROUTE_AUTH, "my profile, with my role"},
  {"PATCH", V1 "/me", h_me_update, ROUTE_AUTH,
   "update my profile (name, image, phoneNumbers, emails, addresses, organization, jobTitle, "
   "birthday, notes, photoUrl; null removes)"},
  {"GET", V1 "/me/tokens", h_tokens_list, ROUTE_AUTH, "my personal API tokens"},
  {"POST", V1 "/me/tokens", h_tokens_create, ROUTE_AUTH,
   "create a personal API token: {name}; the token is shown once"},
  {"DELETE", V1 "/me/tokens/{id}", h_tokens_revoke, ROUTE_AUTH, "revoke a personal API token"},
  {"GET", V1 "/me/stream", h_me_stream, ROUTE_AUTH,
   "Server-Sent Events of changes to my conversations (resumable with Last-Event-ID)"},
  {"GET", V1 "/users/{id}", h_user_get, ROUTE_AUTH, "a user's public profile"},

  {"GET", V1 "/agents", h_agents_list, ROUTE_AUTH, "public agents, then my private ones (paged)"},
  {"POST", V1 "/agents", h_agents_create, ROUTE_AUTH,
   "create an agent: {name, description, prompt?, visibility?, delegatesTo?, …}"},
  {"GET", V1 "/agents/{id}", h_agents_get, ROUTE_AUTH, "an agent's profile"},
  {"PATCH", V1 "/agents/{id}", h_agents_update, ROUTE_AUTH,
   "update an agent (its creator; system agents: administrators); null removes a field"},
  {"DELETE", V1 "/agents/{id}", h_agents_delete, ROUTE_AUTH, "delete an agent (as for update)"},
  {"POST", V1 "/agents/{id}/sharing", h_agents_share, ROUTE_AUTH,
   "share an agent with a user: {userId}"},
  {"DELETE", V1 "/agents/{id}/sharing/{userId}", h_agents_unshare, ROUTE_AUTH,
   "stop sharing an agent with a user"},
  {"GET", V1 "/agents/{id}/tools", h_agent_tools_list, ROUTE_AUTH, "the tools enabled for an agent"},
  {"PUT", V1 "/agents/{id}/tools/{toolId}", h_agent_tools_set, ROUTE_AUTH,
   "enable a tool for an agent, with its per-agent config: {config?}"},
  {"DELETE", V1 "/agents/{id}/tools/{toolId}", h_agent_tools_remove, ROUTE_AUTH,
   "disable a tool for an agent"},
  {"GET", V1 "/tools", h_tools_list, ROUTE_AUTH, "the tool catalogue"},
  {"POST", V1 "/tools", h_tools_create, ROUTE_ADMIN,
   "add a tool to the catalogue: {name, description, config?}"},

  {"GET", V1 "/conversations", h_conversations_list, ROUTE_AUTH,
   "my conversations, the latest message first (paged)"},
  {"POST", V1 "/conversations", h_conversations_create, ROUTE_AUTH,
   "start a conversation: {title, tags?, agents?: [id], users?: [id]}"},
  {"GET", CONV, h_conversations_get, ROUTE_AUTH, "a conversation"},
  {"PATCH", CONV, h_conversations_update, ROUTE_AUTH, "rename or retag: {title?, tags?}"},
  {"GET", CONV "/participants", h_participants_list, ROUTE_AUTH, "the participants (paged)"},
  {"POST", CONV "/participants", h_participants_add, ROUTE_AUTH,
   "add a participant: {kind: \"user\", userId or email} or {kind: \"agent\", agentId}"},
  {"PATCH", CONV "/participants/{pid}", h_participants_update, ROUTE_AUTH,
   "set a participant's status: {status} (the participant, or an administrator)"},
  {"DELETE", CONV "/participants/{pid}", h_participants_remove, ROUTE_AUTH,
   "remove a participant (not a system agent; other people: the creator only)"},
  {"POST", CONV "/leave", h_participants_leave, ROUTE_AUTH, "leave a conversation"},
  {"GET", CONV "/messages", h_messages_list, ROUTE_AUTH,
   "messages, newest first (paged), each with its parts"},
  {"POST", CONV "/search", h_messages_search, ROUTE_AUTH,
   "search the conversation's messages by their words: {query, limit?} (best first)"},
  {"POST", CONV "/messages", h_messages_send, ROUTE_AUTH,
   "send a message: {content, type?, tags?, attachments?, step?}; mentions add participants"},
  {"PATCH", CONV "/messages/{mid}", h_messages_update, ROUTE_AUTH,
   "edit my message: {content?, tags?}"},
  {"GET", CONV "/messages/{mid}/reactions", h_reactions_list, ROUTE_AUTH,
   "a message's reactions (paged)"},
  {"POST", CONV "/messages/{mid}/reactions", h_reactions_toggle, ROUTE_AUTH,
   "react to a message, or take the reaction back when I gave it already: {type} (\"like\", "
   "\"love\", an emoji…); answers the message's counts"},
  {"GET", CONV "/messages/{mid}/comments", h_comments_list, ROUTE_AUTH,
   "a message's comments, oldest first (paged)"},
  {"POST", CONV "/messages/{mid}/comments", h_comments_add, ROUTE_AUTH,
   "comment on a message: {content}"},
  {"GET", CONV "/stream", h_conversation_stream, ROUTE_AUTH,
   "Server-Sent Events of the conversation (resumable with Last-Event-ID)"},

  {"GET", V1 "/tags", h_tags_list, ROUTE_AUTH, "the tags, by name (paged)"},
  {"POST", V1 "/tags", h_tags_create, ROUTE_AUTH, "create a tag: {name, color?}"},
  {"PUT", V1 "/tags/{name}/items/{id}", h_tags_apply, ROUTE_AUTH,
   "tag an agent (its editors), a conversation or a message (its participants) or a knowledge "
   "item (its owner); the tag is created when there is none"},
  {"DELETE", V1 "/tags/{name}/items/{id}", h_tags_remove, ROUTE_AUTH,
   "take a tag off an agent, a conversation, a message or a knowledge item"},
  {"PUT", V1 "/follows/{id}", h_follows_add, ROUTE_AUTH, "follow a user or an agent"},
  {"DELETE", V1 "/follows/{id}", h_follows_remove, ROUTE_AUTH, "stop following"},
  {"GET", V1 "/me/following", h_follows_mine, ROUTE_AUTH, "whom I follow, newest first (paged)"},
  {"GET", V1 "/me/followers", h_follows_of_me, ROUTE_AUTH,
   "who follows me, newest first (paged)"},
  {"GET", V1 "/me/feed", h_feed, ROUTE_AUTH,
   "what the people and agents I follow posted in conversations I take part in, newest first "
   "(paged)"},

  {"GET", V1 "/me/usage", h_me_usage, ROUTE_AUTH,
   "what the model calls made for me cost: tokens, cost and calls in all and by day, model and "
   "agent, over ?from= (default: 30 days ago) to ?to= (ms since 1970)"},
  {"GET", V1 "/agents/{id}/usage", h_agent_usage, ROUTE_AUTH,
   "the same for an agent, for its editors"},
  {"POST", V1 "/evals/{id}/run", h_evals_run, ROUTE_AUTH,
   "replay one of my evals against its agent: the output, score and status land on the eval "
   "(GET /tables/evals/{id}); 409 while it is queued"},
  {"GET", V1 "/me/events", h_me_events, ROUTE_AUTH,
   "the events I created or take part in, by start time: ?from= (ms since 1970; default now), "
   "?to=, ?limit=; create, change or cancel them through /tables/events"},
  {"GET", V1 "/me/reminders", h_me_reminders, ROUTE_AUTH,
   "my reminders by time, fired ones with firedAt: ?from=, ?to=, ?limit=; create them through "
   "/tables/reminders (they fire on my me stream as \"reminder\")"},

  {"GET", V1 "/flows", h_flows_list, ROUTE_AUTH, "the learning flows with their steps (paged)"},
  {"GET", V1 "/me/progress", h_me_progress, ROUTE_AUTH,
   "where I stand in each learning flow: every step's state, times and my roles"},
  {"PUT", V1 "/flows/{id}/steps/{step}/progress", h_progress_put, ROUTE_AUTH,
   "move progress on a step: {status, notes?, userId? | agentId?} (mine by default; "
   "someone else's for the flow's creator and the step's owners and reviewers); states Not "
   "Started, In Progress, Completed, Blocked, Skipped; refused moves are 409"},
  {"PUT", V1 "/flows/{id}/steps/{step}/assignments", h_assign_put, ROUTE_AUTH,
   "assign a step: {role: owner|reviewer|contributor, userId? | agentId?} (me by default; "
   "others, and owner or reviewer, only by the flow's creator and the step's owners and "
   "reviewers); assigning the same person again changes the role"},
  {"GET", V1 "/flows/{id}/assignments", h_assignments_list, ROUTE_AUTH,
   "a flow's assignments: all of them for the flow's creator and its owners and reviewers, "
   "else mine and those I made"},

  {"GET", V1 "/knowledge", h_knowledge_list, ROUTE_AUTH,
   "knowledge items, newest first (paged): mine, or ?owner= an agent I may use"},
  {"POST", V1 "/knowledge", h_knowledge_create, ROUTE_AUTH,
   "add knowledge: {content, tags?, agentId?} (an agent's: its editors only); change or "
   "delete it through /tables/knowledge"},
  {"POST", V1 "/knowledge/search", h_knowledge_search, ROUTE_AUTH,
   "search knowledge: {query, mode?: text|vector|hybrid, owners?: [id], tags?: [string], "
   "limit?} (owners default to me)"},

  {"GET", V1 "/admin/usage", h_admin_usage, ROUTE_ADMIN,
   "what every model call cost, as /me/usage and also by user"},
  {"GET", V1 "/admin/migrations", h_admin_migrations, ROUTE_ADMIN,
   "the migration to ONE: schema, steps with progress, lock, last verification, failures, "
   "the newest log entries"},
  {"POST", V1 "/admin/migrations/{action}", h_admin_migration_start, ROUTE_ADMIN,
   "run a migration action in the background, as a job: up or down {to?}, verify, "
   "contract {confirm: true}"},
  {"GET", V1 "/admin/flags", h_admin_flags_list, ROUTE_ADMIN, "the feature flags"},
  {"PUT", V1 "/admin/flags/{name}", h_admin_flags_set, ROUTE_ADMIN,
   "turn a feature flag on or off: {on}"},
  {"GET", V1 "/admin/jobs", h_admin_jobs, ROUTE_ADMIN,
   "the job queue: counts by state, when the next job is due, and jobs newest first "
   "(?state=pending|running|done|failed|cancelled; paged)"},
  {"POST", V1 "/admin/jobs/{id}/cancel", h_admin_job_cancel, ROUTE_ADMIN,
   "cancel a pending or running job"},

  {"GET", V1 "/tables/{table}", h_tables_list, ROUTE_AUTH,
   "list a table by an index: ?index=&eq=[…]&order=asc|desc (paged; per-table policy)"},
  {"POST", V1 "/tables/{table}", h_tables_insert, ROUTE_AUTH, "insert a document (per-table policy)"},
  {"GET", V1 "/tables/{table}/{id}", h_tables_get, ROUTE_AUTH, "a document (per-table policy)"},
  {"PATCH", V1 "/tables/{table}/{id}", h_tables_patch, ROUTE_AUTH,
   "patch a document; null removes a field (per-table policy)"},
  {"DELETE", V1 "/tables/{table}/{id}", h_tables_delete, ROUTE_AUTH,
   "delete a document (per-table policy)"},
};

const size_t nroutes = sizeof routes / sizeof routes[0];

/* Compares pattern with path segment by segment; {x} segments match any
 * non-empty segment and are copied (NUL-ended) into segbuf for params. */
static int match(const char *pattern, const char *path, const char **params, size_t *np,
                 char *segbuf, size_t cap)
{
  const char *p = pattern, *q = path;
  size_t used = 0;
  *np = 0;
  while (*p && *q) {
    if (*p != '/' || *q != '/')
      return 0;
    p++;
    q++;
    if (*p != '{') { /* a literal segment: stop at the first difference */
      while (*p && *p != '/' && *p == *q) {
        p++;
        q++;
      }
      if ((*p && *p != '/') || (*q && *q != '/'))
        return 0;
      continue;
    }
    size_t pl = strcspn(p, "/"), ql = strcspn(q, "/");
    if (pl < 2 || p[pl - 1] != '}' || ql == 0 || *np == HTTP_MAX_PARAMS || used + ql + 1 > cap)
      return 0;
    memcpy(segbuf + used, q, ql);
    segbuf[used + ql] = '\0';
    params[(*np)++] = segbuf + used;
    used += ql + 1;
    p += pl;
    q += ql;
  }
  return *p == '\0' && *q == '\0';
}

int route_match(const char *method, const char *path, const char **params, size_t *nparams,
                char *segbuf, size_t segbuf_len, char *allow, size_t allow_len)
{
  allow[0] = '\0';
  const char *tmp[HTTP_MAX_PARAMS];
  size_t ntmp;
  for (size_t i = 0; i < nroutes; i++) {
    if (!match(routes[i].pattern, path, tmp, &ntmp, segbuf, segbuf_len))
      continue;
    if (strcmp(routes[i].method, method) == 0) {
      memcpy(params, tmp, ntmp * sizeof *tmp);
      *nparams = ntmp;
      return (int)i;
    }
    if (!strstr(allow, routes[i].method)) {
      size_t n = strlen(allow);
      snprintf(allow + n, allow_len - n, "%s%s", n ? ", " : "", routes[i].method);
    }
  }
  return -1;
}
