/* trim.c: -trim, a profile cut down to what Go's compiler reads for
 * PGO (see pgo_graph.c for the rule, from the Go source):
 *
 *   - one sample type, the one the compiler picks (samples/count or
 *     cpu/nanoseconds, whichever comes first);
 *   - each sample's stack cut to its two leaf-most locations: NewGraph
 *     looks at no other frame;
 *   - locations keep their lines (inline frames: function and line number)
 *     and, where it matters, their address (below); no mapping, no column;
 *     functions keep their name and start_line (the call-site offset is
 *     line - start_line). Locations, and functions, that have become equal
 *     are one;
 *   - samples with equal cut stacks summed into one. The compiler's graph
 *     is a sum over samples, so the sums per node and per edge are kept.
 *     What a sum cannot keep is that a sample of value 0 adds nothing while
 *     a non-zero one creates the nodes and edges it walks, even when other
 *     samples cancel it out (negative values): a cut stack whose values sum
 *     to 0 is written as two samples, 1 and -1, which create the same nodes
 *     and edges and add 0. Samples of value 0 and empty stacks are dropped;
 *   - no labels, mappings, file or system names, drop/keep frames, doc url;
 *     the header keeps the period, times and comments (pgofetch's
 *     provenance), which are small. Ids are renumbered 1..N in order of use,
 *     and the encoder writes only the strings still used.
 *
 * Addresses. A graph node is (name, address, start_line, line): two frames
 * that differ only in address are two nodes. Within one sample that
 * matters (a node is counted once per sample; a step from a node to itself
 * is no edge); across samples it does not, as long as every node that
 * gets weight keeps some (then no node is dropped, and the edges summed by
 * name are the same). So when all values are positive (no sum can come
 * back to 0), addresses become 0, which makes most locations equal, except
 * the addresses of frames that some cut stack holds twice, at two addresses
 * (a recursion on one line): those stay, wherever they occur, so that every
 * sample walks nodes that are equal exactly where they were equal before.
 * With negative values every address stays.
 *
 * The result is a valid pprof profile that `go tool pprof` reads. */
#include "pgo.h"
#include "pprof_internal.h"

#include <stdlib.h>
#include <string.h>

/* A cut stack: at most two location indexes of q, leaf first, and its weight. */
typedef struct {
	uint32_t loc[2]; /* loc[1] is PF_NONE for a one-location stack */
	uint64_t sum;    /* wraps, as Go's int64 sums do */
} cut;

/* A frame without its address: what a graph node is besides the address. */
typedef struct {
	int64_t start_line, line;
	uint32_t name;
} frame;

typedef struct {
	const pf_profile *p; /* the source */
	pf_profile *q;       /* the trimmed profile */
	pf_err *e;
	size_t vi;           /* the sample type kept */
	pf_keyset cuts;      /* of cut: by q's locations */
	bool positive;       /* every value > 0, and their sum fits an int64 */
	pf_keyset twice;     /* of frame: frames some cut stack holds at two addresses */
	pf_keyset keep;      /* of uint64_t: the addresses that stay */
	uint32_t *loc_map;   /* source location index -> q index + 1; 0: not yet */
	uint32_t *fn_map;    /* source function index -> q index + 1; 0: not yet */
	pf_strpool locations; /* q's locations by content (address, each line's function and number), as bytes */
	pf_buf key;          /* a location's content */
	pf_keyset functions; /* of uint64_t[2], name in q and start_line: q's functions, in q's order */
} trimmer;

static int oom(trimmer *t) { return pf_fail(t->e, PF_EXIT_INTERNAL, "out of memory trimming the profile"); }

/* Frame i of location l; a location without lines is one empty frame. */
static frame frame_of(const pf_profile *p, const pf_location *l, uint32_t i)
{
	if (l->nlines == 0)
		return (frame){0, 0, 0};
	const pf_line *ln = &p->lines[l->lines + i];
	const pf_function *fn = &p->functions[ln->function];
	return (frame){fn->start_line, ln->line, fn->name};
}

static uint32_t nframes(const pf_location *l) { return l->nlines ? l->nlines : 1; }

/* The frames both locations of a two-location cut stack hold, at different addresses. */
static int find_twice(trimmer *t, const pf_sample *s)
{
	const pf_profile *p = t->p;
	const pf_location *a = &p->locations[p->sample_locs[s->locs]], *b = &p->locations[p->sample_locs[s->locs + 1]];
	if (a->address == b->address)
		return 0;
	uint32_t at;
	for (uint32_t i = 0; i < nframes(a); i++) {
		frame fa = frame_of(p, a, i);
		for (uint32_t j = 0; j < nframes(b); j++) {
			frame fb = frame_of(p, b, j);
			if (fa.name == fb.name && fa.start_line == fb.start_line && fa.line == fb.line &&
			    pf_keyset_add(&t->twice, &fa, &at) < 0)
				return oom(t);
		}
	}
	return 0;
}

