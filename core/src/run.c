/* run.c: read the sources, fold their profiles into one as datadog-pgo
 * does, write DEST. */
#include "run.h"
#include "buf.h"
#include "datadog.h"
#include "dd_api.h"
#include "compress.h"
#include "decompress.h"
#include "duration.h"
#include "http.h"
#include "output.h"
#include "pgo.h"
#include "pipeline.h"
#include "pprof.h"
#include "source.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Profiles in flight: each is decompressed and decoded by a job of its
 * own, two at a time, while the profile before them is merged. */
enum { PREPARING = 2 };

/* One profile on its way from the sink to the merge. */
typedef struct {
	pf_job job;
	pf_buf data;         /* as stored or sent; the job frees it */
	char *origin, *entry; /* for decompression errors; entry may be NULL */
	char *name;           /* for the log and for decode and merge errors */
	bool datadog;         /* from Datadog, for the log line */
	const pf_limit_set *max;
	enum pf_compression compression;
	size_t max_out; /* -limit bytes left when the job started (an upper bound) */
	size_t raw_len;
	bool too_large;
	pf_profile *p;
} pending;

/* What the sink accumulates while sources are read: the profiles in
 * flight, then the merge job, which folds each into the merged profile on
 * a thread of its own. Each job's fields belong to it while it runs and
 * are touched only after pf_job_wait. Profiles are logged and merged in
 * the order they arrive, -limit bytes is counted in that order, and the
 * first error in that order is the one reported, as on one core. */
typedef struct {
	const pf_log *log;
	pf_limits *lim;
	size_t received; /* profiles handed to the sink */

	pending q[PREPARING]; /* a ring: the oldest at q[head] */
	size_t head, n;

	pf_job merge; /* merged + next -> merged */
	pf_profile *merged;
	char *first_name; /* names the merged profile in merge errors */
	pf_profile *next;
	char *next_name;
} fold;

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
}

/* Strings, locations and stack depth of one profile (or the merged one),
 * against -limit. */
static int within_limits(const pf_profile *p, const pf_limit_set *max, pf_err *e)
{
	if (p->str.nstrs > max->strings)
		return pf_fail(e, PF_EXIT_DATA, "%zu strings, more than -limit strings=%llu", p->str.nstrs,
			       (unsigned long long)max->strings);
	if (p->nlocations > max->locations)
		return pf_fail(e, PF_EXIT_DATA, "%zu locations, more than -limit locations=%llu", p->nlocations,
			       (unsigned long long)max->locations);
	for (size_t i = 0; i < p->nsamples; i++)
		if (p->samples[i].nlocs > max->stack_depth)
			return pf_fail(e, PF_EXIT_DATA, "sample %zu is %u frames deep, more than -limit stack-depth=%llu",
				       i, p->samples[i].nlocs, (unsigned long long)max->stack_depth);
	return 0;
}

/* The merge job: fold f->next into f->merged with pprof's two-way merge. */
static int merge_next(void *ctx, pf_err *e)
{
	fold *f = ctx;
	f->merged = pf_profile_merge2(f->merged, f->next, f->first_name, f->next_name, e);
	f->next = NULL;
	free(f->next_name);
	f->next_name = NULL;
	if (f->merged && within_limits(f->merged, f->lim->max, e) != 0)
		pf_err_prefix(e, "the merged profile");
	return e->code ? -1 : 0;
}

/* A profile's job: decompress it, decode it without its string labels
 * (they only grow the file) and check it against -limit. */
