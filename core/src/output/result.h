/* result.h: -result FILE, what a run did as one JSON object (or, with
 * -result-format github, as name=value lines for $GITHUB_OUTPUT), written
 * however the run ends: a profile written, DEST unchanged, nothing
 * fetched (-max-age), or a failure (a bad command line included), so a
 * consumer reads one file instead of the log.
 *
 *   {"version":"0.1.0","outcome":"written","dest":"cmd/x/default.pgo",
 *    "path":"cmd/x/default.pgo","changed":true,"samples":1234,
 *    "bytes":5678,"profile-ids":["a","b"],
 *    "debug-query":"profile-id:(a OR b)","sources":[{"profile-id":"a",
 *    "samples":600,"cpu-cores":3.5,"age":120000000000},...],
 *    "error":"","error-code":0,"exit-code":0}
 *
 * path, samples, bytes, profile-ids and debug-query describe the profile
 * in place at DEST after the run, whoever wrote it: when the run wrote
 * nothing (failed, skipped), DEST is read back, and its ids come from the
 * provenance comment an earlier run left in it (-comment). path is empty
 * when there is no profile at DEST: the build goes on without PGO. */
#ifndef PGOFETCH_RESULT_H
#define PGOFETCH_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "err.h"

struct cJSON;

typedef struct pf_result {
	const char *outcome; /* "written", "unchanged", "skipped"; NULL: failed */
	bool changed;
	int64_t samples, bytes;
	struct cJSON *ids;     /* the profile ids merged, written or not */
	char *debug_query;     /* of the profile written, or NULL */
	struct cJSON *sources; /* one object per profile read, as its log line */
	bool oom;              /* a record was lost: writing the result fails */
} pf_result;

void pf_result_init(pf_result *r);
void pf_result_free(pf_result *r);

/* Each of these does nothing when r is NULL (no -result). */

/* A profile read: key is "profile-id" (from Datadog) or "source" (-in). */
void pf_result_source(pf_result *r, const char *key, const char *name, int64_t samples, double cpu_cores,
		      int64_t age_ns);
/* DEST written (changed) or found unchanged, from profiles ids[0..nids). */
void pf_result_wrote(pf_result *r, bool changed, int64_t samples, int64_t bytes, char *const *ids, size_t nids,
		     const char *debug_query);
/* DEST is younger than -max-age: nothing fetched. */
void pf_result_skipped(pf_result *r);

/* The object -result writes (NULL when memory runs out), the records
 * moved into it: once per run, instead of pf_result_write. */
struct cJSON *pf_result_json(pf_result *r, const pf_options *o, const pf_err *failure, int exit_code);

/* Writes o->result (atomically) in o->result_format; failure is the run's
 * error (code 0: none), exit_code what pgofetch exits with. Returns 0, or
 * -1 with e set. Once per run: the records move into what is written. */
int pf_result_write(pf_result *r, const pf_options *o, const pf_err *failure, int exit_code, pf_err *e);

#endif
