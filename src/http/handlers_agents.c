/* handlers_agents: agents, sharing, the tool catalogue and per-agent tools.
 * The rules are in domain/agents.c. */
#include "http/handlers.h"
#include "http/routes.h"

#include "domain/agents.h"

OP_HANDLER(h_agents_list, agents_list, OPF_PAGE)
OP_HANDLER(h_agents_create, agents_create, OPF_BODY)
OP_HANDLER(h_agents_get, agents_get, 0)
OP_HANDLER(h_agents_update, agents_update, OPF_BODY)
OP_HANDLER(h_agents_delete, agents_delete, OPF_NOBODY)
OP_HANDLER(h_agents_share, agents_share, OPF_BODY)
OP_HANDLER(h_agents_unshare, agents_unshare, 0)
OP_HANDLER(h_tools_list, tools_list, OPF_PAGE)
OP_HANDLER(h_tools_create, tools_create, OPF_BODY)
OP_HANDLER(h_agent_tools_list, agent_tools_list, OPF_PAGE)
OP_HANDLER(h_agent_tools_set, agent_tools_set, OPF_OPTBODY)
OP_HANDLER(h_agent_tools_remove, agent_tools_remove, OPF_NOBODY)
