/* refresh.c: pgofetch refresh. Every main package of a list file in one
 * process: each package's whole flow (pf_run), as a run of its own would
 * do it, on at most -j threads. Threads, because a package's time goes to
 * waiting on the network (the tests hold the fake API's answers until -j
 * requests are open: a sequential refresh fails them). What the flow
 * shares process-wide is made safe for it where it lives: log.c, http.c,
 * output.c, run.c; -limit memory bounds the process, so it is set once. */
#include "refresh.h"
#include "check_cmd.h"
#include "cli.h"
#include "diff_cmd.h"
#include "flow.h"
#include "output.h"
#include "result.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JOBS 64 /* output.c guards this many writes at once */

typedef struct {
	char *text;  /* the list line, split in place: dir and argv point into it */
	char **argv; /* "pgofetch", refresh's flags, the line's, "--", its other words, DEST */
	char *dir, *dest;
	pf_options o;
	pf_err e;
	pf_result res;
	cJSON *json;  /* its -result object */
	char *report; /* its part of -diff, when it changed */
	size_t report_len;
	bool named; /* among the PKG arguments */
} package;

typedef struct {
	const char *list, *out, *diff, *result;
	long jobs;
	char **fwd; /* pgofetch's flags given to refresh, for every package */
	int nfwd;
	pf_options run; /* those parsed: -json, -v, -fail, -result, -limit */
	package *pkgs;
	size_t n;
	package **sel; /* the packages to refresh: all, or those named */
	size_t nsel;
	atomic_size_t next; /* the first no thread took yet */
} refresh;

static const char usage[] =
	"usage: pgofetch refresh [OPTIONS] [PKG...]\n"
	"\n"
	"refresh writes PKG/default.pgo for every main package of the list file, or\n"
	"for the PKGs named, in one process, -j packages at once. A line of the list\n"
	"names a package's directory (relative to the list), then pgofetch's\n"
	"arguments for it without DEST; blank lines and # comments are skipped.\n"
	"OPTIONS but -diff, -j, -list and -out are pgofetch's (pgofetch -h), applied\n"
	"to every package before its line's. Unless -fail is set, refresh returns\n"
	"exit code 0 even when packages fail, leaving their profiles as they were.\n"
	"\n"
	"  -diff file\n"
	"    \twrite what changed for the compiler in each changed profile (pgofetch\n"
	"    \tdiff), as markdown; an empty file when none changed\n"
	"  -j n\n"
	"    \tpackages at once, 1 to 64 (default 4)\n"
	"  -list file\n"
	"    \tthe list of main packages (default \"pgofetch.list\")\n"
	"  -out dir\n"
	"    \twrite dir/PKG/default.pgo instead of PKG/default.pgo\n";

int pf_list_split(char *line, char **words)
{
	int n = 0;
	char *r = line, *w = line;
	while (*(r += strspn(r, " \t\r\n"))) {
		words[n++] = w;
		while (*r && !strchr(" \t\r\n", *r)) {
			char *end = *r == '\'' || *r == '"' ? strchr(r + 1, *r) : NULL;
			if (!end && (*r == '\'' || *r == '"'))
				return -1;
			if (!end) {
				*w++ = *r++;
				continue;
			}
			memmove(w, r + 1, (size_t)(end - r - 1));
			w += end - r - 1;
			r = end + 1;
		}
		bool more = *r != '\0';
		*w++ = '\0'; /* w <= r: a blank or the end is overwritten */
		r += more;
	}
	return n;
}

static bool flag_is(const char *word, const char *name)
{
	const char *s = word + 1 + (word[1] == '-');
	size_t len = strcspn(s, "=");
	return strlen(name) == len && strncmp(s, name, len) == 0;
}

static void trim_slashes(char *dir)
{
	for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/';)
		dir[--len] = '\0';
}

/* The package's command line: refresh's flags, the line's flags (one may
 * follow a QUERY on a line), "--", the line's other words, DEST. */
