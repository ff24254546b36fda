/* limits.h: bounds on what one run reads, so that no input (a ZIP or
 * gzip/zstd bomb, a profile with millions of strings, a stack a million
 * frames deep, a JSON answer nested without end) can exhaust memory or
 * time. Each has a default that no real profile comes near and is raised
 * with -limit NAME=VALUE. */
#ifndef PGOFETCH_LIMITS_H
#define PGOFETCH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct {
	uint64_t bytes;        /* decompressed profile bytes in all, per run */
	uint64_t source_bytes; /* one file, HTTP answer or ZIP entry as read */
	uint64_t zip_entries;  /* entries of one ZIP */
	uint64_t profiles;     /* profiles merged in one run */
	uint64_t strings;      /* strings of one profile (the merged one too) */
	uint64_t locations;    /* locations of one profile (the merged one too) */
	uint64_t stack_depth;  /* locations of one sample */
	uint64_t json_bytes;   /* one JSON answer */
	uint64_t json_depth;   /* nesting of one JSON answer */
	uint64_t memory;       /* the process's data (heap): RLIMIT_DATA */
} pf_limit_set;

/* The defaults (README, "Limits"). */
void pf_limits_default(pf_limit_set *l);

/* Applies one "-limit NAME=VALUE"; VALUE is a count, or for the byte
 * limits a size like 512MiB or 2GiB. Returns 0, or -1 with a usage error. */
int pf_limits_set(pf_limit_set *l, const char *spec, pf_err *e);

/* The names, comma-separated, for the usage text. */
const char *pf_limits_names(void);

/* Bounds the process's data (its heap, every allocation) to l->memory,
 * or less when the environment's hard limit is lower: whatever input
 * needs more fails with "out of memory" (pf_limits_name_memory) instead
 * of growing until a container's memory limit kills the process. Not
 * under AddressSanitizer or ThreadSanitizer, whose shadow memory counts
 * as data. */
void pf_limits_bound_memory(const pf_limit_set *l);

/* Rewords an "out of memory" failure as -limit memory's (PF_EXIT_DATA,
 * the limit named, as the other limits' errors are). */
void pf_limits_name_memory(const pf_limit_set *l, pf_err *e);

/* The deepest nesting of [ and { in a JSON text (strings skipped). */
uint64_t pf_json_depth(const char *json, size_t len);

#endif
