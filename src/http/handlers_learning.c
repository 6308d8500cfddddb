/* handlers_learning: learning flows and where I stand in them
 * (domain/learning.c). */
#include "domain/learning.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_flows_list, learning_flows_list, OPF_PAGE)
OP_HANDLER(h_me_progress, learning_me, 0)
OP_HANDLER(h_progress_put, learning_progress_put, OPF_BODY)
OP_HANDLER(h_assign_put, learning_assign_put, OPF_BODY)
OP_HANDLER(h_assignments_list, learning_assignments_list, 0)
