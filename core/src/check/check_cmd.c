/* check_cmd.c: pgofetch check. What share of the profile's call-edge weight,
 * the compiler's whole PGO input (pgo.h), names functions that still
 * exist in the build, and which hot ones do not; the profile's age and
 * provenance. Go's compiler matches profile and code by function name: an
 * edge whose caller or callee was renamed, moved or deleted is wasted. */
#include "check_cmd.h"
#include "cli.h"
#include "clock.h"
#include "dd_api.h"
#include "decompress.h"
#include "duration.h"
#include "limits.h"
#include "pgo.h"
#include "pprof.h"
#include "source.h"
#include "symbols.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Building a package's dependencies can take minutes on a cold cache. */
#define CHECK_TIMEOUT_NS (30LL * 60 * 1000000000LL)
/* The text report lists this many missing functions; -json lists all. */
#define TEXT_MISSING 10

static const char usage[] =
	"usage: pgofetch check [-json] [-fail-below PCT] [-go PATH] PROFILE PKG_OR_BINARY\n"
	"\n"
	"check reports what share of PROFILE's call-edge weight (what Go's compiler\n"
	"uses for PGO) names functions that exist in PKG_OR_BINARY: a built binary,\n"
	"or a main package (a directory or import path, built with go list -export),\n"
	"then the hottest missing functions and the profile's age and provenance.\n"
	"\n"
	"  -fail-below pct\n"
	"    \texit 8 when less than pct percent (0 to 100) of the weight matches\n"
	"  -go path\n"
	"    \tthe go command to build and read symbols with (default: go on PATH)\n"
	"  -json\n"
	"    \tprint one JSON object: matched (0 to 1), missing [{function, share}], ...\n";

int pf_subcommand_usage(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "pgofetch %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", usage);
	va_end(ap);
	return PF_EXIT_USAGE;
}

int pf_subcommand_flags(int argc, char **argv, const pf_sub_flag *flags, const char *cmd, const char *usage)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--") != 0; i++) {
		const char *name = argv[i] + 1 + (argv[i][1] == '-'), *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const pf_sub_flag *f = flags;
		while (f->name && (strlen(f->name) != len || strncmp(f->name, name, len) != 0))
			f++;
		if ((len == 1 && name[0] == 'h') || (len == 4 && strncmp(name, "help", 4) == 0)) {
			fputs(usage, stdout);
			return 0;
		}
		if (!f->name)
			return -pf_subcommand_usage(cmd, usage, "flag provided but not defined: %s", argv[i]);
		if (f->on && pf_parse_bool(eq ? eq + 1 : "true", f->on) == 0)
			continue;
		if (f->on)
			return -pf_subcommand_usage(cmd, usage, "invalid value \"%s\" for flag -%s: want true or false",
						    eq + 1, f->name);
		if (!eq && i + 1 >= argc)
			return -pf_subcommand_usage(cmd, usage, "flag needs an argument: %s", argv[i]);
		*f->value = eq ? eq + 1 : argv[++i];
	}
	return i < argc && strcmp(argv[i], "--") == 0 ? i + 1 : i;
}

/* The sink for PROFILE: one profile, decompressed and decoded. */
typedef struct {
	const pf_limits *lim;
	pf_profile *p;
} reader;

static int take_profile(void *ctx, const char *origin, const char *entry, pf_buf *data, pf_err *e)
{
	reader *r = ctx;
	if (r->p)
		return pf_fail(e, PF_EXIT_DATA, "%s: holds more than one profile; check one at a time", origin);
	pf_buf raw = {0};
	int rc = pf_profile_decompress(origin, entry, data->data, data->len, (size_t)r->lim->max->bytes, &raw, e);
	if (rc == PF_TOO_LARGE)
		rc = pf_fail(e, PF_EXIT_DATA, "%s: larger than -limit bytes once decompressed", origin);
	if (rc == 0 && !(r->p = pf_profile_decode(raw.data, raw.len, e))) {
		pf_err_prefix(e, origin);
		rc = -1;
	}
	pf_buf_free(&raw);
	return rc;
}

