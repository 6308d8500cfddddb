/* handlers_knowledge: the knowledge base and its search
 * (domain/knowledge.c). */
#include "domain/knowledge.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_knowledge_list, knowledge_list, OPF_PAGE | OPF_OWNER)
OP_HANDLER(h_knowledge_create, knowledge_create, OPF_BODY)
OP_HANDLER(h_knowledge_search, knowledge_search, OPF_BODY)