static int prepare(void *ctx, pf_err *e)
{
	pending *q = ctx;
	pf_buf raw = {0};
	int rc = pf_profile_decompress(q->origin, q->entry, q->data.data, q->data.len, q->max_out, &raw, e);
	pf_buf_free(&q->data);
	q->raw_len = raw.len;
	q->too_large = rc == PF_TOO_LARGE;
	if (rc == 0) {
		q->p = pf_profile_decode_without_string_labels(raw.data, raw.len, e);
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

/* -limit bytes, counted in profile order: the job had at most what was
 * left when it started; what was left after the profiles before it is the
 * bound that counts, and the error is the one a run on one core gives. */
static int count_bytes(fold *f, pending *q, int rc, pf_err *e)
{
	uint64_t left = f->lim->max->bytes - f->lim->used_bytes;
	size_t bound = left > SIZE_MAX ? SIZE_MAX : (size_t)left;
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
static int advance(fold *f, pf_err *e)
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
	q->p = NULL;
	q->name = NULL;
	pending_free(q);
	if (!f->merged) {
		f->merged = p;
		f->first_name = name;
		return 0;
	}
	f->next = p;
	f->next_name = name;
	pf_job_start(&f->merge, merge_next, f);
	return 0;
}

/* After an error: waits for what is still in flight and drops it, e
 * untouched (what came after the error does not count). */
static void abandon(fold *f)
{
	for (; f->n > 0; f->n--) {
		pf_err later = {0};
		pf_job_wait(&f->q[f->head].job, &later);
		pending_free(&f->q[f->head]);
		f->head = (f->head + 1) % PREPARING;
	}
	pf_err later = {0};
	pf_job_wait(&f->merge, &later);
}

/* Everything in flight merged; the first error in profile order. */
static int drain(fold *f, pf_err *e)
{
	while (f->n > 0) {
		if (advance(f, e) != 0) {
			abandon(f);
			return -1;
		}
	}
	return pf_job_wait(&f->merge, e);
}

/* The sink: start this profile's job, once there is room in flight. */
static int fold_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	fold *f = ctx;
	if (f->n == PREPARING && advance(f, e) != 0) {
		abandon(f);
		return -1;
	}
	pending *q = &f->q[(f->head + f->n) % PREPARING];
	*q = (pending){.origin = strdup(origin), .entry = entry ? strdup(entry) : NULL,
		       .name = profile_name(origin, entry), .datadog = *origin == '\0', .max = f->lim->max};
	pf_err mine = {0};
	if (!q->origin || (entry && !q->entry) || !q->name)
		pf_fail(&mine, PF_EXIT_INTERNAL, "out of memory");
	else if (f->received >= f->lim->max->profiles)
		pf_fail(&mine, PF_EXIT_DATA, "more than -limit profiles=%llu profiles to merge",
			(unsigned long long)f->lim->max->profiles);
	if (mine.code) {
		pending_free(q);
		if (drain(f, e) == 0)
			*e = mine;
		return -1;
	}
	f->received++;
	q->data = *data;
	*data = (pf_buf){0};
	q->compression = pf_detect_compression(q->data.data, q->data.len);
	uint64_t left = f->lim->max->bytes - f->lim->used_bytes;
	q->max_out = left > SIZE_MAX ? SIZE_MAX : (size_t)left;
	f->n++;
	pf_job_start(&q->job, prepare, q);
	return 0;
}

static int add_comment(pf_profile *p, pf_err *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int add_comment(pf_profile *p, pf_err *e, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot format a comment");
	return pf_profile_add_comment(p, line, e);
}

/* Where the profile came from, for `go tool pprof -comments`. Only what is
 * stable from run to run goes in (the window as its length, not its
 * dates), so an unchanged set of profiles leaves DEST unchanged. */
static int add_provenance(const pf_options *o, const pf_dd_result *dd, pf_profile *p, pf_err *e)
{
	char window[32];
	pf_duration_format(o->from_ns, window, sizeof window);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < o->nqueries; i++) {
		char *q = pf_dd_query_text(o->queries[i]);
		if (!q)
			return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		rc = add_comment(p, e, "pgofetch: Datadog query \"%s\", last %s, top %lld by CPU cores", q, window,
				 (long long)o->profiles);
		free(q);
	}
	if (rc == 0 && dd->nids > 0) {
		char *dq = pf_dd_debug_query(dd);
		rc = dq ? add_comment(p, e, "pgofetch: %s", dq) : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		free(dq);
	}
	for (size_t i = 0; rc == 0 && i < o->nin; i++) {
		char *src = pf_redact_url(o->ins[i]);
		rc = src ? add_comment(p, e, "pgofetch: source %s", src) : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		free(src);
	}
	return rc;
}

/* Where the compiler would refuse the profile, say so in its own words. */
static int pgo_edges(const pf_profile *p, bool in_go_order, pf_pgo_edges *g, pf_err *e)
{
	if ((in_go_order ? pf_pgo_edges_of(p, g, e) : pf_pgo_edges_of_unordered(p, g, e)) == 0)
		return 0;
	if (e->code == PF_EXIT_DATA)
		pf_err_prefix(e, "Go's compiler would refuse the merged profile");
	return -1;
}

/* The gzip size of p, for -v's before-and-after line. */
static int gzip_size(pf_profile *p, size_t *size, pf_err *e)
{
	pf_buf raw = {0}, gz = {0};
	int rc = pf_profile_encode(p, &raw, e);
	if (rc == 0)
		rc = pf_gzip(raw.data, raw.len, &gz, e);
	*size = gz.len;
	pf_buf_free(&raw);
	pf_buf_free(&gz);
	return rc;
}

/* The full profile's PGO edges, in no order (they are only compared),
 * worked out on the other core. */
typedef struct {
	const pf_profile *full;
	pf_pgo_edges edges;
} full_edges;

static int edges_of_full(void *arg, pf_err *e)
{
	full_edges *w = arg;
	return pgo_edges(w->full, false, &w->edges, e);
}

/* -trim: the trimmed profile, encoded and compressed, once it is checked
 * to give Go's compiler exactly the edges the full profile gives (the
 * proof is in the tests; this guards every run against a bug all the
 * same). The full profile's edges are worked out on the other core while
 * the trimmed profile is made, encoded and compressed. */
static int trim(const pf_log *log, fold *f, pf_buf *raw, pf_buf *gz, pf_err *e)
{
	pf_profile *full = f->merged;
	size_t before = 0;
	if (log->verbose && gzip_size(full, &before, e) != 0)
		return -1;
	full_edges want = {.full = full};
	pf_job job = {0};
	pf_job_start(&job, edges_of_full, &want);
	pf_pgo_edges got = {0};
	pf_profile *t = pf_profile_trim(full, e);
	int rc = t ? pf_pgo_edges_of_unordered(t, &got, e) : -1;
	if (rc == 0)
		rc = pf_profile_encode(t, raw, e);
	if (rc == 0)
		rc = pf_gzip(raw->data, raw->len, gz, e);
	if (pf_job_wait(&job, e) != 0) /* the full profile's refusal comes first */
		rc = -1;
	int same = rc == 0 ? pf_pgo_edges_same(&want.edges, &got, e) : 0;
	if (same < 0)
		rc = -1;
	else if (rc == 0 && !same)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "bug: the trimmed profile would give Go's compiler other edges "
						  "than the full one; -trim=false writes the full profile");
	if (rc == 0) {
		pf_debug(log, "trimmed the profile to what Go's compiler reads", PF_INT("bytes-before", before),
			 PF_INT("bytes-after", gz->len), PF_INT("samples-before", full->nsamples),
			 PF_INT("samples-after", t->nsamples), PF_INT("locations-before", full->nlocations),
			 PF_INT("locations-after", t->nlocations), PF_INT("functions-before", full->nfunctions),
			 PF_INT("functions-after", t->nfunctions), PF_INT("edges", want.edges.nedges));
		f->merged = t;
		t = full;
	}
	pf_pgo_edges_free(&want.edges);
	pf_pgo_edges_free(&got);
	pf_profile_free(t);
	return rc;
}

