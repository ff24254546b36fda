/* test_pprof_trim: -trim and the compiler's PGO edges on small hand-made
 * profiles. Each profile is written as protobuf, decoded, trimmed; the test
 * checks the edges against what Go's rule gives by hand (cmd/internal/pgo,
 * internal/profile NewGraph), the trimmed profile's shape, that trimmed and
 * full give the same edges, the preprofile text, Go's refusals, and that
 * every allocation of trim, edges and preprofile can fail cleanly.
 *
 * The end-to-end proof against the Go toolchain itself is in
 * tests/trim_test.go. */
#include "check.h"
#include "pgo.h"
#include "pprof.h"
#include "test_pprof_wire.h"
#include "failalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hand-made profiles ---- */

typedef struct {
	const char *name;
	int64_t start_line;
} tfn;

typedef struct {
	uint64_t address;
	int nlines;
	struct {
		int fn; /* index into the functions, from 0 */
		int64_t line;
	} lines[3]; /* innermost first */
} tloc;

typedef struct {
	int nlocs;
	int locs[6]; /* location indexes, leaf first */
	int64_t v[2];
} tsample;

typedef struct {
	const char *types[2][2]; /* type, unit */
	int ntypes;
	tfn fns[6];
	int nfns;
	tloc locs[6];
	int nlocs;
	tsample samples[10];
	int nsamples;
} tprof;

/* The string table: "" then every string once. */
typedef struct {
	const char *s[32];
	size_t n;
} tstrs;

static uint64_t str_id(tstrs *t, const char *s)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->s[i], s) == 0)
			return i;
	t->s[t->n] = s;
	return t->n++;
}

static void put_sample(pf_buf *b, const tprof *t, const tsample *s)
{
	pf_buf m = {0};
	uint64_t ids[6], values[2];
	for (int i = 0; i < s->nlocs; i++)
		ids[i] = (uint64_t)s->locs[i] + 1;
	for (int i = 0; i < t->ntypes; i++)
		values[i] = (uint64_t)s->v[i];
	if (s->nlocs)
		pb_packed(&m, 1, ids, (size_t)s->nlocs);
	pb_packed(&m, 2, values, (size_t)t->ntypes);
	pb_msg(b, 2, &m);
}

static void put_location(pf_buf *b, const tloc *l, uint64_t id)
{
	pf_buf m = {0};
	pb_u(&m, 1, id);
	pb_u(&m, 2, 1); /* the one mapping */
	pb_u(&m, 3, l->address);
	for (int i = 0; i < l->nlines; i++)
		pb_pair(&m, 4, 1, (uint64_t)l->lines[i].fn + 1, 2, (uint64_t)l->lines[i].line);
	pb_msg(b, 4, &m);
}

static void put_function(pf_buf *b, tstrs *st, const tfn *f, uint64_t id)
{
	pf_buf m = {0};
	pb_u(&m, 1, id);
	pb_u(&m, 2, str_id(st, f->name));
	pb_u(&m, 3, str_id(st, f->name));
	pb_u(&m, 4, str_id(st, "/src/app/main.go"));
	pb_u(&m, 5, (uint64_t)f->start_line);
	pb_msg(b, 5, &m);
}

/* Encodes t as runtime/pprof would, with a mapping, file names, a label
 * and a comment, and decodes it. */
