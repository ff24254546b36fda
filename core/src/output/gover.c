/* gover.c: `go env GOVERSION` of the go that will build, compared with
 * the Go versions -trim is proven for (see gover.h). */
#include "gover.h"
#include "clock.h"
#include "run.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int parse_number(const char **p, int *v)
{
	if (**p < '0' || **p > '9')
		return -1;
	long x = 0;
	for (; **p >= '0' && **p <= '9' && x < 1000000; (*p)++)
		x = x * 10 + (**p - '0');
	*v = (int)x;
	return 0;
}

int pf_gover_parse(const char *s, int *major, int *minor)
{
	if (strncmp(s, "devel ", 6) == 0)
		s += 6;
	if (strncmp(s, "go", 2) != 0)
		return -1;
	const char *p = s + 2;
	if (parse_number(&p, major) != 0)
		return -1;
	*minor = 0;
	if (*p == '.' && (p++, parse_number(&p, minor) != 0))
		return -1;
	return 0;
}

int pf_gover_beyond_proven(const char *version)
{
	int maj, min, pmaj, pmin;
	if (pf_gover_parse(version, &maj, &min) != 0 ||
	    pf_gover_parse(strrchr(PF_TRIM_PROVEN, ' ') + 1, &pmaj, &pmin) != 0)
		return -1;
	return maj > pmaj || (maj == pmaj && min > pmin);
}

/* Runs `GO env GOVERSION` in dir until deadline at most. Returns 0 with
 * the version in out, 1 when GO cannot be run at all (not found, not
 * executable), -1 when it ran but gave no version (e says why). */
static int go_version(const char *go, const char *dir, int64_t deadline, char *out, size_t n, pf_err *e)
{
	char *argv[] = {(char *)go, "env", "GOVERSION", NULL};
	pf_buf b = {0};
	int status = pf_run_capture(argv, dir, deadline, 4096, &b, NULL, e);
	size_t len = b.len < n ? b.len : n - 1;
	if (len)
		memcpy(out, b.data, len);
	pf_buf_free(&b);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
		len--;
	out[len] = '\0';
	if (status == PF_RUN_NOT_FOUND)
		return 1;
	if (status < 0)
		return -1;
	if (status != 0)
		return pf_fail(e, PF_EXIT_SOURCE, "%s env GOVERSION failed (exit status %d)", go, status);
	int maj, min;
	if (pf_gover_parse(out, &maj, &min) != 0)
		return pf_fail(e, PF_EXIT_SOURCE, "%s env GOVERSION printed \"%s\", not a Go version", go, out);
	return 0;
}

/* A relative -go path names a file from pgofetch's directory, not DEST's,
 * where the go command runs. */
static char *absolute(const char *go)
{
	if (!strchr(go, '/') || go[0] == '/')
		return strdup(go);
	char *cwd = getcwd(NULL, 0), *abs = cwd ? pf_strf("%s/%s", cwd, go) : NULL;
	free(cwd);
	return abs;
}

bool pf_trim_is_proven(const char *go_flag, const char *dest, int64_t deadline, const pf_log *log)
{
	if (go_flag && !*go_flag)
		go_flag = NULL; /* -go="" from a wrapper with the setting unset */
	const char *go = go_flag ? go_flag : "go";
	/* A fetch that took most of -timeout still leaves go env its seconds. */
	int64_t soonest = pf_now_ns() + 10 * 1000000000LL;
	if (deadline < soonest)
		deadline = soonest;
	char *copy = strdup(dest), *path = absolute(go);
	char version[128];
	pf_err e = {0};
	int rc = copy && path ? go_version(path, dirname(copy), deadline, version, sizeof version, &e)
			      : pf_fail(&e, PF_EXIT_INTERNAL, "out of memory");
	free(copy);
	free(path);
	const char *proven = PF_TRIM_PROVEN;
	if (rc == 1 && !go_flag) {
		pf_debug(log, "no go on PATH to tell which Go will build; trimming as proven for the listed Go versions",
			 PF_STR("proven", proven));
		return true;
	}
	if (rc != 0) {
		pf_warn(log, "writing the full profile: cannot tell which Go will build, and -trim is proven only for some",
			PF_STR("go", go), PF_STR("error", rc == 1 ? "cannot be run" : e.msg), PF_STR("proven", proven));
		return false;
	}
	if (pf_gover_beyond_proven(version) == 1) {
		pf_info(log, "writing the full profile: the go that builds is newer than the Go versions -trim is proven for",
			PF_STR("go", go), PF_STR("go-version", version), PF_STR("proven", proven));
		return false;
	}
	pf_debug(log, "-trim is proven for the go that builds", PF_STR("go", go), PF_STR("go-version", version),
		 PF_STR("proven", proven));
	return true;
}

int pf_trim_add_proven_comment(pf_profile *t, pf_err *e)
{
	return pf_profile_add_comment(t, "pgofetch: trimmed to what Go's compiler reads; proven to give it the full "
				      "profile's input for " PF_TRIM_PROVEN, e);
}
