/* decode.c: protobuf bytes -> pf_profile, accepting and refusing
 * exactly what pprof's ParseUncompressed + CheckValid accept and refuse.
 *
 * pprof decodes every field into raw indexes first and resolves them once
 * the whole message is read (postDecode), since the string table and the
 * entity tables may come in any order (Go's runtime writes strings last).
 * This decoder gets the same effect with passes over the top-level fields:
 *   1. header scalars, sample types, where each string table entry is
 *      (a string goes into the pool when something first names it: a
 *      service's profile is mostly span label strings, which a merge
 *      drops, so they are never copied); counts the rest;
 *   2. mappings and functions (they refer only to strings);
 *   3. locations (they refer to mappings and functions);
 *   4. samples (they refer to locations).
 * so every reference is resolved as soon as it is read, and every error can
 * say where it is. pprof's rules kept here:
 *   - unknown fields (and field 0) are skipped, whatever their wire type,
 *     but wire types 3, 4, 6 and 7 are errors; varints are at most 10 bytes;
 *   - a known field with the wrong wire type is an error; repeated scalars
 *     may be packed (wire type 2) or not (wire type 0);
 *   - a later singular field overwrites an earlier one, but a second non-zero
 *     time_nanos means concatenated profiles, an error;
 *   - a later period_type message replaces the earlier one as a whole;
 *   - string_table[0] must be ""; every string index pprof resolves must be in
 *     range (a label's unit is not resolved when it has a string value);
 *   - ids of mappings, functions, locations: non-zero and unique;
 *   - a location's mapping_id that matches no mapping means "no mapping"
 *     (pprof does not complain); a line's function id must exist;
 *   - a sample's location ids must exist; it has one value per sample type;
 *     samples need sample types;
 *   - a label with a string value (str != 0) is a string label; otherwise,
 *     with num or unit non-zero, a numeric label; otherwise it is dropped.
 * String labels are checked and never kept, as datadog-pgo drops them before
 * merging: pgofetch neither merges nor writes them. */
#include "pprof_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const uint8_t *p, *end;
} span;

typedef struct {
	uint64_t num;
	int wt;
	uint64_t u64; /* wire types 0, 1, 5 */
	span data;    /* wire type 2 */
	size_t at;    /* byte offset of the tag */
} field;

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_BYTES = 2, WT_FIXED32 = 5 };

/* id -> index of mappings, functions or locations: a direct table for the
 * small ids profiles normally use (as pprof does), a set for the others. */
typedef struct {
	uint32_t *dense; /* dense[id] = index + 1, for id < ndense */
	size_t ndense;
	pf_keyset sparse; /* of sparse_id */
	const char *what;
} idmap;

typedef struct {
	uint64_t id;
	uint64_t idx;
} sparse_id;

typedef struct {
	int64_t type, unit;
} raw_value_type;

/* A string table entry: its bytes at base + off, and its pool id + 1
 * once it is in the pool (else 0). */
typedef struct {
	uint32_t off, len, id;
} str_entry;

typedef struct {
	const uint8_t *base; /* start of the input, for byte offsets */
	pf_err *e;
	pf_profile *p;

	/* The string table: where each entry's bytes are; put in the pool
	 * when first named (most of a service's strings are its span labels',
	 * which a merge drops, so they never are). */
	str_entry *strmap;
	size_t nstrmap, cap_strmap;

	size_t nsample_msgs, nmapping_msgs, nlocation_msgs, nfunction_msgs;
	idmap mappings, functions, locations;

	/* Header fields as raw string indexes until the string table is whole. */
	raw_value_type *raw_sample_types;
	size_t nraw_sample_types, cap_raw_sample_types;
	raw_value_type raw_period_type;
	int64_t raw_drop_frames, raw_keep_frames, raw_default_sample_type, raw_doc_url;
	int64_t *raw_comments;
	size_t nraw_comments, cap_raw_comments;

	pf_num_label *sort_tmp; /* label sort scratch */
	size_t cap_sort_tmp;
} dec;

static size_t off(const dec *d, const uint8_t *at) { return (size_t)(at - d->base); }

static int oom(dec *d) { return pf_fail(d->e, PF_EXIT_INTERNAL, "out of memory decoding the profile"); }

/* ---- wire format ---- */

