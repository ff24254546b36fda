/* refresh.c: pgofetch refresh. Every main package of a list file in one
 * process, each package's whole flow (pf_run) as a single run would do it,
 * at most -j at once.
 *
 * Threads, because the time goes to waiting: each package is a few round
 * trips to the API (or to its -in endpoints), and N packages one after the
 * other wait N times as long (tests/refresh_test.go holds the fake API's
 * answers until -j requests are in flight at once: a sequential refresh
 * fails it). What the flow shares process-wide was made safe for it: the
 * logger writes whole lines (log.c), libcurl's global init is serialised
 * (http.c), the signal cleanup of temporary files holds one slot per
 * writer and umask is read once (output.c), child processes get only
 * their own pipes (run.c), and -limit memory bounds the process, so it is
 * set once, from refresh's own flags. */
#include "refresh.h"
#include "check_cmd.h"
#include "cli.h"
#include "diff_cmd.h"
#include "flow.h"
#include "log.h"
#include "output.h"
#include "result.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JOBS 64 /* output.c guards this many writes at once */

typedef struct {
	char *text;   /* the list line, split in place: the words point into it */
	char **argv;  /* "pgofetch", refresh's flags, the line's, "--", its other words, DEST */
	char *dir, *dest;
	pf_options o;
	pf_err e;
	pf_result res;
	cJSON *json;   /* its -result object */
	char *report;  /* its part of -diff, when it changed */
	size_t report_len;
} package;

typedef struct {
	const char *list, *out, *diff, *result;
	long jobs;
	char **fwd; /* the flags for every package: refresh's own, but -list, -j, -out, -diff */
	int nfwd;
	pf_options run; /* those parsed: -json, -v, -fail, -result, -limit memory */
	package *pkgs;
	size_t n, next; /* next: the first package no thread took yet */
	pthread_mutex_t mu;
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
	for (;;) {
		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (!*r)
			return n;
		words[n++] = w = r;
		while (*r && !strchr(" \t\r\n", *r)) {
			if (*r != '\'' && *r != '"') {
				*w++ = *r++;
				continue;
			}
			char *end = strchr(r + 1, *r);
			if (!end)
				return -1;
			memmove(w, r + 1, (size_t)(end - r - 1));
			w += end - r - 1;
			r = end + 1;
		}
		bool more = *r != '\0';
		*w = '\0'; /* w <= r: a blank or the end is overwritten */
		if (!more)
			return n;
		r++;
	}
}

static bool flag_is(const char *word, const char *name)
{
	const char *s = word + 1 + (word[1] == '-');
	size_t len = strcspn(s, "=");
	return strlen(name) == len && strncmp(s, name, len) == 0;
}

