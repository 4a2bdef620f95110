// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The byte ring of the OTLP exporter's queues (util/bytering.h): items placed one after the
 * other and let go oldest first never overlap one another, stay inside the buffer, and are
 * refused only when no contiguous room is left; an item that does not fit before the end goes
 * to the start and holds the end it skipped until it is let go. Checked by hand on the edges,
 * then against a model over long random sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytering.h"

#define SIZE 256
#define ALIGNED(n) (((n) + 7) & ~(size_t)7)

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
	assert_int_equal(r.used, 104 + 48 + 56);
	/* free: [56, 104) */
	assert_int_equal(byte_ring_place(&r, 49, &foot), SIZE_MAX);
	assert_int_equal(byte_ring_place(&r, 48, &foot), 56);
	assert_int_equal(foot, 48);
	/* the second let go, then the one at 0 with its skipped end: empty, from 0 again */
	byte_ring_put(&r, 104);
	byte_ring_put(&r, 56 + 48);
	assert_int_equal(r.used, 0);
	assert_int_equal(byte_ring_place(&r, SIZE, &foot), 0);
	/* full */
	byte_ring_take(&r, 0, SIZE, SIZE);
	assert_int_equal(byte_ring_place(&r, 1, &foot), SIZE_MAX);
	byte_ring_put(&r, SIZE);
	assert_int_equal(byte_ring_place(&r, 8, &foot), 0);
}

struct held {
	size_t off, len, foot;
	size_t skip; /* the end it skipped begins here (SIZE: none) */
};

/* Whether busy[off, off + len) is all free. */
static bool free_run(const uint8_t *busy, size_t off, size_t len)
{
	size_t i;

	for (i = off; i < off + len; i++) {
		if (busy[i])
			return false;
	}
	return true;
}

UNIT_TEST(test_random_fifo)
{
	struct byte_ring r = { .size = SIZE };
	struct held q[SIZE];
	uint8_t busy[SIZE];
	size_t head = 0, n = 0, step, i, refused = 0, wrapped = 0, held = 0;

	(void)state;
	srand(7);
	memset(busy, 0, sizeof(busy));
	for (step = 0; step < 200000; step++) {
		if (n && rand() % 3 == 0) {
			struct held *h = &q[head];

			for (i = 0; i < ALIGNED(h->len); i++) {
				assert_int_equal(busy[h->off + i], 1);
				busy[h->off + i] = 0;
			}
			for (i = h->skip; i < SIZE; i++) {
				assert_int_equal(busy[i], 2);
				busy[i] = 0;
			}
			byte_ring_put(&r, h->foot);
			held -= h->foot;
			assert_int_equal(r.used, held);
			head = (head + 1) % SIZE;
			n--;
			continue;
		}
		size_t len = 1 + (size_t)rand() % (rand() % 4 ? 40 : 200), foot;
		size_t off = byte_ring_place(&r, len, &foot);

		if (off == SIZE_MAX) {
			/* an empty ring takes anything that fits the buffer */
			assert_true(n > 0);
			/* refused: no room after the last item, nor (past the end) at the start;
			 * busy holds every byte held, the skipped ends too */
			assert_false(r.end + ALIGNED(len) <= SIZE
					     ? free_run(busy, r.end, ALIGNED(len))
					     : free_run(busy, 0, ALIGNED(len)));
			refused++;
			continue;
		}
		assert_true(off % BYTE_RING_ALIGN == 0);
		assert_true(off + len <= SIZE);
		wrapped += off == 0 && n;
		for (i = 0; i < ALIGNED(len); i++) {
			assert_int_equal(busy[off + i], 0);
			busy[off + i] = 1;
		}
		/* a footprint past the item's own bytes: the end it skipped, up to the buffer's */
		assert_true(foot == ALIGNED(len) ||
			    (off == 0 && foot == ALIGNED(len) + SIZE - r.end));
		for (i = foot > ALIGNED(len) ? r.end : SIZE; i < SIZE; i++) {
			assert_int_equal(busy[i], 0);
			busy[i] = 2;
		}
		q[(head + n) % SIZE] =
			(struct held){ off, len, foot, foot > ALIGNED(len) ? r.end : SIZE };
		byte_ring_take(&r, off, len, foot);
		n++;
		held += foot;
		/* the bytes held are the footprints of the items held, no more */
		assert_int_equal(r.used, held);
		assert_true(r.used <= SIZE);
	}
	/* everything let go: the ring is empty again */
	while (n) {
		byte_ring_put(&r, q[head].foot);
		head = (head + 1) % SIZE;
		n--;
	}
	assert_int_equal(r.used, 0);
	assert_true(refused > 1000 && wrapped > 1000);
}

UNIT_MAIN(NULL, NULL)
