/* gover.h: which Go will read DEST, and whether -trim is proven for it.
 *
 * -trim keeps exactly what Go's compiler reads from a profile today. A
 * later Go may read more (basic-block PGO, golang/go#65466), so a trimmed
 * profile is written only for the Go versions it is proven for: those
 * whose `go tool preprofile` the tests find equal for trimmed and full
 * profiles. For a newer go, pgofetch writes the full profile. */
#ifndef PGOFETCH_GOVER_H
#define PGOFETCH_GOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "log.h"
#include "pprof.h"

/* The Go release lines -trim is proven for, oldest first; the tests run
 * `go tool preprofile` of each (the installed Go and go1.27.3) and fail
 * when this list names one they did not check. */
#define PF_TRIM_PROVEN "go1.26, go1.27"

/* The language version ("1.27") of a GOVERSION string: go1.27.3,
 * go1.28rc1, go1.99, "devel go1.28-abcdef Tue ..." Returns 0, or -1 when
 * s names no Go version. */
int pf_gover_parse(const char *s, int *major, int *minor);

/* Whether version (a GOVERSION string) is newer than every proven line:
 * 1 newer, 0 not, -1 unparseable. */
int pf_gover_beyond_proven(const char *version);

/* Whether to trim: asks the go that will build DEST (go_flag from -go, or
 * NULL for go on PATH, run in DEST's directory, where go.mod picks the
 * toolchain) for its version. No: it is newer than every proven line, or
 * -go was given and gave no version (one line says why). Yes: it is
 * proven, or there is no go on PATH to ask (a debug line says so). */
bool pf_trim_is_proven(const char *go_flag, const char *dest, int64_t deadline, const pf_log *log);

/* Records in a trimmed profile's comments the Go lines it is proven for. */
int pf_trim_add_proven_comment(pf_profile *t, pf_err *e);

#endif
