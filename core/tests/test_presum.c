/* pf_presum: repeated samples summed and dropped as the bytes come, then
 * decoded, give what decoding the whole bytes to be merged gives
 * (presum_check.h), on profiles built by hand for each rule and on many
 * generated ones, good and bad, taken in pieces of every size; what it
 * drops, it drops (the bytes left shrink); through pf_decompress_into the
 * -limit bound counts the dropped bytes, and the input goes back. */
#include "check.h"
#include "decompress.h"
#include "failalloc.h"
#include "fixture.h"
#include "presum_check.h"
#include "test_pprof_wire.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

enum { F_SAMPLE_TYPE = 1, F_SAMPLE, F_MAPPING, F_LOCATION, F_FUNCTION, F_STRING };

static const size_t pieces[] = {1, 2, 3, 7, 64, 4096, SIZE_MAX};

/* Whether b decodes alike presummed in every piece size, as the first
 * profile and not. */
static bool agrees(const pf_buf *b)
{
	bool ok = true;
	for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++)
		ok &= presum_agrees(b, pieces[i], i % 2 == 0, NULL);
	return ok;
}

/* ---- profiles built by hand ---- */

static const char *const base_strings[] = {"", "samples", "count", "cpu", "nanoseconds", "main.f", "main.go",
					   "span id", "a", "b"};
enum { NSTRINGS = 10, S_SPAN = 7, S_A = 8, S_B = 9 };

/* Two sample types, functions 1 and 2, locations 1 to 3. */
static void header(pf_buf *b)
{
	pb_pair(b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(b, F_SAMPLE_TYPE, 1, 3, 2, 4);
}

static void entities(pf_buf *b)
{
	pf_buf m = {0};
	for (uint64_t id = 1; id <= 2; id++) {
		pb_u(&m, 1, id);
		pb_u(&m, 2, 5);
		pb_u(&m, 4, 6);
		pb_msg(b, F_FUNCTION, &m);
	}
	for (uint64_t id = 1; id <= 3; id++) {
		pb_u(&m, 1, id);
		pb_u(&m, 3, 0x1000 * id);
		pb_pair(&m, 4, 1, 1 + id % 2, 2, 10 * id);
		pb_msg(b, F_LOCATION, &m);
	}
}

static void strings(pf_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb_str(b, F_STRING, base_strings[i]);
}

/* What Go writes after the samples: the entities, then the strings. */
static void after_samples(pf_buf *b)
{
	entities(b);
	strings(b, NSTRINGS);
}

/* A sample of stack locs (n ids), values v0 and v1, and a string label
 * "span id" = str when str is not 0. */
static void sample(pf_buf *b, const uint64_t *locs, size_t n, uint64_t v0, uint64_t v1, uint64_t str)
{
	pf_buf m = {0};
	pb_packed(&m, 1, locs, n);
	pb_packed(&m, 2, (const uint64_t[]){v0, v1}, 2);
	if (str)
		pb_pair(&m, 3, 1, S_SPAN, 2, str);
	pb_msg(b, F_SAMPLE, &m);
}

static const uint64_t st1[] = {1, 2}, st2[] = {2, 3, 1}, st3[] = {3};

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? rng_state % n : 0;
}

/* Samples first, then entities and strings, as Go writes them; with
 * noise, the second values are random (the bytes then compress less). */
static void go_layout_noisy(pf_buf *b, int repeats, bool noise)
{
	header(b);
	rng_state = 7;
	for (int i = 0; i < repeats; i++) {
		sample(b, st1, 2, 1, noise ? 1 + rnd(1u << 30) : 10, i % 2 ? S_A : S_B);
		sample(b, st2, 3, 2, noise ? 1 + rnd(1u << 30) : 20, 0);
		sample(b, st3, 1, 3, noise ? 1 + rnd(1u << 30) : 30, S_A);
	}
	after_samples(b);
}

static void go_layout(pf_buf *b, int repeats) { go_layout_noisy(b, repeats, false); }

