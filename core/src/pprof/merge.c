/* merge.c: profile.Merge, rule for rule (google/pprof merge.go).
 *
 * Header (combineHeaders): sample types, period type, drop/keep frames come
 * from the first source; time_nanos by pprof's loop (a later zero or smaller
 * value replaces the running one unless that is 0: "if t == 0 || s.t < t");
 * duration_nanos summed; period by "if p == 0 || p < s.p"; comments
 * concatenated keeping the first of equal ones; default_sample_type and
 * doc_url the first non-empty.
 *
 * Entities are de-duplicated by keys and numbered 1..N in order of first use:
 *   mapping:  size (limit - start) rounded up to 4 KiB, file offset, and the
 *             build id, or the file name when there is no build id;
 *   function: start line, name, system name, file name;
 *   location: address relative to its (merged) mapping's start, mapping id,
 *             (function id, line, column) of each line, is_folded; a
 *             location's address moves by the difference of the start of
 *             the merged mapping and its own;
 *   sample:   merged location ids, numeric labels with units (a sample
 *             whose units are absent differs from one whose units are all
 *             ""); string labels were dropped when decoding.
 * Before a source's samples, its first mapping is mapped when no mapping
 * has been yet (pprof keeps the main binary first), even if no sample uses
 * it. All-zero source samples are skipped; equal samples have their values
 * summed (wrapping like Go's int64); if a sum leaves a sample all zero, the
 * result is merged again on its own, which drops it and whatever only it
 * used. Sources are memoised by index; pprof memoises by id, which is the
 * same because a valid profile's ids are unique.
 *
 * Folding profiles in pairwise, as datadog-pgo does (Merge([acc, next])),
 * would re-read the whole accumulated result at every step. A merge's
 * result is stable under re-merge, though: it holds no all-zero sample and
 * no duplicate entity, and its entities are numbered in the order a
 * re-merge meets them, so Merge([acc]) is acc itself, state included (the
 * header loop's running values are acc's header). Merge([acc, next]) is
 * therefore acc's merge continued with next: pf_merger keeps that state
 * from one profile to the next. */
#include "pprof_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pf_merger {
	pf_profile *first; /* held until a second profile comes: alone, it is not merged */
	char *first_name;  /* names the result in errors */
	pf_profile *p;     /* the result, from the second profile on */
	pf_err *e;
	pf_htab samples, locations;
	pf_keyset functions, mappings, comments; /* of function_key, mapping_key, uint32_t */

	/* The source being merged, and what its entities became in p. */
	const pf_profile *src;
	uint32_t *strs;       /* src string id -> p string id + 1; 0: not yet; NULL: same pool */
	uint32_t *locs, *fns; /* src index -> p index + 1; 0: not yet */
	struct {
		uint32_t idx1;   /* p index + 1; 0: not yet */
		uint64_t offset; /* p start - src start (pprof's mapInfo.offset) */
	} *maps;
};
typedef struct pf_merger merger;

_Static_assert(sizeof(pf_num_label) == 16, "label struct without padding");

static int oom(merger *m) { return pf_fail(m->e, PF_EXIT_INTERNAL, "out of memory merging profiles"); }

/* Room for one more element of array f of p, whose count must stay a valid index. */
#define ROOM(m, f, more)                                                    \
	((m)->p->n##f + (more) >= PF_NONE - 1 ? pf_fail((m)->e, PF_EXIT_INTERNAL, \
						  "merged profile too large") \
	 : PF_RESERVE((m)->p, f, more) != 0 ? oom(m)                        \
					     : 0)

static int tr(merger *m, uint32_t id, uint32_t *out)
{
	if (!m->strs) {
		*out = id;
		return 0;
	}
	if (!m->strs[id]) {
		size_t len;
		const char *s = pf_profile_str(m->src, id, &len);
		if (pf_strpool_intern(&m->p->str, s, len, out) != 0)
			return oom(m);
		m->strs[id] = *out + 1;
	}
	*out = m->strs[id] - 1;
	return 0;
}

/* ---- mappings ---- */