static pf_profile *build(const tprof *t)
{
	tstrs st = {{""}, 1};
	pf_buf b = {0}, m = {0};
	for (int i = 0; i < t->ntypes; i++)
		pb_pair(&b, 1, 1, str_id(&st, t->types[i][0]), 2, str_id(&st, t->types[i][1]));
	for (int i = 0; i < t->nsamples; i++)
		put_sample(&b, t, &t->samples[i]);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 0x400000);
	pb_u(&m, 3, 0x800000);
	pb_u(&m, 5, str_id(&st, "/bin/app"));
	pb_msg(&b, 3, &m);
	for (int i = 0; i < t->nlocs; i++)
		put_location(&b, &t->locs[i], (uint64_t)i + 1);
	for (int i = 0; i < t->nfns; i++)
		put_function(&b, &st, &t->fns[i], (uint64_t)i + 1);
	pb_u(&b, 13, str_id(&st, "pgofetch: source test"));
	pb_u(&b, 12, 10000000);
	pb_pair(&b, 11, 1, str_id(&st, "cpu"), 2, str_id(&st, "nanoseconds"));
	for (size_t i = 0; i < st.n; i++)
		pb_str(&b, 6, st.s[i]);
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(b.data, b.len, &e);
	if (!p)
		fprintf(stderr, "decode: %s\n", e.msg);
	pf_buf_free(&b);
	return p;
}

/* ---- checks ---- */

/* The edges as preprofile text, or "error <code>: <message>". */
static char *preprofile_of(const pf_profile *p)
{
	pf_pgo_edges g;
	pf_err e = {0};
	pf_buf out = {0};
	if (pf_pgo_edges_of(p, &g, &e) != 0) {
		char *s = malloc(sizeof e.msg + 16);
		if (s)
			snprintf(s, sizeof e.msg + 16, "error %d: %s", e.code, e.msg);
		return s;
	}
	if (pf_preprofile_write(&g, &out, &e) != 0 || pf_buf_putc(&out, '\0') != 0) {
		pf_buf_free(&out);
		out.data = NULL;
	}
	pf_pgo_edges_free(&g);
	return (char *)out.data;
}

/* Trims p and requires the same compiler input; returns the trimmed profile. */
static pf_profile *trim_same(const pf_profile *p, const char *want)
{
	pf_err e = {0};
	pf_profile *q = pf_profile_trim(p, &e);
	CHECK(q != NULL);
	if (!q) {
		fprintf(stderr, "trim: %s\n", e.msg);
		return NULL;
	}
	char *full = preprofile_of(p), *trimmed = preprofile_of(q);
	CHECK_EQ_STR(full, want);
	CHECK_EQ_STR(trimmed, want);
	free(full);
	free(trimmed);
	return q;
}

static int64_t value(const pf_profile *q, size_t sample)
{
	return q->values[q->samples[sample].values];
}

static const char *fname(const pf_profile *q, size_t loc, uint32_t line)
{
	const pf_location *l = &q->locations[loc];
	return pf_profile_str(q, q->functions[q->lines[l->lines + line].function].name, NULL);
}

/* A CPU profile as runtime/pprof writes it: samples/count and cpu/nanoseconds. */
#define CPU_TYPES .types = {{"samples", "count"}, {"cpu", "nanoseconds"}}, .ntypes = 2

static const tprof basic = {
	CPU_TYPES,
	.fns = {{"main.a", 10}, {"main.b", 20}, {"main.c", 30}, {"runtime.x", 40}},
	.nfns = 4,
	.locs = {{0x100, 1, {{1, 22}}}, {0x200, 1, {{0, 12}}}, {0x300, 1, {{2, 33}}},
		 {0x400, 2, {{3, 41}, {0, 15}}}},
	.nlocs = 4,
	.samples = {{3, {0, 1, 2}, {2, 20}}, {2, {0, 1}, {3, 30}}, {2, {3, 2}, {1, 10}},
		    {4, {0, 1, 2, 2}, {0, 5}}, {0, {0}, {4, 40}}},
	.nsamples = 5,
};

/* Go's rule by hand: [b a c] and [b a] give a->b at 12-10 = 2, weight 2+3;
 * [x+a c] walks c, a (outer inline frame), x: c->a at 3, a->x at 15-10 = 5;
 * the sample of count 0 and the empty stack add nothing. Weight 1 ties
 * are ordered by caller name. */
static const char basic_want[] = "GO PREPROFILE V1\n"
				 "main.a\nmain.b\n2 5\n"
				 "main.a\nruntime.x\n5 1\n"
				 "main.c\nmain.a\n3 1\n";

