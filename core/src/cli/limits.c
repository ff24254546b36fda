/* limits.c: the -limit flag and the checks that need no profile model. */
#include "limits.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct {
	const char *name;
	size_t offset;
	bool is_size;
	uint64_t def; /* the default (README, "Limits") */
} limit_def;

#define LIM(field) offsetof(pf_limit_set, field)
#define NDEFS (sizeof defs / sizeof defs[0])

static const limit_def defs[] = {
	{"bytes", LIM(bytes), true, (uint64_t)4 << 30}, /* 4 GiB: 200 profiles of 20 MB */
	{"source-bytes", LIM(source_bytes), true, (uint64_t)1 << 30},
	{"zip-entries", LIM(zip_entries), false, 10000},
	{"profiles", LIM(profiles), false, 1000},
	{"strings", LIM(strings), false, 20000000},
	{"locations", LIM(locations), false, 20000000},
	{"stack-depth", LIM(stack_depth), false, 100000}, /* Go records at most a few hundred frames */
	{"json-bytes", LIM(json_bytes), true, (uint64_t)64 << 20},
	{"json-depth", LIM(json_depth), false, 64},
	/* The merged profile plus one input, compressed, decompressed and
	 * decoded: make bench's Datadog answer (5 profiles of 20 MB, read
	 * whole) peaks at about 175 MiB; a decompression bomb stops when its
	 * buffer would double past this, at about 270 MiB. */
	{"memory", LIM(memory), true, (uint64_t)384 << 20},
};

void pf_limits_default(pf_limit_set *l)
{
	for (size_t i = 0; i < NDEFS; i++)
		*(uint64_t *)((char *)l + defs[i].offset) = defs[i].def;
}

/* "123", "64KiB", "512MiB", "2GiB", "1TiB" (also KB/MB/GB as powers of 1000). */
static int parse_value(const char *s, bool is_size, uint64_t *out)
{
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	static const struct {
		const char *suffix;
		uint64_t mult;
	} sizes[] = {{"", 1}, {"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30},
		     {"TiB", 1ULL << 40}, {"KB", 1000ULL}, {"MB", 1000000ULL}, {"GB", 1000000000ULL}};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		if (strcmp(end, sizes[i].suffix) != 0 || (!is_size && i > 0))
			continue;
		if (v > UINT64_MAX / sizes[i].mult)
			return -1;
		*out = v * sizes[i].mult;
		return *out > 0 ? 0 : -1;
	}
	return -1;
}

int pf_limits_set(pf_limit_set *l, const char *spec, pf_err *e)
{
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
	for (size_t i = 0; i < NDEFS; i++) {
		if (strlen(defs[i].name) != n || strncmp(defs[i].name, spec, n) != 0)
			continue;
		uint64_t *field = (uint64_t *)((char *)l + defs[i].offset);
		if (!eq || parse_value(eq + 1, defs[i].is_size, field) != 0)
			return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -limit: want %s=%s", spec,
				       defs[i].name, defs[i].is_size ? "SIZE (e.g. 512MiB)" : "a positive count");
		/* Deeper than cJSON parses, an answer would be refused as "not
		 * valid JSON" rather than as too deep. */
		if (field == &l->json_depth && l->json_depth > CJSON_NESTING_LIMIT)
			return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -limit: json-depth is at most %d",
				       spec, CJSON_NESTING_LIMIT);
		return 0;
	}
	return pf_fail(e, PF_EXIT_USAGE, "invalid value \"%s\" for flag -limit: no limit \"%.*s\" (want one of %s)",
		       spec, (int)n, spec,
		       "bytes, source-bytes, zip-entries, profiles, strings, locations, stack-depth, json-bytes, "
		       "json-depth, memory");
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

void pf_limits_bound_memory(const pf_limit_set *l)
{
#ifndef UNDER_ASAN
	struct rlimit r;
	if (getrlimit(RLIMIT_DATA, &r) != 0)
		return;
	rlim_t want = l->memory > (uint64_t)RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)l->memory;
	if (r.rlim_max != RLIM_INFINITY && want > r.rlim_max)
		want = r.rlim_max;
	if (r.rlim_cur == RLIM_INFINITY || want < r.rlim_cur) {
		r.rlim_cur = want;
		(void)setrlimit(RLIMIT_DATA, &r); /* advisory: a refusal leaves the bound as it was */
	}
#else
	(void)l;
#endif
}

void pf_limits_name_memory(const pf_limit_set *l, pf_err *e)
{
	if (e->code != PF_EXIT_INTERNAL || !strstr(e->msg, "out of memory"))
		return;
	char msg[sizeof e->msg];
	snprintf(msg, sizeof msg, "%.960s: more than -limit memory=%llu bytes allows", e->msg,
		 (unsigned long long)l->memory);
	memcpy(e->msg, msg, sizeof msg);
	e->code = PF_EXIT_DATA;
}

uint64_t pf_json_depth(const char *json, size_t len)
{
	uint64_t depth = 0, deepest = 0;
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		char c = json[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}
