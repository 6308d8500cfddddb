/* handlers_admin: the migration's state and the feature flags, for
 * administrators (domain/admin.c). */
#include "domain/admin.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_admin_migrations, admin_migrations, 0)
OP_HANDLER(h_admin_flags_list, admin_flags_list, 0)
OP_HANDLER(h_admin_flags_set, admin_flags_set, OPF_BODY)
