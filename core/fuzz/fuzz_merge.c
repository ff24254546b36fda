/* The merge of two fuzzed profiles: the first two bytes say where the
 * input splits. Decoded as pgofetch decodes them (string labels never
 * stored), whatever merges must be renamed, encode, and decode again. */
#include "fuzz.h"
#include "pprof.h"
#include "../tests/merge2.h"

#include <stdlib.h>

/* a and b merged, renamed and encoded into out: 0, or -1 with e set. */
static int merge_encode(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, pf_buf *out, pf_err *e)
{
	pf_profile *pa = pf_profile_decode(a, alen, e);
	pf_profile *pb = pa ? pf_profile_decode(b, blen, e) : NULL;
	if (!pa || !pb) {
		pf_profile_free(pa);
		pf_profile_free(pb);
		return -1;
	}
	pf_profile *m = merge2(pa, pb, "a", "b", e);
	if (!m)
		return -1;
	if (pf_profile_noinline(m, e) == (size_t)-1 || pf_profile_encode(m, out, e) != 0)
		abort();
	pf_profile_free(m);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	const uint8_t *a = data + 2, *b = a + split;
	size_t alen = split, blen = size - 2 - split;
	pf_err e = {0};
	pf_buf merged = {0};
	if (merge_encode(a, alen, b, blen, &merged, &e) == 0) {
		pf_profile *again = pf_profile_decode(merged.data, merged.len, &e);
		if (!again)
			abort(); /* a merge must give a valid profile */
		pf_profile_free(again);
	}
	pf_buf_free(&merged);
	return 0;
}
