/* The pprof decoder, and the encoder round trip: whatever decodes must
 * encode, and decode → encode → decode → encode must give the same bytes. */
#include "fuzz.h"
#include "pprof.h"

#include <stdlib.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_buf once = {0}, twice = {0};
	if (encode_raw(data, size, &once) == 0) {
		if (encode_raw(once.data, once.len, &twice) != 0)
			abort(); /* our own output must decode */
		if (once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
			abort(); /* and be a fixed point */
	}
	pf_buf_free(&once);
	pf_buf_free(&twice);
	return 0;
}
