/* The ZIP reader: list the entries, extract each. */
#include "fuzz.h"
#include "zipread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_zip z;
	pf_err e = {0};
	if (pf_zip_open(data, size, &z, &e) != 0)
		return 0;
	pf_buf out = {0};
	for (size_t i = 0; i < z.n; i++) {
		e = (pf_err){0};
		out.len = 0;
		pf_zip_extract(&z.entries[i], FUZZ_MAX_OUT, &out, &e);
	}
	pf_buf_free(&out);
	pf_zip_close(&z);
	return 0;
}
