/* noinline.c: datadog-pgo's ApplyNoInlineHack.
 *
 * For each sample whose leaf location's first line (the innermost frame)
 * is one of the functions below, that Function is renamed to
 * "DO NOT INLINE: <name>". The Function is shared by every line that uses
 * it, so all its uses are renamed, once: after the rename the name no
 * longer matches. Go's PGO then sees no call edge into the real function,
 * so it is not inlined (golang/go#65532, golang/go#74045). */
#include "noinline.h"
#include "pprof_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const no_inline_funcs[] = {
	"google.golang.org/grpc/internal/transport.(*loopyWriter).processData",
	"runtime.gopark",
};
#define N_NO_INLINE (sizeof no_inline_funcs / sizeof no_inline_funcs[0])
static const char prefix[] = "DO NOT INLINE: ";

static int rename_function(pf_profile *p, pf_function *fn, pf_err *e)
{
	size_t len;
	const char *name = pf_profile_str(p, fn->name, &len);
	size_t n = sizeof prefix - 1 + len;
	char *s = malloc(n);
	if (!s)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming a function");
	memcpy(s, prefix, sizeof prefix - 1);
	memcpy(s + sizeof prefix - 1, name, len);
	uint32_t id;
	int rc = pf_strpool_intern(&p->str, s, n, &id);
	free(s);
	if (rc != 0)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming a function");
	fn->name = id;
	return 0;
}

/* The function of sample i's leaf frame (its location's innermost line),
 * or PF_NONE for an empty stack or a location without lines. */
static uint32_t leaf_function(const pf_profile *p, size_t i)
{
	const pf_sample *s = &p->samples[i];
	if (s->nlocs == 0)
		return PF_NONE;
	const pf_location *leaf = &p->locations[p->sample_locs[s->locs]];
	return leaf->nlines ? p->lines[leaf->lines].function : PF_NONE;
}

size_t pf_profile_noinline(pf_profile *p, pf_err *e)
{
	/* The names as string ids; a name the profile lacks matches nothing. */
	uint32_t targets[N_NO_INLINE];
	for (size_t i = 0; i < N_NO_INLINE; i++)
		targets[i] = pf_strpool_find(&p->str, no_inline_funcs[i], strlen(no_inline_funcs[i]));
	size_t renamed = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		uint32_t fi = leaf_function(p, i);
		if (fi == PF_NONE)
			continue;
		pf_function *fn = &p->functions[fi];
		for (size_t t = 0; t < N_NO_INLINE; t++) {
			if (targets[t] != PF_NONE && fn->name == targets[t]) {
				if (rename_function(p, fn, e) != 0)
					return (size_t)-1;
				renamed++;
				break;
			}
		}
	}
	return renamed;
}

/* The user's list (noinline.h). */

int pf_noinline_list_add(pf_noinline_list *l, const char *pattern, const char *where, pf_err *e)
{
	/* Compiled alone first: a balanced expression cannot escape ^( )$. */
	regex_t alone;
	int rc = regcomp(&alone, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc == 0)
		regfree(&alone);
	if (rc != 0) {
		char why[256];
		regerror(rc, &alone, why, sizeof why);
		return pf_fail(e, PF_EXIT_USAGE, "%s: invalid regular expression \"%s\": %s", where, pattern, why);
	}
	size_t n = strlen(pattern);
	char *anchored = malloc(n + 5), *copy = strdup(pattern);
	regex_t *res = realloc(l->res, (l->n + 1) * sizeof *res);
	if (res)
		l->res = res;
	char **pats = res ? realloc(l->patterns, (l->n + 1) * sizeof *pats) : NULL;
	if (pats)
		l->patterns = pats;
	if (!anchored || !copy || !pats) {
		free(anchored);
		free(copy);
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	}
	memcpy(anchored, "^(", 2);
	memcpy(anchored + 2, pattern, n);
	memcpy(anchored + 2 + n, ")$", 3);
	rc = regcomp(&l->res[l->n], anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	if (rc != 0) {
		free(copy);
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot compile regular expression \"%s\"", pattern);
	}
	l->patterns[l->n++] = copy;
	return 0;
}

static char *trim_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
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
		char *re = trim_blanks(line);
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
		regfree(&l->res[i]);
		free(l->patterns[i]);
	}
	free(l->res);
	free(l->patterns);
	memset(l, 0, sizeof *l);
}

static bool listed(const pf_noinline_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (regexec(&l->res[i], name, 0, NULL, 0) == 0)
			return true;
	return false;
}

size_t pf_profile_noinline_list(pf_profile *p, const pf_noinline_list *l, pf_err *e)
{
	if (l->n == 0 || p->nfunctions == 0)
		return 0;
	/* Each function is looked at once: 1 when it is left alone. */
	unsigned char *seen = calloc(p->nfunctions, 1);
	if (!seen) {
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory renaming functions");
		return (size_t)-1;
	}
	size_t renamed = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		uint32_t fi = leaf_function(p, i);
		if (fi == PF_NONE || seen[fi])
			continue;
		seen[fi] = 1;
		pf_function *fn = &p->functions[fi];
		const char *name = pf_profile_str(p, fn->name, NULL);
		if (strncmp(name, prefix, sizeof prefix - 1) == 0 || !listed(l, name))
			continue;
		if (rename_function(p, fn, e) != 0) {
			free(seen);
			return (size_t)-1;
		}
		renamed++;
	}
	free(seen);
	return renamed;
}

int pf_noinline_list_comment(pf_profile *p, const pf_noinline_list *l, pf_err *e)
{
	for (size_t i = 0; i < l->n; i++) {
		char *c = pf_strf("pgofetch: no-inline regexp \"%s\"", l->patterns[i]);
		if (!c)
			return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		int rc = pf_profile_add_comment(p, c, e);
		free(c);
		if (rc != 0)
			return -1;
	}
	return 0;
}
