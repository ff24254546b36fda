/* pprof decoding: what it accepts and refuses (as google/pprof's
 * ParseUncompressed + CheckValid do), what the model holds, and the
 * messages that say where an input is wrong. Inputs are built by hand with
 * test_pprof_wire.h; each bad one is wrong in one way. That pprof refuses the
 * same inputs was checked with tests/refmerge; see the comments where pprof
 * accepts something surprising. */
#include "check.h"
#include "pprof.h"
#include "merge2.h"
#include "test_pprof_wire.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { F_SAMPLE_TYPE = 1, F_SAMPLE, F_MAPPING, F_LOCATION, F_FUNCTION, F_STRING, F_DROP, F_KEEP,
       F_TIME, F_DURATION, F_PERIOD_TYPE, F_PERIOD, F_COMMENT, F_DEFAULT_TYPE, F_DOC_URL };

/* Strings 0..6 of every input here. */
static void strings(pf_buf *b)
{
	static const char *const s[] = {"", "samples", "count", "main.f", "main.go", "/bin/app", "k"};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		pb_str(b, F_STRING, s[i]);
}

/* One sample type, one mapping (id 1), function (id 1), location (id 1). */
static void entities(pf_buf *b)
{
	pb_pair(b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pf_buf m = {0};
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 0x1000);
	pb_u(&m, 3, 0x2000);
	pb_u(&m, 5, 5);
	pb_msg(b, F_MAPPING, &m);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 3);
	pb_u(&m, 4, 4);
	pb_msg(b, F_FUNCTION, &m);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 1);
	pb_u(&m, 3, 0x1100);
	pb_pair(&m, 4, 1, 1, 2, 7);
	pb_msg(b, F_LOCATION, &m);
}

static void valid(pf_buf *b)
{
	strings(b);
	entities(b);
	pf_buf m = {0};
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 3);
	pb_msg(b, F_SAMPLE, &m);
}

/* With PPROF_DUMP_DIR set, every input is also written there (bad-N.pb,
 * good-N.pb), to check google/pprof's verdict (refmerge FILE fails on every bad one, passes on every good one). */
static void dump(const pf_buf *b, bool good)
{
	static int n;
	const char *dir = getenv("PPROF_DUMP_DIR");
	if (!dir)
		return;
	char path[4096];
	snprintf(path, sizeof path, "%s/%s-%d.pb", dir, good ? "good" : "bad", n++);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(b->data, 1, b->len, f);
		fclose(f);
	}
}

static pf_profile *decode(const pf_buf *b, pf_err *e)
{
	memset(e, 0, sizeof *e);
	return pf_profile_decode(b->data, b->len, e);
}

static void refused(pf_buf *b, const char *want_msg)
{
	pf_err e;
	dump(b, false);
	pf_profile *p = decode(b, &e);
	CHECK(p == NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	if (!strstr(e.msg, want_msg)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, want_msg);
		CHECK(0);
	}
	pf_profile_free(p);
	pf_buf_free(b);
}

static void test_wire_errors(void)
{
	pf_buf b = {0};
	refused(&b, "empty profile");

	pb_tag(&b, F_TIME, 0);
	refused(&b, "truncated varint at byte 1");

	valid(&b);
	pb_tag(&b, F_TIME, 0);
	for (int i = 0; i < 10; i++)
		pb_raw(&b, "\xff", 1);
	pb_raw(&b, "\x01", 1);
	refused(&b, "varint longer than 10 bytes");

	valid(&b);
	pb_tag(&b, 40, 3); /* a group, even in an unknown field */
	refused(&b, "unsupported wire type 3 (field 40)");
	valid(&b);
	pb_tag(&b, 40, 7);
	refused(&b, "unsupported wire type 7");

	valid(&b);
	pb_tag(&b, F_SAMPLE, 2);
	pb_varint(&b, 100);
	pb_raw(&b, "\x08\x01", 2);
	refused(&b, "length 100 runs past the end (2 bytes left)");

	valid(&b);
	pb_tag(&b, 41, 1);
	pb_raw(&b, "1234", 4);
	refused(&b, "truncated fixed64 field 41");
	valid(&b);
	pb_tag(&b, 41, 5);
	pb_raw(&b, "12", 2);
	refused(&b, "truncated fixed32 field 41");
}

