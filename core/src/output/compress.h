/* compress.h: DEST's gzip stream. */
#ifndef PGOFETCH_COMPRESS_H
#define PGOFETCH_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Appends a gzip stream of data to out: zlib's, at level 1 with a zero
 * mtime, so equal profiles give equal files. */
int pf_gzip(const uint8_t *data, size_t len, pf_buf *out, pf_err *e);

#endif
