/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A model of a byte ring (util/bytering.h) used as a FIFO, for test_bytering and fuzz_bytering:
 * every byte held is marked (an item's own bytes 1, the end it skipped 2), so that each step of
 * the ring is checked against it. Each function applies the step to the ring and the model and
 * says whether they agree.
 */
#ifndef OBSPROBE_TEST_BYTERING_MODEL_H
#define OBSPROBE_TEST_BYTERING_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytering.h"

#define MODEL_MAX 512 /* bytes of the largest ring modelled */
#define ALIGNED(n) (((n) + BYTE_RING_ALIGN - 1) & ~(size_t)(BYTE_RING_ALIGN - 1))

struct model_item {
	size_t off, len, foot;
	size_t skip; /* the end it skipped begins here (the ring's size: none) */
};

struct ring_model {
	uint8_t busy[MODEL_MAX];
	struct model_item q[MODEL_MAX];
	size_t head, n, held; /* held: the footprints of the items held */
};

/* Whether busy[off, off + len) is all free. */
static inline bool model_free_run(const struct ring_model *m, size_t off, size_t len)
{
	size_t i;

	for (i = off; i < off + len; i++) {
		if (m->busy[i])
			return false;
	}
	return true;
}

/* Marks busy[from, to) as v; false when a byte of it was not was. */
static inline bool model_mark(struct ring_model *m, size_t from, size_t to, uint8_t was, uint8_t v)
{
	size_t i;

	for (i = from; i < to; i++) {
		if (m->busy[i] != was)
			return false;
		m->busy[i] = v;
	}
	return true;
}

/* The oldest item is let go (there is one). */
static inline bool model_put(struct ring_model *m, struct byte_ring *r)
{
	const struct model_item *h = &m->q[m->head];

	if (!model_mark(m, h->off, h->off + ALIGNED(h->len), 1, 0) ||
	    !model_mark(m, h->skip, r->size, 2, 0))
		return false;
	byte_ring_put(r, h->foot);
	m->held -= h->foot;
	m->head = (m->head + 1) % MODEL_MAX;
	m->n--;
	return byte_ring_used(r) == m->held;
}

/* byte_ring_place() refused len bytes: right only when the ring holds something and there is no
 * room after the last item, nor (past the buffer's end) at the start. */
static inline bool model_refusal_ok(const struct ring_model *m, const struct byte_ring *r,
				    size_t len)
{
	size_t t = ALIGNED(len);

	return m->n &&
	       !(r->end + t <= r->size ? model_free_run(m, r->end, t) : model_free_run(m, 0, t));
}

/* byte_ring_place() gave off and foot for len bytes: they are taken. */
static inline bool model_take(struct ring_model *m, struct byte_ring *r, size_t off, size_t len,
			      size_t foot)
{
	size_t t = ALIGNED(len), skip = foot > t ? r->end : r->size;

	/* aligned, inside the buffer; a footprint past the item's own bytes is the end it
	 * skipped, up to the buffer's */
	if (off % BYTE_RING_ALIGN || off + t > r->size ||
	    (foot != t && !(off == 0 && foot == t + r->size - r->end)) ||
	    !model_mark(m, off, off + t, 0, 1) || !model_mark(m, skip, r->size, 0, 2))
		return false;
	m->q[(m->head + m->n) % MODEL_MAX] = (struct model_item){ off, len, foot, skip };
	byte_ring_take(r, off, len, foot);
	m->n++;
	m->held += foot;
	return byte_ring_used(r) == m->held && m->held <= r->size;
}

#endif /* OBSPROBE_TEST_BYTERING_MODEL_H */
