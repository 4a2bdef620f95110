/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The clocks obsprobe reads, in nanoseconds. Events carry CLOCK_MONOTONIC (bpf_ktime_get_ns);
 * exported times are CLOCK_REALTIME. */
#ifndef OBSPROBE_CLOCK_H
#define OBSPROBE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t clock_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* What to add to a CLOCK_MONOTONIC time to make it CLOCK_REALTIME, now. */
static inline int64_t clock_realtime_offset_ns(void)
{
	return (int64_t)(clock_realtime_ns() - clock_mono_ns());
}

#endif /* OBSPROBE_CLOCK_H */
