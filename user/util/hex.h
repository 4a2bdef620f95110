/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Hexadecimal digits, read and written. */
#ifndef OBSPROBE_HEX_H
#define OBSPROBE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of a lower-case hex digit, -1 for anything else (upper case included: W3C trace
 * context allows lower case only). */
static inline int hex_lower_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The value of a hex digit of either case, -1 for anything else. */
static inline int hex_digit_value(char c)
{
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return hex_lower_value(c);
}

/* n bytes as 2n lower-case hex digits and a NUL into out (2n + 1 bytes). */
static inline void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif /* OBSPROBE_HEX_H */
