/* clock.h: the two clocks pgofetch reads, in nanoseconds: pf_now_ns()
 * (monotonic) for deadlines and durations, pf_wall_ns() (since the Unix
 * epoch) for ages and time windows. */
#ifndef PGOFETCH_CLOCK_H
#define PGOFETCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t pf_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
#define pf_now_ns() pf_clock_ns(CLOCK_MONOTONIC)
#define pf_wall_ns() pf_clock_ns(CLOCK_REALTIME)

#endif
