/* flow.c: read the sources, fold their profiles into one as datadog-pgo
 * does, write DEST. One profile at a time, on one thread: the run's peak
 * memory is the merged profile plus one input, compressed, decompressed
 * and decoded. */
#include "flow.h"
#include "gover.h"
#include "buf.h"
#include "datadog.h"
#include "dd_api.h"
#include "compress.h"
#include "duration.h"
#include "clock.h"
#include "output.h"
#include "pgo.h"
#include "pprof.h"
#include "result.h"
#include "source.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The profiles of a run, one at a time as the sources yield them:
 * decompressed, decoded, checked against -limit, logged, and folded into
 * one as datadog-pgo folds them (pf_merger). */
typedef struct {
	const pf_log *log;
	pf_limits lim;
	size_t received; /* profiles handed to the sink */
	pf_merger *merger;
	double weight; /* -weight of the source being read */
	bool normalize;
} collection;

/* "file.zip:entry" for a ZIP's entry, the id for a Datadog profile (whose
 * origin is ""). */
static char *profile_name(const char *origin, const char *entry)
{
	return !entry ? strdup(origin) : !*origin ? strdup(entry) : pf_strf("%s:%s", origin, entry);
}

static void log_profile(const pf_log *log, bool datadog, const char *name, const pf_profile *p)
{
	int64_t t = p->time_nanos;
	int64_t age = t > 0 ? pf_wall_ns() - t : 0;
	age -= age % 1000000000LL;
	double cores = pf_profile_cpu_cores(p);
	cores = cores < 0 ? 0 : trunc(cores * 10) / 10; /* one decimal, as datadog-pgo logs */
	pf_info(log, datadog ? "extracted profile" : "read profile",
		PF_STR(datadog ? "profile-id" : "source", name), PF_INT("samples", p->nsamples),
		PF_DUR("duration", p->duration_nanos), PF_FLOAT("cpu-cores", cores),
		PF_DUR("age", age));
	pf_result_source(log->result, datadog ? "profile-id" : "source", name, (int64_t)p->nsamples, cores, age);
}

/* Strings, locations and stack depth of one profile (or the merged one),
 * against -limit. A profile's strings are its string table's entries,
 * however it was decoded; the merged profile's, the distinct strings its
 * entities and labels name (the only ones it holds). */
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
				       i, p->samples[i].nlocs,
				       (unsigned long long)max->stack_depth);
	return 0;
}

/* What is left of -limit bytes after the profiles counted so far. */
static size_t bytes_left(const collection *c)
{
	uint64_t left = c->lim.max->bytes - c->lim.used_bytes;
	return left > SIZE_MAX ? SIZE_MAX : (size_t)left;
}

/* One profile's bytes decompressed (within -limit bytes) and decoded
 * without its string labels (they only grow the file). */
static pf_profile *decode(collection *c, const char *origin, const char *entry, const char *name,
			  const pf_buf *data, pf_err *e)
{
	pf_buf raw = {0};
	pf_profile *p = NULL;
	if (pf_profile_decompress(origin, entry, data->data, data->len, bytes_left(c), &raw, e) == 0) {
		c->lim.used_bytes += raw.len;
		p = pf_profile_decode(raw.data, raw.len, e);
		if (p && within_limits(p, c->lim.max, e) != 0) {
			pf_profile_free(p);
			p = NULL;
		}
		if (!p)
			pf_err_prefix(e, name);
	}
	pf_buf_free(&raw);
	return p;
}

/* The sink (a pf_profile_sink whose ctx is a collection): takes one
 * profile. After an error here, only pf_merger_free. */
static int collect_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	collection *c = ctx;
	if (c->received >= c->lim.max->profiles)
		return pf_fail(e, PF_EXIT_DATA, "more than -limit profiles=%llu profiles to merge",
			       (unsigned long long)c->lim.max->profiles);
	c->received++;
	char *name = profile_name(origin, entry);
	if (!name)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	pf_profile *p = decode(c, origin, entry, name, data, e);
	pf_buf_free(data);
	int rc = p ? 0 : -1;
	if (rc == 0) {
		log_profile(c->log, *origin == '\0', name, p);
		if ((rc = pf_profile_weigh(p, c->weight, c->normalize, e)) != 0) {
			pf_err_prefix(e, name);
			pf_profile_free(p);
		}
	}
	if (rc == 0)
		rc = pf_merger_add(c->merger, p, name, e);
	const pf_profile *merged = pf_merger_result(c->merger);
	if (rc == 0 && c->received > 1 && within_limits(merged, c->lim.max, e) != 0) {
		pf_err_prefix(e, "the merged profile");
		rc = -1;
	}
	free(name);
	return rc;
}

