/* handlers_admin: the migration's state, the feature flags and the job queue, for
 * administrators (domain/admin.c). */
#include "domain/admin.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_admin_migrations, admin_migrations, 0)
OP_HANDLER(h_admin_flags_list, admin_flags_list, 0)
OP_HANDLER(h_admin_flags_set, admin_flags_set, OPF_BODY)
OP_HANDLER(h_admin_job_cancel, admin_job_cancel, 0)
OP_HANDLER(h_admin_migration_start, admin_migration_start, OPF_OPTBODY)
OP_HANDLER(h_admin_jobs, admin_jobs, OPF_PAGE | OPF_STATE)
