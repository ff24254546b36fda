/* zipstream.c: see zipstream.h. A state machine fed the archive's bytes
 * as they come; zlib inflates and checksums, zipread.c reads what was
 * kept for the directory. */
#include "zipstream.h"
#include "buf.h"
#include "zipformat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define FLAG_ENCRYPTED 0x1u
#define FLAG_DESCRIPTOR 0x8u
#define ZIP64_EXTRA 0x0001u
#define INFLATE_ROOM (256u << 10)

/* An entry as it came: what the directory must say of it. */
typedef struct {
	char *name;
	uint64_t offset; /* of its local header */
	uint16_t method;
	uint32_t crc;
	uint64_t csize, usize;
} came;

enum state {
	AT_HEADER,     /* collecting a local header in rec */
	IN_STORED,     /* copying a stored entry whose size its header gives */
	IN_DEFLATED,   /* inflating */
	SKIPPING,      /* passing over what follows a deflate stream within its recorded size */
	SCANNING,      /* a stored entry whose size comes after it */
	AT_DESCRIPTOR, /* collecting the data descriptor after a deflate stream */
	KEEPING,       /* keeping everything from kept_from on, for the directory */
};

struct pf_zipstream {
	const char *origin;
	const pf_limits *lim;
	pf_profile_sink sink;
	void *ctx;
	pf_err err; /* the first failure; every call after it fails */

	enum state state;
	uint64_t at;  /* archive offset of the next byte fed */
	size_t index; /* entries read since begin */
	came *came;   /* every entry handed over, in order, over all attempts */
	size_t ncame, cap_came;

	/* the entry being read */
	pf_buf rec;     /* its local header */
	came cur;
	bool descriptor;                 /* its CRC and sizes follow its data */
	uint32_t want_crc;               /* as its header says, when not */
	uint64_t want_csize, want_usize;
	uint64_t taken;                  /* its compressed bytes so far */
	pf_buf data;                     /* its bytes as stored, inflated */
	uLong crc;                       /* of data[0, crc_upto) */
	size_t crc_upto, scan_from;
	z_stream z;
	bool z_live;
	uint8_t desc[16];
	size_t ndesc;
	pf_buf carry; /* what came after a stored entry's descriptor, still to read */

	pf_buf kept;
	uint64_t kept_from;
};

static int fail(pf_zipstream *zs, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keeps the first failure, prefixed with the archive's origin. */
static int fail(pf_zipstream *zs, int code, const char *fmt, ...)
{
	if (zs->err.code)
		return -1;
	char msg[sizeof zs->err.msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	pf_fail(&zs->err, code, "%s", msg);
	pf_fail_at(&zs->err, zs->origin, NULL);
	return -1;
}

static int out_of_memory(pf_zipstream *zs)
{
	return fail(zs, PF_EXIT_INTERNAL, "out of memory");
}

static void advance(pf_zipstream *zs, const uint8_t **p, size_t *n, size_t k)
{
	*p += k;
	*n -= k;
	zs->at += k;
}

static void drop_entry(pf_zipstream *zs)
{
	free(zs->cur.name);
	zs->cur.name = NULL;
	pf_buf_free(&zs->data);
	zs->rec.len = 0;
}

/* From here on everything is kept, starting with the a and b bytes that
 * came from byte `from` on, for the directory to say what it is. */
static int start_keeping(pf_zipstream *zs, uint64_t from, const pf_buf *a, const pf_buf *b)
{
	zs->kept.len = 0;
	zs->kept_from = from;
	if (pf_buf_append(&zs->kept, a->data, a->len) != 0 || (b && pf_buf_append(&zs->kept, b->data, b->len) != 0))
		return out_of_memory(zs);
	drop_entry(zs);
	zs->state = KEEPING;
	return 0;
}

static bool same_entry(const came *a, const came *b)
{
	return strcmp(a->name, b->name) == 0 && a->offset == b->offset && a->method == b->method &&
	       a->crc == b->crc && a->csize == b->csize && a->usize == b->usize;
}

static int grow_came(pf_zipstream *zs)
{
	size_t cap = zs->cap_came ? zs->cap_came * 2 : 8;
	came *c = cap < SIZE_MAX / sizeof *c ? realloc(zs->came, cap * sizeof *c) : NULL;
	if (!c)
		return -1;
	zs->came = c;
	zs->cap_came = cap;
	return 0;
}

/* The entry is complete and checked: hand it over, unless it was handed
 * over in an earlier attempt (then it must be the same). */
static int hand_over(pf_zipstream *zs)
{
	zs->cur.crc = (uint32_t)zs->crc;
	zs->cur.usize = zs->data.len;
	size_t i = zs->index++;
	int rc = 0;
	if (i < zs->ncame) {
		if (!same_entry(&zs->cur, &zs->came[i]))
			rc = fail(zs, PF_EXIT_SOURCE, "ZIP: entry %zu (\"%s\") is not the one that came before the answer broke off",
				  i, zs->cur.name);
		drop_entry(zs);
	} else if (zs->ncame == zs->cap_came && grow_came(zs) != 0) {
		rc = out_of_memory(zs);
	} else {
		zs->came[zs->ncame++] = zs->cur;
		zs->cur.name = NULL;
		rc = zs->sink(zs->ctx, zs->origin, zs->came[i].name, &zs->data, &zs->err);
		drop_entry(zs);
	}
	zs->state = AT_HEADER;
	return rc;
}

/* An entry whose CRC-32 and sizes its header gave. */
static int end_entry(pf_zipstream *zs)
{
	zs->cur.csize = zs->taken;
	if (zs->data.len != zs->want_usize)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\": deflate data is truncated", zs->cur.name);
	if ((uint32_t)zs->crc != zs->want_crc)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" fails its CRC-32 check", zs->cur.name);
	return hand_over(zs);
}

