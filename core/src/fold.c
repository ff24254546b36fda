/* fold.c: see fold.h. Three kinds of threads: the caller's reads the
 * sources and hands each profile to the sink; each profile then gets a job
 * of its own that decompresses and decodes it, PREPARING at once (the
 * first profile's once a second comes, or the sources end: a profile
 * merged with others is decoded with its repeats summed, one alone is
 * not); the merge job folds the oldest decoded profile into the result
 * while the next ones are decoded, beginning with the first profile on its
 * own (pf_profile_merge_ahead) before the second is done. */
#include "fold.h"
#include "clock.h"
#include "decompress.h"
#include "pipeline.h"
#include "pprof_presum.h"
#include "result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Profiles in flight: each is decompressed and decoded by a job of its
 * own, two at a time, while the profile before them is merged. */
enum { PREPARING = 2 };
/* The first profile's job waits for the second profile (start_first), so
 * making room for the second must not wait for the first to be done. */
_Static_assert(PREPARING >= 2, "room for the second profile would wait for the first");

/* One profile on its way from the sink to the merge. */
typedef struct {
	pf_job job;
	pf_buf data;         /* as stored or sent; the job frees it */
	char *origin, *entry; /* for decompression errors; entry may be NULL */
	char *name;           /* for the log and for decode and merge errors */
	bool datadog;         /* from Datadog, for the log line */
	bool first;           /* the merge starts from it; the others are merged into it */
	bool alone;           /* the only profile: written as it is, never merged */
	const pf_limit_set *max;
	enum pf_compression compression;
	size_t max_out; /* -limit bytes left when the job started (an upper bound) */
	size_t raw_len;
	bool too_large;
	pf_profile *p;
} pending;

/* The profiles in flight, then the merge job, which folds each into the
 * merged profile on a thread of its own. Each job's fields belong to it
 * while it runs and are touched only after pf_job_wait. */
struct pf_fold {
	const pf_log *log;
	pf_limits *lim;
	size_t received; /* profiles handed to the sink */

	pending q[PREPARING]; /* a ring: the oldest at q[head] */
	size_t head, n;
	bool first_waits; /* the first profile's job waits to know whether others follow */

	pf_job merge; /* merged + next -> merged */
	pf_profile *merged;
	char *first_name; /* names the merged profile in merge errors */
	pf_profile *next;
	char *next_name;
};

/* "file.zip:entry" for a ZIP's entry, the id for a Datadog profile (whose
 * origin is ""). */
static char *profile_name(const char *origin, const char *entry)
{
	if (!entry)
		return strdup(origin);
	if (!*origin)
		return strdup(entry);
	size_t n = strlen(origin) + strlen(entry) + 2;
	char *name = malloc(n);
	if (name)
		snprintf(name, n, "%s:%s", origin, entry);
	return name;
}

static void log_profile(const pf_log *log, bool datadog, const char *name, const pf_profile *p)
{
	int64_t t = pf_profile_time_nanos(p);
	int64_t age = t > 0 ? pf_wall_ns() - t : 0;
	age -= age % 1000000000LL;
	double cores = pf_profile_cpu_cores(p);
	cores = cores < 0 ? 0 : trunc(cores * 10) / 10; /* one decimal, as datadog-pgo logs */
	pf_info(log, datadog ? "extracted profile" : "read profile",
		PF_STR(datadog ? "profile-id" : "source", name), PF_INT("samples", pf_profile_samples(p)),
		PF_DUR("duration", pf_profile_duration_nanos(p)), PF_FLOAT("cpu-cores", cores),
		PF_DUR("age", age));
	pf_result_source(log->result, datadog ? "profile-id" : "source", name, (int64_t)pf_profile_samples(p), cores,
			 age);
}

/* Strings, locations and stack depth of one profile (or the merged one),
 * against -limit. A profile's strings are its string table's entries,
 * however it was decoded; the merged profile's, the distinct strings its
 * entities and labels name (the only ones it holds). A
 * sample is named by its index in the input, even when summed samples
 * (pf_profile.input_index) moved it. */