/* A varint as pprof reads one: at most 10 bytes, bits past 64 dropped. */
static int read_long_varint(dec *d, span *s, uint64_t *v)
{
	uint64_t u = 0;
	for (int i = 0;; i++) {
		if (i >= 10)
			return pf_fail(d->e, PF_EXIT_DATA, "varint longer than 10 bytes at byte %zu",
				       off(d, s->p));
		if (i >= s->end - s->p)
			return pf_fail(d->e, PF_EXIT_DATA, "truncated varint at byte %zu",
				       off(d, s->p));
		uint8_t b = s->p[i];
		u |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			s->p += i + 1;
			*v = u;
			return 0;
		}
	}
}

/* Most varints of a profile (tags, lengths, ids) are one byte. */
static inline int read_varint(dec *d, span *s, uint64_t *v)
{
	if (s->p < s->end && *s->p < 0x80) {
		*v = *s->p++;
		return 0;
	}
	return read_long_varint(d, s, v);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* next_field's errors, out of its way: it runs for every field. */
static int truncated_fixed(dec *d, const field *f, uint64_t n)
{
	return pf_fail(d->e, PF_EXIT_DATA, "truncated fixed%d field %" PRIu64 " at byte %zu", (int)n * 8, f->num,
		       f->at);
}

static int runs_past_end(dec *d, const field *f, uint64_t n, size_t left)
{
	return pf_fail(d->e, PF_EXIT_DATA,
		       "field %" PRIu64 " at byte %zu: length %" PRIu64 " runs past the end (%zu bytes left)", f->num,
		       f->at, n, left);
}

static int bad_wire_type(dec *d, const field *f)
{
	return pf_fail(d->e, PF_EXIT_DATA, "unsupported wire type %d (field %" PRIu64 ") at byte %zu", f->wt,
		       f->num, f->at);
}

/* Reads the next field of s: 1 when read, 0 at the end, -1 on error. */
static inline int next_field(dec *d, span *s, field *f)
{
	if (s->p >= s->end)
		return 0;
	f->at = off(d, s->p);
	uint64_t tag = 0, n = 0; /* set by read_varint; zeroed for -O3's flow analysis */
	if (read_varint(d, s, &tag) != 0)
		return -1;
	f->num = tag >> 3;
	f->wt = (int)(tag & 7);
	f->u64 = 0;
	f->data = (span){NULL, NULL};
	size_t left = (size_t)(s->end - s->p);
	switch (f->wt) {
	case WT_VARINT:
		f->data.p = s->p; /* the value's bytes: one element of a repeated varint field */
		if (read_varint(d, s, &f->u64) != 0)
			return -1;
		f->data.end = s->p;
		return 1;
	case WT_FIXED64:
	case WT_FIXED32:
		n = f->wt == WT_FIXED64 ? 8 : 4;
		if (left < n)
			return truncated_fixed(d, f, n);
		f->u64 = le(s->p, (int)n);
		s->p += n;
		return 1;
	case WT_BYTES:
		if (read_varint(d, s, &n) != 0)
			return -1;
		left = (size_t)(s->end - s->p);
		if (n > left)
			return runs_past_end(d, f, n, left);
		f->data = (span){s->p, s->p + n};
		s->p += n;
		return 1;
	default:
		return bad_wire_type(d, f);
	}
}

static int wrong_wire_type(dec *d, const field *f, int wt, const char *what)
{
	return pf_fail(d->e, PF_EXIT_DATA, "%s (field %" PRIu64 ") at byte %zu has wire type %d, want %d",
		       what, f->num, f->at, f->wt, wt);
}

static inline int want_wt(dec *d, const field *f, int wt, const char *what)
{
	return f->wt == wt ? 0 : wrong_wire_type(d, f, wt, what);
}

static int get_u64(dec *d, const field *f, const char *what, uint64_t *v)
{
	if (want_wt(d, f, WT_VARINT, what) != 0)
		return -1;
	*v = f->u64;
	return 0;
}

/* Reads message s, whose fields 1..n are varints (their names, one a
 * word after msg, in names), into v[0..n-1]; field sub, when not 0, goes
 * to on_sub instead; other fields are skipped. */
static int read_message(dec *d, span s, const char *msg, const char *names, uint64_t *v, uint64_t n,
			uint64_t sub, int (*on_sub)(dec *d, const field *f, void *ctx), void *ctx)
{
	field f;
	int r;
	while ((r = next_field(d, &s, &f)) > 0) {
		if (f.num == sub && sub != 0 && on_sub(d, &f, ctx) != 0)
			return -1;
		if (f.num == sub || f.num < 1 || f.num > n)
			continue;
		if (f.wt != WT_VARINT) {
			const char *w = names;
			for (uint64_t i = 1; i < f.num; i++)
				w += strcspn(w, " ") + 1;
			char what[64];
			snprintf(what, sizeof what, "%s %.*s", msg, (int)strcspn(w, " "), w);
			return wrong_wire_type(d, &f, WT_VARINT, what);
		}
		v[f.num - 1] = f.u64;
	}
	return r;
}

/* A repeated varint field's values: packed (wire type 2), or one (wire
 * type 0, whose data is the varint's own bytes). */
static int repeated_varints(dec *d, const field *f, const char *what, span *s)
{
	*s = f->data;
	return f->wt == WT_BYTES ? 0 : want_wt(d, f, WT_VARINT, what);
}

/* ---- strings and ids ---- */

static bool in_string_table(const dec *d, int64_t raw) { return raw >= 0 && (uint64_t)raw < d->nstrmap; }

/* The pool id of string table entry i (in range), putting its bytes in
 * the pool the first time: one id per distinct string. */
static int pool_id(dec *d, size_t i, uint32_t *out)
{
	str_entry *s = &d->strmap[i];
	if (!s->id) {
		uint32_t id = 0;
		const uint8_t *bytes = d->base + s->off;
		if (pf_strpool_intern(&d->p->str, bytes, s->len, &id) != 0)
			return oom(d);
		s->id = id + 1;
	}
	*out = s->id - 1;
	return 0;
}

/* Resolves a string index as pprof's getString does (in range or error).
 * where_fmt names the field's owner, with n as its id or index when it has one. */
static int str_ref(dec *d, int64_t raw, uint32_t *out, const char *where_fmt, uint64_t n, const char *field_name)
{
	if (in_string_table(d, raw))
		return pool_id(d, (size_t)raw, out);
	char where[160];
	snprintf(where, sizeof where, where_fmt, n);
	return pf_fail(d->e, PF_EXIT_DATA, "string_table index %" PRId64 " out of range (%zu strings) in %s%s%s",
		       raw, d->nstrmap, where, *field_name ? " " : "", field_name);
}

static int add_string(dec *d, const field *f)
{
	if (want_wt(d, f, WT_BYTES, "string_table") != 0)
		return -1;
	size_t n = (size_t)(f->data.end - f->data.p);
	if (d->nstrmap == 0 && n != 0)
		return pf_fail(d->e, PF_EXIT_DATA, "string_table[0] at byte %zu must be \"\"", f->at);
	if (pf_vec_reserve((void **)&d->strmap, &d->cap_strmap, d->nstrmap + 1, sizeof *d->strmap) != 0)
		return oom(d);
	/* string_table[0], "", is the pool's id 0; the input is below 4 GiB */
	d->strmap[d->nstrmap] = (str_entry){(uint32_t)off(d, f->data.p), (uint32_t)n, d->nstrmap == 0};
	d->nstrmap++;
	return 0;
}

static int idmap_init(dec *d, idmap *m, size_t n, const char *what)
{
	m->sparse = (pf_keyset){.size = sizeof(sparse_id), .key_size = sizeof(uint64_t)};
	m->what = what;
	m->ndense = n + 1; /* pprof's postDecode indexes ids up to len(list) directly */
	m->dense = calloc(m->ndense, sizeof *m->dense);
	return m->dense ? 0 : oom(d);
}

static void idmap_free(idmap *m)
{
	free(m->dense);
	pf_keyset_free(&m->sparse);
}

static uint32_t idmap_get_sparse(const idmap *m, uint64_t id)
{
	uint32_t i = pf_keyset_find(&m->sparse, &id);
	return i == PF_HTAB_NONE ? PF_NONE : (uint32_t)((const sparse_id *)m->sparse.v)[i].idx;
}

static inline uint32_t idmap_get(const idmap *m, uint64_t id)
{
	if (id < m->ndense)
		return m->dense[id] - 1; /* 0 (none) wraps to PF_NONE */
	return idmap_get_sparse(m, id);
}

/* Registers entity idx under its id. */
static int idmap_add(dec *d, idmap *m, uint64_t id, uint32_t idx, size_t at)
{
	if (id == 0)
		return pf_fail(d->e, PF_EXIT_DATA, "%s at byte %zu has the reserved id 0", m->what, at);
	if (idmap_get(m, id) != PF_NONE)
		return pf_fail(d->e, PF_EXIT_DATA, "duplicate %s id %" PRIu64 " at byte %zu", m->what, id, at);
	if (id < m->ndense) {
		m->dense[id] = idx + 1;
		return 0;
	}
	uint32_t got;
	return pf_keyset_add(&m->sparse, &(sparse_id){id, idx}, &got) < 0 ? oom(d) : 0;
}

/* ---- pass 1: header, sample types, string table, counts ---- */

static int decode_raw_value_type(dec *d, span s, raw_value_type *vt)
{
	uint64_t v[2] = {0};
	int r = read_message(d, s, "value type's", "type unit", v, 2, 0, NULL, NULL);
	*vt = (raw_value_type){(int64_t)v[0], (int64_t)v[1]};
	return r;
}

/* Appends the values of a repeated varint field to vec. */
static int add_varints(dec *d, const field *f, const char *what, int64_t **vec, size_t *n, size_t *cap)
{
	span s;
	uint64_t v = 0; /* set by read_varint; zeroed for -O3's flow analysis */
	if (repeated_varints(d, f, what, &s) != 0)
		return -1;
	while (s.p < s.end) {
		if (read_varint(d, &s, &v) != 0)
			return -1;
		if (*n == *cap && pf_vec_reserve((void **)vec, cap, *n + 1, sizeof **vec) != 0)
			return oom(d);
		(*vec)[(*n)++] = (int64_t)v;
	}
	return 0;
}

static int count_message(dec *d, const field *f, size_t *count, const char *what)
{
	if (want_wt(d, f, WT_BYTES, what) != 0)
		return -1;
	(*count)++;
	return 0;
}

static int scan_field(dec *d, const field *f)
{
	pf_profile *p = d->p;
	switch (f->num) {
	case 1:
		if (want_wt(d, f, WT_BYTES, "sample_type") != 0)
			return -1;
		if (pf_vec_reserve((void **)&d->raw_sample_types, &d->cap_raw_sample_types,
				   d->nraw_sample_types + 1, sizeof *d->raw_sample_types) != 0)
			return oom(d);
		d->raw_sample_types[d->nraw_sample_types] = (raw_value_type){0, 0};
		return decode_raw_value_type(d, f->data, &d->raw_sample_types[d->nraw_sample_types++]);
	case 2: return count_message(d, f, &d->nsample_msgs, "sample");
	case 3: return count_message(d, f, &d->nmapping_msgs, "mapping");
	case 4: return count_message(d, f, &d->nlocation_msgs, "location");
	case 5: return count_message(d, f, &d->nfunction_msgs, "function");
	case 6: return add_string(d, f);
	case 7: return get_u64(d, f, "drop_frames", (uint64_t *)&d->raw_drop_frames);
	case 8: return get_u64(d, f, "keep_frames", (uint64_t *)&d->raw_keep_frames);
	case 9:
		if (p->time_nanos != 0)
			return pf_fail(d->e, PF_EXIT_DATA,
				       "second time_nanos at byte %zu: concatenated profiles", f->at);
		return get_u64(d, f, "time_nanos", (uint64_t *)&p->time_nanos);
	case 10: return get_u64(d, f, "duration_nanos", (uint64_t *)&p->duration_nanos);
	case 11:
		if (want_wt(d, f, WT_BYTES, "period_type") != 0)
			return -1;
		d->raw_period_type = (raw_value_type){0, 0}; /* a later one replaces it whole */
		return decode_raw_value_type(d, f->data, &d->raw_period_type);
	case 12: return get_u64(d, f, "period", (uint64_t *)&p->period);
	case 13: return add_varints(d, f, "comment", &d->raw_comments, &d->nraw_comments, &d->cap_raw_comments);
	case 14: return get_u64(d, f, "default_sample_type", (uint64_t *)&d->raw_default_sample_type);
	case 15: return get_u64(d, f, "doc_url", (uint64_t *)&d->raw_doc_url);
	default: return 0; /* unknown: skipped */
	}
}

static int resolve_header(dec *d)
{
	pf_profile *p = d->p;
	p->sample_types = calloc(d->nraw_sample_types + 1, sizeof *p->sample_types);
	if (!p->sample_types)
		return oom(d);
	p->cap_sample_types = d->nraw_sample_types + 1;
	for (size_t i = 0; i < d->nraw_sample_types; i++) {
		const raw_value_type *r = &d->raw_sample_types[i];
		pf_value_type *vt = &p->sample_types[i];
		if (str_ref(d, r->type, &vt->type, "sample_type index %" PRIu64, i, "type") != 0 ||
		    str_ref(d, r->unit, &vt->unit, "sample_type index %" PRIu64, i, "unit") != 0)
			return -1;
		p->nsample_types++;
	}
	if (str_ref(d, d->raw_drop_frames, &p->drop_frames, "drop_frames", 0, "") != 0 ||
	    str_ref(d, d->raw_keep_frames, &p->keep_frames, "keep_frames", 0, "") != 0 ||
	    str_ref(d, d->raw_period_type.type, &p->period_type.type, "period_type", 0, "type") != 0 ||
	    str_ref(d, d->raw_period_type.unit, &p->period_type.unit, "period_type", 0, "unit") != 0 ||
	    str_ref(d, d->raw_default_sample_type, &p->default_sample_type, "default_sample_type", 0, "") != 0 ||
	    str_ref(d, d->raw_doc_url, &p->doc_url, "doc_url", 0, "") != 0)
		return -1;
	if (d->nraw_comments) {
		p->comments = malloc(d->nraw_comments * sizeof *p->comments);
		if (!p->comments)
			return oom(d);
		p->cap_comments = d->nraw_comments;
	}
	for (size_t i = 0; i < d->nraw_comments; i++) {
		if (str_ref(d, d->raw_comments[i], &p->comments[i], "comment index %" PRIu64, i, "") != 0)
			return -1;
		p->ncomments++;
	}
	return 0;
}

/* ---- pass 2: mappings and functions ---- */

static int decode_mapping(dec *d, span s, size_t at)
{
	uint64_t v[10] = {0};
	if (read_message(d, s, "mapping",
			 "id memory_start memory_limit file_offset filename build_id has_functions "
			 "has_filenames has_line_numbers has_inline_frames",
			 v, 10, 0, NULL, NULL) != 0)
		return -1;
	pf_mapping m = {.id = v[0], .start = v[1], .limit = v[2], .offset = v[3], .has_functions = v[6] != 0,
			.has_filenames = v[7] != 0, .has_line_numbers = v[8] != 0, .has_inline_frames = v[9] != 0};
	if (str_ref(d, (int64_t)v[4], &m.file, "mapping id %" PRIu64, m.id, "filename") != 0 ||
	    str_ref(d, (int64_t)v[5], &m.build_id, "mapping id %" PRIu64, m.id, "build_id") != 0)
		return -1;
	pf_profile *p = d->p;
	p->mappings[p->nmappings] = m;
	if (idmap_add(d, &d->mappings, m.id, (uint32_t)p->nmappings, at) != 0)
		return -1;
	p->nmappings++;
	return 0;
}

static int decode_function(dec *d, span s, size_t at)
{
	uint64_t v[5] = {0};
	if (read_message(d, s, "function", "id name system_name filename start_line", v, 5, 0, NULL, NULL) != 0)
		return -1;
	pf_function fn = {.id = v[0], .start_line = (int64_t)v[4]};
	if (str_ref(d, (int64_t)v[1], &fn.name, "function id %" PRIu64, fn.id, "name") != 0 ||
	    str_ref(d, (int64_t)v[2], &fn.system_name, "function id %" PRIu64, fn.id, "system_name") != 0 ||
	    str_ref(d, (int64_t)v[3], &fn.filename, "function id %" PRIu64, fn.id, "filename") != 0)
		return -1;
	pf_profile *p = d->p;
	p->functions[p->nfunctions] = fn;
	if (idmap_add(d, &d->functions, fn.id, (uint32_t)p->nfunctions, at) != 0)
		return -1;
	p->nfunctions++;
	return 0;
}

/* ---- pass 3: locations ---- */

/* A location being read, and its first line whose function is missing:
 * the error names the location's id, which may come after its lines. */
typedef struct {
	pf_location loc;
	uint32_t bad_line; /* PF_NONE: none */
	uint64_t bad_function;
} location_read;

static int add_line(dec *d, const field *f, void *ctx)
{
	pf_profile *p = d->p;
	location_read *r = ctx;
	uint64_t v[3] = {0};
	if (want_wt(d, f, WT_BYTES, "location line") != 0)
		return -1;
	if (PF_RESERVE(p, lines, 1) != 0)
		return oom(d);
	if (read_message(d, f->data, "line", "function_id line column", v, 3, 0, NULL, NULL) != 0)
		return -1;
	/* pprof's CheckValid refuses a line whose function is missing (id 0 or unknown). */
	uint32_t fn = v[0] ? idmap_get(&d->functions, v[0]) : PF_NONE;
	if (fn == PF_NONE && r->bad_line == PF_NONE) {
		r->bad_line = r->loc.nlines;
		r->bad_function = v[0];
	}
	p->lines[p->nlines++] = (pf_line){.function = fn, .line = (int64_t)v[1], .column = (int64_t)v[2]};
	r->loc.nlines++;
	return 0;
}

static int decode_location(dec *d, span s, size_t at)
{
	pf_profile *p = d->p;
	location_read r = {.loc = {.lines = p->nlines}, .bad_line = PF_NONE};
	uint64_t v[5] = {0};
	if (read_message(d, s, "location", "id mapping_id address line is_folded", v, 5, 4, add_line, &r) != 0)
		return -1;
	pf_location loc = r.loc;
	loc.id = v[0];
	loc.address = v[2];
	loc.is_folded = v[4] != 0;
	/* pprof leaves a location without mapping when its mapping_id matches none. */
	loc.mapping = idmap_get(&d->mappings, v[1]);
	if (r.bad_line != PF_NONE)
		return pf_fail(d->e, PF_EXIT_DATA,
			       "location id %" PRIu64 " (byte %zu) line %" PRIu32 ": function id %" PRIu64 " not found",
			       loc.id, at, r.bad_line, r.bad_function);
	p->locations[p->nlocations] = loc;
	if (idmap_add(d, &d->locations, loc.id, (uint32_t)p->nlocations, at) != 0)
		return -1;
	p->nlocations++;
	return 0;
}

/* ---- pass 4: samples ---- */

static int add_sample_locations(dec *d, const field *f, pf_sample *smp, size_t index)
{
	pf_profile *p = d->p;
	span s;
	uint64_t id = 0; /* set by read_varint; zeroed for -O3's flow analysis */
	if (repeated_varints(d, f, "sample location_id", &s) != 0)
		return -1;
	/* At most one id per byte: room for them all at once, none to ask for in the loop. */
	if (PF_RESERVE(p, sample_locs, (size_t)(s.end - s.p)) != 0)
		return oom(d);
	while (s.p < s.end) {
		if (read_varint(d, &s, &id) != 0)
			return -1;
		uint32_t idx = idmap_get(&d->locations, id);
		if (idx == PF_NONE)
			return pf_fail(d->e, PF_EXIT_DATA,
				       "sample index %zu (byte %zu): location id %" PRIu64 " not found",
				       index, f->at, id);
		p->sample_locs[p->nsample_locs++] = idx;
		smp->nlocs++;
	}
	return 0;
}

/* A label message's fields, as the wire has them. */
typedef struct {
	int64_t key, str, num, unit;
} raw_label;

static int read_label(dec *d, const field *f, raw_label *l)
{
	uint64_t v[4] = {0};
	if (want_wt(d, f, WT_BYTES, "sample label") != 0 ||
	    read_message(d, f->data, "label", "key str num num_unit", v, 4, 0, NULL, NULL) != 0)
		return -1;
	*l = (raw_label){(int64_t)v[0], (int64_t)v[1], (int64_t)v[2], (int64_t)v[3]};
	return 0;
}

/* A label's key or string out of range in sample s: the error names the
 * largest key or string index of the sample's labels (negative ones
 * counting as larger than any other). */
static int labels_out_of_range(dec *d, span s, size_t index)
{
	pf_err *e = d->e, quiet = {0};
	d->e = &quiet;
	uint64_t worst = 0;
	field f;
	raw_label l;
	while (next_field(d, &s, &f) > 0) {
		if (f.num == 3 && read_label(d, &f, &l) == 0) {
			if ((uint64_t)l.key > worst)
				worst = (uint64_t)l.key;
			if (l.str != 0 && (uint64_t)l.str > worst)
				worst = (uint64_t)l.str;
		}
	}
	d->e = e;
	return pf_fail(e, PF_EXIT_DATA, "string_table index %" PRId64 " out of range (%zu strings) in sample index %zu labels",
		       (int64_t)worst, d->nstrmap, index);
}

static int add_label(dec *d, const field *f, span smp_bytes, pf_sample *smp, size_t index)
{
	pf_profile *p = d->p;
	raw_label raw;
	if (read_label(d, f, &raw) != 0)
		return -1;
	if (!in_string_table(d, raw.key) || (raw.str != 0 && !in_string_table(d, raw.str)))
		return labels_out_of_range(d, smp_bytes, index);
	/* A string label is checked, not kept, as datadog-pgo drops them: its
	 * strings stay out of the pool. A label with neither value pprof drops. */
	if (raw.str != 0 || (raw.num == 0 && raw.unit == 0))
		return 0;
	pf_num_label l = {0, PF_NONE, raw.num};
	if (pool_id(d, (size_t)raw.key, &l.key) != 0)
		return -1;
	if (raw.unit != 0 && str_ref(d, raw.unit, &l.unit, "sample index %" PRIu64, index, "label num_unit") != 0)
		return -1;
	if (PF_RESERVE(p, num_labels, 1) != 0)
		return oom(d);
	p->num_labels[p->nnum_labels++] = l;
	smp->nnum_labels++;
	return 0;
}

/* Byte order of two strings of p, as Go compares strings. */
static int str_cmp(const pf_profile *p, uint32_t a, uint32_t b)
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

/* Stable bottom-up merge sort by key: pprof groups a key's values in the
 * order they came, and sorts keys with sort.Strings. */
static void sort_by_key(const pf_profile *p, pf_num_label *base, size_t n, pf_num_label *tmp)
{
	pf_num_label *a = base, *b = tmp;
	size_t i = 1;
	while (i < n && str_cmp(p, a[i - 1].key, a[i].key) <= 0)
		i++;
	if (i >= n)
		return; /* already sorted: the usual case */
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t x = lo, y = mid, out = lo;
			while (x < mid || y < hi) {
				bool take_x = y >= hi || (x < mid && str_cmp(p, a[x].key, a[y].key) <= 0);
				b[out++] = a[take_x ? x++ : y++];
			}
		}
		pf_num_label *t = a;
		a = b;
		b = t;
	}
	if (a != base)
		memcpy(base, a, n * sizeof *base);
}

