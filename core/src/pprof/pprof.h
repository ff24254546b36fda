/* pprof.h: a pprof profile (google/pprof profile.proto) in memory, and the
 * four things pgofetch does to profiles: decode, merge, the no-inline rename
 * and encode. Every step reproduces github.com/google/pprof/profile exactly
 * (ParseUncompressed + CheckValid, Merge, WriteUncompressed), so that the
 * bytes written equal those Datadog's datadog-pgo writes for the same input.
 *
 * The model is flat: entities live in arrays and refer to each other by
 * index; strings are interned once per profile and referred to by id
 * (string id 0 is always ""). Ids (pf_mapping.id, ...) are those of the
 * profile: the decoded ones, or 1..N after a merge, as pprof numbers them. */
#ifndef PGOFETCH_PPROF_H
#define PGOFETCH_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "htab.h"

/* "No entity" for index fields, "no unit" for numeric labels. */
#define PF_NONE UINT32_MAX

/* Interned strings: each distinct byte string once, NUL-terminated (a
 * string may hold NULs itself; len says how long it is). */
typedef struct {
	size_t off, len;
} pf_str;

typedef struct {
	char *bytes;
	size_t nbytes, cap_bytes;
	pf_str *strs;
	size_t nstrs, cap_strs;
	pf_htab index;
} pf_strpool;

typedef struct {
	uint32_t type, unit; /* string ids */
} pf_value_type;

typedef struct {
	uint64_t id, start, limit, offset;
	uint32_t file, build_id; /* string ids */
	bool has_functions, has_filenames, has_line_numbers, has_inline_frames;
} pf_mapping;

typedef struct {
	uint64_t id;
	uint32_t name, system_name, filename; /* string ids */
	int64_t start_line;
} pf_function;

typedef struct {
	uint32_t function; /* index into functions */
	int64_t line, column;
} pf_line;

typedef struct {
	uint64_t id, address;
	uint32_t mapping; /* index into mappings, or PF_NONE */
	uint32_t nlines;
	size_t lines; /* first of nlines in p->lines; lines[0] is the innermost (inlined) frame */
	bool is_folded;
} pf_location;

/* A numeric label (Sample.NumLabel, Sample.NumUnit). unit is PF_NONE when no
 * label of this key in the sample has a unit; otherwise every label of the
 * key has one, "" (id 0) standing for a missing one, as pprof pads them. */
typedef struct {
	uint32_t key, unit;
	int64_t num;
} pf_num_label;

/* A sample's locations (leaf first), values (one per sample type) and
 * numeric labels are runs in the profile's shared arrays. Labels are sorted
 * by key (byte order, as Go's sort.Strings), keeping the order of values of
 * a key. String labels are not kept (see pf_profile_decode). */
typedef struct {
	size_t locs;       /* into p->sample_locs (location indexes) */
	size_t values;     /* into p->values; nsample_types of them */
	size_t num_labels; /* into p->num_labels */
	uint32_t nlocs, nnum_labels;
} pf_sample;

typedef struct pf_profile pf_profile;
struct pf_profile {
	pf_strpool str;
	size_t nstring_table; /* decoded: the string_table's entries, repeats and unnamed ones included; else 0 */

	pf_value_type *sample_types;
	size_t nsample_types, cap_sample_types;
	pf_sample *samples;
	size_t nsamples, cap_samples;
	pf_mapping *mappings;
	size_t nmappings, cap_mappings;
	pf_location *locations;
	size_t nlocations, cap_locations;
	pf_function *functions;
	size_t nfunctions, cap_functions;

	uint32_t *sample_locs;
	size_t nsample_locs, cap_sample_locs;
	int64_t *values;
	size_t nvalues, cap_values;
	pf_num_label *num_labels;
	size_t nnum_labels, cap_num_labels;
	pf_line *lines;
	size_t nlines, cap_lines;
	uint32_t *comments; /* string ids */
	size_t ncomments, cap_comments;

