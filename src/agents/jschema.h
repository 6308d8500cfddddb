/* jschema: checks a tool call's arguments against the tool's parameters,
 * a JSON Schema of the subset function calling uses: type (object, array,
 * string, number, integer, boolean, null), properties, required,
 * additionalProperties: false, items, enum, minLength, maxLength, minimum,
 * maximum. Models send invalid and invented arguments; a failure names the
 * path ("arguments.limit: expected an integer") so that the model can
 * correct itself. */
#ifndef ONE_AGENTS_JSCHEMA_H
#define ONE_AGENTS_JSCHEMA_H

#include <jansson.h>

#include "util/err.h"

/* 0 when v fits schema; else E_SCHEMA with err's message naming the first
 * problem's path. */
int jschema_check(const json_t *schema, const json_t *v, struct err *err);

#endif
