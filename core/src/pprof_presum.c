/* pprof_presum.c: see pprof_presum.h.
 *
 * The decoder sums sample i into the first sample j before it with the
 * same location ids' bytes when both pass its quick look (one packed
 * location_id field, one value per sample type, all >= 0 and one > 0,
 * only labels it drops, every field well formed) and the sums stay below
 * 2^63 (pprof_decode.c, repeat_candidate and decode_sample). The look here
 * is the same but for what needs the whole profile:
 *   - the number of sample types: i is dropped only when it has as many
 *     values as j; if that is not the number of sample types, j is
 *     refused first, whichever way the bytes are decoded;
 *   - whether label strings are in range: the string table usually comes
 *     last, so each dropped sample whose labels' largest index passes all
 *     before it is noted (pf_presum_label), and the decoder refuses the
 *     first of them that is out of range where the whole decoding would.
 * So the firsts here are the decoder's firsts, and a repeat dropped here
 * would have been summed there, in the same order, with the same sums.
 *
 * The reader below is the decoder's wire format without its errors: it
 * says only whether a field is whole, needs more bytes, or is one the
 * decoder refuses (then nothing more is dropped, and the decoder says
 * why). It never drops what it is unsure of: a kept repeat is summed by
 * the decoder as before. */
#include "pprof_presum.h"
#include "pprof_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
	const uint8_t *p, *end;
} span;

typedef struct {
	uint64_t num, u64;
	int wt;
	span data;
} field;

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_BYTES = 2, WT_FIXED32 = 5 };
enum { BAD = -1, WHOLE = 1, END = 0, PARTIAL = -2 };

/* As the decoder reads varints: at most ten bytes, bits past 64 dropped. */
static int read_varint(span *s, uint64_t *v)
{
	uint64_t u = 0;
	for (int i = 0; i < 10; i++) {
		if (i >= s->end - s->p)
			return PARTIAL;
		uint8_t b = s->p[i];
		u |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			s->p += i + 1;
			*v = u;
			return WHOLE;
		}
	}
	return BAD;
}

/* WHOLE, END (nothing left), PARTIAL (s ends inside the field) or BAD. */
static int next_field(span *s, field *f)
{
	if (s->p >= s->end)
		return END;
	uint64_t tag = 0, n = 0;
	int r = read_varint(s, &tag);
	if (r != WHOLE)
		return r;
	f->num = tag >> 3;
	f->wt = (int)(tag & 7);
	f->u64 = 0;
	f->data = (span){NULL, NULL};
	switch (f->wt) {
	case WT_VARINT:
		return read_varint(s, &f->u64);
	case WT_FIXED64:
	case WT_FIXED32:
		n = f->wt == WT_FIXED64 ? 8 : 4;
		if ((size_t)(s->end - s->p) < n)
			return PARTIAL;
		s->p += n;
		return WHOLE;
	case WT_BYTES:
		if ((r = read_varint(s, &n)) != WHOLE)
			return r;
		if (n > (size_t)(s->end - s->p))
			return PARTIAL;
		f->data = (span){s->p, s->p + n};
		s->p += n;
		return WHOLE;
	default:
		return BAD;
	}
}

/* ---- the quick look ---- */

/* A label the decoder drops once its strings are in range: *worst is the
 * largest string index it names. */
static bool droppable_label(const field *f, uint64_t *worst)
{
	if (f->wt != WT_BYTES)
		return false;
	int64_t v[5] = {0, 0, 0, 0, 0}; /* by field number: key, str, num, num_unit */
	span s = f->data;
	field g;
	int r;
	while ((r = next_field(&s, &g)) == WHOLE) {
		if (g.num >= 1 && g.num <= 4) {
			if (g.wt != WT_VARINT)
				return false;
			v[g.num] = (int64_t)g.u64;
		}
	}
	int64_t key = v[1], str = v[2];
	if (r != END || key < 0 || str < 0 || (str == 0 && (v[3] != 0 || v[4] != 0)))
		return false;
	uint64_t most = (uint64_t)(key > str ? key : str);
	if (most > *worst)
		*worst = most;
	return true;
}

static int add_value(pf_presum *s, size_t *n, uint64_t v)
{
	if (pf_vec_reserve((void **)&s->values, &s->cap_values, *n + 1, sizeof *s->values) != 0)
		return -1;
	s->values[(*n)++] = (int64_t)v;
	return 0;
}

/* A sample field's values (packed or one), into s->values: 1, 0 when
 * the decoder would refuse them, -1 when memory runs out. */
