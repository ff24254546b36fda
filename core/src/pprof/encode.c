/* encode.c: pf_profile -> protobuf bytes, byte for byte as pprof's
 * Profile.WriteUncompressed writes them (preEncode + encode):
 *   - the string table is rebuilt from what the profile uses, in the order
 *     preEncode meets strings: "", sample types, each sample's labels (string
 *     labels key then value, by sorted key; then numeric labels key then
 *     units), mappings (file, build id), functions (name, system name, file
 *     name), drop_frames, keep_frames, period type, comments,
 *     default_sample_type, doc_url;
 *   - message order: sample types, samples, mappings, locations, functions,
 *     strings, then fields 7..15; within messages, fields by number;
 *   - zero scalars are left out, except default_sample_type (always written)
 *     and the elements of repeated fields; period_type only when its type or
 *     unit is non-empty; embedded messages are written even when empty;
 *   - repeated varints are packed only when there are more than 2 of them. */
#include "pprof_internal.h"

#include <stdlib.h>
#include <string.h>

/* The string table being built: pool id -> index, and the pool ids in order. */
typedef struct {
	uint32_t *index; /* PF_NONE: not in the table yet */
	uint32_t *order;
	size_t n;
} strtab;

typedef struct {
	const pf_profile *p;
	strtab st;
	uint64_t *ids; /* scratch: one sample's location ids */
	size_t cap_ids;
	pf_buf *out;
	uint8_t *w; /* write cursor inside out's reserved space */
} enc;

/* ---- sizes and raw writes ---- */