typedef struct {
	uint64_t size, offset;
	uint32_t name; /* build id, else file */
} mapping_key;
#define MAPPING_KEY_SIZE (offsetof(mapping_key, name) + sizeof(uint32_t))

static mapping_key key_of_mapping(const pf_mapping *mp)
{
	const uint64_t rounding = 0x1000; /* pprof: "round up to next 4K boundary" */
	uint64_t size = mp->limit - mp->start;
	size += rounding - 1;
	size -= size % rounding;
	/* string id 0 is "" in every pool */
	return (mapping_key){size, mp->offset, mp->build_id != 0 ? mp->build_id : mp->file};
}

/* pprof's mapMapping: *idx is the p mapping (PF_NONE for none), *offset the
 * amount to move addresses by. */
static int map_mapping(merger *m, uint32_t si, uint32_t *idx, uint64_t *offset)
{
	*idx = PF_NONE;
	*offset = 0;
	if (si == PF_NONE)
		return 0;
	if (m->maps[si].idx1) {
		*idx = m->maps[si].idx1 - 1;
		*offset = m->maps[si].offset;
		return 0;
	}
	const pf_mapping *sm = &m->src->mappings[si];
	pf_mapping c = *sm;
	if (tr(m, sm->file, &c.file) != 0 || tr(m, sm->build_id, &c.build_id) != 0 ||
	    ROOM(m, mappings, 1) != 0)
		return -1;
	mapping_key k = key_of_mapping(&c);
	int found = pf_keyset_add(&m->mappings, &k, idx);
	if (found < 0)
		return oom(m);
	if (found) {
		*offset = m->p->mappings[*idx].start - sm->start;
	} else {
		c.id = m->p->nmappings + 1;
		m->p->mappings[m->p->nmappings++] = c;
	}
	m->maps[si].idx1 = *idx + 1;
	m->maps[si].offset = *offset;
	return 0;
}

/* ---- functions ---- */

typedef struct {
	int64_t start_line;
	uint32_t name, system_name, filename;
} function_key;
#define FUNCTION_KEY_SIZE (offsetof(function_key, filename) + sizeof(uint32_t))

static int map_function(merger *m, uint32_t si, uint32_t *idx)
{
	if (m->fns[si]) {
		*idx = m->fns[si] - 1;
		return 0;
	}
	const pf_function *sf = &m->src->functions[si];
	pf_function c = *sf;
	if (tr(m, sf->name, &c.name) != 0 || tr(m, sf->system_name, &c.system_name) != 0 ||
	    tr(m, sf->filename, &c.filename) != 0 || ROOM(m, functions, 1) != 0)
		return -1;
	function_key k = {c.start_line, c.name, c.system_name, c.filename};
	int found = pf_keyset_add(&m->functions, &k, idx);
	if (found < 0)
		return oom(m);
	if (!found) {
		c.id = m->p->nfunctions + 1;
		m->p->functions[m->p->nfunctions++] = c;
	}
	m->fns[si] = *idx + 1;
	return 0;
}

/* ---- locations ---- */

/* The parts of pprof's locationKey that come from the location itself. */
static uint64_t location_rel_addr(const pf_profile *p, const pf_location *l)
{
	return l->mapping == PF_NONE ? l->address : l->address - p->mappings[l->mapping].start;
}

/* Candidates are built in place past the end of p's arrays (room made
 * first) and kept by counting them in; a key compares with the candidate
 * at locations[nlocations] or samples[nsamples]. */
static bool location_eq(const void *ctx, uint32_t idx)
{
	const pf_profile *p = ctx;
	const pf_location *l = &p->locations[idx], *c = &p->locations[p->nlocations];
	if (l->mapping != c->mapping || l->is_folded != c->is_folded || l->nlines != c->nlines ||
	    location_rel_addr(p, l) != location_rel_addr(p, c))
		return false;
	for (uint32_t i = 0; i < l->nlines; i++) {
		const pf_line *x = &p->lines[l->lines + i], *y = &p->lines[c->lines + i];
		if (x->function != y->function || x->line != y->line || x->column != y->column)
			return false;
	}
	return true;
}

