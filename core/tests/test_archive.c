/* ZIP reading and gzip/zstd decompression, on fixtures (data/README.md)
 * and on streams made here with zlib and libzstd. */
#include "check.h"
#include "fixture.h"
#include "buf.h"
#include "compress.h"
#include "decompress.h"
#include "zipread.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>
#include <zstd.h>

static bool has_repeats(const pf_buf *b, const char *unit, size_t times)
{
	size_t ul = strlen(unit);
	if (b->len != ul * times)
		return false;
	for (size_t i = 0; i < times; i++)
		if (memcmp(b->data + i * ul, unit, ul) != 0)
			return false;
	return true;
}

static void zip_good(void)
{
	pf_buf a = slurp("data/two.zip");
	pf_zip z;
	pf_err e = {0};
	CHECK(pf_is_zip(a.data, a.len));
	CHECK_EQ_INT(pf_zip_open(a.data, a.len, &z, &e), 0);
	CHECK_EQ_INT(z.n, 2); /* the directory entry is left out */
	if (z.n == 2) {
		CHECK_EQ_STR(z.entries[0].name, "alpha");
		CHECK_EQ_STR(z.entries[1].name, "beta");
		CHECK_EQ_INT(z.entries[0].method, 0);
		CHECK_EQ_INT(z.entries[1].method, 8);
		pf_buf out = {0};
		CHECK_EQ_INT(pf_zip_extract(&z.entries[0], 1 << 20, &out, &e), 0);
		CHECK(has_repeats(&out, "first entry ", 50));
		out.len = 0;
		CHECK_EQ_INT(pf_zip_extract(&z.entries[1], 1 << 20, &out, &e), 0);
		CHECK(has_repeats(&out, "second entry ", 50));
		out.len = 0;
		CHECK_EQ_INT(pf_zip_extract(&z.entries[1], 100, &out, &e), -1);
		CHECK(strstr(e.msg, "larger than 100 bytes") != NULL);
		pf_buf_free(&out);
	}
	pf_zip_close(&z);
	pf_buf_free(&a);

	a = slurp("data/empty.zip");
	e = (pf_err){0};
	CHECK(pf_is_zip(a.data, a.len));
	CHECK_EQ_INT(pf_zip_open(a.data, a.len, &z, &e), 0);
	CHECK_EQ_INT(z.n, 0);
	pf_zip_close(&z);
	pf_buf_free(&a);
}

/* Opens path and extracts every entry; returns the first error's text. */
static const char *zip_error(const char *path, pf_err *e)
{
	pf_buf a = slurp(path), out = {0};
	pf_zip z;
	*e = (pf_err){0};
	if (pf_zip_open(a.data, a.len, &z, e) == 0) {
		for (size_t i = 0; i < z.n && e->code == 0; i++)
			pf_zip_extract(&z.entries[i], 1 << 20, &out, e);
		pf_zip_close(&z);
	}
	pf_buf_free(&out);
	pf_buf_free(&a);
	return e->code ? e->msg : "";
}

