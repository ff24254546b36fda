/* merge2.h: profile.Merge([]*Profile{a, b}) through a pf_merger, for
 * tests that merge two profiles. */
#ifndef PGOFETCH_TEST_MERGE2_H
#define PGOFETCH_TEST_MERGE2_H

#include "pprof.h"

/* Consumes a and b; NULL with e set on failure. */
static inline pf_profile *merge2(pf_profile *a, pf_profile *b, const char *name_a, const char *name_b, pf_err *e)
{
	pf_merger *m = pf_merger_new();
	if (!m) {
		pf_profile_free(a);
		pf_profile_free(b);
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory merging profiles");
		return NULL;
	}
	if (pf_merger_add(m, a, name_a, e) != 0) {
		pf_profile_free(b);
		pf_merger_free(m);
		return NULL;
	}
	if (pf_merger_add(m, b, name_b, e) != 0) {
		pf_merger_free(m);
		return NULL;
	}
	return pf_merger_finish(m);
}

#endif
