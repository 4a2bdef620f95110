/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The span of one HTTP request, whatever version carried it (HTTP/1.x heads, HTTP/2 header
 * blocks): its semconv attributes, name and route, the trace it joins (an incoming traceparent,
 * the request its actor serves, a call handed over for its socket) and, for a server span, the
 * actor it enters. Pure: no I/O.
 */
#ifndef OBSPROBE_HTTP_SPAN_H
#define OBSPROBE_HTTP_SPAN_H

#include <stdbool.h>
#include <stdint.h>

#include "pipeline/conn.h"
#include "pipeline/span.h"
#include "protocols/http_parser.h"

/* The request and who made it. */
struct http_span_ctx {
	struct conn_table *conns; /* its actors: who serves which request */
	const struct conn *conn;  /* ends, tls */
	/* the route to export for a folded path (interned); NULL, or NULL returned: the folded
	 * path itself */
	const char *(*route)(void *ctx, uint32_t pid, const char *folded);
	void *route_ctx;
	enum conn_dir dir; /* CONN_DIR_IN: a request the process serves; OUT: one it makes */
	uint32_t tid;
	uint64_t actor;	     /* conn_data_actor() of the bytes that began it */
	int fd;		     /* its socket, -1 when unknown */
	uint64_t ts;	     /* when its first byte came */
	const char *version; /* network.protocol.version: "1.0", "1.1", "2" */
};

/* s: the span of the request h (method, target, host, user agent, traceparent), begun; *sig:
 * actors_sig() of its request line; *forwarded: a client request passing on the traceparent
 * its caller sent (a proxy). A server span enters its actor: end it with actors_span_leave. */
void http_span_request(const struct http_span_ctx *x, const struct http_head *h, struct span *s,
		       uint64_t *sig, bool *forwarded);
/* The response status of s's request: http.response.status_code, and the error a 5xx is (a 4xx
 * too for a client). */
void http_span_status(struct span *s, int status);

#endif /* OBSPROBE_HTTP_SPAN_H */
