/* compress.c: DEST's gzip stream, zlib's own, in one call. */
#include "compress.h"

#include <string.h>
#include <zlib.h>

static int gzip_oom(pf_err *e) { return pf_fail(e, PF_EXIT_INTERNAL, "out of memory compressing the profile"); }

int pf_gzip(const uint8_t *data, size_t len, pf_buf *out, pf_err *e)
{
	if (len > UINT32_MAX) /* zlib counts one call's input in uInt */
		return pf_fail(e, PF_EXIT_DATA, "the profile to write is over 4 GiB, more than pgofetch compresses");
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	/* Level 1, as runtime/pprof writes: on merged benchmark profiles level 6
	 * cost a sixth of the run's CPU for 7% fewer bytes (bench/). 15 + 16:
	 * a gzip header and trailer; zlib leaves the mtime 0. */
	if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return gzip_oom(e);
	size_t bound = deflateBound(&zs, (uLong)len);
	int rc = pf_buf_reserve(out, bound) != 0 ? gzip_oom(e) : 0;
	if (rc == 0) {
		zs.next_in = (Bytef *)data;
		zs.avail_in = (uInt)len;
		zs.next_out = out->data + out->len;
		zs.avail_out = (uInt)bound;
		int zrc = deflate(&zs, Z_FINISH);
		if (zrc == Z_STREAM_END)
			out->len += bound - zs.avail_out;
		else
			rc = zrc == Z_MEM_ERROR ? gzip_oom(e) : pf_fail(e, PF_EXIT_INTERNAL, "gzip compression failed");
	}
	deflateEnd(&zs);
	return rc;
}
