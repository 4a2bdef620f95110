// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The byte ring of the OTLP exporter's queues (util/bytering.h): items placed one after the
 * other and let go oldest first never overlap one another, stay inside the buffer, and are
 * refused only when no contiguous room is left; an item that does not fit before the end goes
 * to the start and holds the end it skipped until it is let go. Checked by hand on the edges,
 * then against a model over long random sequences, and between two threads that share it
 * without a lock. Built also with ThreadSanitizer (build/tsan/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bytering_model.h"
#include "util/bytering.h"

#define SIZE 256

UNIT_TEST(test_edges)
{
	struct byte_ring r = { .size = SIZE };
	size_t foot, off;

	(void)state;
	/* empty: anything up to the whole buffer, at 0 */
	assert_int_equal(byte_ring_place(&r, SIZE + 1, &foot), SIZE_MAX);
	assert_int_equal(byte_ring_place(&r, SIZE, &foot), 0);
	assert_int_equal(foot, SIZE);
	/* sizes round up to 8 */
	off = byte_ring_place(&r, 100, &foot);
	assert_int_equal(off, 0);
	assert_int_equal(foot, 104);
	byte_ring_take(&r, off, 100, foot);
	off = byte_ring_place(&r, 100, &foot);
	assert_int_equal(off, 104);
	byte_ring_take(&r, off, 100, foot); /* held [0, 208) */
	/* 48 left at the end, nothing at the start: refused */
	assert_int_equal(byte_ring_place(&r, 49, &foot), SIZE_MAX);
	off = byte_ring_place(&r, 48, &foot);
	assert_int_equal(off, 208);
	assert_int_equal(foot, 48);
	/* the first let go: [0, 104) free; 56 does not fit before the end (48), so it goes to 0
	 * and holds the 48 bytes it skipped */
	byte_ring_put(&r, 104);
	off = byte_ring_place(&r, 56, &foot);
	assert_int_equal(off, 0);
	assert_int_equal(foot, 56 + 48);
	byte_ring_take(&r, off, 56, foot); /* held [104, 256) and [0, 56) */
	assert_int_equal(byte_ring_used(&r), 104 + 48 + 56);
	/* free: [56, 104) */
	assert_int_equal(byte_ring_place(&r, 49, &foot), SIZE_MAX);
	assert_int_equal(byte_ring_place(&r, 48, &foot), 56);
	assert_int_equal(foot, 48);
	/* the second let go, then the one at 0 with its skipped end: empty, from 0 again */
	byte_ring_put(&r, 104);
	byte_ring_put(&r, 56 + 48);
	assert_int_equal(byte_ring_used(&r), 0);
	assert_int_equal(byte_ring_place(&r, SIZE, &foot), 0);
	/* full */
	byte_ring_take(&r, 0, SIZE, SIZE);
	assert_int_equal(byte_ring_place(&r, 1, &foot), SIZE_MAX);
	byte_ring_put(&r, SIZE);
	assert_int_equal(byte_ring_place(&r, 8, &foot), 0);
}

UNIT_TEST(test_random_fifo)
{
	static struct ring_model m;
	struct byte_ring r = { .size = SIZE };
	size_t step, refused = 0, wrapped = 0;

	(void)state;
	srand(7);
	for (step = 0; step < 200000; step++) {
		if (m.n && rand() % 3 == 0) {
			assert_true(model_put(&m, &r));
			continue;
		}
		size_t len = 1 + (size_t)rand() % (rand() % 4 ? 40 : 200), foot;
		size_t off = byte_ring_place(&r, len, &foot);

		if (off == SIZE_MAX) {
			/* an empty ring takes anything that fits the buffer; a refusal means no
			 * room after the last item, nor (past the end) at the start */
			assert_true(model_refusal_ok(&m, &r, len));
			refused++;
			continue;
		}
		wrapped += off == 0 && m.n;
		assert_true(model_take(&m, &r, off, len, foot));
	}
	/* everything let go: the ring is empty again */
	while (m.n)
		assert_true(model_put(&m, &r));
	assert_int_equal(byte_ring_used(&r), 0);
	assert_true(refused > 1000 && wrapped > 1000);
}

/* The counts wrap around SIZE_MAX: what is held is their difference all the same. */
UNIT_TEST(test_counts_wrap)
{
	static struct ring_model m;
	struct byte_ring r = { .size = SIZE, .taken = SIZE_MAX - 300, .let_go = SIZE_MAX - 300 };
	size_t step;

	(void)state;
	memset(&m, 0, sizeof(m));
	srand(11);
	for (step = 0; step < 2000; step++) {
		size_t len = 1 + (size_t)rand() % 60, foot, off;

		if (m.n && rand() % 2 == 0) {
			assert_true(model_put(&m, &r));
			continue;
		}
		off = byte_ring_place(&r, len, &foot);
		if (off == SIZE_MAX)
			assert_true(model_refusal_ok(&m, &r, len));
		else
			assert_true(model_take(&m, &r, off, len, foot));
	}
	assert_true(r.taken < SIZE_MAX - 300); /* wrapped */
}

/* One thread takes and fills items, another reads and lets them go, with no lock between them
 * (as the OTLP exporter's queue): every item is read whole, in order, never overwritten while
 * held. */
#define ITEMS 200000
#define SLOTS 64

static struct {
	struct byte_ring r;
	uint8_t buf[SIZE];
	struct {
		uint32_t off, len, foot;
	} slot[SLOTS];
	size_t pushed, popped; /* written by one side each; atomic */
	size_t bad;
} two;

static void *let_go_main(void *arg)
{
	size_t i, k;

	(void)arg;
	for (i = 0; i < ITEMS; i++) {
		while (__atomic_load_n(&two.pushed, __ATOMIC_ACQUIRE) == i)
			sched_yield();
		for (k = 0; k < two.slot[i % SLOTS].len; k++)
			two.bad += two.buf[two.slot[i % SLOTS].off + k] != (uint8_t)(i + k);
		byte_ring_put(&two.r, two.slot[i % SLOTS].foot);
		__atomic_store_n(&two.popped, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

UNIT_TEST(test_two_threads)
{
	pthread_t t;
	size_t i, k, refused = 0;

	(void)state;
	two.r = (struct byte_ring){ .buf = two.buf, .size = SIZE };
	assert_int_equal(pthread_create(&t, NULL, let_go_main, NULL), 0);
	for (i = 0; i < ITEMS;) {
		size_t len = 1 + (i * 37) % 90, foot, off;

		if (i - __atomic_load_n(&two.popped, __ATOMIC_ACQUIRE) == SLOTS ||
		    (off = byte_ring_place(&two.r, len, &foot)) == SIZE_MAX) {
			refused++;
			sched_yield();
			continue;
		}
		for (k = 0; k < len; k++)
			two.buf[off + k] = (uint8_t)(i + k);
		two.slot[i % SLOTS].off = (uint32_t)off;
		two.slot[i % SLOTS].len = (uint32_t)len;
		two.slot[i % SLOTS].foot = (uint32_t)foot;
		byte_ring_take(&two.r, off, len, foot);
		__atomic_store_n(&two.pushed, ++i, __ATOMIC_RELEASE);
	}
	pthread_join(t, NULL);
	assert_int_equal(two.bad, 0);
	assert_int_equal(byte_ring_used(&two.r), 0);
	assert_true(refused > 0); /* the ring filled */
}

UNIT_MAIN(NULL, NULL)
