/* The command line: Go flag syntax, defaults, and the usage errors. */
#include "check.h"
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

static int parse(pf_options *o, pf_err *e, int argc, const char **argv)
{
	*e = (pf_err){0};
	return pf_cli_parse(argc, (char **)argv, o, e);
}

#define ARGS(...) (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(char *)), (const char *[]){__VA_ARGS__}
/* Options point into argv, so an argv inspected after parsing must outlive
 * the statement: a static array, not a compound literal. */
#define PARSE_OK(o, e, ...)                                                          \
	do {                                                                         \
		static const char *av_[] = {__VA_ARGS__};                            \
		CHECK_EQ_INT(parse(o, e, (int)(sizeof av_ / sizeof *av_), av_), 0);   \
	} while (0)

static void defaults(void)
{
	pf_options o;
	pf_err e;
	PARSE_OK(&o, &e, "pgofetch", "service:foo", "out.pgo");
	CHECK_EQ_INT(o.nqueries, 1);
	CHECK_EQ_STR(o.queries[0], "service:foo");
	CHECK_EQ_STR(o.dest, "out.pgo");
	CHECK_EQ_INT(o.profiles, 5);
	CHECK_EQ_INT(o.from_ns, 72LL * 3600 * 1000000000);
	CHECK_EQ_INT(o.timeout_ns, 60LL * 1000000000);
	CHECK(o.noinline && o.comment && !o.fail && !o.json && !o.verbose);
	CHECK_EQ_STR(o.endpoint, "gopgo");
	pf_cli_free(&o);
}

static void go_syntax(void)
{
	pf_options o;
	pf_err e;
	PARSE_OK(&o, &e, "pgofetch", "--fail", "-profiles=7", "-timeout", "1m30s",
					 "-in", "a.pprof", "--in=b.pprof", "-noinline=false", "-v", "dest");
	CHECK(o.fail && o.verbose && !o.noinline);
	CHECK_EQ_INT(o.profiles, 7);
	CHECK_EQ_INT(o.timeout_ns, 90LL * 1000000000);
	CHECK_EQ_INT(o.nin, 2);
	CHECK_EQ_STR(o.ins[1], "b.pprof");
	CHECK_EQ_INT(o.nqueries, 0);
	pf_cli_free(&o);

	/* Flags stop at the first non-flag argument, as in Go. */
	PARSE_OK(&o, &e, "pgofetch", "q1", "-fail", "dest");
	CHECK(!o.fail);
	CHECK_EQ_INT(o.nqueries, 2);
	CHECK_EQ_STR(o.queries[1], "-fail");
	pf_cli_free(&o);

	/* "--" ends the flags. */
	PARSE_OK(&o, &e, "pgofetch", "-in", "x", "--", "-dest");
	CHECK_EQ_STR(o.dest, "-dest");
	pf_cli_free(&o);

	PARSE_OK(&o, &e, "pgofetch", "-profiles", "0x10", "q", "d");
	CHECK_EQ_INT(o.profiles, 16);
	pf_cli_free(&o);

	PARSE_OK(&o, &e, "pgofetch", "-h");
	CHECK(o.help);
	pf_cli_free(&o);
	PARSE_OK(&o, &e, "pgofetch", "--help");
	CHECK(o.help);
	pf_cli_free(&o);
}

static void usage_error(const char *want, int argc, const char **argv)
{
	pf_options o;
	pf_err e;
	CHECK_EQ_INT(parse(&o, &e, argc, argv), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_USAGE);
	CHECK_EQ_STR(e.msg, want);
	pf_cli_free(&o);
}

static void errors(void)
{
	usage_error("flag provided but not defined: -bogus", ARGS("pgofetch", "-bogus", "q", "d"));
	usage_error("invalid value \"5x\" for flag -timeout: parse error",
		    ARGS("pgofetch", "-timeout", "5x", "q", "d"));
	usage_error("invalid value \"maybe\" for flag -fail: parse error",
		    ARGS("pgofetch", "-fail=maybe", "q", "d"));
	usage_error("invalid value \"five\" for flag -profiles: parse error",
		    ARGS("pgofetch", "-profiles", "five", "q", "d"));
	usage_error("flag needs an argument: -in", ARGS("pgofetch", "-in"));
	usage_error("bad flag syntax: ---x", ARGS("pgofetch", "---x", "d"));
	usage_error("at least 2 arguments are required (QUERY... DEST), or -in SOURCE and DEST",
		    ARGS("pgofetch", "dest"));
	usage_error("at least 2 arguments are required (QUERY... DEST), or -in SOURCE and DEST",
		    ARGS("pgofetch", "-in", "a.pprof"));
	usage_error("invalid value \"v3\" for flag -endpoint: want gopgo or legacy",
		    ARGS("pgofetch", "-endpoint", "v3", "q", "d"));
	usage_error("invalid value 0 for flag -profiles: want 1 to 1000", ARGS("pgofetch", "-profiles", "0", "q", "d"));
}

