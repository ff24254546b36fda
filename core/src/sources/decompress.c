/* decompress.c: gzip through zlib, zstd through libzstd. */
#include "decompress.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

enum pf_compression pf_detect_compression(const uint8_t *data, size_t len)
{
	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		return PF_GZIP;
	if (len >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd)
		return PF_ZSTD;
	/* A zstd stream may open with a skippable frame (magic 0x184D2A5?);
	 * no valid protobuf profile starts with those four bytes. */
	if (len >= 8 && (data[0] & 0xf0) == 0x50 && data[1] == 0x2a && data[2] == 0x4d && data[3] == 0x18)
		return PF_ZSTD;
	return PF_RAW;
}

static const char *compression_name(enum pf_compression c)
{
	return c == PF_GZIP ? "gzip" : c == PF_ZSTD ? "zstd" : "raw";
}

/* The error when data of compression c would pass max_out bytes. */
static int too_large(pf_err *e, enum pf_compression c, size_t max_out)
{
	if (c == PF_RAW)
		pf_fail(e, PF_EXIT_DATA, "profile is larger than the %zu bytes left of -limit bytes", max_out);
	else
		pf_fail(e, PF_EXIT_DATA, "%s data decompresses to more than the %zu bytes left of -limit bytes",
			compression_name(c), max_out);
	return PF_TOO_LARGE;
}

/* Where the output goes: out, from its length at start; produced bytes
 * decompressed so far, against max_out. */
typedef struct {
	pf_buf *out;
	size_t produced, max_out;
	enum pf_compression c;
	pf_err *e;
} sink;

/* Grows out for the next chunk of output, within max_out: 0, or an error
 * (PF_TOO_LARGE, -1). *room is how much the next step may write. */
static int make_room(sink *k, size_t *room)
{
	pf_buf *out = k->out;
	*room = 0;
	if (k->produced >= k->max_out)
		return too_large(k->e, k->c, k->max_out);
	size_t want = out->cap - out->len < 65536 ? 65536 : 0;
	if (want && pf_buf_reserve(out, want) != 0)
		return pf_fail(k->e, PF_EXIT_INTERNAL, "out of memory decompressing %s data", compression_name(k->c));
	*room = out->cap - out->len;
	if (*room > k->max_out - k->produced) /* one byte past the bound tells a bomb */
		*room = k->max_out - k->produced + 1;
	return 0;
}

static void wrote(sink *k, size_t n)
{
	k->out->len += n;
	k->produced += n;
}

/* Go's gzip reader reads concatenated members and refuses anything else
 * after them; so does this. */
static int gunzip(const uint8_t *data, size_t len, sink *k)
{
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return pf_fail(k->e, PF_EXIT_INTERNAL, "out of memory starting gzip");
	size_t pos = 0, room;
	int rc = 0;
	while (rc == 0 && pos < len) {
		int z = inflateReset(&zs);
		zs.next_in = (Bytef *)(data + pos);
		zs.avail_in = (uInt)(len - pos > UINT32_MAX ? UINT32_MAX : len - pos);
		while (z != Z_STREAM_END && (rc = make_room(k, &room)) == 0) {
			zs.next_out = k->out->data + k->out->len;
			zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
			z = inflate(&zs, Z_NO_FLUSH);
			wrote(k, (size_t)(zs.next_out - (k->out->data + k->out->len)));
			if (z == Z_BUF_ERROR && zs.avail_in == 0)
				rc = pf_fail(k->e, PF_EXIT_DATA, "truncated gzip data at byte %zu", len);
			else if (z != Z_OK && z != Z_BUF_ERROR && z != Z_STREAM_END)
				rc = pf_fail(k->e, PF_EXIT_DATA, "corrupt gzip data near byte %zu: %s",
					     (size_t)(zs.next_in - data), zs.msg ? zs.msg : "corrupt data");
			if (rc != 0)
				break;
		}
		pos = (size_t)(zs.next_in - data);
		if (rc == 0 && k->produced > k->max_out)
			rc = too_large(k->e, PF_GZIP, k->max_out);
		else if (rc == 0 && pos < len && pf_detect_compression(data + pos, len - pos) != PF_GZIP)
			rc = pf_fail(k->e, PF_EXIT_DATA, "unexpected bytes after gzip data at byte %zu", pos);
	}
	inflateEnd(&zs);
	return rc;
}

static int unzstd(const uint8_t *data, size_t len, sink *k)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		return pf_fail(k->e, PF_EXIT_INTERNAL, "out of memory starting zstd");
	size_t hint = 1, room;
	int rc = 0;
	ZSTD_inBuffer in = {data, len, 0};
	/* Until the input is read and the decoder holds nothing more: a hint
	 * left non-zero when nothing more comes out means the last frame did
	 * not end. */
	while (rc == 0 && (in.pos < in.size || hint != 0) && (rc = make_room(k, &room)) == 0) {
		size_t had = in.pos;
		ZSTD_outBuffer ob = {k->out->data + k->out->len, room, 0};
		hint = ZSTD_decompressStream(ds, &ob, &in);
		if (ZSTD_isError(hint) && had < in.size)
			rc = pf_fail(k->e, PF_EXIT_DATA, "corrupt zstd data near byte %zu: %s", in.pos,
				     ZSTD_getErrorName(hint));
		else if (ZSTD_isError(hint))
			rc = pf_fail(k->e, PF_EXIT_DATA, "corrupt zstd data: %s", ZSTD_getErrorName(hint));
		else if (wrote(k, ob.pos), k->produced > k->max_out)
			rc = too_large(k->e, PF_ZSTD, k->max_out);
		else if (ob.pos == 0 && had == in.size && hint != 0)
			rc = pf_fail(k->e, PF_EXIT_DATA, "truncated zstd data at byte %zu", len);
	}
	ZSTD_freeDStream(ds);
	return rc;
}

static int copy_raw(const uint8_t *data, size_t len, sink *k)
{
	if (len > k->max_out)
		return too_large(k->e, PF_RAW, k->max_out);
	if (pf_buf_append(k->out, data, len) != 0)
		return pf_fail(k->e, PF_EXIT_INTERNAL, "out of memory");
	return 0;
}

int pf_decompress(const uint8_t *data, size_t len, size_t max_out, pf_buf *out, pf_err *e)
{
	enum pf_compression c = pf_detect_compression(data, len);
	sink k = {.out = out, .max_out = max_out, .c = c, .e = e};
	return c == PF_GZIP ? gunzip(data, len, &k) : c == PF_ZSTD ? unzstd(data, len, &k) : copy_raw(data, len, &k);
}
