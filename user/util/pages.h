/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef OBSPROBE_UTIL_PAGES_H
#define OBSPROBE_UTIL_PAGES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * The whole pages inside [p, p + size) of a file mapping nothing wrote to taken out of RSS
 * (MADV_DONTNEED): read again, they fault back in from the page cache, the same bytes. Bytes of
 * the file's, never a private copy written to or anonymous memory: those would read back as the
 * file's bytes or zeroes. The bytes released, 0 when none.
 */
static inline size_t pages_release(const void *p, size_t size)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t end = ((uintptr_t)p + size) & ~(page - 1);

	if (end <= start || madvise((void *)start, end - start, MADV_DONTNEED))
		return 0;
	return end - start;
}

#endif
