/* flow.h: the main job, from options to DEST. */
#ifndef PGOFETCH_FLOW_H
#define PGOFETCH_FLOW_H

#include "cli.h"
#include "err.h"
#include "log.h"

/* Reads every source, merges, writes DEST. Returns 0, or -1 with e set. */
int pf_run(const pf_options *o, const pf_log *log, pf_err *e);

#endif
