/* routes: the one table of ONE's HTTP routes.
 *
 * How to add a route: write the handler (`void h(struct http_req *,
 * struct http_res *)`) in the http/handlers_*.c of its area, declare it
 * below, and add a row to `routes[]` in routes.c: method, pattern (literal
 * segments and {name} parameters, e.g. "/api/v1/agents/{id}"), handler,
 * flags, and a one-line summary (the OpenAPI document and `one help serve`
 * are made from the table). The router answers 404 for unknown paths and 405
 * (with Allow) for known paths with another method. */
#ifndef ONE_HTTP_ROUTES_H
#define ONE_HTTP_ROUTES_H

#include "http/http.h"

enum route_flags {
  ROUTE_PUBLIC = 0,      /* no session needed */
  ROUTE_AUTH = 1,        /* a signed-in user or token */
  ROUTE_ADMIN = 2,       /* an administrator */
};

struct route {
  const char *method;
  const char *pattern;
  http_handler handler;
  int flags;
  const char *summary;
};

extern const struct route routes[];
extern const size_t nroutes;

/* Finds the route for method and path: returns its index and fills params,
 * or -1 (not found; *allow is set to the methods the path has, "" if none). */
int route_match(const char *method, const char *path, const char **params, size_t *nparams,
                char *segbuf, size_t segbuf_len, char *allow, size_t allow_len);

/* handlers_openapi.c: the OpenAPI document made from routes[] */
void h_openapi(struct http_req *req, struct http_res *res);
/* Builds the OpenAPI 3 document (new reference). */
json_t *openapi_document(void);

/* handlers_auth.c */
void h_signup(struct http_req *req, struct http_res *res);
void h_signin(struct http_req *req, struct http_res *res);
void h_signout(struct http_req *req, struct http_res *res);
void h_session(struct http_req *req, struct http_res *res);
void h_tokens_list(struct http_req *req, struct http_res *res);
void h_tokens_create(struct http_req *req, struct http_res *res);
void h_tokens_revoke(struct http_req *req, struct http_res *res);
void h_me(struct http_req *req, struct http_res *res);
void h_me_update(struct http_req *req, struct http_res *res);
void h_user_get(struct http_req *req, struct http_res *res);

/* handlers_agents.c */
void h_agents_list(struct http_req *req, struct http_res *res);
void h_agents_create(struct http_req *req, struct http_res *res);
void h_agents_get(struct http_req *req, struct http_res *res);
void h_agents_update(struct http_req *req, struct http_res *res);
void h_agents_delete(struct http_req *req, struct http_res *res);
void h_agents_share(struct http_req *req, struct http_res *res);
void h_agents_unshare(struct http_req *req, struct http_res *res);
void h_tools_list(struct http_req *req, struct http_res *res);
void h_tools_create(struct http_req *req, struct http_res *res);
void h_admin_migrations(struct http_req *req, struct http_res *res);
void h_admin_flags_list(struct http_req *req, struct http_res *res);
void h_admin_flags_set(struct http_req *req, struct http_res *res);
void h_admin_jobs(struct http_req *req, struct http_res *res);
void h_flows_list(struct http_req *req, struct http_res *res);
void h_me_progress(struct http_req *req, struct http_res *res);
void h_progress_put(struct http_req *req, struct http_res *res);
void h_reactions_list(struct http_req *req, struct http_res *res);
void h_reactions_toggle(struct http_req *req, struct http_res *res);
void h_comments_list(struct http_req *req, struct http_res *res);
void h_comments_add(struct http_req *req, struct http_res *res);
void h_tags_list(struct http_req *req, struct http_res *res);
void h_tags_create(struct http_req *req, struct http_res *res);
void h_tags_apply(struct http_req *req, struct http_res *res);
void h_tags_remove(struct http_req *req, struct http_res *res);
void h_follows_add(struct http_req *req, struct http_res *res);
void h_follows_remove(struct http_req *req, struct http_res *res);
void h_follows_mine(struct http_req *req, struct http_res *res);
void h_follows_of_me(struct http_req *req, struct http_res *res);
void h_feed(struct http_req *req, struct http_res *res);
void h_assign_put(struct http_req *req, struct http_res *res);
void h_assignments_list(struct http_req *req, struct http_res *res);
void h_web_index(struct http_req *req, struct http_res *res);
void h_web_file(struct http_req *req, struct http_res *res);
void h_me_usage(struct http_req *req, struct http_res *res);
void h_agent_usage(struct http_req *req, struct http_res *res);
void h_admin_usage(struct http_req *req, struct http_res *res);
void h_evals_run(struct http_req *req, struct http_res *res);
void h_me_events(struct http_req *req, struct http_res *res);
void h_me_reminders(struct http_req *req, struct http_res *res);
void h_knowledge_list(struct http_req *req, struct http_res *res);
void h_knowledge_create(struct http_req *req, struct http_res *res);
void h_knowledge_search(struct http_req *req, struct http_res *res);
void h_admin_migration_start(struct http_req *req, struct http_res *res);
void h_admin_job_cancel(struct http_req *req, struct http_res *res);
void h_agent_tools_list(struct http_req *req, struct http_res *res);
void h_agent_tools_set(struct http_req *req, struct http_res *res);
void h_agent_tools_remove(struct http_req *req, struct http_res *res);

/* handlers_conversations.c */
void h_conversations_list(struct http_req *req, struct http_res *res);
void h_conversations_create(struct http_req *req, struct http_res *res);
void h_conversations_get(struct http_req *req, struct http_res *res);
void h_conversations_update(struct http_req *req, struct http_res *res);
void h_participants_list(struct http_req *req, struct http_res *res);
void h_participants_add(struct http_req *req, struct http_res *res);
void h_participants_update(struct http_req *req, struct http_res *res);
void h_participants_remove(struct http_req *req, struct http_res *res);
void h_participants_leave(struct http_req *req, struct http_res *res);
void h_messages_list(struct http_req *req, struct http_res *res);
void h_messages_search(struct http_req *req, struct http_res *res);
void h_messages_send(struct http_req *req, struct http_res *res);
void h_messages_update(struct http_req *req, struct http_res *res);

/* handlers_stream.c */
void h_conversation_stream(struct http_req *req, struct http_res *res);
void h_me_stream(struct http_req *req, struct http_res *res);

/* handlers_tables.c */
void h_tables_list(struct http_req *req, struct http_res *res);
void h_tables_insert(struct http_req *req, struct http_res *res);
void h_tables_get(struct http_req *req, struct http_res *res);
void h_tables_patch(struct http_req *req, struct http_res *res);
void h_tables_delete(struct http_req *req, struct http_res *res);

/* handlers_health.c */
void h_healthz(struct http_req *req, struct http_res *res);
void h_readyz(struct http_req *req, struct http_res *res);
void h_metrics(struct http_req *req, struct http_res *res);

#endif
