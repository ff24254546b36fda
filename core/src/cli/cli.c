/* cli.c: flag parsing as Go's flag package does it: flags stop at the first
 * non-flag argument or "--"; "-x" and "--x" are the same; "-x=v" and "-x v"
 * for values; booleans only as "-x" or "-x=v"; -h and -help ask for usage. */
#include "cli.h"
#include "dd_api.h"
#include "duration.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum flag_kind { F_BOOL, F_INT, F_DURATION, F_STRING, F_LIST, F_LIMIT, F_NOINLINE_FUNC, F_NOINLINE_FILE, F_WEIGHT };

typedef struct {
	const char *name;
	enum flag_kind kind;
	size_t offset; /* into pf_options */
	const char *arg;   /* the argument's name in the usage */
	const char *usage;
	const char *def; /* default, parsed as given and shown in the usage; NULL for none */
} flag_def;

#define OPT(field) offsetof(pf_options, field)

/* Sorted by name, as Go's PrintDefaults lists them. */
static const flag_def flags[] = {
	{"api-url", F_STRING, OPT(api_url), "url",
	 "Datadog API base URL (default https://app.$DD_SITE; env PGOFETCH_API_URL)", NULL},
	{"comment", F_BOOL, OPT(comment), NULL,
	 "record where the profile came from (queries, window, profile ids, sources)\n"
	 "in its comments, shown by go tool pprof -comments", "true"},
	{"endpoint", F_STRING, OPT(endpoint), "name",
	 "Datadog endpoint: gopgo (one request) or legacy (list, then download each)", "gopgo"},
	{"fail", F_BOOL, OPT(fail), NULL, "return with a non-zero exit code on failure", NULL},
	{"format", F_STRING, OPT(format), "name",
	 "output format: pprof, or preprofile (Go's preprocessed form, not for default.pgo)", "pprof"},
	{"from", F_DURATION, OPT(from_ns), "duration", "how far back to search for profiles", "72h0m0s"},
	{"go", F_STRING, OPT(go), "path",
	 "the go command that will build DEST's package; when its GOVERSION is newer\n"
	 "than the Go versions -trim is proven for, the full profile is written\n"
	 "(default: go on PATH, run in DEST's directory)", NULL},
	{"in", F_LIST, OPT(ins), "source",
	 "read profiles from a local file (pprof, gzip, zstd, or a ZIP of them) or an\n"
	 "http(s) URL of a net/http/pprof endpoint; repeatable, no QUERY needed", NULL},
	{"json", F_BOOL, OPT(json), NULL, "print logs in json format", NULL},
	{"limit", F_LIMIT, OPT(limits), "name=value",
	 "raise a bound on what one run reads; repeatable. Names: bytes (4GiB, all\n"
	 "decompressed profiles), source-bytes (1GiB, one file, answer or ZIP entry),\n"
	 "zip-entries (10000), profiles (1000), strings (20000000), locations\n"
	 "(20000000), stack-depth (100000), json-bytes (64MiB), json-depth (64),\n"
	 "memory (384MiB, all pgofetch allocates)", NULL},
	{"max-age", F_DURATION, OPT(max_age_ns), "duration",
	 "do nothing when DEST exists and is younger than this (0: always fetch)", NULL},
	{"noinline", F_BOOL, OPT(noinline), NULL,
	 "rename functions the Go compiler must not inline (golang/go#65532, #74045)", "true"},
	{"noinline-file", F_NOINLINE_FILE, OPT(noinline_list), "file",
	 "add the regular expressions of a file to the -noinline-func list: one a\n"
	 "line; blank lines and lines starting with # are skipped; repeatable", NULL},
	{"noinline-func", F_NOINLINE_FUNC, OPT(noinline_list), "regexp",
	 "rename, as -noinline does, each function whose whole name matches this\n"
	 "POSIX extended regular expression (main\\.hot, example\\.com/pkg\\..*);\n"
	 "repeatable, applied even with -noinline=false", NULL},
	{"normalize", F_BOOL, OPT(normalize), NULL,
	 "scale each profile first so that its values of the sample type Go's compiler\n"
	 "reads (samples/count, else cpu/nanoseconds, else the first) sum to 1e9,\n"
	 "then by its -weight: one long profile no longer drowns the others", NULL},
	{"profiles", F_INT, OPT(profiles), "int", "the number of profiles to fetch per query", "5"},
	{"result", F_STRING, OPT(result), "file",
	 "write what the run did to file, however it ends, as one JSON object: outcome,\n"
	 "the profile in place, samples, bytes, profile ids, sources, error, exit code", NULL},
	{"result-format", F_STRING, OPT(result_format), "name",
	 "json, or github: -result as name=value lines for $GITHUB_OUTPUT", "json"},
	{"timeout", F_DURATION, OPT(timeout_ns), "duration", "timeout for fetching PGO profile", "1m0s"},
	{"trim", F_BOOL, OPT(trim), NULL,
	 "write only what the Go compiler reads for PGO (one sample type, the two\n"
	 "leaf-most frames of each stack, names and lines), checked to give it the\n"
	 "same input; -trim=false writes the full merged profile", "true"},
	{"v", F_BOOL, OPT(verbose), NULL, "verbose output", NULL},
	{"version", F_BOOL, OPT(version), NULL, "print the version and exit", NULL},
	{"weight", F_WEIGHT, OPT(weight), "w",
	 "scale the profiles of the -in sources that follow, up to the next -weight,\n"
	 "by w (a number, 0 or more) as pprof's Scale does, before merging; QUERY\n"
	 "arguments take the last -weight; repeatable", "1"},
};

