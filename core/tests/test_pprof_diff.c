/* test_pprof_diff: the C side of the differential test against
 * tests/refmerge (google/pprof), and a unit test of the same pipeline.
 *
 *   test_pprof_diff                          runs the cases below
 *   test_pprof_diff [-noinline=false] FILE... does what refmerge does:
 *        decode each (uncompressed protobuf), drop string labels, fold with
 *        Merge pairwise, rename no-inline functions, encode to stdout
 *   test_pprof_diff -labels FILE...            the same keeping string labels
 *        and without the rename (pprof's Merge + WriteUncompressed alone)
 *
 * Compare with: refmerge FILE... | cmp - <(test_pprof_diff FILE...).
 * The cases compare the pipeline's output on the real profile in
 * data/pprof/ against refmerge's, stored next to it (see data/pprof/README.md). */
#include "check.h"
#include "pprof.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_file(const char *path, pf_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (pf_buf_append(b, chunk, n) != 0)
			rc = -1;
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

/* The refmerge pipeline over files; appends the encoding to out. */
static int pipeline(char **paths, int n, bool noinline, bool keep_labels, pf_buf *out, pf_err *e)
{
	pf_profile *merged = NULL;
	const char *merged_name = NULL;
	for (int i = 0; i < n; i++) {
		pf_buf in = {0};
		if (read_file(paths[i], &in) != 0) {
			pf_buf_free(&in);
			pf_profile_free(merged);
			return pf_fail(e, PF_EXIT_SOURCE, "%s: cannot read", paths[i]);
		}
		pf_profile *p = pf_profile_decode(in.data, in.len, e);
		pf_buf_free(&in);
		if (!p) {
			pf_err_prefix(e, paths[i]);
			pf_profile_free(merged);
			return -1;
		}
		if (!keep_labels)
			pf_profile_drop_string_labels(p);
		if (merged) {
			merged = pf_profile_merge2(merged, p, merged_name, paths[i], e);
			if (!merged)
				return -1;
		} else {
			merged = p;
			merged_name = paths[i];
		}
	}
	if (noinline && pf_profile_noinline(merged, e) == (size_t)-1) {
		pf_profile_free(merged);
		return -1;
	}
	int rc = pf_profile_encode(merged, out, e);
	pf_profile_free(merged);
	return rc;
}

static int run_files(int argc, char **argv)
{
	bool noinline = true, keep_labels = false;
	int first = 1;
	if (first < argc && strcmp(argv[first], "-noinline=false") == 0) {
		noinline = false;
		first++;
	} else if (first < argc && strcmp(argv[first], "-labels") == 0) {
		noinline = false;
		keep_labels = true;
		first++;
	}
	pf_err e = {0};
	pf_buf out = {0};
	if (pipeline(argv + first, argc - first, noinline, keep_labels, &out, &e) != 0) {
		fprintf(stderr, "test_pprof_diff: %s\n", e.msg);
		pf_buf_free(&out);
		return e.code ? e.code : 1;
	}
	fwrite(out.data, 1, out.len, stdout);
	pf_buf_free(&out);
	return fflush(stdout) == 0 ? 0 : 1;
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

static void check_pipeline(char **paths, int n, bool noinline, bool keep_labels, const char *want)
{
	pf_err e = {0};
	pf_buf out = {0};
	CHECK_EQ_INT(pipeline(paths, n, noinline, keep_labels, &out, &e), 0);
	CHECK(same_as_file(&out, want));
	pf_buf_free(&out);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return run_files(argc, argv);
	char *grpc[] = {"data/pprof/grpc-anon.pb", "data/pprof/grpc-anon.pb", "data/pprof/grpc-anon.pb"};
	check_pipeline(grpc, 1, true, false, "data/pprof/grpc-anon.want1.pb");
	check_pipeline(grpc, 1, false, false, "data/pprof/grpc-anon.want1-inline.pb");
	check_pipeline(grpc, 2, true, false, "data/pprof/grpc-anon.want2.pb");
	check_pipeline(grpc, 3, true, false, "data/pprof/grpc-anon.want3.pb");
	check_pipeline(grpc, 2, false, true, "data/pprof/grpc-anon.want2-labels.pb");
	return check_report("test_pprof_diff");
}
