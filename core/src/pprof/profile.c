/* profile.c: the profile's storage (arrays, string pool), freeing,
 * label order, comments, and the facts callers log. */
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

void pf_strpool_free(pf_strpool *sp)
{
	free(sp->bytes);
	free(sp->strs);
	pf_htab_free(&sp->index);
	memset(sp, 0, sizeof *sp);
}

uint32_t pf_strpool_find(const pf_strpool *sp, const void *s, size_t n)
{
	str_probe q = {sp, s, n};
	return pf_htab_find(&sp->index, pf_hash_bytes(s, n), str_probe_eq, &q);
}

/* Room for one more string of n bytes: -1 when ids or memory run out. */
static int make_room(pf_strpool *sp, size_t n)
{
	/* Ids must stay below PF_NONE, which marks "no string". */
	if (sp->nstrs >= PF_NONE - 1 || n > SIZE_MAX - 1 - sp->nbytes)
		return -1;
	if (pf_vec_reserve((void **)&sp->bytes, &sp->cap_bytes, sp->nbytes + n + 1, 1) != 0 ||
	    pf_vec_reserve((void **)&sp->strs, &sp->cap_strs, sp->nstrs + 1, sizeof *sp->strs) != 0)
		return -1;
	return 0;
}

/* Stores s[0..n) as the next id, in the room make_room made. */
static uint32_t store(pf_strpool *sp, const void *s, size_t n)
{
	uint32_t id = (uint32_t)sp->nstrs;
	if (n)
		memcpy(sp->bytes + sp->nbytes, s, n);
	sp->bytes[sp->nbytes + n] = '\0';
	sp->strs[id] = (pf_str){sp->nbytes, n};
	sp->nbytes += n + 1;
	sp->nstrs++;
	return id;
}

int pf_strpool_intern(pf_strpool *sp, const void *s, size_t n, uint32_t *id)
{
	uint64_t h = pf_hash_bytes(s, n);
	str_probe q = {sp, s, n};
	uint32_t found = pf_htab_find(&sp->index, h, str_probe_eq, &q);
	if (found != PF_HTAB_NONE) {
		*id = found;
		return 0;
	}
	uint32_t got;
	if (make_room(sp, n) != 0 || pf_htab_intern(&sp->index, h, str_probe_eq, &q, (uint32_t)sp->nstrs, &got) < 0)
		return -1;
	*id = store(sp, s, n);
	return 0;
}

const char *pf_profile_str(const pf_profile *p, uint32_t id, size_t *len)
{
	const pf_str *e = &p->str.strs[id];
	if (len)
		*len = e->len;
	return p->str.bytes + e->off;
}

int pf_str_cmp(const pf_profile *p, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	const pf_str *x = &p->str.strs[a], *y = &p->str.strs[b];
	size_t n = x->len < y->len ? x->len : y->len;
	int c = n ? memcmp(p->str.bytes + x->off, p->str.bytes + y->off, n) : 0;
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

bool pf_str_eq2(const pf_profile *pa, uint32_t a, const pf_profile *pb, uint32_t b)
{
	const pf_str *x = &pa->str.strs[a], *y = &pb->str.strs[b];
	return x->len == y->len &&
	       (x->len == 0 || memcmp(pa->str.bytes + x->off, pb->str.bytes + y->off, x->len) == 0);
}

/* ---- label order ---- */

/* Both label types start with their key; the sort needs only that. */
_Static_assert(offsetof(pf_label, key) == 0, "pf_label key first");
_Static_assert(offsetof(pf_num_label, key) == 0, "pf_num_label key first");

static uint32_t key_at(const unsigned char *base, size_t i, size_t size)
{
	uint32_t k;
	memcpy(&k, base + i * size, sizeof k);
	return k;
}

/* Stable bottom-up merge sort by key: pprof groups a key's values in the
 * order they came, and sorts keys with sort.Strings. */
static void sort_by_key(const pf_profile *p, void *base, size_t n, size_t size, void *tmp)
{
	unsigned char *a = base, *b = tmp;
	size_t i = 1;
	while (i < n && pf_str_cmp(p, key_at(a, i - 1, size), key_at(a, i, size)) <= 0)
		i++;
	if (i >= n)
		return; /* already sorted: the usual case */
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t x = lo, y = mid, out = lo;
			while (x < mid || y < hi) {
				bool take_x = y >= hi || (x < mid && pf_str_cmp(p, key_at(a, x, size),
										 key_at(a, y, size)) <= 0);
				size_t from = take_x ? x++ : y++;
				memcpy(b + out++ * size, a + from * size, size);
			}
		}
		unsigned char *t = a;
		a = b;
		b = t;
	}
	if (a != base)
		memcpy(base, a, n * size);
}

void pf_sort_labels(const pf_profile *p, pf_label *l, size_t n, pf_label *tmp)
{
	sort_by_key(p, l, n, sizeof *l, tmp);
}

void pf_sort_num_labels(const pf_profile *p, pf_num_label *l, size_t n, pf_num_label *tmp)
{
	sort_by_key(p, l, n, sizeof *l, tmp);
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
	pf_strpool_free(&p->str);
	free(p->sample_types);
	free(p->samples);
	free(p->mappings);
	free(p->locations);
	free(p->functions);
	free(p->sample_locs);
	free(p->values);
	free(p->labels);
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

size_t pf_profile_samples(const pf_profile *p) { return p->nsamples; }
int64_t pf_profile_duration_nanos(const pf_profile *p) { return p->duration_nanos; }
int64_t pf_profile_time_nanos(const pf_profile *p) { return p->time_nanos; }

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
int pf_profile_scale(pf_profile *p, double ratio, pf_err *e)
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
	return pf_profile_scale(p, ratio, e);
}
