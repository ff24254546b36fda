/* noinline.c: datadog-pgo's ApplyNoInlineHack.
 *
 * For each sample whose leaf location's first line (the innermost frame)
 * is one of the functions below, that Function is renamed to
 * "DO NOT INLINE: <name>". The Function is shared by every line that uses
 * it, so all its uses are renamed, once: after the rename the name no
 * longer matches. Go's PGO then sees no call edge into the real function,
 * so it is not inlined (golang/go#65532, golang/go#74045). */
#include "pprof_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const no_inline_funcs[] = {
	"google.golang.org/grpc/internal/transport.(*loopyWriter).processData",
	"runtime.gopark",
};
#define N_NO_INLINE (sizeof no_inline_funcs / sizeof no_inline_funcs[0])
static const char prefix[] = "DO NOT INLINE: ";

static int rename_function(pf_profile *p, pf_function *fn, pf_err *e)
{
	size_t len;
	const char *name = pf_profile_str(p, fn->name, &len);
	size_t n = sizeof prefix - 1 + len;
	char *s = malloc(n);
	if (!s)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming a function");
	memcpy(s, prefix, sizeof prefix - 1);
	memcpy(s + sizeof prefix - 1, name, len);
	uint32_t id;
	int rc = pf_strpool_intern(&p->str, s, n, &id);
	free(s);
	if (rc != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming a function");
	fn->name = id;
	return 0;
}

size_t pf_profile_noinline(pf_profile *p, pf_err *e)
{
	/* The names as string ids; a name the profile lacks matches nothing. */
	uint32_t targets[N_NO_INLINE];
	for (size_t i = 0; i < N_NO_INLINE; i++)
		targets[i] = pf_strpool_find(&p->str, no_inline_funcs[i], strlen(no_inline_funcs[i]));
	size_t renamed = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		if (s->nlocs == 0)
			continue;
		const pf_location *leaf = &p->locations[p->sample_locs[s->locs]];
		if (leaf->nlines == 0)
			continue;
		pf_function *fn = &p->functions[p->lines[leaf->lines].function];
		for (size_t t = 0; t < N_NO_INLINE; t++) {
			if (targets[t] != PF_NONE && fn->name == targets[t]) {
				if (rename_function(p, fn, e) != 0)
					return (size_t)-1;
				renamed++;
				break;
			}
		}
	}
	return renamed;
}