__attribute__((format(printf, 3, 4))) static int add_comment(pf_profile *p, pf_err *e, const char *fmt, ...)
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

/* ", weight W" after a source weighted other than 1, W as given. */
static const char *weight_note(const pf_weight *w) { return w->value == 1 ? "" : ", weight "; }
static const char *weight_text(const pf_weight *w) { return w->value == 1 ? "" : w->text; }

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
		rc = add_comment(p, e, "pgofetch: Datadog query \"%s\", last %s, top %lld by CPU cores%s%s", q,
				 window, (long long)o->profiles, weight_note(&o->weight), weight_text(&o->weight));
		free(q);
	}
	if (rc == 0 && dd->nids > 0) {
		char *dq = pf_dd_debug_query(dd);
		rc = dq ? add_comment(p, e, "pgofetch: %s", dq) : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		free(dq);
	}
	for (size_t i = 0; rc == 0 && i < o->nin; i++) {
		char *src = pf_redact_url(o->ins[i]);
		rc = src ? add_comment(p, e, "pgofetch: source %s%s%s", src, weight_note(&o->in_weights[i]),
				       weight_text(&o->in_weights[i]))
			 : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		free(src);
	}
	if (rc == 0 && o->normalize)
		rc = add_comment(p, e, "pgofetch: -normalize: each profile scaled to a total of %.0f before its weight",
				 PF_NORMALIZED_TOTAL);
	return rc;
}

