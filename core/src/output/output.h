/* output.h: writing DEST so that nothing is ever lost: a temporary file
 * beside it, fsync, rename; nothing at all when the content is unchanged. */
#ifndef PGOFETCH_OUTPUT_H
#define PGOFETCH_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Replaces dest with data unless dest already holds it. `same_as` (may be
 * NULL) is the uncompressed form of data: a gzip DEST that decompresses to
 * it counts as unchanged too (e.g. one written by another gzip encoder).
 * Sets *changed. On failure (PF_EXIT_OUTPUT) dest is as it was and no
 * temporary file is left, also when SIGINT/SIGTERM/SIGHUP arrive meanwhile. */
int pf_write_dest(const char *dest, const uint8_t *data, size_t len,
		  const uint8_t *same_as, size_t same_len, bool *changed, pf_err *e);

/* Removes the temporary files of dest a killed pgofetch left (SIGKILL,
 * a power cut) that are older than older_than_s seconds; returns how many
 * it removed. Best effort: whatever cannot be read or removed stays. */
size_t pf_remove_stale_tmps(const char *dest, int64_t older_than_s);

/* The age of dest in nanoseconds, or -1 when it does not exist. */
int64_t pf_dest_age_ns(const char *dest);

#endif
