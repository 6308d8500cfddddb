/* mem: the allocation wrapper every ONE allocation goes through.
 *
 * The functions behave as malloc and friends, returning NULL when memory is
 * short; nothing here aborts. A test build can make the N-th allocation from
 * now fail (mem_fail_after) to check that every caller handles it. jansson is
 * pointed at these functions by mem_init(), so JSON values are covered too. */
#ifndef ONE_UTIL_MEM_H
#define ONE_UTIL_MEM_H

#include <stddef.h>

void mem_init(void);                 /* call once at start-up, before threads */
void *one_malloc(size_t n);
void *one_calloc(size_t count, size_t n);
void *one_realloc(void *p, size_t n);
char *one_strdup(const char *s);
char *one_strndup(const char *s, size_t n);
void one_free(void *p);              /* accepts NULL */

/* Fault injection for tests: after n more successful allocations, every
 * allocation fails until mem_fail_after(-1). Thread-safe. */
void mem_fail_after(long n);

#endif
