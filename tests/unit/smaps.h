/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The resident memory of a range of this process's address space, from /proc/self/smaps: for
 * tests of code that gives pages back. */
#ifndef OBSPROBE_TEST_SMAPS_H
#define OBSPROBE_TEST_SMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* KiB resident in the mappings that start inside [lo, hi) (lo rounded down to its page). */
static inline unsigned long smaps_rss_kib(uintptr_t lo, uintptr_t hi)
{
	char line[512];
	unsigned long sum = 0, kib;
	uintptr_t start, end;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	lo &= ~(uintptr_t)4095;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start >= lo && start < hi;
		else if (in && sscanf(line, "Rss: %lu kB", &kib) == 1)
			sum += kib;
	}
	fclose(f);
	return sum;
}

#endif