static void test_basic(void)
{
	pf_profile *p = build(&basic);
	CHECK(p != NULL);
	if (!p)
		return;
	pf_profile *q = trim_same(p, basic_want);
	if (q) {
		CHECK_EQ_INT(q->nsample_types, 1);
		CHECK_EQ_STR(pf_profile_str(q, q->sample_types[0].type, NULL), "samples");
		CHECK_EQ_INT(q->nsamples, 2); /* [b a] 5, [x+a c] 1 */
		CHECK_EQ_INT(value(q, 0), 5);
		CHECK_EQ_INT(value(q, 1), 1);
		CHECK_EQ_INT(q->nmappings, 0);
		CHECK_EQ_INT(q->nlocations, 4);
		for (size_t i = 0; i < q->nlocations; i++) {
			CHECK_EQ_INT(q->locations[i].address, 0); /* no recursion: no address needed */
			CHECK_EQ_INT(q->locations[i].id, i + 1);
		}
		CHECK_EQ_STR(fname(q, 2, 0), "runtime.x");
		CHECK_EQ_STR(fname(q, 2, 1), "main.a");
		CHECK_EQ_INT(q->nfunctions, 4);
		for (size_t i = 0; i < q->nfunctions; i++)
			CHECK(q->functions[i].system_name == 0 && q->functions[i].filename == 0);
		CHECK_EQ_INT(q->ncomments, 1);
		CHECK_EQ_INT(q->period, 10000000);
	}
	pf_profile_free(q);
	pf_profile_free(p);
}

/* fib calls itself on line 12, at two return addresses: two nodes, hence a
 * fib -> fib edge; they must stay two nodes, so their addresses stay. */
static const tprof recursion = {
	CPU_TYPES,
	.fns = {{"main.fib", 10}, {"main.main", 30}},
	.nfns = 2,
	.locs = {{0x10, 1, {{0, 12}}}, {0x20, 1, {{0, 12}}}, {0x30, 1, {{1, 33}}}, {0x40, 1, {{0, 14}}}},
	.nlocs = 4,
	.samples = {{3, {0, 1, 2}, {3, 30}}, {2, {1, 2}, {1, 10}}, {2, {0, 0}, {2, 20}}, {2, {3, 1}, {4, 40}}},
	.nsamples = 4,
};

/* [fib@10 fib@20 main] 3: fib->fib at 2; [fib@20 main] 1: main->fib at 3;
 * [fib@10 fib@10] 2: one node, no edge; [fib:14 fib@20] 4: fib->fib at 2. */
static const char recursion_want[] = "GO PREPROFILE V1\n"
				     "main.fib\nmain.fib\n2 7\n"
				     "main.main\nmain.fib\n3 1\n";

static void test_recursion(void)
{
	pf_profile *p = build(&recursion);
	CHECK(p != NULL);
	pf_profile *q = p ? trim_same(p, recursion_want) : NULL;
	if (q) {
		/* fib:12 stays at its two addresses, and in every location that holds it */
		CHECK_EQ_INT(q->nlocations, 4);
		CHECK_EQ_INT(q->locations[0].address, 0x10);
		CHECK_EQ_INT(q->locations[1].address, 0x20);
		CHECK_EQ_INT(q->locations[2].address, 0);
		CHECK_EQ_INT(q->locations[3].address, 0);
	}
	pf_profile_free(q);
	pf_profile_free(p);
}

/* Values that cancel: [b a] +5 and [b a c] -5 leave a->b with weight 0,
 * which Go still lists (the edge was created); written as 1 and -1. */
static const tprof cancel = {
	CPU_TYPES,
	.fns = {{"main.a", 10}, {"main.b", 20}, {"main.c", 30}},
	.nfns = 3,
	.locs = {{0x100, 1, {{1, 22}}}, {0x200, 1, {{0, 12}}}, {0x300, 1, {{2, 33}}}},
	.nlocs = 3,
	.samples = {{2, {0, 1}, {5, 50}}, {3, {0, 1, 2}, {-5, -50}}, {2, {1, 2}, {2, 20}}},
	.nsamples = 3,
};

