/* pgo.h: what Go's compiler takes from a profile for PGO, computed as the
 * Go toolchain computes it (Go 1.21 to 1.26: cmd/internal/pgo FromPProf,
 * internal/profile NewGraph), and written as `go tool preprofile` writes it;
 * and the user's no-inline list, which steers it (noinline.c).
 *
 * The compiler's whole PGO input is a weighted list of named call edges:
 * (caller name, callee name, call-site offset) -> weight. Two profiles with
 * equal edge lists build identical binaries; -trim relies on that, and
 * checks it on every profile it writes. */
#ifndef PGOFETCH_PGO_H
#define PGOFETCH_PGO_H

#include <regex.h>
#include <string.h>

#include "pprof.h" /* the profile model, and with it buf.h, err.h and the standard integer types */

/* One named call edge. The names point into the profile's string pool
 * (they may hold NUL bytes; len says how long they are), so the edge list
 * is valid while the profile is alive and unchanged. */
typedef struct {
	const char *caller, *callee;
	size_t caller_len, callee_len;
	int64_t offset; /* caller line - caller function's start_line */
	int64_t weight;
} pf_pgo_edge;

/* The compiler's view: edges in the order of Go's sortByWeight (weight
 * descending, then caller, callee, offset ascending). No edges: the
 * compiler ignores the profile (no samples, or a total weight of 0). */
typedef struct {
	pf_pgo_edge *edges;
	size_t nedges;
	int64_t total_weight;
} pf_pgo_edges;

/* The sample type the compiler reads: the index of the first of
 * samples/count or cpu/nanoseconds, or -1 when there is none. */
long pf_pgo_value_index(const pf_profile *p);

/* Computes the compiler's edges of p. Fails (PF_EXIT_DATA, with the
 * compiler's own words) where `go build` would refuse the profile: samples
 * but no usable sample type, or no start_line on any function the edges
 * see. PF_EXIT_INTERNAL when memory runs out. */
int pf_pgo_edges_of(const pf_profile *p, pf_pgo_edges *out, pf_err *e);
void pf_pgo_edges_free(pf_pgo_edges *g);

/* Whether two edge lists in Go's order (as pf_pgo_edges_of gives them) are
 * the same compiler input: the same edges with the same weights. */
bool pf_pgo_edges_same(const pf_pgo_edges *a, const pf_pgo_edges *b);

/* Appends g in `go tool preprofile`'s format ("GO PREPROFILE V1"). */
int pf_preprofile_write(const pf_pgo_edges *g, pf_buf *out, pf_err *e);

/* Orders byte strings as Go's < on strings does. */
int pf_bytes_cmp(const char *x, size_t nx, const char *y, size_t ny);

/* What the no-inline renames put in front of a function's name. */
#define PF_NOINLINE_PREFIX "DO NOT INLINE: "

/* name without PF_NOINLINE_PREFIX, its length left in *len. */
static inline const char *pf_noinline_strip(const char *name, size_t *len)
{
	size_t n = sizeof PF_NOINLINE_PREFIX - 1;
	if (*len < n || memcmp(name, PF_NOINLINE_PREFIX, n) != 0)
		return name;
	*len -= n;
	return name + n;
}

/* The user's no-inline list (-noinline-func, -noinline-file): regular
 * expressions naming functions the Go compiler must not inline, applied as
 * the built-in -noinline rename is. POSIX extended regular expressions,
 * each matched against a function's whole name (as if written ^(RE)$),
 * compiled once when the flag is read. */
typedef struct {
	struct {
		regex_t re;
		char *pattern; /* as given, for the provenance comments */
	} *items;
	size_t n;
} pf_noinline_list;

/* Adds one expression; where names it in errors ("-noinline-func",
 * "FILE:LINE"). A bad expression is a usage error. */
int pf_noinline_list_add(pf_noinline_list *l, const char *pattern, const char *where, pf_err *e);

/* Adds every expression of a file: one a line, surrounding blanks
 * ignored, blank lines and lines starting with # skipped. A file that
 * cannot be read, or a bad line, is a usage error naming FILE:LINE. */
int pf_noinline_list_add_file(pf_noinline_list *l, const char *path, pf_err *e);
void pf_noinline_list_free(pf_noinline_list *l);

/* The rename for the list: in samples whose leaf frame's function has a
 * name the list matches, that function becomes "DO NOT INLINE: <name>".
 * Returns how many functions were renamed, or (size_t)-1 when memory
 * runs out. */
size_t pf_profile_noinline_list(pf_profile *p, const pf_noinline_list *l, pf_err *e);

/* One provenance comment per expression ("pgofetch: no-inline regexp ..."). */
int pf_noinline_list_comment(pf_profile *p, const pf_noinline_list *l, pf_err *e);

#endif
