/* noinline.c: datadog-pgo's ApplyNoInlineHack.
 *
 * For each sample whose leaf location's first line (the innermost frame)
 * is one of the functions below, that Function is renamed to
 * "DO NOT INLINE: <name>". The Function is shared by every line that uses
 * it, so all its uses are renamed, once: after the rename the name no
 * longer matches. Go's PGO then sees no call edge into the real function,
 * so it is not inlined (golang/go#65532, golang/go#74045). */
#include "pgo.h"
#include "pprof_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const no_inline_funcs[] = {
	"google.golang.org/grpc/internal/transport.(*loopyWriter).processData",
	"runtime.gopark",
};

/* Whether the function named name[0..len) is to be renamed: listed in l,
 * or, without a list, one of the names above. */
static bool matches(const pf_noinline_list *l, const char *name, size_t len)
{
	for (size_t i = 0; !l && i < sizeof no_inline_funcs / sizeof *no_inline_funcs; i++)
		if (strlen(no_inline_funcs[i]) == len && memcmp(name, no_inline_funcs[i], len) == 0)
			return true;
	for (size_t i = 0; l && i < l->n; i++)
		if (regexec(&l->items[i].re, name, 0, NULL, 0) == 0)
			return true;
	return false;
}

/* Renames each function of a sample's leaf frame (its location's innermost
 * line) that matches l (see matches), once: a renamed name is left alone. */
static size_t rename_leaves(pf_profile *p, const pf_noinline_list *l, pf_err *e)
{
	/* Each function is looked at once: 1 when it is left alone. */
	unsigned char *seen = calloc(p->nfunctions + 1, 1);
	size_t renamed = 0;
	int rc = !seen;
	for (size_t i = 0; rc == 0 && i < p->nsamples; i++) {
		const pf_sample *s = &p->samples[i];
		const pf_location *leaf = s->nlocs ? &p->locations[p->sample_locs[s->locs]] : NULL;
		uint32_t fi = leaf && leaf->nlines ? p->lines[leaf->lines].function : PF_NONE;
		if (fi == PF_NONE || seen[fi])
			continue;
		seen[fi] = 1;
		pf_function *fn = &p->functions[fi];
		size_t len;
		const char *name = pf_profile_str(p, fn->name, &len);
		if (strncmp(name, PF_NOINLINE_PREFIX, sizeof PF_NOINLINE_PREFIX - 1) == 0 || !matches(l, name, len))
			continue;
		pf_buf b = {0}; /* the new name; a copy, as interning may move the pool's bytes */
		rc = pf_buf_append(&b, PF_NOINLINE_PREFIX, sizeof PF_NOINLINE_PREFIX - 1) != 0 || pf_buf_append(&b, name, len) != 0 ||
		     pf_strpool_intern(&p->str, b.data, b.len, &fn->name) != 0;
		pf_buf_free(&b);
		renamed++;
	}
	if (rc != 0)
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming %s", seen ? "a function" : "functions");
	free(seen);
	return rc == 0 ? renamed : (size_t)-1;
}

size_t pf_profile_noinline(pf_profile *p, pf_err *e) { return rename_leaves(p, NULL, e); }

size_t pf_profile_noinline_list(pf_profile *p, const pf_noinline_list *l, pf_err *e) { return rename_leaves(p, l, e); }

/* The user's list (pgo.h). */

int pf_noinline_list_add(pf_noinline_list *l, const char *pattern, const char *where, pf_err *e)
{
	/* Compiled alone first: a balanced expression cannot escape ^( )$. */
	regex_t alone;
	int rc = regcomp(&alone, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[256];
		regerror(rc, &alone, why, sizeof why);
		return pf_fail(e, PF_EXIT_USAGE, "%s: invalid regular expression \"%s\": %s", where, pattern, why);
	}
	regfree(&alone);
	char *anchored = pf_strf("^(%s)$", pattern), *copy = strdup(pattern);
	void *items = realloc(l->items, (l->n + 1) * sizeof *l->items);
	if (items)
		l->items = items;
	if (!anchored || !copy || !items) {
		free(anchored);
		free(copy);
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	}
	rc = regcomp(&l->items[l->n].re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		free(copy);
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot compile regular expression \"%s\"", pattern);
	}
	l->items[l->n++].pattern = copy;
	return 0;
}

int pf_noinline_list_add_file(pf_noinline_list *l, const char *path, pf_err *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return pf_fail(e, PF_EXIT_USAGE, "-noinline-file %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		char *re = line + strspn(line, " \t");
		size_t n = strlen(re);
		while (n > 0 && strchr(" \t\r\n", re[n - 1]))
			re[--n] = '\0';
		if (*re == '\0' || *re == '#')
			continue;
		char where[512];
		snprintf(where, sizeof where, "-noinline-file %s:%zu", path, lineno);
		rc = pf_noinline_list_add(l, re, where, e);
	}
	if (rc == 0 && ferror(f))
		rc = pf_fail(e, PF_EXIT_USAGE, "-noinline-file %s: read error", path);
	free(line);
	fclose(f);
	return rc;
}

void pf_noinline_list_free(pf_noinline_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		regfree(&l->items[i].re);
		free(l->items[i].pattern);
	}
	free(l->items);
	memset(l, 0, sizeof *l);
}

int pf_noinline_list_comment(pf_profile *p, const pf_noinline_list *l, pf_err *e)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		char *c = pf_strf("pgofetch: no-inline regexp \"%s\"", l->items[i].pattern);
		rc = c ? pf_profile_add_comment(p, c, e) : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		free(c);
	}
	return rc;
}
