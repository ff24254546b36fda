/* check.h: the smallest unit-test harness that does the job.
 *
 *   CHECK(cond)             records a failure with file:line when cond is false
 *   CHECK_EQ_INT(a, b)      the same, printing both values
 *   CHECK_EQ_STR(a, b)      likewise for NUL-terminated strings
 *   return check_report("name");   prints "N passed, N failed" and the exit code
 */
#ifndef PGOFETCH_CHECK_H
#define PGOFETCH_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (cond) {                                                \
			check_passed++;                                    \
		} else {                                                   \
			check_failed++;                                    \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",       \
				__FILE__, __LINE__, #cond);                \
		}                                                          \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                 \
	do {                                                               \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
		if (check_a_ == check_b_) {                                \
			check_passed++;                                    \
		} else {                                                   \
			check_failed++;                                    \
			fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_); \
		}                                                          \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                 \
	do {                                                               \
		const char *check_a_ = (a), *check_b_ = (b);               \
		if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) { \
			check_passed++;                                    \
		} else {                                                   \
			check_failed++;                                    \
			fprintf(stderr, "%s:%d: %s == %s: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b,                \
				check_a_ ? check_a_ : "(null)",            \
				check_b_ ? check_b_ : "(null)");           \
		}                                                          \
	} while (0)

static inline int check_report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
	return check_failed == 0 && check_passed > 0 ? 0 : 1;
}

#endif
