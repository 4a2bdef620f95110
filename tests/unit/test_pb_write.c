// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The back-to-front protobuf writer, read back with a decoder of a few lines; and the UTF-8
 * check its strings go through, against a byte-at-a-time one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/pb_write.h"
#include "util/utf8.h"

/* A field read back: tag, and the varint, the fixed64 or where the bytes are. */
struct field {
	uint32_t num;
	enum pb_wire wire;
	uint64_t v;
	const uint8_t *data;
	size_t len;
};

static uint64_t read_varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	int shift;

	for (shift = 0; shift < 70; shift += 7) {
		assert_true(*p < end);
		v |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80))
			return v;
	}
	fail_msg("varint longer than ten bytes");
	return 0;
}

static void read_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t tag = read_varint(p, end);
	int i;

	f->num = (uint32_t)(tag >> 3);
	f->wire = (enum pb_wire)(tag & 7);
	switch (f->wire) {
	case PB_VARINT:
		f->v = read_varint(p, end);
		break;
	case PB_FIXED64:
		assert_true(end - *p >= 8);
		for (f->v = 0, i = 7; i >= 0; i--)
			f->v = f->v << 8 | (*p)[i];
		*p += 8;
		break;
	case PB_LEN:
		f->len = read_varint(p, end);
		assert_true((size_t)(end - *p) >= f->len);
		f->data = *p;
		*p += f->len;
		break;
	default:
		fail_msg("wire type %d", f->wire);
	}
}

/* The body of b, as pb_buf_finish() hands it over. */
static uint8_t *finish(struct pb_buf *b, size_t *len)
{
	uint8_t *out = NULL;

	assert_int_equal(pb_buf_finish(b, &out, len), 0);
	assert_non_null(out);
	return out;
}

/* The encoding of v, the plain way. */
static size_t ref_varint(uint8_t *d, uint64_t v)
{
	size_t n = 0;

	do {
		d[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			d[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

UNIT_TEST(test_varints)
{
	static const uint64_t vals[] = {
		0,
		1,
		127,
		128,
		255,
		16383,
		16384,
		2097151,
		2097152,
		(1ull << 28) - 1,
		1ull << 28,
		(1ull << 35) - 1,
		1ull << 35,
		1ull << 56,
		(1ull << 63) - 1,
		1ull << 63,
		UINT64_MAX,
	};
	uint8_t want[10], *out;
	struct pb_buf b;
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		n = ref_varint(want, vals[i]);
		assert_int_equal(pb_varint_size(vals[i]), n);
		assert_int_equal(pb_buf_init(&b, 0), 0);
		pb_varint(&b, vals[i]);
		out = finish(&b, &len);
		assert_int_equal(len, n);
		assert_memory_equal(out, want, n);
		free(out);
	}
}

UNIT_TEST(test_fields)
{
	static const char text[] = "caf\xc3\xa9";
	uint8_t blob[300], *out;
	const uint8_t *p, *end, *q;
	struct pb_buf b;
	struct field f;
	size_t len, i, mark, inner;
	double d;

	(void)state;
	for (i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)i;
	assert_int_equal(pb_buf_init(&b, 0), 0);
	/* back to front: field 1 is written last */
	mark = pb_mark(&b);
	inner = pb_mark(&b);
	pb_bytes(&b, 2, blob, sizeof(blob)); /* a two-byte length */
	pb_close(&b, 16, inner);	     /* a two-byte tag */
	pb_close(&b, 2000, mark);	     /* both, around it */
	pb_double(&b, 7, -0.5);
	pb_fixed64(&b, 6, 0x0102030405060708ull);
	pb_string(&b, 5, text, sizeof(text));
	pb_bytes(&b, 4, "", 0);
	pb_int64(&b, 3, -2);
	pb_uint64(&b, 1, 300);
	out = finish(&b, &len);

	p = out;
	end = out + len;
	read_field(&p, end, &f);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.wire, PB_VARINT);
	assert_true(f.v == 300);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 3);
	assert_true(f.v == (uint64_t)-2); /* ten bytes, as int64 */
	assert_int_equal(p - out, 3 + 11);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 4);
	assert_int_equal(f.wire, PB_LEN);
	assert_int_equal(f.len, 0);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 5);
	assert_int_equal(f.len, strlen(text));
	assert_memory_equal(f.data, text, f.len);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 6);
	assert_int_equal(f.wire, PB_FIXED64);
	assert_true(f.v == 0x0102030405060708ull);
	assert_memory_equal(p - 8, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 7);
	memcpy(&d, &f.v, sizeof(d));
	assert_true(d == -0.5);
	read_field(&p, end, &f);
	assert_int_equal(f.num, 2000);
	assert_int_equal(f.wire, PB_LEN);
	assert_ptr_equal(f.data + f.len, end);
	q = f.data;
	read_field(&q, end, &f);
	assert_int_equal(f.num, 16);
	assert_ptr_equal(q, end);
	q = f.data;
	read_field(&q, end, &f);
	assert_int_equal(f.num, 2);
	assert_int_equal(f.len, sizeof(blob));
	assert_memory_equal(f.data, blob, sizeof(blob));
	assert_ptr_equal(q, end);
	free(out);
}