static void zip_bad(void)
{
	pf_err e;
	CHECK(strstr(zip_error("data/badcrc.zip", &e), "\"alpha\" fails its CRC-32 check") != NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	CHECK(strstr(zip_error("data/truncated.zip", &e), "no end of central directory") != NULL);
	CHECK(strstr(zip_error("data/bzip2.zip", &e), "unsupported compression method 12") != NULL);
	CHECK(strstr(zip_error("data/baddeflate.zip", &e), "\"beta\"") != NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	/* every prefix of a good archive is refused cleanly, never read past */
	pf_buf a = slurp("data/two.zip");
	for (size_t n = 0; n < a.len; n++) {
		pf_zip z;
		e = (pf_err){0};
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, a.data, n);
		if (pf_zip_open(copy, n, &z, &e) == 0) {
			pf_buf out = {0};
			for (size_t i = 0; i < z.n; i++)
				pf_zip_extract(&z.entries[i], 1 << 20, &out, &e);
			pf_buf_free(&out);
			pf_zip_close(&z);
		}
		CHECK(e.code == PF_EXIT_DATA);
		free(copy);
	}
	pf_buf_free(&a);
}

static pf_buf gzip_of(const char *s)
{
	pf_buf b = {0};
	pf_err e = {0};
	pf_gzip((const uint8_t *)s, strlen(s), &b, &e);
	return b;
}

static void gzip_cases(void)
{
	pf_err e = {0};
	pf_buf one = gzip_of("hello "), two = gzip_of("world"), out = {0};
	CHECK_EQ_INT(pf_detect_compression(one.data, one.len), PF_GZIP);
	/* zero mtime in the header: equal input, equal bytes */
	CHECK(one.data[4] == 0 && one.data[5] == 0 && one.data[6] == 0 && one.data[7] == 0);
	pf_buf both = {0};
	pf_buf_append(&both, one.data, one.len);
	pf_buf_append(&both, two.data, two.len);
	CHECK_EQ_INT(pf_decompress(both.data, both.len, 1 << 20, &out, &e), 0);
	CHECK(out.len == 11 && memcmp(out.data, "hello world", 11) == 0);

	out.len = 0;
	e = (pf_err){0};
	CHECK_EQ_INT(pf_decompress(one.data, one.len - 3, 1 << 20, &out, &e), -1);
	CHECK(strstr(e.msg, "truncated gzip") != NULL);

	out.len = 0;
	e = (pf_err){0};
	one.data[one.len - 5] ^= 1; /* CRC */
	CHECK_EQ_INT(pf_decompress(one.data, one.len, 1 << 20, &out, &e), -1);
	CHECK(strstr(e.msg, "corrupt gzip") != NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);

	out.len = 0;
	e = (pf_err){0};
	pf_buf_append(&two, "junk", 4);
	CHECK_EQ_INT(pf_decompress(two.data, two.len, 1 << 20, &out, &e), -1);
	CHECK(strstr(e.msg, "unexpected bytes after gzip") != NULL);
	pf_buf_free(&one);
	pf_buf_free(&two);
	pf_buf_free(&both);
	pf_buf_free(&out);
}

static void bombs(void)
{
	size_t big = 10u << 20;
	char *zeros = calloc(1, big + 1);
	memset(zeros, 'a', big);
	pf_buf gz = gzip_of(zeros), out = {0};
	pf_err e = {0};
	CHECK(gz.len < 100000);
	CHECK_EQ_INT(pf_decompress(gz.data, gz.len, 1 << 20, &out, &e), PF_TOO_LARGE);
	CHECK(strstr(e.msg, "more than the 1048576 bytes left of -limit bytes") != NULL);
	CHECK(out.len <= (1u << 20) + 65536 + 1);

	size_t bound = ZSTD_compressBound(big);
	uint8_t *zs = malloc(bound);
	size_t zn = ZSTD_compress(zs, bound, zeros, big, 1);
	out.len = 0;
	e = (pf_err){0};
	CHECK_EQ_INT(pf_decompress(zs, zn, 1 << 20, &out, &e), PF_TOO_LARGE);
	CHECK(strstr(e.msg, "more than the 1048576 bytes left of -limit bytes") != NULL);
	out.len = 0;
	e = (pf_err){0};
	CHECK_EQ_INT(pf_decompress((const uint8_t *)zeros, 2000, 1999, &out, &e), PF_TOO_LARGE);
	CHECK(strstr(e.msg, "profile is larger than the 1999 bytes left of -limit bytes") != NULL);
	out.len = 0;
	e = (pf_err){0};
	CHECK_EQ_INT(pf_decompress(zs, zn, big, &out, &e), 0);
	CHECK(out.len == big && memcmp(out.data, zeros, big) == 0);
	free(zs);
	free(zeros);
	pf_buf_free(&gz);
	pf_buf_free(&out);
}

static void zstd_cases(void)
{
	const char *text = "a zstd-compressed profile, or so it says";
	uint8_t frame[256];
	size_t n = ZSTD_compress(frame, sizeof frame, text, strlen(text), 3);
	pf_buf out = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_detect_compression(frame, n), PF_ZSTD);
	CHECK_EQ_INT(pf_decompress(frame, n, 1 << 20, &out, &e), 0);
	CHECK(out.len == strlen(text) && memcmp(out.data, text, out.len) == 0);
	for (size_t cut = 4; cut < n; cut++) {
		out.len = 0;
		e = (pf_err){0};
		CHECK_EQ_INT(pf_decompress(frame, cut, 1 << 20, &out, &e), -1);
		CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	}
	out.len = 0;
	e = (pf_err){0};
	CHECK_EQ_INT(pf_decompress((const uint8_t *)"raw", 3, 1 << 20, &out, &e), 0);
	CHECK(out.len == 3);
	pf_buf_free(&out);
}

int main(void)
{
	zip_good();
	zip_bad();
	gzip_cases();
	zstd_cases();
	bombs();
	return check_report("test_archive");
}
