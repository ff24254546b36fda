/* The ZIP reader, directly and as a source reads an archive: whatever it
 * hands over is within the bound, and an archive it refuses is refused as
 * bad data (or for want of memory), the same way twice. */
#include "fuzz.h"
#include "limits.h"
#include "source.h"
#include "zipread.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	pf_buf seen; /* "name:length:" and the bytes of each entry handed over */
} got;

static int collect(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	got *g = ctx;
	(void)origin;
	char head[32];
	int n = snprintf(head, sizeof head, ":%zu:", data->len);
	if (pf_buf_append(&g->seen, entry ? entry : "", entry ? strlen(entry) : 0) != 0 ||
	    pf_buf_append(&g->seen, head, (size_t)n) != 0 || pf_buf_append(&g->seen, data->data, data->len) != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	return 0;
}

static void whole(const uint8_t *data, size_t size, const pf_limits *lim, got *g, pf_err *e)
{
	pf_buf copy = {0};
	if (pf_buf_append(&copy, data, size) == 0 && size > 0)
		pf_feed_bytes("fuzz", &copy, lim, collect, g, e);
	pf_buf_free(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pf_zip z;
	pf_err e = {0};
	if (pf_zip_open(data, size, &z, &e) == 0) {
		pf_buf out = {0};
		for (size_t i = 0; i < z.n; i++) {
			e = (pf_err){0};
			out.len = 0;
			pf_zip_extract(&z.entries[i], FUZZ_MAX_OUT, &out, &e);
		}
		pf_buf_free(&out);
		pf_zip_close(&z);
	}

	if (size == 0)
		return 0;
	pf_limit_set max;
	pf_limits_default(&max);
	max.source_bytes = FUZZ_MAX_OUT;
	pf_limits lim = {.max = &max};
	got a = {{0}}, b = {{0}};
	pf_err ea = {0}, eb = {0};
	whole(data, size, &lim, &a, &ea);
	whole(data, size, &lim, &b, &eb);
	bool same = a.seen.len == b.seen.len && (a.seen.len == 0 || memcmp(a.seen.data, b.seen.data, a.seen.len) == 0);
	if (!same || ea.code != eb.code || strcmp(ea.msg, eb.msg) != 0)
		abort(); /* the same archive read twice */
	if (ea.code != 0 && ea.code != PF_EXIT_DATA && ea.code != PF_EXIT_INTERNAL)
		abort();
	pf_buf_free(&a.seen);
	pf_buf_free(&b.seen);
	return 0;
}
