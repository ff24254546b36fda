/* pprof merging: what pprof's Merge refuses (different period types or
 * sample types), with messages naming both sources, header rules seen
 * through the model, a merge begun ahead giving the same bytes, and the
 * Scale that -weight applies first.
 * Byte-level agreement with pprof is test_pprof_diff's. */
#include "check.h"
#include "pprof.h"
#include "merge2.h"
#include "test_pprof_wire.h"

#include <stdint.h>
#include <string.h>

enum { F_SAMPLE_TYPE = 1, F_SAMPLE, F_LOCATION = 4, F_FUNCTION, F_STRING, F_TIME = 9, F_DURATION,
       F_PERIOD_TYPE, F_PERIOD, F_COMMENT, F_DEFAULT_TYPE };

static const char *const strs[] = {"", "samples", "count", "cpu", "nanoseconds", "wall", "c1", "c2"};

/* A profile without samples: sample types (type, unit) pairs as string
 * indexes, a period type, and some header fields. */
static pf_profile *make(const uint64_t *types, size_t ntypes, uint64_t period_type, int64_t time,
			int64_t duration, int64_t period, uint64_t comment)
{
	pf_buf b = {0};
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		pb_str(&b, F_STRING, strs[i]);
	for (size_t i = 0; i < ntypes; i++)
		pb_pair(&b, F_SAMPLE_TYPE, 1, types[2 * i], 2, types[2 * i + 1]);
	pb_pair(&b, F_PERIOD_TYPE, 1, period_type, 2, 4);
	pb_u(&b, F_TIME, (uint64_t)time);
	pb_u(&b, F_DURATION, (uint64_t)duration);
	pb_u(&b, F_PERIOD, (uint64_t)period);
	pb_u(&b, F_COMMENT, comment);
	pb_u(&b, F_COMMENT, 6);
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(b.data, b.len, &e);
	pf_buf_free(&b);
	CHECK(p != NULL);
	return p;
}

static const uint64_t go_types[] = {1, 2, 3, 4};

