/* Reading a ZIP as it arrives (zipstream.c), against reading it whole
 * (source.c, zipread.c): archives as Go's archive/zip writes them (data
 * descriptors after stored and deflated entries), as Python's zipfile
 * writes them (the fixtures: sizes in the local headers), and damaged or
 * crafted ones, fed in pieces of every size from 1 byte up. Either way
 * must hand over the same entries, or both refuse; where they part is
 * where the stream must refuse what it cannot check (named below). Then
 * a retried answer, the limits, and every allocation failing in turn. */
#include "check.h"
#include "fixture.h"
#include "buf.h"
#include "limits.h"
#include "source.h"
#include "zipstream.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "failalloc.h"

enum layout { SIZES_FIRST, DESCRIPTOR, DESCRIPTOR_NO_SIGNATURE };

typedef struct {
	const char *name;
	const char *text; /* repeated `times` times */
	size_t times;
	size_t textlen;   /* of text, when it holds NUL bytes; else 0 */
	int method; /* 0 stored, 8 deflated */
	enum layout layout;
} spec;

#define ENTRY(name, text, times, method, layout) {name, text, times, 0, method, layout}

static void put16(pf_buf *b, unsigned v)
{
	uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
	pf_buf_append(b, p, 2);
}

static void put32(pf_buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

static pf_buf repeat(const char *text, size_t len, size_t times)
{
	pf_buf b = {0};
	for (size_t i = 0; i < times; i++)
		pf_buf_append(&b, text, len);
	return b;
}

static pf_buf deflate_raw(const pf_buf *in)
{
	pf_buf out = {0};
	z_stream z = {0};
	deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	pf_buf_reserve(&out, deflateBound(&z, in->len));
	z.next_in = in->data;
	z.avail_in = (uInt)in->len;
	z.next_out = out.data;
	z.avail_out = (uInt)out.cap;
	deflate(&z, Z_FINISH);
	out.len = out.cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

/* An archive of the entries, its directory listing them in order or,
 * when `reversed`, backwards. */
static pf_buf make_zip(const spec *s, size_t n, bool reversed)
{
	pf_buf zip = {0}, dir = {0};
	uint32_t offsets[16], crcs[16], csizes[16], usizes[16];
	for (size_t i = 0; i < n; i++) {
		pf_buf raw = repeat(s[i].text, s[i].textlen ? s[i].textlen : strlen(s[i].text), s[i].times);
		pf_buf stored = s[i].method == 8 ? deflate_raw(&raw) : raw;
		bool after = s[i].layout != SIZES_FIRST;
		offsets[i] = (uint32_t)zip.len;
		crcs[i] = (uint32_t)crc32(0, raw.data, (uInt)raw.len);
		csizes[i] = (uint32_t)stored.len;
		usizes[i] = (uint32_t)raw.len;
		put32(&zip, 0x04034b50);
		put16(&zip, 20);
		put16(&zip, after ? 8 : 0);
		put16(&zip, (unsigned)s[i].method);
		put32(&zip, 0); /* time, date */
		put32(&zip, after ? 0 : crcs[i]);
		put32(&zip, after ? 0 : csizes[i]);
		put32(&zip, after ? 0 : usizes[i]);
		put16(&zip, (unsigned)strlen(s[i].name));
		put16(&zip, 0);
		pf_buf_append(&zip, s[i].name, strlen(s[i].name));
		pf_buf_append(&zip, stored.data, stored.len);
		if (s[i].layout == DESCRIPTOR)
			put32(&zip, 0x08074b50);
		if (after) {
			put32(&zip, crcs[i]);
			put32(&zip, csizes[i]);
			put32(&zip, usizes[i]);
		}
		if (stored.data != raw.data)
			pf_buf_free(&stored);
		pf_buf_free(&raw);
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = reversed ? n - 1 - k : k;
		put32(&dir, 0x02014b50);
		put16(&dir, 20);
		put16(&dir, 20);
		put16(&dir, s[i].layout != SIZES_FIRST ? 8 : 0);
		put16(&dir, (unsigned)s[i].method);
		put32(&dir, 0);
		put32(&dir, crcs[i]);
		put32(&dir, csizes[i]);
		put32(&dir, usizes[i]);
		put16(&dir, (unsigned)strlen(s[i].name));
		put32(&dir, 0); /* extra, comment lengths */
		put32(&dir, 0); /* disk, internal attributes */
		put32(&dir, 0); /* external attributes */
		put32(&dir, offsets[i]);
		pf_buf_append(&dir, s[i].name, strlen(s[i].name));
	}
	uint32_t cd = (uint32_t)zip.len;
	pf_buf_append(&zip, dir.data, dir.len);
	put32(&zip, 0x06054b50);
	put32(&zip, 0);
	put16(&zip, (unsigned)n);
	put16(&zip, (unsigned)n);
	put32(&zip, (uint32_t)dir.len);
	put32(&zip, cd);
	put16(&zip, 0);
	pf_buf_free(&dir);
	return zip;
}

/* What a sink received: names and bytes, one after the other. */
typedef struct {
	pf_buf seen;
	size_t n;
	size_t rooms;  /* calls to make room, each before a profile's bytes are read */
	bool unasked;  /* a profile came without room made for it */
	int fail_at;   /* the sink refuses its nth profile (from 1); 0: never */
	int fail_room; /* the sink refuses its nth call to make room */
} got;

static int collect(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	got *g = ctx;
	(void)origin;
	if (!data) {
		if (++g->rooms == (size_t)g->fail_room)
			return pf_fail(e, PF_EXIT_DATA, "no room");
		return 0;
	}
	g->unasked |= g->rooms <= g->n;
	if (++g->n == (size_t)g->fail_at)
		return pf_fail(e, PF_EXIT_DATA, "the sink refused %s", entry ? entry : "it");
	char head[64];
	snprintf(head, sizeof head, "[%s:%zu]", entry ? entry : "-", data->len);
	if (pf_buf_append(&g->seen, head, strlen(head)) != 0 || pf_buf_append(&g->seen, data->data, data->len) != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	return 0;
}

static pf_limits limits(pf_limit_set *max)
{
	pf_limits_default(max);
	return (pf_limits){.max = max};
}

static int read_whole(const pf_buf *zip, const pf_limits *lim, got *g, pf_err *e)
{
	pf_buf copy = {0};
	pf_buf_append(&copy, zip->data, zip->len);
	int rc = pf_feed_bytes("answer", &copy, lim, collect, g, e);
	pf_buf_free(&copy);
	return rc;
}

static int read_stream(const pf_buf *zip, size_t piece, const pf_limits *lim, got *g, pf_err *e)
{
	pf_zipstream *zs = pf_zipstream_new("answer", lim, collect, g);
	if (!zs)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int rc = pf_zipstream_begin(zs);
	for (size_t at = 0; rc == 0 && at < zip->len; at += piece)
		rc = pf_zipstream_feed(zs, zip->data + at, zip->len - at < piece ? zip->len - at : piece);
	rc = pf_zipstream_finish(zs, e);
	pf_zipstream_free(zs);
	return rc;
}

static bool same_got(const got *a, const got *b)
{
	return a->n == b->n && a->seen.len == b->seen.len &&
	       (a->seen.len == 0 || memcmp(a->seen.data, b->seen.data, a->seen.len) == 0);
}

/* Reads zip whole and in pieces of 1 to 40 bytes, and at once; every
 * reading must agree with the whole one (the same entries, or the same
 * exit code). Returns the whole reading's error text ("" when none). */
static const char *agree(const pf_buf *zip, pf_err *whole_err)
{
	pf_limit_set max;
	pf_limits lim = limits(&max);
	got whole = {0};
	*whole_err = (pf_err){0};
	read_whole(zip, &lim, &whole, whole_err);
	size_t pieces[] = {1, 2, 3, 7, 16, 29, 40, 4096, zip->len ? zip->len : 1};
	for (size_t k = 0; k < sizeof pieces / sizeof *pieces; k++) {
		got g = {0};
		pf_err e = {0};
		read_stream(zip, pieces[k], &lim, &g, &e);
		CHECK_EQ_INT(e.code, whole_err->code);
		if (e.code == 0 && !same_got(&g, &whole))
			fprintf(stderr, "piece %zu: entries differ\n", pieces[k]);
		CHECK(e.code != 0 || same_got(&g, &whole));
		pf_buf_free(&g.seen);
	}
	pf_buf_free(&whole.seen);
	return whole_err->code ? whole_err->msg : "";
}

/* The fixtures: sizes in the local headers, a directory entry (from
 * which on the stream keeps the rest for the directory), damage. */
static void fixtures(void)
{
	const char *files[] = {"data/two.zip", "data/empty.zip", "data/badcrc.zip", "data/truncated.zip",
			       "data/bzip2.zip", "data/baddeflate.zip"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		pf_buf zip = slurp(files[i]);
		pf_err e;
		CHECK(zip.len > 0);
		agree(&zip, &e);
		pf_buf_free(&zip);
	}
}

/* Go's layout, a descriptor after each entry's data, stored and deflated;
 * without its signature; sizes first; mixed. */
static void layouts(void)
{
	const spec go[] = {ENTRY("first", "alpha ", 300, 0, DESCRIPTOR), ENTRY("second", "beta ", 500, 8, DESCRIPTOR),
			   ENTRY("third", "gamma ", 1, 0, DESCRIPTOR), ENTRY("empty", "", 0, 0, DESCRIPTOR),
			   ENTRY("fifth", "delta ", 2000, 8, DESCRIPTOR)};
	const spec bare[] = {ENTRY("first", "alpha ", 300, 8, DESCRIPTOR_NO_SIGNATURE),
			     ENTRY("second", "beta ", 50, 0, DESCRIPTOR_NO_SIGNATURE),
			     ENTRY("third", "gamma ", 70, 0, SIZES_FIRST)};
	const spec mixed[] = {ENTRY("a", "x", 10, 0, SIZES_FIRST), ENTRY("b", "y", 10, 8, SIZES_FIRST),
			      ENTRY("c", "z", 10, 0, DESCRIPTOR), ENTRY("d", "w", 1000, 8, DESCRIPTOR_NO_SIGNATURE)};
	const struct {
		const spec *s;
		size_t n;
	} sets[] = {{go, 5}, {bare, 3}, {mixed, 4}, {go, 0}};
	for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
		pf_buf zip = make_zip(sets[i].s, sets[i].n, false);
		pf_err e;
		CHECK_EQ_STR(agree(&zip, &e), "");
		pf_buf_free(&zip);
	}
	/* Go's layout is read as it comes: room is made before each entry */
	pf_buf zip = make_zip(go, 5, false);
	pf_limit_set max;
	pf_limits lim = limits(&max);
	got g = {0};
	pf_err e = {0};
	CHECK_EQ_INT(read_stream(&zip, 13, &lim, &g, &e), 0);
	CHECK_EQ_INT(g.n, 5);
	CHECK_EQ_INT(g.rooms, 5);
	CHECK(!g.unasked);
	pf_buf_free(&g.seen);
	pf_buf_free(&zip);

	/* a stored entry holding what looks like a descriptor: the signature
	 * with wrong sizes, then with the right ones (5) and a wrong CRC-32 */
	static const char trap[] = "head PK\x07\x08\x01\x02\x03\x04\x05\0\0\0\x05\0\0\0 tail PK\x07\x08 end";
	const spec traps[] = {{"trap", trap, 3, sizeof trap - 1, 0, DESCRIPTOR}, ENTRY("next", "n", 5, 0, DESCRIPTOR)};
	zip = make_zip(traps, 2, false);
	CHECK_EQ_STR(agree(&zip, &e), "");
	pf_buf_free(&zip);
}

/* Every prefix of an archive in Go's layout is refused, none crashes
 * (from 4 bytes on: less is not a ZIP, and is one profile to the sink). */
static void prefixes(void)
{
	const spec go[] = {ENTRY("first", "alpha ", 30, 0, DESCRIPTOR), ENTRY("second", "beta ", 50, 8, DESCRIPTOR)};
	pf_buf zip = make_zip(go, 2, false);
	pf_limit_set max;
	pf_limits lim = limits(&max);
	for (size_t n = 4; n < zip.len; n++) {
		pf_buf cut = {0};
		pf_buf_append(&cut, zip.data, n);
		got g = {0};
		pf_err e = {0};
		read_stream(&cut, 5, &lim, &g, &e);
		CHECK_EQ_INT(e.code, PF_EXIT_DATA);
		pf_buf_free(&g.seen);
		pf_buf_free(&cut);
	}
	pf_buf_free(&zip);
}

/* Where the stream refuses what the whole reading takes: a directory
 * that lists the entries otherwise than they came, a descriptor that
 * does not match its entry. Neither comes from a ZIP writer. */
static void refusals(void)
{
	const spec go[] = {ENTRY("first", "alpha ", 30, 0, DESCRIPTOR), ENTRY("second", "beta ", 50, 8, DESCRIPTOR)};
	pf_limit_set max;
	pf_limits lim = limits(&max);
	pf_buf zip = make_zip(go, 2, true);
	got g = {0};
	pf_err e = {0};
	CHECK_EQ_INT(read_whole(&zip, &lim, &g, &e), 0);
	pf_buf_free(&g.seen);
	g = (got){0};
	CHECK_EQ_INT(read_stream(&zip, 7, &lim, &g, &e), -1);
	CHECK(strstr(e.msg, "answer: ZIP: the directory does not list entry 0 (\"first\") as it came") != NULL);
	pf_buf_free(&g.seen);
	pf_buf_free(&zip);

	/* A stored entry whose descriptor's CRC-32 is wrong: its end is not
	 * found, so the rest is kept and read from the directory, which has
	 * it right, as the whole reading does. */
	zip = make_zip(go, 2, false);
	size_t desc = 30 + 5 + 180 + 4; /* header, name, data, signature: the CRC-32 */
	zip.data[desc] ^= 1;
	pf_err whole;
	CHECK_EQ_STR(agree(&zip, &whole), "");
	/* the deflated entry's descriptor says one byte less */
	zip.data[desc] ^= 1;
	uint8_t *sig = NULL;
	for (size_t i = desc + 12 + 30; i + 4 <= zip.len; i++)
		if (memcmp(zip.data + i, "PK\x07\x08", 4) == 0) {
			sig = zip.data + i;
			break;
		}
	CHECK(sig != NULL);
	if (sig) {
		sig[12]--;
		g = (got){0};
		e = (pf_err){0};
		CHECK_EQ_INT(read_stream(&zip, 64, &lim, &g, &e), -1);
		CHECK(strstr(e.msg, "ZIP: entry \"second\": its data descriptor does not match its data") != NULL);
		CHECK_EQ_INT(g.n, 1);
		pf_buf_free(&g.seen);
	}
	pf_buf_free(&zip);
}

/* One profile, not a ZIP; an empty answer. */
static void not_zip(void)
{
	pf_buf one = repeat("not a zip ", 10, 20), empty = {0};
	pf_err e;
	CHECK_EQ_STR(agree(&one, &e), "");
	CHECK(strstr(agree(&empty, &e), "empty, not a profile") != NULL);
	pf_buf_free(&one);
}

/* An answer that broke off is fetched again: what came before is not
 * handed over twice, and must come again the same. */
static void retried(void)
{
	const spec go[] = {ENTRY("first", "alpha ", 300, 0, DESCRIPTOR), ENTRY("second", "beta ", 500, 8, DESCRIPTOR),
			   ENTRY("third", "gamma ", 100, 0, DESCRIPTOR)};
	pf_buf zip = make_zip(go, 3, false);
	pf_limit_set max;
	pf_limits lim = limits(&max);
	got once = {0};
	pf_err e = {0};
	CHECK_EQ_INT(read_stream(&zip, 100, &lim, &once, &e), 0);
	for (size_t cut = 1; cut < zip.len; cut += 97) {
		got g = {0};
		e = (pf_err){0};
		pf_zipstream *zs = pf_zipstream_new("answer", &lim, collect, &g);
		CHECK_EQ_INT(pf_zipstream_begin(zs), 0);
		CHECK_EQ_INT(pf_zipstream_feed(zs, zip.data, cut), 0);
		CHECK_EQ_INT(pf_zipstream_begin(zs), 0);
		CHECK_EQ_INT(pf_zipstream_feed(zs, zip.data, zip.len), 0);
		CHECK_EQ_INT(pf_zipstream_finish(zs, &e), 0);
		CHECK(same_got(&g, &once));
		pf_zipstream_free(zs);
		pf_buf_free(&g.seen);
	}
	/* the second attempt's first entry differs */
	const spec other[] = {ENTRY("first", "ALPHA ", 300, 0, DESCRIPTOR), ENTRY("second", "beta ", 500, 8, DESCRIPTOR)};
	pf_buf changed = make_zip(other, 2, false);
	got g = {0};
	e = (pf_err){0};
	pf_zipstream *zs = pf_zipstream_new("answer", &lim, collect, &g);
	pf_zipstream_begin(zs);
	pf_zipstream_feed(zs, zip.data, 1860); /* the first entry and its descriptor */
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_INT(pf_zipstream_begin(zs), 0);
	CHECK_EQ_INT(pf_zipstream_feed(zs, changed.data, changed.len), -1);
	CHECK_EQ_INT(pf_zipstream_finish(zs, &e), -1);
	CHECK(strstr(e.msg, "ZIP: entry 0 (\"first\") is not the one that came before the answer broke off") != NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_SOURCE);
	CHECK_EQ_INT(pf_zipstream_begin(zs), -1); /* the error stays */
	pf_zipstream_free(zs);
	pf_buf_free(&g.seen);
	pf_buf_free(&changed);
	pf_buf_free(&once.seen);
	pf_buf_free(&zip);
}

/* -limit zip-entries and source-bytes while streaming; the sink's error. */
static void limits_and_sink(void)
{
	const spec go[] = {ENTRY("first", "alpha ", 300, 0, DESCRIPTOR), ENTRY("second", "beta ", 500, 8, DESCRIPTOR),
			   ENTRY("third", "gamma ", 100, 0, SIZES_FIRST)};
	pf_buf zip = make_zip(go, 3, false);
	pf_limit_set max;
	pf_limits lim = limits(&max);
	max.zip_entries = 2;
	got g = {0};
	pf_err e = {0};
	CHECK_EQ_INT(read_stream(&zip, 50, &lim, &g, &e), -1);
	CHECK(strstr(e.msg, "answer: ZIP has more than -limit zip-entries=2 entries") != NULL);
	CHECK_EQ_INT(g.n, 2);
	pf_buf_free(&g.seen);
	for (size_t i = 0; i < 3; i++) { /* each layout's entry one byte over -limit source-bytes */
		pf_buf one = make_zip(&go[i], 1, false);
		pf_limits_default(&max);
		max.source_bytes = strlen(go[i].text) * go[i].times - 1;
		g = (got){0};
		e = (pf_err){0};
		CHECK_EQ_INT(read_stream(&one, 50, &lim, &g, &e), -1);
		CHECK(strstr(e.msg, "is larger than") != NULL);
		CHECK(strstr(e.msg, "(-limit source-bytes)") != NULL);
		CHECK_EQ_INT(e.code, PF_EXIT_DATA);
		CHECK_EQ_INT(g.n, 0);
		pf_buf_free(&g.seen);
		max.source_bytes++;
		g = (got){0};
		e = (pf_err){0};
		CHECK_EQ_INT(read_stream(&one, 50, &lim, &g, &e), 0);
		CHECK_EQ_INT(g.n, 1);
		pf_buf_free(&g.seen);
		pf_buf_free(&one);
	}
	pf_limits_default(&max);
	g = (got){.fail_at = 2};
	e = (pf_err){0};
	CHECK_EQ_INT(read_stream(&zip, 50, &lim, &g, &e), -1);
	CHECK_EQ_STR(e.msg, "the sink refused second");
	pf_buf_free(&g.seen);
	g = (got){.fail_room = 2}; /* no room for the second: it is not read */
	e = (pf_err){0};
	CHECK_EQ_INT(read_stream(&zip, 50, &lim, &g, &e), -1);
	CHECK_EQ_STR(e.msg, "no room");
	CHECK_EQ_INT(g.n, 1);
	pf_buf_free(&g.seen);
	pf_buf_free(&zip);
}

/* Every allocation fails in turn: each reading fails with
 * PF_EXIT_INTERNAL or succeeds, and leaves nothing allocated. */
static void out_of_memory(void)
{
#ifndef NO_INTERPOSE
	const spec go[] = {ENTRY("first", "alpha ", 300, 0, DESCRIPTOR), ENTRY("second", "beta ", 500, 8, DESCRIPTOR),
			   ENTRY("dir/", "", 0, 0, SIZES_FIRST), ENTRY("third", "gamma ", 100, 0, DESCRIPTOR)};
	pf_buf zip = make_zip(go, 4, false);
	pf_limit_set max;
	pf_limits lim = limits(&max);
	size_t failures = 0;
	for (long n = 0;; n++) {
		got g = {0};
		pf_err e = {0};
		alloc = (alloc_state){.armed = true, .fail_at = n};
		int rc = read_stream(&zip, 64, &lim, &g, &e);
		pf_buf_free(&g.seen);
		alloc.armed = false;
		if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0);
			break;
		}
		failures++;
		CHECK(rc == 0 || e.code == PF_EXIT_INTERNAL);
		CHECK_EQ_INT(alloc.live, 0);
	}
	CHECK(failures > 10);
	pf_buf_free(&zip);
#endif
}

int main(void)
{
	fixtures();
	layouts();
	prefixes();
	refusals();
	not_zip();
	retried();
	limits_and_sink();
	out_of_memory();
	return check_report("zipstream");
}