/* Whether the local header in rec names a ZIP64 extra field (then a data
 * descriptor's sizes take 8 bytes each). */
static bool has_zip64_extra(const pf_buf *rec)
{
	size_t at = PF_ZIP_LOCAL_SIZE + pf_le16(rec->data + 26), end = pf_zip_local_size(rec->data);
	while (end - at >= 4) {
		if (pf_le16(rec->data + at) == ZIP64_EXTRA)
			return true;
		at += 4 + (size_t)pf_le16(rec->data + at + 2);
		if (at > end)
			break;
	}
	return false;
}

/* The local header in rec is complete: start reading its entry, or keep
 * everything from it on when it is not one to read as it comes. */
static int start_entry(pf_zipstream *zs)
{
	const uint8_t *h = zs->rec.data;
	uint16_t flags = pf_le16(h + 6), method = pf_le16(h + 8), namelen = pf_le16(h + 26);
	uint64_t from = zs->at - zs->rec.len;
	zs->descriptor = flags & FLAG_DESCRIPTOR;
	zs->want_crc = pf_le32(h + 14);
	zs->want_csize = pf_le32(h + 18);
	zs->want_usize = pf_le32(h + 22);
	bool zip64 = zs->want_csize == 0xffffffffu || zs->want_usize == 0xffffffffu || has_zip64_extra(&zs->rec);
	bool directory = namelen > 0 && h[PF_ZIP_LOCAL_SIZE + namelen - 1] == '/';
	if ((flags & FLAG_ENCRYPTED) || (method != 0 && method != 8) || zip64 || directory)
		return start_keeping(zs, from, &zs->rec, NULL);
	if (zs->index >= zs->lim->max->zip_entries)
		return fail(zs, PF_EXIT_DATA, "ZIP has more than -limit zip-entries=%llu entries",
			    (unsigned long long)zs->lim->max->zip_entries);
	/* The sink makes room before the entry's bytes are read; an entry
	 * handed over in an earlier attempt is only read past. */
	if (zs->index >= zs->ncame && zs->sink(zs->ctx, zs->origin, NULL, NULL, &zs->err) != 0)
		return -1;
	zs->cur = (came){.offset = from, .method = method};
	if (!(zs->cur.name = strndup((const char *)h + PF_ZIP_LOCAL_SIZE, namelen)))
		return out_of_memory(zs);
	if (!zs->descriptor && zs->want_usize > pf_source_max(zs->lim))
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than %zu bytes (-limit source-bytes)",
			    zs->cur.name, pf_source_max(zs->lim));
	zs->data.len = 0;
	zs->crc = crc32(0L, Z_NULL, 0);
	zs->crc_upto = zs->scan_from = 0;
	zs->taken = 0;
	zs->ndesc = 0;
	if (method == 8) {
		int rc = zs->z_live ? inflateReset(&zs->z) : inflateInit2(&zs->z, -15);
		if (rc != Z_OK)
			return out_of_memory(zs);
		zs->z_live = true;
		zs->state = IN_DEFLATED;
		return 0;
	}
	if (zs->descriptor) {
		zs->state = SCANNING;
		return 0;
	}
	if (zs->want_csize != zs->want_usize)
		return fail(zs, PF_EXIT_DATA, "ZIP: stored entry \"%s\" has mismatched sizes", zs->cur.name);
	if (pf_buf_reserve(&zs->data, zs->want_usize + 1) != 0)
		return out_of_memory(zs);
	zs->state = IN_STORED;
	return zs->want_usize == 0 ? end_entry(zs) : 0;
}

