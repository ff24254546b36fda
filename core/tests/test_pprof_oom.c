/* Out of memory in the pprof code: every allocation of decode, merge,
 * rename and encode is made to fail in turn; each run must fail with
 * PF_EXIT_INTERNAL (or succeed when the failing allocation was not needed),
 * and leave nothing allocated.
 *
 * The test replaces malloc and friends (glibc allows it) with wrappers over
 * glibc's own allocator that count, and fail the Nth call when armed. Under
 * AddressSanitizer, which owns malloc, the test only runs the scenario once. */
#include "check.h"
#include "fixture.h"
#include "pprof.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"

/* Decode A, B and C (string labels dropped, numeric ones kept);
 * A+B (whose sums cancel a sample: a second merge), then +C; rename; add
 * a comment; encode. */
static int scenario(const pf_buf in[3], pf_buf *out, pf_err *e)
{
	pf_profile *p[3] = {NULL, NULL, NULL};
	for (int i = 0; i < 3; i++) {
		p[i] = pf_profile_decode(in[i].data, in[i].len, e);
		if (!p[i]) {
			for (int j = 0; j < i; j++)
				pf_profile_free(p[j]);
			return -1;
		}
	}
	pf_merger *mg = pf_merger_new();
	if (!mg) {
		for (int j = 0; j < 3; j++)
			pf_profile_free(p[j]);
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	}
	static const char *const names[3] = {"a", "b", "c"};
	for (int j = 0; j < 3; j++) {
		if (pf_merger_add(mg, p[j], names[j], e) != 0) {
			for (int k = j + 1; k < 3; k++)
				pf_profile_free(p[k]);
			pf_merger_free(mg);
			return -1;
		}
	}
	pf_profile *m = pf_merger_finish(mg);
	int rc = pf_profile_noinline(m, e) == (size_t)-1 ? -1 : 0;
	if (rc == 0)
		rc = pf_profile_add_comment(m, "provenance", e);
	if (rc == 0)
		rc = pf_profile_encode(m, out, e);
	pf_profile_free(m);
	return rc;
}

int main(void)
{
	pf_buf in[3] = {{0}};
	CHECK_EQ_INT(read_fixture("data/pprof/edge-a.pb", &in[0]), 0);
	CHECK_EQ_INT(read_fixture("data/pprof/edge-b.pb", &in[1]), 0);
	CHECK_EQ_INT(read_fixture("data/pprof/edge-c.pb", &in[2]), 0);

	pf_err e = {0};
	pf_buf want = {0};
	CHECK_EQ_INT(scenario(in, &want, &e), 0);
	CHECK(want.len > 0);
#ifndef NO_INTERPOSE
	long runs = 0;
	for (long n = 0;; n++) {
		pf_buf out = {0};
		memset(&e, 0, sizeof e);
		alloc.calls = 0;
		alloc.fail_at = n;
		alloc.failed = false;
		alloc.live = 0;
		alloc.armed = true;
		int rc = scenario(in, &out, &e);
		pf_buf_free(&out);
		alloc.armed = false;
		if (alloc.live != 0)
			fprintf(stderr, "allocation %ld failing leaves %ld blocks\n", n, alloc.live);
		CHECK_EQ_INT(alloc.live, 0);
		if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0); /* every allocation got through: done */
			break;
		}
		CHECK(rc != 0); /* no allocation may fail unnoticed */
		CHECK_EQ_INT(e.code, PF_EXIT_INTERNAL);
		runs++;
	}
	CHECK(runs > 50); /* the scenario allocates; each allocation failed once */
	printf("failed each of %ld allocations in turn\n", runs);
#endif
	pf_buf_free(&want);
	for (int i = 0; i < 3; i++)
		pf_buf_free(&in[i]);
	return check_report("test_pprof_oom");
}
