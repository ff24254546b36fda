/* diff_cmd.c: pgofetch diff OLD NEW. What changed for Go's compiler between
 * two profiles, for a reviewer of a refreshed default.pgo: totals, the hot
 * functions and call edges that entered, left or moved most, and how much
 * of OLD's hot weight still names functions of NEW (check's `matched`).
 *
 * Hot is the inliner's word (cmd/compile/internal/inline hotNodesFromCDF):
 * the heaviest call sites that together carry more than 99% of the edge
 * weight, the one that crosses 99% included; a hot function is the callee
 * of a hot call site (those get the larger inlining budget). A call edge
 * here is caller -> callee over all its call sites, hot when one of them
 * is; shares are weights over the profile's whole edge weight. */
#include "diff_cmd.h"
#include "check_cmd.h"
#include "duration.h"
#include "output.h"
#include "result.h"
#include "symbols.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOT_CDF_PERCENT 99.0 /* Go's -d=pgoinlinecdfthreshold default */
#define TOP 10               /* functions, then call edges, per list */

enum { NONE, ENTERED, LEFT, MOVED };
static const char *const list_names[] = {"", "entered", "left", "moved"};

typedef struct {
	const char *a, *b; /* a function (b NULL), or the call edge a -> b */
	size_t alen, blen;
	int64_t w[2]; /* weight in OLD, NEW */
	bool hot[2];
	int list; /* NONE, ENTERED, LEFT, MOVED */
	double key; /* the list's order: the larger first */
} item;

typedef struct {
	const pf_profile *p[2]; /* OLD (may be NULL: none), NEW */
	pf_pgo_edges g[2];
	size_t nhot[2];
	item *items;
	size_t n;
	double matched; /* < 0: OLD has no hot weight */
} diff;

/* hotNodesFromCDF: how many of the edges (by weight, heaviest first) are hot. */
static size_t hot_count(const pf_pgo_edges *g)
{
	int64_t cum = 0;
	for (size_t i = 0; i < g->nedges; i++) {
		cum += g->edges[i].weight;
		if ((double)cum / (double)g->total_weight * 100 > HOT_CDF_PERCENT)
			return i + 1;
	}
	return g->nedges;
}

static double share(const diff *d, const item *it, int side)
{
	return d->g[side].total_weight > 0 ? (double)it->w[side] / (double)d->g[side].total_weight : 0;
}

static int by_bytes(const char *x, size_t nx, const char *y, size_t ny)
{
	int c = memcmp(x, y, nx < ny ? nx : ny);
	return c ? c : (nx > ny) - (nx < ny);
}

/* Functions before edges, then by name. */
static int by_key(const void *x, const void *y)
{
	const item *a = x, *b = y;
	if (!a->b != !b->b)
		return a->b ? 1 : -1;
	int c = by_bytes(a->a, a->alen, b->a, b->alen);
	return c || !a->b ? c : by_bytes(a->b, a->blen, b->b, b->blen);
}

/* By list, functions before edges, the largest key first, then by name. */
static int by_list(const void *x, const void *y)
{
	const item *a = x, *b = y;
	if (a->list != b->list)
		return a->list - b->list;
	if (!a->b != !b->b)
		return a->b ? 1 : -1;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return by_key(x, y);
}

static void add_items(diff *d, int side)
{
	const pf_pgo_edges *g = &d->g[side];
	d->nhot[side] = hot_count(g);
	for (size_t i = 0; i < g->nedges; i++) {
		const pf_pgo_edge *ed = &g->edges[i];
		item edge = {.a = ed->caller, .alen = ed->caller_len, .b = ed->callee, .blen = ed->callee_len};
		item fn = {.a = ed->callee, .alen = ed->callee_len};
		edge.w[side] = fn.w[side] = ed->weight;
		edge.hot[side] = fn.hot[side] = i < d->nhot[side];
		d->items[d->n++] = edge;
		d->items[d->n++] = fn;
	}
}

/* One item per function and per edge of either profile, then each in the
 * list it belongs to. */