static int take_header(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	const pf_buf *r = &zs->rec;
	size_t need = r->len < PF_ZIP_LOCAL_SIZE ? PF_ZIP_LOCAL_SIZE : pf_zip_local_size(r->data);
	size_t k = need - r->len < *n ? need - r->len : *n;
	if (pf_buf_append(&zs->rec, *p, k) != 0)
		return out_of_memory(zs);
	advance(zs, p, n, k);
	if (r->len >= 4 && pf_le32(r->data) != PF_ZIP_SIG_LOCAL) /* the directory, or something else */
		return start_keeping(zs, zs->at - r->len, &zs->rec, NULL);
	if (r->len < PF_ZIP_LOCAL_SIZE || r->len < pf_zip_local_size(r->data))
		return 0;
	return start_entry(zs);
}

static int take_stored(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	size_t left = zs->want_usize - zs->data.len, k = left < *n ? left : *n;
	memcpy(zs->data.data + zs->data.len, *p, k);
	zs->crc = pf_zip_crc(zs->crc, *p, k);
	zs->data.len += k;
	zs->crc_upto = zs->data.len;
	zs->taken += k;
	advance(zs, p, n, k);
	return zs->data.len == zs->want_usize ? end_entry(zs) : 0;
}

/* The most an inflated entry may hold: its recorded size, or -limit
 * source-bytes when its size comes after it. */
static size_t inflate_bound(const pf_zipstream *zs)
{
	size_t max = pf_source_max(zs->lim);
	return !zs->descriptor && zs->want_usize < max ? (size_t)zs->want_usize : max;
}

static int check_inflated(pf_zipstream *zs)
{
	if (zs->data.len <= inflate_bound(zs))
		return 0;
	if (!zs->descriptor)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than its recorded size %llu", zs->cur.name,
			    (unsigned long long)zs->want_usize);
	return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than %zu bytes (-limit source-bytes)",
		    zs->cur.name, pf_source_max(zs->lim));
}

/* Makes room for what inflate writes next: up to one byte past the
 * entry's bound, which shows the entry is larger than that. */
static int inflate_room(pf_zipstream *zs, size_t *room)
{
	if (check_inflated(zs) != 0)
		return -1;
	size_t left = inflate_bound(zs) - zs->data.len;
	size_t want = left < INFLATE_ROOM ? left + 1 : INFLATE_ROOM;
	if (pf_buf_reserve(&zs->data, want) != 0)
		return out_of_memory(zs);
	*room = zs->data.cap - zs->data.len;
	if (*room > (uInt)-1)
		*room = (uInt)-1;
	if (left < *room)
		*room = left + 1;
	return 0;
}

static int take_deflated(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	size_t avail = *n;
	if (!zs->descriptor && avail > zs->want_csize - zs->taken)
		avail = (size_t)(zs->want_csize - zs->taken);
	if (avail > (uInt)-1)
		avail = (uInt)-1;
	zs->z.next_in = (Bytef *)*p;
	zs->z.avail_in = (uInt)avail;
	int rc;
	do {
		size_t room = 0;
		if (inflate_room(zs, &room) != 0)
			return -1;
		zs->z.next_out = zs->data.data + zs->data.len;
		zs->z.avail_out = (uInt)room;
		rc = inflate(&zs->z, Z_NO_FLUSH);
		size_t made = room - zs->z.avail_out;
		zs->crc = pf_zip_crc(zs->crc, zs->data.data + zs->data.len, made);
		zs->data.len += made;
		zs->crc_upto = zs->data.len;
	} while (rc == Z_OK && zs->z.avail_out == 0);
	size_t used = avail - zs->z.avail_in;
	zs->taken += used;
	advance(zs, p, n, used);
	if (check_inflated(zs) != 0)
		return -1;
	if (rc == Z_DATA_ERROR)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\": corrupt deflate data: %s", zs->cur.name,
			    zs->z.msg ? zs->z.msg : "invalid");
	if (rc == Z_MEM_ERROR)
		return out_of_memory(zs);
	if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\": corrupt deflate data", zs->cur.name);
	if (rc == Z_STREAM_END) {
		zs->state = zs->descriptor ? AT_DESCRIPTOR : SKIPPING;
		return zs->state == SKIPPING && zs->taken == zs->want_csize ? end_entry(zs) : 0;
	}
	if (!zs->descriptor && zs->taken == zs->want_csize)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\": deflate data is truncated", zs->cur.name);
	return 0;
}

