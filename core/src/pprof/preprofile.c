/* preprofile.c: the compiler's edges in `go tool preprofile`'s format
 * (cmd/internal/pgo serialize.go, Profile.WriteTo):
 *
 *   GO PREPROFILE V1
 *   caller name
 *   callee name
 *   offset weight
 *   ... (one triple per edge, heaviest first)
 *
 * Names are written as they are, with fmt.Fprintln; numbers with "%d %d\n".
 * A profile the compiler ignores is the header alone. */
#include "pgo.h"

#include <inttypes.h>
#include <stdio.h>

static const char header[] = "GO PREPROFILE V1\n";

static int put_edge(const pf_pgo_edge *ed, pf_buf *out)
{
	char nums[48];
	int n = snprintf(nums, sizeof nums, "%" PRId64 " %" PRId64 "\n", ed->offset, ed->weight);
	if (n < 0 || (size_t)n >= sizeof nums)
		return -1;
	if (pf_buf_append(out, ed->caller, ed->caller_len) != 0 || pf_buf_putc(out, '\n') != 0 ||
	    pf_buf_append(out, ed->callee, ed->callee_len) != 0 || pf_buf_putc(out, '\n') != 0 ||
	    pf_buf_append(out, nums, (size_t)n) != 0)
		return -1;
	return 0;
}

int pf_preprofile_write(const pf_pgo_edges *g, pf_buf *out, pf_err *e)
{
	if (pf_buf_append(out, header, sizeof header - 1) != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory writing the preprofile");
	for (size_t i = 0; i < g->nedges; i++)
		if (put_edge(&g->edges[i], out) != 0)
			return pf_fail(e, PF_EXIT_INTERNAL, "out of memory writing the preprofile");
	return 0;
}
