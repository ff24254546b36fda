/* symbols.c: a build's function names through `go list` and `go tool nm`. */
#include "symbols.h"
#include "run.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* go tool nm prints some MiB per hundred packages; a large program's
 * dependencies stay well below this. */
#define MAX_NM_OUTPUT ((size_t)1 << 30)

static const char no_inline_prefix[] = "DO NOT INLINE: ";

int pf_func_key(const char *name, size_t len, pf_buf *out)
{
	size_t plen = sizeof no_inline_prefix - 1;
	if (len >= plen && memcmp(name, no_inline_prefix, plen) == 0)
		name += plen, len -= plen;
	/* An assembly function's symbol in a binary: runtime.asyncPreempt.abi0 */
	if (len > 5 && memcmp(name + len - 5, ".abi0", 5) == 0)
		len -= 5;
	int depth = 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '[' && depth++ == 0) {
			if (pf_buf_append(out, "[...]", 5) != 0)
				return -1;
		} else if (c == ']' && depth > 0) {
			depth--;
		} else if (depth == 0 && pf_buf_putc(out, (uint8_t)c) != 0) {
			return -1;
		}
	}
	return pf_buf_putc(out, '\0');
}

int pf_symbols_add(void *ctx, const char *name, size_t len)
{
	pf_symbols *s = ctx;
	pf_buf key = {0};
	if (pf_func_key(name, len, &key) != 0)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		char **grown = realloc(s->names, cap * sizeof *grown);
		if (!grown) {
			pf_buf_free(&key);
			return -1;
		}
		s->names = grown;
		s->cap = cap;
	}
	s->names[s->n++] = (char *)key.data;
	return 0;
}

/* Adds the text symbols (T, t) of nm's output: "[FILE: ]ADDR T NAME". */
static int add_nm_output(pf_symbols *s, char *text, size_t len)
{
	char *end = text + len;
	for (char *line = text; line < end;) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		char *stop = nl ? nl : end;
		*stop = '\0';
		char *t = strstr(line, " T ");
		if (!t)
			t = strstr(line, " t ");
		if (t && pf_symbols_add(s, t + 3, strlen(t + 3)) != 0)
			return -1;
		line = stop + 1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first line of what a failed go command said, for one error line. */
static int go_failed(pf_err *e, const char *what, int status, pf_buf *err)
{
	size_t n = 0;
	while (n < err->len && err->data[n] != '\n')
		n++;
	return pf_fail(e, PF_EXIT_SOURCE, "%s failed (exit status %d): %.*s", what, status, (int)n,
		       err->len ? (const char *)err->data : "");
}

/* The compiled archives of target and its dependencies, one per line. */
static int export_files(const char *go, const char *target, int64_t deadline, pf_buf *files, pf_err *e)
{
	/* A directory is listed from inside, so that its own module decides. */
	struct stat st;
	bool is_dir = stat(target, &st) == 0 && S_ISDIR(st.st_mode);
	char *argv[] = {(char *)go, "list", "-pgo=off", "-deps", "-export",
			"-f", "{{if .Export}}{{.Export}}{{end}}", is_dir ? "." : (char *)target, NULL};
	pf_buf err = {0};
	int status = pf_run_capture(argv, is_dir ? target : NULL, deadline, 64 << 20, files, &err, e);
	if (status == PF_RUN_NOT_FOUND)
		status = pf_fail(e, PF_EXIT_SOURCE, "cannot run %s: not found", go);
	else if (status > 0)
		go_failed(e, "go list -deps -export", status, &err);
	pf_buf_free(&err);
	return status == 0 ? 0 : -1;
}

/* Runs go tool nm on files (NUL-separated in names, count of them). */
static int nm(const char *go, char **files, size_t nfiles, int64_t deadline, pf_symbols *s, pf_err *e)
{
	char **argv = calloc(nfiles + 4, sizeof *argv);
	if (!argv)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	argv[0] = (char *)go;
	argv[1] = "tool";
	argv[2] = "nm";
	memcpy(argv + 3, files, nfiles * sizeof *files);
	pf_buf out = {0}, err = {0};
	int status = pf_run_capture(argv, NULL, deadline, MAX_NM_OUTPUT, &out, &err, e);
	free(argv);
	int rc = 0;
	if (status == PF_RUN_NOT_FOUND)
		rc = pf_fail(e, PF_EXIT_SOURCE, "cannot run %s: not found", go);
	else if (status != 0)
		rc = status < 0 ? -1 : go_failed(e, "go tool nm", status, &err);
	else if (add_nm_output(s, (char *)out.data, out.len) != 0)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	pf_buf_free(&out);
	pf_buf_free(&err);
	return rc;
}

static bool is_binary(const char *target)
{
	struct stat st;
	size_t n = strlen(target);
	return stat(target, &st) == 0 && S_ISREG(st.st_mode) && !(n > 3 && strcmp(target + n - 3, ".go") == 0);
}

int pf_symbols_of(const char *go, const char *target, int64_t deadline, pf_symbols *out, pf_err *e)
{
	memset(out, 0, sizeof *out);
	int rc;
	if (is_binary(target)) {
		char *files[] = {(char *)target};
		rc = pf_pclntab_names(target, pf_symbols_add, out);
		if (rc < 0)
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		else if (rc > 0) /* not an ELF Go binary: its symbols, a lower bound */
			rc = nm(go, files, 1, deadline, out, e);
	} else {
		pf_buf list = {0};
		rc = export_files(go, target, deadline, &list, e);
		char **files = NULL;
		size_t nfiles = 0;
		if (rc == 0 && (pf_buf_putc(&list, '\0') != 0 || !(files = calloc(list.len, sizeof *files))))
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		for (char *p = rc == 0 ? (char *)list.data : NULL; p && *p;) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (*p)
				files[nfiles++] = p;
			p = nl ? nl + 1 : NULL;
		}
		if (rc == 0 && nfiles == 0)
			rc = pf_fail(e, PF_EXIT_SOURCE, "go list -deps -export %s named no compiled package", target);
		if (rc == 0)
			rc = nm(go, files, nfiles, deadline, out, e);
		free(files);
		pf_buf_free(&list);
	}
	if (rc == 0)
		pf_symbols_sort(out);
	return rc;
}

void pf_symbols_sort(pf_symbols *s)
{
	qsort(s->names, s->n, sizeof *s->names, by_name);
}

bool pf_symbols_has(const pf_symbols *s, const char *key)
{
	return s->n && bsearch(&key, s->names, s->n, sizeof *s->names, by_name) != NULL;
}

void pf_symbols_free(pf_symbols *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	memset(s, 0, sizeof *s);
}