static const char usage_head[] =
	"usage: pgofetch [OPTIONS]... [QUERY...] DEST\n"
	"\n"
	"pgofetch fetches CPU profiles from Datadog using the given QUERY arguments,\n"
	"or reads them from -in sources, and merges them into a single DEST file\n"
	"suitable for profile-guided optimization. It takes the arguments of\n"
	"Datadog's datadog-pgo.\n"
	"\n"
	"For QUERY arguments, set these environment variables:\n"
	"\n"
	"\tDD_API_KEY: A Datadog API key\n"
	"\tDD_APP_KEY: A Datadog Application key\n"
	"\tDD_SITE: A Datadog site to use (defaults to datadoghq.com)\n"
	"\n"
	"Typical usage:\n"
	"\n"
	"\tpgofetch 'service:my-service env:prod' ./cmd/my-service/default.pgo\n"
	"\tpgofetch -in 'http://localhost:6060/debug/pprof/profile?seconds=30' ./cmd/my-service/default.pgo\n"
	"\n"
	"The go toolchain picks up the default.pgo file in the main package\n"
	"(go1.21+), so build as usual: go build ./cmd/my-service\n"
	"\n"
	"DEST is replaced atomically, and only when its content changes. Unless -fail\n"
	"is set, pgofetch returns exit code 0 even when it fails (but for a usage\n"
	"error, exit 2), leaving an existing DEST as it was, so the build goes on.\n"
	"\n"
	"pgofetch check PROFILE PKG_OR_BINARY tells how much of a profile still\n"
	"matches the code (pgofetch check -h); pgofetch diff OLD NEW what changed for\n"
	"the compiler between two profiles (pgofetch diff -h); pgofetch refresh\n"
	"refreshes every main package of pgofetch.list at once (pgofetch refresh -h).\n"
	"\n"
	"OPTIONS\n";

void pf_cli_usage(FILE *out)
{
	fputs(usage_head, out);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		const flag_def *f = &flags[i];
		int n = fprintf(out, "  -%s", f->name);
		if (f->arg)
			n += fprintf(out, " %s", f->arg);
		/* Go puts the usage on the same line only after a one-letter bool. */
		fputs(n <= 4 ? "\t" : "\n    \t", out);
		for (const char *p = f->usage; *p; p++) {
			if (*p == '\n')
				fputs("\n    \t", out);
			else
				fputc(*p, out);
		}
		if (f->def) /* Go quotes a string's default */
			fprintf(out, f->kind == F_STRING ? " (default \"%s\")" : " (default %s)", f->def);
		fputc('\n', out);
	}
}

static const flag_def *find_flag(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

int pf_cli_flag_words(const char *arg)
{
	const char *name = arg + 1 + (arg[1] == '-');
	size_t len = strcspn(name, "=");
	const flag_def *f = find_flag(name, len);
	if (!f)
		return (len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0) ? 0 : -1;
	return name[len] == '=' || f->kind == F_BOOL ? 0 : 1;
}

int pf_parse_bool(const char *s, bool *v)
{
	static const char *const words[] = {"0", "f", "F", "false", "FALSE", "False",
					    "1", "t", "T", "true", "TRUE", "True"};
	for (size_t i = 0; i < 12; i++)
		if (strcmp(s, words[i]) == 0) {
			*v = i >= 6;
			return 0;
		}
	return -1;
}

/* strconv.ParseInt(s, 0, 64) without underscores: decimal, 0x, 0o, 0b, 0. */
static int parse_int(const char *s, int64_t *v)
{
	const char *p = s + (*s == '+' || *s == '-');
	int base = 0; /* strtoll's: decimal, 0x, and 0 for octal; Go's 0o and 0b are ours */
	if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O' || p[1] == 'b' || p[1] == 'B'))
		base = p[1] == 'o' || p[1] == 'O' ? 8 : 2, p += 2;
	if (!isalnum((unsigned char)*p)) /* strtoll would skip spaces and take a sign */
		return -1;
	char *end;
	errno = 0;
	long long x = strtoll(p, &end, base);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = s[0] == '-' ? -x : x;
	return 0;
}

/* -in: the source, with the -weight in force. */
static int push_in(pf_options *o, const char *value, pf_err *e)
{
	pf_weight *weights = realloc(o->in_weights, (o->nin + 1) * sizeof *weights);
	if (weights)
		o->in_weights = weights;
	const char **ins = weights ? realloc(o->ins, (o->nin + 1) * sizeof *ins) : NULL;
	if (!ins)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	o->ins = ins;
	weights[o->nin] = o->weight;
	ins[o->nin++] = value;
	o->weight_unused = false;
	return 0;
}

/* strtod's numbers (as strconv.ParseFloat reads them), finite and not
 * negative. */
static int parse_weight(const char *s, pf_weight *w)
{
	char *end;
	errno = 0;
	double x = strtod(s, &end);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' || errno == ERANGE || !isfinite(x) ||
	    !(x >= 0))
		return -1;
	w->value = x;
	w->text = s;
	return 0;
}