/* pprof pads a key's units with "" once any label of the key has a unit. */
static void pad_units(pf_num_label *l, size_t n)
{
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		bool any = false;
		for (hi = lo; hi < n && l[hi].key == l[lo].key; hi++) /* one id per distinct string */
			any |= l[hi].unit != PF_NONE;
		for (size_t i = lo; any && i < hi; i++)
			if (l[i].unit == PF_NONE)
				l[i].unit = 0;
	}
}

static int order_labels(dec *d, const pf_sample *smp)
{
	pf_profile *p = d->p;
	size_t n = smp->nnum_labels;
	if (n == 0)
		return 0; /* the array may be NULL, and NULL + 0 is undefined in C */
	if (n > 1 && pf_vec_reserve((void **)&d->sort_tmp, &d->cap_sort_tmp, n, sizeof *d->sort_tmp) != 0)
		return oom(d);
	if (n > 1)
		sort_by_key(p, p->num_labels + smp->num_labels, n, d->sort_tmp);
	pad_units(p->num_labels + smp->num_labels, n);
	return 0;
}

/* One sample, appended to p's arrays. */
static int decode_sample(dec *d, span s, size_t at)
{
	pf_profile *p = d->p;
	size_t index = p->nsamples;
	pf_sample smp = {.locs = p->nsample_locs, .values = p->nvalues, .num_labels = p->nnum_labels};
	field f;
	span all = s;
	int r, bad = 0;
	while (!bad && (r = next_field(d, &s, &f)) > 0) {
		switch (f.num) {
		case 1: bad = add_sample_locations(d, &f, &smp, index); break;
		case 2: bad = add_varints(d, &f, "sample value", &p->values, &p->nvalues, &p->cap_values); break;
		case 3: bad = add_label(d, &f, all, &smp, index); break;
		}
	}
	size_t nvalues = p->nvalues - smp.values;
	if (bad || r < 0)
		return -1;
	if (nvalues != p->nsample_types)
		return pf_fail(d->e, PF_EXIT_DATA, "sample index %zu (byte %zu) has %zu values for %zu sample types",
			       index, at, nvalues, p->nsample_types);
	if (order_labels(d, &smp) != 0)
		return -1;
	p->samples[p->nsamples++] = smp;
	return 0;
}

