/* The merge of two fuzzed profiles: the first two bytes say where the
 * input splits. Whatever merges must encode and decode again. */
#include "fuzz.h"
#include "pprof.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	const uint8_t *a = data + 2, *b = a + split;
	size_t alen = split, blen = size - 2 - split;
	pf_err e = {0};
	pf_profile *pa = pf_profile_decode(a, alen, &e);
	e = (pf_err){0};
	pf_profile *pb = pa ? pf_profile_decode(b, blen, &e) : NULL;
	if (!pa || !pb) {
		pf_profile_free(pa);
		pf_profile_free(pb);
		return 0;
	}
	pf_profile_drop_string_labels(pa);
	pf_profile_drop_string_labels(pb);
	pf_profile *m = pf_profile_merge2(pa, pb, "a", "b", &e);
	if (m) {
		pf_buf out = {0};
		if (pf_profile_noinline(m, &e) == (size_t)-1 || pf_profile_encode(m, &out, &e) != 0)
			abort();
		pf_profile *again = pf_profile_decode(out.data, out.len, &e);
		if (!again)
			abort(); /* a merge must give a valid profile */
		pf_profile_free(again);
		pf_buf_free(&out);
		pf_profile_free(m);
	}
	return 0;
}
