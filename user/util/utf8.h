/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* UTF-8 checks for text that comes from observed traffic and must leave as valid UTF-8
 * (Prometheus label values, protobuf strings). */
#ifndef OBSPROBE_UTF8_H
#define OBSPROBE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Length of the valid UTF-8 sequence at p, 0 if there is none: overlong forms, surrogates and
 * code points past U+10FFFF are invalid, as Go's utf8.ValidString has it. left (at least 1) is
 * how many bytes may be read at p. A NUL fails every continuation test and bytes are read in
 * order, so a NUL-terminated string may pass SIZE_MAX.
 */
static inline size_t utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t i, n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2 || p[0] > 0xf4) /* continuation bytes, overlong 2-byte leads, > U+10FFFF */
		return 0;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	/* second bytes that would make an overlong form, a surrogate or a code point > U+10FFFF */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (left < n || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/*
 * Copies s, up to its NUL or max bytes, into dst (when not NULL) with each byte that starts no
 * valid UTF-8 sequence replaced by U+FFFD, and NUL-terminates dst. Returns the length without
 * the NUL, so a first call with dst NULL sizes dst.
 */
size_t utf8_clean(char *dst, const char *s, size_t max);

/*
 * The length of s when it is valid UTF-8 ending in a NUL within max bytes (a string that can go
 * as it is), else SIZE_MAX. ASCII is checked eight bytes at a time, which may read past the NUL:
 * max must bound what is readable at s, not only what is wanted.
 */
size_t utf8_valid_len(const char *s, size_t max);

/*
 * Whether the n bytes at s are all ASCII (then valid UTF-8 as they are, NULs aside): eight at a
 * time, reading no byte outside them. For strings whose length is known (span attributes: the
 * OTLP encoder's check, where utf8_valid_len() scans for the end too).
 */
static inline bool utf8_is_ascii(const char *s, size_t n)
{
	const uint64_t highs = 0x8080808080808080ull;
	uint64_t w, any = 0;
	uint32_t h;
	size_t i;

	if (n >= 8) {
		/* the last word overlaps the one before it: every byte is read, none past n */
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&w, s + i, 8);
			any |= w;
		}
		memcpy(&w, s + n - 8, 8);
		return !((any | w) & highs);
	}
	if (n >= 4) {
		memcpy(&h, s, 4);
		any = h;
		memcpy(&h, s + n - 4, 4);
		return !((any | h) & (uint32_t)highs);
	}
	for (i = 0; i < n; i++)
		any |= (unsigned char)s[i];
	return !(any & 0x80);
}

#endif /* OBSPROBE_UTF8_H */
