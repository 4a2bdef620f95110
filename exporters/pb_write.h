/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A protobuf writer with no message tree and no sizing pass: a message is written back to front
 * into one growing buffer, so that a nested message's length is known as soon as its fields are
 * written, and goes in front of them with its tag. Fields are written last first, which puts
 * them in field-number order on the wire, as protobuf-c and the other encoders write them.
 *
 *	size_t mark = pb_mark(b);	    where the nested message ends
 *	pb_fixed64(b, 7, t);		    its fields, the last one first
 *	pb_string(b, 5, name, max);
 *	pb_close(b, 2, mark);		    its length and tag: the message is field 2 of its parent
 *
 * A run of fields whose size is known can also be taken at once (pb_take()) and filled front to
 * back with the pb_put_*() helpers. A failed allocation is remembered: every write after it does
 * nothing, and pb_buf_finish() returns -ENOMEM. The helpers write what they are given; proto3's
 * "a zero is not sent" is the caller's choice, since oneof members are sent even when zero.
 */
#ifndef OBSPROBE_PB_WRITE_H
#define OBSPROBE_PB_WRITE_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* the helpers of every field: inlined, so that constant field numbers fold into the tags */
#define PB_INLINE static inline __attribute__((always_inline))

enum pb_wire {
	PB_VARINT = 0,
	PB_FIXED64 = 1,
	PB_LEN = 2,
	PB_FIXED32 = 5,
};

struct pb_buf {
	uint8_t *base; /* the allocation */
	uint8_t *p;    /* the first byte written: the message so far is [p, end) */
	uint8_t *end;
	int err; /* 0, or -ENOMEM once the buffer could not grow */
};

/* An empty buffer with room for about hint bytes: 0 or -ENOMEM (pb_buf_finish() frees it). */
int pb_buf_init(struct pb_buf *b, size_t hint);
/* b emptied for another message, keeping its allocation (made for hint bytes when b has none):
 * a buffer kept from message to message costs no allocation once it has grown. b may be all
 * zeros. 0 or -ENOMEM. */
int pb_buf_reset(struct pb_buf *b, size_t hint);
/* The message into a malloc'ed *out (never NULL, *outlen may be 0) and 0; else the buffer's error
 * and nothing. The buffer is empty afterwards either way. */
int pb_buf_finish(struct pb_buf *b, uint8_t **out, size_t *outlen);
/* Frees what b holds; b may be all zeros (never initialised). */
void pb_buf_free(struct pb_buf *b);
/* Makes room for n more bytes in front of p; false when it cannot (b->err is set). */
bool pb_grow(struct pb_buf *b, size_t n);
/* pb_varint() and pb_close() for the values that need more than one byte */
void pb_varint_long(struct pb_buf *b, uint64_t v);
void pb_close_long(struct pb_buf *b, uint32_t field, size_t len);

/* Room for n more bytes, taken: where they go, or NULL after a failed allocation. */
PB_INLINE uint8_t *pb_take(struct pb_buf *b, size_t n)
{
	if (__builtin_expect((size_t)(b->p - b->base) < n, 0) && !pb_grow(b, n))
		return NULL;
	b->p -= n;
	return b->p;
}

/* What has been written so far: a nested message's end, for pb_close(). Survives growing. */
PB_INLINE size_t pb_mark(const struct pb_buf *b)
{
	return (size_t)(b->end - b->p);
}

PB_INLINE size_t pb_varint_size(uint64_t v)
{
	/* 1 + floor(log2(v) / 7), for v at least 1 */
	return ((size_t)(63 - __builtin_clzll(v | 1)) * 9 + 73) / 64;
}

/* v as a varint at d, front to back: how many bytes (pb_varint_size()) */
PB_INLINE size_t pb_put_varint(uint8_t *d, uint64_t v)
{
	size_t n = 0;

	for (; v >= 0x80; v >>= 7)
		d[n++] = (uint8_t)(v | 0x80);
	d[n++] = (uint8_t)v;
	return n;
}