static void classify(diff *d)
{
	qsort(d->items, d->n, sizeof *d->items, by_key);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++) {
		item *it = &d->items[i], *last = n ? &d->items[n - 1] : NULL;
		if (!last || by_key(last, it) != 0) {
			d->items[n++] = *it;
			continue;
		}
		for (int s = 0; s < 2; s++) {
			last->w[s] += it->w[s];
			last->hot[s] = last->hot[s] || it->hot[s];
		}
	}
	d->n = n;
	for (size_t i = 0; i < n; i++) {
		item *it = &d->items[i];
		double old = share(d, it, 0), new = share(d, it, 1);
		it->list = it->hot[1] ? (it->hot[0] ? MOVED : ENTERED) : it->hot[0] ? LEFT : NONE;
		it->key = it->list == ENTERED ? new : it->list == LEFT ? old : fabs(new - old);
		if (it->list == MOVED && it->key == 0) /* hot in both, unmoved */
			it->list = NONE;
	}
	qsort(d->items, n, sizeof *d->items, by_list);
}

/* check's matched, OLD's hot edges against NEW's function names. */
static int match(diff *d, pf_err *e)
{
	pf_pgo_edges hot = d->g[0];
	hot.nedges = d->nhot[0];
	d->matched = -1;
	if (hot.nedges == 0)
		return 0;
	pf_symbols names = {0};
	pf_check_result r = {0};
	const pf_profile *p = d->p[1];
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < p->nfunctions; i++) {
		size_t len;
		const char *name = pf_profile_str(p, p->functions[i].name, &len);
		if (pf_symbols_add(&names, name, len) != 0)
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	}
	pf_symbols_sort(&names);
	if (rc == 0 && (rc = pf_check_compare(&hot, &names, &r, e)) == 0 && r.total > 0)
		d->matched = r.matched;
	free(r.missing);
	pf_symbols_free(&names);
	return rc;
}

static int diff_init(diff *d, const pf_profile *old, const pf_profile *new, pf_err *e)
{
	memset(d, 0, sizeof *d);
	d->p[0] = old;
	d->p[1] = new;
	for (int s = 0; s < 2; s++)
		if (d->p[s] && pf_pgo_edges_of(d->p[s], &d->g[s], e) != 0)
			return -1;
	d->items = malloc((2 * (d->g[0].nedges + d->g[1].nedges) + 1) * sizeof *d->items);
	if (!d->items)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	add_items(d, 0);
	add_items(d, 1);
	classify(d);
	return match(d, e);
}

static void diff_free(diff *d)
{
	pf_pgo_edges_free(&d->g[0]);
	pf_pgo_edges_free(&d->g[1]);
	free(d->items);
}

/* ---- the report ---- */

typedef struct {
	int64_t samples, cpu_ns, duration_ns;
	char time[32]; /* RFC 3339, or "" */
} totals;

static long type_index(const pf_profile *p, const char *type, const char *unit)
{
	for (size_t i = 0; i < p->nsample_types; i++)
		if (strcmp(pf_profile_str(p, p->sample_types[i].type, NULL), type) == 0 &&
		    strcmp(pf_profile_str(p, p->sample_types[i].unit, NULL), unit) == 0)
			return (long)i;
	return -1;
}

/* CPU time: the cpu/nanoseconds values, or (a -trim'd profile keeps only
 * samples/count) the counts times a cpu/nanoseconds period. */
