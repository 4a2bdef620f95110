/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The byte classes of an HTTP/1 head (RFC 9110 5.6) and the scans built on them, for every
 * parser of one: the protocol parser of watched traffic (protocols/http_parser.c) and the
 * metrics endpoint's request parser (exporters/prom_http.c). */
#ifndef OBSPROBE_HTTP_TOKEN_H
#define OBSPROBE_HTTP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* RFC 9110 tchar, as a table: header names and methods are scanned byte by byte, per request */
static const bool http_tchar_table[256] = {
	['0' ... '9'] = true, ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['!'] = true,
	['#'] = true,	      ['$'] = true,	    ['%'] = true,	  ['&'] = true,
	['\''] = true,	      ['*'] = true,	    ['+'] = true,	  ['-'] = true,
	['.'] = true,	      ['^'] = true,	    ['_'] = true,	  ['`'] = true,
	['|'] = true,	      ['~'] = true,
};

static inline bool http_is_tchar(uint8_t c)
{
	return http_tchar_table[c];
}

/* Field values and reason phrases: HTAB, SP, VCHAR and obs-text (0x80 and up). */
static inline bool http_is_vchar(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool http_is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* p..n equals s (lowercase letters and '-') but for case. p's bytes passed http_is_tchar or
 * http_is_vchar, so | 0x20 lowers them as exactly as this comparison needs: it turns only
 * 'A'..'Z' into letters, and only CR (no tchar, no vchar) into '-'. 8 bytes at a time, the last
 * word overlapping the one before it. */
static inline bool http_ieq(const uint8_t *p, size_t n, const char *s)
{
	const uint64_t low = 0x2020202020202020ull;
	uint64_t a, b;
	size_t i;

	if (strlen(s) != n)
		return false;
	if (n < 8) {
		for (i = 0; i < n; i++)
			if ((p[i] | 0x20) != (uint8_t)s[i])
				return false;
		return true;
	}
	for (i = 0; i + 8 < n; i += 8) {
		memcpy(&a, p + i, 8);
		memcpy(&b, s + i, 8);
		if ((a | low) != b)
			return false;
	}
	memcpy(&a, p + n - 8, 8);
	memcpy(&b, s + n - 8, 8);
	return (a | low) == b;
}

/* Whether the 8 bytes at p are field-value bytes: a word with no byte under 0x20 and none 0x7f
 * holds none to refuse (bytes 0x80 and up are obs-text); a word with one (a tab, most likely)
 * is looked at byte by byte. */
static inline bool http_vchars8_ok(const uint8_t *p)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t w, del;
	size_t j;

	memcpy(&w, p, 8);
	del = w ^ (0x7f * ones);
	if (!(((w - 0x20 * ones) & ~w & highs) | ((del - ones) & ~del & highs)))
		return true;
	for (j = 0; j < 8; j++)
		if (!http_is_vchar(p[j]))
			return false;
	return true;
}

#ifdef __SSE2__
/* Whether the 16 bytes at p are field-value bytes: none under 0x20 but HTAB, none 0x7f (bytes
 * 0x80 and up, negative as signed bytes, are obs-text). */
static inline bool http_vchars16_ok(const uint8_t *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i ctl = _mm_and_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
				    _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)));
	__m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')), ctl),
				   _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));

	return !_mm_movemask_epi8(bad);
}
#endif

/* Every byte a field-value byte. Header values are most of a head's bytes: 16 at a time (SSE2)
 * or 8 (a word), the last block overlapping the one before it; values shorter than 8 byte by
 * byte. */
static inline bool http_vchars_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n < 8) {
		for (i = 0; i < n; i++)
			if (!http_is_vchar(p[i]))
				return false;
		return true;
	}
#ifdef __SSE2__
	if (n >= 16) {
		for (i = 0; i + 16 < n; i += 16)
			if (!http_vchars16_ok(p + i))
				return false;
		return http_vchars16_ok(p + n - 16);
	}
#endif
	for (i = 0; i + 8 < n; i += 8)
		if (!http_vchars8_ok(p + i))
			return false;
	return http_vchars8_ok(p + n - 8);
}

/* Calls fn on each non-empty element of a comma-separated list (RFC 9110 5.6.1), trimmed. */
static inline void http_list_each(const uint8_t *p, size_t n,
				  void (*fn)(const uint8_t *, size_t, void *), void *arg)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (http_is_ows(p[i]) || p[i] == ','))
			i++;
		s = i;
		while (i < n && p[i] != ',')
			i++;
		e = i;
		while (e > s && http_is_ows(p[e - 1]))
			e--;
		if (e > s)
			fn(p + s, e - s, arg);
	}
}

#endif
