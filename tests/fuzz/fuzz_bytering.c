// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: operations on a byte ring (util/bytering.h), one a byte: with its top bit, the oldest
 * item held is let go; else an item of 1 + (byte & 0x7f) * 3 bytes is placed and taken if it
 * fits. Checks, against a model of every byte held (the ends skipped too), that an item never
 * overlaps another nor leaves the buffer, that what is held adds up to the items' footprints,
 * and that an item is refused only when there is no room where a FIFO ring puts it.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/bytering.h"

#define SIZE 512
#define ALIGNED(n) (((n) + 7) & ~(size_t)7)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct held {
	size_t off, len, foot, skip;
};

static bool free_run(const uint8_t *busy, size_t off, size_t len)
{
	size_t i;

	for (i = off; i < off + len; i++) {
		if (busy[i])
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ring[SIZE];
	struct byte_ring r = { .buf = ring, .size = SIZE };
	struct held q[SIZE];
	uint8_t busy[SIZE] = { 0 };
	size_t head = 0, n = 0, held = 0, k, i;

	for (k = 0; k < size; k++) {
		size_t len = 1 + (size_t)(data[k] & 0x7f) * 3, off, foot;

		if (data[k] & 0x80) {
			const struct held *h = &q[head];

			if (!n)
				continue;
			for (i = h->off; i < h->off + ALIGNED(h->len); i++) {
				assert(busy[i] == 1);
				busy[i] = 0;
			}
			for (i = h->skip; i < SIZE; i++) {
				assert(busy[i] == 2);
				busy[i] = 0;
			}
			byte_ring_put(&r, h->foot);
			held -= h->foot;
			assert(r.used == held);
			head = (head + 1) % SIZE;
			n--;
			continue;
		}
		off = byte_ring_place(&r, len, &foot);
		if (off == SIZE_MAX) {
			assert(n);
			assert(!(r.end + ALIGNED(len) <= SIZE ? free_run(busy, r.end, ALIGNED(len))
							      : free_run(busy, 0, ALIGNED(len))));
			continue;
		}
		assert(off % BYTE_RING_ALIGN == 0 && off + ALIGNED(len) <= SIZE);
		assert(foot == ALIGNED(len) || (off == 0 && foot == ALIGNED(len) + SIZE - r.end));
		for (i = off; i < off + ALIGNED(len); i++) {
			assert(!busy[i]);
			busy[i] = 1;
		}
		for (i = foot > ALIGNED(len) ? r.end : SIZE; i < SIZE; i++) {
			assert(!busy[i]);
			busy[i] = 2;
		}
		q[(head + n) % SIZE] =
			(struct held){ off, len, foot, foot > ALIGNED(len) ? r.end : SIZE };
		memset(ring + off, (int)k, len);
		byte_ring_take(&r, off, len, foot);
		n++;
		held += foot;
		assert(r.used == held && r.used <= SIZE);
	}
	return 0;
}