pf_profile *pf_check_read_profile(const char *path, pf_err *e)
{
	pf_limit_set set;
	pf_limits_default(&set);
	pf_limits lim = {.max = &set};
	reader r = {.lim = &lim};
	if (pf_read_source(path, &lim, pf_now_ns() + CHECK_TIMEOUT_NS, take_profile, &r, e) != 0) {
		pf_profile_free(r.p);
		return NULL;
	}
	if (!r.p)
		pf_fail(e, PF_EXIT_DATA, "%s: holds no profile", path);
	return r.p;
}

static int by_missing_name(const void *a, const void *b)
{
	const pf_missing_fn *x = a, *y = b;
	return pf_bytes_cmp(x->name, x->len, y->name, y->len);
}

static int by_weight(const void *a, const void *b)
{
	const pf_missing_fn *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return by_missing_name(a, b);
}

/* Sums the weight of each missing name, hottest first. */
static void fold_missing(pf_check_result *r)
{
	qsort(r->missing, r->nmissing, sizeof *r->missing, by_missing_name);
	size_t n = 0;
	for (size_t i = 0; i < r->nmissing; i++) {
		if (n > 0 && by_missing_name(&r->missing[n - 1], &r->missing[i]) == 0)
			r->missing[n - 1].weight += r->missing[i].weight;
		else
			r->missing[n++] = r->missing[i];
	}
	r->nmissing = n;
	qsort(r->missing, r->nmissing, sizeof *r->missing, by_weight);
}

/* Whether the function is in syms; when not, adds it to r's missing with
 * weight w, as the code named it: without PF_NOINLINE_PREFIX. */
static bool found(const pf_symbols *syms, const char *name, size_t len, int64_t w, pf_buf *key, pf_check_result *r)
{
	key->len = 0;
	if (pf_func_key(name, len, key) == 0 && pf_symbols_has(syms, (const char *)key->data))
		return true;
	name = pf_noinline_strip(name, &len);
	r->missing[r->nmissing++] = (pf_missing_fn){name, len, w};
	return false;
}

int pf_check_compare(const pf_pgo_edges *g, const pf_symbols *syms, pf_check_result *r, pf_err *e)
{
	memset(r, 0, sizeof *r);
	r->missing = malloc((2 * g->nedges + 1) * sizeof *r->missing);
	pf_buf key = {0};
	if (!r->missing)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int64_t matched = 0;
	for (size_t i = 0; i < g->nedges; i++) {
		const pf_pgo_edge *ed = &g->edges[i];
		int64_t w = ed->weight < 0 ? -ed->weight : ed->weight;
		bool caller = found(syms, ed->caller, ed->caller_len, w, &key, r);
		bool callee = found(syms, ed->callee, ed->callee_len, w, &key, r);
		r->total += w;
		if (caller && callee)
			matched += w;
	}
	pf_buf_free(&key);
	r->nedges = g->nedges;
	r->matched = r->total > 0 ? (double)matched / (double)r->total : 0;
	fold_missing(r);
	return 0;
}

static double share(const pf_check_result *r, const pf_missing_fn *m)
{
	return r->total > 0 ? (double)m->weight / (double)r->total : 0;
}

void pf_profile_time_text(const pf_profile *p, char out[32])
{
	time_t t = p ? (time_t)(p->time_nanos / 1000000000LL) : 0;
	out[0] = '\0';
	if (t > 0)
		pf_dd_format_time(t, out);
}

static int64_t profile_age_ns(const pf_profile *p)
{
	return p->time_nanos > 0 ? pf_wall_ns() - p->time_nanos : -1;
}

static void print_text(const char *profile, const char *target, const pf_profile *p, const pf_check_result *r)
{
	char when[32], age[32];
	pf_profile_time_text(p, when);
	int64_t a = profile_age_ns(p);
	pf_duration_format(a - a % 1000000000LL, age, sizeof age);
	if (when[0])
		printf("profile %s: taken %s (%s ago), %zu call edges\n", profile, when, age, r->nedges);
	else
		printf("profile %s: time unknown, %zu call edges\n", profile, r->nedges);
	for (size_t i = 0; i < p->ncomments; i++)
		printf("  %s\n", pf_profile_str(p, p->comments[i], NULL));
	printf("matched: %.1f%% of the call-edge weight names functions in %s\n", 100 * r->matched, target);
	if (r->nmissing == 0)
		return;
	printf("missing: %zu function%s; the hottest (share of the weight):\n", r->nmissing, r->nmissing == 1 ? "" : "s");
	for (size_t i = 0; i < r->nmissing && i < TEXT_MISSING; i++)
		printf("  %6.2f%%  %.*s\n", 100 * share(r, &r->missing[i]), (int)r->missing[i].len, r->missing[i].name);
}

