/* Compression detection and gzip/zstd/raw decompression: any input gives
 * a result or an error, within the bound, and a second run the same. */
#include "decompress.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_buf a = {0}, b = {0};
	pf_err e1 = {0}, e2 = {0};
	int r1 = pf_decompress(data, size, FUZZ_MAX_OUT, &a, &e1);
	int r2 = pf_decompress(data, size, FUZZ_MAX_OUT, &b, &e2);
	if (r1 != r2 || e1.code != e2.code || strcmp(e1.msg, e2.msg) != 0 || a.len > FUZZ_MAX_OUT ||
	    (r1 == 0 && (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))))
		abort();
	if (r1 != 0 && (e1.code == 0 || !e1.msg[0]))
		abort(); /* an error says what failed */
	pf_buf_free(&a);
	pf_buf_free(&b);
	return 0;
}