/* Finds out whether all values are positive and, when they are, the
 * addresses of every location that holds a frame seen twice. */
static int find_kept_addresses(trimmer *t)
{
	const pf_profile *p = t->p;
	uint64_t total = 0;
	t->positive = true;
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		int64_t w = p->values[s->values + t->vi];
		if (w == 0 || s->nlocs == 0) /* dropped */
			continue;
		if (w < 0 || (uint64_t)w > (uint64_t)INT64_MAX - total)
			t->positive = false;
		else
			total += (uint64_t)w;
		if (s->nlocs > 1 && find_twice(t, s) != 0)
			return -1;
	}
	if (!t->positive || t->twice.n == 0)
		return 0;
	for (size_t i = 0; i < p->nlocations; i++) {
		const pf_location *l = &p->locations[i];
		for (uint32_t j = 0; j < nframes(l); j++) {
			frame f = frame_of(p, l, j);
			uint32_t at;
			if (pf_keyset_find(&t->twice, &f) != PF_HTAB_NONE &&
			    pf_keyset_add(&t->keep, &l->address, &at) < 0)
				return oom(t);
		}
	}
	return 0;
}

/* The q function of source function f: one per name and start_line. Each
 * source function is looked up once: its name is hashed once, not at
 * every line that names it. */
static int map_function(trimmer *t, uint32_t f, uint32_t *out)
{
	if (t->fn_map[f]) {
		*out = t->fn_map[f] - 1;
		return 0;
	}
	const pf_function *src = &t->p->functions[f];
	pf_profile *q = t->q;
	size_t len;
	const char *name = pf_profile_str(t->p, src->name, &len);
	pf_function fn = {.id = q->nfunctions + 1, .start_line = src->start_line};
	if (pf_strpool_intern(&q->str, name, len, &fn.name) != 0 || PF_RESERVE(q, functions, 1) != 0 ||
	    pf_keyset_add(&t->functions, (uint64_t[2]){fn.name, (uint64_t)fn.start_line}, out) < 0)
		return oom(t);
	if (*out == q->nfunctions)
		q->functions[q->nfunctions++] = fn;
	t->fn_map[f] = *out + 1;
	return 0;
}

/* The q location of source location l: one per address and lines. The
 * candidate's lines are written after q's; they are kept only when new. */
static int map_location(trimmer *t, uint32_t l, uint32_t *out)
{
	if (t->loc_map[l]) {
		*out = t->loc_map[l] - 1;
		return 0;
	}
	const pf_location *src = &t->p->locations[l];
	pf_profile *q = t->q;
	if (PF_RESERVE(q, locations, 1) != 0 || PF_RESERVE(q, lines, src->nlines) != 0)
		return oom(t);
	bool keep = !t->positive || pf_keyset_find(&t->keep, &src->address) != PF_HTAB_NONE;
	pf_location cand = {.id = q->nlocations + 1, .address = keep ? src->address : 0,
			    .mapping = PF_NONE, .nlines = src->nlines, .lines = q->nlines};
	t->key.len = 0;
	int rc = pf_buf_append(&t->key, &cand.address, sizeof cand.address);
	for (uint32_t i = 0; rc == 0 && i < src->nlines; i++) {
		const pf_line *ln = &t->p->lines[src->lines + i];
		pf_line *dst = &q->lines[q->nlines + i];
		*dst = (pf_line){.line = ln->line};
		if (map_function(t, ln->function, &dst->function) != 0)
			return -1;
		rc = pf_buf_append(&t->key, &dst->function, sizeof dst->function) != 0 ||
		     pf_buf_append(&t->key, &dst->line, sizeof dst->line) != 0;
	}
	if (rc != 0 || pf_strpool_intern(&t->locations, t->key.data, t->key.len, out) != 0)
		return oom(t);
	if (*out == q->nlocations) {
		q->locations[q->nlocations++] = cand;
		q->nlines += src->nlines;
	}
	t->loc_map[l] = *out + 1;
	return 0;
}

/* Sums the chosen value of every sample by cut stack of q's locations, in
 * order of first use. */
static int cut_samples(trimmer *t)
{
	const pf_profile *p = t->p;
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		int64_t w = p->values[s->values + t->vi];
		cut k = {{0, PF_NONE}, 0};
		uint32_t at;
		if (w == 0 || s->nlocs == 0)
			continue;
		for (uint32_t j = 0; j < 2 && j < s->nlocs; j++)
			if (map_location(t, p->sample_locs[s->locs + j], &k.loc[j]) != 0)
				return -1;
		if (pf_keyset_add(&t->cuts, &k, &at) < 0)
			return oom(t);
		((cut *)t->cuts.v)[at].sum += (uint64_t)w;
	}
	return 0;
}

