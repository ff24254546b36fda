/* compress.c: DEST's gzip stream, compressed in pieces on two cores when
 * it is large (as pigz does).
 *
 * A deflate stream can be cut and its pieces compressed apart: each
 * piece's compressor starts with the last 32 KiB before it as its
 * dictionary, so its matches reach back across the cut as one
 * compressor's would, and every piece but the last ends with a sync flush
 * (an empty stored block: byte-aligned and not final), so the raw deflate
 * streams concatenate into one valid stream. The CRC of the whole is the
 * pieces' CRCs combined. Where the cuts fall depends only on the length,
 * so the bytes do not depend on the machine or on which core compressed
 * which piece. zlib's own gzip wrapper is not used: the header and
 * trailer are written here, the same ten and eight bytes
 * deflateInit2(..., 15 + 16, ...) writes at this level on Unix.
 *
 * Two cores take the pieces in turn rather than a half each: deflate's
 * speed varies with the data (on the trimmed profile of `make bench` one
 * half took 35 ms, the other 65 ms), and with many pieces whichever core
 * is free takes the next. Measured on the 5 merged profiles of `make
 * bench`: 2.1 MB (-trim) took 0.048 s instead of 0.063 s in two halves and
 * zlib's 0.093 s in one stream, 12.5 MB (-trim=false) 0.20 s as in two
 * halves (zlib: 0.39 s); the files are within 0.02 % of zlib's size (1,000
 * bytes more or fewer). Pieces were pigz's default 128 KiB or more, at most
 * 32 of them; now 32 KiB or more, as long as the dictionary each starts
 * with, so that a trimmed profile under 256 KiB takes two cores too: the
 * real profile's 118 KB took 8.7 ms in one stream, 4.1 to 5.0 ms in three
 * pieces (best of 30; 16 KiB pieces were no faster), the 2.1 MB one the
 * same in 32 pieces as in 16. Sizes against zlib's one stream: +105 bytes
 * (0.18 %) on the 118 KB, -546 and +888 bytes on the 2.1 and 12.5 MB.
 *
 * pf_gzip_while lets the caller's thread do something else first (run.c:
 * the trimmed profile's edges) while the other core starts compressing,
 * even a single piece: the real profile's -trim run 24.3 to 22.5 ms (40
 * alternating runs), where the edges (0.8 ms) and the compression (4 to
 * 5 ms) had come one after the other. */
#include "compress.h"
#include "pipeline.h"

#include <stdatomic.h>
#include <string.h>
#include <zlib.h>

enum {
	LEVEL = 6,                           /* zlib's default */
	WINDOW = 32 * 1024,                  /* deflate's window: each piece's dictionary */
	PIECE_MIN = PF_GZIP_PIECES_FROM / 2, /* two pieces at least */
	PIECES_MAX = 32,                     /* enough for two cores to finish together */
};
_Static_assert(PIECE_MIN >= WINDOW, "a piece at least as long as the dictionary it starts with");

typedef struct {
	size_t off, len;
	pf_buf out;
	uLong crc;
} piece;

/* The pieces, and which one is next for whichever core is free. */
typedef struct {
	const uint8_t *data;
	piece pieces[PIECES_MAX];
	size_t n;
	atomic_size_t next;
	atomic_bool failed; /* the other core stops taking pieces */
} pieces;

static int gzip_oom(pf_err *e) { return pf_fail(e, PF_EXIT_INTERNAL, "out of memory compressing the profile"); }

static int deflate_piece(z_stream *zs, const pieces *w, piece *c, bool last, pf_err *e)
{
	const uint8_t *in = w->data ? w->data + c->off : NULL; /* no profile: NULL, length 0 */
	size_t dict = c->off < WINDOW ? c->off : WINDOW;
	/* deflateBound covers Z_FINISH; a sync flush adds at most 5 bytes of empty stored block. */
	size_t bound = deflateBound(zs, (uLong)c->len) + 16;
	if (deflateReset(zs) != Z_OK || (dict && deflateSetDictionary(zs, in - dict, (uInt)dict) != Z_OK) ||
	    pf_buf_reserve(&c->out, bound) != 0)
		return gzip_oom(e);
	zs->next_in = (Bytef *)in;
	zs->avail_in = (uInt)c->len;
	zs->next_out = c->out.data;
	zs->avail_out = (uInt)bound;
	int rc = deflate(zs, last ? Z_FINISH : Z_SYNC_FLUSH);
	c->out.len = bound - zs->avail_out;
	if (rc != (last ? Z_STREAM_END : Z_OK) || zs->avail_in != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "gzip compression failed");
	c->crc = crc32_z(0, in, c->len);
	return 0;
}