/* Bytes after the deflate stream but within the entry's recorded size,
 * which readers pass over. */
static int take_skipped(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	uint64_t left = zs->want_csize - zs->taken;
	size_t k = left < *n ? (size_t)left : *n;
	zs->taken += k;
	advance(zs, p, n, k);
	return zs->taken == zs->want_csize ? end_entry(zs) : 0;
}

/* A data descriptor: its signature (optional), CRC-32 and two sizes. */
static int take_descriptor(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	size_t need = zs->ndesc >= 4 && pf_le32(zs->desc) == PF_ZIP_SIG_DESCRIPTOR ? 16 : zs->ndesc < 4 ? 4 : 12;
	size_t k = need - zs->ndesc < *n ? need - zs->ndesc : *n;
	memcpy(zs->desc + zs->ndesc, *p, k);
	zs->ndesc += k;
	advance(zs, p, n, k);
	if (zs->ndesc == 4 || zs->ndesc < need)
		return 0;
	const uint8_t *d = zs->desc + (need == 16 ? 4 : 0);
	if (pf_le32(d) != (uint32_t)zs->crc || pf_le32(d + 4) != zs->taken || pf_le32(d + 8) != zs->data.len)
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\": its data descriptor does not match its data",
			    zs->cur.name);
	zs->cur.csize = zs->taken;
	return hand_over(zs);
}

/* Where in data[from, len) a stored entry's descriptor starts: its
 * signature, then the CRC-32 of and the size (twice) of all before it. */
static bool find_descriptor(pf_zipstream *zs, size_t *at)
{
	uint8_t *d = zs->data.data;
	size_t len = zs->data.len;
	for (size_t k = zs->scan_from; len >= 16 && k <= len - 16; k++) {
		uint8_t *hit = memchr(d + k, 'P', len - 15 - k);
		if (!hit)
			break;
		k = (size_t)(hit - d);
		if (pf_le32(d + k) != PF_ZIP_SIG_DESCRIPTOR || k > UINT32_MAX || pf_le32(d + k + 8) != k ||
		    pf_le32(d + k + 12) != k)
			continue;
		zs->crc = pf_zip_crc(zs->crc, d + zs->crc_upto, k - zs->crc_upto);
		zs->crc_upto = k;
		if (pf_le32(d + k + 4) == (uint32_t)zs->crc) {
			*at = k;
			return true;
		}
	}
	zs->scan_from = len >= 15 ? len - 15 : 0;
	return false;
}

static int take_scanned(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	if (pf_buf_append(&zs->data, *p, *n) != 0)
		return out_of_memory(zs);
	advance(zs, p, n, *n);
	size_t k;
	if (!find_descriptor(zs, &k)) {
		if (zs->scan_from > pf_source_max(zs->lim))
			return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than %zu bytes (-limit source-bytes)",
				    zs->cur.name, pf_source_max(zs->lim));
		return 0;
	}
	if (k > pf_source_max(zs->lim))
		return fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is larger than %zu bytes (-limit source-bytes)",
			    zs->cur.name, pf_source_max(zs->lim));
	/* What came after the descriptor is read next, from carry. */
	zs->carry.len = 0;
	if (pf_buf_append(&zs->carry, zs->data.data + k + 16, zs->data.len - k - 16) != 0)
		return out_of_memory(zs);
	zs->at -= zs->carry.len;
	zs->data.len = k;
	zs->cur.csize = k;
	return hand_over(zs);
}

static int take(pf_zipstream *zs, const uint8_t **p, size_t *n)
{
	switch (zs->state) {
	case AT_HEADER: return take_header(zs, p, n);
	case IN_STORED: return take_stored(zs, p, n);
	case IN_DEFLATED: return take_deflated(zs, p, n);
	case SKIPPING: return take_skipped(zs, p, n);
	case SCANNING: return take_scanned(zs, p, n);
	case AT_DESCRIPTOR: return take_descriptor(zs, p, n);
	case KEEPING: break;
	}
	if (pf_buf_append(&zs->kept, *p, *n) != 0)
		return out_of_memory(zs);
	advance(zs, p, n, *n);
	return 0;
}

int pf_zipstream_feed(pf_zipstream *zs, const uint8_t *p, size_t n)
{
	while (!zs->err.code && n > 0)
		take(zs, &p, &n);
	while (!zs->err.code && zs->carry.len > 0) {
		pf_buf c = zs->carry;
		zs->carry = (pf_buf){0};
		const uint8_t *q = c.data;
		size_t m = c.len;
		while (!zs->err.code && m > 0)
			take(zs, &q, &m);
		pf_buf_free(&c);
	}
	return zs->err.code ? -1 : 0;
}

