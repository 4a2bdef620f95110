// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/utf8.h"

#include <endian.h>
#include <stdint.h>
#include <string.h>

size_t utf8_clean(char *dst, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, len = 0;

	for (i = 0; i < max && p[i]; i += n ? n : 1) {
		n = utf8_seq_len(p + i, max - i);
		if (dst)
			memcpy(dst + len, n ? (const char *)p + i : "\xef\xbf\xbd", n ? n : 3);
		len += n ? n : 3;
	}
	if (dst)
		dst[len] = '\0';
	return len;
}

size_t utf8_valid_len(const char *s, size_t max)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	const unsigned char *p = (const unsigned char *)s;
	uint64_t w, nul, high;
	size_t i = 0, n;

	while (i < max) {
		if (max - i >= sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			w = le64toh(w); /* the first byte the lowest */
			/* a top bit for each byte that is not ASCII, and one for the first NUL (the
			 * borrow of w - ones can only flag bytes above that one) */
			high = w & highs;
			nul = (w - ones) & ~w & highs;
			if (!(nul | high)) {
				i += sizeof(w);
				continue;
			}
			if (nul && (!high || __builtin_ctzll(nul) < __builtin_ctzll(high)))
				return i + (size_t)__builtin_ctzll(nul) / 8;
			i += (size_t)__builtin_ctzll(high) / 8;
		} else if (!p[i]) {
			return i;
		} else if (p[i] < 0x80) {
			i++;
			continue;
		}
		n = utf8_seq_len(p + i, max - i);
		if (!n)
			return SIZE_MAX;
		i += n;
	}
	return SIZE_MAX;
}