/* ---- driver ---- */

typedef int (*message_decoder)(dec *d, span s, size_t at);

/* Decodes every top-level message with field number num (or num2). */
static int decode_messages(dec *d, span all, uint64_t num, message_decoder fn, uint64_t num2,
			   message_decoder fn2)
{
	field f;
	int r;
	while ((r = next_field(d, &all, &f)) > 0) {
		if (f.num == num && fn(d, f.data, f.at) != 0)
			return -1;
		if (fn2 && f.num == num2 && fn2(d, f.data, f.at) != 0)
			return -1;
	}
	return r;
}

static int alloc_entities(dec *d)
{
	pf_profile *p = d->p;
	if (pf_vec_reserve((void **)&p->samples, &p->cap_samples, d->nsample_msgs, sizeof *p->samples) != 0 ||
	    pf_vec_reserve((void **)&p->mappings, &p->cap_mappings, d->nmapping_msgs, sizeof *p->mappings) != 0 ||
	    pf_vec_reserve((void **)&p->functions, &p->cap_functions, d->nfunction_msgs, sizeof *p->functions) != 0 ||
	    pf_vec_reserve((void **)&p->locations, &p->cap_locations, d->nlocation_msgs, sizeof *p->locations) != 0)
		return oom(d);
	if (idmap_init(d, &d->mappings, d->nmapping_msgs, "mapping") != 0 ||
	    idmap_init(d, &d->functions, d->nfunction_msgs, "function") != 0 ||
	    idmap_init(d, &d->locations, d->nlocation_msgs, "location") != 0)
		return -1;
	return 0;
}