static int read_values(pf_presum *s, const field *f, size_t *n)
{
	if (f->wt == WT_VARINT)
		return add_value(s, n, f->u64) == 0 ? 1 : -1;
	if (f->wt != WT_BYTES)
		return 0;
	span d = f->data;
	uint64_t v;
	int r;
	while ((r = read_varint(&d, &v)) == WHOLE)
		if (add_value(s, n, v) != 0)
			return -1;
	return r == PARTIAL && d.p == d.end ? 1 : 0;
}

typedef struct {
	span locs;
	size_t nvalues;
	bool labeled;
	uint64_t worst; /* its labels' largest string index */
} look;

/* Whether sample message m passes the decoder's quick look but for what
 * needs the whole profile: 1, 0, or -1 when memory runs out. */
static int quick_look(pf_presum *s, span m, look *l)
{
	*l = (look){{NULL, NULL}, 0, false, 0};
	size_t nlocs = 0;
	bool some = false;
	field f;
	int r;
	while ((r = next_field(&m, &f)) == WHOLE) {
		if (f.num == 1) {
			if (f.wt != WT_BYTES || nlocs++ != 0)
				return 0;
			l->locs = f.data;
		} else if (f.num == 2) {
			size_t from = l->nvalues;
			int ok = read_values(s, &f, &l->nvalues);
			if (ok <= 0)
				return ok;
			for (size_t i = from; i < l->nvalues; i++) {
				if (s->values[i] < 0)
					return 0;
				some |= s->values[i] > 0;
			}
		} else if (f.num == 3) {
			if (!droppable_label(&f, &l->worst))
				return 0;
			l->labeled = true;
		}
	}
	return r == END && nlocs == 1 && some ? 1 : 0;
}

/* ---- firsts ---- */

typedef struct {
	const pf_presum *s;
	span locs;
} probe;

static bool same_locs(const void *ctx, uint32_t idx)
{
	const probe *q = ctx;
	const pf_presum_first *f = &q->s->firsts[idx];
	return f->nlocs == (size_t)(q->locs.end - q->locs.p) &&
	       memcmp(q->s->base + f->locs, q->locs.p, f->nlocs) == 0;
}

/* Adds the sample's values to first's sums unless one would pass 2^63 - 1,
 * as the decoder's add_to_kept does. */
static bool add_to_sums(pf_presum *s, const pf_presum_first *first, size_t nvalues)
{
	if (nvalues != first->nvalues)
		return false;
	int64_t *sum = s->sums + first->sums;
	for (size_t i = 0; i < nvalues; i++)
		if (s->values[i] > INT64_MAX - sum[i])
			return false;
	for (size_t i = 0; i < nvalues; i++)
		sum[i] += s->values[i];
	return true;
}

/* Notes a dropped sample's labels when their largest index passes every
 * dropped sample's before it. */
static int note_labels(pf_presum *s, const look *l)
{
	uint64_t worst = l->worst;
	if (!l->labeled || (s->nlabels && worst <= s->labels[s->nlabels - 1].worst))
		return 0;
	if (pf_vec_reserve((void **)&s->labels, &s->cap_labels, s->nlabels + 1, sizeof *s->labels) != 0)
		return -1;
	s->labels[s->nlabels++] = (pf_presum_label){(uint32_t)s->nsamples, worst};
	return 0;
}

/* A new first of its kind, whose bytes will be at compacted offset at. */
static int add_first(pf_presum *s, const look *l, size_t locs_at, uint32_t *sums)
{
	if (pf_vec_reserve((void **)&s->firsts, &s->cap_firsts, s->nfirsts + 1, sizeof *s->firsts) != 0 ||
	    pf_vec_reserve((void **)&s->sums, &s->cap_sums, s->nsums + l->nvalues, sizeof *s->sums) != 0)
		return -1;
	memcpy(s->sums + s->nsums, s->values, l->nvalues * sizeof *s->sums);
	*sums = (uint32_t)s->nsums;
	s->firsts[s->nfirsts++] = (pf_presum_first){(uint32_t)locs_at, (uint32_t)(l->locs.end - l->locs.p),
						    (uint32_t)l->nvalues, *sums};
	s->nsums += l->nvalues;
	return 0;
}

/* A sample message m, in a field that starts at `start` and, if kept,
 * moves to compacted offset at: 1 when it is summed into its first (drop
 * it), 0 when kept, -1 when memory runs out. */