static uint64_t location_hash(const pf_profile *p, const pf_location *c)
{
	uint64_t h = pf_hash_add(3, location_rel_addr(p, c));
	h = pf_hash_add(h, c->mapping);
	h = pf_hash_add(h, (uint64_t)c->is_folded << 32 | c->nlines);
	for (uint32_t i = 0; i < c->nlines; i++) {
		const pf_line *ln = &p->lines[c->lines + i];
		h = pf_hash_add(h, ln->function);
		h = pf_hash_add(h, (uint64_t)ln->line);
		h = pf_hash_add(h, (uint64_t)ln->column);
	}
	return h;
}

/* Builds the candidate the way pprof's mapLocation does: mapping first,
 * then each line's function, then the key lookup. */
static int location_candidate(merger *m, const pf_location *sl, pf_location *c)
{
	pf_profile *p = m->p;
	uint64_t offset;
	*c = (pf_location){.id = p->nlocations + 1, .lines = p->nlines, .nlines = sl->nlines,
			   .is_folded = sl->is_folded};
	if (map_mapping(m, sl->mapping, &c->mapping, &offset) != 0)
		return -1;
	c->address = sl->address + offset;
	for (uint32_t i = 0; i < sl->nlines; i++) {
		const pf_line *ln = &m->src->lines[sl->lines + i];
		p->lines[c->lines + i] = *ln;
		if (map_function(m, ln->function, &p->lines[c->lines + i].function) != 0)
			return -1;
	}
	return 0;
}

static int map_location(merger *m, uint32_t si, uint32_t *idx)
{
	if (m->locs[si]) {
		*idx = m->locs[si] - 1;
		return 0;
	}
	pf_profile *p = m->p;
	const pf_location *sl = &m->src->locations[si];
	if (ROOM(m, locations, 1) != 0 || ROOM(m, lines, sl->nlines) != 0 ||
	    location_candidate(m, sl, &p->locations[p->nlocations]) != 0)
		return -1;
	uint64_t h = location_hash(p, &p->locations[p->nlocations]);
	int found = pf_htab_intern(&m->locations, h, location_eq, p, (uint32_t)p->nlocations, idx);
	if (found < 0)
		return oom(m);
	if (!found)
		p->nlines += p->locations[p->nlocations++].nlines;
	m->locs[si] = *idx + 1;
	return 0;
}

/* ---- samples ---- */

static bool is_zero(const int64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != 0)
			return false;
	return true;
}

/* Run [at, at + n) of an array of size-byte elements; NULL when empty (the
 * array may be NULL, and NULL + 0 is undefined in C). */
static const void *run(const void *base, size_t at, size_t n, size_t size)
{
	return n ? (const unsigned char *)base + at * size : NULL;
}

/* A sample's runs compare and hash as bytes: the label struct holds no padding. */
static bool same_run(const void *base, size_t a, size_t b, size_t n, size_t size)
{
	return !n || memcmp(run(base, a, n, size), run(base, b, n, size), n * size) == 0;
}

static bool sample_eq(const void *ctx, uint32_t idx)
{
	const pf_profile *p = ctx;
	const pf_sample *s = &p->samples[idx], *c = &p->samples[p->nsamples];
	return s->nlocs == c->nlocs && s->nnum_labels == c->nnum_labels &&
	       same_run(p->sample_locs, s->locs, c->locs, s->nlocs, sizeof *p->sample_locs) &&
	       same_run(p->num_labels, s->num_labels, c->num_labels, s->nnum_labels, sizeof *p->num_labels);
}

static uint64_t sample_hash(const pf_profile *p, const pf_sample *c)
{
	const void *nums = run(p->num_labels, c->num_labels, c->nnum_labels, sizeof *p->num_labels);
	uint64_t h = pf_hash_u32s(4, run(p->sample_locs, c->locs, c->nlocs, sizeof *p->sample_locs), c->nlocs);
	return pf_hash_add(h, pf_hash_bytes(nums, c->nnum_labels * sizeof *p->num_labels));
}

