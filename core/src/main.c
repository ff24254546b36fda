/* main.c: parse the command line, run, turn failures into exit codes.
 * Fail-open as datadog-pgo: without -fail every failure but a usage error
 * exits 0, so the build goes on without a fresh profile. */
#include "cli.h"
#include "err.h"
#include "log.h"
#include "output.h"
#include "flow.h"

#include <curl/curl.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

static int usage_error(const pf_err *e)
{
	fprintf(stderr, "pgofetch: %s\n", e->msg);
	pf_cli_usage(stderr);
	return PF_EXIT_USAGE;
}

static void print_version(void)
{
	printf("pgofetch %s (libcurl %s, zlib %s, zstd %s)\n", PGOFETCH_VERSION,
	       curl_version_info(CURLVERSION_NOW)->version, zlibVersion(), ZSTD_versionString());
}

/* A failure while running (a configuration error found then, such as an
 * unknown DD_SITE, included) follows -fail; only a bad command line exits
 * 2 whatever -fail says. */
static int report_failure(const pf_options *o, const pf_log *log, const pf_err *e)
{
	pf_log_attrs(log, PF_ERROR, e->msg, NULL, 0);
	if (o->fail)
		return e->code;
	bool kept = pf_dest_age_ns(o->dest) >= 0;
	pf_warn(log, "pgofetch failed, but -fail is not set, returning exit code 0 to continue without a fresh profile",
		PF_STR("dest", kept ? "an older profile is still in place" : "none written"));
	return PF_EXIT_OK;
}

int main(int argc, char **argv)
{
	pf_options o;
	pf_err e = {0};
	if (pf_cli_parse(argc, argv, &o, &e) != 0) {
		pf_cli_free(&o);
		return usage_error(&e);
	}
	if (o.help || o.version) {
		if (o.help)
			pf_cli_usage(stdout);
		else
			print_version();
		pf_cli_free(&o);
		return PF_EXIT_OK;
	}
	pf_log log;
	pf_log_init(&log, stderr, o.json, o.verbose);
	int code = PF_EXIT_OK;
	if (pf_run(&o, &log, &e) != 0)
		code = report_failure(&o, &log, &e);
	pf_cli_free(&o);
	return code;
}
