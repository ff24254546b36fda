/* pprof_internal.h: helpers shared by the pprof_*.c files, not by callers. */
#ifndef PGOFETCH_PPROF_INTERNAL_H
#define PGOFETCH_PPROF_INTERNAL_H

#include "pprof.h"

/* Makes room for `need` elements of `elem` bytes in *ptr (capacity *cap),
 * growing geometrically. -1 when memory runs out (*ptr is kept). */
int pf_vec_reserve(void **ptr, size_t *cap, size_t need, size_t elem);

/* Reserves room for n more elements in a pf_profile array field `f`
 * (with its n<f> / cap_<f> companions). */
#define PF_RESERVE(p, f, more)                                                     \
	((more) <= (p)->cap_##f - (p)->n##f                                          \
		 ? 0                                                                 \
		 : pf_vec_reserve((void **)&(p)->f, &(p)->cap_##f,                   \
				  (p)->n##f + (more) < (p)->n##f ? SIZE_MAX : (p)->n##f + (more), \
				  sizeof *(p)->f))

/* A new empty profile (its string pool holds ""), or NULL on OOM. */
pf_profile *pf_profile_new(void);

/* The id of the string s[0..n), adding it when new; -1 on OOM. */
int pf_strpool_intern(pf_strpool *sp, const void *s, size_t n, uint32_t *id);
/* The id of s[0..n), or PF_NONE when the pool does not hold it. */
uint32_t pf_strpool_find(const pf_strpool *sp, const void *s, size_t n);

/* Whether string id is exactly the C string want (no embedded NULs). */
bool pf_str_is(const pf_profile *p, uint32_t id, const char *want);

#endif