static void refused(pf_profile *a, pf_profile *b, const char *want)
{
	pf_err e = {0};
	CHECK(merge2(a, b, "first.pprof", "second.pprof", &e) == NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	if (!strstr(e.msg, want) || !strstr(e.msg, "first.pprof") || !strstr(e.msg, "second.pprof")) {
		fprintf(stderr, "message \"%s\" lacks \"%s\" or a name\n", e.msg, want);
		CHECK(0);
	}
}

static void test_incompatible(void)
{
	refused(make(go_types, 2, 3, 1, 1, 1, 7), make(go_types, 2, 5, 1, 1, 1, 7),
		"incompatible period types cpu/nanoseconds and wall/nanoseconds");
	refused(make(go_types, 2, 3, 1, 1, 1, 7), make(go_types, 1, 3, 1, 1, 1, 7),
		"incompatible sample types [samples/count cpu/nanoseconds] and [samples/count]");
	static const uint64_t other[] = {1, 2, 5, 4};
	refused(make(go_types, 2, 3, 1, 1, 1, 7), make(other, 2, 3, 1, 1, 1, 7),
		"[samples/count cpu/nanoseconds] and [samples/count wall/nanoseconds]");
}

static void check_header(int64_t ta, int64_t tb, int64_t pa, int64_t pb, int64_t want_time,
			 int64_t want_period)
{
	pf_err e = {0};
	pf_profile *m = merge2(make(go_types, 2, 3, ta, 5, pa, 7), make(go_types, 2, 3, tb, 6, pb, 6),
					  "a", "b", &e);
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ_INT(m->time_nanos, want_time);
	CHECK_EQ_INT(m->period, want_period);
	CHECK_EQ_INT(m->duration_nanos, 11);
	/* comments: a has c2, c1; b has c1, c1: concatenated without repeats */
	CHECK_EQ_INT(m->ncomments, 2);
	CHECK_EQ_STR(pf_profile_str(m, m->comments[0], NULL), "c2");
	CHECK_EQ_STR(pf_profile_str(m, m->comments[1], NULL), "c1");
	pf_profile_free(m);
}

/* pprof's loops: "if t == 0 || s.t < t { t = s.t }" and
 * "if p == 0 || p < s.p { p = s.p }". */
static void test_header_rules(void)
{
	check_header(5, 3, 10, 20, 3, 20);
	check_header(3, 5, 20, 10, 3, 20);
	check_header(5, 0, 10, 0, 0, 10);   /* a later zero time wins */
	check_header(0, 5, 0, -4, 5, -4);   /* a zero period takes anything */
	check_header(-2, 7, -3, -5, -2, -3);
}

/* A profile of one sample type whose samples have one location each,
 * given as {location id (1 to 3), value}. */
static pf_profile *with_samples(const int64_t (*samples)[2], size_t n)
{
	static const char *const names[] = {"", "samples", "count", "main.f"};
	pf_buf b = {0}, m = {0};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		pb_str(&b, F_STRING, names[i]);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(&b, F_FUNCTION, 1, 1, 2, 3);
	for (uint64_t id = 1; id <= 3; id++) {
		pb_u(&m, 1, id);
		pb_pair(&m, 4, 1, 1, 2, id); /* a line: function 1, line id */
		pb_msg(&b, F_LOCATION, &m);
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t loc = (uint64_t)samples[i][0];
		pb_packed(&m, 1, &loc, 1);
		pb_u(&m, 2, (uint64_t)samples[i][1]);
		pb_msg(&b, F_SAMPLE, &m);
	}
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(b.data, b.len, &e);
	pf_buf_free(&b);
	CHECK(p != NULL);
	return p;
}

static pf_buf merged_bytes(pf_profile *a, pf_profile *b)
{
	pf_err e = {0};
	pf_buf out = {0};
	pf_profile *m = merge2(a, b, "a", "b", &e);
	CHECK(m != NULL);
	CHECK_EQ_INT(m ? pf_profile_encode(m, &out, &e) : -1, 0);
	pf_profile_free(m);
	return out;
}

/* A merger folding a, b and c continues one merge, across the re-merge
 * that drops a sample whose sum came to 0: the bytes of merging
 * Merge([a, b]) with c from scratch, as datadog-pgo does. */
static void check_fold(const int64_t (*a)[2], size_t na, const int64_t (*b)[2], size_t nb, const int64_t (*c)[2],
		       size_t nc)
{
	pf_err e = {0};
	pf_merger *m = pf_merger_new();
	CHECK(m != NULL);
	if (!m)
		return;
	CHECK_EQ_INT(pf_merger_add(m, with_samples(a, na), "a", &e), 0);
	CHECK_EQ_INT(pf_merger_add(m, with_samples(b, nb), "b", &e), 0);
	CHECK_EQ_INT(pf_merger_add(m, with_samples(c, nc), "c", &e), 0);
	pf_buf got = {0};
	pf_profile *folded = pf_merger_finish(m);
	CHECK_EQ_INT(pf_profile_encode(folded, &got, &e), 0);
	pf_profile_free(folded);
	pf_buf want = merged_bytes(merge2(with_samples(a, na), with_samples(b, nb), "a", "b", &e), with_samples(c, nc));
	CHECK(got.len > 0 && got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
	pf_buf_free(&got);
	pf_buf_free(&want);
}

static void test_merger_folds(void)
{
	static const int64_t a[][2] = {{1, 5}, {2, 3}}, b[][2] = {{3, 1}, {1, 4}}, c[][2] = {{2, 2}};
	check_fold(a, 2, b, 2, c, 1);
	static const int64_t cancel[][2] = {{1, -5}, {3, 2}}, again[][2] = {{1, 4}, {2, 1}};
	check_fold(a, 2, cancel, 2, again, 2); /* location 1's sample sums to 0 and goes */
	static const int64_t wrap[][2] = {{1, INT64_C(1) << 62}, {1, INT64_C(1) << 62}, {1, INT64_C(1) << 62},
					  {1, INT64_C(1) << 62}, {2, 1}}; /* sums to 2^64: 0 */
	check_fold(wrap, 5, again, 2, c, 1);
}

/* The values of p's samples, in order, against want. */
static void check_values(const pf_profile *p, const int64_t *want, size_t n)
{
	CHECK_EQ_INT(p->nsamples, n);
	for (size_t i = 0; i < n && i < p->nsamples; i++)
		CHECK_EQ_INT(p->values[p->samples[i].values], want[i]);
}

/* pprof's Scale: math.Round (half away from zero), all-zero samples
 * dropped unless the ratio is 1; -normalize's total; values out of range
 * refused. */
static void test_scale(void)
{
	static const int64_t s[][2] = {{1, 5}, {2, 3}, {3, 0}, {1, -5}, {2, 1}};
	pf_err e = {0};
	pf_profile *p = with_samples(s, 5);
	CHECK_EQ_INT(pf_profile_weigh(p, 1, false, &e), 0);
	check_values(p, (const int64_t[]){5, 3, 0, -5, 1}, 5);
	CHECK_EQ_INT(pf_profile_weigh(p, 0.5, false, &e), 0);
	check_values(p, (const int64_t[]){3, 2, -3, 1}, 4);
	CHECK_EQ_INT(pf_profile_weigh(p, 0.1, false, &e), 0); /* 0.3, 0.2, -0.3, 0.1: all go */
	CHECK_EQ_INT(p->nsamples, 0);
	pf_profile_free(p);

	p = with_samples(s, 5); /* total 4: scaled by 2 * 1e9 / 4 */
	CHECK_EQ_INT(pf_profile_weigh(p, 2, true, &e), 0);
	check_values(p, (const int64_t[]){2500000000, 1500000000, -2500000000, 500000000}, 4);
	pf_profile_free(p);
	static const int64_t neg[][2] = {{1, -5}, {2, 3}}; /* total -2: by the weight alone */
	p = with_samples(neg, 2);
	CHECK_EQ_INT(pf_profile_weigh(p, 3, true, &e), 0);
	check_values(p, (const int64_t[]){-15, 9}, 2);
	pf_profile_free(p);

	static const int64_t big[][2] = {{1, INT64_C(1) << 62}};
	p = with_samples(big, 1);
	CHECK_EQ_INT(pf_profile_weigh(p, 1.5, false, &e), 0);
	CHECK_EQ_INT(pf_profile_weigh(p, 2, false, &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	pf_profile_free(p);
}

int main(void)
{
	test_scale();
	test_incompatible();
	test_header_rules();
	test_merger_folds();
	return check_report("test_pprof_merge");
}
