/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Bounded string copies and integers as text: what snprintf(dst, size, "%s"/"%lld") gives, for
 * the per-request path, where snprintf's format parsing costs more than the copy. */
#ifndef OBSPROBE_STR_H
#define OBSPROBE_STR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* src, or as much of it as fits, and a NUL into dst (size > 0). The length written. */
static inline size_t str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src); /* as snprintf, src is read to its end */

	if (n > size - 1)
		n = size - 1;

	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/* The first max bytes of src at most (it need not end in a NUL within them), and a NUL, into
 * dst (size > 0): snprintf(dst, size, "%.*s", max, src). The length written. */
static inline size_t str_ncopy(char *dst, size_t size, const char *src, size_t max)
{
	const char *nul = memchr(src, '\0', max);
	size_t n = nul ? (size_t)(nul - src) : max;

	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

/* a, a space, then b, as much as fits, into dst (size > 0): snprintf(dst, size, "%s %s", a, b).
 * The length written. */
static inline size_t str_words(char *dst, size_t size, const char *a, const char *b)
{
	size_t n = str_copy(dst, size, a);

	n += str_copy(dst + n, size - n, " ");
	return n + str_copy(dst + n, size - n, b);
}

/* v in decimal, as much as fits, into dst (size > 0): snprintf(dst, size, "%lld", v). */
static inline size_t str_int(char *dst, size_t size, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	*--p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return str_copy(dst, size, p);
}

#endif /* OBSPROBE_STR_H */
