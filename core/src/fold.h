/* fold.h: the profiles of a run, folded into one as datadog-pgo does
 * (pprof's Merge of the result so far with the next profile, in order),
 * on every core: each profile is decompressed and decoded on a thread of
 * its own, two at a time, while the one before them is merged on another.
 * Profiles are logged and merged in the order they arrive, -limit bytes
 * and -limit profiles are counted in that order, and the first error in
 * that order is the one reported, as on one core. */
#ifndef PGOFETCH_FOLD_H
#define PGOFETCH_FOLD_H

#include "err.h"
#include "msg.h"
#include "pprof.h"
#include "source.h"

typedef struct pf_fold pf_fold;

/* A new fold logging to log, within lim (whose used_bytes it counts); NULL
 * when memory runs out. */
pf_fold *pf_fold_new(const pf_log *log, pf_limits *lim);

/* The sink (a pf_profile_sink whose ctx is a pf_fold): takes one profile.
 * After an error here, only pf_fold_free. */
int pf_fold_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e);

/* Profiles handed to the sink so far. */
size_t pf_fold_received(const pf_fold *f);

/* Waits until every profile is decoded and merged. -1 when one of them
 * failed: e then holds the first error in profile order, over whatever it
 * held (an error of the caller's, such as a source read after those
 * profiles, came later). 0 leaves e as it was. */
int pf_fold_finish(pf_fold *f, pf_err *e);

/* The merged profile, the caller's from now on; NULL when there was none. */
pf_profile *pf_fold_take(pf_fold *f);

void pf_fold_free(pf_fold *f);

#endif
