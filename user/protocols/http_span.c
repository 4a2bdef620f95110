// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http_span.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/route.h"
#include "pipeline/semconv.h"
#include "util/str.h"

/* The port a URL of this connection's scheme implies. */
static int default_port(const struct conn *c)
{
	return c->tls ? 443 : 80;
}

/* The port in decimal at p (what follows Host's colon): its digits up to the first other byte;
 * -1 when there are none or it is beyond 65535 (the socket's port serves then). strtol, which
 * this replaces on the per-request path, also took blanks and a sign, which no port has. */
static long host_port(const char *p)
{
	long v = 0;
	size_t i;

	for (i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
		v = v * 10 + (p[i] - '0');
		if (v > 65535)
			return -1;
	}
	return i ? v : -1;
}

static void set_peer_attrs(struct span *s, const struct conn *c, const struct http_head *h)
{
	char host[HTTP_HOST_MAX], *colon;
	long port = -1;

	if (s->kind == SPAN_KIND_SERVER) {
		if (c->have_meta && !c->meta.is_unix) {
			span_set_str(s, SC_CLIENT_ADDRESS, c->meta.remote_addr);
			span_set_int(s, SC_CLIENT_PORT, c->meta.remote_port);
		}
	}
	/* server.address: what the client asked for (Host), else the socket's server end */
	str_copy(host, sizeof(host), h->host);
	colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
	if (colon && host[0] == '[') {
		*colon = '\0';
		memmove(host, host + 1, strlen(host));
		colon = colon[1] == ':' ? colon + 1 : NULL;
		if (colon)
			port = host_port(colon + 1);
	} else if (colon) {
		*colon = '\0';
		port = host_port(colon + 1);
	}
	if (!host[0] && c->have_meta && !c->meta.is_unix) {
		str_copy(host, sizeof(host),
			 s->kind == SPAN_KIND_SERVER ? c->meta.local_addr : c->meta.remote_addr);
	}
	if (port <= 0 || port > 65535) {
		if (c->have_meta && !c->meta.is_unix)
			port = s->kind == SPAN_KIND_SERVER ? c->meta.local_port
							   : c->meta.remote_port;
		else if (h->host[0])
			port = default_port(c);
	}
	if (host[0])
		span_set_str(s, SC_SERVER_ADDRESS, host);
	if (port > 0)
		span_set_int(s, SC_SERVER_PORT, port);
}

void http_span_request(const struct http_span_ctx *x, const struct http_head *h, struct span *s,
		       uint64_t *sig, bool *forwarded)
{
	const struct conn *c = x->conn;
	struct actors *actors = conn_table_actors(x->conns);
	const char *scheme = c->tls ? "https" : "http";
	char path[HTTP_TARGET_MAX], query[HTTP_TARGET_MAX], folded[ROUTE_MAX];
	const char *route = NULL;
	uint8_t tp_trace[16], tp_span[8], tp_flags;
	uint64_t tp;

	*forwarded = false;
	*sig = actors_sig(h->method, h->target);
	span_init(s, x->dir == CONN_DIR_IN ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT);
	s->pid = c->pid;
	s->tid = x->tid;
	s->actor = x->actor;
	s->start_ns = x->ts;

	route_split_target(h->target, path, sizeof(path), query, sizeof(query));
	route_fold(path, folded, sizeof(folded));
	if (x->route)
		route = x->route(x->route_ctx, c->pid, folded);
	if (!route)
		route = folded;

	span_set_str(s, SC_HTTP_REQUEST_METHOD, h->method);
	span_set_str(s, SC_URL_PATH, path);
	if (query[0])
		span_set_str(s, SC_URL_QUERY, query);
	span_set_str(s, SC_NETWORK_PROTOCOL_VERSION, x->version);
	span_set_str(s, SC_URL_SCHEME, scheme);
	set_peer_attrs(s, c, h);
	if (h->user_agent[0])
		span_set_str(s, SC_USER_AGENT_ORIGINAL, h->user_agent);
	if (s->kind == SPAN_KIND_SERVER) {
		span_set_str(s, SC_HTTP_ROUTE, route);
	} else {
		char full[HTTP_TARGET_MAX + HTTP_HOST_MAX + 32];
		const char *host = span_get_str(s, SC_SERVER_ADDRESS);
		int64_t dflt = default_port(c), port = span_get_int(s, SC_SERVER_PORT, dflt);

		if (port != dflt)
			snprintf(full, sizeof(full), "%s://%s:%lld%s%s%s", scheme, host ? host : "",
				 (long long)port, path, query[0] ? "?" : "", query);
		else
			snprintf(full, sizeof(full), "%s://%s%s%s%s", scheme, host ? host : "",
				 path, query[0] ? "?" : "", query);
		span_set_str(s, SC_URL_FULL, full);
	}
	str_words(s->name, sizeof(s->name), h->method, route);

	tp = h->traceparent[0] ? actors_sig(h->traceparent, "") : 0;
	if (h->traceparent[0] &&
	    http_parse_traceparent(h->traceparent, tp_trace, tp_span, &tp_flags)) {
		uint8_t trace_id[16], span_id[8];

		s->trace_flags = tp_flags;
		if (s->kind == SPAN_KIND_SERVER) {
			/* join the caller's trace as its child */
			span_make_child(s, tp_trace, tp_span);
			s->remote_parent = true;
		} else if (actors_forwarded(actors, s->pid, s->actor, tp, trace_id, span_id)) {
			/* a proxy passing on what its caller sent: the child of the request it
			 * serves, with an id of its own (the caller's is taken) */
			span_make_child(s, trace_id, span_id);
			*forwarded = true;
		} else {
			memcpy(s->trace_id, tp_trace, 16);
			/* the caller propagates its own context: the id it sends downstream is this
			 * call's span, so the downstream server span parents to it */
			memcpy(s->span_id, tp_span, 8);
		}
	}
	if (s->kind == SPAN_KIND_CLIENT && !s->has_parent) {
		uint8_t trace_id[16], span_id[8];

		/* a call another goroutine handed over for this socket, else its own actor's */
		if (!h->traceparent[0] &&
		    ((x->fd >= 0 && actors_call_parent(actors, s->pid, x->fd, trace_id, span_id)) ||
		     actors_parent(actors, s->pid, s->actor, *sig, trace_id, span_id)))
			span_make_child(s, trace_id, span_id);
	}
	if (s->kind == SPAN_KIND_SERVER)
		actors_span_enter(actors, s->pid, s->actor, s->trace_id, s->span_id, *sig, tp);
}

void http_span_status(struct span *s, int status)
{
	char err[8];

	span_set_int(s, SC_HTTP_RESPONSE_STATUS_CODE, status);
	if (status >= 500 || (s->kind == SPAN_KIND_CLIENT && status >= 400)) {
		s->error = true;
		str_int(err, sizeof(err), status);
		span_set_str(s, SC_ERROR_TYPE, err);
	}
}
