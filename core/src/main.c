/* main.c: parse the command line, run, turn failures into exit codes.
 * Fail-open as datadog-pgo: without -fail every failure but a usage error
 * exits 0, so the build goes on without a fresh profile. */
#include "check_cmd.h"
#include "cli.h"
#include "diff_cmd.h"
#include "err.h"
#include "log.h"
#include "output.h"
#include "refresh.h"
#include "flow.h"
#include "result.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* With -json (given before the error), one JSON line and no usage text:
 * every line of the log stream is then an object. */
static int usage_error(const pf_options *o, const pf_err *e)
{
	if (o->json) {
		pf_log log;
		pf_log_init(&log, stderr, true, false);
		pf_log_attrs(&log, PF_ERROR, e->msg, NULL, 0);
		return PF_EXIT_USAGE;
	}
	fprintf(stderr, "pgofetch: %s\n", e->msg);
	pf_cli_usage(stderr);
	return PF_EXIT_USAGE;
}

/* -result FILE, whatever the outcome. A result that cannot be written is
 * a failure of its own, after the run's: it follows -fail. */
static int finish(const pf_options *o, pf_result *res, const pf_err *failure, int code)
{
	if (o->result) {
		pf_err e = {0};
		if (pf_result_write(res, o, failure, code, &e) != 0) {
			pf_log log;
			pf_log_init(&log, stderr, o->json, false);
			pf_log_attrs(&log, PF_ERROR, e.msg, NULL, 0);
			if (code == PF_EXIT_OK && o->fail)
				code = e.code;
		}
	}
	pf_result_free(res);
	return code;
}

/* A failure while running follows -fail; a bad command line or setting
 * (-api-url, PGOFETCH_API_URL, DD_SITE: cli.c checks them) exits 2
 * whatever -fail says, before this. */
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
	/* A reader that closes stderr (pgofetch ... 2>&1 | head -1) must not
	 * kill pgofetch, perhaps halfway through writing DEST: as curl does,
	 * ignore SIGPIPE, so such a write fails with EPIPE, which logging
	 * ignores. */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return pf_check_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "diff") == 0)
		return pf_diff_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "refresh") == 0)
		return pf_refresh_main(argc - 1, argv + 1);
	pf_options o;
	pf_err e = {0};
	pf_result res;
	pf_result_init(&res);
	int code = PF_EXIT_OK;
	if (pf_cli_parse(argc, argv, &o, &e) != 0) {
		code = finish(&o, &res, &e, usage_error(&o, &e));
	} else if (o.help) {
		pf_cli_usage(stdout);
	} else if (o.version) {
		printf("pgofetch %s (libcurl %s, zlib %s, zstd %s)\n", PGOFETCH_VERSION,
		       curl_version_info(CURLVERSION_NOW)->version, zlibVersion(), ZSTD_versionString());
	} else {
		pf_log log;
		pf_log_init(&log, stderr, o.json, o.verbose);
		if (o.result)
			log.result = &res;
		if (pf_run(&o, &log, &e) != 0)
			code = report_failure(&o, &log, &e);
		code = finish(&o, &res, &e, code);
	}
	pf_cli_free(&o);
	return code;
}