static totals totals_of(const pf_profile *p)
{
	totals t = {0};
	if (!p)
		return t;
	long cpu = type_index(p, "cpu", "nanoseconds"), count = type_index(p, "samples", "count");
	bool per_period = cpu < 0 && count >= 0 &&
			  strcmp(pf_profile_str(p, p->period_type.type, NULL), "cpu") == 0 &&
			  strcmp(pf_profile_str(p, p->period_type.unit, NULL), "nanoseconds") == 0;
	for (size_t i = 0; i < p->nsamples && (cpu >= 0 || per_period); i++)
		t.cpu_ns += cpu >= 0 ? p->values[p->samples[i].values + (size_t)cpu]
				     : p->values[p->samples[i].values + (size_t)count] * p->period;
	t.samples = (int64_t)p->nsamples;
	t.duration_ns = p->duration_nanos;
	time_t secs = (time_t)(p->time_nanos / 1000000000LL);
	struct tm tm;
	if (secs > 0 && gmtime_r(&secs, &tm))
		strftime(t.time, sizeof t.time, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return t;
}

static const char *dur(int64_t ns, char *buf, size_t n)
{
	pf_duration_format(ns - ns % 1000000, buf, n);
	return buf;
}

static void md_item(FILE *f, const diff *d, const item *it)
{
	if (it->b)
		fprintf(f, "| `%.*s` → `%.*s` ", (int)it->alen, it->a, (int)it->blen, it->b);
	else
		fprintf(f, "| `%.*s` ", (int)it->alen, it->a);
	fprintf(f, "| %.2f%% | %.2f%% |\n", 100 * share(d, it, 0), 100 * share(d, it, 1));
}

/* Calls put for the first TOP functions, then the first TOP edges, of list. */
static void each_top(const diff *d, int list, void (*put)(void *, const diff *, const item *), void *ctx)
{
	size_t fns = 0, edges = 0;
	for (size_t i = 0; i < d->n; i++) {
		const item *it = &d->items[i];
		if (it->list == list && (it->b ? edges++ : fns++) < TOP)
			put(ctx, d, it);
	}
}

static void md_put(void *f, const diff *d, const item *it) { md_item(f, d, it); }

static void md_list(FILE *f, const diff *d, int list, const char *title)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		n += d->items[i].list == list;
	fprintf(f, "\n### %s\n\n", title);
	if (n == 0) {
		fputs("none\n", f);
		return;
	}
	fputs("| function or call edge | old share | new share |\n| --- | ---: | ---: |\n", f);
	each_top(d, list, md_put, f);
}

static void md_write(FILE *f, const diff *d)
{
	totals t[2] = {totals_of(d->p[0]), totals_of(d->p[1])};
	char a[32], b[32];
	fputs("| | old | new |\n| --- | ---: | ---: |\n", f);
	fprintf(f, "| samples | %lld | %lld |\n", (long long)t[0].samples, (long long)t[1].samples);
	fprintf(f, "| CPU time | %s | %s |\n", dur(t[0].cpu_ns, a, sizeof a), dur(t[1].cpu_ns, b, sizeof b));
	fprintf(f, "| profiled for | %s | %s |\n", dur(t[0].duration_ns, a, sizeof a),
		dur(t[1].duration_ns, b, sizeof b));
	fprintf(f, "| taken | %s | %s |\n", t[0].time[0] ? t[0].time : "-", t[1].time[0] ? t[1].time : "-");
	fprintf(f, "| hot call sites | %zu of %zu | %zu of %zu |\n", d->nhot[0], d->g[0].nedges, d->nhot[1],
		d->g[1].nedges);
	if (d->matched >= 0)
		fprintf(f, "\n**matched**: %.1f%% of the old profile's hot weight names functions of the new one\n",
			100 * d->matched);
	md_list(f, d, ENTERED, "Entered: hot in the new profile only");
	md_list(f, d, LEFT, "Left: hot in the old profile only");
	md_list(f, d, MOVED, "Moved most: hot in both, largest change of share");
}

/* ---- JSON ---- */

static cJSON *json_totals(const pf_profile *p)
{
	totals t = totals_of(p);
	cJSON *o = cJSON_CreateObject();
	if (o && pf_json_add_int(o, "samples", t.samples) && pf_json_add_int(o, "cpu_ns", t.cpu_ns) &&
	    pf_json_add_int(o, "duration_ns", t.duration_ns) &&
	    (t.time[0] ? cJSON_AddStringToObject(o, "time", t.time) : cJSON_AddNullToObject(o, "time")))
		return o;
	cJSON_Delete(o);
	return NULL;
}

static cJSON *add_name(cJSON *o, const char *key, const char *s, size_t len)
{
	char *name = strndup(s, len);
	cJSON *r = name ? cJSON_AddStringToObject(o, key, name) : NULL;
	free(name);
	return r;
}

static void json_put(void *array, const diff *d, const item *it)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o && (it->b ? add_name(o, "caller", it->a, it->alen) && add_name(o, "callee", it->b, it->blen)
			      : add_name(o, "function", it->a, it->alen) != NULL) &&
		  cJSON_AddNumberToObject(o, "old_share", share(d, it, 0)) &&
		  cJSON_AddNumberToObject(o, "new_share", share(d, it, 1));
	if (!ok || !cJSON_AddItemToArray(array, o)) {
		cJSON_Delete(o);
		cJSON_AddItemToArray(array, cJSON_CreateNull()); /* the print then fails below */
	}
}

