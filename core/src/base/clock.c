/* clock.c: clock_gettime, in nanoseconds. */
#include "clock.h"

#include <time.h>

static int64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t pf_now_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t pf_wall_ns(void)
{
	return read_clock(CLOCK_REALTIME);
}
