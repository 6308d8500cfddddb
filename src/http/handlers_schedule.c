/* handlers_schedule: my events and reminders by time (domain/schedule.c).
 * Events, reminders and broadcasts are written through /tables, where
 * domain/schedule.c checks them and queues what they do at their time. */
#include "domain/schedule.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_me_events, schedule_my_events, OPF_PAGE | OPF_RANGE)
OP_HANDLER(h_me_reminders, schedule_my_reminders, OPF_PAGE | OPF_RANGE)
