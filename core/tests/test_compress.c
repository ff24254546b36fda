/* test_compress.c: pf_gzip. Its output must be one gzip stream that zlib
 * reads back whole, the same bytes every time, with no mtime in it. */
#include "check.h"
#include "compress.h"
#include "failalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A block of pseudo-random bytes (incompressible on its own), repeated: a
 * single compressor stores the block once and refers back to it after. */
static uint8_t *repeated_block(size_t len, size_t block)
{
	uint8_t *d = malloc(len ? len : 1);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < len; i++) {
		if (i < block) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			d[i] = (uint8_t)(x >> 56);
		} else {
			d[i] = d[i - block];
		}
	}
	return d;
}

/* Whether gz is one gzip stream, nothing after it, whose content is want
 * (zlib checks the CRC and the length). */
static int gunzips_to(const pf_buf *gz, const uint8_t *want, size_t len)
{
	z_stream zs = {0};
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return 0;
	uint8_t *got = malloc(len + 1);
	zs.next_in = gz->data;
	zs.avail_in = (uInt)gz->len;
	zs.next_out = got;
	zs.avail_out = (uInt)len + 1;
	int rc = inflate(&zs, Z_FINISH);
	int ok = rc == Z_STREAM_END && zs.avail_in == 0 && zs.total_out == len && memcmp(got, want, len) == 0;
	inflateEnd(&zs);
	free(got);
	return ok;
}

static void round_trips(size_t len, size_t block)
{
	uint8_t *d = repeated_block(len, block);
	pf_buf gz = {0}, again = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_gzip(d, len, &gz, &e), 0);
	CHECK(gunzips_to(&gz, d, len));
	CHECK_EQ_INT(pf_gzip(d, len, &again, &e), 0);
	CHECK(gz.len == again.len && memcmp(gz.data, again.data, gz.len) == 0); /* the same bytes every time */
	static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3}; /* no name, mtime 0, fastest, Unix */
	CHECK(gz.len >= 10 && memcmp(gz.data, header, 10) == 0);
	if (len > 4 * block) /* matches reach back to the block's first copy */
		CHECK(gz.len < block + len / 50);
	pf_buf_free(&gz);
	pf_buf_free(&again);
	free(d);
}

/* Appends after what out holds already. */
static void appends(void)
{
	uint8_t *d = repeated_block(300 * 1024, 1000);
	pf_buf out = {0};
	pf_err e = {0};
	pf_buf_append(&out, "prefix", 6);
	CHECK_EQ_INT(pf_gzip(d, 300 * 1024, &out, &e), 0);
	CHECK(memcmp(out.data, "prefix", 6) == 0);
	pf_buf rest = {out.data + 6, out.len - 6, out.len - 6};
	CHECK(gunzips_to(&rest, d, 300 * 1024));
	pf_buf_free(&out);
	free(d);
}

/* Every allocation failing in turn: an error, nothing leaked. */
static void out_of_memory(void)
{
#ifndef NO_INTERPOSE
	size_t len = 600 * 1024;
	uint8_t *d = repeated_block(len, 5000);
	for (long n = 0;; n++) {
		pf_buf gz = {0};
		pf_err e = {0};
		alloc = (alloc_state){.armed = true, .fail_at = n};
		int rc = pf_gzip(d, len, &gz, &e);
		pf_buf_free(&gz);
		alloc.armed = false;
		CHECK_EQ_INT(alloc.live, 0);
		if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0);
			CHECK(n > 1); /* zlib's state and the output */
		} else {
			CHECK_EQ_INT(rc, -1);
			CHECK_EQ_INT(e.code, PF_EXIT_INTERNAL);
		}
		if (!alloc.failed)
			break;
	}
	free(d);
#endif
}

/* Refused before a byte is read: zlib counts in 32 bits. */
static void over_4_gib(void)
{
	pf_buf gz = {0};
	pf_err e = {0};
	static const uint8_t one[1];
	CHECK_EQ_INT(pf_gzip(one, (size_t)UINT32_MAX + 1, &gz, &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	CHECK(strstr(e.msg, "over 4 GiB") != NULL);
	CHECK_EQ_INT(gz.len, 0);
}

int main(void)
{
	size_t sizes[] = {0, 1, 1000, 64 * 1024, 3 * 1024 * 1024 + 7};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		round_trips(sizes[i], 16 * 1024);
	appends();
	out_of_memory();
	over_4_gib();
	return check_report("compress");
}