/* The sample key of pprof's sampleKey: mapped locations and translated labels. */
static int sample_candidate(merger *m, const pf_sample *ss, pf_sample *c)
{
	const pf_profile *src = m->src;
	pf_profile *p = m->p;
	*c = (pf_sample){.locs = p->nsample_locs, .values = p->nvalues, .num_labels = p->nnum_labels,
			 .nlocs = ss->nlocs, .nnum_labels = ss->nnum_labels};
	for (uint32_t i = 0; i < ss->nlocs; i++)
		if (map_location(m, src->sample_locs[ss->locs + i], &p->sample_locs[c->locs + i]) != 0)
			return -1;
	for (uint32_t i = 0; i < ss->nnum_labels; i++) {
		const pf_num_label *l = &src->num_labels[ss->num_labels + i];
		pf_num_label *t = &p->num_labels[c->num_labels + i];
		*t = *l;
		if (tr(m, l->key, &t->key) != 0 || (l->unit != PF_NONE && tr(m, l->unit, &t->unit) != 0))
			return -1;
	}
	return 0;
}

static int map_sample(merger *m, const pf_sample *ss)
{
	pf_profile *p = m->p;
	const int64_t *values = m->src->values + ss->values;
	size_t nv = p->nsample_types;
	if (ROOM(m, samples, 1) != 0 || ROOM(m, sample_locs, ss->nlocs) != 0 || ROOM(m, values, nv) != 0 ||
	    ROOM(m, num_labels, ss->nnum_labels) != 0 || sample_candidate(m, ss, &p->samples[p->nsamples]) != 0)
		return -1;
	const pf_sample *c = &p->samples[p->nsamples];
	uint32_t idx;
	int found = pf_htab_intern(&m->samples, sample_hash(p, c), sample_eq, p, (uint32_t)p->nsamples, &idx);
	if (found < 0)
		return oom(m);
	if (found) {
		int64_t *sum = p->values + p->samples[idx].values;
		for (size_t i = 0; i < nv; i++)
			sum[i] = (int64_t)((uint64_t)sum[i] + (uint64_t)values[i]); /* wraps, as Go's += */
		return 0;
	}
	memcpy(p->values + c->values, values, nv * sizeof *values); /* the candidate is kept */
	p->nsample_locs += c->nlocs;
	p->nvalues += nv;
	p->nnum_labels += c->nnum_labels;
	p->nsamples++;
	return 0;
}

/* ---- header ---- */

static int add_comments(merger *m)
{
	pf_profile *p = m->p;
	for (size_t i = 0; i < m->src->ncomments; i++) {
		uint32_t id, got;
		if (tr(m, m->src->comments[i], &id) != 0 || ROOM(m, comments, 1) != 0)
			return -1;
		int found = pf_keyset_add(&m->comments, &id, &got);
		if (found < 0)
			return oom(m);
		if (!found)
			p->comments[p->ncomments++] = id;
	}
	return 0;
}

static int first_source_header(merger *m)
{
	const pf_profile *s = m->src;
	pf_profile *p = m->p;
	if (ROOM(m, sample_types, s->nsample_types) != 0)
		return -1;
	for (size_t i = 0; i < s->nsample_types; i++)
		if (tr(m, s->sample_types[i].type, &p->sample_types[i].type) != 0 ||
		    tr(m, s->sample_types[i].unit, &p->sample_types[i].unit) != 0)
			return -1;
	p->nsample_types = s->nsample_types;
	return tr(m, s->drop_frames, &p->drop_frames) || tr(m, s->keep_frames, &p->keep_frames) ||
			       tr(m, s->period_type.type, &p->period_type.type) ||
			       tr(m, s->period_type.unit, &p->period_type.unit)
		       ? -1
		       : 0;
}