static void test_wire_type_mismatch(void)
{
	pf_buf b = {0};
	pb_u(&b, F_SAMPLE_TYPE, 1);
	valid(&b);
	refused(&b, "sample_type (field 1) at byte 0 has wire type 0, want 2");

	valid(&b);
	pb_str(&b, F_PERIOD, "x");
	refused(&b, "period (field 12)");

	valid(&b);
	pf_buf m = {0};
	pb_tag(&m, 1, 1); /* mapping id as fixed64 */
	pb_raw(&m, "\1\0\0\0\0\0\0\0", 8);
	pb_msg(&b, F_MAPPING, &m);
	refused(&b, "mapping id (field 1)");

	strings(&b);
	entities(&b);
	pb_tag(&m, 1, 5); /* a location id as fixed32: repeated varints are packed or varints */
	pb_raw(&m, "\1\0\0\0", 4);
	pb_u(&m, 2, 1);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "sample location_id (field 1)");

	strings(&b);
	entities(&b);
	pb_bytes(&m, 1, "\x81", 1); /* a packed run of locations cut short */
	pb_u(&m, 2, 1);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "truncated varint");
}

static void test_string_errors(void)
{
	pf_buf b = {0};
	pb_str(&b, F_STRING, "x");
	refused(&b, "string_table[0] at byte 0 must be \"\"");

	/* No string table at all: pprof resolves drop_frames (index 0) anyway. */
	pb_u(&b, F_DURATION, 5);
	refused(&b, "string_table index 0 out of range (0 strings) in drop_frames");

	valid(&b);
	pf_buf m = {0};
	pb_u(&m, 1, 2);
	pb_u(&m, 2, 97);
	pb_msg(&b, F_FUNCTION, &m);
	refused(&b, "string_table index 97 out of range (7 strings) in function id 2 name");

	valid(&b);
	pb_u(&b, F_DOC_URL, (uint64_t)-1);
	refused(&b, "string_table index -1 out of range (7 strings) in doc_url");

	valid(&b);
	pb_u(&b, F_COMMENT, 3);
	pb_u(&b, F_COMMENT, 7);
	refused(&b, "in comment index 1");

	strings(&b);
	entities(&b);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 1);
	pb_pair(&m, 3, 1, 6, 2, 70);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "string_table index 70 out of range (7 strings) in sample index 0 labels");

	/* pprof resolves a label's key even when it then drops the label. */
	strings(&b);
	entities(&b);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 1);
	pb_pair(&m, 3, 1, 60, 0, 0);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "string_table index 60 out of range (7 strings) in sample index 0 labels");
}

static void test_id_errors(void)
{
	pf_buf b = {0}, m = {0};
	valid(&b);
	pb_u(&m, 1, 1);
	pb_msg(&b, F_MAPPING, &m);
	refused(&b, "duplicate mapping id 1");

	valid(&b);
	pb_u(&m, 2, 3);
	pb_msg(&b, F_FUNCTION, &m);
	refused(&b, "function at byte");

	valid(&b);
	pb_u(&m, 1, 1);
	pb_msg(&b, F_FUNCTION, &m);
	refused(&b, "duplicate function id 1");

	valid(&b);
	pb_u(&m, 3, 5);
	pb_msg(&b, F_LOCATION, &m);
	refused(&b, "has the reserved id 0");

	valid(&b);
	pb_u(&m, 1, 1);
	pb_msg(&b, F_LOCATION, &m);
	refused(&b, "duplicate location id 1");

	valid(&b);
	pb_u(&m, 1, 9);
	pb_pair(&m, 4, 1, 0, 2, 3); /* a line without function */
	pb_msg(&b, F_LOCATION, &m);
	refused(&b, "location id 9");

	valid(&b);
	pb_u(&m, 1, 9);
	pb_pair(&m, 4, 1, 1, 2, 3);
	pb_pair(&m, 4, 1, 8, 2, 3);
	pb_msg(&b, F_LOCATION, &m);
	refused(&b, "line 1: function id 8 not found");

	valid(&b);
	pb_u(&m, 1, 4);
	pb_u(&m, 2, 1);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "sample index 1 (byte");
}

static void test_sample_errors(void)
{
	pf_buf b = {0}, m = {0};
	valid(&b);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 1);
	pb_u(&m, 2, 1);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "sample index 1 (byte");

	strings(&b);
	pb_msg(&b, F_SAMPLE, &m);
	refused(&b, "1 samples but no sample types");

	valid(&b);
	pb_u(&b, F_TIME, 5);
	pb_u(&b, F_TIME, 6);
	refused(&b, "concatenated profiles");
}