static int within_limits(const pf_profile *p, const pf_limit_set *max, pf_err *e)
{
	size_t nstrs = p->nstring_table ? p->nstring_table : p->str.nstrs;
	if (nstrs > max->strings)
		return pf_fail(e, PF_EXIT_DATA, "%zu strings, more than -limit strings=%llu", nstrs,
			       (unsigned long long)max->strings);
	if (p->nlocations > max->locations)
		return pf_fail(e, PF_EXIT_DATA, "%zu locations, more than -limit locations=%llu", p->nlocations,
			       (unsigned long long)max->locations);
	for (size_t i = 0; i < p->nsamples; i++)
		if (p->samples[i].nlocs > max->stack_depth)
			return pf_fail(e, PF_EXIT_DATA, "sample %zu is %u frames deep, more than -limit stack-depth=%llu",
				       p->input_index ? (size_t)p->input_index[i] : i, p->samples[i].nlocs,
				       (unsigned long long)max->stack_depth);
	return 0;
}

/* The merge job: fold f->next into f->merged with pprof's two-way merge. */
static int merge_next(void *ctx, pf_err *e)
{
	pf_fold *f = ctx;
	f->merged = pf_profile_merge2(f->merged, f->next, f->first_name, f->next_name, e);
	f->next = NULL;
	free(f->next_name);
	f->next_name = NULL;
	if (f->merged && within_limits(f->merged, f->lim->max, e) != 0)
		pf_err_prefix(e, "the merged profile");
	return e->code ? -1 : 0;
}

/* The merge job for the first profile, when others follow. */
static int merge_first(void *ctx, pf_err *e)
{
	pf_fold *f = ctx;
	f->merged = pf_profile_merge_ahead(f->merged, e);
	return f->merged ? 0 : -1;
}

static int presum_take(void *ctx, pf_buf *out, bool end) { return pf_presum_take(ctx, out, end); }

/* A profile's job: decompress it, decode it without its string labels
 * (they only grow the file) and check it against -limit. When it is
 * merged, its repeated samples are summed and their bytes dropped as they
 * are decompressed (pprof_presum.h), and what is left goes back as it is
 * decoded. */
static int prepare(void *ctx, pf_err *e)
{
	pending *q = ctx;
	pf_buf raw = {0};
	pf_presum presum = {0};
	/* q->data is not read again: its pages go back as it is decompressed. */
	pf_decompress_opts opts = {q->alone ? NULL : presum_take, &presum, true};
	int rc = pf_profile_decompress(q->origin, q->entry, q->data.data, q->data.len, q->max_out, &raw, &opts,
				       &q->raw_len, e);
	pf_buf_free(&q->data);
	q->too_large = rc == PF_TOO_LARGE;
	if (rc == 0) {
		q->p = q->alone ? pf_profile_decode_without_string_labels(raw.data, raw.len, e)
				: pf_profile_decode_presummed(raw.data, raw.len, &presum, q->first, e);
		if (q->p && within_limits(q->p, q->max, e) != 0) {
			pf_profile_free(q->p);
			q->p = NULL;
		}
		if (!q->p) {
			pf_err_prefix(e, q->name);
			rc = -1;
		}
	}
	pf_buf_free(&raw);
	pf_presum_free(&presum);
	return rc != 0 ? -1 : 0;
}

static void pending_free(pending *q)
{
	pf_buf_free(&q->data);
	free(q->origin);
	free(q->entry);
	free(q->name);
	pf_profile_free(q->p);
	memset(q, 0, sizeof *q);
}

/* What is left of -limit bytes after the profiles counted so far. */
static size_t bytes_left(const pf_fold *f)
{
	uint64_t left = f->lim->max->bytes - f->lim->used_bytes;
	return left > SIZE_MAX ? SIZE_MAX : (size_t)left;
}

/* -limit bytes, counted in profile order: the job had at most what was
 * left when it started; what was left after the profiles before it is the
 * bound that counts, and the error is the one a run on one core gives. */
static int count_bytes(pf_fold *f, pending *q, int rc, pf_err *e)
{
	size_t bound = bytes_left(f);
	if (q->too_large || (rc == 0 && q->raw_len > bound)) {
		*e = (pf_err){0};
		pf_too_large(e, q->compression, bound);
		return pf_fail_at(e, q->origin, q->entry);
	}
	f->lim->used_bytes += q->raw_len;
	return rc;
}

/* Moves the oldest profile in flight on to the merge stage: once its job
 * and the merge before it are done, logs it and starts merging it. */
