/* handlers_conversations: conversations, participants and messages. The
 * rules (who may see, add, remove, mention) are in domain/conversations.c. */
#include "http/handlers.h"
#include "http/routes.h"

#include "domain/conversations.h"

OP_HANDLER(h_conversations_list, conversations_list, OPF_PAGE)
OP_HANDLER(h_conversations_create, conversations_create, OPF_BODY)
OP_HANDLER(h_conversations_get, conversations_get, 0)
OP_HANDLER(h_conversations_update, conversations_update, OPF_BODY)
OP_HANDLER(h_participants_list, participants_list, OPF_PAGE)
OP_HANDLER(h_participants_add, participants_add, OPF_BODY)
OP_HANDLER(h_participants_update, participants_update, OPF_BODY)
OP_HANDLER(h_participants_remove, participants_remove, 0)
OP_HANDLER(h_participants_leave, participants_leave, 0)
OP_HANDLER(h_messages_list, messages_list, OPF_PAGE)
OP_HANDLER(h_messages_search, messages_search, OPF_BODY)
OP_HANDLER(h_messages_send, messages_send, OPF_BODY)
OP_HANDLER(h_messages_update, messages_update, OPF_BODY)