/* A line's flags that only refresh as a whole can take. */
static bool run_wide(const char *word)
{
	static const char *const names[] = {"json", "v", "fail", "result", "result-format", "version", "h", "help"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (flag_is(word, names[i]))
			return true;
	return false;
}

/* The package's command line: refresh's flags, the line's flags (a flag
 * may follow a QUERY on a line), "--", the line's other words, DEST. */
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
		int takes = pf_cli_flag_words(w);
		if (takes < 0)
			return pf_fail(e, PF_EXIT_USAGE, "flag provided but not defined: %s", w);
		if (run_wide(w))
			return pf_fail(e, PF_EXIT_USAGE, "%s is for the whole refresh, not a line", w);
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
	pk->dir = n > 0 ? words[0] : NULL;
	size_t len = pk->dir ? strlen(pk->dir) : 0;
	while (len > 1 && pk->dir[len - 1] == '/')
		pk->dir[--len] = '\0';
	if (n < 0)
		rc = pf_fail(e, PF_EXIT_USAGE, "a quote is not closed");
	else if (!*pk->dir || pk->dir[0] == '/' || pk->dir[0] == '-')
		rc = pf_fail(e, PF_EXIT_USAGE, "\"%s\": want a main package's directory, relative to the list",
			     pk->dir);
	for (size_t i = 0; rc == 0 && i < r->n; i++)
		if (strcmp(r->pkgs[i].dir, pk->dir) == 0)
			rc = pf_fail(e, PF_EXIT_USAGE, "%s is listed twice", pk->dir);
	size_t size = (rc == 0 ? strlen(pk->dir) : 0) + (r->out ? strlen(r->out) : 0) + 16;
	if (rc == 0 && !(pk->dest = malloc(size)))
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	if (rc == 0) {
		snprintf(pk->dest, size, "%s%s%s/default.pgo", r->out ? r->out : "", r->out ? "/" : "", pk->dir);
		rc = build_argv(r, pk, words, n, e);
	}
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
		package *pk = memset(&r->pkgs[r->n], 0, sizeof *pk);
		pf_result_init(&pk->res);
		if (!(pk->text = strdup(line)))
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		else if ((rc = parse_line(r, pk, e)) != 0) {
			char where[4200];
			snprintf(where, sizeof where, "%s:%ld", r->list, no);
			pf_err_prefix(e, where);
		}
		r->n++;
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = pf_fail(e, PF_EXIT_USAGE, "%s: %s", r->list, strerror(errno));
	return rc;
}

/* Keeps only the packages named on the command line, in the list's order. */
static int select_packages(refresh *r, char **names, int n, pf_err *e)
{
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]);
		while (len > 1 && names[i][len - 1] == '/')
			names[i][--len] = '\0';
		bool found = false;
		for (size_t j = 0; j < r->n && !found; j++)
			found = strcmp(r->pkgs[j].dir, names[i]) == 0;
		if (!found)
			return pf_fail(e, PF_EXIT_USAGE, "%s is not in %s", names[i], r->list);
	}
	size_t kept = 0;
	for (size_t j = 0; j < r->n; j++) {
		bool named = n == 0;
		for (int i = 0; i < n && !named; i++)
			named = strcmp(r->pkgs[j].dir, names[i]) == 0;
		if (named) {
			package tmp = r->pkgs[kept];
			r->pkgs[kept++] = r->pkgs[j];
			r->pkgs[j] = tmp;
		}
	}
	return (int)kept; /* the others are freed at the end, as r->n was */
}

/* mkdir -p of dest's directory, for -out. */
static int make_dirs(const char *dest, pf_err *e)
{
	char *path = strdup(dest);
	if (!path)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	char *slash = strrchr(path, '/');
	for (char *p = path + 1; slash && p <= slash; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST) {
			pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: creating %s: %s", dest, path, strerror(errno));
			break;
		}
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
	const char *outcome = pk->e.code ? "failed" : !pk->res.outcome ? "failed" :
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
	pf_err ignored = {0};
	struct stat st;
	pf_profile *old = r->diff && stat(pk->dest, &st) == 0 ? pf_check_read_profile(pk->dest, &ignored) : NULL;
	if ((!r->out || make_dirs(pk->dest, &pk->e) == 0) && pf_run(&pk->o, &log, &pk->e) == 0 &&
	    pk->res.changed && r->diff)
		report(pk, old);
	pf_profile_free(old);
	finish(r, pk);
}

static void *worker(void *arg)
{
	refresh *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		size_t i = r->next++;
		pthread_mutex_unlock(&r->mu);
		if (i >= r->n)
			return NULL;
		run_one(r, &r->pkgs[i]);
	}
}

/* -jobs - 1 threads, and this one: the same loop. Measured: 8 packages at
 * a 300 ms round trip take 1.0 s with -j 4, 2.8 s with -j 1, same CPU. */
