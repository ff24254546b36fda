/* failalloc.h: for the out-of-memory tests, malloc and friends replaced
 * (glibc allows it) by wrappers over glibc's own allocator that count live
 * blocks and make the Nth call fail while armed:
 *
 *   alloc = (alloc_state){.armed = true, .fail_at = n};
 *   ... run the code under test ...
 *   alloc.armed = false;   then alloc.failed, alloc.live tell what happened
 *
 * Include it in one test file only (it defines malloc). The counters are
 * updated atomically: code under test may allocate on two threads. Under
 * AddressSanitizer, which owns malloc, NO_INTERPOSE is defined instead and
 * the tests run their scenario once, without failures. */
#ifndef PGOFETCH_FAILALLOC_H
#define PGOFETCH_FAILALLOC_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif

#ifndef NO_INTERPOSE
typedef struct {
	bool armed, failed;
	long calls, fail_at, live;
} alloc_state;
static alloc_state alloc;

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static bool should_fail(void)
{
	if (!alloc.armed || __atomic_fetch_add(&alloc.calls, 1, __ATOMIC_RELAXED) != alloc.fail_at)
		return false;
	alloc.failed = true; /* only ever set to true, by the one failing call */
	return true;
}

void *malloc(size_t n)
{
	void *p = should_fail() ? NULL : __libc_malloc(n);
	__atomic_fetch_add(&alloc.live, alloc.armed && p, __ATOMIC_RELAXED);
	return p;
}

void *calloc(size_t n, size_t size)
{
	void *p = should_fail() ? NULL : __libc_calloc(n, size);
	__atomic_fetch_add(&alloc.live, alloc.armed && p, __ATOMIC_RELAXED);
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p = should_fail() ? NULL : __libc_realloc(old, n);
	__atomic_fetch_add(&alloc.live, alloc.armed && p && !old, __ATOMIC_RELAXED);
	return p;
}

void free(void *p)
{
	__atomic_fetch_sub(&alloc.live, alloc.armed && p, __ATOMIC_RELAXED);
	__libc_free(p);
}
#endif

#endif
