/* zipformat.h: the ZIP format's records as zipread.c reads them:
 * signatures, fixed sizes, little-endian fields, and CRC-32 over buffers
 * of any size. */
#ifndef PGOFETCH_ZIPFORMAT_H
#define PGOFETCH_ZIPFORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define PF_ZIP_SIG_LOCAL 0x04034b50u
#define PF_ZIP_SIG_CENTRAL 0x02014b50u
#define PF_ZIP_SIG_END 0x06054b50u
#define PF_ZIP_SIG_DESCRIPTOR 0x08074b50u
#define PF_ZIP_LOCAL_SIZE 30 /* a local header before its name and extra field */

static inline uint16_t pf_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pf_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A local header's whole size, name and extra field included. */
static inline size_t pf_zip_local_size(const uint8_t *h)
{
	return (size_t)PF_ZIP_LOCAL_SIZE + pf_le16(h + 26) + pf_le16(h + 28);
}

/* crc continued over p[0, n), however large n is (crc32 takes uInt lengths). */
static inline uLong pf_zip_crc(uLong crc, const uint8_t *p, size_t n)
{
	while (n > 0) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = crc32(crc, p, k);
		p += k;
		n -= k;
	}
	return crc;
}

#endif
