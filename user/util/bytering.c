// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/bytering.h"

static size_t aligned(size_t len)
{
	return (len + BYTE_RING_ALIGN - 1) & ~(size_t)(BYTE_RING_ALIGN - 1);
}

size_t byte_ring_place(const struct byte_ring *r, size_t len, size_t *foot)
{
	size_t t = aligned(len), used = byte_ring_used(r), tail;

	*foot = t;
	if (len > r->size || t > r->size || used >= r->size)
		return SIZE_MAX;
	if (!used) /* empty: from the start */
		return 0;
	tail = (r->end + r->size - used) % r->size;
	if (r->end > tail) { /* held: [tail, end); free: [end, size) and [0, tail) */
		if (r->size - r->end >= t)
			return r->end;
		if (tail < t)
			return SIZE_MAX;
		*foot = t + (r->size - r->end);
		return 0;
	}
	return tail - r->end >= t ? r->end : SIZE_MAX; /* free: [end, tail) */
}

void byte_ring_take(struct byte_ring *r, size_t off, size_t len, size_t foot)
{
	r->end = off + aligned(len);
	r->taken += foot;
}

void byte_ring_put(struct byte_ring *r, size_t foot)
{
	/* the only writer of let_go: a plain read of it is its own last store */
	__atomic_store_n(&r->let_go, r->let_go + foot, __ATOMIC_RELEASE);
}
