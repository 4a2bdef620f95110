/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A byte ring for items of any size that are let go oldest first (the OTLP exporter's queues):
 * each item's bytes are contiguous, never wrapped; one that does not fit before the end goes to
 * the start, and the end it skipped is held with it until it is let go. The bytes held are
 * always the `used` bytes before `end`, circularly. Pure: the caller keeps where each item is
 * and how many bytes it holds (its footprint), and locks.
 */
#ifndef OBSPROBE_BYTERING_H
#define OBSPROBE_BYTERING_H

#include <stddef.h>
#include <stdint.h>

#define BYTE_RING_ALIGN 8 /* every item begins at a multiple of this */

struct byte_ring {
	uint8_t *buf;
	size_t size; /* a multiple of BYTE_RING_ALIGN */
	size_t end;  /* where the bytes held end */
	size_t used; /* bytes held */
};

/* Where an item of len bytes would go (an offset into buf), *foot the bytes it would hold; or
 * SIZE_MAX when there is no room for it now. Nothing changes until byte_ring_take(). */
size_t byte_ring_place(const struct byte_ring *r, size_t len, size_t *foot);
/* The item byte_ring_place() placed at off, holding foot bytes, is taken. */
void byte_ring_take(struct byte_ring *r, size_t off, size_t len, size_t foot);
/* The oldest item still held, of footprint foot, is let go. */
void byte_ring_put(struct byte_ring *r, size_t foot);

#endif /* OBSPROBE_BYTERING_H */
