/* The merge of two fuzzed profiles: the first two bytes say where the
 * input splits. Decoded whole (string labels dropped after) or as
 * pgofetch decodes them (string labels never stored), the two must merge
 * alike: the same error, or the same bytes. Whatever merges must encode
 * and decode again. */
#include "fuzz.h"
#include "pprof.h"
#include "../tests/merge2.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static pf_profile *decoded(const uint8_t *data, size_t len, bool to_merge, pf_err *e)
{
	if (to_merge)
		return pf_profile_decode_without_string_labels(data, len, e);
	pf_profile *p = pf_profile_decode(data, len, e);
	if (p)
		pf_test_drop_string_labels(p);
	return p;
}

/* a and b merged, renamed and encoded into out: 0, or -1 with e set. */
static int merge_encode(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, bool to_merge, pf_buf *out,
			pf_err *e)
{
	pf_profile *pa = decoded(a, alen, to_merge, e);
	pf_profile *pb = pa ? decoded(b, blen, to_merge, e) : NULL;
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
	pf_err e1 = {0}, e2 = {0};
	pf_buf whole = {0}, to_merge = {0};
	int r1 = merge_encode(a, alen, b, blen, false, &whole, &e1);
	int r2 = merge_encode(a, alen, b, blen, true, &to_merge, &e2);
	if (r1 != r2 || e1.code != e2.code || strcmp(e1.msg, e2.msg) != 0 || whole.len != to_merge.len ||
	    (whole.len && memcmp(whole.data, to_merge.data, whole.len) != 0))
		abort(); /* dropping labels while decoding changed the merge */
	if (r1 == 0) {
		pf_err e = {0};
		pf_profile *again = pf_profile_decode(whole.data, whole.len, &e);
		if (!again)
			abort(); /* a merge must give a valid profile */
		pf_profile_free(again);
	}
	pf_buf_free(&whole);
	pf_buf_free(&to_merge);
	return 0;
}
