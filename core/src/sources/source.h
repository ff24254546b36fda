/* source.h: turning a -in SOURCE (a file or an http(s) URL) into profiles.
 * A source holds one profile (gzip, zstd or raw protobuf) or a ZIP archive
 * of them; every profile found is handed, decompressed, to a sink. */
#ifndef PGOFETCH_SOURCE_H
#define PGOFETCH_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "decompress.h"
#include "err.h"
#include "limits.h"
#include "zipread.h"

/* Receives one profile as it was stored or sent (gzip, zstd or raw
 * protobuf), to be decompressed with pf_profile_decompress. origin names
 * where it came from (a path or a redacted URL), entry is the ZIP entry's
 * name or NULL. The sink may take data's memory, leaving *data empty. */
typedef int (*pf_profile_sink)(void *ctx, const char *origin, const char *entry, pf_buf *data,
			       pf_err *e);

/* The bounds of a run and what it has used of them so far. */
typedef struct {
	const pf_limit_set *max;
	uint64_t used_bytes; /* decompressed profile bytes, against max->bytes; the sink counts them */
} pf_limits;

/* The largest file, HTTP answer or ZIP entry read (-limit source-bytes). */
size_t pf_source_max(const pf_limits *lim);

/* Decompresses a profile a sink received into raw, within max_out bytes
 * (pf_decompress); errors name origin and entry. 0, -1, or PF_TOO_LARGE
 * (decompress.h). */
int pf_profile_decompress(const char *origin, const char *entry, const uint8_t *data, size_t len,
			  size_t max_out, pf_buf *raw, pf_err *e);

/* Feeds the profiles in data (one profile or a ZIP of them) to sink, in
 * archive order; the sink may take data itself when it is one profile.
 * Errors are prefixed with origin (and the entry's name). */
int pf_feed_bytes(const char *origin, pf_buf *data, const pf_limits *lim, pf_profile_sink sink, void *ctx,
		  pf_err *e);

/* Reads source (a path, or an http:// or https:// URL fetched before
 * deadline_ns) and feeds its profiles to sink. */
int pf_read_source(const char *source, const pf_limits *lim, int64_t deadline_ns,
		   pf_profile_sink sink, void *ctx, pf_err *e);

#endif
