/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* FNV-1a over bytes: the fuzzers fingerprint what a parser reported, to compare two runs. */
#ifndef OBSPROBE_FUZZ_FNV_H
#define OBSPROBE_FUZZ_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL

static inline uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif /* OBSPROBE_FUZZ_FNV_H */
