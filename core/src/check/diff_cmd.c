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
#include "log.h"
#include "symbols.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOT_CDF_PERCENT 99.0 /* Go's -d=pgoinlinecdfthreshold default */
#define TOP 10               /* functions, then call edges, per list */

enum { NONE, ENTERED, LEFT, MOVED };

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

/* By list, functions before edges, the largest key first, then by name
 * (before classify() sets list and key: by function, then edge). */
static int by_list(const void *x, const void *y)
{
	const item *a = x, *b = y;
	if (a->list != b->list || !a->b != !b->b)
		return a->list != b->list ? a->list - b->list : a->b ? 1 : -1;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	int c = pf_bytes_cmp(a->a, a->alen, b->a, b->alen);
	return c || !a->b ? c : pf_bytes_cmp(a->b, a->blen, b->b, b->blen);
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
	qsort(d->items, d->n, sizeof *d->items, by_list);
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++) {
		item *it = &d->items[i], *last = n ? &d->items[n - 1] : NULL;
		if (!last || by_list(last, it) != 0) {
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

/* CPU time: the sum of the compiler's sample type, times the period when
 * that counts samples (all a -trim'd profile keeps). */
static totals totals_of(const pf_profile *p)
{
	totals t = {0};
	long vi = p ? pf_pgo_value_index(p) : -1;
	for (size_t i = 0; vi >= 0 && i < p->nsamples; i++)
		t.cpu_ns += p->values[p->samples[i].values + (size_t)vi];
	if (vi >= 0 && strcmp(pf_profile_str(p, p->sample_types[vi].unit, NULL), "count") == 0)
		t.cpu_ns *= strcmp(pf_profile_str(p, p->period_type.unit, NULL), "nanoseconds") == 0 ? p->period : 0;
	pf_profile_time_text(p, t.time);
	t.samples = p ? (int64_t)p->nsamples : 0;
	t.duration_ns = p ? p->duration_nanos : 0;
	return t;
}

static const char *dur(int64_t ns, char *buf)
{
	pf_duration_format(ns - ns % 1000000, buf, 32);
	return buf;
}

/* One function or edge: a markdown table row (the header before the
 * first), or a JSON object. */
static void put_item(FILE *f, bool json, const diff *d, const item *it, bool first)
{
	if (json) {
		fprintf(f, "%s{\"%s\":\"", first ? "" : ",", it->b ? "caller" : "function");
		pf_json_escaped(f, it->a);
		if (it->b) {
			fputs("\",\"callee\":\"", f);
			pf_json_escaped(f, it->b);
		}
		fprintf(f, "\",\"old_share\":%.17g,\"new_share\":%.17g}", share(d, it, 0), share(d, it, 1));
		return;
	}
	if (first)
		fputs("| function or call edge | old share | new share |\n| --- | ---: | ---: |\n", f);
	fprintf(f, "| `%.*s%s%.*s` | %.2f%% | %.2f%% |\n", (int)it->alen, it->a, it->b ? "` → `" : "",
		(int)it->blen, it->b ? it->b : "", 100 * share(d, it, 0), 100 * share(d, it, 1));
}

/* The first TOP functions, then the first TOP edges, of list; how many. */
static size_t put_list(FILE *f, bool json, const diff *d, int list)
{
	size_t fns = 0, edges = 0, n = 0;
	for (size_t i = 0; i < d->n; i++) {
		const item *it = &d->items[i];
		if (it->list == list && (it->b ? edges++ : fns++) < TOP)
			put_item(f, json, d, it, n++ == 0);
	}
	return n;
}

/* The ten-second read: how many functions entered and left the hot set,
 * the weight they carry, and the heaviest of each; the largest move. */
static void md_headline(FILE *f, const diff *d)
{
	const item *top[4] = {0};
	size_t count[4] = {0};
	double sum[4] = {0};
	for (size_t i = 0; i < d->n; i++) {
		const item *it = &d->items[i];
		if (it->list == NONE || it->b)
			continue;
		top[it->list] = top[it->list] ? top[it->list] : it; /* sorted: the largest first */
		count[it->list]++;
		sum[it->list] += share(d, it, it->list == LEFT ? 0 : 1);
	}
	fprintf(f, "**In short**: %zu hot function%s entered (%.1f%% of the new weight", count[ENTERED],
		count[ENTERED] == 1 ? "" : "s", 100 * sum[ENTERED]);
	if (top[ENTERED])
		fprintf(f, ", most `%.*s`", (int)top[ENTERED]->alen, top[ENTERED]->a);
	fprintf(f, "), %zu left (%.1f%% of the old", count[LEFT], 100 * sum[LEFT]);
	if (top[LEFT])
		fprintf(f, ", most `%.*s`", (int)top[LEFT]->alen, top[LEFT]->a);
	fputs(")", f);
	if (top[MOVED])
		fprintf(f, "; moved most: `%.*s` %.1f%% → %.1f%%", (int)top[MOVED]->alen, top[MOVED]->a,
			100 * share(d, top[MOVED], 0), 100 * share(d, top[MOVED], 1));
	fputs(".\n\n", f);
}

static void md_write(FILE *f, const diff *d)
{
	static const char *const titles[] = {"", "Entered: hot in the new profile only",
					     "Left: hot in the old profile only",
					     "Moved most: hot in both, largest change of share"};
	totals t[2] = {totals_of(d->p[0]), totals_of(d->p[1])};
	char a[32], b[32];
	md_headline(f, d);
	fputs("| | old | new |\n| --- | ---: | ---: |\n", f);
	fprintf(f, "| samples | %lld | %lld |\n", (long long)t[0].samples, (long long)t[1].samples);
	fprintf(f, "| CPU time | %s | %s |\n", dur(t[0].cpu_ns, a), dur(t[1].cpu_ns, b));
	fprintf(f, "| profiled for | %s | %s |\n", dur(t[0].duration_ns, a), dur(t[1].duration_ns, b));
	fprintf(f, "| taken | %s | %s |\n", t[0].time[0] ? t[0].time : "-", t[1].time[0] ? t[1].time : "-");
	fprintf(f, "| hot call sites | %zu of %zu | %zu of %zu |\n", d->nhot[0], d->g[0].nedges, d->nhot[1],
		d->g[1].nedges);
	if (d->matched >= 0)
		fprintf(f, "\n**matched**: %.1f%% of the old profile's hot weight names functions of the new one\n",
			100 * d->matched);
	for (int list = ENTERED; list <= MOVED; list++) {
		fprintf(f, "\n### %s\n\n", titles[list]);
		if (put_list(f, false, d, list) == 0)
			fputs("none\n", f);
	}
}

static void json_totals(FILE *f, const char *key, const pf_profile *p)
{
	totals t = totals_of(p);
	fprintf(f, "\"%s\":{\"samples\":%lld,\"cpu_ns\":%lld,\"duration_ns\":%lld,\"time\":", key,
		(long long)t.samples, (long long)t.cpu_ns, (long long)t.duration_ns);
	if (t.time[0])
		fprintf(f, "\"%s\"}", t.time);
	else
		fputs("null}", f);
}

static void json_write(FILE *f, const diff *d)
{
	static const char *const names[] = {"", "entered", "left", "moved"};
	fputc('{', f);
	json_totals(f, "old", d->p[0]);
	fputc(',', f);
	json_totals(f, "new", d->p[1]);
	for (int list = ENTERED; list <= MOVED; list++) {
		fprintf(f, ",\"%s\":[", names[list]);
		put_list(f, true, d, list);
		fputc(']', f);
	}
	if (d->matched >= 0)
		fprintf(f, ",\"matched\":%.17g}\n", d->matched);
	else
		fputs(",\"matched\":null}\n", f);
}

int pf_diff_write(FILE *f, bool json, const pf_profile *old, const pf_profile *new, pf_err *e)
{
	diff d;
	int rc = diff_init(&d, old, new, e);
	if (rc == 0)
		(json ? json_write : md_write)(f, &d);
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
	"    \twrite the report to file instead of stdout\n";

int pf_diff_main(int argc, char **argv)
{
	bool json = false;
	const char *out = NULL;
	pf_sub_flag flags[] = {{"json", &json, NULL}, {"o", NULL, &out}, {0}};
	int i = pf_subcommand_flags(argc, argv, flags, "diff", usage);
	if (i <= 0)
		return -i;
	if (argc - i != 2 || (out && !*out))
		return pf_subcommand_usage("diff", usage, "want two arguments, OLD NEW, and a file name after -o");
	pf_err e = {0};
	pf_profile *old = pf_check_read_profile(argv[i], &e);
	pf_profile *new = old ? pf_check_read_profile(argv[i + 1], &e) : NULL;
	FILE *f = !new ? NULL : out ? fopen(out, "w") : stdout;
	if (new && !f)
		pf_fail(&e, PF_EXIT_OUTPUT, "cannot write %s: %s", out, strerror(errno));
	if (f && pf_diff_write(f, json, old, new, &e) != 0 && e.code == PF_EXIT_DATA)
		pf_err_prefix(&e, "Go's compiler would refuse a profile");
	if (f && f != stdout && fclose(f) != 0 && !e.code)
		pf_fail(&e, PF_EXIT_OUTPUT, "cannot write %s: %s", out, strerror(errno));
	pf_profile_free(old);
	pf_profile_free(new);
	if (e.code)
		fprintf(stderr, "pgofetch diff: %s\n", e.msg);
	return e.code;
}
