/* collect.c: see collect.h. One profile at a time, on one thread: the
 * run's peak memory is the merged profile plus one input, compressed,
 * decompressed and decoded. */
#include "collect.h"
#include "clock.h"
#include "decompress.h"
#include "result.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pf_collect {
	const pf_log *log;
	pf_limits *lim;
	size_t received; /* profiles handed to the sink */
	pf_merger *merger;
	double weight; /* -weight of the source being read */
	bool normalize;
};

/* "file.zip:entry" for a ZIP's entry, the id for a Datadog profile (whose
 * origin is ""). */
static char *profile_name(const char *origin, const char *entry)
{
	return !entry ? strdup(origin) : !*origin ? strdup(entry) : pf_strf("%s:%s", origin, entry);
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
static size_t bytes_left(const pf_collect *c)
{
	uint64_t left = c->lim->max->bytes - c->lim->used_bytes;
	return left > SIZE_MAX ? SIZE_MAX : (size_t)left;
}

/* One profile's bytes decompressed (within -limit bytes) and decoded
 * without its string labels (they only grow the file). */
static pf_profile *decode(pf_collect *c, const char *origin, const char *entry, const char *name,
			  const pf_buf *data, pf_err *e)
{
	pf_buf raw = {0};
	pf_profile *p = NULL;
	if (pf_profile_decompress(origin, entry, data->data, data->len, bytes_left(c), &raw, e) == 0) {
		c->lim->used_bytes += raw.len;
		p = pf_profile_decode_without_string_labels(raw.data, raw.len, e);
		if (p && within_limits(p, c->lim->max, e) != 0) {
			pf_profile_free(p);
			p = NULL;
		}
		if (!p)
			pf_err_prefix(e, name);
	}
	pf_buf_free(&raw);
	return p;
}

int pf_collect_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	pf_collect *c = ctx;
	if (c->received >= c->lim->max->profiles)
		return pf_fail(e, PF_EXIT_DATA, "more than -limit profiles=%llu profiles to merge",
			       (unsigned long long)c->lim->max->profiles);
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
	if (rc == 0 && c->received > 1 && within_limits(merged, c->lim->max, e) != 0) {
		pf_err_prefix(e, "the merged profile");
		rc = -1;
	}
	free(name);
	return rc;
}

pf_collect *pf_collect_new(const pf_log *log, pf_limits *lim)
{
	pf_collect *c = calloc(1, sizeof *c);
	if (!c || !(c->merger = pf_merger_new())) {
		free(c);
		return NULL;
	}
	c->log = log;
	c->lim = lim;
	c->weight = 1;
	return c;
}

void pf_collect_weigh(pf_collect *c, double weight, bool normalize)
{
	c->weight = weight;
	c->normalize = normalize;
}

size_t pf_collect_received(const pf_collect *c) { return c->received; }

pf_profile *pf_collect_finish(pf_collect *c)
{
	pf_profile *p = pf_merger_finish(c->merger);
	free(c);
	return p;
}

void pf_collect_free(pf_collect *c)
{
	if (!c)
		return;
	pf_merger_free(c->merger);
	free(c);
}
