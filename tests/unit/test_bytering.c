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
	assert_int_equal(r.used, 0);
	assert_true(refused > 1000 && wrapped > 1000);
}

UNIT_MAIN(NULL, NULL)
