/* symbols.h: the functions a Go build holds, by name, to compare with the
 * names a profile gives the compiler (pgofetch check). */
#ifndef PGOFETCH_SYMBOLS_H
#define PGOFETCH_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Function names, each as pf_func_key makes it, sorted. */
typedef struct {
	char **names;
	size_t n, cap;
} pf_symbols;

/* The function names of target, found with the go command go:
 *   - a built binary (an existing file that is not a .go file): the names
 *     in its pclntab, inlined functions included; for a binary
 *     that is not ELF, `go tool nm BINARY`, which lacks the functions the
 *     linker dropped after inlining them everywhere. Either way a binary
 *     lacks the closures of functions inlined everywhere, whose inlined
 *     copies are named after where they went (main.main.func1.sortWork.1);
 *   - anything else is a package (a directory, ./cmd/x, an import path):
 *     `go list -deps -export` builds it and its dependencies (without PGO; a directory from inside it, so
 *     that its own go.mod decides)
 *     and `go tool nm` reads their compiled archives, which hold every
 *     function compiled, inlined ones too.
 * Fails with PF_EXIT_SOURCE (the go command's first line of error) or
 * PF_EXIT_INTERNAL. */
int pf_symbols_of(const char *go, const char *target, int64_t deadline, pf_symbols *out, pf_err *e);

/* Adds name (as pf_func_key makes it) to s; then, before pf_symbols_has,
 * pf_symbols_sort. Returns 0, or -1 when memory runs out. */
int pf_symbols_add(pf_symbols *s, const char *name, size_t len);
void pf_symbols_sort(pf_symbols *s);

bool pf_symbols_has(const pf_symbols *s, const char *key);
void pf_symbols_free(pf_symbols *s);

/* The key under which a profile's function name and a symbol compare:
 * the name without pgofetch's "DO NOT INLINE: " prefix or the .abi0 of an assembly function's symbol, with each type
 * argument list written [...] (profiles write main.F[...], symbols
 * main.F[go.shape.int]). Appends it, NUL-terminated, to out. */
int pf_func_key(const char *name, size_t len, pf_buf *out);

#endif
