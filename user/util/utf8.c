// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/utf8.h"

#include <endian.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

#ifdef __SSE2__
/* The blocks read are aligned: whole bytes of them lie outside s, which AddressSanitizer would
 * report though no page boundary is crossed (glibc's strlen does the same, in assembly). */
__attribute__((no_sanitize_address)) size_t utf8_len_ascii(const char *s, bool *ascii)
{
	const __m128i *p = (const __m128i *)((uintptr_t)s & ~(uintptr_t)15);
	unsigned skip = (unsigned)((uintptr_t)s & 15), high = 0, nul, hi;
	__m128i v = _mm_load_si128(p);

	/* the bytes of the first block before s are not looked at */
	nul = ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) >> skip) << skip;
	hi = ((unsigned)_mm_movemask_epi8(v) >> skip) << skip;
	while (!nul) {
		high |= hi;
		v = _mm_load_si128(++p);
		nul = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128()));
		hi = (unsigned)_mm_movemask_epi8(v);
	}
	/* the bytes before the first NUL */
	high |= hi & ((nul & -nul) - 1);
	*ascii = !high;
	return (size_t)((const char *)p - s) + (size_t)__builtin_ctz(nul);
}
#else
size_t utf8_len_ascii(const char *s, bool *ascii)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char high = 0;
	size_t n;

	for (n = 0; p[n]; n++)
		high |= p[n];
	*ascii = !(high & 0x80);
	return n;
}
#endif
