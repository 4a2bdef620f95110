/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a BPF ring buffer (BPF_MAP_TYPE_RINGBUF) mapped once.
 *
 * libbpf 1.1's ring_buffer maps the data area twice, back to back, so that a record that wraps
 * past the end reads as one piece; every page of it then counts twice in the process's RSS
 * (16 MiB for obsprobe's 8 MiB buffer). Here the data is mapped once, and the rare record that
 * wraps is copied whole into a buffer of ours before the callback sees it.
 *
 * ringread_consume() is the pure part (the positions and the data as mapped, no system call),
 * so that a test can run it over memory of its own; ringread_open() and ringread_poll() map a
 * map fd and wait on it with epoll.
 */
#ifndef OBSPROBE_RINGREAD_H
#define OBSPROBE_RINGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's record header (BPF_RINGBUF_* in linux/bpf.h, repeated so that a test needs no
 * kernel header): 8 bytes, the length with two flag bits, then the record's page offset;
 * records start 8-byte aligned. */
#define RINGREAD_BUSY_BIT (1u << 31)
#define RINGREAD_DISCARD_BIT (1u << 30)
#define RINGREAD_HDR_SZ 8

/* What the callback is handed: the record, size bytes, valid until it returns. Its return
 * value is ignored (every record is consumed). */
typedef int (*ringread_fn)(void *ctx, void *data, size_t size);

struct ringread_view {
	uint64_t *consumer_pos; /* written by the reader */
	const uint64_t *producer_pos;
	const uint8_t *data; /* size bytes, a power of two */
	size_t size;
	uint8_t *bounce; /* a wrapping record is copied here; malloc'd, grown */
	size_t bounce_cap;
};

/* Every committed record from the consumer position up to the producer position, in order,
 * through fn (discarded ones skipped), advancing the consumer position after each; stops at a
 * record still being written. The records handed over, or -ENOMEM when a wrapping record could
 * not be copied (the consumer position then stays before it). */
int ringread_consume(struct ringread_view *v, ringread_fn fn, void *ctx);
/* Whether records were sent past the consumer position (consumed or not, committed or not). */
bool ringread_view_pending(const struct ringread_view *v);

struct ringread;

/* The ring buffer of map_fd, mapped; NULL with errno set. */
struct ringread *ringread_open(int map_fd, ringread_fn fn, void *ctx);
/* Waits up to timeout_ms for data, then consumes: records handed over, or -errno. */
int ringread_poll(struct ringread *r, int timeout_ms);
/* Consumes what is there now, without waiting. */
int ringread_drain(struct ringread *r);
/* ringread_view_pending() of r's ring. */
bool ringread_pending(const struct ringread *r);
/* NULL ok. */
void ringread_free(struct ringread *r);

#endif /* OBSPROBE_RINGREAD_H */