/* Entry i of the directory against what came. */
static int check_listed(pf_zipstream *zs, const pf_zip_entry *ze, size_t i)
{
	came listed = {.name = ze->name, .offset = ze->offset, .method = ze->method, .crc = ze->crc,
		       .csize = ze->csize, .usize = ze->usize};
	if (!same_entry(&listed, &zs->came[i]))
		return fail(zs, PF_EXIT_DATA, "ZIP: the directory does not list entry %zu (\"%s\") as it came (damaged or crafted archive)",
			    i, zs->came[i].name);
	return 0;
}

/* Reads the directory at the end of what was kept: the entries read as
 * they came must be its first ones, as they came; the others are read
 * from what was kept. */
static int read_kept(pf_zipstream *zs)
{
	if (zs->ncame == 0 && zs->kept_from == 0) /* nothing came as entries: one profile, or any archive */
		return pf_feed_bytes(zs->origin, &zs->kept, zs->lim, zs->sink, zs->ctx, &zs->err);
	pf_zip z;
	if (pf_zip_open_from(zs->kept.data, zs->kept.len, zs->kept_from, &z, &zs->err) != 0)
		return pf_fail_at(&zs->err, zs->origin, NULL);
	int rc = 0;
	if (z.n > zs->lim->max->zip_entries)
		rc = fail(zs, PF_EXIT_DATA, "ZIP has %zu entries, more than -limit zip-entries=%llu", z.n,
			  (unsigned long long)zs->lim->max->zip_entries);
	size_t handed = zs->index > zs->ncame ? zs->index : zs->ncame;
	if (rc == 0 && z.n < handed)
		rc = fail(zs, PF_EXIT_DATA, "ZIP: the directory lists %zu entries, %zu came (damaged or crafted archive)",
			  z.n, handed);
	for (size_t i = 0; rc == 0 && i < handed; i++)
		rc = check_listed(zs, &z.entries[i], i);
	for (size_t i = handed; rc == 0 && i < z.n; i++)
		if (!z.entries[i].data)
			rc = fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is listed at byte %llu, among the entries already read (damaged or crafted archive)",
				  z.entries[i].name, (unsigned long long)z.entries[i].offset);
	if (rc == 0)
		rc = pf_feed_zip_entries(zs->origin, &z, handed, zs->lim, zs->sink, zs->ctx, &zs->err);
	pf_zip_close(&z);
	return rc;
}

int pf_zipstream_finish(pf_zipstream *zs, pf_err *e)
{
	if (!zs->err.code) {
		switch (zs->state) {
		case AT_HEADER:
			if (zs->rec.len > 0)
				start_keeping(zs, zs->at - zs->rec.len, &zs->rec, NULL);
			break;
		case SCANNING: /* no descriptor came: the directory says where the entry ends */
			start_keeping(zs, zs->cur.offset, &zs->rec, &zs->data);
			break;
		case KEEPING:
			break;
		default:
			fail(zs, PF_EXIT_DATA, "ZIP: entry \"%s\" is cut short (truncated archive?)", zs->cur.name);
		}
	}
	if (!zs->err.code)
		read_kept(zs);
	pf_buf_free(&zs->kept);
	if (zs->err.code) {
		*e = zs->err;
		return -1;
	}
	return 0;
}

int pf_zipstream_begin(pf_zipstream *zs)
{
	drop_entry(zs);
	pf_buf_free(&zs->rec);
	pf_buf_free(&zs->carry);
	pf_buf_free(&zs->kept);
	zs->state = AT_HEADER;
	zs->at = 0;
	zs->index = 0;
	zs->kept_from = 0;
	return zs->err.code ? -1 : 0;
}

pf_zipstream *pf_zipstream_new(const char *origin, const pf_limits *lim, pf_profile_sink sink, void *ctx)
{
	pf_zipstream *zs = calloc(1, sizeof *zs);
	if (zs)
		*zs = (pf_zipstream){.origin = origin, .lim = lim, .sink = sink, .ctx = ctx};
	return zs;
}

size_t pf_zipstream_handed(const pf_zipstream *zs) { return zs->ncame; }
uint64_t pf_zipstream_bytes(const pf_zipstream *zs) { return zs->at; }

void pf_zipstream_free(pf_zipstream *zs)
{
	if (!zs)
		return;
	pf_zipstream_begin(zs);
	if (zs->z_live)
		inflateEnd(&zs->z);
	for (size_t i = 0; i < zs->ncame; i++)
		free(zs->came[i].name);
	free(zs->came);
	free(zs);
}