/* Nested messages whose marks must survive the buffer moving as it grows. */
UNIT_TEST(test_growth)
{
	static const char text[] = "some text to make the buffer grow";
	enum { N = 20000 };
	const uint8_t *p, *end, *q;
	uint8_t *out, *base;
	struct pb_buf b;
	struct field f;
	size_t i, len, mark;

	(void)state;
	assert_int_equal(pb_buf_init(&b, 1), 0);
	for (i = N; i-- > 0;) {
		mark = pb_mark(&b);
		pb_uint64(&b, 2, i * 1000003);
		pb_string(&b, 1, text, sizeof(text));
		pb_close(&b, 3, mark);
	}
	out = finish(&b, &len);
	p = out;
	end = out + len;
	for (i = 0; i < N; i++) {
		read_field(&p, end, &f);
		assert_int_equal(f.num, 3);
		q = f.data;
		read_field(&q, f.data + f.len, &f);
		assert_int_equal(f.num, 1);
		assert_int_equal(f.len, strlen(text));
		read_field(&q, end, &f);
		assert_int_equal(f.num, 2);
		assert_true(f.v == i * 1000003);
	}
	assert_ptr_equal(p, end);
	free(out);

	/* Reset keeps the allocation: a second message of the same size needs no new one. */
	assert_int_equal(pb_buf_init(&b, 0), 0);
	for (i = 0; i < N; i++)
		pb_uint64(&b, 1, i);
	base = b.base;
	assert_int_equal(pb_buf_reset(&b, 0), 0);
	assert_int_equal(pb_mark(&b), 0);
	for (i = 0; i < N; i++)
		pb_uint64(&b, 1, i);
	assert_ptr_equal(b.base, base);
	pb_buf_free(&b);
	pb_buf_free(&b); /* twice: it is all zeros now */

	/* A never-initialised buffer works from zero. */
	memset(&b, 0, sizeof(b));
	assert_int_equal(pb_buf_reset(&b, 0), 0);
	pb_uint64(&b, 1, 1);
	out = finish(&b, &len);
	assert_int_equal(len, 2);
	free(out);
	memset(&b, 0, sizeof(b));
	assert_int_equal(pb_buf_reset(&b, 0), 0);
	out = finish(&b, &len); /* nothing written: an empty body, still allocated */
	assert_int_equal(len, 0);
	free(out);
}

/* pb_string() against utf8_clean(): the same bytes, whatever the input. */
static void check_string(const char *s, size_t max)
{
	char want[4 * 64];
	const uint8_t *p;
	struct pb_buf b;
	struct field f;
	uint8_t *out;
	size_t len, n = utf8_clean(want, s, max);

	assert_int_equal(pb_buf_init(&b, 0), 0);
	pb_raw(&b, "after", 5); /* the repair must not touch what is already written */
	pb_string(&b, 1, s, max);
	pb_raw(&b, "before", 6);
	out = finish(&b, &len);
	assert_memory_equal(out, "before", 6);
	assert_memory_equal(out + len - 5, "after", 5);
	p = out + 6;
	read_field(&p, out + len - 5, &f);
	assert_int_equal(f.num, 1);
	assert_int_equal(f.len, n);
	assert_memory_equal(f.data, want, n);
	assert_ptr_equal(p, out + len - 5);
	free(out);
}

