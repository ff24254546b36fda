/* check_cmd.h: `pgofetch check`, does a profile still match the code? */
#ifndef PGOFETCH_CHECK_CMD_H
#define PGOFETCH_CHECK_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pgo.h"
#include "pprof.h"
#include "symbols.h"

/* Runs `pgofetch check [-json] [-fail-below PCT] [-go PATH] PROFILE
 * PKG_OR_BINARY` (argv[0] is "check"); returns the exit code. */
int pf_check_main(int argc, char **argv);

/* The name of the flag at argv[*i] ("json", "o=x": without "-" or "--"),
 * or NULL where the flags end (*i then past a "--"). */
const char *pf_subcommand_flag(int argc, char **argv, int *i);

/* The one profile at path (any encoding -in reads), decoded; NULL with e
 * set when it cannot be read (PF_EXIT_SOURCE) or is not one profile
 * (PF_EXIT_DATA). `pgofetch diff` reads its two profiles with it too. */
pf_profile *pf_check_read_profile(const char *path, pf_err *e);

typedef struct {
	const char *name;
	size_t len;
	int64_t weight;
} pf_missing_fn;

typedef struct {
	double matched; /* 0..1 */
	int64_t total;  /* the edges' weight */
	size_t nedges;
	pf_missing_fn *missing; /* hottest first; free() it */
	size_t nmissing;
} pf_check_result;

/* matched: the share of g's weight whose caller and callee are both in
 * syms; missing: the functions that are not, with their weight. */
int pf_check_compare(const pf_pgo_edges *g, const pf_symbols *syms, pf_check_result *r, pf_err *e);

#endif