/* pprof's combineHeaders, one source at a time. */
static int combine_header(merger *m, bool first)
{
	const pf_profile *s = m->src;
	pf_profile *p = m->p;
	if (first && first_source_header(m) != 0)
		return -1;
	if (p->time_nanos == 0 || s->time_nanos < p->time_nanos)
		p->time_nanos = s->time_nanos;
	p->duration_nanos = (int64_t)((uint64_t)p->duration_nanos + (uint64_t)s->duration_nanos);
	if (p->period == 0 || p->period < s->period)
		p->period = s->period;
	if (add_comments(m) != 0)
		return -1;
	if (p->default_sample_type == 0 && tr(m, s->default_sample_type, &p->default_sample_type) != 0)
		return -1;
	if (p->doc_url == 0 && tr(m, s->doc_url, &p->doc_url) != 0)
		return -1;
	return 0;
}

/* ---- sources ---- */

static void end_source(merger *m)
{
	free(m->strs);
	free(m->locs);
	free(m->fns);
	free(m->maps);
	m->strs = m->locs = m->fns = NULL;
	m->maps = NULL;
	m->src = NULL;
}

static int begin_source(merger *m, const pf_profile *src, bool shares_pool)
{
	m->src = src;
	m->locs = calloc(src->nlocations + 1, sizeof *m->locs);
	m->fns = calloc(src->nfunctions + 1, sizeof *m->fns);
	m->maps = calloc(src->nmappings + 1, sizeof *m->maps);
	m->strs = shares_pool ? NULL : calloc(src->str.nstrs + 1, sizeof *m->strs);
	if (!m->locs || !m->fns || !m->maps || (!shares_pool && !m->strs))
		return oom(m);
	return 0;
}

static int merge_source(merger *m, const pf_profile *src, bool first)
{
	if (begin_source(m, src, first) != 0 || combine_header(m, first) != 0)
		return -1;
	if (m->p->nmappings == 0 && src->nmappings > 0) {
		uint32_t idx;
		uint64_t offset;
		if (map_mapping(m, 0, &idx, &offset) != 0)
			return -1;
	}
	for (size_t i = 0; i < src->nsamples; i++) {
		const pf_sample *s = &src->samples[i];
		if (!is_zero(src->values + s->values, src->nsample_types) && map_sample(m, s) != 0)
			return -1;
	}
	end_source(m);
	return 0;
}

/* ---- compatibility ---- */

/* Appends "type/unit" of each of the n value types vt to buf. */
static void describe_types(char *buf, size_t size, const pf_profile *p, const pf_value_type *vt, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(buf);
		if (used + 1 < size)
			snprintf(buf + used, size - used, "%s%s/%s", used ? " " : "",
				 vt[i].type ? pf_profile_str(p, vt[i].type, NULL) : "\"\"",
				 vt[i].unit ? pf_profile_str(p, vt[i].unit, NULL) : "\"\"");
	}
}

/* Whether string a of pa equals string b of pb. */
static bool str_eq2(const pf_profile *pa, uint32_t a, const pf_profile *pb, uint32_t b)
{
	const pf_str *x = &pa->str.strs[a], *y = &pb->str.strs[b];
	return x->len == y->len &&
	       (x->len == 0 || memcmp(pa->str.bytes + x->off, pb->str.bytes + y->off, x->len) == 0);
}

static bool same_type(const pf_profile *a, const pf_value_type *x, const pf_profile *b, const pf_value_type *y)
{
	return str_eq2(a, x->type, b, y->type) && str_eq2(a, x->unit, b, y->unit);
}

/* pprof's compatible(): equal period types and equal sample type lists. */
static int check_compatible(const pf_profile *a, const pf_profile *b, const char *name_a, const char *name_b,
			    pf_err *e)
{
	char da[300] = "", db[300] = "";
	if (!same_type(a, &a->period_type, b, &b->period_type)) {
		describe_types(da, sizeof da, a, &a->period_type, 1);
		describe_types(db, sizeof db, b, &b->period_type, 1);
		return pf_fail(e, PF_EXIT_DATA, "cannot merge %s with %s: incompatible period types %s and %s",
			       name_a, name_b, da, db);
	}
	bool same = a->nsample_types == b->nsample_types;
	for (size_t i = 0; same && i < a->nsample_types; i++)
		same = same_type(a, &a->sample_types[i], b, &b->sample_types[i]);
	if (same)
		return 0;
	describe_types(da, sizeof da, a, a->sample_types, a->nsample_types);
	describe_types(db, sizeof db, b, b->sample_types, b->nsample_types);
	return pf_fail(e, PF_EXIT_DATA, "cannot merge %s with %s: incompatible sample types [%s] and [%s]",
		       name_a, name_b, da, db);
}