/* max: all of a literal, which is as far as utf8_valid_len() may read */
#define CHECK_LITERAL(s) check_string(s, sizeof(s))

UNIT_TEST(test_strings)
{
	static const char full[8] = "12345678"; /* no NUL within max */

	(void)state;
	CHECK_LITERAL("");
	CHECK_LITERAL("plain");
	check_string("plain", 3); /* cut at max */
	check_string(full, sizeof(full));
	CHECK_LITERAL("caf\xc3\xa9");
	check_string("caf\xc3\xa9", 5); /* a sequence cut by max */
	CHECK_LITERAL("\xff\xfe\xc3");
	CHECK_LITERAL("a\xed\xa0\x80z"); /* a surrogate */
	CHECK_LITERAL("\xf0\x9f\x98\x80 and more than eight bytes \xe2\x82\xac");
	CHECK_LITERAL("\xf4\x90\x80\x80"); /* past U+10FFFF */
}

/* utf8_valid_len() the byte-at-a-time way: pb_str()'s loop before the word-at-a-time one. */
static size_t ref_valid_len(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < max && p[i]) {
		n = p[i] < 0x80 ? 1 : utf8_seq_len(p + i, max - i);
		if (!n)
			return SIZE_MAX;
		i += n;
	}
	return i < max ? i : SIZE_MAX;
}

UNIT_TEST(test_utf8_valid_len)
{
	static const char *const pieces[] = {
		"a",	"Z",	"\0",	"\xc3\xa9",	"\xe2\x82\xac", "\xf0\x9f\x98\x80",
		"\xff", "\x80", "\xc3", "\xed\xa0\x80", "\xe0\x80\x80", "0123456789"
	};
	char buf[72];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t it, len, max, off, k;

	(void)state;
	for (it = 0; it < 200000; it++) {
		/* pieces at every alignment, then every max up to the end */
		off = it % 8;
		len = off;
		memset(buf, 'x', sizeof(buf));
		while (len < 48) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			/* mostly ASCII, as real strings are */
			k = x % 16 < 10 ? (x % 3 ? x % 2 : 11) : x % 12;
			if (len + strlen(pieces[k]) + 1 > 48)
				break;
			if (k == 2)
				buf[len++] = '\0';
			else
				for (const char *c = pieces[k]; *c; c++)
					buf[len++] = *c;
		}
		max = x % (sizeof(buf) - off + 1);
		assert_int_equal(utf8_valid_len(buf + off, max), ref_valid_len(buf + off, max));
	}
}

/* utf8_is_ascii(): n bytes, each length to 40 at every offset in a word, with a byte above 0x7f
 * at each place in them or none; the bytes around them are all above 0x7f, and each string is
 * also read from an allocation of exactly its size (ASan: no read outside it). */
UNIT_TEST(test_utf8_is_ascii)
{
	char buf[64];
	size_t off, n, at;

	(void)state;
	for (off = 0; off < 8; off++) {
		for (n = 0; n <= 40; n++) {
			/* at == n: no high byte in them */
			for (at = 0; at <= n; at++) {
				char *exact = malloc(n ? n : 1);

				assert_non_null(exact);
				memset(buf, 0xff, sizeof(buf));
				memset(buf + off, 'a', n);
				if (at < n)
					buf[off + at] = (char)(0x80 | (at & 0x7f));
				memcpy(exact, buf + off, n);
				assert_int_equal(utf8_is_ascii(buf + off, n), at == n);
				assert_int_equal(utf8_is_ascii(exact, n), at == n);
				free(exact);
			}
		}
	}
}

UNIT_MAIN(NULL, NULL)