static void run_all(refresh *r)
{
	pthread_t threads[MAX_JOBS];
	size_t started = 0;
	while (started + 1 < (size_t)r->jobs && started + 1 < r->n &&
	       pthread_create(&threads[started], NULL, worker, r) == 0)
		started++;
	worker(r);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* -diff and -result, once every package is done. */
static int write_reports(refresh *r, size_t changed, size_t failed, pf_err *e)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = r->diff ? open_memstream(&text, &len) : NULL;
	if (r->diff && !f)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	if (f && changed)
		fprintf(f, "**pgofetch refresh**: %zu of %zu profiles changed%s.\n", changed, r->n,
			failed ? ", some packages failed (see the log)" : "");
	for (size_t i = 0; f && changed && i < r->n; i++)
		if (r->pkgs[i].report)
			fwrite(r->pkgs[i].report, 1, r->pkgs[i].report_len, f);
	bool dummy;
	int rc = f && fclose(f) != 0 ? pf_fail(e, PF_EXIT_INTERNAL, "out of memory") : 0;
	if (rc == 0 && r->diff)
		rc = pf_write_dest(r->diff, (const uint8_t *)text, len, NULL, 0, &dummy, e);
	free(text);
	if (rc != 0 || !r->result)
		return rc;
	cJSON *root = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(root, "packages");
	for (size_t i = 0; list && i < r->n; i++)
		if (r->pkgs[i].json && cJSON_AddItemToArray(list, r->pkgs[i].json))
			r->pkgs[i].json = NULL;
	text = list && pf_json_add_int(root, "changed", (int64_t)changed) &&
		       pf_json_add_int(root, "failed", (int64_t)failed) ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	rc = text ? pf_write_dest(r->result, (const uint8_t *)text, strlen(text), NULL, 0, &dummy, e)
		  : pf_fail(e, PF_EXIT_INTERNAL, "-result %s: out of memory", r->result);
	free(text);
	return rc;
}

/* A path given before chdir to the list's directory, as seen from there. */
static int absolute(const char **path, char **owned, pf_err *e)
{
	char cwd[4096];
	if (!*path || (*path)[0] == '/')
		return 0;
	size_t n = strlen(*path) + sizeof cwd + 2;
	if (!getcwd(cwd, sizeof cwd) || !(*owned = malloc(n)))
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot find the current directory");
	snprintf(*owned, n, "%s/%s", cwd, *path);
	*path = *owned;
	return 0;
}

/* refresh's own flags; the others go to every package. Returns the index
 * of the first PKG, or -1. */
static int parse_flags(refresh *r, int argc, char **argv, bool *help, pf_err *e)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		char *w = argv[i], *eq = strchr(w, '=');
		if (strcmp(w, "--") == 0)
			return i + 1;
		if (flag_is(w, "h") || flag_is(w, "help")) {
			*help = true;
			return i;
		}
		const char **own = flag_is(w, "list") ? &r->list : flag_is(w, "out") ? &r->out :
				   flag_is(w, "diff") ? &r->diff : NULL;
		const char *jobs = NULL;
		if (own || flag_is(w, "j")) {
			if (!eq && i + 1 >= argc)
				return pf_fail(e, PF_EXIT_USAGE, "flag needs an argument: %s", w);
			*(own ? own : &jobs) = eq ? eq + 1 : argv[++i];
		} else {
			int takes = pf_cli_flag_words(w);
			if (takes < 0)
				return pf_fail(e, PF_EXIT_USAGE, "flag provided but not defined: %s", w);
			if (takes && i + 1 >= argc)
				return pf_fail(e, PF_EXIT_USAGE, "flag needs an argument: %s", w);
			r->fwd[r->nfwd++] = w;
			if (takes)
				r->fwd[r->nfwd++] = argv[++i];
		}
		char *end = NULL;
		if (jobs && ((r->jobs = strtol(jobs, &end, 10)) < 1 || r->jobs > MAX_JOBS || *end || !*jobs))
			return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -j: want 1 to %d", jobs, MAX_JOBS);
		if (own && !**own)
			return pf_fail(e, PF_EXIT_USAGE, "flag %s: want a path", w);
	}
	return i;
}

