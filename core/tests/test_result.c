/* test_result.c: -result's object and its github rendering, exactly; a
 * failure's error and codes; every allocation failing in turn (an error,
 * nothing leaked). The end-to-end tests (tests/result) run it with every
 * source and outcome. */
#include "check.h"
#include "failalloc.h"
#include "result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pgofetch-test-result-XXXXXX";
static char file[256];

static void options(pf_options *o, const char *format)
{
	memset(o, 0, sizeof *o);
	pf_limits_default(&o->limits);
	o->result = file;
	o->result_format = format;
	o->dest = "no/such/dir/default.pgo"; /* nothing in place to describe */
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void record_run(pf_result *r)
{
	char *ids[] = {"a1", "b\"2"};
	pf_result_source(r, "profile-id", "a1", 10, 3.5, 120000000000LL);
	pf_result_source(r, "profile-id", "b\"2", 20, 0.5, 259200000000000000LL);
	pf_result_wrote(r, true, 25, 1234, ids, 2, "profile-id:(a1 OR b\"2)");
}

static void written(void)
{
	pf_options o;
	options(&o, "json");
	pf_result r;
	pf_result_init(&r);
	record_run(&r);
	pf_err failure = {0}, e = {0};
	CHECK_EQ_INT(pf_result_write(&r, &o, &failure, 0, &e), 0);
	pf_result_free(&r);
	CHECK_EQ_STR(slurp(file),
		     "{\"version\":\"" PGOFETCH_VERSION "\",\"outcome\":\"written\",\"dest\":\"no/such/dir/default.pgo\","
		     "\"path\":\"no/such/dir/default.pgo\",\"changed\":true,\"samples\":25,\"bytes\":1234,"
		     "\"profile-ids\":[\"a1\",\"b\\\"2\"],\"debug-query\":\"profile-id:(a1 OR b\\\"2)\","
		     "\"sources\":[{\"profile-id\":\"a1\",\"samples\":10,\"cpu-cores\":3.5,\"age\":120000000000},"
		     "{\"profile-id\":\"b\\\"2\",\"samples\":20,\"cpu-cores\":0.5,\"age\":259200000000000000}],"
		     "\"error\":\"\",\"error-code\":0,\"exit-code\":0}\n");
}

static void failed_github(void)
{
	pf_options o;
	options(&o, "github");
	pf_result r;
	pf_result_init(&r);
	pf_result_source(&r, "source", "x.pprof", 10, 1, 0);
	pf_err failure = {0}, e = {0};
	pf_fail(&failure, PF_EXIT_SOURCE, "y\r\nz: cannot open");
	CHECK_EQ_INT(pf_result_write(&r, &o, &failure, 3, &e), 0);
	pf_result_free(&r);
	CHECK_EQ_STR(slurp(file), "version=" PGOFETCH_VERSION "\noutcome=failed\ndest=no/such/dir/default.pgo\npath=\n"
				  "changed=false\nsamples=0\nbytes=0\nprofile-ids=\ndebug-query=\nsources=1\n"
				  "error=y  z: cannot open\nerror-code=3\nexit-code=3\n");
}

/* A result file that cannot be written: PF_EXIT_OUTPUT, naming it. */
static void unwritable(void)
{
	pf_options o;
	options(&o, "json");
	o.result = "/nonexistent-dir/r.json";
	pf_result r;
	pf_result_init(&r);
	pf_err failure = {0}, e = {0};
	CHECK_EQ_INT(pf_result_write(&r, &o, &failure, 0, &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_OUTPUT);
	CHECK(strstr(e.msg, "/nonexistent-dir/r.json") != NULL);
	pf_result_free(&r);
}

static void out_of_memory(void)
{
#ifndef NO_INTERPOSE
	for (long n = 0;; n++) {
		pf_options o;
		options(&o, n % 2 ? "github" : "json");
		pf_result r;
		pf_result_init(&r);
		pf_err failure = {0}, e = {0};
		alloc = (alloc_state){.armed = true, .fail_at = n};
		record_run(&r);
		int rc = pf_result_write(&r, &o, &failure, 0, &e);
		pf_result_free(&r);
		alloc.armed = false;
		CHECK_EQ_INT(alloc.live, 0);
		if (!alloc.failed) {
			CHECK_EQ_INT(rc, 0);
			break;
		}
		CHECK_EQ_INT(rc, -1);
		CHECK_EQ_INT(e.code, PF_EXIT_INTERNAL);
	}
#endif
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(file, sizeof file, "%s/result", dir);
	written();
	failed_github();
	unwritable();
	out_of_memory();
	unlink(file);
	rmdir(dir);
	return check_report("test_result");
}