/* Appends a sample per cut stack; one whose values sum to 0 as two, of
 * values 1 and -1 (see above). */
static int put_samples(trimmer *t)
{
	pf_profile *q = t->q;
	for (size_t i = 0; i < t->cuts.n; i++) {
		const cut *c = (const cut *)t->cuts.v + i;
		uint32_t n = c->loc[1] == PF_NONE ? 1 : 2;
		int64_t w[2] = {c->sum ? (int64_t)c->sum : 1, -1};
		for (int k = 0; k < (c->sum ? 1 : 2); k++) {
			if (PF_RESERVE(q, samples, 1) != 0 || PF_RESERVE(q, sample_locs, 2) != 0 ||
			    PF_RESERVE(q, values, 1) != 0)
				return oom(t);
			q->samples[q->nsamples++] =
				(pf_sample){.locs = q->nsample_locs, .values = q->nvalues, .nlocs = n};
			for (uint32_t j = 0; j < n; j++)
				q->sample_locs[q->nsample_locs++] = c->loc[j];
			q->values[q->nvalues++] = w[k];
		}
	}
	return 0;
}

/* The id in q of string id of p. */
static int copy_str(trimmer *t, uint32_t id, uint32_t *out)
{
	size_t len;
	const char *s = pf_profile_str(t->p, id, &len);
	return pf_strpool_intern(&t->q->str, s, len, out) == 0 ? 0 : oom(t);
}

static int copy_value_type(trimmer *t, const pf_value_type *from, pf_value_type *to)
{
	return copy_str(t, from->type, &to->type) != 0 || copy_str(t, from->unit, &to->unit) != 0 ? -1 : 0;
}

static int copy_header(trimmer *t, long vi)
{
	const pf_profile *p = t->p;
	pf_profile *q = t->q;
	q->time_nanos = p->time_nanos;
	q->duration_nanos = p->duration_nanos;
	q->period = p->period;
	if (copy_value_type(t, &p->period_type, &q->period_type) != 0)
		return -1;
	if (vi >= 0) {
		if (PF_RESERVE(q, sample_types, 1) != 0)
			return oom(t);
		if (copy_value_type(t, &p->sample_types[vi], &q->sample_types[q->nsample_types++]) != 0)
			return -1;
		/* Kept only when it names the one type left. */
		if (p->default_sample_type == p->sample_types[vi].type &&
		    copy_str(t, p->default_sample_type, &q->default_sample_type) != 0)
			return -1;
	}
	if (PF_RESERVE(q, comments, p->ncomments) != 0)
		return oom(t);
	for (size_t i = 0; i < p->ncomments; i++)
		if (copy_str(t, p->comments[i], &q->comments[q->ncomments++]) != 0)
			return -1;
	return 0;
}

static int trim_into(trimmer *t)
{
	const pf_profile *p = t->p;
	long vi = pf_pgo_value_index(p);
	if (vi < 0 && p->nsamples > 0)
		return pf_fail(t->e, PF_EXIT_DATA,
			       "no samples/count or cpu/nanoseconds sample type: Go's compiler cannot use this profile");
	t->loc_map = calloc(p->nlocations + 1, sizeof *t->loc_map);
	t->fn_map = calloc(p->nfunctions + 1, sizeof *t->fn_map);
	if (!t->q || !t->loc_map || !t->fn_map)
		return oom(t);
	t->vi = (size_t)vi;
	if (copy_header(t, vi) != 0)
		return -1;
	if (vi < 0) /* no samples */
		return 0;
	return find_kept_addresses(t) != 0 || cut_samples(t) != 0 ? -1 : put_samples(t);
}

pf_profile *pf_profile_trim(const pf_profile *p, pf_err *e)
{
	trimmer t = {.p = p, .e = e, .q = pf_profile_new(),
		     .cuts = {.size = sizeof(cut), .key_size = sizeof(uint32_t[2])},
		     .twice = {.size = sizeof(frame), .key_size = offsetof(frame, name) + sizeof(uint32_t)},
		     .keep = {.size = sizeof(uint64_t), .key_size = sizeof(uint64_t)},
		     .functions = {.size = sizeof(uint64_t[2]), .key_size = sizeof(uint64_t[2])}};
	int rc = trim_into(&t);
	pf_keyset_free(&t.cuts);
	pf_keyset_free(&t.twice);
	pf_keyset_free(&t.keep);
	pf_keyset_free(&t.functions);
	free(t.loc_map);
	free(t.fn_map);
	free(t.locations.bytes);
	free(t.locations.strs);
	pf_htab_free(&t.locations.index);
	pf_buf_free(&t.key);
	if (rc == 0)
		return t.q;
	pf_profile_free(t.q);
	return NULL;
}
