/* pprof_presum.h: a profile's repeated samples summed while its bytes
 * come out of the decompressor, so that a repeat's bytes are never held.
 *
 * Decoded to be merged, a profile's samples that repeat an earlier one but
 * for their values are summed into it (pprof_decode.c, "Coalescing"). A
 * busy service's profile is mostly such repeats (three in four samples of
 * the benchmark's profiles): their bytes are most of the decompressed
 * profile, decoded only to be added up. pf_presum takes the decompressed
 * bytes as they come, sums each repeat it is sure the decoder would sum
 * into the sample it repeats, and drops the repeat's bytes, compacting the
 * buffer in place; pf_profile_decode_presummed then decodes what is left
 * to the very profile, or the very error, that pf_profile_decode_to_merge
 * gives for the whole bytes. What it cannot yet be sure of (the string
 * table comes last, so whether a dropped repeat's labels are in range) is
 * kept aside for the decoder to check. */
#ifndef PGOFETCH_PPROF_PRESUM_H
#define PGOFETCH_PPROF_PRESUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "htab.h"

/* A sample whose bytes were kept: its index in the input and, when it is
 * the first of its kind, where its sums are (else PF_PRESUM_NONE). */
typedef struct {
	uint32_t index, sums;
} pf_presum_kept;

/* From compacted offset `at` on (until the next shift), the input's
 * offset is the compacted one plus `delta`. */
typedef struct {
	size_t at, delta;
} pf_presum_shift;

/* A dropped sample whose labels' largest string index passes every
 * dropped sample's before it: the first dropped sample whose labels are
 * out of range is one of these. */
typedef struct {
	uint32_t index;
	uint64_t worst;
} pf_presum_label;

/* A first of its kind: its location ids' bytes (in the compacted buffer),
 * its values' count and where their sums are. */
typedef struct {
	uint32_t locs, nlocs;
	uint32_t nvalues, sums;
} pf_presum_first;

#define PF_PRESUM_NONE UINT32_MAX

typedef struct pf_presum {
	/* What the decoder reads. */
	size_t orig_len;         /* bytes taken, dropped ones included */
	size_t nsamples;         /* sample messages taken, dropped ones included */
	size_t ndropped;         /* of them, summed and dropped */
	pf_presum_kept *kept;    /* each kept sample message, in order */
	size_t nkept, cap_kept;
	int64_t *sums;           /* firsts' sums, nvalues each */
	size_t nsums, cap_sums;
	pf_presum_shift *shifts; /* in order of at */
	size_t nshifts, cap_shifts;
	pf_presum_label *labels; /* in order of index, worst rising */
	size_t nlabels, cap_labels;

	/* The scan. */
	size_t done;     /* compacted bytes scanned; the rest awaits a whole field */
	size_t done_orig; /* the input offset of compacted offset `done` */
	bool stopped;    /* a field that cannot be framed: the rest is kept as it comes */
	pf_htab index;   /* firsts by their location ids' bytes */
	pf_presum_first *firsts;
	size_t nfirsts, cap_firsts;
	int64_t *values; /* one sample's values */
	size_t cap_values;
	const uint8_t *base; /* the buffer during a scan, for the index's key compares */
} pf_presum;

/* Takes the bytes of out past what earlier calls took (all of it, with
 * end, when the input is complete): sums and drops the repeats among the
 * whole top-level fields there, moving the rest down, and shortens out.
 * 0, or -1 when memory runs out. A zeroed pf_presum starts. */
int pf_presum_take(pf_presum *s, pf_buf *out, bool end);

/* The input offset of compacted offset at. An offset where a kept field
 * starts is that field's; the offset just past a kept field's last byte
 * may be the start of the next one kept, further on in the input: place
 * such an offset by the byte before it. */
size_t pf_presum_orig_offset(const pf_presum *s, size_t at);

void pf_presum_free(pf_presum *s);

#endif
