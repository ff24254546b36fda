/* decompress.h: a profile's bytes as they arrive (gzip, zstd or raw
 * protobuf, told apart by their first bytes) turned into raw protobuf. */
#ifndef PGOFETCH_DECOMPRESS_H
#define PGOFETCH_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum pf_compression { PF_RAW, PF_GZIP, PF_ZSTD };

enum pf_compression pf_detect_compression(const uint8_t *data, size_t len);

/* pf_decompress's result when the output would pass max_out bytes. */
#define PF_TOO_LARGE (-2)

/* Appends the decompressed form of data to out (a copy when it is raw).
 * Fails with PF_EXIT_DATA on corrupt or truncated input (-1), or when the
 * result would pass max_out bytes, a decompression bomb (PF_TOO_LARGE). */
int pf_decompress(const uint8_t *data, size_t len, size_t max_out, pf_buf *out, pf_err *e);

#endif
