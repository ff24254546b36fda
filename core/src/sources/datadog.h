/* datadog.h: fetching a service's top CPU profiles from Datadog, as
 * datadog-pgo does, with retries, clear errors and the keys kept safe. */
#ifndef PGOFETCH_DATADOG_H
#define PGOFETCH_DATADOG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"
#include "err.h"
#include "log.h"
#include "source.h"

typedef struct {
	char **profile_ids; /* in the order they were merged */
	size_t nids;
	time_t from, to;    /* the time window searched */
} pf_dd_result;

/* Fetches the profiles o->queries select and hands each to sink (origin
 * "", entry the profile id), in a stable order: the gopgo answer's entry
 * order, or the list order of each query in turn. */
int pf_datadog_fetch(const pf_options *o, const pf_log *log, int64_t deadline_ns,
		     pf_limits *lim, pf_profile_sink sink, void *ctx, pf_dd_result *r,
		     pf_err *e);
void pf_dd_result_free(pf_dd_result *r);

/* "profile-id:(a OR b ...)": finds the profiles in Datadog's explorer. The
 * caller frees it. */
char *pf_dd_debug_query(const pf_dd_result *r);

#endif