static pf_profile *decoded(const pf_buf *b, size_t piece, size_t *kept, pf_err *e)
{
	*e = (pf_err){0};
	return presummed(b, piece, false, kept, e);
}

static void test_repeats_summed_and_dropped(void)
{
	pf_buf b = {0};
	go_layout(&b, 100);
	CHECK(agrees(&b));
	pf_err e;
	size_t kept = 0;
	pf_profile *p = decoded(&b, 100, &kept, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_INT(p->nsamples, 3);
		CHECK_EQ_INT(p->nsamples_read, 300);
		CHECK_EQ_INT(p->values[p->samples[0].values], 100);
		CHECK_EQ_INT(p->values[p->samples[0].values + 1], 1000);
		CHECK_EQ_INT(p->values[p->samples[2].values + 1], 3000);
	}
	pf_profile_free(p);
	/* Three samples' bytes kept of 300: the rest went. */
	CHECK(kept > 0 && kept < b.len / 10);
	pf_buf_free(&b);

	/* Without repeats nothing goes. */
	header(&b);
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st2, 3, 1, 1, 0);
	after_samples(&b);
	CHECK(agrees(&b));
	p = decoded(&b, 1, &kept, &e);
	CHECK(p != NULL);
	CHECK_EQ_INT(kept, b.len);
	pf_profile_free(p);
	pf_buf_free(&b);
}

/* Samples the decoder keeps apart are kept apart: each kind below repeats
 * stack st1 but for one thing. */
static void test_kept_apart(void)
{
	pf_buf b = {0}, m = {0}, l = {0};
	header(&b);
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st1, 2, 0, 0, 0);          /* no positive value */
	sample(&b, st1, 2, (uint64_t)-1, 5, 0); /* a negative value */
	pb_packed(&m, 1, st1, 2);              /* a numeric label */
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_pair(&l, 3, 1, S_A, 3, 42);
	pb_raw(&m, l.data, l.len);
	pf_buf_free(&l);
	pb_msg(&b, F_SAMPLE, &m);
	pb_u(&m, 1, 1); /* unpacked location ids */
	pb_u(&m, 1, 2);
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	pb_packed(&m, 1, st1, 2); /* unpacked values */
	pb_u(&m, 2, 1);
	pb_u(&m, 2, 1);
	pb_msg(&b, F_SAMPLE, &m);
	pb_packed(&m, 1, st1, 2); /* an unknown field: still summed */
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_u(&m, 9, 1);
	pb_msg(&b, F_SAMPLE, &m);
	pb_packed(&m, 1, st1, 2); /* a label with a string and a number: a string label */
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_u(&l, 1, S_SPAN);
	pb_u(&l, 2, S_A);
	pb_u(&l, 3, 7);
	pb_msg(&m, 3, &l);
	pb_msg(&b, F_SAMPLE, &m);
	after_samples(&b);
	CHECK(agrees(&b));
	pf_err e;
	size_t kept;
	pf_profile *p = decoded(&b, 5, &kept, &e);
	CHECK(p != NULL);
	if (p) {
		/* st1 with the repeats summed into it (unpacked values, an
		 * unknown field, a string label with a number); apart: the
		 * zeros, the negative, the numeric label, the unpacked ids. */
		CHECK_EQ_INT(p->nsamples, 5);
		CHECK_EQ_INT(p->values[p->samples[0].values], 4);
	}
	pf_profile_free(p);
	pf_buf_free(&b);
}

/* Sums that would pass 2^63 - 1 keep the sample apart, as the decoder
 * does; later repeats that fit are still summed into the first. */
