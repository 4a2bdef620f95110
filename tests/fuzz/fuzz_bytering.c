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

#include "tests/unit/bytering_model.h"
#include "util/bytering.h"

#define SIZE 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ring[SIZE];
	static struct ring_model m;
	struct byte_ring r = { .buf = ring, .size = SIZE };
	size_t k;

	memset(&m, 0, sizeof(m));
	for (k = 0; k < size; k++) {
		size_t len = 1 + (size_t)(data[k] & 0x7f) * 3, off, foot;

		if (data[k] & 0x80) {
			if (m.n)
				assert(model_put(&m, &r));
			continue;
		}
		off = byte_ring_place(&r, len, &foot);
		if (off == SIZE_MAX) {
			assert(model_refusal_ok(&m, &r, len));
			continue;
		}
		assert(model_take(&m, &r, off, len, foot));
		memset(ring + off, (int)k, len);
	}
	return 0;
}