static int json_write(FILE *f, const diff *d)
{
	cJSON *root = cJSON_CreateObject();
	bool ok = root && cJSON_AddItemToObject(root, "old", json_totals(d->p[0])) &&
		  cJSON_AddItemToObject(root, "new", json_totals(d->p[1]));
	for (int list = ENTERED; ok && list <= MOVED; list++) {
		cJSON *a = cJSON_AddArrayToObject(root, list_names[list]);
		ok = a != NULL;
		if (ok)
			each_top(d, list, json_put, a);
		for (cJSON *it = a ? a->child : NULL; ok && it; it = it->next)
			ok = !cJSON_IsNull(it);
	}
	ok = ok && (d->matched >= 0 ? cJSON_AddNumberToObject(root, "matched", d->matched)
				    : cJSON_AddNullToObject(root, "matched"));
	char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
	if (text)
		fprintf(f, "%s\n", text);
	free(text);
	cJSON_Delete(root);
	return text ? 0 : -1;
}

int pf_diff_write(FILE *f, bool json, const pf_profile *old, const pf_profile *new, pf_err *e)
{
	diff d;
	int rc = diff_init(&d, old, new, e);
	if (rc == 0 && json && json_write(f, &d) != 0)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	else if (rc == 0 && !json)
		md_write(f, &d);
	diff_free(&d);
	return rc;
}

/* ---- the command ---- */

static const char usage[] =
	"usage: pgofetch diff [-json] [-o file] OLD NEW\n"
	"\n"
	"diff reports what changed for Go's compiler from profile OLD to profile NEW:\n"
	"totals, the hot functions and call edges (Go's inliner's 99% threshold) that\n"
	"entered, left or moved most, and how much of OLD's hot weight names functions\n"
	"that NEW still has. Markdown, for a pull request; -json for tools.\n"
	"\n"
	"  -json\n"
	"    \tprint one JSON object: old, new, entered, left, moved, matched\n"
	"  -o file\n"
	"    \twrite the report to file (atomically) instead of stdout\n";

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "pgofetch diff: %s%s\n%s", what, arg, usage);
	return PF_EXIT_USAGE;
}

/* The report, then stdout or -o FILE. */
static int report(bool json, const char *out, const pf_profile *old, const pf_profile *new, pf_err *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int rc = pf_diff_write(f, json, old, new, e);
	if (fclose(f) != 0 && rc == 0)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	bool changed;
	if (rc == 0 && out)
		rc = pf_write_dest(out, (const uint8_t *)text, len, NULL, 0, &changed, e);
	else if (rc == 0)
		fwrite(text, 1, len, stdout);
	free(text);
	return rc;
}

int pf_diff_main(int argc, char **argv)
{
	bool json = false;
	const char *out = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *name = argv[i] + 1 + (argv[i][1] == '-');
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(name, "h") == 0 || strcmp(name, "help") == 0) {
			fputs(usage, stdout);
			return PF_EXIT_OK;
		}
		if (strcmp(name, "json") == 0 || strcmp(name, "json=true") == 0 || strcmp(name, "json=false") == 0)
			json = strcmp(name, "json=false") != 0;
		else if (strncmp(name, "o=", 2) == 0)
			out = name + 2;
		else if (strcmp(name, "o") == 0 && i + 1 < argc)
			out = argv[++i];
		else
			return usage_error(strcmp(name, "o") == 0 ? "flag needs an argument: " :
				"flag provided but not defined: ", argv[i]);
	}
	if (argc - i != 2)
		return usage_error("want two arguments: OLD NEW", "");
	if (out && !*out)
		return usage_error("-o: want a file name", "");
	pf_err e = {0};
	pf_profile *old = pf_check_read_profile(argv[i], &e);
	pf_profile *new = old ? pf_check_read_profile(argv[i + 1], &e) : NULL;
	if (new && report(json, out, old, new, &e) != 0 && e.code == PF_EXIT_DATA)
		pf_err_prefix(&e, "Go's compiler would refuse a profile");
	pf_profile_free(old);
	pf_profile_free(new);
	if (e.code)
		fprintf(stderr, "pgofetch diff: %s\n", e.msg);
	return e.code;
}
