/* The pieces of -noinline-func/-noinline-file, -go and pgofetch check
 * that need no go command: regular expressions matched against whole
 * names, the list file's syntax, the rename on a real profile, Go
 * version strings, and the keys names are compared under. */
#include "check.h"
#include "fixture.h"
#include "gover.h"
#include "pgo.h"
#include "symbols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void gover(void)
{
	int maj = -1, min = -1;
	CHECK_EQ_INT(pf_gover_parse("go1.27.3", &maj, &min), 0);
	CHECK(maj == 1 && min == 27);
	CHECK_EQ_INT(pf_gover_parse("devel go1.28-0123abcd Mon Jan 4", &maj, &min), 0);
	CHECK(maj == 1 && min == 28);
	CHECK_EQ_INT(pf_gover_parse("go1.28rc1", &maj, &min), 0);
	CHECK(min == 28);
	CHECK_EQ_INT(pf_gover_parse("go2", &maj, &min), 0);
	CHECK(maj == 2 && min == 0);
	CHECK_EQ_INT(pf_gover_parse("1.27", &maj, &min), -1);
	CHECK_EQ_INT(pf_gover_parse("go", &maj, &min), -1);
	CHECK_EQ_INT(pf_gover_parse("go1.", &maj, &min), -1);
	CHECK_EQ_INT(pf_gover_parse("", &maj, &min), -1);
	CHECK_EQ_INT(pf_gover_beyond_proven("go1.26.8"), 0);
	CHECK_EQ_INT(pf_gover_beyond_proven("go1.27.3"), 0);
	CHECK_EQ_INT(pf_gover_beyond_proven("go1.21"), 0);
	CHECK_EQ_INT(pf_gover_beyond_proven("go1.28"), 1);
	CHECK_EQ_INT(pf_gover_beyond_proven("go1.99"), 1);
	CHECK_EQ_INT(pf_gover_beyond_proven("go2.0"), 1);
	CHECK_EQ_INT(pf_gover_beyond_proven("gccgo"), -1);
	CHECK_EQ_STR(strrchr(PF_TRIM_PROVEN, ' ') + 1, "go1.27");
}

static const char *key(const char *name)
{
	static pf_buf b;
	b.len = 0;
	return pf_func_key(name, strlen(name), &b) == 0 ? (const char *)b.data : NULL;
}

static void keys(void)
{
	CHECK_EQ_STR(key("main.hot"), "main.hot");
	CHECK_EQ_STR(key("DO NOT INLINE: runtime.gopark"), "runtime.gopark");
	CHECK_EQ_STR(key("runtime.asyncPreempt.abi0"), "runtime.asyncPreempt");
	CHECK_EQ_STR(key("main.F[...]"), "main.F[...]");
	CHECK_EQ_STR(key("main.F[go.shape.int]"), "main.F[...]");
	CHECK_EQ_STR(key("p.(*T[go.shape.struct { X [2]int }]).M"), "p.(*T[...]).M");
}

/* Whether name is renamed by a list of one expression. */
static int matches(const char *re, const char *name)
{
	pf_noinline_list l = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_noinline_list_add(&l, re, "-noinline-func", &e), 0);
	int m = l.n == 1 && regexec(&l.items[0].re, name, 0, NULL, 0) == 0;
	pf_noinline_list_free(&l);
	return m;
}

static void anchored(void)
{
	CHECK(matches("main\\.hot", "main.hot"));
	CHECK(!matches("hot", "main.hot"));
	CHECK(!matches("main\\.hot", "main.hotter"));
	CHECK(matches("main\\.(hot|cold)", "main.cold"));
	CHECK(!matches("a|main\\.hot", "xmain.hot")); /* ^(a|b)$, not ^a|b$ */
	CHECK(matches("main\\.\\(\\*T\\)\\.M", "main.(*T).M"));

	pf_noinline_list l = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_noinline_list_add(&l, "main.(", "-noinline-func", &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_USAGE);
	CHECK(strstr(e.msg, "-noinline-func: invalid regular expression \"main.(\"") != NULL);
	CHECK_EQ_INT(l.n, 0);
	pf_noinline_list_free(&l);
}

static void file(void)
{
	char path[] = "/tmp/pgofetch-noinline-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# hot and fragile\n\n  main\\.a  \r\n\t# indented comment\nmain\\.b\n", f);
	fclose(f);
	pf_noinline_list l = {0};
	pf_err e = {0};
	CHECK_EQ_INT(pf_noinline_list_add_file(&l, path, &e), 0);
	CHECK_EQ_INT(l.n, 2);
	if (l.n == 2) {
		CHECK_EQ_STR(l.items[0].pattern, "main\\.a");
		CHECK_EQ_STR(l.items[1].pattern, "main\\.b");
	}
	f = fopen(path, "a");
	fputs("bad(\n", f);
	fclose(f);
	CHECK_EQ_INT(pf_noinline_list_add_file(&l, path, &e), -1);
	CHECK(strstr(e.msg, ":6: invalid regular expression") != NULL);
	pf_noinline_list_free(&l);
	remove(path);
	pf_err e2 = {0};
	CHECK_EQ_INT(pf_noinline_list_add_file(&l, path, &e2), -1);
	CHECK_EQ_INT(e2.code, PF_EXIT_USAGE);
}

/* On a real profile: ".*" renames every leaf function once; again, none
 * (the renamed names are skipped); an expression naming nothing, none. */
static void rename_profile(void)
{
	pf_buf b = slurp("data/pprof/edge-a.pb");
	pf_err e = {0};
	pf_profile *p = pf_profile_decode(b.data, b.len, &e);
	CHECK(p != NULL);
	if (!p)
		return;
	pf_noinline_list all = {0}, none = {0};
	CHECK_EQ_INT(pf_noinline_list_add(&all, ".*", "t", &e), 0);
	CHECK_EQ_INT(pf_noinline_list_add(&none, "no\\.such", "t", &e), 0);
	CHECK_EQ_INT(pf_profile_noinline_list(p, &none, &e), 0);
	size_t n = pf_profile_noinline_list(p, &all, &e);
	CHECK(n > 0 && n != (size_t)-1);
	CHECK_EQ_INT(pf_profile_noinline_list(p, &all, &e), 0);
	const pf_sample *s = &p->samples[0];
	const pf_location *leaf = &p->locations[p->sample_locs[s->locs]];
	const char *name = pf_profile_str(p, p->functions[p->lines[leaf->lines].function].name, NULL);
	CHECK(strncmp(name, "DO NOT INLINE: ", 15) == 0);
	size_t before = p->ncomments;
	CHECK_EQ_INT(pf_noinline_list_comment(p, &all, &e), 0);
	CHECK_EQ_INT(p->ncomments, before + 1);
	CHECK_EQ_STR(pf_profile_str(p, p->comments[before], NULL), "pgofetch: no-inline regexp \".*\"");
	pf_noinline_list_free(&all);
	pf_noinline_list_free(&none);
	pf_profile_free(p);
	pf_buf_free(&b);
}

int main(void)
{
	gover();
	keys();
	anchored();
	file();
	rename_profile();
	return check_report("test_noinline_gover");
}