static void test_overflow(void)
{
	pf_buf b = {0};
	header(&b);
	sample(&b, st1, 2, INT64_MAX - 10, 1, 0);
	sample(&b, st1, 2, 5, 1, 0);
	sample(&b, st1, 2, 20, 1, 0); /* passes: kept apart */
	sample(&b, st1, 2, 5, 1, 0);  /* fits: summed */
	sample(&b, st1, 2, 1, 1, 0);  /* passes again */
	after_samples(&b);
	CHECK(agrees(&b));
	pf_err e;
	size_t kept;
	pf_profile *p = decoded(&b, 3, &kept, &e);
	CHECK(p != NULL);
	if (p) {
		CHECK_EQ_INT(p->nsamples, 3);
		CHECK(p->values[p->samples[0].values] == INT64_MAX);
		CHECK_EQ_INT(p->values[p->samples[0].values + 1], 3);
	}
	pf_profile_free(p);
	pf_buf_free(&b);
}

static void refused_alike(pf_buf *b, const char *want)
{
	CHECK(agrees(b));
	pf_err e;
	pf_profile *p = decoded(b, 1, NULL, &e);
	CHECK(p == NULL);
	if (!strstr(e.msg, want)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, want);
		CHECK(0);
	}
	pf_profile_free(p);
	pf_buf_free(b);
}

/* A dropped repeat whose labels are out of range is refused where, and
 * as, decoding the whole bytes refuses it: before a later sample's own
 * error, after an earlier one's, or at the end. */
static void test_dropped_labels_out_of_range(void)
{
	pf_buf b = {0}, m = {0};
	header(&b);
	sample(&b, st1, 2, 1, 1, S_A);
	sample(&b, st1, 2, 1, 1, 40); /* dropped, out of range */
	sample(&b, st1, 2, 1, 1, 50); /* dropped, also out of range */
	pb_packed(&m, 1, (const uint64_t[]){77}, 1); /* kept: no location 77 */
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	after_samples(&b);
	refused_alike(&b, "string_table index 40 out of range (10 strings) in sample index 1 labels");

	header(&b);
	pb_packed(&m, 1, (const uint64_t[]){77}, 1); /* the earlier error wins */
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	sample(&b, st1, 2, 1, 1, S_A);
	sample(&b, st1, 2, 1, 1, 40);
	after_samples(&b);
	refused_alike(&b, "sample index 0 (byte ");

	header(&b);
	sample(&b, st1, 2, 1, 1, S_A);
	sample(&b, st1, 2, 1, 1, S_B); /* in range */
	sample(&b, st2, 3, 1, 1, 0);
	sample(&b, st1, 2, 1, 1, 11); /* the last sample; out of range */
	after_samples(&b);
	refused_alike(&b, "string_table index 11 out of range (10 strings) in sample index 3 labels");

	/* A repeat's label with a string that is not a varint: refused at it. */
	header(&b);
	sample(&b, st1, 2, 1, 1, 0);
	pb_packed(&m, 1, st1, 2);
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pf_buf l = {0};
	pb_u(&l, 1, S_SPAN);
	pb_tag(&l, 2, 1);
	pb_raw(&l, "\x08\0\0\0\0\0\0\0", 8);
	pb_msg(&m, 3, &l);
	pb_msg(&b, F_SAMPLE, &m);
	after_samples(&b);
	refused_alike(&b, "label str (field 2) at byte ");

	/* The first sample's own labels out of range: refused at it. */
	header(&b);
	sample(&b, st1, 2, 1, 1, 12);
	sample(&b, st1, 2, 1, 1, 13);
	after_samples(&b);
	refused_alike(&b, "string_table index 12 out of range (10 strings) in sample index 0 labels");
}

/* A repeat with another number of values than its first is kept; the
 * first is then refused for its count, either way. Sample types may come
 * after the samples. */
static void test_value_counts(void)
{
	pf_buf b = {0}, m = {0};
	header(&b);
	sample(&b, st1, 2, 1, 1, 0);
	pb_packed(&m, 1, st1, 2);
	pb_packed(&m, 2, (const uint64_t[]){1, 1, 1}, 3);
	pb_msg(&b, F_SAMPLE, &m);
	after_samples(&b);
	refused_alike(&b, "sample index 1 (byte ");

	pb_pair(&b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st1, 2, 1, 1, 0);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 3, 2, 4); /* a second type, after the samples */
	after_samples(&b);
	CHECK(agrees(&b));
	pf_buf_free(&b);

	pb_pair(&b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st1, 2, 1, 1, 0);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 3, 2, 4);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 3, 2, 4); /* three types, two values */
	after_samples(&b);
	refused_alike(&b, "sample index 0 (byte ");

	/* No sample types at all: counted with the dropped samples. */
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st1, 2, 1, 1, 0);
	after_samples(&b);
	refused_alike(&b, "3 samples but no sample types");
}

