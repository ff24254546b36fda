/* encode.c: pf_profile -> protobuf bytes, byte for byte as pprof's
 * Profile.WriteUncompressed writes them (preEncode + encode):
 *   - the string table is rebuilt from what the profile uses, in the order
 *     preEncode meets strings: "", sample types, each sample's numeric
 *     labels (key then unit, by sorted key; string labels are dropped when
 *     decoding), mappings (file, build id), functions (name, system name, file
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

/* A message is written in place and its header put in front of it once
 * its length is known (moving the bytes after it): no size pass first. */
typedef struct {
	const pf_profile *p;
	uint32_t *index; /* pool id -> string table index; PF_NONE: not in it yet */
	uint32_t *order; /* the table's pool ids in order */
	size_t n;
	pf_buf *out;
	bool oom; /* sticky: the writes after one that failed are thrown away */
} enc;

static size_t varint(uint8_t *b, uint64_t v)
{
	size_t n = 0;
	for (; v >= 0x80; v >>= 7)
		b[n++] = (uint8_t)(v | 0x80);
	b[n++] = (uint8_t)v;
	return n;
}

/* Straight into the buffer: most of the output is varints, and a copy
 * through pf_buf_append cost as much as the encoding itself. */
static void put_varint(enc *x, uint64_t v)
{
	pf_buf *b = x->out;
	if (b->cap - b->len < 10 && pf_buf_reserve(b, 10) != 0) {
		x->oom = true;
		return;
	}
	b->len += varint(b->data + b->len, v);
}

/* Field numbers here are all below 16: their tags take one byte. */
static void put_opt(enc *x, int num, uint64_t v)
{
	if (v) {
		put_varint(x, (uint64_t)num << 3);
		put_varint(x, v);
	}
}

/* Where a message begins; end_message puts its header there. */
static size_t begin_message(enc *x) { return x->out->len; }

static void end_message(enc *x, int num, size_t at)
{
	pf_buf *b = x->out;
	uint8_t h[11] = {(uint8_t)(num << 3 | 2)};
	size_t len = b->len - at, n = 1 + varint(h + 1, len);
	if (x->oom || pf_buf_reserve(b, n) != 0) {
		x->oom = true;
		return;
	}
	memmove(b->data + at + n, b->data + at, len);
	memcpy(b->data + at, h, n);
	b->len += n;
}

/* A message num whose fields 1..n are v[0..n), zeros left out. */
static void put_msg(enc *x, int num, const uint64_t *v, size_t n)
{
	size_t at = begin_message(x);
	for (size_t i = 0; i < n; i++)
		put_opt(x, (int)i + 1, v[i]);
	end_message(x, num, at);
}

/* pprof packs repeated varints only when there are more than 2. */
static void put_rep(enc *x, int num, const uint64_t *v, size_t n)
{
	size_t at = begin_message(x);
	for (size_t i = 0; i < n; i++) {
		if (n <= 2)
			put_varint(x, (uint64_t)num << 3);
		put_varint(x, v[i]);
	}
	if (n > 2)
		end_message(x, num, at);
}

static void add(enc *x, uint32_t id)
{
	if (x->index[id] == PF_NONE) {
		x->index[id] = (uint32_t)x->n;
		x->order[x->n++] = id;
	}
}

static uint64_t sx(const enc *x, uint32_t id) { return x->index[id]; }

/* preEncode's string table. */
static void build_strtab(enc *x)
{
	const pf_profile *p = x->p;
	add(x, 0);
	for (size_t i = 0; i < p->nsample_types; i++) {
		add(x, p->sample_types[i].type);
		add(x, p->sample_types[i].unit);
	}
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		for (uint32_t j = 0; j < s->nnum_labels; j++) {
			const pf_num_label *l = &p->num_labels[s->num_labels + j];
			add(x, l->key);
			if (l->unit != PF_NONE)
				add(x, l->unit);
		}
	}
	for (size_t i = 0; i < p->nmappings; i++) {
		add(x, p->mappings[i].file);
		add(x, p->mappings[i].build_id);
	}
	for (size_t i = 0; i < p->nfunctions; i++) {
		add(x, p->functions[i].name);
		add(x, p->functions[i].system_name);
		add(x, p->functions[i].filename);
	}
	add(x, p->drop_frames);
	add(x, p->keep_frames);
	add(x, p->period_type.type);
	add(x, p->period_type.unit);
	for (size_t i = 0; i < p->ncomments; i++)
		add(x, p->comments[i]);
	add(x, p->default_sample_type);
	add(x, p->doc_url);
}

