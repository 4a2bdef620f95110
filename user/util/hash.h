/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* FNV-1a, 64 bits: a fast, well-spread hash for hash tables keyed by short strings. */
#ifndef OBSPROBE_HASH_H
#define OBSPROBE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_OFFSET 0xcbf29ce484222325ULL
#define FNV1A_PRIME 0x100000001b3ULL

/* h continued over n more bytes at p; start from FNV1A_OFFSET. */
static inline uint64_t fnv1a_update(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n--) {
		h ^= *b++;
		h *= FNV1A_PRIME;
	}
	return h;
}

static inline uint64_t fnv1a(const void *p, size_t n)
{
	return fnv1a_update(FNV1A_OFFSET, p, n);
}

/* fnv1a() of a NUL-terminated string, without its NUL. */
static inline uint64_t fnv1a_str(const char *s)
{
	uint64_t h = FNV1A_OFFSET;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV1A_PRIME;
	}
	return h;
}

#endif /* OBSPROBE_HASH_H */
