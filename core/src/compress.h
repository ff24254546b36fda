/* compress.h: DEST's gzip stream. */
#ifndef PGOFETCH_COMPRESS_H
#define PGOFETCH_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "pipeline.h"

/* From this many bytes on, data is compressed in pieces on two cores;
 * below, it is zlib's own single stream, byte for byte. */
#define PF_GZIP_PIECES_FROM (64 * 1024)

/* Appends a gzip stream of data to out (level 6, zero mtime, so equal
 * profiles give equal files), compressed on two cores when data is large.
 * The bytes depend only on data. */
int pf_gzip(const uint8_t *data, size_t len, pf_buf *out, pf_err *e);

/* pf_gzip, while the calling thread first runs meanwhile(arg): another
 * core starts on the pieces at once, and the caller takes the ones left
 * when meanwhile returns. Its error stops the compression and is
 * returned, nothing appended. The bytes are pf_gzip's. */
int pf_gzip_while(const uint8_t *data, size_t len, pf_buf *out, pf_job_fn meanwhile, void *arg, pf_err *e);

#endif
