/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A byte ring for items of any size that are let go oldest first (the OTLP exporter's queues):
 * each item's bytes are contiguous, never wrapped; one that does not fit before the end goes to
 * the start, and the end it skipped is held with it until it is let go. The bytes held are
 * always the byte_ring_used() bytes before `end`, circularly. The caller keeps where each item
 * is and how many bytes it holds (its footprint).
 *
 * One thread may take while another lets go, without a lock: each keeps a count of its own
 * that only grows (taken: byte_ring_place() and byte_ring_take(); let_go: byte_ring_put()),
 * and the taker reads the other's with an acquire load, so bytes are reused only after the
 * thread that let them go is done with them (its store is a release).
 */
#ifndef OBSPROBE_BYTERING_H
#define OBSPROBE_BYTERING_H

#include <stddef.h>
#include <stdint.h>

#define BYTE_RING_ALIGN 8 /* every item begins at a multiple of this */

struct byte_ring {
	uint8_t *buf;
	size_t size;   /* a multiple of BYTE_RING_ALIGN */
	size_t end;    /* where the bytes held end (the taker's) */
	size_t taken;  /* footprints taken ever (the taker's) */
	size_t let_go; /* footprints let go ever (the thread that lets go; atomic) */
};

/* The bytes held (by the taker: what it has taken, less what was let go by then). */
static inline size_t byte_ring_used(const struct byte_ring *r)
{
	return r->taken - __atomic_load_n(&r->let_go, __ATOMIC_ACQUIRE);
}

/* Where an item of len bytes would go (an offset into buf), *foot the bytes it would hold; or
 * SIZE_MAX when there is no room for it now. Nothing changes until byte_ring_take(). Taker. */
size_t byte_ring_place(const struct byte_ring *r, size_t len, size_t *foot);
/* The item byte_ring_place() placed at off, holding foot bytes, is taken. Taker. */
void byte_ring_take(struct byte_ring *r, size_t off, size_t len, size_t foot);
/* The oldest items still held, of footprints adding up to foot, are let go. */
void byte_ring_put(struct byte_ring *r, size_t foot);

#endif /* OBSPROBE_BYTERING_H */
