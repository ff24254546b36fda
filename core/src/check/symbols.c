/* symbols.c: a build's function names through `go list` and `go tool nm`. */
#include "symbols.h"
#include "pgo.h"
#include "run.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* go tool nm prints some MiB per hundred packages; a large program's
 * dependencies stay well below this. */
#define MAX_NM_OUTPUT ((size_t)1 << 30)

int pf_func_key(const char *name, size_t len, pf_buf *out)
{
	name = pf_noinline_strip(name, &len);
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

int pf_symbols_add(pf_symbols *s, const char *name, size_t len)
{
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
static int add_nm_output(pf_symbols *s, pf_buf *out)
{
	char *save = NULL;
	if (pf_buf_putc(out, '\0') != 0)
		return -1;
	for (char *line = strtok_r((char *)out->data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strstr(line, " T ");
		if (!t)
			t = strstr(line, " t ");
		if (t && pf_symbols_add(s, t + 3, strlen(t + 3)) != 0)
			return -1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs the go command argv (what: it in messages), its stdout to out; a
 * failure is one error line, with the first line of what go said. */
static int run_go(char **argv, const char *dir, int64_t deadline, size_t max, pf_buf *out, const char *what,
		  pf_err *e)
{
	pf_buf err = {0};
	int status = pf_run_capture(argv, dir, deadline, max, out, &err, e);
	size_t n = 0;
	while (n < err.len && err.data[n] != '\n')
		n++;
	if (status == PF_RUN_NOT_FOUND)
		pf_fail(e, PF_EXIT_SOURCE, "cannot run %s: not found", argv[0]);
	else if (status > 0)
		pf_fail(e, PF_EXIT_SOURCE, "%s failed (exit status %d): %.*s", what, status, (int)n,
			err.len ? (const char *)err.data : "");
	pf_buf_free(&err);
	return status == 0 ? 0 : -1;
}

static int export_files(const char *go, const char *target, int64_t deadline, pf_buf *files, pf_err *e)
{
	/* A directory is listed from inside, so that its own module decides. */
	struct stat st;
	bool is_dir = stat(target, &st) == 0 && S_ISDIR(st.st_mode);
	char *argv[] = {(char *)go, "list", "-pgo=off", "-deps", "-export",
			"-f", "{{if .Export}}{{.Export}}{{end}}", is_dir ? "." : (char *)target, NULL};
	return run_go(argv, is_dir ? target : NULL, deadline, 64 << 20, files, "go list -deps -export", e);
}

/* Runs go tool nm: argv is {go, "tool", "nm", FILE..., NULL}. */
static int nm(char **argv, int64_t deadline, pf_symbols *s, pf_err *e)
{
	pf_buf out = {0};
	int rc = run_go(argv, NULL, deadline, MAX_NM_OUTPUT, &out, "go tool nm", e);
	if (rc == 0 && add_nm_output(s, &out) != 0)
		rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	pf_buf_free(&out);
	return rc;
}

/* ---- a Go ELF binary's function names, from its .gopclntab ----
 *
 * The linker keeps no symbol for a function it inlined everywhere, so
 * `go tool nm` misses those; but the runtime's tracebacks need their
 * names, so the pclntab's function name table holds every function and
 * every inlined function, one NUL-terminated name after another (Go
 * 1.18+, src/cmd/link/internal/ld/pcln.go, generateFuncnametab). Its
 * header (src/runtime/symtab.go, pcHeader): magic (uint32), two pad
 * bytes, minLC, ptrSize, then ptrSize-wide words: nfunc, nfiles,
 * textStart, funcnameOffset, cuOffset, ... The name table is
 * [funcnameOffset, cuOffset). Strip (-s -w) keeps the section. */
static uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* The .gopclntab section's file range in a little-endian ELF64 image; -1
 * when it is not one or has no such section. */
static int find_section(const uint8_t *d, size_t n, uint64_t *off, uint64_t *size)
{
	if (n < 64 || memcmp(d, "\177ELF", 4) != 0 || d[4] != 2 || d[5] != 1)
		return -1;
	uint64_t shoff = le(d + 40, 8), shentsize = le(d + 58, 2), shnum = le(d + 60, 2), shstrndx = le(d + 62, 2);
	if (shentsize < 64 || shstrndx >= shnum || shoff > n || shnum > (n - shoff) / shentsize)
		return -1;
	const uint8_t *strs = d + shoff + shstrndx * shentsize;
	uint64_t stroff = le(strs + 24, 8), strsize = le(strs + 32, 8);
	if (stroff > n || strsize > n - stroff)
		return -1;
	for (uint64_t i = 0; i < shnum; i++) {
		const uint8_t *sh = d + shoff + i * shentsize;
		uint64_t name = le(sh, 4);
		if (name + sizeof ".gopclntab" > strsize || memcmp(d + stroff + name, ".gopclntab", sizeof ".gopclntab") != 0)
			continue;
		*off = le(sh + 24, 8);
		*size = le(sh + 32, 8);
		return *off <= n && *size <= n - *off ? 0 : -1;
	}
	return -1;
}

/* Adds the names to syms; 0, 1 when path is no Go ELF binary this reader
 * knows, -1 when memory runs out. */
static int pclntab_names(const char *path, pf_symbols *syms)
{
	pf_buf file = {0};
	uint64_t off, size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 || pf_buf_read_fd(&file, fd, SIZE_MAX) != 0 ||
		 find_section(file.data, file.len, &off, &size) != 0;
	if (fd >= 0)
		close(fd);
	const uint8_t *h = rc == 0 ? file.data + off : NULL;
	uint32_t magic = h && size >= 8 ? (uint32_t)le(h, 4) : 0;
	size_t ptr = h ? h[7] : 0;
	if (rc == 0 && ((magic != 0xfffffff0 && magic != 0xfffffff1) || (ptr != 4 && ptr != 8) || size < 8 + 5 * ptr))
		rc = 1;
	uint64_t names = rc == 0 ? le(h + 8 + 3 * ptr, ptr) : 0, end = rc == 0 ? le(h + 8 + 4 * ptr, ptr) : 0;
	if (rc == 0 && (names > end || end > size))
		rc = 1;
	for (uint64_t i = names; rc == 0 && i < end;) {
		const uint8_t *s = h + i, *nul = memchr(s, '\0', end - i);
		size_t len = nul ? (size_t)(nul - s) : end - i;
		if (len > 0 && pf_symbols_add(syms, (const char *)s, len) != 0)
			rc = -1;
		i += len + 1;
	}
	pf_buf_free(&file);
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
		char *argv[] = {(char *)go, "tool", "nm", (char *)target, NULL};
		rc = pclntab_names(target, out);
		if (rc < 0)
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		else if (rc > 0) /* not an ELF Go binary: its symbols, a lower bound */
			rc = nm(argv, deadline, out, e);
	} else {
		pf_buf list = {0};
		rc = export_files(go, target, deadline, &list, e);
		char **argv = NULL, *save;
		size_t n = 3;
		if (rc == 0 && (pf_buf_putc(&list, '\0') != 0 || !(argv = calloc(list.len + 4, sizeof *argv))))
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		char *p = rc == 0 ? strtok_r((char *)list.data, "\n", &save) : NULL;
		for (; p; p = strtok_r(NULL, "\n", &save))
			argv[n++] = p;
		if (rc == 0 && n == 3)
			rc = pf_fail(e, PF_EXIT_SOURCE, "go list -deps -export %s named no compiled package", target);
		if (rc == 0) {
			memcpy(argv, (char *[]){(char *)go, "tool", "nm"}, 3 * sizeof *argv);
			rc = nm(argv, deadline, out, e);
		}
		free(argv);
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
