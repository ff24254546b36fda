/* check_cmd.h: `pgofetch check`, does a profile still match the code? */
#ifndef PGOFETCH_CHECK_CMD_H
#define PGOFETCH_CHECK_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pgo.h"
#include "pprof.h"
#include "symbols.h"

/* Runs `pgofetch check [-json] [-fail-below PCT] [-go PATH] PROFILE
 * PKG_OR_BINARY` (argv[0] is "check"); returns the exit code. */
int pf_check_main(int argc, char **argv);

/* A subcommand's flag: a boolean (on) or one that takes a value. */
typedef struct {
	const char *name;
	bool *on;
	const char **value;
} pf_sub_flag;

/* Parses the flags of `pgofetch cmd` as Go's flag package does (-x, --x,
 * -x=v, -x v; -h prints usage), flags ending with {0}. Returns the index
 * of the first argument, or minus the exit code: 0 after -h, 2 after a
 * usage error (printed, as pf_subcommand_usage does). */
int pf_subcommand_flags(int argc, char **argv, const pf_sub_flag *flags, const char *cmd, const char *usage);

/* "pgofetch cmd: message" and the usage on stderr; returns PF_EXIT_USAGE. */
int pf_subcommand_usage(const char *cmd, const char *usage, const char *fmt, ...);

/* The one profile at path (any encoding -in reads), decoded; NULL with e
 * set when it cannot be read (PF_EXIT_SOURCE) or is not one profile
 * (PF_EXIT_DATA). `pgofetch diff` reads its two profiles with it too,
 * and -result the profile left at DEST. */
pf_profile *pf_check_read_profile(const char *path, pf_err *e);

/* The profile's time as RFC 3339 UTC text, or "" when it has none (or p is NULL). */
void pf_profile_time_text(const pf_profile *p, char out[32]);

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
