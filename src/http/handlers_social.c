/* handlers_social: reactions, comments, tags, follows and the feed
 * (domain/social.c). */
#include "domain/social.h"
#include "http/handlers.h"
#include "http/routes.h"

OP_HANDLER(h_reactions_list, reactions_list, OPF_PAGE)
OP_HANDLER(h_reactions_toggle, reactions_toggle, OPF_BODY)
OP_HANDLER(h_comments_list, comments_list, OPF_PAGE)
OP_HANDLER(h_comments_add, comments_add, OPF_BODY)
OP_HANDLER(h_tags_list, tags_list, OPF_PAGE)
OP_HANDLER(h_tags_create, tags_create, OPF_BODY)
OP_HANDLER(h_tags_apply, tags_apply, OPF_OPTBODY)
OP_HANDLER(h_tags_remove, tags_remove, 0)
OP_HANDLER(h_follows_add, follows_add, OPF_OPTBODY)
OP_HANDLER(h_follows_remove, follows_remove, OPF_NOBODY)
OP_HANDLER(h_follows_mine, follows_mine, OPF_PAGE)
OP_HANDLER(h_follows_of_me, follows_of_me, OPF_PAGE)
OP_HANDLER(h_feed, feed_list, OPF_PAGE)