/* -trim is on unless turned off; -format takes pprof or preprofile, but a
 * preprofile never goes to a default.pgo, which go build reads as pprof. */
static void trim_and_format(void)
{
	pf_options o;
	pf_err e;
	CHECK_EQ_INT(parse(&o, &e, ARGS("pgofetch", "-in", "a", "default.pgo")), 0);
	CHECK(o.trim);
	CHECK_EQ_STR(o.format, "pprof");
	pf_cli_free(&o);
	CHECK_EQ_INT(parse(&o, &e, ARGS("pgofetch", "-trim=false", "-in", "a", "default.pgo")), 0);
	CHECK(!o.trim);
	pf_cli_free(&o);
	CHECK_EQ_INT(parse(&o, &e, ARGS("pgofetch", "-format", "preprofile", "-in", "a", "x/default.preprofile")), 0);
	CHECK_EQ_STR(o.format, "preprofile");
	pf_cli_free(&o);
	CHECK_EQ_INT(parse(&o, &e, ARGS("pgofetch", "-format=preprofile", "-in", "a", "default.pgo.txt")), 0);
	pf_cli_free(&o);
	const char *refused = "-format preprofile cannot write %s: go build reads default.pgo as pprof "
			      "and refuses a preprocessed profile; name it differently (e.g. default.preprofile)";
	char want[512];
	snprintf(want, sizeof want, refused, "cmd/x/default.pgo");
	usage_error(want, ARGS("pgofetch", "-format", "preprofile", "-in", "a", "cmd/x/default.pgo"));
	snprintf(want, sizeof want, refused, "default.pgo");
	usage_error(want, ARGS("pgofetch", "-format=preprofile", "q", "default.pgo"));
	usage_error("invalid value \"text\" for flag -format: want pprof or preprofile",
		    ARGS("pgofetch", "-format", "text", "q", "d"));
}

/* -weight: each -in takes the weight in force where it stands, QUERY
 * arguments the last one; bad weights are usage errors. */
static void weights(void)
{
	pf_options o;
	pf_err e;
	PARSE_OK(&o, &e, "pgofetch", "-in", "a", "-weight", "0.5", "-in", "b", "--in=c", "-weight=2e0", "-in", "d",
		 "-weight", "0x1p-2", "-normalize", "q", "dest");
	CHECK_EQ_INT(o.nin, 4);
	CHECK(o.in_weights[0].value == 1 && o.in_weights[1].value == 0.5 && o.in_weights[2].value == 0.5);
	CHECK(o.in_weights[3].value == 2 && o.weight.value == 0.25 && o.normalize);
	CHECK_EQ_STR(o.in_weights[1].text, "0.5");
	CHECK_EQ_STR(o.weight.text, "0x1p-2");
	pf_cli_free(&o);
	PARSE_OK(&o, &e, "pgofetch", "-weight", "0", "-in", "a", "-weight", "1e-300", "-in", "b", "dest");
	CHECK(o.in_weights[0].value == 0 && o.in_weights[1].value == 1e-300 && !o.normalize);
	pf_cli_free(&o);
	PARSE_OK(&o, &e, "pgofetch", "-weight", "0", "-in", "a", "-weight", "3", "q", "dest");
	CHECK(o.in_weights[0].value == 0 && o.weight.value == 3);
	pf_cli_free(&o);

	const char *bad[] = {"-1", "-0.5", "nan", "NaN", "inf", "-Inf", "infinity", "1e400", "", " 1", "1 ", "2x", "x",
			     "0x", "1,5"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char want[128];
		snprintf(want, sizeof want, "invalid value \"%s\" for flag -weight: want a number, 0 or more", bad[i]);
		usage_error(want, ARGS("pgofetch", "-weight", bad[i], "-in", "a", "d"));
	}
	usage_error("every source has -weight 0: the merged profile would be empty",
		    ARGS("pgofetch", "-weight", "0", "-in", "a", "-in", "b", "d"));
	usage_error("every source has -weight 0: the merged profile would be empty",
		    ARGS("pgofetch", "-weight", "0", "q", "d"));
	usage_error("-weight 3 applies to no source: put it before the -in sources it weighs",
		    ARGS("pgofetch", "-in", "a", "-weight", "3", "d"));
}

int main(void)
{
	unsetenv("PGOFETCH_API_URL");
	defaults();
	go_syntax();
	errors();
	trim_and_format();
	weights();
	return check_report("test_cli");
}