static int set_flag(const flag_def *f, const char *value, pf_options *o, pf_err *e)
{
	char *field = (char *)o + f->offset;
	switch (f->kind) {
	case F_BOOL:
		if (pf_parse_bool(value, (bool *)field) == 0)
			return 0;
		break;
	case F_INT:
		if (parse_int(value, (int64_t *)field) == 0)
			return 0;
		break;
	case F_DURATION:
		if (pf_duration_parse(value, (int64_t *)field) == 0)
			return 0;
		break;
	case F_STRING:
		*(const char **)field = value;
		return 0;
	case F_LIST:
		return push_in(o, value, e);
	case F_LIMIT:
		return pf_limits_set(&o->limits, value, e);
	case F_NOINLINE_FUNC:
		return pf_noinline_list_add(&o->noinline_list, value, "-noinline-func", e);
	case F_NOINLINE_FILE:
		return pf_noinline_list_add_file(&o->noinline_list, value, e);
	case F_WEIGHT:
		if (parse_weight(value, &o->weight) == 0) {
			o->weight_unused = true;
			return 0;
		}
		return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -weight: want a number, 0 or more",
			       value);
	}
	return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -%s: parse error", value, f->name);
}

static void set_defaults(pf_options *o, pf_err *e)
{
	memset(o, 0, sizeof *o);
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (flags[i].def)
			set_flag(&flags[i], flags[i].def, o, e); /* a default always parses */
	o->weight_unused = false;
	pf_limits_default(&o->limits);
}

/* Parses one flag at argv[*i]; returns 1 when flags are over, 0 when one
 * was parsed, -1 on error. */
static int parse_one(int argc, char **argv, int *i, pf_options *o, pf_err *e)
{
	const char *s = argv[*i];
	if (s[0] != '-' || s[1] == '\0')
		return 1;
	if (strcmp(s, "--") == 0) { /* "--" ends the flags */
		(*i)++;
		return 1;
	}
	const char *name = s + 1 + (s[1] == '-');
	if (name[0] == '-' || name[0] == '=')
		return pf_fail(e, PF_EXIT_USAGE, "bad flag syntax: %s", s);
	const char *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	(*i)++;
	const flag_def *f = find_flag(name, len);
	if (!f) {
		if ((len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0)) {
			o->help = true;
			return 1;
		}
		return pf_fail(e, PF_EXIT_USAGE, "flag provided but not defined: -%.*s", (int)len, name);
	}
	if (eq)
		return set_flag(f, eq + 1, o, e);
	if (f->kind == F_BOOL)
		return set_flag(f, "true", o, e);
	if (*i >= argc)
		return pf_fail(e, PF_EXIT_USAGE, "flag needs an argument: -%s", f->name);
	return set_flag(f, argv[(*i)++], o, e);
}

/* Whether dest's base name is default.pgo, the file go build reads itself. */
static bool is_default_pgo(const char *dest)
{
	const char *base = strrchr(dest, '/');
	return strcmp(base ? base + 1 : dest, "default.pgo") == 0;
}