static size_t vsize(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void put_varint(enc *x, uint64_t v)
{
	while (v >= 0x80) {
		*x->w++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*x->w++ = (uint8_t)v;
}

/* Field numbers here are all below 16: their tags take one byte. */
static size_t field_size(uint64_t v) { return 1 + vsize(v); }
static size_t opt_size(uint64_t v) { return v ? field_size(v) : 0; }
static size_t bytes_size(size_t len) { return 1 + vsize(len) + len; }

static void put_field(enc *x, int num, uint64_t v)
{
	*x->w++ = (uint8_t)(num << 3);
	put_varint(x, v);
}

static void put_opt(enc *x, int num, uint64_t v)
{
	if (v)
		put_field(x, num, v);
}

static void put_len(enc *x, int num, size_t len)
{
	*x->w++ = (uint8_t)(num << 3 | 2);
	put_varint(x, len);
}

static size_t rep_payload(const uint64_t *v, size_t n)
{
	size_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += vsize(v[i]);
	return s;
}

/* pprof packs repeated varints only when there are more than 2. */
static size_t rep_size(const uint64_t *v, size_t n)
{
	if (n > 2)
		return bytes_size(rep_payload(v, n));
	size_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += field_size(v[i]);
	return s;
}

static void put_rep(enc *x, int num, const uint64_t *v, size_t n)
{
	if (n > 2)
		put_len(x, num, rep_payload(v, n));
	for (size_t i = 0; i < n; i++) {
		if (n <= 2)
			*x->w++ = (uint8_t)(num << 3);
		put_varint(x, v[i]);
	}
}

/* Makes room for a message of payload size len under field num, writes its
 * header; the caller then writes exactly len bytes. */
static int begin_message(enc *x, int num, size_t len)
{
	pf_buf *b = x->out;
	if (pf_buf_reserve(b, bytes_size(len)) != 0)
		return -1;
	x->w = b->data + b->len;
	put_len(x, num, len);
	return 0;
}

static void end_message(enc *x) { x->out->len = (size_t)(x->w - x->out->data); }

/* ---- the string table (preEncode) ---- */

static void add(strtab *st, uint32_t id)
{
	if (st->index[id] == PF_NONE) {
		st->index[id] = (uint32_t)st->n;
		st->order[st->n++] = id;
	}
}

static uint64_t sx(const enc *x, uint32_t id) { return x->st.index[id]; }

static void add_sample_strings(strtab *st, const pf_profile *p, const pf_sample *s)
{
	for (uint32_t i = 0; i < s->nlabels; i++) {
		add(st, p->labels[s->labels + i].key);
		add(st, p->labels[s->labels + i].str);
	}
	for (uint32_t i = 0; i < s->nnum_labels; i++) {
		const pf_num_label *l = &p->num_labels[s->num_labels + i];
		add(st, l->key);
		if (l->unit != PF_NONE)
			add(st, l->unit);
	}
}

static void build_strtab(strtab *st, const pf_profile *p)
{
	add(st, 0);
	for (size_t i = 0; i < p->nsample_types; i++) {
		add(st, p->sample_types[i].type);
		add(st, p->sample_types[i].unit);
	}
	for (size_t i = 0; i < p->nsamples; i++)
		add_sample_strings(st, p, &p->samples[i]);
	for (size_t i = 0; i < p->nmappings; i++) {
		add(st, p->mappings[i].file);
		add(st, p->mappings[i].build_id);
	}
	for (size_t i = 0; i < p->nfunctions; i++) {
		add(st, p->functions[i].name);
		add(st, p->functions[i].system_name);
		add(st, p->functions[i].filename);
	}
	add(st, p->drop_frames);
	add(st, p->keep_frames);
	add(st, p->period_type.type);
	add(st, p->period_type.unit);
	for (size_t i = 0; i < p->ncomments; i++)
		add(st, p->comments[i]);
	add(st, p->default_sample_type);
	add(st, p->doc_url);
}

/* ---- messages ---- */

static size_t value_type_size(const enc *x, const pf_value_type *vt)
{
	return opt_size(sx(x, vt->type)) + opt_size(sx(x, vt->unit));
}

static int put_value_type(enc *x, int num, const pf_value_type *vt)
{
	if (begin_message(x, num, value_type_size(x, vt)) != 0)
		return -1;
	put_opt(x, 1, sx(x, vt->type));
	put_opt(x, 2, sx(x, vt->unit));
	end_message(x);
	return 0;
}

static size_t label_size(const enc *x, const pf_label *l)
{
	return opt_size(sx(x, l->key)) + opt_size(sx(x, l->str));
}

static size_t num_label_size(const enc *x, const pf_num_label *l)
{
	uint64_t unit = l->unit == PF_NONE ? 0 : sx(x, l->unit);
	return opt_size(sx(x, l->key)) + opt_size((uint64_t)l->num) + opt_size(unit);
}

static int put_sample(enc *x, const pf_sample *s)
{
	const pf_profile *p = x->p;
	if (pf_vec_reserve((void **)&x->ids, &x->cap_ids, s->nlocs, sizeof *x->ids) != 0)
		return -1;
	for (uint32_t i = 0; i < s->nlocs; i++)
		x->ids[i] = p->locations[p->sample_locs[s->locs + i]].id;
	/* Empty arrays may be NULL, and NULL + 0 is undefined in C. */
	size_t nvalues = p->nsample_types;
	const uint64_t *values = nvalues ? (const uint64_t *)(p->values + s->values) : NULL;
	const pf_label *labels = s->nlabels ? p->labels + s->labels : NULL;
	const pf_num_label *nums = s->nnum_labels ? p->num_labels + s->num_labels : NULL;

	size_t len = rep_size(x->ids, s->nlocs) + rep_size(values, nvalues);
	for (uint32_t i = 0; i < s->nlabels; i++)
		len += bytes_size(label_size(x, &labels[i]));
	for (uint32_t i = 0; i < s->nnum_labels; i++)
		len += bytes_size(num_label_size(x, &nums[i]));
	if (begin_message(x, 2, len) != 0)
		return -1;
	put_rep(x, 1, x->ids, s->nlocs);
	put_rep(x, 2, values, nvalues);
	for (uint32_t i = 0; i < s->nlabels; i++) {
		put_len(x, 3, label_size(x, &labels[i]));
		put_opt(x, 1, sx(x, labels[i].key));
		put_opt(x, 2, sx(x, labels[i].str));
	}
	for (uint32_t i = 0; i < s->nnum_labels; i++) {
		put_len(x, 3, num_label_size(x, &nums[i]));
		put_opt(x, 1, sx(x, nums[i].key));
		put_opt(x, 3, (uint64_t)nums[i].num);
		put_opt(x, 4, nums[i].unit == PF_NONE ? 0 : sx(x, nums[i].unit));
	}
	end_message(x);
	return 0;
}

static int put_mapping(enc *x, const pf_mapping *m)
{
	size_t len = opt_size(m->id) + opt_size(m->start) + opt_size(m->limit) + opt_size(m->offset) +
		     opt_size(sx(x, m->file)) + opt_size(sx(x, m->build_id)) + opt_size(m->has_functions) +
		     opt_size(m->has_filenames) + opt_size(m->has_line_numbers) +
		     opt_size(m->has_inline_frames);
	if (begin_message(x, 3, len) != 0)
		return -1;
	put_opt(x, 1, m->id);
	put_opt(x, 2, m->start);
	put_opt(x, 3, m->limit);
	put_opt(x, 4, m->offset);
	put_opt(x, 5, sx(x, m->file));
	put_opt(x, 6, sx(x, m->build_id));
	put_opt(x, 7, m->has_functions);
	put_opt(x, 8, m->has_filenames);
	put_opt(x, 9, m->has_line_numbers);
	put_opt(x, 10, m->has_inline_frames);
	end_message(x);
	return 0;
}

static size_t line_size(const enc *x, const pf_line *ln)
{
	return opt_size(x->p->functions[ln->function].id) + opt_size((uint64_t)ln->line) +
	       opt_size((uint64_t)ln->column);
}

static int put_location(enc *x, const pf_location *l)
{
	const pf_profile *p = x->p;
	const pf_line *lines = l->nlines ? p->lines + l->lines : NULL; /* lines may be NULL: NULL + 0 is undefined */
	uint64_t mapping_id = l->mapping == PF_NONE ? 0 : p->mappings[l->mapping].id;
	size_t len = opt_size(l->id) + opt_size(mapping_id) + opt_size(l->address) + opt_size(l->is_folded);
	for (uint32_t i = 0; i < l->nlines; i++)
		len += bytes_size(line_size(x, &lines[i]));
	if (begin_message(x, 4, len) != 0)
		return -1;
	put_opt(x, 1, l->id);
	put_opt(x, 2, mapping_id);
	put_opt(x, 3, l->address);
	for (uint32_t i = 0; i < l->nlines; i++) {
		put_len(x, 4, line_size(x, &lines[i]));
		put_opt(x, 1, p->functions[lines[i].function].id);
		put_opt(x, 2, (uint64_t)lines[i].line);
		put_opt(x, 3, (uint64_t)lines[i].column);
	}
	put_opt(x, 5, l->is_folded);
	end_message(x);
	return 0;
}

static int put_function(enc *x, const pf_function *f)
{
	size_t len = opt_size(f->id) + opt_size(sx(x, f->name)) + opt_size(sx(x, f->system_name)) +
		     opt_size(sx(x, f->filename)) + opt_size((uint64_t)f->start_line);
	if (begin_message(x, 5, len) != 0)
		return -1;
	put_opt(x, 1, f->id);
	put_opt(x, 2, sx(x, f->name));
	put_opt(x, 3, sx(x, f->system_name));
	put_opt(x, 4, sx(x, f->filename));
	put_opt(x, 5, (uint64_t)f->start_line);
	end_message(x);
	return 0;
}

static int put_strings(enc *x)
{
	for (size_t i = 0; i < x->st.n; i++) {
		size_t len;
		const char *s = pf_profile_str(x->p, x->st.order[i], &len);
		if (begin_message(x, 6, len) != 0)
			return -1;
		memcpy(x->w, s, len);
		x->w += len;
		end_message(x);
	}
	return 0;
}

/* Fields 7..15; the headroom covers nine fields of at most 11 bytes. */
static int put_trailer(enc *x)
{
	const pf_profile *p = x->p;
	if (pf_buf_reserve(x->out, 9 * 11) != 0)
		return -1;
	x->w = x->out->data + x->out->len;
	put_opt(x, 7, sx(x, p->drop_frames));
	put_opt(x, 8, sx(x, p->keep_frames));
	put_opt(x, 9, (uint64_t)p->time_nanos);
	put_opt(x, 10, (uint64_t)p->duration_nanos);
	end_message(x);
	if ((sx(x, p->period_type.type) || sx(x, p->period_type.unit)) &&
	    put_value_type(x, 11, &p->period_type) != 0)
		return -1;
	uint64_t *comments = NULL;
	if (p->ncomments) {
		comments = malloc(p->ncomments * sizeof *comments);
		if (!comments)
			return -1;
		for (size_t i = 0; i < p->ncomments; i++)
			comments[i] = sx(x, p->comments[i]);
	}
	int rc = pf_buf_reserve(x->out, 2 * 11 + rep_size(comments, p->ncomments));
	if (rc == 0) {
		x->w = x->out->data + x->out->len;
		put_opt(x, 12, (uint64_t)p->period);
		put_rep(x, 13, comments, p->ncomments);
		put_field(x, 14, sx(x, p->default_sample_type)); /* pprof always writes it */
		put_opt(x, 15, sx(x, p->doc_url));
		end_message(x);
	}
	free(comments);
	return rc;
}

static int put_profile(enc *x)
{
	const pf_profile *p = x->p;
	for (size_t i = 0; i < p->nsample_types; i++)
		if (put_value_type(x, 1, &p->sample_types[i]) != 0)
			return -1;
	for (size_t i = 0; i < p->nsamples; i++)
		if (put_sample(x, &p->samples[i]) != 0)
			return -1;
	for (size_t i = 0; i < p->nmappings; i++)
		if (put_mapping(x, &p->mappings[i]) != 0)
			return -1;
	for (size_t i = 0; i < p->nlocations; i++)
		if (put_location(x, &p->locations[i]) != 0)
			return -1;
	for (size_t i = 0; i < p->nfunctions; i++)
		if (put_function(x, &p->functions[i]) != 0)
			return -1;
	if (put_strings(x) != 0)
		return -1;
	return put_trailer(x);
}

int pf_profile_encode(pf_profile *p, pf_buf *out, pf_err *e)
{
	size_t nstrs = p->str.nstrs;
	enc x = {.p = p, .out = out};
	x.st.index = malloc(nstrs * sizeof *x.st.index);
	x.st.order = malloc(nstrs * sizeof *x.st.order);
	int rc = -1;
	size_t len0 = out->len;
	if (x.st.index && x.st.order) {
		memset(x.st.index, 0xff, nstrs * sizeof *x.st.index); /* all PF_NONE */
		build_strtab(&x.st, p);
		rc = put_profile(&x);
	}
	free(x.st.index);
	free(x.st.order);
	free(x.ids);
	if (rc != 0) {
		out->len = len0;
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory encoding the profile");
	}
	return 0;
}
