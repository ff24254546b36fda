/* presum_check.h: pf_presum's oracle, for the unit tests and the pprof
 * fuzz target. A profile's bytes taken by pf_presum in pieces of any size
 * and decoded with pf_profile_decode_presummed must give what
 * pf_profile_decode_to_merge gives for the whole bytes: the same profile,
 * field by field, or the same error, word for word. */
#ifndef PGOFETCH_TEST_PRESUM_CHECK_H
#define PGOFETCH_TEST_PRESUM_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pprof.h"
#include "pprof_presum.h"

/* b taken by pf_presum `piece` bytes at a time, then decoded: the profile,
 * or NULL with e set. *kept (when not NULL): the bytes left once the
 * repeats were dropped. */
static inline pf_profile *presummed(const pf_buf *b, size_t piece, bool first, size_t *kept, pf_err *e)
{
	pf_presum s = {0};
	pf_buf out = {0};
	int rc = 0;
	for (size_t at = 0; rc == 0 && at < b->len; at += piece) {
		size_t n = b->len - at < piece ? b->len - at : piece;
		rc = pf_buf_append(&out, b->data + at, n) != 0 ? -1 : pf_presum_take(&s, &out, false);
	}
	if (rc == 0)
		rc = pf_presum_take(&s, &out, true);
	pf_profile *p = NULL;
	if (rc != 0)
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory summing repeated samples");
	else if (s.orig_len != b->len)
		pf_fail(e, PF_EXIT_INTERNAL, "pf_presum counted %zu bytes of %zu", s.orig_len, b->len);
	else
		p = pf_profile_decode_presummed(out.data, out.len, &s, first, e);
	if (kept)
		*kept = out.len;
	pf_buf_free(&out);
	pf_presum_free(&s);
	return p;
}

#define PRESUM_SAME(what, n)                                                              \
	do {                                                                              \
		if ((n) && memcmp(a->what, b->what, (n) * sizeof *a->what) != 0) {           \
			fprintf(stderr, "presum: %s differ\n", #what);                     \
			return false;                                                     \
		}                                                                         \
	} while (0)

#define PRESUM_EQ(what)                                                                     \
	do {                                                                                \
		if (a->what != b->what) {                                                    \
			fprintf(stderr, "presum: %s %zu, want %zu\n", #what, (size_t)b->what, \
				(size_t)a->what);                                            \
			return false;                                                       \
		}                                                                           \
	} while (0)

/* Whether b (presummed) is a (decoded whole) in every field a merge reads. */
static inline bool presum_same_profile(const pf_profile *a, const pf_profile *b)
{
	PRESUM_EQ(nsamples);
	PRESUM_EQ(nsamples_read);
	PRESUM_EQ(nstring_table);
	PRESUM_EQ(nsample_types);
	PRESUM_EQ(nvalues);
	PRESUM_EQ(nsample_locs);
	PRESUM_EQ(nlabels);
	PRESUM_EQ(nnum_labels);
	PRESUM_EQ(nlocations);
	PRESUM_EQ(nfunctions);
	PRESUM_EQ(nmappings);
	PRESUM_EQ(nlines);
	PRESUM_EQ(str.nstrs);
	PRESUM_EQ(str.nbytes);
	PRESUM_SAME(values, a->nvalues);
	PRESUM_SAME(sample_locs, a->nsample_locs);
	PRESUM_SAME(input_index, a->input_index ? a->nsamples : 0);
	PRESUM_SAME(str.bytes, a->str.nbytes);
	for (size_t i = 0; i < a->nsamples; i++) {
		const pf_sample *x = &a->samples[i], *y = &b->samples[i];
		if (x->locs != y->locs || x->values != y->values || x->num_labels != y->num_labels ||
		    x->nlocs != y->nlocs || x->nnum_labels != y->nnum_labels) {
			fprintf(stderr, "presum: sample %zu differs\n", i);
			return false;
		}
	}
	for (size_t i = 0; i < a->nnum_labels; i++) {
		const pf_num_label *x = &a->num_labels[i], *y = &b->num_labels[i];
		if (x->key != y->key || x->unit != y->unit || x->num != y->num) {
			fprintf(stderr, "presum: numeric label %zu differs\n", i);
			return false;
		}
	}
	return true;
}

/* Whether data, presummed in pieces of `piece` bytes, decodes as it does
 * whole (first: as the merge's first profile); *kept as presummed(). */
static inline bool presum_agrees(const pf_buf *data, size_t piece, bool first, size_t *kept)
{
	pf_err ea = {0}, eb = {0};
	pf_profile *a = pf_profile_decode_to_merge(data->data, data->len, first, &ea);
	pf_profile *b = presummed(data, piece, first, kept, &eb);
	bool same;
	if (!a || !b) {
		same = !a && !b && ea.code == eb.code && strcmp(ea.msg, eb.msg) == 0;
		if (!same)
			fprintf(stderr, "presum: \"%s\", want \"%s\"\n", b ? "" : eb.msg, a ? "" : ea.msg);
	} else {
		same = presum_same_profile(a, b);
	}
	pf_profile_free(a);
	pf_profile_free(b);
	return same;
}

#endif