static int advance(pf_fold *f, pf_err *e)
{
	if (f->n == 0)
		return pf_job_wait(&f->merge, e);
	pending *q = &f->q[f->head];
	f->head = (f->head + 1) % PREPARING;
	f->n--;
	int rc = count_bytes(f, q, pf_job_wait(&q->job, e), e);
	/* The previous merge's error, if any, comes before this profile's. */
	if (pf_job_wait(&f->merge, e) != 0)
		rc = -1;
	if (rc != 0) {
		pending_free(q);
		return -1;
	}
	log_profile(f->log, q->datadog, q->name, q->p);
	pf_profile *p = q->p;
	char *name = q->name;
	bool alone = q->alone;
	q->p = NULL;
	q->name = NULL;
	pending_free(q);
	if (!f->merged) {
		f->merged = p;
		f->first_name = name;
		if (!alone) /* the merge begins while the next profile is decoded */
			pf_job_start(&f->merge, merge_first, f);
		return 0;
	}
	f->next = p;
	f->next_name = name;
	pf_job_start(&f->merge, merge_next, f);
	return 0;
}

/* The first profile's job, which waited for the second profile or for
 * the end: decoded to be merged (samples summed) unless it is alone. */
static void start_first(pf_fold *f, bool alone)
{
	if (!f->first_waits)
		return;
	f->first_waits = false;
	pending *q = &f->q[f->head];
	q->alone = alone;
	if (alone) /* nothing is left to overlap it with */
		pf_job_run_here(&q->job, prepare, q);
	else
		pf_job_start(&q->job, prepare, q);
}

/* After an error: waits for what is still in flight and drops it, e
 * untouched (what came after the error does not count). */
static void abandon(pf_fold *f)
{
	f->first_waits = false; /* never started: nothing to wait for */
	for (; f->n > 0; f->n--) {
		pf_err later = {0};
		pf_job_wait(&f->q[f->head].job, &later);
		pending_free(&f->q[f->head]);
		f->head = (f->head + 1) % PREPARING;
	}
	pf_err later = {0};
	pf_job_wait(&f->merge, &later);
}

int pf_fold_finish(pf_fold *f, pf_err *e)
{
	start_first(f, true);
	while (f->n > 0) {
		if (advance(f, e) != 0) {
			abandon(f);
			return -1;
		}
	}
	return pf_job_wait(&f->merge, e);
}

/* Room for one more profile in flight: moves the oldest on to the merge
 * when PREPARING are. */
static int make_room(pf_fold *f, pf_err *e)
{
	if (f->n == PREPARING && advance(f, e) != 0) {
		abandon(f);
		return -1;
	}
	return 0;
}

/* The sink: start this profile's job, once there is room in flight (or,
 * before its bytes are read, only make that room). */
int pf_fold_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	pf_fold *f = ctx;
	if (!data)
		return make_room(f, e);
	start_first(f, false); /* if this is the second profile */
	if (make_room(f, e) != 0)
		return -1;
	pending *q = &f->q[(f->head + f->n) % PREPARING];
	*q = (pending){.origin = strdup(origin), .entry = entry ? strdup(entry) : NULL,
		       .name = profile_name(origin, entry), .datadog = *origin == '\0', .max = f->lim->max,
		       .first = f->received == 0};
	pf_err mine = {0};
	if (!q->origin || (entry && !q->entry) || !q->name)
		pf_fail(&mine, PF_EXIT_INTERNAL, "out of memory");
	else if (f->received >= f->lim->max->profiles)
		pf_fail(&mine, PF_EXIT_DATA, "more than -limit profiles=%llu profiles to merge",
			(unsigned long long)f->lim->max->profiles);
	if (mine.code) {
		pending_free(q);
		if (pf_fold_finish(f, e) == 0)
			*e = mine;
		return -1;
	}
	f->received++;
	q->data = *data;
	*data = (pf_buf){0};
	q->compression = pf_detect_compression(q->data.data, q->data.len);
	q->max_out = bytes_left(f);
	f->n++;
	/* Whether the first profile is merged with others decides how it is
	 * decoded, so its job starts when the second profile comes, or at the
	 * end; it waits no longer than reading the second source takes. */
	if (q->first)
		f->first_waits = true;
	else
		pf_job_start(&q->job, prepare, q);
	return 0;
}

pf_fold *pf_fold_new(const pf_log *log, pf_limits *lim)
{
	pf_fold *f = calloc(1, sizeof *f);
	if (f) {
		f->log = log;
		f->lim = lim;
	}
	return f;
}

size_t pf_fold_received(const pf_fold *f) { return f->received; }

pf_profile *pf_fold_take(pf_fold *f)
{
	pf_profile *p = f->merged;
	f->merged = NULL;
	return p;
}

void pf_fold_free(pf_fold *f)
{
	if (!f)
		return;
	abandon(f);
	pf_profile_free(f->merged);
	free(f->first_name);
	free(f);
}
