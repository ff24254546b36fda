/* test_pprof_diff: the C side of the differential test against
 * tests/refmerge (google/pprof), and a unit test of the same pipeline.
 *
 *   test_pprof_diff                          runs the cases below
 *   test_pprof_diff [-noinline=false] FILE... does what refmerge does:
 *        decode each (uncompressed protobuf), drop string labels, fold with
 *        Merge pairwise, rename no-inline functions, encode to stdout
 *
 * Compare with: refmerge FILE... | cmp - <(test_pprof_diff FILE...).
 * The cases compare the pipeline's output on the real profile in
 * data/pprof/ against refmerge's, stored next to it (see data/pprof/README.md). */
#include "check.h"
#include "fixture.h"
#include "decompress.h"
#include "pprof.h"
#include "test_pprof_wire.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a file, gunzipping it when it is compressed (as refmerge does). */
static int read_file(const char *path, pf_buf *b)
{
	pf_buf raw = {0};
	pf_err e = {0};
	int rc = read_fixture(path, &raw);
	if (rc == 0)
		rc = pf_decompress(raw.data, raw.len, SIZE_MAX, b, &e);
	pf_buf_free(&raw);
	return rc;
}

/* The refmerge pipeline over inputs; appends the encoding to out. */
static int pipeline(const pf_buf *in, const char *const *names, int n, bool noinline, pf_buf *out, pf_err *e)
{
	pf_merger *m = pf_merger_new();
	if (!m)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		/* As pgofetch decodes (flow.c). */
		pf_profile *p = pf_profile_decode(in[i].data, in[i].len, e);
		if (!p)
			pf_err_prefix(e, names[i]);
		if (!p || pf_merger_add(m, p, names[i], e) != 0) {
			pf_merger_free(m);
			return -1;
		}
	}
	pf_profile *merged = pf_merger_finish(m);
	if (noinline && pf_profile_noinline(merged, e) == (size_t)-1) {
		pf_profile_free(merged);
		return -1;
	}
	int rc = pf_profile_encode(merged, out, e);
	pf_profile_free(merged);
	return rc;
}

static void free_inputs(pf_buf *in, int n)
{
	for (int i = 0; i < n; i++)
		pf_buf_free(&in[i]);
	free(in);
}