/* Where the compiler would refuse the profile, say so in its own words. */
static int pgo_edges(const pf_profile *p, pf_pgo_edges *g, pf_err *e)
{
	if (pf_pgo_edges_of(p, g, e) == 0)
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

/* -trim: the trimmed profile, encoded and compressed, once it is checked
 * to give Go's compiler exactly the edges the full profile gives (the
 * proof is in the tests; this guards every run against a bug all the
 * same). */
static int trim(const pf_log *log, pf_profile **merged, pf_buf *raw, pf_buf *gz, pf_err *e)
{
	pf_profile *full = *merged;
	size_t before = 0;
	if (log->verbose && gzip_size(full, &before, e) != 0)
		return -1;
	pf_pgo_edges want = {0}, got = {0};
	pf_profile *t = NULL;
	int rc = pgo_edges(full, &want, e);
	if (rc == 0 && !(t = pf_profile_trim(full, e)))
		rc = -1;
	if (rc == 0)
		rc = pf_trim_add_proven_comment(t, e);
	if (rc == 0)
		rc = pf_profile_encode(t, raw, e);
	if (rc == 0)
		rc = pf_pgo_edges_of(t, &got, e);
	if (rc == 0 && !pf_pgo_edges_same(&want, &got))
		rc = pf_fail(e, PF_EXIT_INTERNAL, "bug: the trimmed profile would give Go's compiler other edges "
						  "than the full one; -trim=false writes the full profile");
	if (rc == 0)
		rc = pf_gzip(raw->data, raw->len, gz, e);
	if (rc == 0) {
		pf_debug(log, "trimmed the profile to what Go's compiler reads", PF_INT("bytes-before", before),
			 PF_INT("bytes-after", gz->len), PF_INT("samples-before", full->nsamples),
			 PF_INT("samples-after", t->nsamples), PF_INT("locations-before", full->nlocations),
			 PF_INT("locations-after", t->nlocations), PF_INT("functions-before", full->nfunctions),
			 PF_INT("functions-after", t->nfunctions), PF_INT("edges", want.nedges));
		*merged = t;
		t = full;
	}
	pf_pgo_edges_free(&want);
	pf_pgo_edges_free(&got);
	pf_profile_free(t);
	return rc;
}

/* DEST's bytes: gz, and raw (the protobuf inside it) for a pprof DEST. */
static int render(const pf_options *o, const pf_log *log, pf_profile **merged, int64_t deadline, pf_buf *raw,
		  pf_buf *gz, pf_err *e)
{
	if (strcmp(o->format, "preprofile") == 0) {
		/* As `go tool preprofile` writes it: plain text. Trimming would not
		 * change it (that is what -trim guarantees), so it is skipped. */
		pf_pgo_edges g;
		if (pgo_edges(*merged, &g, e) != 0)
			return -1;
		int rc = pf_preprofile_write(&g, gz, e);
		pf_pgo_edges_free(&g);
		return rc;
	}
	if (o->trim && pf_trim_is_proven(o->go, o->dest, deadline, log))
		return trim(log, merged, raw, gz, e);
	int rc = pf_profile_encode(*merged, raw, e);
	return rc == 0 ? pf_gzip(raw->data, raw->len, gz, e) : rc;
}

static int write_result(const pf_options *o, const pf_log *log, pf_profile **merged, const pf_dd_result *dd,
			int64_t start, int64_t deadline, pf_err *e)
{
	if (o->noinline && pf_profile_noinline(*merged, e) == (size_t)-1)
		return -1;
	size_t listed = o->noinline_list.n ? pf_profile_noinline_list(*merged, &o->noinline_list, e) : 0;
	if (listed == (size_t)-1)
		return -1;
	if (o->noinline_list.n)
		pf_debug(log, "renamed the functions -noinline-func lists", PF_INT("regexps", o->noinline_list.n),
			 PF_INT("functions", listed));
	if (o->comment && (add_provenance(o, dd, *merged, e) != 0 ||
			   pf_noinline_list_comment(*merged, &o->noinline_list, e) != 0))
		return -1;
	pf_buf raw = {0}, gz = {0};
	bool changed = false;
	int rc = render(o, log, merged, deadline, &raw, &gz, e);
	if (rc == 0)
		rc = pf_write_dest(o->dest, gz.data, gz.len, raw.len ? raw.data : NULL, raw.len, &changed, e);
	char *dq = rc == 0 && dd->nids ? pf_dd_debug_query(dd) : NULL;
	if (rc == 0) {
		int64_t took = pf_now_ns() - start;
		took -= took % 1000000;
		pf_attr attrs[] = {
			PF_STR("path", o->dest), PF_INT("samples", (*merged)->nsamples),
			PF_INT("bytes", gz.len), PF_BOOL("changed", changed), PF_DUR("total-duration", took),
			PF_STR("debug-query", dq),
		};
		pf_log_attrs(log, PF_INFO, changed ? "wrote PGO file" : "PGO file unchanged",
			     attrs, dq ? 6 : 5);
		pf_result_wrote(log->result, changed, (int64_t)(*merged)->nsamples, (int64_t)gz.len,
				dd->profile_ids, dd->nids, dq);
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
	pf_result_skipped(log->result);
	return true;
}

/* A run killed while writing DEST (SIGKILL, out of memory, a power cut)
 * leaves its temporary file; the next run removes it once it is an hour
 * old, long after any writer still at work would have finished. */
static void remove_leftovers(const pf_options *o, const pf_log *log)
{
	size_t n = pf_remove_stale_tmps(o->dest, 3600);
	if (n > 0)
		pf_info(log, "removed temporary files an interrupted run left beside DEST", PF_STR("path", o->dest),
			PF_INT("files", (int64_t)n));
}

int pf_run(const pf_options *o, const pf_log *log, pf_err *e)
{
	int64_t start = pf_now_ns(), deadline = start + o->timeout_ns;
	pf_limits_bound_memory(&o->limits);
	pf_info(log, "pgofetch", PF_STR("version", PGOFETCH_VERSION));
	remove_leftovers(o, log);
	if (dest_is_fresh(o, log))
		return 0;
	collection c = {.log = log, .lim = {.max = &o->limits}, .merger = pf_merger_new(), .weight = o->weight.value,
			.normalize = o->normalize};
	if (!c.merger)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	pf_dd_result dd = {0};
	int rc = 0;
	if (o->nqueries > 0)
		rc = pf_datadog_fetch(o, log, deadline, &c.lim, collect_profile, &c, &dd, e);
	for (size_t i = 0; rc == 0 && i < o->nin; i++) {
		size_t before = c.received;
		c.weight = o->in_weights[i].value;
		rc = pf_read_source(o->ins[i], &c.lim, deadline, collect_profile, &c, e);
		if (rc == 0 && c.received == before) { /* an empty ZIP */
			char *name = pf_redact_url(o->ins[i]);
			rc = pf_fail(e, PF_EXIT_DATA, "%s: holds no profile", name ? name : "a source");
			free(name);
		}
	}
	pf_profile *merged = NULL;
	if (rc == 0)
		merged = pf_merger_finish(c.merger);
	else
		pf_merger_free(c.merger);
	if (rc == 0 && !merged)
		rc = pf_fail(e, PF_EXIT_NOTFOUND, "no profiles found in the sources");
	if (rc == 0)
		rc = write_result(o, log, &merged, &dd, start, deadline, e);
	pf_dd_result_free(&dd);
	pf_profile_free(merged);
	if (rc != 0)
		pf_limits_name_memory(&o->limits, e);
	return rc;
}
