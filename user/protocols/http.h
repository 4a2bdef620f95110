/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x over connections, the fallback protocol of the connection table: feeds each
 * connection's two byte streams through the parser, pairs requests with responses in order
 * (keep-alive, pipelining) and assembles SERVER and CLIENT spans; stitches the two ends of a
 * local connection into one trace. Pure: bytes come in from the connection table, spans leave
 * through a callback.
 */
#ifndef OBSPROBE_HTTP_H
#define OBSPROBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/conn.h"
#include "pipeline/span.h"

#define HTTP_MAX_PENDING 64	 /* requests awaiting a response on one connection */
#define HTTP_MAX_HELD 1024	 /* finished server spans waiting for their client end */
#define HTTP_MAX_HELD_GUESS 64	 /* ... of which waiting for a client end not seen yet */
#define HTTP_HOLD_NS 50000000ull /* how long one waits: 50 ms */
/* Bytes of a response read before its request's write was reported, kept per connection until
 * the request comes (two threads: the writer's syscall can be reported after the reader's). */
#define HTTP_EARLY_MAX 65536

struct http_tracker_ops {
	/* The route to export for a folded path of this process (interned, capped per service).
	 * NULL: the folded path itself. */
	const char *(*route)(void *ctx, uint32_t pid, const char *folded);
	/* A finished span. */
	void (*span)(void *ctx, const struct span *s);
	void *ctx;
};

struct http_tracker_stats {
	uint64_t parse_errors; /* streams that were not HTTP, or lost sync */
	uint64_t truncated;    /* heads longer than the capture */
	uint64_t unpaired;     /* responses without a request we saw */
	uint64_t aborted;      /* requests whose connection ended before the response */
	uint64_t pending_full; /* requests dropped: HTTP_MAX_PENDING reached */
	uint64_t early;	       /* responses read before their request was reported, then paired */
	uint64_t conns;	       /* connections read as HTTP now */
};

struct http_tracker;

/* Registers HTTP with conns, as the protocol of the connections no other sniffer takes: register
 * it last. The tracker must be freed after conns (closing a connection reaches it). */
struct http_tracker *http_tracker_new(const struct http_tracker_ops *ops, struct conn_table *conns);
void http_tracker_free(struct http_tracker *t); /* NULL ok */

void http_tracker_get_stats(const struct http_tracker *t, struct http_tracker_stats *out);
/* Sends the held server spans whose wait is over at now_ns (CLOCK_MONOTONIC; UINT64_MAX: all).
 * A server span whose client end is watched waits up to HTTP_HOLD_NS for the client's request,
 * whose event can arrive after the server's. */
void http_tracker_flush_held(struct http_tracker *t, uint64_t now_ns);

#endif /* OBSPROBE_HTTP_H */