static int build_argv(const refresh *r, package *pk, char **words, int n, pf_err *e)
{
	if (!(pk->argv = calloc((size_t)(r->nfwd + n + 4), sizeof *pk->argv)))
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int k = 0, npos = 0;
	pk->argv[k++] = "pgofetch";
	for (int i = 0; i < r->nfwd; i++)
		pk->argv[k++] = r->fwd[i];
	bool flags = true;
	for (int i = 1; i < n; i++) {
		char *w = words[i];
		if (flags && strcmp(w, "--") == 0) {
			flags = false;
			continue;
		}
		if (!flags || w[0] != '-' || w[1] == '\0') {
			words[npos++] = w; /* npos <= i: the words still to come stay */
			continue;
		}
		if (flag_is(w, "json") || flag_is(w, "v") || flag_is(w, "fail") || flag_is(w, "result") ||
		    flag_is(w, "h") || flag_is(w, "help"))
			return pf_fail(e, PF_EXIT_USAGE, "%s is for the whole refresh, not a line", w);
		int takes = pf_cli_flag_words(w);
		if (takes < 0)
			return pf_fail(e, PF_EXIT_USAGE, "flag provided but not defined: %s", w);
		if (takes && i + 1 >= n)
			return pf_fail(e, PF_EXIT_USAGE, "flag needs an argument: %s", w);
		pk->argv[k++] = w;
		if (takes)
			pk->argv[k++] = words[++i];
	}
	if (npos == 0 && k == 1 + r->nfwd)
		return pf_fail(e, PF_EXIT_USAGE, "%s: no QUERY or -in source", pk->dir);
	pk->argv[k++] = "--";
	for (int i = 0; i < npos; i++)
		pk->argv[k++] = words[i];
	pk->argv[k++] = pk->dest;
	if (pf_cli_parse(k, pk->argv, &pk->o, e) != 0)
		return -1;
	pk->o.result = NULL; /* refresh writes one for all */
	pk->o.limits.memory = r->run.limits.memory;
	return 0;
}

static int parse_line(refresh *r, package *pk, pf_err *e)
{
	char **words = malloc((strlen(pk->text) / 2 + 2) * sizeof *words);
	if (!words)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int n = pf_list_split(pk->text, words), rc = 0;
	pk->dir = n > 0 ? words[0] : "";
	trim_slashes(pk->dir);
	if (n < 0)
		rc = pf_fail(e, PF_EXIT_USAGE, "a quote is not closed");
	else if (!*pk->dir || pk->dir[0] == '/' || pk->dir[0] == '-')
		rc = pf_fail(e, PF_EXIT_USAGE, "\"%s\": want a main package's directory, relative to the list",
			     pk->dir);
	for (const package *q = r->pkgs; rc == 0 && q < pk; q++)
		if (strcmp(q->dir, pk->dir) == 0)
			rc = pf_fail(e, PF_EXIT_USAGE, "%s is listed twice", pk->dir);
	if (rc == 0 && !(pk->dest = pf_strf("%s%s%s/default.pgo", r->out ? r->out : "", r->out ? "/" : "", pk->dir)))
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	if (rc == 0)
		rc = build_argv(r, pk, words, n, e);
	free(words);
	return rc;
}

/* Reads the list: a package a line, each checked before anything runs. */
static int read_list(refresh *r, FILE *f, pf_err *e)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;
	for (long no = 1; rc == 0 && getline(&line, &cap, f) >= 0; no++) {
		const char *p = line + strspn(line, " \t\r\n");
		if (*p == '\0' || *p == '#')
			continue;
		package *grown = realloc(r->pkgs, (r->n + 1) * sizeof *grown);
		if (!grown) {
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
			break;
		}
		r->pkgs = grown;
		package *pk = memset(&r->pkgs[r->n++], 0, sizeof *pk);
		if (!(pk->text = strdup(line)))
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		else if ((rc = parse_line(r, pk, e)) != 0) {
			char where[4200];
			snprintf(where, sizeof where, "%s:%ld", r->list, no);
			pf_err_prefix(e, where);
		}
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = pf_fail(e, PF_EXIT_USAGE, "%s: %s", r->list, strerror(errno));
	return rc;
}

