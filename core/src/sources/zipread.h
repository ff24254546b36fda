/* zipread.h: reading the ZIP archives Datadog answers with (stored and
 * deflated entries, as Go's archive/zip writes and reads them). */
#ifndef PGOFETCH_ZIPREAD_H
#define PGOFETCH_ZIPREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct {
	char *name;           /* NUL-terminated copy of the entry's name */
	const uint8_t *data;  /* the compressed bytes, inside the archive */
	size_t csize, usize;
	uint16_t method;      /* 0 stored, 8 deflated */
	uint32_t crc;
} pf_zip_entry;

typedef struct {
	pf_zip_entry *entries; /* in central directory order, directories left out */
	size_t n;
} pf_zip;

/* True when data starts like a ZIP archive (a local header, or the end
 * record of an empty archive). */
bool pf_is_zip(const uint8_t *data, size_t len);

/* Lists the archive's entries; data must outlive z. */
int pf_zip_open(const uint8_t *data, size_t len, pf_zip *z, pf_err *e);
void pf_zip_close(pf_zip *z);

/* Appends entry's uncompressed bytes to out, checking size and CRC-32. */
int pf_zip_extract(const pf_zip_entry *entry, size_t max_out, pf_buf *out, pf_err *e);

#endif