static void put_sample(enc *x, const pf_sample *s, uint64_t *ids)
{
	const pf_profile *p = x->p;
	size_t at = begin_message(x);
	for (uint32_t i = 0; i < s->nlocs; i++)
		ids[i] = p->locations[p->sample_locs[s->locs + i]].id;
	put_rep(x, 1, ids, s->nlocs);
	/* Empty arrays may be NULL, and NULL + 0 is undefined in C. */
	put_rep(x, 2, p->nsample_types ? (const uint64_t *)(p->values + s->values) : NULL, p->nsample_types);
	for (uint32_t i = 0; i < s->nnum_labels; i++) { /* key, num and unit are fields 1, 3 and 4 */
		const pf_num_label *l = &p->num_labels[s->num_labels + i];
		uint64_t unit = l->unit == PF_NONE ? 0 : sx(x, l->unit);
		put_msg(x, 3, (uint64_t[]){sx(x, l->key), 0, (uint64_t)l->num, unit}, 4);
	}
	end_message(x, 2, at);
}

static void put_location(enc *x, const pf_location *l)
{
	const pf_profile *p = x->p;
	size_t at = begin_message(x);
	put_opt(x, 1, l->id);
	put_opt(x, 2, l->mapping == PF_NONE ? 0 : p->mappings[l->mapping].id);
	put_opt(x, 3, l->address);
	for (uint32_t i = 0; i < l->nlines; i++) {
		const pf_line *ln = &p->lines[l->lines + i];
		put_msg(x, 4, (uint64_t[]){p->functions[ln->function].id, (uint64_t)ln->line, (uint64_t)ln->column}, 3);
	}
	put_opt(x, 5, l->is_folded);
	end_message(x, 4, at);
}

static void put_profile(enc *x, uint64_t *scratch)
{
	const pf_profile *p = x->p;
	for (size_t i = 0; i < p->nsample_types; i++)
		put_msg(x, 1, (uint64_t[]){sx(x, p->sample_types[i].type), sx(x, p->sample_types[i].unit)}, 2);
	for (size_t i = 0; i < p->nsamples; i++)
		put_sample(x, &p->samples[i], scratch);
	for (size_t i = 0; i < p->nmappings; i++) {
		const pf_mapping *m = &p->mappings[i];
		uint64_t v[] = {m->id, m->start, m->limit, m->offset, sx(x, m->file), sx(x, m->build_id),
				m->has_functions, m->has_filenames, m->has_line_numbers, m->has_inline_frames};
		put_msg(x, 3, v, 10);
	}
	for (size_t i = 0; i < p->nlocations; i++)
		put_location(x, &p->locations[i]);
	for (size_t i = 0; i < p->nfunctions; i++) {
		const pf_function *f = &p->functions[i];
		uint64_t v[] = {f->id, sx(x, f->name), sx(x, f->system_name), sx(x, f->filename),
				(uint64_t)f->start_line};
		put_msg(x, 5, v, 5);
	}
	for (size_t i = 0; i < x->n; i++) {
		size_t len, at = begin_message(x);
		const char *s = pf_profile_str(p, x->order[i], &len);
		if (pf_buf_append(x->out, s, len) != 0)
			x->oom = true;
		end_message(x, 6, at);
	}
	/* Fields 7..15 after the strings. */
	put_opt(x, 7, sx(x, p->drop_frames));
	put_opt(x, 8, sx(x, p->keep_frames));
	put_opt(x, 9, (uint64_t)p->time_nanos);
	put_opt(x, 10, (uint64_t)p->duration_nanos);
	if (sx(x, p->period_type.type) || sx(x, p->period_type.unit))
		put_msg(x, 11, (uint64_t[]){sx(x, p->period_type.type), sx(x, p->period_type.unit)}, 2);
	put_opt(x, 12, (uint64_t)p->period);
	for (size_t i = 0; i < p->ncomments; i++)
		scratch[i] = sx(x, p->comments[i]);
	put_rep(x, 13, scratch, p->ncomments);
	put_varint(x, 14 << 3); /* pprof always writes default_sample_type */
	put_varint(x, sx(x, p->default_sample_type));
	put_opt(x, 15, sx(x, p->doc_url));
}

int pf_profile_encode(pf_profile *p, pf_buf *out, pf_err *e)
{
	size_t nstrs = p->str.nstrs, len0 = out->len, most = p->ncomments;
	for (size_t i = 0; i < p->nsamples; i++)
		most = p->samples[i].nlocs > most ? p->samples[i].nlocs : most;
	enc x = {.p = p, .out = out};
	x.index = malloc(nstrs * sizeof *x.index);
	x.order = malloc(nstrs * sizeof *x.order);
	uint64_t *scratch = malloc((most + 1) * sizeof *scratch); /* a sample's location ids, or the comments */
	x.oom = !x.index || !x.order || !scratch;
	if (!x.oom) {
		memset(x.index, 0xff, nstrs * sizeof *x.index); /* all PF_NONE */
		build_strtab(&x);
		put_profile(&x, scratch);
	}
	free(x.index);
	free(x.order);
	free(scratch);
	if (x.oom) {
		out->len = len0;
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory encoding the profile");
	}
	return 0;
}