/* The packages to refresh, in the list's order: all, or those named. */
static int select_packages(refresh *r, char **names, int n, pf_err *e)
{
	if (!(r->sel = calloc(r->n + 1, sizeof *r->sel)))
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	for (int i = 0; i < n; i++) {
		trim_slashes(names[i]);
		size_t j = 0;
		while (j < r->n && strcmp(r->pkgs[j].dir, names[i]) != 0)
			j++;
		if (j == r->n)
			return pf_fail(e, PF_EXIT_USAGE, "%s is not in %s", names[i], r->list);
		r->pkgs[j].named = true;
	}
	for (size_t j = 0; j < r->n; j++)
		if (n == 0 || r->pkgs[j].named)
			r->sel[r->nsel++] = &r->pkgs[j];
	return 0;
}

/* mkdir -p of dest's directory, for -out. */
static int make_dirs(const char *dest, pf_err *e)
{
	char *path = strdup(dest);
	if (!path)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: creating %s: %s", dest, path, strerror(errno));
		*p = '/';
	}
	free(path);
	return e->code ? -1 : 0;
}

/* The package's part of -diff: its heading, then pgofetch diff's markdown. */
static void report(package *pk, const pf_profile *old)
{
	pf_err e = {0};
	FILE *f = open_memstream(&pk->report, &pk->report_len);
	if (!f)
		return;
	fprintf(f, "\n## %s\n\n%s", pk->dir, old ? "" : "A new profile.\n\n");
	pf_profile *new = pf_check_read_profile(pk->dest, &e);
	if (!new || pf_diff_write(f, false, old, new, &e) != 0)
		fprintf(f, "pgofetch could not compare the profiles: %s\n", e.msg);
	pf_profile_free(new);
	fclose(f);
}

/* The package's line on stderr: text, or with -json its -result object. */
static void finish(const refresh *r, package *pk)
{
	const char *outcome = pk->e.code || !pk->res.outcome ? "failed" :
			      strcmp(pk->res.outcome, "written") == 0 ? "updated" : pk->res.outcome;
	int profiles = cJSON_GetArraySize(pk->res.sources);
	long long samples = (long long)pk->res.samples;
	pk->json = pf_result_json(&pk->res, &pk->o, &pk->e, pk->e.code && r->run.fail ? pk->e.code : 0);
	if (pk->json && !cJSON_AddStringToObject(pk->json, "package", pk->dir)) {
		cJSON_Delete(pk->json);
		pk->json = NULL;
	}
	char *text = r->run.json && pk->json ? cJSON_PrintUnformatted(pk->json) : NULL;
	if (text)
		fprintf(stderr, "%s\n", text);
	else if (pk->e.code)
		fprintf(stderr, "pgofetch: %s: failed: %s\n", pk->dir, pk->e.msg);
	else if (strcmp(outcome, "skipped") == 0)
		fprintf(stderr, "pgofetch: %s: skipped (younger than -max-age)\n", pk->dir);
	else
		fprintf(stderr, "pgofetch: %s: %s (%lld samples from %d profile%s)\n", pk->dir, outcome, samples,
			profiles, profiles == 1 ? "" : "s");
	free(text);
}

static void run_one(refresh *r, package *pk)
{
	pf_log log;
	pf_log_init(&log, stderr, r->run.json, r->run.verbose);
	log.color = false; /* no progress line: it would mix packages */
	log.quiet = true;  /* the flow's lines with -v; warnings and finish()'s line always */
	log.package = pk->dir;
	log.result = &pk->res;
	pf_err ignored = {0}; /* no profile there yet: a new one */
	pf_profile *old = r->diff ? pf_check_read_profile(pk->dest, &ignored) : NULL;
	if ((!r->out || make_dirs(pk->dest, &pk->e) == 0) && pf_run(&pk->o, &log, &pk->e) == 0 &&
	    pk->res.changed && r->diff)
		report(pk, old);
	pf_profile_free(old);
	finish(r, pk);
}

static void *worker(void *arg)
{
	refresh *r = arg;
	for (size_t i; (i = atomic_fetch_add(&r->next, 1)) < r->nsel;)
		run_one(r, r->sel[i]);
	return NULL;
}

