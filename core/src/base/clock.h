/* clock.h: the two clocks pgofetch reads, in nanoseconds. */
#ifndef PGOFETCH_CLOCK_H
#define PGOFETCH_CLOCK_H

#include <stdint.h>

/* Monotonic: for deadlines and durations. */
int64_t pf_now_ns(void);

/* Wall clock, since the Unix epoch: for ages and time windows. */
int64_t pf_wall_ns(void);

#endif