/* The run-wide flags, checked and read as a run of their own would be. */
static int parse_run_wide(refresh *r, pf_err *e)
{
	char **argv = calloc((size_t)r->nfwd + 5, sizeof *argv);
	if (!argv)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	argv[0] = "pgofetch";
	memcpy(argv + 1, r->fwd, (size_t)r->nfwd * sizeof *argv);
	argv[r->nfwd + 1] = "-in";
	argv[r->nfwd + 2] = "-";
	argv[r->nfwd + 3] = "default.pgo";
	int rc = pf_cli_parse(r->nfwd + 4, argv, &r->run, e);
	free(argv);
	return rc;
}

static int setup(refresh *r, int argc, char **argv, bool *help, char *owned[3], pf_err *e)
{
	int first = parse_flags(r, argc, argv, help, e);
	if (first < 0 || *help || parse_run_wide(r, e) != 0)
		return -1;
	r->result = r->run.result;
	if (absolute(&r->out, &owned[0], e) || absolute(&r->diff, &owned[1], e) || absolute(&r->result, &owned[2], e))
		return -1;
	FILE *f = fopen(r->list, "r");
	if (!f)
		return pf_fail(e, PF_EXIT_USAGE, "cannot read %s: %s", r->list, strerror(errno));
	/* Paths on a line, as the packages, are relative to the list. */
	char *copy = strdup(r->list);
	int rc = copy && chdir(dirname(copy)) != 0 ? pf_fail(e, PF_EXIT_USAGE, "%s: %s", r->list, strerror(errno))
						  : copy ? read_list(r, f, e) : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	free(copy);
	fclose(f);
	int kept = rc == 0 ? select_packages(r, argv + first, argc - first, e) : -1;
	if (kept < 0)
		return -1;
	size_t all = r->n;
	r->n = (size_t)kept;
	return (int)all;
}

int pf_refresh_main(int argc, char **argv)
{
	refresh r = {.list = "pgofetch.list", .jobs = 4, .mu = PTHREAD_MUTEX_INITIALIZER};
	pf_err e = {0};
	bool help = false;
	char *owned[3] = {0};
	int all = (r.fwd = calloc((size_t)argc, sizeof *r.fwd)) ? setup(&r, argc, argv, &help, owned, &e)
								 : pf_fail(&e, PF_EXIT_INTERNAL, "out of memory");
	int code = PF_EXIT_OK;
	if (help) {
		fputs(usage, stdout);
	} else if (all < 0) {
		fprintf(stderr, "pgofetch refresh: %s\n", e.msg);
		if (e.code == PF_EXIT_USAGE)
			fputs("(pgofetch refresh -h lists the flags)\n", stderr);
		code = e.code;
	} else {
		pf_limits_bound_memory(&r.run.limits);
		run_all(&r);
		size_t changed = 0, failed = 0;
		for (size_t i = 0; i < r.n; i++) {
			changed += r.pkgs[i].res.changed;
			failed += r.pkgs[i].e.code != 0;
			if (r.run.fail && r.pkgs[i].e.code && code == PF_EXIT_OK)
				code = r.pkgs[i].e.code;
		}
		pf_err we = {0};
		if (write_reports(&r, changed, failed, &we) != 0) {
			fprintf(stderr, "pgofetch refresh: %s\n", we.msg);
			code = code == PF_EXIT_OK && r.run.fail ? we.code : code;
		}
		r.n = (size_t)all;
	}
	for (size_t i = 0; i < r.n; i++) {
		pf_cli_free(&r.pkgs[i].o);
		pf_result_free(&r.pkgs[i].res);
		cJSON_Delete(r.pkgs[i].json);
		free(r.pkgs[i].report);
		free(r.pkgs[i].argv);
		free(r.pkgs[i].dest);
		free(r.pkgs[i].text);
	}
	free(r.pkgs);
	free(r.fwd);
	pf_cli_free(&r.run);
	for (int i = 0; i < 3; i++)
		free(owned[i]);
	return code;
}