static int check_values(pf_options *o, pf_err *e)
{
	if (strcmp(o->endpoint, "gopgo") != 0 && strcmp(o->endpoint, "legacy") != 0)
		return pf_fail(e, PF_EXIT_USAGE,
			       "invalid value \"%s\" for flag -endpoint: want gopgo or legacy", o->endpoint);
	if (strcmp(o->format, "pprof") != 0 && strcmp(o->format, "preprofile") != 0)
		return pf_fail(e, PF_EXIT_USAGE,
			       "invalid value \"%s\" for flag -format: want pprof or preprofile", o->format);
	if (strcmp(o->format, "preprofile") == 0 && is_default_pgo(o->dest))
		return pf_fail(e, PF_EXIT_USAGE,
			       "-format preprofile cannot write %s: go build reads default.pgo as pprof and "
			       "refuses a preprocessed profile; name it differently (e.g. default.preprofile)",
			       o->dest);
	if (strcmp(o->result_format, "json") != 0 && strcmp(o->result_format, "github") != 0)
		return pf_fail(e, PF_EXIT_USAGE,
			       "invalid value \"%s\" for flag -result-format: want json or github", o->result_format);
	if (o->profiles < 1 || o->profiles > 1000)
		return pf_fail(e, PF_EXIT_USAGE,
			       "invalid value %" PRId64 " for flag -profiles: want 1 to 1000", o->profiles);
	if (o->timeout_ns <= 0)
		return pf_fail(e, PF_EXIT_USAGE, "invalid value for flag -timeout: must be positive");
	if (o->from_ns <= 0)
		return pf_fail(e, PF_EXIT_USAGE, "invalid value for flag -from: must be positive");
	if (o->max_age_ns < 0)
		return pf_fail(e, PF_EXIT_USAGE, "invalid value for flag -max-age: must not be negative");
	return 0;
}

/* A blank QUERY would be sent as " runtime:go", which matches every Go
 * profile of the organisation: surely not what was meant. */
static int check_queries(const pf_options *o, pf_err *e)
{
	for (size_t i = 0; i < o->nqueries; i++) {
		const char *q = o->queries[i];
		while (isspace((unsigned char)*q))
			q++;
		if (*q == '\0')
			return pf_fail(e, PF_EXIT_USAGE,
				       "QUERY %zu is empty: it would match every Go profile of the organisation; "
				       "give a query such as 'service:my-service env:prod'",
				       i + 1);
	}
	return 0;
}

/* A -weight that weighs nothing, or weights that leave nothing. */
static int check_weights(const pf_options *o, pf_err *e)
{
	if (o->weight_unused && o->nqueries == 0)
		return pf_fail(e, PF_EXIT_USAGE, "-weight %s applies to no source: put it before the -in sources "
						 "it weighs",
			       o->weight.text);
	bool any = o->nqueries > 0 && o->weight.value > 0;
	for (size_t i = 0; i < o->nin; i++)
		any = any || o->in_weights[i].value > 0;
	if (!any)
		return pf_fail(e, PF_EXIT_USAGE, "every source has -weight 0: the merged profile would be empty");
	return 0;
}

/* An empty -api-url (a wrapper passing -api-url="$URL" with URL unset)
 * is no -api-url: PGOFETCH_API_URL, then DD_SITE, still apply. A bad API
 * location is a bad setting: a usage error, exit 2 whatever -fail says,
 * found before anything runs, not a network failure later. The flag is
 * checked whenever it is given; PGOFETCH_API_URL and DD_SITE only when
 * QUERY arguments would use them. */
static int resolve_api_url(pf_options *o, pf_err *e)
{
	o->api_url_from = "-api-url";
	if (!o->api_url || !*o->api_url) {
		const char *env = getenv("PGOFETCH_API_URL");
		o->api_url = env && *env ? env : NULL;
		o->api_url_from = "PGOFETCH_API_URL";
		if (o->nqueries == 0)
			return 0;
	}
	char *base = pf_dd_base_url(o->api_url, o->api_url_from, getenv("DD_SITE"), e);
	bool ok = base != NULL;
	free(base);
	return ok ? 0 : -1;
}

int pf_cli_parse(int argc, char **argv, pf_options *o, pf_err *e)
{
	set_defaults(o, e);
	int i = 1, r;
	while (i < argc && (r = parse_one(argc, argv, &i, o, e)) == 0)
		;
	if (e->code != 0)
		return -1;
	if (o->help || o->version)
		return 0;
	int npos = argc - i;
	if (npos < 1 || (npos < 2 && o->nin == 0))
		return pf_fail(e, PF_EXIT_USAGE,
			       "at least 2 arguments are required (QUERY... DEST), or -in SOURCE and DEST");
	o->queries = (const char **)(argv + i);
	o->nqueries = (size_t)npos - 1;
	o->dest = argv[argc - 1];
	if (o->dest[0] == '\0')
		return pf_fail(e, PF_EXIT_USAGE, "DEST must not be empty");
	if (check_queries(o, e) != 0 || resolve_api_url(o, e) != 0 || check_weights(o, e) != 0)
		return -1;
	return check_values(o, e);
}

void pf_cli_free(pf_options *o)
{
	free(o->ins);
	free(o->in_weights);
	pf_noinline_list_free(&o->noinline_list);
}
