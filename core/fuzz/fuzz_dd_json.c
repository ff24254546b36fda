/* Datadog's list answer (JSON). */
#include "dd_api.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_dd_listed *l = NULL;
	size_t n = 0;
	pf_err e = {0};
	if (pf_dd_parse_list((const char *)data, size, 5, &l, &n, &e) == 0)
		pf_dd_listed_free(l, n);
	return 0;
}
