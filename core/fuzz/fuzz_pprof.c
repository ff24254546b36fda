/* The pprof decoder, and the encoder round trip: whatever decodes must
 * encode, our own output must decode, and from the second encoding on the
 * bytes must not change. Not from the first: like pprof, pprof's own
 * decode keeps a numeric label whose value is 0 and whose unit index
 * points at an empty string other than string 0, and writes it back as
 * one with neither, which the next decode drops (found by this target;
 * google/pprof gives the same 2455 then 2447 bytes on that input).
 * Decoding without string labels must accept and refuse what decoding
 * does, and give what decoding and dropping them gives. */
#include "fuzz.h"
#include "pprof.h"
#include "../tests/merge2.h"

#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

static int encode_raw(const uint8_t *data, size_t size, pf_buf *out)
{
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(data, size, &e);
	if (!p)
		return -1;
	int rc = pf_profile_encode(p, out, &e);
	pf_profile_free(p);
	return rc;
}

/* pf_profile_decode_without_string_labels against decode + drop. */
static void check_unlabelled(const uint8_t *data, size_t size)
{
	pf_err e1 = {0}, e2 = {0};
	pf_profile *a = pf_profile_decode(data, size, &e1);
	pf_profile *b = pf_profile_decode_without_string_labels(data, size, &e2);
	if (!a != !b || e1.code != e2.code || strcmp(e1.msg, e2.msg) != 0)
		abort();
	if (a) {
		pf_buf ea = {0}, eb = {0};
		pf_test_drop_string_labels(a);
		if (pf_profile_encode(a, &ea, &e1) != 0 || pf_profile_encode(b, &eb, &e2) != 0 ||
		    ea.len != eb.len || memcmp(ea.data, eb.data, ea.len) != 0)
			abort();
		pf_buf_free(&ea);
		pf_buf_free(&eb);
	}
	pf_profile_free(a);
	pf_profile_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_unlabelled(data, size);
	pf_buf once = {0}, twice = {0}, thrice = {0};
	if (encode_raw(data, size, &once) == 0) {
		if (encode_raw(once.data, once.len, &twice) != 0 || encode_raw(twice.data, twice.len, &thrice) != 0)
			abort(); /* our own output must decode */
		if (twice.len != thrice.len || memcmp(twice.data, thrice.data, twice.len) != 0)
			abort(); /* and be a fixed point */
	}
	pf_buf_free(&once);
	pf_buf_free(&twice);
	pf_buf_free(&thrice);
	return 0;
}
