// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading a ring buffer mapped once (util/ringread.h), over a ring of our own in memory laid out
 * as the kernel lays it out: records in order, a record that wraps past the end copied whole,
 * discarded records skipped, a record still being written stopping the read, the consumer
 * position left after the last record read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "util/ringread.h"

#define RING 64

struct ring {
	uint64_t cons, prod;
	uint8_t data[RING];
};

/* A record of len bytes, each (seed + i), at the producer position; flags on its header. */
static void produce(struct ring *r, uint32_t len, uint8_t seed, uint32_t flags)
{
	uint32_t hdr[2] = { len | flags, 0 };
	size_t i, off = r->prod & (RING - 1);

	memcpy(r->data + off, hdr, sizeof(hdr));
	for (i = 0; i < len; i++)
		r->data[(r->prod + RINGREAD_HDR_SZ + i) & (RING - 1)] = (uint8_t)(seed + i);
	r->prod += (RINGREAD_HDR_SZ + len + 7) & ~7ull;
}

struct seen {
	size_t n;
	uint32_t len[8];
	uint8_t first[8], last[8];
	int bad; /* a record whose bytes are not seed, seed + 1, ... */
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	const uint8_t *p = data;
	size_t i;

	for (i = 1; i < size; i++)
		if (p[i] != (uint8_t)(p[0] + i))
			s->bad++;
	s->len[s->n] = (uint32_t)size;
	s->first[s->n] = size ? p[0] : 0;
	s->last[s->n] = size ? p[size - 1] : 0;
	s->n++;
	return 0;
}

static struct ringread_view view(struct ring *r)
{
	struct ringread_view v = {
		.consumer_pos = &r->cons, .producer_pos = &r->prod, .data = r->data, .size = RING
	};
	return v;
}

UNIT_TEST(test_in_order_and_wrapping)
{
	struct ring r = { 0 };
	struct ringread_view v = view(&r);
	struct seen s = { 0 };

	(void)state;
	assert_false(ringread_view_pending(&v));
	produce(&r, 5, 10, 0);	/* 0..16 */
	produce(&r, 20, 40, 0); /* 16..48 */
	assert_true(ringread_view_pending(&v));
	assert_int_equal(ringread_consume(&v, on_record, &s), 2);
	assert_int_equal(r.cons, 48);
	assert_false(ringread_view_pending(&v));
	/* 48..80: its header at 48, its 24 bytes at 56..64 and 0..16 (wrapped) */
	produce(&r, 24, 100, 0);
	produce(&r, 3, 200, 0); /* 80..96, at 16..32 */
	assert_int_equal(ringread_consume(&v, on_record, &s), 2);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.len[2], 24);
	assert_int_equal(s.first[2], 100);
	assert_int_equal(s.last[2], 123);
	assert_int_equal(s.len[3], 3);
	assert_int_equal(s.first[3], 200);
	assert_int_equal(s.bad, 0);
	assert_non_null(v.bounce); /* the wrapped one was copied */
	assert_int_equal(r.cons, 96);
	/* nothing new: nothing read */
	assert_int_equal(ringread_consume(&v, on_record, &s), 0);
	free(v.bounce);
}

UNIT_TEST(test_discard_and_busy)
{
	struct ring r = { 0 };
	struct ringread_view v = view(&r);
	struct seen s = { 0 };
	uint32_t *hdr;

	(void)state;
	produce(&r, 4, 1, RINGREAD_DISCARD_BIT); /* 0..16, skipped */
	produce(&r, 6, 2, 0);			 /* 16..32 */
	produce(&r, 1, 3, RINGREAD_BUSY_BIT);	 /* 32..48, still being written */
	produce(&r, 2, 4, 0);			 /* 48..64: waits behind it */
	assert_int_equal(ringread_consume(&v, on_record, &s), 1);
	assert_int_equal(s.len[0], 6);
	assert_int_equal(r.cons, 32);
	/* one being written is pending: the reader must not sleep past it */
	assert_true(ringread_view_pending(&v));
	/* committed now: both follow, in order */
	hdr = (uint32_t *)(r.data + 32);
	*hdr &= ~RINGREAD_BUSY_BIT;
	assert_int_equal(ringread_consume(&v, on_record, &s), 2);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.len[1], 1);
	assert_int_equal(s.first[2], 4);
	assert_int_equal(r.cons, 64);
	assert_int_equal(s.bad, 0);
	free(v.bounce);
}

/* Positions only grow: a ring read round after round, far past its size. */
UNIT_TEST(test_many_rounds)
{
	struct ring r = { 0 };
	struct ringread_view v = view(&r);
	struct seen s;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		memset(&s, 0, sizeof(s));
		produce(&r, (uint32_t)(i % 23), (uint8_t)i, 0);
		produce(&r, (uint32_t)(i % 11), (uint8_t)(i + 7), 0);
		assert_int_equal(ringread_consume(&v, on_record, &s), 2);
		assert_int_equal(s.len[0], i % 23);
		assert_int_equal(s.len[1], i % 11);
		assert_int_equal(s.bad, 0);
		assert_int_equal(r.cons, r.prod);
	}
	free(v.bounce);
}

UNIT_MAIN(NULL, NULL)
