/* pclntab.c: the function names of a Go ELF binary, from its .gopclntab.
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
#include "symbols.h"

#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

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

static int read_all(const char *path, pf_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : pf_buf_read_fd(out, fd, SIZE_MAX);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Adds the names; 0, 1 when path is no Go ELF binary this reader knows,
 * -1 when memory runs out. */
int pf_pclntab_names(const char *path, int (*add)(void *ctx, const char *name, size_t len), void *ctx)
{
	pf_buf file = {0};
	uint64_t off, size;
	int rc = read_all(path, &file) == 0 && find_section(file.data, file.len, &off, &size) == 0 ? 0 : 1;
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
		if (len > 0 && add(ctx, (const char *)s, len) != 0)
			rc = -1;
		i += len + 1;
	}
	pf_buf_free(&file);
	return rc;
}