static const char cancel_want[] = "GO PREPROFILE V1\n"
				  "main.c\nmain.a\n3 2\n"
				  "main.a\nmain.b\n2 0\n";

static void test_cancel(void)
{
	pf_profile *p = build(&cancel);
	CHECK(p != NULL);
	pf_profile *q = p ? trim_same(p, cancel_want) : NULL;
	if (q) {
		CHECK_EQ_INT(q->nsamples, 3);
		CHECK_EQ_INT(value(q, 0), 1);
		CHECK_EQ_INT(value(q, 1), -1);
		CHECK_EQ_INT(value(q, 2), 2);
		CHECK_EQ_INT(q->locations[0].address, 0x100); /* negative values: addresses stay */
	}
	pf_profile_free(q);
	pf_profile_free(p);
}

/* What Go refuses, and what it ignores. */
static void test_refusals(void)
{
	tprof t = basic;
	for (int i = 0; i < t.nfns; i++)
		t.fns[i].start_line = 0;
	pf_profile *p = build(&t);
	char *got = p ? preprofile_of(p) : NULL;
	CHECK(got && strstr(got, "error 4: profile missing Function.start_line data"));
	free(got);
	pf_profile_free(p);

	t = basic;
	t.types[0][0] = "wall";
	t.types[1][0] = "alloc";
	p = build(&t);
	got = p ? preprofile_of(p) : NULL;
	CHECK(got && strstr(got, "error 4: profile does not contain a sample index"));
	free(got);
	pf_err e = {0};
	CHECK(p && pf_profile_trim(p, &e) == NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	pf_profile_free(p);

	/* Samples, but none of count > 0: Go finds no node with a start line. */
	t = basic;
	for (int i = 0; i < t.nsamples; i++)
		t.samples[i].v[0] = 0;
	p = build(&t);
	got = p ? preprofile_of(p) : NULL;
	CHECK(got && strstr(got, "error 4: profile missing Function.start_line data"));
	free(got);
	pf_profile_free(p);

	/* No samples: nothing to do, the header alone. */
	t = basic;
	t.nsamples = 0;
	p = build(&t);
	pf_profile *q = p ? trim_same(p, "GO PREPROFILE V1\n") : NULL;
	CHECK(q && q->nsamples == 0 && q->nlocations == 0 && q->nfunctions == 0);
	pf_profile_free(q);
	pf_profile_free(p);
}

/* The first type the compiler reads, here the second one (cpu): the
 * sample of count 0 has cpu 5 and counts. */
static void test_second_type(void)
{
	tprof t = basic;
	t.types[0][0] = "wall";
	t.types[1][0] = "cpu";
	pf_profile *p = build(&t);
	pf_profile *q = p ? trim_same(p, "GO PREPROFILE V1\n"
					 "main.a\nmain.b\n2 55\n"
					 "main.a\nruntime.x\n5 10\n"
					 "main.c\nmain.a\n3 10\n")
			  : NULL;
	if (q) {
		CHECK_EQ_INT(q->nsample_types, 1);
		CHECK_EQ_STR(pf_profile_str(q, q->sample_types[0].type, NULL), "cpu");
		CHECK_EQ_INT(q->nsamples, 2);
		CHECK_EQ_INT(value(q, 0), 55);
	}
	pf_profile_free(q);
	pf_profile_free(p);
}

/* Whether edge a comes before edge b in Go's sortByWeight order. */
static bool before_in_go_order(const pf_pgo_edge *a, const pf_pgo_edge *b)
{
	if (a->weight != b->weight)
		return a->weight > b->weight;
	int c = strcmp(a->caller, b->caller);
	if (c == 0)
		c = strcmp(a->callee, b->callee);
	return c < 0 || (c == 0 && a->offset < b->offset);
}

/* pf_pgo_edges_same: pf_pgo_edges_of lists edges in Go's order, a total
 * one, so the same edges give equal lists; a weight, a key or an edge more
 * or less is not the same. */
static void test_same_edges(void)
{
	const tprof *profiles[] = {&basic, &recursion, &cancel};
	for (size_t i = 0; i < 3; i++) {
		pf_profile *p = build(profiles[i]);
		pf_err e = {0};
		pf_pgo_edges sorted, again, other;
		CHECK_EQ_INT(pf_pgo_edges_of(p, &sorted, &e), 0);
		CHECK_EQ_INT(pf_pgo_edges_of(p, &again, &e), 0);
		CHECK(sorted.nedges > 1);
		for (size_t k = 1; k < sorted.nedges; k++)
			CHECK(before_in_go_order(&sorted.edges[k - 1], &sorted.edges[k]));
		CHECK(pf_pgo_edges_same(&sorted, &again));
		CHECK(pf_pgo_edges_same(&again, &sorted));
		/* one weight moved from an edge to another: same total, other edges */
		CHECK_EQ_INT(pf_pgo_edges_of(p, &other, &e), 0);
		other.edges[0].weight += 1;
		other.edges[1].weight -= 1;
		CHECK(!pf_pgo_edges_same(&sorted, &other));
		other.edges[0].weight -= 1;
		other.edges[1].weight += 1;
		CHECK(pf_pgo_edges_same(&sorted, &other));
		other.edges[1].offset += 1; /* another key */
		CHECK(!pf_pgo_edges_same(&sorted, &other));
		other.edges[1].offset -= 1;
		other.nedges--; /* one edge fewer */
		CHECK(!pf_pgo_edges_same(&sorted, &other));
		other.nedges++;
		pf_pgo_edges_free(&sorted);
		pf_pgo_edges_free(&again);
		pf_pgo_edges_free(&other);
		pf_profile_free(p);
	}
}

#ifndef NO_INTERPOSE
/* Every allocation of trim + edges + preprofile fails in turn: each run
 * fails with PF_EXIT_INTERNAL, leaving nothing allocated. */
static int oom_scenario(const pf_profile *p, pf_err *e)
{
	pf_profile *q = pf_profile_trim(p, e);
	if (!q)
		return -1;
	pf_pgo_edges g;
	pf_buf out = {0};
	pf_pgo_edges u = {0};
	int rc = pf_pgo_edges_of(q, &g, e);
	if (rc == 0)
		rc = pf_pgo_edges_of(q, &u, e);
	if (rc == 0 && !pf_pgo_edges_same(&g, &u))
		rc = -1;
	pf_pgo_edges_free(&u);
	if (rc == 0)
		rc = pf_preprofile_write(&g, &out, e);
	if (rc == 0)
		rc = pf_profile_encode(q, &out, e);
	pf_pgo_edges_free(&g);
	pf_buf_free(&out);
	pf_profile_free(q);
	return rc;
}

static void test_oom(void)
{
	pf_profile *p = build(&recursion);
	long runs = 0;
	for (long n = 0; p; n++) {
		pf_err e = {0};
		alloc = (alloc_state){.armed = true, .fail_at = n};
		int rc = oom_scenario(p, &e);
		alloc.armed = false;
		CHECK_EQ_INT(alloc.live, 0);
		if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0);
			break;
		}
		CHECK(rc != 0);
		CHECK_EQ_INT(e.code, PF_EXIT_INTERNAL);
		runs++;
	}
	CHECK(runs > 20);
	printf("failed each of %ld allocations in turn\n", runs);
	pf_profile_free(p);
}
#else
static void test_oom(void) {}
#endif

int main(void)
{
	test_basic();
	test_recursion();
	test_cancel();
	test_refusals();
	test_second_type();
	test_same_edges();
	test_oom();
	return check_report("test_pprof_trim");
}