/* -j - 1 threads, and this one: the same loop. Measured: 8 packages at a
 * 300 ms round trip take 1.0 s with -j 4, 2.8 s with -j 1, same CPU. */
static void run_all(refresh *r)
{
	pthread_t threads[MAX_JOBS];
	size_t started = 0;
	while (started + 1 < (size_t)r->jobs && started + 1 < r->nsel &&
	       pthread_create(&threads[started], NULL, worker, r) == 0)
		started++;
	worker(r);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* Writes what open_memstream gathered to path (atomically); frees it. */
static int write_text(const char *path, FILE *f, char **text, size_t *len, pf_err *e)
{
	bool changed;
	int rc = fclose(f) != 0 ? pf_fail(e, PF_EXIT_INTERNAL, "out of memory")
			      : pf_write_dest(path, (const uint8_t *)*text, *len, NULL, 0, &changed, e);
	free(*text);
	return rc;
}

/* -diff and -result, once every package is done. */
static int write_reports(refresh *r, size_t changed, size_t failed, pf_err *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = r->diff ? open_memstream(&text, &len) : NULL;
	if (f && changed)
		fprintf(f, "**pgofetch refresh**: %zu of %zu profiles changed%s.\n", changed, r->nsel,
			failed ? ", some packages failed (see the log)" : "");
	for (size_t i = 0; f && i < r->nsel; i++)
		if (r->sel[i]->report)
			fwrite(r->sel[i]->report, 1, r->sel[i]->report_len, f);
	if ((r->diff && !f) || (f && write_text(r->diff, f, &text, &len, e) != 0))
		return e->code ? -1 : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	if (!r->result)
		return 0;
	if (!(f = open_memstream(&text, &len)))
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	fputs("{\"packages\":[", f);
	for (size_t i = 0; i < r->nsel; i++) {
		char *one = r->sel[i]->json ? cJSON_PrintUnformatted(r->sel[i]->json) : NULL;
		fprintf(f, "%s%s", i ? "," : "", one ? one : "null");
		free(one);
	}
	fprintf(f, "],\"changed\":%zu,\"failed\":%zu}\n", changed, failed);
	return write_text(r->result, f, &text, &len, e);
}

/* A path given before chdir to the list's directory, as seen from there. */
static int absolute(const char **path, char **owned, pf_err *e)
{
	char cwd[4096];
	if (!*path || (*path)[0] == '/')
		return 0;
	if (!getcwd(cwd, sizeof cwd) || !(*owned = pf_strf("%s/%s", cwd, *path)))
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot find the current directory");
	*path = *owned;
	return 0;
}

/* refresh's own flags; pgofetch's go to every package. Returns the index
 * of the first PKG, or -1. */
static int parse_flags(refresh *r, int argc, char **argv, bool *help, pf_err *e)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--") != 0; i++) {
		char *w = argv[i], *eq = strchr(w, '='), *end;
		const char **own = flag_is(w, "list") ? &r->list : flag_is(w, "out") ? &r->out :
				   flag_is(w, "diff") ? &r->diff : NULL, *jobs = NULL;
		if ((*help = flag_is(w, "h") || flag_is(w, "help")))
			return i;
		int takes = own || flag_is(w, "j") ? !eq : pf_cli_flag_words(w);
		if (takes < 0)
			return pf_fail(e, PF_EXIT_USAGE, "flag provided but not defined: %s", w);
		if (takes && i + 1 >= argc)
			return pf_fail(e, PF_EXIT_USAGE, "flag needs an argument: %s", w);
		if (own || flag_is(w, "j")) {
			*(own ? own : &jobs) = eq ? eq + 1 : argv[++i];
		} else {
			r->fwd[r->nfwd++] = w;
			if (takes)
				r->fwd[r->nfwd++] = argv[++i];
		}
		if (jobs && (!*jobs || (r->jobs = strtol(jobs, &end, 10)) < 1 || r->jobs > MAX_JOBS || *end))
			return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -j: want 1 to %d", jobs, MAX_JOBS);
		if (own && !**own)
			return pf_fail(e, PF_EXIT_USAGE, "flag %s: want a path", w);
	}
	return i < argc && strcmp(argv[i], "--") == 0 ? i + 1 : i;
}

