/* collect.h: the profiles of a run, one at a time as the sources yield
 * them: decompressed, decoded, checked against -limit, logged, and folded
 * into one as datadog-pgo folds them (pf_merger). */
#ifndef PGOFETCH_COLLECT_H
#define PGOFETCH_COLLECT_H

#include "err.h"
#include "log.h"
#include "pprof.h"
#include "source.h"

typedef struct pf_collect pf_collect;

/* A new collection logging to log, within lim (whose used_bytes it
 * counts); NULL when memory runs out. */
pf_collect *pf_collect_new(const pf_log *log, pf_limits *lim);

/* The sink (a pf_profile_sink whose ctx is a pf_collect): takes one
 * profile. After an error here, only pf_collect_free. */
int pf_collect_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e);

/* -weight and -normalize for the profiles from now on (pf_profile_weigh);
 * weight 1 without normalize until then. */
void pf_collect_weigh(pf_collect *c, double weight, bool normalize);

/* Profiles handed to the sink so far. */
size_t pf_collect_received(const pf_collect *c);

/* The merged profile, the caller's from now on (NULL when there was
 * none); frees c. */
pf_profile *pf_collect_finish(pf_collect *c);
void pf_collect_free(pf_collect *c);

#endif
