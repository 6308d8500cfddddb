/* seed: the system agents, their tools, a prompt template for each Elevate
 * step and the default learning flow (seed/team.json, embedded in the
 * binary), created in one transaction where they are missing.
 *
 * Idempotent: a tool, prompt or system agent that exists (by name; a
 * prompt by step and title; the flow by the id kept in the database's
 * metadata) is not created again, and a field it has is never changed; an
 * existing system agent only gains the seeded fields it lacks (a Director
 * made by the migration gets its tools and steps). Needs the ONE schema in
 * force (or the expanded one, mid-migration). */
#ifndef ONE_AGENTS_SEED_H
#define ONE_AGENTS_SEED_H

#include "store/store.h"

struct seed_report {
  int agents, agents_completed, tools, prompts, flows; /* created (or completed) now */
};

int seed_run(struct store *s, struct seed_report *out, struct err *err);

#endif
