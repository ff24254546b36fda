/* noinline.h: the user's no-inline list (-noinline-func, -noinline-file):
 * regular expressions naming functions the Go compiler must not inline,
 * applied as the built-in -noinline rename is (noinline.c). */
#ifndef PGOFETCH_NOINLINE_H
#define PGOFETCH_NOINLINE_H

#include <regex.h>
#include <stddef.h>

#include "err.h"
#include "pprof.h"

/* POSIX extended regular expressions, each matched against a function's
 * whole name (as if written ^(RE)$), compiled once when the flag is read. */
typedef struct {
	struct {
		regex_t re;
		char *pattern; /* as given, for the provenance comments */
	} *items;
	size_t n;
} pf_noinline_list;

/* Adds one expression; where names it in errors ("-noinline-func",
 * "FILE:LINE"). A bad expression is a usage error. */
int pf_noinline_list_add(pf_noinline_list *l, const char *pattern, const char *where, pf_err *e);

/* Adds every expression of a file: one a line, surrounding blanks
 * ignored, blank lines and lines starting with # skipped. A file that
 * cannot be read, or a bad line, is a usage error naming FILE:LINE. */
int pf_noinline_list_add_file(pf_noinline_list *l, const char *path, pf_err *e);
void pf_noinline_list_free(pf_noinline_list *l);

/* The rename for the list: in samples whose leaf frame's function has a
 * name the list matches, that function becomes "DO NOT INLINE: <name>".
 * Returns how many functions were renamed, or (size_t)-1 when memory
 * runs out. */
size_t pf_profile_noinline_list(pf_profile *p, const pf_noinline_list *l, pf_err *e);

/* One provenance comment per expression ("pgofetch: no-inline regexp ..."). */
int pf_noinline_list_comment(pf_profile *p, const pf_noinline_list *l, pf_err *e);

#endif