static int decode_all(dec *d, span all)
{
	field f;
	int r;
	span top = all;
	while ((r = next_field(d, &top, &f)) > 0) {
		if (scan_field(d, &f) != 0)
			return -1;
	}
	if (r < 0 || resolve_header(d) != 0 || alloc_entities(d) != 0)
		return -1;
	if (d->p->nsample_types == 0 && d->nsample_msgs != 0)
		return pf_fail(d->e, PF_EXIT_DATA, "%zu samples but no sample types", d->nsample_msgs);
	if (decode_messages(d, all, 3, decode_mapping, 5, decode_function) != 0 ||
	    decode_messages(d, all, 4, decode_location, 0, NULL) != 0)
		return -1;
	return decode_messages(d, all, 2, decode_sample, 0, NULL);
}

static void dec_free(dec *d)
{
	free(d->strmap);
	idmap_free(&d->mappings);
	idmap_free(&d->functions);
	idmap_free(&d->locations);
	free(d->raw_sample_types);
	free(d->raw_comments);
	free(d->sort_tmp);
}

pf_profile *pf_profile_decode(const uint8_t *data, size_t len, pf_err *e)
{
	if (len == 0) {
		pf_fail(e, PF_EXIT_DATA, "empty profile");
		return NULL;
	}
	/* Indexes are 32-bit; a profile this big is not one a service writes. */
	if (len >= PF_NONE) {
		pf_fail(e, PF_EXIT_DATA, "profile of %zu bytes is larger than 4 GiB", len);
		return NULL;
	}
	dec d = {.base = data, .e = e};
	if (!(d.p = pf_profile_new())) {
		oom(&d);
		return NULL;
	}
	int rc = decode_all(&d, (span){data, data + len});
	dec_free(&d);
	if (rc != 0) {
		pf_profile_free(d.p);
		return NULL;
	}
	d.p->nstring_table = d.nstrmap;
	return d.p;
}