/* Things pprof accepts that a stricter reader would not. */
static void test_accepted_quirks(void)
{
	pf_buf b = {0}, m = {0};
	pf_err e;
	strings(&b);
	pb_u(&b, 0, 1);     /* field 0 */
	pb_u(&b, F_TIME, 0); /* time_nanos twice, the first zero */
	pb_u(&b, F_TIME, 77);
	pb_pair(&b, F_PERIOD_TYPE, 1, 1, 2, 2);
	pb_pair(&b, F_PERIOD_TYPE, 1, 6, 0, 0); /* replaces the first whole */
	entities(&b);
	pb_u(&m, 1, 2);
	pb_u(&m, 2, 42); /* no mapping has id 42: pprof makes it "no mapping" */
	pb_tag(&m, 9, 5);
	pb_raw(&m, "abcd", 4);
	pb_msg(&b, F_LOCATION, &m);
	pb_packed(&m, 1, (const uint64_t[]){2, 1, 2}, 3);
	pb_u(&m, 2, 4);
	pb_pair(&m, 3, 1, 6, 2, 3);            /* k=main.f */
	pb_pair(&m, 3, 1, 6, 0, 0);            /* k with no value: dropped */
	pf_buf l = {0};
	pb_u(&l, 1, 5);
	pb_u(&l, 2, 4);  /* a string value wins: a string label */
	pb_u(&l, 3, 9);
	pb_u(&l, 4, 99); /* out of range, but pprof does not resolve it here */
	pb_msg(&m, 3, &l);
	pb_u(&l, 1, 1);
	pb_u(&l, 3, 0);
	pb_u(&l, 4, 2); /* zero with a unit: a numeric label */
	pb_msg(&m, 3, &l);
	pb_u(&l, 1, 1);
	pb_u(&l, 3, 8); /* no unit, but its key has one: padded with "" */
	pb_msg(&m, 3, &l);
	pb_msg(&b, F_SAMPLE, &m);
	dump(&b, true);
	pf_profile *p = decode(&b, &e);
	pf_buf_free(&b);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->time_nanos, 77);
	CHECK_EQ_STR(pf_profile_str(p, p->period_type.type, NULL), "k");
	CHECK_EQ_INT(p->period_type.unit, 0);
	CHECK_EQ_INT(p->nlocations, 2);
	CHECK_EQ_INT(p->locations[1].mapping, PF_NONE);
	CHECK_EQ_INT(p->locations[0].mapping, 0);
	CHECK_EQ_INT(p->nsamples, 1);
	const pf_sample *s = &p->samples[0];
	CHECK_EQ_INT(s->nlocs, 3);
	CHECK_EQ_INT(p->sample_locs[s->locs], 1);
	CHECK_EQ_INT(p->nnum_labels, 2); /* the two string labels are checked, not kept */
	CHECK_EQ_INT(s->nnum_labels, 2);
	const pf_num_label *n = &p->num_labels[s->num_labels];
	CHECK_EQ_STR(pf_profile_str(p, n[0].key, NULL), "samples");
	CHECK_EQ_INT(n[0].num, 0);
	CHECK_EQ_STR(pf_profile_str(p, n[0].unit, NULL), "count");
	CHECK_EQ_INT(n[1].num, 8);
	CHECK_EQ_INT(n[1].unit, 0);
	pf_profile_free(p);
}

static bool contains(const pf_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i + n <= b->len; i++)
		if (memcmp(b->data + i, s, n) == 0)
			return true;
	return false;
}

/* Sample values of "cpu"/"nanoseconds" over the duration, as datadog-pgo logs them. */
static void test_facts(void)
{
	static const char *const s[] = {"", "samples", "count", "cpu", "nanoseconds"};
	pf_buf b = {0}, m = {0};
	pf_err e;
	for (size_t i = 0; i < 5; i++)
		pb_str(&b, F_STRING, s[i]);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 3, 2, 4);
	pb_packed(&m, 2, (const uint64_t[]){1, 3000000000}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	pb_packed(&m, 2, (const uint64_t[]){1, 1000000000}, 2);
	pb_msg(&b, F_SAMPLE, &m);
	pb_u(&b, F_DURATION, 2000000000);
	dump(&b, true);
	pf_profile *p = decode(&b, &e);
	pf_buf_free(&b);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(pf_profile_cpu_cores(p) == 2.0);
	CHECK_EQ_INT(p->duration_nanos, 2000000000);
	CHECK_EQ_INT(p->nsamples, 2);
	p->duration_nanos = 0;
	CHECK(pf_profile_cpu_cores(p) == -1);
	p->duration_nanos = 1;
	p->sample_types[1].unit = 2; /* cpu/count: not the type */
	CHECK(pf_profile_cpu_cores(p) == -1);

	pf_buf out = {0};
	CHECK_EQ_INT(pf_profile_add_comment(p, "from test", &e), 0);
	CHECK_EQ_INT(pf_profile_encode(p, &out, &e), 0);
	/* comment = string 4 ("nanoseconds" is no longer used), default_sample_type 0 */
	const char tail[] = "\x68\x04\x70\x00";
	CHECK(out.len > 4 && memcmp(out.data + out.len - 4, tail, 4) == 0);
	CHECK(contains(&out, "\x32\x09" "from test", 11));
	pf_buf_free(&out);
	pf_profile_free(p);
}

