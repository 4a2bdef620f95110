/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP over connections: feeds each connection's two byte streams through the parser, pairs
 * requests with responses in order (keep-alive, pipelining) and assembles SERVER and CLIENT
 * spans. Pure: events come in as plain values, spans leave through a callback.
 */
#ifndef OBSPROBE_HTTP_H
#define OBSPROBE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/span.h"

#define HTTP_MAX_PENDING 64 /* requests awaiting a response on one connection */
#define HTTP_ADDR_MAX 64
#define HTTP_MAX_HELD 1024	 /* finished server spans waiting for their client end */
#define HTTP_MAX_HELD_GUESS 64	 /* ... of which waiting for a client end not seen yet */
#define HTTP_HOLD_NS 50000000ull /* how long one waits: 50 ms */

enum http_dir {
	HTTP_DIR_IN = 0,  /* the watched process read these bytes */
	HTTP_DIR_OUT = 1, /* the watched process wrote these bytes */
};

struct conn_meta {
	uint64_t conn_id;
	uint32_t pid;
	int fd;
	bool accepted;	/* the process accepted it: it is the server end */
	bool connected; /* the process connected it: it is the client end */
	bool is_unix;
	char local_addr[HTTP_ADDR_MAX];
	int local_port;
	char remote_addr[HTTP_ADDR_MAX];
	int remote_port;
};

struct http_tracker_ops {
	/* The route to export for a folded path of this process (interned, capped per service).
	 * NULL: the folded path itself. */
	const char *(*route)(void *ctx, uint32_t pid, const char *folded);
	/* A finished span. */
	void (*span)(void *ctx, const struct span *s);
	void *ctx;
};

struct http_tracker_stats {
	uint64_t parse_errors;	/* streams that were not HTTP, or lost sync */
	uint64_t truncated;	/* heads longer than the capture */
	uint64_t unpaired;	/* responses without a request we saw */
	uint64_t aborted;	/* requests whose connection ended before the response */
	uint64_t pending_full;	/* requests dropped: HTTP_MAX_PENDING reached */
	uint64_t conns_evicted; /* connections dropped: the table was full */
	uint64_t conns;		/* connections tracked now */
};

/* Which parser reads a connection's bytes: decided once, on the first bytes it moves. */
enum conn_proto {
	CONN_PROTO_UNKNOWN = 0,
	CONN_PROTO_HTTP,
	CONN_PROTO_PG,
};

struct http_tracker;

struct http_tracker *http_tracker_new(const struct http_tracker_ops *ops, size_t max_conns);
void http_tracker_free(struct http_tracker *t);

void http_tracker_open(struct http_tracker *t, const struct conn_meta *m);
/* The connection's bytes come decrypted from a TLS library: its spans are https. */
void http_tracker_mark_tls(struct http_tracker *t, uint64_t conn_id, uint32_t pid);
void http_tracker_data(struct http_tracker *t, uint64_t conn_id, uint32_t pid, uint32_t tid,
		       uint64_t ts_ns, enum http_dir dir, const uint8_t *data, size_t len,
		       uint64_t total);
void http_tracker_close(struct http_tracker *t, uint64_t conn_id, uint64_t ts_ns);
/* The tracker is the table of connections every protocol shares: the entry of conn_id (made
 * when new; NULL when it cannot be) holds the protocol verdict, which the caller reads and sets.
 * *meta: what is known of its ends, NULL when its opening was not seen. */
enum conn_proto *http_tracker_proto(struct http_tracker *t, uint64_t conn_id, uint32_t pid,
				    const struct conn_meta **meta);
/* The trace and span of the one request thread tid is serving, if it serves exactly one. */
bool http_tracker_thread_parent(struct http_tracker *t, uint32_t tid, uint8_t trace_id[16],
				uint8_t span_id[8]);
/* The process is gone: release every connection of it. */
void http_tracker_proc_exit(struct http_tracker *t, uint32_t pid, uint64_t ts_ns);
void http_tracker_get_stats(const struct http_tracker *t, struct http_tracker_stats *out);
/* Sends the held server spans whose wait is over at now_ns (CLOCK_MONOTONIC; UINT64_MAX: all).
 * A server span whose client end is watched waits up to HTTP_HOLD_NS for the client's request,
 * whose event can arrive after the server's. */
void http_tracker_flush_held(struct http_tracker *t, uint64_t now_ns);

#endif /* OBSPROBE_HTTP_H */