/* One core's share: the next piece no core has taken, until none is left. */
static int deflate_pieces(void *arg, pf_err *e)
{
	pieces *w = arg;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, LEVEL, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		atomic_store(&w->failed, true);
		return gzip_oom(e);
	}
	int rc = 0;
	for (size_t i; rc == 0 && !atomic_load(&w->failed) && (i = atomic_fetch_add(&w->next, 1)) < w->n;) {
		rc = deflate_piece(&zs, w, &w->pieces[i], i + 1 == w->n, e);
		if (rc != 0)
			atomic_store(&w->failed, true);
	}
	deflateEnd(&zs);
	return rc;
}

/* Cuts at the same places for the same length: PIECE_MIN or more each. */
static void cut(pieces *w, size_t len)
{
	size_t n = len < PF_GZIP_PIECES_FROM ? 1 : len / PIECE_MIN;
	w->n = n < PIECES_MAX ? n : PIECES_MAX;
	for (size_t i = 0; i < w->n; i++) {
		w->pieces[i].off = len * i / w->n;
		w->pieces[i].len = len * (i + 1) / w->n - w->pieces[i].off;
	}
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int pf_gzip(const uint8_t *data, size_t len, pf_buf *out, pf_err *e)
{
	return pf_gzip_while(data, len, out, NULL, NULL, e);
}

int pf_gzip_while(const uint8_t *data, size_t len, pf_buf *out, pf_job_fn meanwhile, void *arg, pf_err *e)
{
	/* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 (level 6) OS=3 (Unix) */
	static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
	if (len > UINT32_MAX) /* zlib counts a piece's bytes in uInt; pieces are cut from up to 4 GiB */
		return pf_fail(e, PF_EXIT_DATA, "the profile to write is over 4 GiB, more than pgofetch compresses");
	pieces w = {.data = data};
	atomic_init(&w.next, 0);
	atomic_init(&w.failed, false);
	cut(&w, len);
	pf_job job = {0};
	if (w.n > 1 || meanwhile)
		pf_job_start(&job, deflate_pieces, &w);
	int rc = meanwhile ? meanwhile(arg, e) : 0;
	bool meanwhile_failed = rc != 0;
	if (meanwhile_failed)
		atomic_store(&w.failed, true);
	else
		rc = deflate_pieces(&w, e);
	pf_err later = {0}; /* meanwhile's error comes first: the other core's does not count */
	if (pf_job_wait(&job, meanwhile_failed ? &later : e) != 0)
		rc = -1;
	uLong crc = w.pieces[0].crc;
	for (size_t i = 1; i < w.n; i++)
		crc = crc32_combine(crc, w.pieces[i].crc, (z_off_t)w.pieces[i].len);
	uint8_t trailer[8];
	put_le32(trailer, (uint32_t)crc);
	put_le32(trailer + 4, (uint32_t)len); /* ISIZE: the length modulo 2^32 */
	if (rc == 0 && pf_buf_append(out, header, sizeof header) != 0)
		rc = gzip_oom(e);
	for (size_t i = 0; rc == 0 && i < w.n; i++)
		if (pf_buf_append(out, w.pieces[i].out.data, w.pieces[i].out.len) != 0)
			rc = gzip_oom(e);
	if (rc == 0 && pf_buf_append(out, trailer, sizeof trailer) != 0)
		rc = gzip_oom(e);
	for (size_t i = 0; i < w.n; i++)
		pf_buf_free(&w.pieces[i].out);
	return rc;
}
