/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* FNV-1a, 64 bits: a fast, well-spread hash for hash tables keyed by short strings; and a
 * word-at-a-time hash for longer keys checked whole on a hit. */
#ifndef OBSPROBE_HASH_H
#define OBSPROBE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* n bytes at p, 8 at a time: for memos that verify a hit byte for byte, where speed on keys of
 * a hundred bytes and more matters more than fnv1a's spread. */
static inline uint64_t hash_words(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = n * 0x9e3779b97f4a7c15ull, w;

	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, b, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
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
