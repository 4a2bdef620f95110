/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/2 over connections (plaintext h2c with prior knowledge, or h2 over a TLS library's
 * plaintext): a connection whose first bytes are the client preface is read frame by frame in
 * both directions (h2_parser.h, HPACK per direction), each stream paired into one SERVER or
 * CLIENT span, with the request span HTTP/1 makes (http_span.h) and network.protocol.version
 * "2"; a gRPC call (content-type application/grpc) also gets rpc.system, rpc.service,
 * rpc.method and rpc.grpc.status_code, and its name. A direction whose header state is lost
 * (a header block the capture did not hold whole) is counted and read no further: no header is
 * guessed. An answer read before its request (the request's event can come after it: one
 * thread writes the request, another reads the answer) is kept, up to HTTP2_HOLD_NS, for that
 * request. Pure: bytes come in from the connection table, spans leave through a callback.
 */
#ifndef OBSPROBE_HTTP2_H
#define OBSPROBE_HTTP2_H

#include <stdint.h>

#include "pipeline/conn.h"
#include "protocols/http.h"

#define HTTP2_MAX_STREAMS 256	  /* streams in flight on one connection */
#define HTTP2_MAX_HELD 1024	  /* finished server spans waiting for their client end */
#define HTTP2_HOLD_NS 50000000ull /* how long one waits: 50 ms */
#define HTTP2_MAX_EARLY 16	  /* answers kept on one connection until their request is read */
#define HTTP2_EARLY_EVENTS 4	  /* header blocks, ends and resets kept of one such answer */

struct http2_tracker_stats {
	uint64_t conns;	       /* connections read as HTTP/2 now */
	uint64_t streams;      /* streams made into spans */
	uint64_t lost;	       /* directions whose frames or header state were lost */
	uint64_t unpaired;     /* responses on a stream whose request was not seen */
	uint64_t early;	       /* responses read before their request, then paired */
	uint64_t aborted;      /* streams whose connection ended (or lost sync) before the end */
	uint64_t streams_full; /* streams not followed: HTTP2_MAX_STREAMS in flight */
};

struct http2_tracker;

/* Registers HTTP/2 with conns: before HTTP/1, the fallback. Freed after conns. */
struct http2_tracker *http2_tracker_new(const struct http_tracker_ops *ops,
					struct conn_table *conns);
void http2_tracker_free(struct http2_tracker *t); /* NULL ok */
void http2_tracker_get_stats(const struct http2_tracker *t, struct http2_tracker_stats *out);
/* Sends the held server spans whose wait is over at now_ns (CLOCK_MONOTONIC; UINT64_MAX: all).
 * A server span whose client end is a watched process waits up to HTTP2_HOLD_NS for the
 * client's request, whose event can arrive after the server's answer. */
void http2_tracker_flush_held(struct http2_tracker *t, uint64_t now_ns);

#endif /* OBSPROBE_HTTP2_H */
