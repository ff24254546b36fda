/* Compression detection and gzip/zstd/raw decompression; and the same
 * through pf_decompress_into, whose output a filter takes away as it
 * comes: the bytes taken, the count of bytes produced, the result and the
 * error must be those of decompressing whole. */
#include "decompress.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

/* Takes every byte out of out into the pf_buf at ctx. */
static int take_all(void *ctx, pf_buf *out, bool end)
{
	(void)end;
	if (pf_buf_append(ctx, out->data, out->len) != 0)
		return -1;
	out->len = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_buf whole = {0}, taken = {0}, left = {0};
	pf_err e1 = {0}, e2 = {0};
	int r1 = pf_decompress(data, size, FUZZ_MAX_OUT, &whole, &e1);
	pf_decompress_opts opts = {take_all, &taken, false};
	size_t produced = 0;
	int r2 = pf_decompress_into(data, size, FUZZ_MAX_OUT, &left, &opts, &produced, &e2);
	if (r1 != r2 || e1.code != e2.code || strcmp(e1.msg, e2.msg) != 0 || left.len != 0)
		abort();
	if (r1 == 0 && (produced != whole.len || taken.len != whole.len ||
			(whole.len && memcmp(taken.data, whole.data, whole.len) != 0)))
		abort();
	pf_buf_free(&whole);
	pf_buf_free(&taken);
	pf_buf_free(&left);
	return 0;
}
