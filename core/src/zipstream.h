/* zipstream.h: reading a ZIP archive of profiles while it arrives.
 *
 * A Datadog answer is one ZIP of every profile (52 MB for the benchmark's
 * five). Read whole, it is held until its directory, at its end, has come,
 * and its first profile waits for its last byte. Read as it arrives, each
 * entry goes to the sink once its last byte is in, while the next ones
 * are still on their way, and only the entries in flight are held.
 *
 * An entry's end is found from its local header's sizes, or, when Go's
 * archive/zip wrote them after the data (a data descriptor: stored and
 * deflated entries alike), from the end of the deflate stream or, for a
 * stored entry, from the descriptor's signature followed by the entry's
 * own CRC-32 and size. Whatever cannot be read so (no local header where
 * one should be, a method other than stored or deflated, a directory,
 * ZIP64, a stored entry whose descriptor has no signature) is kept from
 * there to the end and read from the directory, as a whole archive is
 * (source.h). The directory,
 * once it comes, must list the entries already handed over where and as
 * they came; else the archive is refused. */
#ifndef PGOFETCH_ZIPSTREAM_H
#define PGOFETCH_ZIPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "source.h"

typedef struct pf_zipstream pf_zipstream;

/* A reader that hands each profile to sink(ctx, origin, entry name, ...);
 * origin prefixes its errors. NULL when memory runs out. */
pf_zipstream *pf_zipstream_new(const char *origin, const pf_limits *lim, pf_profile_sink sink, void *ctx);

/* The archive starts from its first byte (again, when an answer that
 * broke off is fetched again): the entries handed over before must come
 * again first, the same, and are not handed over twice. */
int pf_zipstream_begin(pf_zipstream *zs);

/* The next n bytes of the archive. 0, or -1 once anything failed (the
 * error is kept for pf_zipstream_finish). */
int pf_zipstream_feed(pf_zipstream *zs, const uint8_t *p, size_t n);

/* The archive has ended: reads what was kept and checks the directory.
 * 0, or -1 with e set to the first error. */
int pf_zipstream_finish(pf_zipstream *zs, pf_err *e);

/* Entries handed over so far, and bytes fed since the last begin. */
size_t pf_zipstream_handed(const pf_zipstream *zs);
uint64_t pf_zipstream_bytes(const pf_zipstream *zs);

void pf_zipstream_free(pf_zipstream *zs);

#endif