/* Errors after dropped samples name the byte of the whole input. */
static void test_offsets(void)
{
	pf_buf b = {0}, m = {0};
	go_layout(&b, 20);
	size_t at = b.len;
	pb_u(&m, 1, 2); /* location id 2 again */
	pb_msg(&b, F_LOCATION, &m);
	char want[64];
	snprintf(want, sizeof want, "duplicate location id 2 at byte %zu", at);
	refused_alike(&b, want);

	go_layout(&b, 20);
	at = b.len;
	pb_tag(&b, F_STRING, 2);
	pb_varint(&b, 50); /* runs past the end */
	pb_raw(&b, "xy", 2);
	snprintf(want, sizeof want, "field 6 at byte %zu: length 50 runs past the end", at);
	refused_alike(&b, want);

	go_layout(&b, 20);
	at = b.len;
	pb_tag(&b, 30, 3); /* a wire type nobody reads */
	snprintf(want, sizeof want, "unsupported wire type 3 (field 30) at byte %zu", at);
	refused_alike(&b, want);

	/* At the end of a kept sample that a dropped one follows. */
	header(&b);
	sample(&b, st1, 2, 1, 1, 0);
	pb_packed(&m, 1, st2, 3);
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_tag(&m, 15, 2); /* no length */
	pb_msg(&b, F_SAMPLE, &m);
	at = b.len;
	sample(&b, st1, 2, 1, 1, 0);
	sample(&b, st3, 1, 1, 1, 0);
	after_samples(&b);
	snprintf(want, sizeof want, "truncated varint at byte %zu", at);
	refused_alike(&b, want);

	/* Inside a kept sample after dropped ones. */
	header(&b);
	for (int i = 0; i < 5; i++)
		sample(&b, st1, 2, 1, 1, 0);
	at = b.len;
	pb_packed(&m, 1, (const uint64_t[]){3, 99}, 2);
	pb_packed(&m, 2, (const uint64_t[]){1, 1}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	after_samples(&b);
	snprintf(want, sizeof want, "sample index 5 (byte %zu): location id 99 not found", at + 2);
	refused_alike(&b, want);
}

/* ---- generated profiles ---- */

/* One random sample, sometimes wrong or odd in one of many ways. */
static void random_sample(pf_buf *b, const uint64_t stacks[][6], size_t *nstrings)
{
	pf_buf m = {0}, l = {0};
	const uint64_t *st = stacks[rnd(6)];
	size_t depth = 1 + st[0] % 5;
	bool odd = rnd(8) == 0;
	uint64_t kind = odd ? rnd(10) : 99;
	if (kind == 0)
		pb_u(&m, 1, st[1]);
	else
		pb_packed(&m, 1, st + 1, depth);
	uint64_t v[3] = {rnd(4), rnd(3) ? 1 + rnd(1000) : 0, 1};
	if (kind == 1)
		v[0] = (uint64_t)INT64_MAX - rnd(3);
	pb_packed(&m, 2, v, kind == 2 ? 3 : kind == 3 ? 1 : 2);
	for (uint64_t n = rnd(3); n > 0; n--) { /* span labels, strings made as Go makes them */
		uint64_t str = rnd(2) ? (*nstrings)++ : 1 + rnd(*nstrings - 1);
		pb_pair(&m, 3, 1, kind == 4 ? 500 : S_SPAN, 2, kind == 5 ? str + 1000 : str);
	}
	if (kind == 6) {
		pb_pair(&l, 3, 1, S_A, 3, 1 + rnd(5));
		pb_raw(&m, l.data, l.len);
		pf_buf_free(&l);
	}
	if (kind == 7)
		pb_tag(&m, 5, 7);
	if (kind == 8)
		pb_u(&m, 12, 1);
	if (kind == 9) /* a location that does not exist */
		pb_packed(&m, 1, (const uint64_t[]){40}, 1);
	pb_msg(b, F_SAMPLE, &m);
}

static void random_profile(pf_buf *b)
{
	uint64_t stacks[6][6];
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			stacks[i][j] = j == 0 ? rnd(100) : 1 + rnd(3);
	size_t nstrings = NSTRINGS;
	bool types_last = rnd(10) == 0;
	if (!types_last)
		header(b);
	for (uint64_t n = rnd(60); n > 0; n--)
		random_sample(b, (const uint64_t(*)[6])stacks, &nstrings);
	if (types_last)
		header(b);
	entities(b);
	strings(b, NSTRINGS);
	for (size_t i = NSTRINGS; i < nstrings; i++) {
		char s[24];
		snprintf(s, sizeof s, "%" PRIu64, rnd(UINT64_MAX));
		pb_str(b, F_STRING, s);
	}
	if (rnd(10) == 0) /* a cut-off input */
		b->len -= rnd(b->len);
}

static void test_generated(void)
{
	size_t refused = 0, dropped = 0;
	for (uint64_t seed = 1; seed <= 3000; seed++) {
		rng_state = seed * 0x9e3779b97f4a7c15ULL;
		pf_buf b = {0};
		random_profile(&b);
		size_t piece = pieces[seed % (sizeof pieces / sizeof *pieces)], kept = 0;
		if (!presum_agrees(&b, piece, seed % 2, &kept)) {
			fprintf(stderr, "generated profile %" PRIu64 " (piece %zu) decodes otherwise\n", seed, piece);
			CHECK(0);
		}
		pf_err e = {0};
		pf_profile *p = pf_profile_decode_to_merge(b.data, b.len, false, &e);
		refused += p == NULL;
		dropped += kept < b.len;
		pf_profile_free(p);
		pf_buf_free(&b);
	}
	/* The generated profiles cover both ways. */
	CHECK(refused > 300 && refused < 2700);
	CHECK(dropped > 1000);
}

/* The real profile and the fixtures. */
static void test_fixtures(void)
{
	static const char *const files[] = {"data/pprof/grpc-anon.pprof", "data/pprof/edge-a.pb", "data/pprof/edge-b.pb",
					    "data/pprof/edge-c.pb"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		pf_buf in = slurp(files[i]), raw = {0};
		pf_err e = {0};
		CHECK(in.len > 0 && pf_decompress(in.data, in.len, SIZE_MAX, &raw, &e) == 0);
		CHECK(agrees(&raw));
		pf_buf_free(&in);
		pf_buf_free(&raw);
	}
}

/* ---- through the decompressor ---- */

static int take(void *ctx, pf_buf *out, bool end) { return pf_presum_take(ctx, out, end); }

static pf_buf gzipped(const pf_buf *raw)
{
	pf_buf out = {0};
	z_stream zs = {0};
	CHECK(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	CHECK(pf_buf_reserve(&out, deflateBound(&zs, raw->len) + 32) == 0);
	zs.next_in = raw->data;
	zs.avail_in = (uInt)raw->len;
	zs.next_out = out.data;
	zs.avail_out = (uInt)out.cap;
	CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
	out.len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

static pf_buf zstded(const pf_buf *raw)
{
	pf_buf out = {0};
	CHECK(pf_buf_reserve(&out, ZSTD_compressBound(raw->len)) == 0);
	size_t n = ZSTD_compress(out.data, out.cap, raw->data, raw->len, 3);
	CHECK(!ZSTD_isError(n));
	out.len = ZSTD_isError(n) ? 0 : n;
	return out;
}

/* The decompressor hands its output over as it comes: the decoded
 * profile is the one of the whole bytes, the bound counts every byte
 * decompressed (the dropped ones too), and with give_back_input the
 * compressed bytes read as zeros after. */
static void test_decompress_into(void)
{
	pf_buf raw = {0};
	go_layout_noisy(&raw, 60000, true);
	pf_err e = {0};
	pf_profile *want = pf_profile_decode_to_merge(raw.data, raw.len, false, &e);
	CHECK(want != NULL);
	pf_buf packed[3] = {gzipped(&raw), zstded(&raw), {0}};
	CHECK(pf_buf_append(&packed[2], raw.data, raw.len) == 0);
	for (int i = 0; i < 3; i++) {
		pf_presum s = {0};
		pf_buf out = {0};
		size_t produced = 0;
		pf_decompress_opts opts = {take, &s, false};
		CHECK_EQ_INT(pf_decompress_into(packed[i].data, packed[i].len, raw.len, &out, &opts, &produced, &e), 0);
		CHECK_EQ_INT(produced, raw.len);
		CHECK(out.len < raw.len / 100);
		pf_profile *p = pf_profile_decode_presummed(out.data, out.len, &s, false, &e);
		CHECK(p && want && presum_same_profile(want, p));
		pf_profile_free(p);
		pf_presum_free(&s);
		pf_buf_free(&out);

		/* One byte less of bound: refused, though far fewer are kept. */
		pf_presum s2 = {0};
		opts.ctx = &s2;
		CHECK_EQ_INT(pf_decompress_into(packed[i].data, packed[i].len, raw.len - 1, &out, &opts, NULL, &e),
			     PF_TOO_LARGE);
		pf_presum_free(&s2);
		pf_buf_free(&out);

		/* The input goes back as it is read. */
		opts = (pf_decompress_opts){NULL, NULL, true};
		CHECK_EQ_INT(pf_decompress_into(packed[i].data, packed[i].len, raw.len, &out, &opts, NULL, &e), 0);
		CHECK(out.len == raw.len && memcmp(out.data, raw.data, raw.len) == 0);
		size_t zero = 0, pages = 0;
		for (size_t at = 4096; at + 8192 <= packed[i].len; at += 4096, pages++) {
			size_t j = 0;
			while (j < 4096 && packed[i].data[at + j] == 0)
				j++;
			zero += j == 4096;
		}
		CHECK(pages > 8 && zero > pages / 2);
		pf_buf_free(&out);
		pf_buf_free(&packed[i]);
	}
	pf_profile_free(want);
	pf_buf_free(&raw);
}

/* Memory running out at every allocation in turn: an error or the very
 * profile, and nothing left allocated. */
static void test_out_of_memory(void)
{
#ifndef NO_INTERPOSE
	pf_buf b = {0};
	go_layout(&b, 50);
	pf_err e = {0};
	pf_profile *want = pf_profile_decode_to_merge(b.data, b.len, false, &e);
	bool failed_some = false, finished = false;
	for (long n = 0; !finished && n < 100000; n++) {
		alloc = (alloc_state){.armed = true, .fail_at = n};
		e = (pf_err){0};
		pf_profile *p = presummed(&b, 64, false, NULL, &e);
		bool ok = p ? presum_same_profile(want, p) : e.code == PF_EXIT_INTERNAL;
		pf_profile_free(p);
		alloc.armed = false;
		CHECK(ok);
		finished = !alloc.failed;
		failed_some |= alloc.failed;
		CHECK_EQ_INT(alloc.live, 0);
	}
	CHECK(failed_some && finished);
	pf_profile_free(want);
	pf_buf_free(&b);
#endif
}

int main(void)
{
	test_repeats_summed_and_dropped();
	test_kept_apart();
	test_overflow();
	test_dropped_labels_out_of_range();
	test_value_counts();
	test_offsets();
	test_generated();
	test_fixtures();
	test_decompress_into();
	test_out_of_memory();
	return check_report("test_presum");
}
