/* diff_cmd.h: `pgofetch diff`, what changed for Go's compiler between two
 * profiles, in a form a reviewer of a refreshed default.pgo reads. */
#ifndef PGOFETCH_DIFF_CMD_H
#define PGOFETCH_DIFF_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "pprof.h"

/* Runs `pgofetch diff [-json] [-o file] OLD NEW` (argv[0] is "diff");
 * returns the exit code. */
int pf_diff_main(int argc, char **argv);

/* Writes the report from old (NULL: there was none) to new to f: markdown,
 * or with json one JSON line. Fails (PF_EXIT_DATA) where Go's compiler
 * would refuse a profile, or when memory runs out. */
int pf_diff_write(FILE *f, bool json, const pf_profile *old, const pf_profile *new, pf_err *e);

#endif
