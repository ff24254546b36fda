/* test_compress.c: pf_gzip. Its output must be one gzip stream that zlib
 * reads back whole, with zlib's own header; below the two-core size it is
 * zlib's single stream byte for byte; above it, each piece's dictionary
 * must let matches reach back across the cut. */
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

/* zlib's own gzip stream of data, as pgofetch wrote it before compressing on two cores. */
static int zlib_gzip(const uint8_t *data, size_t len, pf_buf *out)
{
	z_stream zs = {0};
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&zs, (uLong)len);
	if (pf_buf_reserve(out, bound) != 0)
		return -1;
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out->data;
	zs.avail_out = (uInt)bound;
	int rc = deflate(&zs, Z_FINISH);
	out->len = bound - zs.avail_out;
	deflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
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
	pf_buf gz = {0}, again = {0}, single = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_gzip(d, len, &gz, &e), 0);
	CHECK(gunzips_to(&gz, d, len));
	CHECK_EQ_INT(pf_gzip(d, len, &again, &e), 0);
	CHECK(gz.len == again.len && memcmp(gz.data, again.data, gz.len) == 0); /* the same bytes every time */
	CHECK_EQ_INT(zlib_gzip(d, len, &single), 0);
	CHECK(gz.len >= 10 && memcmp(gz.data, single.data, 10) == 0); /* zlib's header */
	if (len < PF_GZIP_PIECES_FROM)
		CHECK(gz.len == single.len && memcmp(gz.data, single.data, gz.len) == 0);
	else /* the dictionaries work: without them every piece restates the block */
		CHECK(gz.len < single.len + block / 4);
	pf_buf_free(&gz);
	pf_buf_free(&again);
	pf_buf_free(&single);
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

/* What pf_gzip_while's caller does meanwhile: counts its runs, and
 * allocates (so that an allocation failing there is tried too) or fails. */
typedef struct {
	int runs;
	bool fail;
} meanwhile_state;

static int meanwhile(void *arg, pf_err *e)
{
	meanwhile_state *m = arg;
	m->runs++;
	void *p = malloc(1000);
	free(p);
	if (!p)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory meanwhile");
	return m->fail ? pf_fail(e, PF_EXIT_DATA, "meanwhile refused") : 0;
}

/* pf_gzip's bytes, with meanwhile run once on the calling thread. */
static void gzip_while(size_t len)
{
	uint8_t *d = repeated_block(len, 16 * 1024);
	pf_buf gz = {0}, want = {0};
	pf_err e = {0};
	meanwhile_state m = {0};
	CHECK_EQ_INT(pf_gzip(d, len, &want, &e), 0);
	CHECK_EQ_INT(pf_gzip_while(d, len, &gz, meanwhile, &m, &e), 0);
	CHECK_EQ_INT(m.runs, 1);
	CHECK(gz.len == want.len && memcmp(gz.data, want.data, gz.len) == 0);
	pf_buf_free(&gz);
	pf_buf_free(&want);
	free(d);
}

/* meanwhile's error is the one returned, and nothing is appended. */
static void gzip_while_fails(size_t len)
{
	uint8_t *d = repeated_block(len, 16 * 1024);
	pf_buf out = {0};
	pf_err e = {0};
	meanwhile_state m = {.fail = true};
	pf_buf_append(&out, "prefix", 6);
	CHECK_EQ_INT(pf_gzip_while(d, len, &out, meanwhile, &m, &e), -1);
	CHECK_EQ_INT(m.runs, 1);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	CHECK_EQ_STR(e.msg, "meanwhile refused");
	CHECK_EQ_INT(out.len, 6);
	pf_buf_free(&out);
	free(d);
}

/* Which call out_of_memory makes: pf_gzip, or pf_gzip_while with a
 * meanwhile that succeeds or fails. */
enum gzip_call { PLAIN, WHILE, WHILE_FAILING };

/* Every allocation failing in turn, on either core (and meanwhile's):
 * an error, nothing leaked. When meanwhile fails too, its error is the
 * one returned, whatever failed on the other core. */
static void out_of_memory(enum gzip_call call)
{
#ifndef NO_INTERPOSE
	size_t len = 600 * 1024;
	uint8_t *d = repeated_block(len, 5000);
	for (long n = 0;; n++) {
		pf_buf gz = {0};
		pf_err e = {0};
		meanwhile_state m = {.fail = call == WHILE_FAILING};
		alloc = (alloc_state){.armed = true, .fail_at = n};
		int rc = call == PLAIN ? pf_gzip(d, len, &gz, &e) : pf_gzip_while(d, len, &gz, meanwhile, &m, &e);
		pf_buf_free(&gz);
		alloc.armed = false;
		CHECK_EQ_INT(alloc.live, 0);
		if (call == WHILE_FAILING) {
			CHECK_EQ_INT(rc, -1);
			CHECK(strstr(e.msg, "meanwhile") != NULL);
		} else if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0);
			CHECK(n > 2); /* both halves allocated something */
		} else {
			CHECK_EQ_INT(rc, -1);
			CHECK_EQ_INT(e.code, PF_EXIT_INTERNAL);
		}
		if (!alloc.failed)
			break;
	}
	free(d);
#else
	(void)call;
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
	/* one stream; two pieces; 3 pieces (on two cores, one takes two); 32
	 * (the most), of 96 KiB and more */
	size_t from = PF_GZIP_PIECES_FROM;
	size_t sizes[] = {0, 1, 1000, from - 1, from, from + 1, 3 * from / 2 + 7, 3 * 1024 * 1024 + 7};
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
		round_trips(sizes[i], 16 * 1024);
	appends();
	size_t whiles[] = {0, 1000, from + 1, 3 * 1024 * 1024 + 7};
	for (size_t i = 0; i < sizeof whiles / sizeof *whiles; i++) {
		gzip_while(whiles[i]);
		gzip_while_fails(whiles[i]);
	}
	out_of_memory(PLAIN);
	out_of_memory(WHILE);
	out_of_memory(WHILE_FAILING);
	over_4_gib();
	return check_report("compress");
}
