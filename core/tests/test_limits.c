/* -limit NAME=VALUE and the JSON depth scan. */
#include "check.h"
#include "limits.h"

static void set_ok(pf_limit_set *l, const char *spec)
{
	pf_err e = {0};
	CHECK_EQ_INT(pf_limits_set(l, spec, &e), 0);
}

static void set_bad(const char *spec, const char *want)
{
	pf_limit_set l;
	pf_limits_default(&l);
	pf_err e = {0};
	CHECK_EQ_INT(pf_limits_set(&l, spec, &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_USAGE);
	CHECK(strstr(e.msg, want) != NULL);
}

int main(void)
{
	pf_limit_set l;
	pf_limits_default(&l);
	CHECK_EQ_INT(l.bytes, 4ULL << 30);
	set_ok(&l, "bytes=8GiB");
	CHECK_EQ_INT(l.bytes, 8ULL << 30);
	set_ok(&l, "source-bytes=1500MB");
	CHECK_EQ_INT(l.source_bytes, 1500000000ULL);
	set_ok(&l, "json-bytes=123");
	CHECK_EQ_INT(l.json_bytes, 123);
	set_ok(&l, "stack-depth=7");
	CHECK_EQ_INT(l.stack_depth, 7);
	set_ok(&l, "json-depth=1000");
	CHECK_EQ_INT(l.json_depth, 1000);
	/* cJSON refuses deeper nesting as invalid JSON, not as too deep. */
	set_bad("json-depth=1001", "invalid value \"json-depth=1001\" for flag -limit: json-depth is at most 1000");
	set_bad("stack-depth=7KiB", "want stack-depth=a positive count");
	set_bad("bytes=0", "want bytes=SIZE");
	set_bad("bytes=-1", "want bytes=SIZE");
	set_bad("bytes=99999999999999999999", "want bytes=SIZE");
	set_bad("bytes=5PiB", "want bytes=SIZE");
	set_bad("bytes", "want bytes=SIZE");
	set_bad("depth=3", "no limit \"depth\" (want one of bytes, source-bytes");
	set_ok(&l, "memory=1GiB");
	CHECK_EQ_INT(l.memory, 1ULL << 30);

	/* Running out of memory is said as -limit memory's refusal; other
	 * errors are left as they were. */
	pf_err e = {0};
	pf_fail(&e, PF_EXIT_INTERNAL, "a.pprof: out of memory decoding the profile");
	pf_limits_name_memory(&l, &e);
	CHECK_EQ_INT(e.code, PF_EXIT_DATA);
	CHECK_EQ_STR(e.msg, "a.pprof: out of memory decoding the profile: more than -limit memory=1073741824 bytes allows");
	e = (pf_err){0};
	pf_fail(&e, PF_EXIT_SOURCE, "cannot open: out of memory");
	pf_limits_name_memory(&l, &e);
	CHECK_EQ_INT(e.code, PF_EXIT_SOURCE);
	CHECK_EQ_STR(e.msg, "cannot open: out of memory");

	CHECK_EQ_INT(pf_json_depth("{}", 2), 1);
	CHECK_EQ_INT(pf_json_depth("{\"a\":[[{}]]}", 12), 4);
	CHECK_EQ_INT(pf_json_depth("{\"a\":\"[[[[\\\"[[\"}", 15), 1);
	CHECK_EQ_INT(pf_json_depth("]]]]", 4), 0);
	CHECK_EQ_INT(pf_json_depth("", 0), 0);
	return check_report("test_limits");
}
