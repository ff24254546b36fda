/* Compression detection and gzip/zstd/raw decompression. */
#include "decompress.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_buf out = {0};
	pf_err e = {0};
	pf_decompress(data, size, FUZZ_MAX_OUT, &out, &e);
	pf_buf_free(&out);
	return 0;
}
