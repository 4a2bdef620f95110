/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Fetching memory ahead of its use, for data one thread writes and another reads (the span
 * copies of the OTLP queue), or that a table keeps cold: a cache miss costs ~100 ns on these
 * VMs, and the stores of a copy into cold lines stall whatever follows them until the lines
 * arrive.
 */
#ifndef OBSPROBE_PREFETCH_H
#define OBSPROBE_PREFETCH_H

#include <stdbool.h>

/* The cache lines of [p, end), to read, or to write (fetched exclusive). GCC deletes a loop of
 * __builtin_prefetch() alone as one without effects, hence the empty asm that says otherwise. */
static inline void prefetch_range(const void *p, const void *end, bool write)
{
	const char *c;

	for (c = p; c < (const char *)end; c += 64) {
		if (write)
			__builtin_prefetch(c, 1);
		else
			__builtin_prefetch(c, 0);
		__asm__ volatile("" : : "r"(c));
	}
}

#endif /* OBSPROBE_PREFETCH_H */