/* Checks refresh's pgofetch flags as a run of their own, and reads them. */
static int parse_run_wide(refresh *r, pf_err *e)
{
	char *tail[] = {"-in", "-", "default.pgo"};
	char **argv = calloc((size_t)r->nfwd + 5, sizeof *argv);
	if (!argv)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	argv[0] = "pgofetch";
	memcpy(argv + 1, r->fwd, (size_t)r->nfwd * sizeof *argv);
	memcpy(argv + 1 + r->nfwd, tail, sizeof tail);
	int rc = pf_cli_parse(r->nfwd + 4, argv, &r->run, e);
	free(argv);
	r->result = r->run.result;
	return rc;
}

/* Flags, then the list (paths on its lines are relative to it: refresh
 * works from its directory), then the packages named. */
static int setup(refresh *r, int argc, char **argv, bool *help, char *owned[3], pf_err *e)
{
	int first = parse_flags(r, argc, argv, help, e);
	if (first < 0 || *help || parse_run_wide(r, e) != 0 || absolute(&r->out, &owned[0], e) ||
	    absolute(&r->diff, &owned[1], e) || absolute(&r->result, &owned[2], e))
		return -1;
	FILE *f = fopen(r->list, "r");
	char *dir = f ? strdup(r->list) : NULL;
	int rc = !f ? pf_fail(e, PF_EXIT_USAGE, "cannot read %s: %s", r->list, strerror(errno))
		 : !dir ? pf_fail(e, PF_EXIT_INTERNAL, "out of memory")
		 : chdir(dirname(dir)) != 0 ? pf_fail(e, PF_EXIT_USAGE, "%s: %s", r->list, strerror(errno))
					    : read_list(r, f, e);
	free(dir);
	if (f)
		fclose(f);
	return rc == 0 ? select_packages(r, argv + first, argc - first, e) : -1;
}

int pf_refresh_main(int argc, char **argv)
{
	refresh r = {.list = "pgofetch.list", .jobs = 4};
	pf_err e = {0};
	bool help = false;
	char *owned[3] = {0};
	int rc = (r.fwd = calloc((size_t)argc, sizeof *r.fwd)) ? setup(&r, argc, argv, &help, owned, &e)
							       : pf_fail(&e, PF_EXIT_INTERNAL, "out of memory");
	int code = PF_EXIT_OK;
	if (help) {
		fputs(usage, stdout);
	} else if (rc != 0) {
		fprintf(stderr, "pgofetch refresh: %s\n%s", e.msg,
			e.code == PF_EXIT_USAGE ? "(pgofetch refresh -h lists the flags)\n" : "");
		code = e.code;
	} else {
		pf_limits_bound_memory(&r.run.limits);
		run_all(&r);
		size_t changed = 0, failed = 0;
		for (size_t i = 0; i < r.nsel; i++) {
			changed += r.sel[i]->res.changed;
			failed += r.sel[i]->e.code != 0;
			if (r.run.fail && r.sel[i]->e.code && code == PF_EXIT_OK)
				code = r.sel[i]->e.code;
		}
		pf_err we = {0};
		if (write_reports(&r, changed, failed, &we) != 0) {
			fprintf(stderr, "pgofetch refresh: %s\n", we.msg);
			code = code == PF_EXIT_OK && r.run.fail ? we.code : code;
		}
	}
	for (size_t i = 0; i < r.n; i++) {
		package *pk = &r.pkgs[i];
		pf_cli_free(&pk->o);
		pf_result_free(&pk->res);
		cJSON_Delete(pk->json);
		free(pk->report);
		free(pk->argv);
		free(pk->dest);
		free(pk->text);
	}
	free(r.pkgs);
	free(r.sel);
	free(r.fwd);
	pf_cli_free(&r.run);
	for (int i = 0; i < 3; i++)
		free(owned[i]);
	return code;
}
