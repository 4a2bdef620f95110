/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PostgreSQL wire bytes for the tests, built by hand the way libpq and the server write them:
 * big-endian integers and NUL-terminated protocol Strings. Include after cmocka.h.
 */
#ifndef OBSPROBE_TEST_PG_BYTES_H
#define OBSPROBE_TEST_PG_BYTES_H

#include <stdint.h>
#include <string.h>

struct bytes {
	uint8_t d[32768];
	size_t n;
};

static inline void put(struct bytes *b, const void *p, size_t n)
{
	assert_true(b->n + n <= sizeof(b->d));
	memcpy(b->d + b->n, p, n);
	b->n += n;
}

static inline void put_u8(struct bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static inline void put_u16(struct bytes *b, uint16_t v)
{
	uint8_t x[2] = { v >> 8, v & 0xff };

	put(b, x, 2);
}

static inline void put_u32(struct bytes *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	put(b, x, 4);
}

/* A protocol String: the text and its NUL. */
static inline void put_str(struct bytes *b, const char *s)
{
	put(b, s, strlen(s) + 1);
}

#endif /* OBSPROBE_TEST_PG_BYTES_H */
