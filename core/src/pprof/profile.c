/* profile.c: the profile's storage (arrays, string pool), freeing,
 * comments, scaling, and the facts callers log. */
#include "pgo.h"
#include "pprof_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pf_vec_reserve(void **ptr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (n > SIZE_MAX / elem)
		return -1;
	void *q = realloc(*ptr, n * elem);
	if (!q)
		return -1;
	*ptr = q;
	*cap = n;
	return 0;
}

/* ---- string pool ---- */

typedef struct {
	const pf_strpool *sp;
	const void *s;
	size_t n;
} str_probe;

static bool str_probe_eq(const void *ctx, uint32_t id)
{
	const str_probe *q = ctx;
	const pf_str *e = &q->sp->strs[id];
	return e->len == q->n && memcmp(q->sp->bytes + e->off, q->s, q->n) == 0;
}

uint32_t pf_strpool_find(const pf_strpool *sp, const void *s, size_t n)
{
	str_probe q = {sp, s, n};
	return pf_htab_find(&sp->index, pf_hash_bytes(s, n), str_probe_eq, &q);
}

int pf_strpool_intern(pf_strpool *sp, const void *s, size_t n, uint32_t *id)
{
	/* Room first, so the index never names a string that is not stored.
	 * Ids must stay below PF_NONE, which marks "no string". */
	if (sp->nstrs >= PF_NONE - 1 || n > SIZE_MAX - 1 - sp->nbytes ||
	    pf_vec_reserve((void **)&sp->bytes, &sp->cap_bytes, sp->nbytes + n + 1, 1) != 0 ||
	    pf_vec_reserve((void **)&sp->strs, &sp->cap_strs, sp->nstrs + 1, sizeof *sp->strs) != 0)
		return -1;
	str_probe q = {sp, s, n};
	int found = pf_htab_intern(&sp->index, pf_hash_bytes(s, n), str_probe_eq, &q, (uint32_t)sp->nstrs, id);
	if (found != 0)
		return found < 0 ? -1 : 0;
	if (n)
		memcpy(sp->bytes + sp->nbytes, s, n);
	sp->bytes[sp->nbytes + n] = '\0';
	sp->strs[sp->nstrs++] = (pf_str){sp->nbytes, n};
	sp->nbytes += n + 1;
	return 0;
}

const char *pf_profile_str(const pf_profile *p, uint32_t id, size_t *len)
{
	const pf_str *e = &p->str.strs[id];
	if (len)
		*len = e->len;
	return p->str.bytes + e->off;
}

/* ---- life cycle and small operations ---- */

pf_profile *pf_profile_new(void)
{
	pf_profile *p = calloc(1, sizeof *p);
	uint32_t id;
	if (p && pf_strpool_intern(&p->str, "", 0, &id) == 0) /* string id 0 is "" */
		return p;
	pf_profile_free(p);
	return NULL;
}

void pf_profile_free(pf_profile *p)
{
	if (!p)
		return;
	free(p->str.bytes);
	free(p->str.strs);
	pf_htab_free(&p->str.index);
	free(p->sample_types);
	free(p->samples);
	free(p->mappings);
	free(p->locations);
	free(p->functions);
	free(p->sample_locs);
	free(p->values);
	free(p->num_labels);
	free(p->lines);
	free(p->comments);
	free(p);
}

int pf_profile_add_comment(pf_profile *p, const char *comment, pf_err *e)
{
	uint32_t id;
	if (PF_RESERVE(p, comments, 1) != 0 ||
	    pf_strpool_intern(&p->str, comment, strlen(comment), &id) != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory adding a profile comment");
	p->comments[p->ncomments++] = id;
	return 0;
}

bool pf_str_is(const pf_profile *p, uint32_t id, const char *want)
{
	size_t len;
	const char *s = pf_profile_str(p, id, &len);
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

double pf_profile_cpu_cores(const pf_profile *p)
{
	size_t idx = SIZE_MAX;
	for (size_t i = 0; i < p->nsample_types && idx == SIZE_MAX; i++) {
		const pf_value_type *vt = &p->sample_types[i];
		if (pf_str_is(p, vt->type, "cpu") && pf_str_is(p, vt->unit, "nanoseconds"))
			idx = i;
	}
	if (idx == SIZE_MAX || p->duration_nanos == 0)
		return -1;
	/* datadog-pgo sums into an int64, which wraps; so does this. */
	uint64_t sum = 0;
	for (size_t i = 0; i < p->nsamples; i++)
		sum += (uint64_t)p->values[p->samples[i].values + idx];
	return (double)(int64_t)sum / (double)p->duration_nanos;
}

/* pprof's Scale: each value times ratio, rounded half away from zero
 * (math.Round), samples left all zero dropped; nothing when ratio is 1. A
 * value rounded out of int64's range is refused (Go would convert it to
 * whatever its CPU gives). */
static int scale(pf_profile *p, double ratio, pf_err *e)
{
	if (ratio == 1)
		return 0;
	size_t kept = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		int64_t *v = p->values + p->samples[i].values;
		bool nonzero = false;
		for (size_t j = 0; j < p->nsample_types; j++) {
			double x = round((double)v[j] * ratio);
			if (!(x >= -0x1p63 && x < 0x1p63))
				return pf_fail(e, PF_EXIT_DATA, "scaling by %.17g takes sample %zu out of int64's range",
					       ratio, i);
			v[j] = (int64_t)x;
			nonzero = nonzero || v[j] != 0;
		}
		if (nonzero)
			p->samples[kept++] = p->samples[i];
	}
	p->nsamples = kept;
	return 0;
}

int pf_profile_weigh(pf_profile *p, double weight, bool normalize, pf_err *e)
{
	double ratio = weight;
	if (normalize && p->nsample_types > 0) {
		long vi = pf_pgo_value_index(p);
		size_t idx = vi < 0 ? 0 : (size_t)vi;
		int64_t total = 0;
		for (size_t i = 0; i < p->nsamples; i++)
			if (__builtin_add_overflow(total, p->values[p->samples[i].values + idx], &total))
				return pf_fail(e, PF_EXIT_DATA, "-normalize: the total of sample type %zu overflows int64",
					       idx);
		if (total > 0)
			ratio = weight * PF_NORMALIZED_TOTAL / (double)total;
	}
	return scale(p, ratio, e);
}