static int run_files(int argc, char **argv)
{
	bool noinline = true;
	int first = 1;
	if (first < argc && strcmp(argv[first], "-noinline=false") == 0) {
		noinline = false;
		first++;
	}
	int n = argc - first;
	pf_buf *in = calloc((size_t)n + 1, sizeof *in);
	for (int i = 0; in && i < n; i++) {
		if (read_file(argv[first + i], &in[i]) != 0) {
			fprintf(stderr, "test_pprof_diff: %s: cannot read\n", argv[first + i]);
			free_inputs(in, n);
			return 3;
		}
	}
	pf_err e = {0};
	pf_buf out = {0};
	int rc = in ? pipeline(in, (const char *const *)argv + first, n, noinline, &out, &e) : -1;
	free_inputs(in, n);
	if (rc != 0) {
		fprintf(stderr, "test_pprof_diff: %s\n", e.msg);
		pf_buf_free(&out);
		return e.code ? e.code : 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	pf_buf_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- hand-made edge cases ----
 * Each input is written with odd but valid encodings; what google/pprof
 * makes of them is in data/pprof/edge-*.pb (see data/pprof/README.md). */

enum { F_SAMPLE_TYPE = 1, F_SAMPLE, F_MAPPING, F_LOCATION, F_FUNCTION, F_STRING, F_DROP, F_KEEP,
       F_TIME, F_DURATION, F_PERIOD_TYPE, F_PERIOD, F_COMMENT, F_DEFAULT_TYPE, F_DOC_URL };

static void strings(pf_buf *b, const char *const *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pb_str(b, F_STRING, s[i]);
}

static void mapping(pf_buf *b, uint64_t id, uint64_t start, uint64_t limit, uint64_t offset, uint64_t file,
		    uint64_t build_id, bool has_functions)
{
	pf_buf m = {0};
	pb_u(&m, 4, offset); /* fields out of order, zeros explicit */
	pb_u(&m, 1, id);
	pb_u(&m, 2, start);
	pb_u(&m, 3, limit);
	pb_u(&m, 5, file);
	if (build_id)
		pb_u(&m, 6, build_id);
	pb_u(&m, 7, has_functions);
	pb_msg(b, F_MAPPING, &m);
}

static void function(pf_buf *b, uint64_t id, uint64_t name, uint64_t file, int64_t start_line)
{
	pf_buf m = {0};
	pb_u(&m, 5, (uint64_t)start_line);
	pb_u(&m, 2, name);
	pb_u(&m, 3, name);
	pb_u(&m, 4, file);
	pb_u(&m, 1, id);
	pb_msg(b, F_FUNCTION, &m);
}

/* A location with up to two lines (function, line, column); fn2 0: one line. */
static void location(pf_buf *b, uint64_t id, uint64_t mapping_id, uint64_t addr, uint64_t fn1, int64_t line1,
		     uint64_t fn2, int64_t line2)
{
	pf_buf m = {0}, ln = {0};
	if (fn1) {
		pb_u(&ln, 2, (uint64_t)line1);
		pb_u(&ln, 1, fn1);
		pb_u(&ln, 3, fn2 ? 7 : 0); /* a column on inlined lines */
		pb_msg(&m, 4, &ln);
	}
	pb_u(&m, 1, id);
	if (fn2)
		pb_pair(&m, 4, 1, fn2, 2, (uint64_t)line2);
	pb_u(&m, 3, addr);
	pb_u(&m, 2, mapping_id);
	pb_msg(b, F_LOCATION, &m);
}

static void label(pf_buf *b, uint64_t key, uint64_t str, int64_t num, uint64_t unit)
{
	pf_buf m = {0};
	pb_u(&m, 4, unit);
	pb_u(&m, 3, (uint64_t)num);
	pb_u(&m, 2, str);
	pb_u(&m, 1, key);
	pb_msg(b, 3, &m);
}

/* Profile A: strings first, with a duplicate; unpacked and packed fields;
 * a location whose mapping id matches no mapping; inline frames; labels of
 * every kind (string, numeric with and without units, key only, string and
 * number, numeric zero with a unit) in unsorted order; an all-zero sample;
 * an unused location; unknown fields; time_nanos twice (first zero);
 * period_type twice; a comment twice. */
static void edge_a(pf_buf *b)
{
	static const char *const s[] = {
		"", "samples", "count", "cpu", "nanoseconds", "main.f", "main.go", "main.g", "/bin/app", "bid-1",
		"zeta", "zv", "alpha", "bytes", "mid", "both", "s", "ms", "n0", "cpu", "runtime.gopark",
		"comment one", "libc.so", "wall",
	};
	strings(b, s, sizeof s / sizeof *s);
	pb_u(b, 0, 5);                 /* field 0: skipped */
	pb_u(b, F_TIME, 0);            /* a zero time_nanos may come again */
	pb_pair(b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(b, F_SAMPLE_TYPE, 1, 19, 2, 4); /* "cpu" by its duplicate */
	pb_pair(b, F_PERIOD_TYPE, 1, 23, 2, 13);
	pb_pair(b, F_PERIOD_TYPE, 1, 3, 0, 0); /* replaces the first whole: unit "" */
	pb_tag(b, 100, 5);
	pb_raw(b, "\1\2\3\4", 4); /* unknown fixed32 */
	mapping(b, 7, 0x400000, 0x800000, 0, 8, 9, true);
	mapping(b, 9, 0x7f0000000000, 0x7f0000001800, 0x1000, 22, 0, false);
	function(b, 100, 5, 6, 10);
	function(b, 200, 7, 6, 20);
	function(b, 300, 20, 6, 30);
	location(b, 1, 7, 0x401000, 100, 12, 0, 0);
	location(b, 2, 7, 0x402000, 300, 31, 200, 22);
	location(b, 3, 42, 0x999, 200, 25, 0, 0);
	location(b, 4, 9, 0x7f0000000100, 0, 0, 0, 0);
	location(b, 5, 7, 0x403000, 100, 14, 0, 0);

	pf_buf m = {0};
	pb_u(&m, 1, 2);
	pb_u(&m, 1, 1);
	pb_packed(&m, 2, (const uint64_t[]){1, 10}, 2);
	label(&m, 10, 11, 0, 0);
	label(&m, 12, 0, 5, 13);
	label(&m, 12, 0, 6, 0);
	label(&m, 14, 0, 0, 0);
	label(&m, 15, 16, 7, 13);
	label(&m, 18, 0, 0, 17);
	pb_msg(b, F_SAMPLE, &m);

	pb_u(&m, 2, 2); /* values before locations */
	pb_u(&m, 2, 20);
	pb_packed(&m, 1, (const uint64_t[]){3, 1, 1}, 3);
	label(&m, 12, 0, 5, 13);
	pb_msg(b, F_SAMPLE, &m);

	pb_packed(&m, 1, (const uint64_t[]){4}, 1);
	pb_packed(&m, 2, (const uint64_t[]){0, 0}, 2);
	pb_msg(b, F_SAMPLE, &m);

	pb_packed(&m, 1, (const uint64_t[]){2, 1}, 2);
	pb_packed(&m, 2, (const uint64_t[]){3, 30}, 2);
	label(&m, 18, 0, 0, 17);
	label(&m, 12, 0, 5, 13);
	label(&m, 10, 16, 0, 0);
	label(&m, 12, 0, 6, 0);
	pb_msg(b, F_SAMPLE, &m);

	pb_u(b, F_TIME, 1000);
	pb_u(b, F_DURATION, 1000000000);
	pb_u(b, F_PERIOD, 10);
	pb_packed(b, F_COMMENT, (const uint64_t[]){21, 21}, 2);
	pb_str(b, 17, "unknown bytes");
	pb_tag(b, 200, 1);
	pb_raw(b, "12345678", 8); /* unknown fixed64 */
}

/* Profile B, compatible with A: strings last, other ids, its main binary
 * loaded elsewhere (addresses move), a mapping whose file equals A's build
 * id (pprof's mapping key then matches A's), samples equal to A's after the
 * move, one with negative values that cancel A's second sample (the merge
 * then runs again to drop it), no time_nanos (pprof's loop then yields 0),
 * a smaller period, default_sample_type and doc_url. */
static void edge_b(pf_buf *b)
{
	pb_pair(b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(b, F_SAMPLE_TYPE, 1, 3, 2, 4);
	pb_pair(b, F_PERIOD_TYPE, 1, 3, 0, 0);
	function(b, 1, 7, 6, 20);
	function(b, 2, 5, 6, 10);
	function(b, 3, 9, 6, 5);
	mapping(b, 1, 0x500000, 0x900000, 0, 8, 10, true);
	mapping(b, 2, 0x10000, 0x410000, 0, 10, 0, false);
	location(b, 11, 1, 0x501000, 2, 12, 0, 0);
	location(b, 12, 1, 0x502000, 3, 31, 1, 22); /* differs from A's: function main.h */
	location(b, 13, 0, 0x999, 1, 25, 0, 0);
	location(b, 14, 2, 0x10010, 2, 99, 0, 0);

	pf_buf m = {0};
	pb_packed(&m, 1, (const uint64_t[]){13, 11, 11}, 3);
	pb_packed(&m, 2, (const uint64_t[]){(uint64_t)-2, (uint64_t)-20}, 2);
	label(&m, 11, 0, 5, 12);
	pb_msg(b, F_SAMPLE, &m);

	pb_packed(&m, 1, (const uint64_t[]){11}, 1);
	pb_packed(&m, 2, (const uint64_t[]){4, 40}, 2);
	pb_msg(b, F_SAMPLE, &m);

	pb_packed(&m, 1, (const uint64_t[]){12, 14}, 2);
	pb_packed(&m, 2, (const uint64_t[]){5, 50}, 2);
	pb_msg(b, F_SAMPLE, &m);

	pb_u(b, F_DURATION, 2000000000);
	pb_u(b, F_PERIOD, 5);
	pb_u(b, F_COMMENT, 13);
	pb_u(b, F_COMMENT, 14);
	pb_u(b, F_DEFAULT_TYPE, 3);
	pb_u(b, F_DOC_URL, 15);
	static const char *const s[] = {
		"", "samples", "count", "cpu", "nanoseconds", "main.f", "main.go", "main.g", "/bin/app", "main.h",
		"bid-1", "alpha", "bytes", "comment one", "comment two", "https://example.com/doc",
	};
	strings(b, s, sizeof s / sizeof *s);
}

/* Profile C, compatible with A: no mappings at all (so, merged first, A's
 * first mapping is taken before A's samples), only an all-zero sample, a
 * negative time_nanos (kept by pprof's loop), period 0. */
static void edge_c(pf_buf *b)
{
	static const char *const s[] = {"", "samples", "count", "cpu", "nanoseconds", "main.z", "z.go"};
	strings(b, s, sizeof s / sizeof *s);
	pb_pair(b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(b, F_SAMPLE_TYPE, 1, 3, 2, 4);
	pb_pair(b, F_PERIOD_TYPE, 1, 3, 0, 0);
	function(b, 5, 5, 6, 1);
	location(b, 5, 0, 0x42, 5, 2, 0, 0);
	pf_buf m = {0};
	pb_u(&m, 1, 5);
	pb_packed(&m, 2, (const uint64_t[]){0, 0}, 2);
	pb_msg(b, F_SAMPLE, &m);
	pb_u(b, F_TIME, (uint64_t)-5);
}

typedef void (*edge_builder)(pf_buf *b);
static const struct {
	const char *name;
	edge_builder build;
} edges[] = {{"a", edge_a}, {"b", edge_b}, {"c", edge_c}};
#define N_EDGES (sizeof edges / sizeof edges[0])

/* Writes the edge inputs as DIR/edge-<name>.pb, for refmerge. */
static int dump_edges(const char *dir)
{
	for (size_t i = 0; i < N_EDGES; i++) {
		pf_buf b = {0};
		edges[i].build(&b);
		char path[4096];
		snprintf(path, sizeof path, "%s/edge-%s.pb", dir, edges[i].name);
		FILE *f = fopen(path, "wb");
		bool ok = f && fwrite(b.data, 1, b.len, f) == b.len;
		if (f)
			ok &= fclose(f) == 0;
		pf_buf_free(&b);
		if (!ok) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
	}
	return 0;
}

static bool same_as_file(const pf_buf *got, const char *path)
{
	pf_buf want = {0};
	bool same = read_file(path, &want) == 0 && want.len == got->len &&
		    memcmp(want.data, got->data, got->len) == 0;
	if (!same)
		fprintf(stderr, "output differs from %s (%zu bytes vs %zu)\n", path, got->len, want.len);
	pf_buf_free(&want);
	return same;
}

/* Runs the pipeline over edge inputs named by letters ("ab": A then B). */
static void check_edges(const char *which, const char *want)
{
	int n = (int)strlen(which);
	pf_buf in[4] = {{0}};
	const char *names[4];
	for (int i = 0; i < n; i++) {
		edges[which[i] - 'a'].build(&in[i]);
		names[i] = edges[which[i] - 'a'].name;
	}
	pf_err e = {0};
	pf_buf out = {0};
	CHECK_EQ_INT(pipeline(in, names, n, true, &out, &e), 0);
	CHECK(same_as_file(&out, want));
	pf_buf_free(&out);
	for (int i = 0; i < n; i++)
		pf_buf_free(&in[i]);
}

/* FNV-1a 64: the real profile's expected outputs are recorded as their
 * length and this hash (data/pprof/README.md says how they were made). */
static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static void check_grpc(int copies, bool noinline, size_t want_len, uint64_t want_hash)
{
	pf_buf in[3] = {{0}};
	const char *names[3] = {"grpc-anon.pprof", "grpc-anon.pprof", "grpc-anon.pprof"};
	for (int i = 0; i < copies; i++)
		CHECK_EQ_INT(read_file("data/pprof/grpc-anon.pprof", &in[i]), 0);
	pf_err e = {0};
	pf_buf out = {0};
	CHECK_EQ_INT(pipeline(in, names, copies, noinline, &out, &e), 0);
	CHECK_EQ_INT(out.len, want_len);
	CHECK(fnv1a(out.data, out.len) == want_hash);
	pf_buf_free(&out);
	for (int i = 0; i < copies; i++)
		pf_buf_free(&in[i]);
}

/* The rename on the real profile: 17 samples have the grpc leaf, one
 * function is renamed. */
static void check_grpc_rename(void)
{
	pf_buf in = {0};
	pf_err e = {0};
	CHECK_EQ_INT(read_file("data/pprof/grpc-anon.pprof", &in), 0);
	pf_profile *p = pf_profile_decode(in.data, in.len, &e);
	pf_buf_free(&in);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(pf_profile_noinline(p, &e), 1);
	size_t leaves = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		const pf_location *l = &p->locations[p->sample_locs[p->samples[i].locs]];
		const char *name = pf_profile_str(p, p->functions[p->lines[l->lines].function].name, NULL);
		leaves += strcmp(name, "DO NOT INLINE: google.golang.org/grpc/internal/transport."
				       "(*loopyWriter).processData") == 0;
	}
	CHECK_EQ_INT(leaves, 17);
	CHECK_EQ_INT(pf_profile_noinline(p, &e), 0); /* renamed names no longer match */
	pf_profile_free(p);
}

/* data/pprof/edge-?.pb (inputs of test_pprof_oom, and of refmerge when the
 * fixtures were made) must be what the builders here write. */
static void check_stored_edges(void)
{
	for (size_t i = 0; i < N_EDGES; i++) {
		pf_buf b = {0};
		char path[64];
		edges[i].build(&b);
		snprintf(path, sizeof path, "data/pprof/edge-%s.pb", edges[i].name);
		CHECK(same_as_file(&b, path));
		pf_buf_free(&b);
	}
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump_edges(argv[2]);
	if (argc > 1)
		return run_files(argc, argv);
	check_grpc(1, true, 461314, 0x0d6f4c2505f27c88ULL);
	check_grpc(1, false, 461229, 0x86840f110c69c2b5ULL);
	check_grpc(2, true, 460555, 0x2db51561ab850e44ULL);
	check_grpc(3, true, 460770, 0xec0a6ade2b8d6110ULL);
	check_grpc_rename();
	check_stored_edges();
	check_edges("a", "data/pprof/edge-a.want.pb");
	check_edges("ab", "data/pprof/edge-ab.want.pb");
	check_edges("ba", "data/pprof/edge-ba.want.pb");
	check_edges("ca", "data/pprof/edge-ca.want.pb");
	check_edges("ac", "data/pprof/edge-ac.want.pb");
	check_edges("abc", "data/pprof/edge-abc.want.pb");
	return check_report("test_pprof_diff");
}