static int take_sample(pf_presum *s, span m, const uint8_t *start, size_t at)
{
	look l;
	int r = quick_look(s, m, &l);
	if (r < 0)
		return -1;
	uint32_t sums = PF_PRESUM_NONE;
	size_t locs_at = r == 1 ? at + (size_t)(l.locs.p - start) : 0;
	/* What pf_presum keeps is 32-bit; past that (a profile the decoder
	 * refuses as larger than 4 GiB), samples are only kept. */
	if (r == 1 && locs_at <= UINT32_MAX && s->nsums + l.nvalues <= UINT32_MAX) {
		probe q = {s, l.locs};
		uint64_t hash = pf_hash_bytes(l.locs.p, (size_t)(l.locs.end - l.locs.p));
		uint32_t idx;
		int found = pf_htab_intern(&s->index, hash, same_locs, &q, (uint32_t)s->nfirsts, &idx);
		if (found < 0)
			return -1;
		if (found) {
			if (add_to_sums(s, &s->firsts[idx], l.nvalues)) {
				if (note_labels(s, &l) != 0)
					return -1;
				s->ndropped++;
				return 1;
			}
		} else if (add_first(s, &l, locs_at, &sums) != 0) {
			return -1;
		}
	}
	if (pf_vec_reserve((void **)&s->kept, &s->cap_kept, s->nkept + 1, sizeof *s->kept) != 0)
		return -1;
	s->kept[s->nkept++] = (pf_presum_kept){(uint32_t)s->nsamples, sums};
	return 0;
}

/* ---- the scan ---- */

/* From compacted offset at on, the input's offset is at + delta. */
static int shift(pf_presum *s, size_t at, size_t delta)
{
	size_t now = s->nshifts ? s->shifts[s->nshifts - 1].delta : 0;
	if (delta == now)
		return 0;
	if (pf_vec_reserve((void **)&s->shifts, &s->cap_shifts, s->nshifts + 1, sizeof *s->shifts) != 0)
		return -1;
	s->shifts[s->nshifts++] = (pf_presum_shift){at, delta};
	return 0;
}

/* The whole top-level fields in out from s->done on, each kept (moved
 * down to w) or dropped; the bytes after them are moved down too. */
static int scan(pf_presum *s, pf_buf *out, bool end)
{
	uint8_t *data = out->data;
	size_t r = s->done, w = s->done;
	s->base = data;
	while (!s->stopped) {
		span rest = {data + r, data + out->len};
		field f;
		int got = next_field(&rest, &f);
		if (got == END || (got == PARTIAL && !end))
			break;
		if (got != WHOLE) {
			s->stopped = true; /* the decoder says what is wrong here */
			break;
		}
		size_t len = (size_t)(rest.p - (data + r));
		/* Sample indexes are 32-bit in what is kept; a profile this
		 * large is refused by the decoder anyway. */
		bool sample = f.num == 2 && f.wt == WT_BYTES && s->nsamples < UINT32_MAX;
		int drop = sample ? take_sample(s, f.data, data + r, w) : 0;
		if (drop < 0)
			return -1;
		if (sample)
			s->nsamples++;
		if (!drop) {
			if (shift(s, w, s->done_orig + (r - s->done) - w) != 0)
				return -1;
			if (w != r)
				memmove(data + w, data + r, len);
			w += len;
		}
		r += len;
	}
	/* What is not scanned yet (or never will be) keeps its offset's shift. */
	size_t orig_r = s->done_orig + (r - s->done);
	if (r < out->len && shift(s, w, orig_r - w) != 0)
		return -1;
	if (w != r)
		memmove(data + w, data + r, out->len - r);
	out->len -= r - w;
	s->done = w;
	s->done_orig = orig_r;
	return 0;
}

int pf_presum_take(pf_presum *s, pf_buf *out, bool end)
{
	int rc = out->len > s->done ? scan(s, out, end) : 0; /* out->data may be NULL */
	s->orig_len = s->done_orig + (out->len - s->done); /* the rest is as it came */
	return rc;
}

size_t pf_presum_orig_offset(const pf_presum *s, size_t at)
{
	size_t lo = 0, hi = s->nshifts; /* the last shift at or before at */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->shifts[mid].at <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	return at + (lo ? s->shifts[lo - 1].delta : 0);
}

void pf_presum_free(pf_presum *s)
{
	free(s->kept);
	free(s->sums);
	free(s->shifts);
	free(s->labels);
	pf_htab_free(&s->index);
	free(s->firsts);
	free(s->values);
	memset(s, 0, sizeof *s);
}