	uint32_t drop_frames, keep_frames, default_sample_type, doc_url; /* string ids */
	int64_t time_nanos, duration_nanos, period;
	pf_value_type period_type;

};

/* The bytes of string `id` (NUL-terminated) and, when len is not NULL, its length. */
const char *pf_profile_str(const pf_profile *p, uint32_t id, size_t *len);

/* Decodes an UNCOMPRESSED protobuf profile and checks it as pprof's
 * ParseUncompressed + CheckValid do. Error messages say what and where
 * (field, byte offset, index); the caller adds "<name>: ". Returns NULL and
 * fills e (PF_EXIT_DATA, or PF_EXIT_INTERNAL when memory runs out). The
 * string pool holds the strings the profile names, each once; string
 * table entries nothing names are checked, not kept. String labels are
 * dropped as datadog-pgo drops them (numeric labels stay): they are checked
 * as pprof checks them and never stored, so their strings stay out of the
 * pool. */
pf_profile *pf_profile_decode(const uint8_t *data, size_t len, pf_err *e);
void pf_profile_free(pf_profile *p);

/* -normalize's total: each profile is scaled so that its values of the
 * sample type Go's compiler reads (samples/count or cpu/nanoseconds, else
 * the first type) sum to this, times its weight. */
#define PF_NORMALIZED_TOTAL 1e9

/* -weight and -normalize on one profile: pprof's Scale (profile.c) by
 * weight, or with normalize by weight * PF_NORMALIZED_TOTAL / total (in that order, in
 * double), total being the int64 sum of the type above; a profile whose
 * total is not positive is scaled by weight alone. */
int pf_profile_weigh(pf_profile *p, double weight, bool normalize, pf_err *e);

/* The profiles of a run folded into one as datadog-pgo folds them: the
 * first as it is, then profile.Merge([]*Profile{acc, next}) for each next
 * one (merge.c). The merger owns all merge state. */
typedef struct pf_merger pf_merger;

/* A new merger; NULL when memory runs out. */
pf_merger *pf_merger_new(void);

/* Folds p in (consumed, also on failure); name names it in errors, the
 * first profile's name naming the result. Incompatible profiles fail with
 * PF_EXIT_DATA and a message naming both and what differs. After a
 * failure, only pf_merger_free. */
int pf_merger_add(pf_merger *m, pf_profile *p, const char *name, pf_err *e);

/* The result (the first profile itself when it was alone; NULL when none
 * was added), the caller's from now on; frees m. */
pf_profile *pf_merger_finish(pf_merger *m);
/* The result so far, still the merger's; NULL before the first profile. */
const pf_profile *pf_merger_result(const pf_merger *m);
void pf_merger_free(pf_merger *m);

/* Datadog's no-inline rename; returns how many functions were renamed, or
 * (size_t)-1 when memory runs out. */
size_t pf_profile_noinline(pf_profile *p, pf_err *e);

/* -trim: a new profile holding only what Go's compiler reads for PGO (one
 * sample type, the two leaf-most locations of each stack, names, start and
 * line numbers), with the same compiler input (see trim.c). p is
 * left as it is. NULL on failure: PF_EXIT_INTERNAL when memory runs out,
 * PF_EXIT_DATA when p has samples but no type the compiler reads. */
pf_profile *pf_profile_trim(const pf_profile *p, pf_err *e);

/* profile.WriteUncompressed: appends the encoded protobuf to out. */
int pf_profile_encode(pf_profile *p, pf_buf *out, pf_err *e);

/* Appends a comment (as appending to profile.Comments does). */
int pf_profile_add_comment(pf_profile *p, const char *comment, pf_err *e);

/* CPU cores as datadog-pgo computes them: the sum of the "cpu"/"nanoseconds"
 * sample values over duration_nanos; -1 when there is no such sample type
 * or the duration is 0. */
double pf_profile_cpu_cores(const pf_profile *p);

#endif