/* v little-endian at d, as fixed64 and double fields are */
PB_INLINE void pb_put_fixed64(uint8_t *d, uint64_t v)
{
	v = htole64(v);
	memcpy(d, &v, sizeof(v));
}

/* A tag of a field below 16, the one byte that most tags are. */
#define PB_TAG1(field, wire) ((uint8_t)((field) << 3 | (wire)))

PB_INLINE void pb_varint(struct pb_buf *b, uint64_t v)
{
	uint8_t *d;

	if (v >= 0x80) {
		pb_varint_long(b, v);
		return;
	}
	d = pb_take(b, 1);
	if (d)
		d[0] = (uint8_t)v;
}

PB_INLINE void pb_tag(struct pb_buf *b, uint32_t field, enum pb_wire wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

/* n bytes to d: most fields are short, and two overlapping moves of a word or two copy them
 * for less than a call to memcpy() (or the rep movs a compiler makes of a small one) */
PB_INLINE void pb_copy(uint8_t *d, const void *src, size_t n)
{
	const uint8_t *s = src;
	uint64_t w[4];
	uint32_t h[2];

	if (n > 32) {
		memcpy(d, s, n);
	} else if (n > 16) {
		memcpy(w, s, 16);
		memcpy(w + 2, s + n - 16, 16);
		memcpy(d, w, 16);
		memcpy(d + n - 16, w + 2, 16);
	} else if (n >= 8) {
		memcpy(w, s, 8);
		memcpy(w + 1, s + n - 8, 8);
		memcpy(d, w, 8);
		memcpy(d + n - 8, w + 1, 8);
	} else if (n >= 4) {
		memcpy(h, s, 4);
		memcpy(h + 1, s + n - 4, 4);
		memcpy(d, h, 4);
		memcpy(d + n - 4, h + 1, 4);
	} else if (n) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

PB_INLINE void pb_raw(struct pb_buf *b, const void *data, size_t n)
{
	uint8_t *d = pb_take(b, n);

	if (d)
		pb_copy(d, data, n);
}

/* The message written since mark becomes field `field` of the one around it. */
PB_INLINE void pb_close(struct pb_buf *b, uint32_t field, size_t mark)
{
	size_t len = pb_mark(b) - mark;
	uint8_t *d;

	/* most are short messages under low field numbers: a byte of tag, a byte of length */
	if (len >= 0x80 || field >= 16) {
		pb_close_long(b, field, len);
		return;
	}
	d = pb_take(b, 2);
	if (d) {
		d[0] = PB_TAG1(field, PB_LEN);
		d[1] = (uint8_t)len;
	}
}

/* bytes, or a string known to be valid UTF-8 */
PB_INLINE void pb_bytes(struct pb_buf *b, uint32_t field, const void *data, size_t n)
{
	size_t mark = pb_mark(b);

	pb_raw(b, data, n);
	pb_close(b, field, mark);
}

PB_INLINE void pb_uint64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	pb_varint(b, v);
	pb_tag(b, field, PB_VARINT);
}

/* int64 and enums: a negative value is ten bytes, as the two's complement uint64 */
PB_INLINE void pb_int64(struct pb_buf *b, uint32_t field, int64_t v)
{
	pb_uint64(b, field, (uint64_t)v);
}

PB_INLINE void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t v)
{
	uint8_t *d = pb_take(b, 8);

	if (d)
		pb_put_fixed64(d, v);
	pb_tag(b, field, PB_FIXED64);
}

PB_INLINE void pb_double(struct pb_buf *b, uint32_t field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	pb_fixed64(b, field, bits);
}

/*
 * A string field: s up to its NUL or max bytes, as valid UTF-8 (protobuf strings must be; a
 * decoder such as protobuf-go refuses the whole message otherwise), each byte that starts no
 * valid sequence sent as U+FFFD. max bounds what is readable at s (utf8_valid_len()).
 */
void pb_string(struct pb_buf *b, uint32_t field, const char *s, size_t max);

#endif /* OBSPROBE_PB_WRITE_H */
