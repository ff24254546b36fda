/* zipread.c: a bounds-checked ZIP reader. zlib reads the deflate streams;
 * the container is small enough that no library is worth adding for it
 * (Debian's libzip would pull in more than this whole file). */
#include "zipread.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The format's records: signatures, fixed sizes, little-endian fields. */
#define PF_ZIP_SIG_LOCAL 0x04034b50u
#define PF_ZIP_SIG_CENTRAL 0x02014b50u
#define PF_ZIP_SIG_END 0x06054b50u
#define PF_ZIP_LOCAL_SIZE 30 /* a local header before its name and extra field */

static inline uint16_t pf_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t pf_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define END_SIZE 22
#define CENTRAL_SIZE 46

bool pf_is_zip(const uint8_t *data, size_t len)
{
	return len >= 4 && (pf_le32(data) == PF_ZIP_SIG_LOCAL || pf_le32(data) == PF_ZIP_SIG_END);
}

/* The end record sits in the last 22 + 65535 (comment) bytes. */
static const uint8_t *find_end(const uint8_t *data, size_t len)
{
	if (len < END_SIZE)
		return NULL;
	size_t lowest = len > END_SIZE + 65535 ? len - END_SIZE - 65535 : 0;
	for (size_t i = len - END_SIZE + 1; i-- > lowest;)
		if (pf_le32(data + i) == PF_ZIP_SIG_END && i + END_SIZE + pf_le16(data + i + 20) <= len)
			return data + i;
	return NULL;
}

/* Reads the central record at *pos into entry and moves *pos past it. */
static int read_central(const uint8_t *data, size_t len, size_t *pos, size_t idx, pf_zip_entry *entry, pf_err *e)
{
	size_t at = *pos;
	if (at > len || len - at < CENTRAL_SIZE || pf_le32(data + at) != PF_ZIP_SIG_CENTRAL)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: central directory entry %zu is damaged (byte %llu)", idx,
			       (unsigned long long)at);
	const uint8_t *c = data + at;
	uint16_t flags = pf_le16(c + 8), namelen = pf_le16(c + 28);
	size_t skip = (size_t)CENTRAL_SIZE + namelen + pf_le16(c + 30) + pf_le16(c + 32);
	if (len - at < skip)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: central directory entry %zu runs past the end", idx);
	uint32_t csize = pf_le32(c + 20), usize = pf_le32(c + 24), off = pf_le32(c + 42);
	if (csize == 0xffffffffu || usize == 0xffffffffu || off == 0xffffffffu)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry %zu uses ZIP64, which is not supported", idx);
	if (memchr(c + CENTRAL_SIZE, 0, namelen)) /* it would cut the name short */
		return pf_fail(e, PF_EXIT_DATA, "ZIP: the name of entry %zu holds a NUL byte", idx);
	entry->name = malloc((size_t)namelen + 1);
	if (!entry->name)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	memcpy(entry->name, c + CENTRAL_SIZE, namelen);
	entry->name[namelen] = '\0';
	if (flags & 1)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" is encrypted", entry->name);
	entry->method = pf_le16(c + 10);
	entry->crc = pf_le32(c + 16);
	entry->csize = csize;
	entry->usize = usize;
	*pos = at + skip;
	/* The data follows the local header, whose name and extra lengths may
	 * differ from the central ones. */
	if (off > len || len - off < PF_ZIP_LOCAL_SIZE || pf_le32(data + off) != PF_ZIP_SIG_LOCAL)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: local header of \"%s\" is damaged (byte %llu)", entry->name,
			       (unsigned long long)off);
	size_t start = (size_t)off + PF_ZIP_LOCAL_SIZE + pf_le16(data + off + 26) + pf_le16(data + off + 28);
	if (start > len || len - start < csize)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" runs past the end of the archive", entry->name);
	entry->data = data + start;
	return 0;
}

int pf_zip_open(const uint8_t *data, size_t len, pf_zip *z, pf_err *e)
{
	memset(z, 0, sizeof *z);
	const uint8_t *end = find_end(data, len);
	if (!end)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: no end of central directory record (truncated archive?)");
	size_t count = pf_le16(end + 10), cd = pf_le32(end + 16);
	if (count == 0xffff || cd == 0xffffffffu)
		return pf_fail(e, PF_EXIT_DATA, "ZIP64 archives are not supported");
	if (count == 0)
		return 0;
	z->entries = calloc(count, sizeof *z->entries);
	if (!z->entries)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	size_t pos = cd;
	for (size_t i = 0; i < count; i++) {
		pf_zip_entry *entry = &z->entries[z->n];
		*entry = (pf_zip_entry){0}; /* the slot of a skipped directory is reused */
		int rc = read_central(data, len, &pos, i, entry, e);
		if (entry->name)
			z->n++; /* owned from here on, freed by pf_zip_close */
		if (rc != 0) {
			pf_zip_close(z);
			return -1;
		}
		size_t nl = strlen(entry->name);
		if (nl > 0 && entry->name[nl - 1] == '/') { /* a directory */
			free(entry->name);
			entry->name = NULL;
			z->n--;
		}
	}
	return 0;
}

void pf_zip_close(pf_zip *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->entries[i].name);
	free(z->entries);
	memset(z, 0, sizeof *z);
}

static int inflate_raw(const pf_zip_entry *entry, pf_buf *out, pf_err *e)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, -15) != Z_OK)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory starting inflate");
	zs.next_in = (Bytef *)entry->data;
	zs.avail_in = (uInt)entry->csize;
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)entry->usize;
	int rc = inflate(&zs, Z_FINISH);
	size_t got = entry->usize - zs.avail_out;
	const char *why = zs.msg;
	inflateEnd(&zs);
	if (rc == Z_STREAM_END && got == entry->usize) {
		out->len += got;
		return 0;
	}
	if (rc == Z_BUF_ERROR && zs.avail_out == 0)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than its recorded size %zu",
			       entry->name, entry->usize);
	if (rc == Z_DATA_ERROR)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\": corrupt deflate data: %s", entry->name,
			       why ? why : "invalid");
	return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\": deflate data is truncated", entry->name);
}

int pf_zip_extract(const pf_zip_entry *entry, size_t max_out, pf_buf *out, pf_err *e)
{
	if (entry->usize > max_out)
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than %zu bytes (-limit source-bytes)",
			       entry->name, max_out);
	if (pf_buf_reserve(out, entry->usize + 1) != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	size_t start = out->len;
	if (entry->method == 0) {
		if (entry->csize != entry->usize)
			return pf_fail(e, PF_EXIT_DATA, "ZIP: stored entry \"%s\" has mismatched sizes", entry->name);
		memcpy(out->data + out->len, entry->data, entry->usize);
		out->len += entry->usize;
	} else if (entry->method == 8) {
		if (inflate_raw(entry, out, e) != 0)
			return -1;
	} else {
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" uses unsupported compression method %u",
			       entry->name, entry->method);
	}
	if (crc32_z(0L, out->data + start, entry->usize) != entry->crc) { /* crc32_z: any length */
		out->len = start;
		return pf_fail(e, PF_EXIT_DATA, "ZIP: entry \"%s\" fails its CRC-32 check", entry->name);
	}
	return 0;
}