/* DEST's bytes: gz, and raw (the protobuf inside it) for a pprof DEST. */
static int render(const pf_options *o, const pf_log *log, fold *f, pf_buf *raw, pf_buf *gz, pf_err *e)
{
	if (strcmp(o->format, "preprofile") == 0) {
		/* As `go tool preprofile` writes it: plain text. Trimming would not
		 * change it (that is what -trim guarantees), so it is skipped. */
		pf_pgo_edges g;
		if (pgo_edges(f->merged, true, &g, e) != 0)
			return -1;
		int rc = pf_preprofile_write(&g, gz, e);
		pf_pgo_edges_free(&g);
		return rc;
	}
	if (o->trim)
		return trim(log, f, raw, gz, e);
	int rc = pf_profile_encode(f->merged, raw, e);
	return rc == 0 ? pf_gzip(raw->data, raw->len, gz, e) : rc;
}

static int write_result(const pf_options *o, const pf_log *log, fold *f, const pf_dd_result *dd,
			int64_t start, pf_err *e)
{
	if (o->noinline && pf_profile_noinline(f->merged, e) == (size_t)-1)
		return -1;
	if (o->comment && add_provenance(o, dd, f->merged, e) != 0)
		return -1;
	pf_buf raw = {0}, gz = {0};
	bool changed = false;
	int rc = render(o, log, f, &raw, &gz, e);
	if (rc == 0)
		rc = pf_write_dest(o->dest, gz.data, gz.len, raw.len ? raw.data : NULL, raw.len, &changed, e);
	char *dq = rc == 0 && dd->nids ? pf_dd_debug_query(dd) : NULL;
	if (rc == 0) {
		int64_t took = pf_now_ns() - start;
		took -= took % 1000000;
		pf_attr attrs[] = {
			PF_STR("path", o->dest), PF_INT("samples", pf_profile_samples(f->merged)),
			PF_INT("bytes", gz.len), PF_BOOL("changed", changed), PF_DUR("total-duration", took),
			PF_STR("debug-query", dq),
		};
		pf_log_attrs(log, PF_INFO, changed ? "wrote PGO file" : "PGO file unchanged",
			     attrs, dq ? 6 : 5);
	}
	free(dq);
	pf_buf_free(&raw);
	pf_buf_free(&gz);
	return rc;
}