static int print_json(const char *profile, const char *target, const pf_profile *p, const pf_check_result *r)
{
	cJSON *root = cJSON_CreateObject(), *comments = NULL, *missing = NULL, *m;
	char when[32];
	pf_profile_time_text(p, when);
	int64_t a = profile_age_ns(p);
	bool ok = root && cJSON_AddStringToObject(root, "profile", profile) &&
		  cJSON_AddStringToObject(root, "build", target) &&
		  cJSON_AddNumberToObject(root, "matched", r->matched) &&
		  cJSON_AddNumberToObject(root, "edges", (double)r->nedges) &&
		  (when[0] ? cJSON_AddStringToObject(root, "time", when) : cJSON_AddNullToObject(root, "time")) &&
		  (a >= 0 ? cJSON_AddNumberToObject(root, "age_seconds", (double)(a / 1000000000LL))
			  : cJSON_AddNullToObject(root, "age_seconds")) &&
		  (comments = cJSON_AddArrayToObject(root, "comments")) &&
		  (missing = cJSON_AddArrayToObject(root, "missing"));
	for (size_t i = 0; ok && i < p->ncomments; i++)
		ok = cJSON_AddItemToArray(comments, cJSON_CreateString(pf_profile_str(p, p->comments[i], NULL)));
	for (size_t i = 0; ok && i < r->nmissing; i++) {
		char *name = strndup(r->missing[i].name, r->missing[i].len);
		ok = name && (m = cJSON_CreateObject()) && cJSON_AddItemToArray(missing, m) &&
		     cJSON_AddStringToObject(m, "function", name) &&
		     cJSON_AddNumberToObject(m, "share", share(r, &r->missing[i]));
		free(name);
	}
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(root);
	return text ? 0 : -1;
}

int pf_check_main(int argc, char **argv)
{
	bool json = false;
	const char *fail_text = NULL, *go = "go";
	char *end;
	pf_sub_flag flags[] = {{"fail-below", NULL, &fail_text}, {"go", NULL, &go}, {"json", &json, NULL}, {0}};
	int rc, i = pf_subcommand_flags(argc, argv, flags, "check", usage);
	if (i <= 0)
		return -i;
	double fail_below = fail_text ? strtod(fail_text, &end) : -1; /* percent; < 0: not given */
	if (fail_text && (!*fail_text || *end || !(fail_below >= 0 && fail_below <= 100)))
		return pf_subcommand_usage("check", usage,
					   "invalid value \"%s\" for flag -fail-below: want a percentage, 0 to 100",
					   fail_text);
	if (argc - i != 2)
		return pf_subcommand_usage("check", usage, "want two arguments: PROFILE PKG_OR_BINARY");
	const char *profile = argv[i], *target = argv[i + 1];
	pf_err e = {0};
	pf_profile *p = pf_check_read_profile(profile, &e);
	pf_pgo_edges g = {0};
	pf_symbols syms = {0};
	pf_check_result r = {0};
	if (p && pf_pgo_edges_of(p, &g, &e) != 0)
		pf_err_prefix(&e, profile);
	if (!e.code)
		pf_symbols_of(*go ? go : "go", target, pf_now_ns() + CHECK_TIMEOUT_NS, &syms, &e);
	if (!e.code)
		pf_check_compare(&g, &syms, &r, &e);
	if (!e.code && (json ? print_json(profile, target, p, &r) : (print_text(profile, target, p, &r), 0)) != 0)
		pf_fail(&e, PF_EXIT_INTERNAL, "out of memory");
	if ((rc = e.code) != 0)
		fprintf(stderr, "pgofetch check: %s\n", e.msg);
	if (rc == PF_EXIT_OK && fail_below >= 0 && 100 * r.matched < fail_below) {
		fprintf(stderr, "pgofetch check: only %.1f%% of %s's weight matches %s, below -fail-below %g: "
				"fetch a fresh profile\n",
			100 * r.matched, profile, target, fail_below);
		rc = PF_EXIT_STALE;
	}
	free(r.missing);
	pf_symbols_free(&syms);
	pf_pgo_edges_free(&g);
	pf_profile_free(p);
	return rc;
}