/* ---- the merger ---- */

/* Frees the result's tables, keeping the scratch buffers. */
static void free_tables(merger *m)
{
	end_source(m);
	pf_htab_free(&m->samples);
	pf_htab_free(&m->locations);
	pf_keyset_free(&m->functions);
	pf_keyset_free(&m->mappings);
	pf_keyset_free(&m->comments);
}

static bool has_zero_sample(const pf_profile *p)
{
	for (size_t i = 0; i < p->nsamples; i++)
		if (is_zero(p->values + p->samples[i].values, p->nsample_types))
			return true;
	return false;
}

/* Starts the result anew from src, which it consumes: the result takes
 * over src's string pool, so its strings need no translation. */
static int start(merger *m, pf_profile *src)
{
	free_tables(m);
	pf_profile_free(m->p);
	int rc = (m->p = calloc(1, sizeof *m->p)) ? 0 : oom(m);
	if (rc == 0) {
		m->p->str = src->str;
		memset(&src->str, 0, sizeof src->str);
		if (pf_htab_reserve(&m->samples, src->nsamples) != 0 ||
		    pf_htab_reserve(&m->locations, src->nlocations) != 0 ||
		    pf_htab_reserve(&m->functions.index, src->nfunctions) != 0 ||
		    pf_htab_reserve(&m->mappings.index, src->nmappings) != 0)
			rc = oom(m);
	}
	if (rc == 0)
		rc = merge_source(m, src, true);
	end_source(m);
	pf_profile_free(src);
	return rc;
}

/* pprof: "If there are any zero samples, re-merge the profile to GC them." */
static int drop_zero_samples(merger *m)
{
	if (!has_zero_sample(m->p))
		return 0;
	pf_profile *p = m->p;
	m->p = NULL;
	return start(m, p);
}

pf_merger *pf_merger_new(void)
{
	merger *m = calloc(1, sizeof(merger));
	if (m) {
		m->functions = (pf_keyset){.size = sizeof(function_key), .key_size = FUNCTION_KEY_SIZE};
		m->mappings = (pf_keyset){.size = sizeof(mapping_key), .key_size = MAPPING_KEY_SIZE};
		m->comments = (pf_keyset){.size = sizeof(uint32_t), .key_size = sizeof(uint32_t)};
	}
	return m;
}

int pf_merger_add(pf_merger *m, pf_profile *p, const char *name, pf_err *e)
{
	m->e = e;
	if (!m->first && !m->p) {
		m->first = p;
		m->first_name = strdup(name);
		return m->first_name ? 0 : oom(m);
	}
	pf_profile *acc = m->p ? m->p : m->first;
	if (check_compatible(acc, p, m->first_name, name, e) != 0) {
		pf_profile_free(p);
		return -1;
	}
	int rc = 0;
	if (m->first) { /* the second profile: Merge([first, p]) begins */
		rc = start(m, m->first);
		m->first = NULL;
	}
	if (rc == 0)
		rc = merge_source(m, p, false);
	end_source(m);
	pf_profile_free(p);
	return rc == 0 ? drop_zero_samples(m) : -1;
}

void pf_merger_free(pf_merger *m)
{
	if (!m)
		return;
	free_tables(m);
	pf_profile_free(m->first);
	pf_profile_free(m->p);
	free(m->first_name);
	free(m);
}

const pf_profile *pf_merger_result(const pf_merger *m) { return m->p ? m->p : m->first; }

pf_profile *pf_merger_finish(pf_merger *m)
{
	pf_profile *p = m->p ? m->p : m->first;
	m->p = m->first = NULL;
	pf_merger_free(m);
	return p;
}