/* -max-age: a DEST younger than that is fresh enough; fetch nothing. */
static bool dest_is_fresh(const pf_options *o, const pf_log *log)
{
	if (o->max_age_ns <= 0)
		return false;
	int64_t age = pf_dest_age_ns(o->dest);
	if (age < 0 || age >= o->max_age_ns)
		return false;
	age -= age % 1000000000LL;
	pf_info(log, "PGO file is younger than -max-age, not fetching", PF_STR("path", o->dest),
		PF_DUR("age", age), PF_DUR("max-age", o->max_age_ns));
	return true;
}

int pf_run(const pf_options *o, const pf_log *log, pf_err *e)
{
	int64_t start = pf_now_ns(), deadline = start + o->timeout_ns;
	pf_info(log, "pgofetch", PF_STR("version", PGOFETCH_VERSION));
	if (dest_is_fresh(o, log))
		return 0;
	pf_limits lim = {.max = &o->limits};
	fold f = {.log = log, .lim = &lim};
	pf_dd_result dd = {0};
	int rc = 0;
	if (o->nqueries > 0)
		rc = pf_datadog_fetch(o, log, deadline, &lim, fold_profile, &f, &dd, e);
	for (size_t i = 0; rc == 0 && i < o->nin; i++) {
		size_t before = f.received;
		rc = pf_read_source(o->ins[i], &lim, deadline, fold_profile, &f, e);
		if (rc == 0 && f.received == before) { /* an empty ZIP */
			char *name = pf_redact_url(o->ins[i]);
			rc = pf_fail(e, PF_EXIT_DATA, "%s: holds no profile", name ? name : "a source");
			free(name);
		}
	}
	/* The last decode and merge; or, after an error, those of the profiles
	 * before it, whose own errors came first. */
	if (drain(&f, e) != 0)
		rc = -1;
	if (rc == 0 && !f.merged)
		rc = pf_fail(e, PF_EXIT_NOTFOUND, "no profiles found in the sources");
	if (rc == 0)
		rc = write_result(o, log, &f, &dd, start, e);
	pf_dd_result_free(&dd);
	pf_profile_free(f.merged);
	free(f.first_name);
	return rc;
}
