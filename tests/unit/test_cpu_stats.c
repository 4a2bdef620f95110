// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The scheduler counters as recorded: never lower than the last record (cpu_stats_hold). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <string.h>

#include "probes/sched.h"

static struct cpu_stats stats(uint64_t base)
{
	struct cpu_stats c;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < SCHED_SLOTS; i++)
		c.runq_slots[i] = base + (uint64_t)i;
	c.runq_ns = base * 1000;
	c.offcpu_ns = base * 2000;
	c.voluntary = base + 1;
	c.involuntary = base + 2;
	c.threads[SCHED_BLOCKED] = (uint32_t)base;
	return c;
}

UNIT_TEST(test_hold_passes_growth)
{
	struct cpu_stats shown, a = stats(10), a0 = stats(10), b = stats(20);

	(void)state;
	memset(&shown, 0, sizeof(shown));
	cpu_stats_hold(&shown, &a);
	assert_memory_equal(&a, &a0, sizeof(a));
	cpu_stats_hold(&shown, &b);
	assert_int_equal(b.runq_slots[SCHED_SLOTS - 1], 20 + SCHED_SLOTS - 1);
	assert_int_equal(b.runq_ns, 20000);
	assert_int_equal(b.offcpu_ns, 40000);
	assert_int_equal(b.voluntary, 21);
	assert_int_equal(b.involuntary, 22);
	assert_int_equal(shown.voluntary, 21);
}

UNIT_TEST(test_hold_never_goes_back)
{
	struct cpu_stats shown, hi = stats(30), lo = stats(29), later = stats(31);

	(void)state;
	memset(&shown, 0, sizeof(shown));
	cpu_stats_hold(&shown, &hi);
	/* a read that saw less: every counter stays where it was, the gauges are as read */
	lo.runq_slots[3] = 100; /* one slot did grow */
	cpu_stats_hold(&shown, &lo);
	assert_int_equal(lo.runq_slots[0], 30);
	assert_int_equal(lo.runq_slots[3], 100);
	assert_int_equal(lo.runq_ns, 30000);
	assert_int_equal(lo.offcpu_ns, 60000);
	assert_int_equal(lo.voluntary, 31);
	assert_int_equal(lo.involuntary, 32);
	assert_int_equal(lo.threads[SCHED_BLOCKED], 29);
	/* and goes on from there */
	cpu_stats_hold(&shown, &later);
	assert_int_equal(later.runq_slots[0], 31);
	assert_int_equal(later.runq_slots[3], 100);
	assert_int_equal(later.voluntary, 32);
}

UNIT_MAIN(NULL, NULL)