/* A string table with repeats ("main.f" twice, "" twice) and an entry
 * nothing names, decoded whole, to be merged, and as the first of a
 * merge: each keeps only the strings named, the whole and the first each
 * distinct one once, the other each entry named once; all give the same
 * strings by reference and count the table's entries for -limit strings. */
static void test_repeated_strings(void)
{
	static const char *const s[] = {"", "samples", "count", "main.f", "main.go", "main.f", "", "unnamed"};
	pf_buf b = {0}, m = {0};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		pb_str(&b, F_STRING, s[i]);
	pb_pair(&b, F_SAMPLE_TYPE, 1, 1, 2, 2);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 5); /* name: the second "main.f" */
	pb_u(&m, 3, 6); /* system_name: the second "" */
	pb_u(&m, 4, 4);
	pb_msg(&b, F_FUNCTION, &m);
	pb_u(&m, 1, 1);
	pb_pair(&m, 4, 1, 1, 2, 7);
	pb_msg(&b, F_LOCATION, &m);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 3);
	pb_msg(&b, F_SAMPLE, &m);
	pf_err e = {0};
	pf_profile *whole = pf_profile_decode(b.data, b.len, &e);
	pf_buf_free(&b);
	CHECK(whole != NULL);
	if (!whole)
		return;
	CHECK_EQ_INT(whole->nstring_table, 8);
	CHECK_EQ_INT(whole->str.nstrs, 5);
	const pf_function *f = &whole->functions[0];
	CHECK(strcmp(pf_profile_str(whole, f->name, NULL), "main.f") == 0);
	CHECK(strcmp(pf_profile_str(whole, f->system_name, NULL), "") == 0);
	CHECK(strcmp(pf_profile_str(whole, f->filename, NULL), "main.go") == 0);
	CHECK_EQ_INT(whole->functions[0].system_name, 0); /* "" is id 0 */
	pf_profile_free(whole);
}

/* b merged into a copy of itself: its one sample, values doubled, with
 * both numeric labels and their units. */
static void check_merges_with_itself(const pf_buf *b)
{
	pf_err e = {0};
	pf_profile *a = pf_profile_decode(b->data, b->len, &e), *c = pf_profile_decode(b->data, b->len, &e);
	pf_profile *m = NULL;
	if (a && c) {
		m = merge2(a, c, "a", "c", &e);
	} else {
		pf_profile_free(a);
		pf_profile_free(c);
	}
	CHECK(m && m->nsamples == 1 && m->values[0] == 2 && m->nnum_labels == 2);
	if (m)
		for (size_t i = 0; i < m->nnum_labels; i++)
			CHECK(m->num_labels[i].unit != PF_NONE);
	pf_profile_free(m);
}

/* A numeric label key named by two string table entries that are both
 * "" is one key: once one of its labels has a unit, the others get ""
 * (found by the pprof fuzz target). */
static void test_units_padded_by_key_string(void)
{
	pf_buf b = {0}, m = {0}, l = {0};
	strings(&b);
	pb_str(&b, F_STRING, "");  /* 7 */
	pb_str(&b, F_STRING, "u"); /* 8 */
	entities(&b);
	pb_u(&m, 1, 1);
	pb_u(&m, 2, 1);
	pb_u(&l, 3, 3); /* key 0, no unit */
	pb_msg(&m, 3, &l);
	pb_u(&l, 1, 7); /* key 7, also "", with a unit */
	pb_u(&l, 3, 2);
	pb_u(&l, 4, 8);
	pb_msg(&m, 3, &l);
	pb_msg(&b, F_SAMPLE, &m);
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(b.data, b.len, &e);
	CHECK(p && p->nnum_labels == 2);
	if (p)
		for (size_t i = 0; i < p->nnum_labels; i++)
			CHECK(p->num_labels[i].unit != PF_NONE);
	pf_profile_free(p);
	check_merges_with_itself(&b);
	pf_buf_free(&b);
}

int main(void)
{
	test_wire_errors();
	test_wire_type_mismatch();
	test_string_errors();
	test_id_errors();
	test_sample_errors();
	test_accepted_quirks();
	test_facts();
	test_repeated_strings();
	test_units_padded_by_key_string();
	return check_report("test_pprof_decode");
}
