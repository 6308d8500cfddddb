/* handlers_usage: what model calls cost (domain/usage.c) and the eval
 * runner (domain/evals.c). */
#include "domain/evals.h"
#include "domain/usage.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_me_usage, usage_mine, OPF_RANGE)
OP_HANDLER(h_agent_usage, usage_of_agent, OPF_RANGE)
OP_HANDLER(h_admin_usage, usage_all, OPF_RANGE)
OP_HANDLER(h_evals_run, evals_run, OPF_OPTBODY)
