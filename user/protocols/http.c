// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http_parser.h"
#include "pipeline/route.h"
#include "pipeline/semconv.h"

#define CONN_BUCKETS 4096
#define TID_BUCKETS 1024

struct pending {
	struct pending *next;
	enum http_dir dir;   /* direction the request travelled */
	bool head_only;	     /* HEAD: the response has no body */
	bool stitched;	     /* paired with the request at the other end of the connection */
	uint64_t hold_until; /* while held: until when, and the connection's address pair */
	struct conn_meta hold_meta;
	struct span span;
};

struct dir_state {
	enum http_kind last_kind;
	bool informational;	    /* the last head was a 1xx response */
	struct pending *responding; /* the request the response being read answers */
	uint64_t head_ts; /* when the first byte of a head still being collected arrived */
};

struct http_conn {
	struct http_conn *hnext;
	struct http_conn *lru_prev, *lru_next;
	struct http_conn *tnext; /* in the tuple index, while it has TCP addresses */
	bool in_tuples;
	uint64_t id;
	uint32_t pid;
	bool have_meta;
	bool tls; /* its bytes came decrypted from a TLS library: https */
	enum conn_proto proto;
	struct conn_meta meta;
	struct pending *head, *tail;
	unsigned npending;
	struct dir_state ds[2];
	struct http_stream st[2];
};

/* Server spans in flight per thread: a client call made by a thread that serves exactly one
 * request is that request's child (thread-per-request servers). */
struct tid_active {
	struct tid_active *next;
	uint32_t tid;
	unsigned count;
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

struct http_tracker {
	struct http_tracker_ops ops;
	size_t max_conns;
	struct http_conn *buckets[CONN_BUCKETS];
	/* connections by (local, remote) address: both ends of a loopback or same-host connection
	 * may be watched, and then the server's span belongs to the client's trace */
	struct http_conn *tuples[CONN_BUCKETS];
	struct http_conn lru; /* sentinel: lru.lru_next is the least recently used */
	struct tid_active *tids[TID_BUCKETS];
	struct http_tracker_stats stats;
	/* Finished server spans whose client end is watched but whose client request has not
	 * been seen yet, oldest first: held a moment rather than sent without their parent. */
	struct pending *held, *held_tail;
	size_t nheld;
	/* Spent requests kept for reuse: one per request is too much malloc churn at 50k/s. */
	struct pending *spare;
	unsigned nspare;
};

#define MAX_SPARE 256

/* What the parser callbacks need to know about the event being fed. */
struct feed_ctx {
	struct http_tracker *t;
	struct http_conn *c;
	enum http_dir dir;
	uint32_t tid;
	uint64_t ts;
	uint64_t head_ts; /* first byte of the head being parsed */
	unsigned heads;	  /* heads reported by this feed */
};

static size_t conn_bucket(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 52) % CONN_BUCKETS;
}

static void lru_unlink(struct http_conn *c)
{
	c->lru_prev->lru_next = c->lru_next;
	c->lru_next->lru_prev = c->lru_prev;
}

static void lru_push(struct http_tracker *t, struct http_conn *c)
{
	c->lru_prev = t->lru.lru_prev;
	c->lru_next = &t->lru;
	t->lru.lru_prev->lru_next = c;
	t->lru.lru_prev = c;
}

static struct tid_active **tid_slot(struct http_tracker *t, uint32_t tid)
{
	struct tid_active **pp = &t->tids[tid % TID_BUCKETS];

	while (*pp && (*pp)->tid != tid)
		pp = &(*pp)->next;
	return pp;
}

static void tid_enter(struct http_tracker *t, const struct span *s)
{
	struct tid_active **pp = tid_slot(t, s->tid), *a = *pp;

	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return;
		a->tid = s->tid;
		*pp = a;
	}
	a->count++;
	memcpy(a->trace_id, s->trace_id, 16);
	memcpy(a->span_id, s->span_id, 8);
}

static void tid_leave(struct http_tracker *t, const struct span *s)
{
	struct tid_active **pp = tid_slot(t, s->tid), *a = *pp;

	if (!a)
		return;
	if (--a->count == 0) {
		*pp = a->next;
		free(a);
	}
}

static const struct tid_active *tid_sole_parent(struct http_tracker *t, uint32_t tid)
{
	struct tid_active *a = *tid_slot(t, tid);

	return a && a->count == 1 ? a : NULL;
}

static void pending_recycle(struct http_tracker *t, struct pending *p)
{
	if (t->nspare < MAX_SPARE) {
		p->next = t->spare;
		t->spare = p;
		t->nspare++;
		return;
	}
	free(p);
}

static void pending_drop(struct http_tracker *t, struct pending *p)
{
	if (p->span.kind == SPAN_KIND_SERVER)
		tid_leave(t, &p->span);
	pending_recycle(t, p);
}

static struct pending *pending_new(struct http_tracker *t)
{
	struct pending *p = t->spare;

	if (!p)
		return malloc(sizeof(*p));
	t->spare = p->next;
	t->nspare--;
	return p;
}

static void conn_free(struct http_tracker *t, struct http_conn *c)
{
	struct pending *p, *n;

	for (p = c->head; p; p = n) {
		n = p->next;
		t->stats.aborted++;
		pending_drop(t, p);
	}
	http_stream_free(&c->st[0]);
	http_stream_free(&c->st[1]);
	free(c);
}

static struct http_conn **conn_slot(struct http_tracker *t, uint64_t id)
{
	struct http_conn **pp = &t->buckets[conn_bucket(id)];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->hnext;
	return pp;
}

static size_t tuple_bucket(const char *la, int lp, const char *ra, int rp)
{
	uint64_t h = 1469598103934665603ull;
	const char *p;

	for (p = la; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ (uint64_t)lp) * 1099511628211ull;
	for (p = ra; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ (uint64_t)rp) * 1099511628211ull;
	return (size_t)(h % CONN_BUCKETS);
}

static void tuple_unlink(struct http_tracker *t, struct http_conn *c)
{
	struct http_conn **pp;

	if (!c->in_tuples)
		return;
	pp = &t->tuples[tuple_bucket(c->meta.local_addr, c->meta.local_port, c->meta.remote_addr,
				     c->meta.remote_port)];
	while (*pp && *pp != c)
		pp = &(*pp)->tnext;
	if (*pp)
		*pp = c->tnext;
	c->in_tuples = false;
}

static void tuple_link(struct http_tracker *t, struct http_conn *c)
{
	size_t b;

	if (c->meta.is_unix || !c->meta.local_addr[0] || !c->meta.remote_addr[0])
		return;
	b = tuple_bucket(c->meta.local_addr, c->meta.local_port, c->meta.remote_addr,
			 c->meta.remote_port);
	c->tnext = t->tuples[b];
	t->tuples[b] = c;
	c->in_tuples = true;
}

/* Whether a and b are the two ends of one TCP connection. */
static bool other_end(const struct conn_meta *a, const struct conn_meta *b)
{
	return a->local_port == b->remote_port && a->remote_port == b->local_port &&
	       !strcmp(a->local_addr, b->remote_addr) && !strcmp(a->remote_addr, b->local_addr);
}

/* The other end of c, when a watched process holds it too. */
static struct http_conn *tuple_peer(struct http_tracker *t, const struct http_conn *c)
{
	const struct conn_meta *m = &c->meta;
	struct http_conn *p;

	if (!c->in_tuples)
		return NULL;
	p = t->tuples[tuple_bucket(m->remote_addr, m->remote_port, m->local_addr, m->local_port)];
	for (; p; p = p->tnext)
		if (p != c && other_end(&p->meta, m))
			return p;
	return NULL;
}

static void conn_remove(struct http_tracker *t, struct http_conn *c)
{
	struct http_conn **pp = conn_slot(t, c->id);

	tuple_unlink(t, c);
	if (*pp == c)
		*pp = c->hnext;
	lru_unlink(c);
	t->stats.conns--;
	conn_free(t, c);
}

static struct http_conn *conn_get(struct http_tracker *t, uint64_t id, uint32_t pid, bool create)
{
	struct http_conn **pp = conn_slot(t, id), *c = *pp;

	if (c) {
		lru_unlink(c);
		lru_push(t, c);
		return c;
	}
	if (!create)
		return NULL;
	if (t->stats.conns >= t->max_conns && t->lru.lru_next != &t->lru) {
		t->stats.conns_evicted++;
		conn_remove(t, t->lru.lru_next);
		pp = conn_slot(t, id);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->pid = pid;
	http_stream_init(&c->st[0]);
	http_stream_init(&c->st[1]);
	*pp = c;
	lru_push(t, c);
	t->stats.conns++;
	return c;
}

struct http_tracker *http_tracker_new(const struct http_tracker_ops *ops, size_t max_conns)
{
	struct http_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->max_conns = max_conns ? max_conns : 1;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	return t;
}

void http_tracker_free(struct http_tracker *t)
{
	struct tid_active *a, *n;
	size_t i;

	if (!t)
		return;
	while (t->lru.lru_next != &t->lru)
		conn_remove(t, t->lru.lru_next);
	for (i = 0; i < TID_BUCKETS; i++)
		for (a = t->tids[i]; a; a = n) {
			n = a->next;
			free(a);
		}
	/* the caller flushed what it wanted sent: the sink may be gone by now */
	while (t->held) {
		struct pending *p = t->held;

		t->held = p->next;
		free(p);
	}
	while (t->spare) {
		struct pending *p = t->spare;

		t->spare = p->next;
		free(p);
	}
	free(t);
}

void http_tracker_mark_tls(struct http_tracker *t, uint64_t conn_id, uint32_t pid)
{
	struct http_conn *c = conn_get(t, conn_id, pid, true);

	if (c)
		c->tls = true;
}

void http_tracker_open(struct http_tracker *t, const struct conn_meta *m)
{
	struct http_conn *c = conn_get(t, m->conn_id, m->pid, true);

	if (!c)
		return;
	tuple_unlink(t, c);
	c->meta = *m;
	c->have_meta = true;
	tuple_link(t, c);
}

enum conn_proto *http_tracker_proto(struct http_tracker *t, uint64_t conn_id, uint32_t pid,
				    const struct conn_meta **meta)
{
	struct http_conn *c = conn_get(t, conn_id, pid, true);

	if (!c)
		return NULL;
	*meta = c->have_meta ? &c->meta : NULL;
	return &c->proto;
}

bool http_tracker_thread_parent(struct http_tracker *t, uint32_t tid, uint8_t trace_id[16],
				uint8_t span_id[8])
{
	const struct tid_active *a = tid_sole_parent(t, tid);

	if (!a)
		return false;
	memcpy(trace_id, a->trace_id, 16);
	memcpy(span_id, a->span_id, 8);
	return true;
}

static bool is_local_addr(const char *a)
{
	return !strncmp(a, "127.", 4) || !strcmp(a, "::1") || !strncmp(a, "::ffff:127.", 11);
}

/* A known watched client end always earns the wait; an unknown local one (most often a load
 * generator nobody watches) only while few spans wait, so that a busy local benchmark pays
 * little for the chance that its client is a watched process not seen yet. */
static bool should_hold(struct http_tracker *t, const struct http_conn *c)
{
	if (t->nheld >= HTTP_MAX_HELD)
		return false;
	if (tuple_peer(t, c))
		return true;
	return t->nheld < HTTP_MAX_HELD_GUESS && is_local_addr(c->meta.remote_addr);
}

static void emit_span(struct http_tracker *t, const struct span *s)
{
	if (t->ops.span)
		t->ops.span(t->ops.ctx, s);
}

/* The held server span served on the other end of the client connection m, if any, becomes
 * the child of client and leaves now. */
static bool adopt_held(struct http_tracker *t, const struct conn_meta *m, const struct span *client)
{
	struct pending *prev = NULL, *p;

	for (p = t->held; p && !other_end(&p->hold_meta, m); p = p->next)
		prev = p;
	if (!p)
		return false;
	if (prev)
		prev->next = p->next;
	else
		t->held = p->next;
	if (t->held_tail == p)
		t->held_tail = prev;
	t->nheld--;
	span_make_child(&p->span, client->trace_id, client->span_id);
	emit_span(t, &p->span);
	pending_recycle(t, p);
	return true;
}

void http_tracker_flush_held(struct http_tracker *t, uint64_t now_ns)
{
	while (t->held && t->held->hold_until <= now_ns) {
		struct pending *p = t->held;

		t->held = p->next;
		if (!t->held)
			t->held_tail = NULL;
		t->nheld--;
		emit_span(t, &p->span);
		pending_recycle(t, p);
	}
}

static void tid_retrace(struct http_tracker *t, const struct span *s)
{
	struct tid_active *a = *tid_slot(t, s->tid);

	if (a && !memcmp(a->span_id, s->span_id, 8))
		memcpy(a->trace_id, s->trace_id, 16);
}

/*
 * Both ends of one connection watched: the server's request is the child of the client's. The
 * two sides' events can reach us in either order (the reader may run before the writer's
 * syscall returns), so whichever request starts second looks for the oldest unpaired one of
 * the other kind at the other end; requests keep their order on a connection.
 */
static void stitch(struct http_tracker *t, struct http_conn *c, struct pending *me)
{
	struct http_conn *peer = tuple_peer(t, c);
	enum span_kind want = me->span.kind == SPAN_KIND_SERVER ? SPAN_KIND_CLIENT
								: SPAN_KIND_SERVER;
	struct pending *p;
	struct span *server, *client;

	/* the server end may have finished already, or even be gone */
	if (want == SPAN_KIND_SERVER && c->have_meta && !c->meta.is_unix &&
	    adopt_held(t, &c->meta, &me->span)) {
		me->stitched = true;
		return;
	}
	if (!peer)
		return;
	for (p = peer->head; p; p = p->next)
		if (p->span.kind == want && !p->stitched)
			break;
	if (!p)
		return;
	server = want == SPAN_KIND_SERVER ? &p->span : &me->span;
	client = want == SPAN_KIND_SERVER ? &me->span : &p->span;
	/* a server that joined a trace through traceparent keeps it */
	if (server->has_parent)
		return;
	p->stitched = me->stitched = true;
	span_make_child(server, client->trace_id, client->span_id);
	tid_retrace(t, server);
}

/* The port a URL of this connection's scheme implies. */
static int default_port(const struct http_conn *c)
{
	return c->tls ? 443 : 80;
}

static void set_peer_attrs(struct span *s, const struct http_conn *c, const struct http_head *h)
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
	snprintf(host, sizeof(host), "%s", h->host);
	colon = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
	if (colon && host[0] == '[') {
		*colon = '\0';
		memmove(host, host + 1, strlen(host));
		colon = colon[1] == ':' ? colon + 1 : NULL;
		if (colon)
			port = strtol(colon + 1, NULL, 10);
	} else if (colon) {
		*colon = '\0';
		port = strtol(colon + 1, NULL, 10);
	}
	if (!host[0] && c->have_meta && !c->meta.is_unix) {
		snprintf(host, sizeof(host), "%s",
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

static int start_request(struct feed_ctx *f, const struct http_head *h)
{
	struct http_tracker *t = f->t;
	struct http_conn *c = f->c;
	const char *scheme = c->tls ? "https" : "http";
	char path[HTTP_TARGET_MAX], query[HTTP_TARGET_MAX], folded[ROUTE_MAX];
	const char *route = NULL;
	uint8_t tp_trace[16], tp_span[8], tp_flags;
	struct pending *p;
	struct span *s;

	if (c->npending >= HTTP_MAX_PENDING) {
		t->stats.pending_full++;
		return HTTP_BODY_DEFAULT;
	}
	p = pending_new(t);
	if (!p)
		return HTTP_BODY_DEFAULT;
	p->next = NULL;
	p->dir = f->dir;
	p->head_only = strcmp(h->method, "HEAD") == 0;
	p->stitched = false;
	s = &p->span;
	span_init(s, f->dir == HTTP_DIR_IN ? SPAN_KIND_SERVER : SPAN_KIND_CLIENT);
	s->pid = c->pid;
	s->tid = f->tid;
	s->start_ns = f->head_ts;

	route_split_target(h->target, path, sizeof(path), query, sizeof(query));
	route_fold(path, folded, sizeof(folded));
	if (t->ops.route)
		route = t->ops.route(t->ops.ctx, c->pid, folded);
	if (!route)
		route = folded;

	span_set_str(s, SC_HTTP_REQUEST_METHOD, h->method);
	span_set_str(s, SC_URL_PATH, path);
	if (query[0])
		span_set_str(s, SC_URL_QUERY, query);
	span_set_str(s, SC_NETWORK_PROTOCOL_VERSION, h->version == 10 ? "1.0" : "1.1");
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
	snprintf(s->name, sizeof(s->name), "%s %s", h->method, route);

	if (h->traceparent[0] &&
	    http_parse_traceparent(h->traceparent, tp_trace, tp_span, &tp_flags)) {
		s->trace_flags = tp_flags;
		if (s->kind == SPAN_KIND_SERVER) {
			/* join the caller's trace as its child */
			span_make_child(s, tp_trace, tp_span);
			s->remote_parent = true;
		} else {
			memcpy(s->trace_id, tp_trace, 16);
			/* the caller propagates its own context: the id it sends downstream is this
			 * call's span, so the downstream server span parents to it */
			memcpy(s->span_id, tp_span, 8);
		}
	}
	if (s->kind == SPAN_KIND_CLIENT && !s->has_parent) {
		const struct tid_active *a = tid_sole_parent(t, f->tid);

		if (a && !h->traceparent[0])
			span_make_child(s, a->trace_id, a->span_id);
	}
	if (s->kind == SPAN_KIND_SERVER)
		tid_enter(t, s);

	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->npending++;
	if (!s->has_parent || s->kind == SPAN_KIND_CLIENT)
		stitch(t, c, p);
	return HTTP_BODY_DEFAULT;
}

static int start_response(struct feed_ctx *f, const struct http_head *h)
{
	struct dir_state *ds = &f->c->ds[f->dir];
	struct pending *p = f->c->head;
	struct span *s;
	char err[8];

	if (h->status >= 100 && h->status < 200 && h->status != 101) {
		ds->informational = true;
		return HTTP_BODY_DEFAULT;
	}
	/* answers the oldest request that travelled the other way */
	if (!p || p->dir == f->dir) {
		f->t->stats.unpaired++;
		ds->responding = NULL;
		return HTTP_BODY_DEFAULT;
	}
	ds->responding = p;
	s = &p->span;
	span_set_int(s, SC_HTTP_RESPONSE_STATUS_CODE, h->status);
	if (h->status >= 500 || (s->kind == SPAN_KIND_CLIENT && h->status >= 400)) {
		s->error = true;
		snprintf(err, sizeof(err), "%d", h->status);
		span_set_str(s, SC_ERROR_TYPE, err);
	}
	return p->head_only ? HTTP_BODY_NONE : HTTP_BODY_DEFAULT;
}

static int on_head(void *ctx, const struct http_head *h)
{
	struct feed_ctx *f = ctx;
	struct dir_state *ds = &f->c->ds[f->dir];

	f->heads++;
	ds->last_kind = h->kind;
	ds->informational = false;
	ds->responding = NULL;
	if (h->kind == HTTP_REQUEST) {
		int mode = start_request(f, h);

		f->head_ts = f->ts; /* a later head in this event began in this event */
		return mode;
	}
	return start_response(f, h);
}

static void finish(struct feed_ctx *f, struct pending *p)
{
	struct http_conn *c = f->c;

	/* responses come in request order: p is the head of the queue */
	if (c->head != p)
		return;
	c->head = p->next;
	if (!c->head)
		c->tail = NULL;
	c->npending--;
	p->span.end_ns = f->ts > p->span.start_ns ? f->ts : p->span.start_ns;
	/* The client end's events may still be on their way, even its connect() (the reader
	 * can run before the writer's syscall returns): a span served to a local client waits
	 * a moment for them rather than lose its parent. */
	if (p->span.kind == SPAN_KIND_SERVER && !p->stitched && !p->span.has_parent &&
	    c->have_meta && !c->meta.is_unix && should_hold(f->t, c)) {
		tid_leave(f->t, &p->span);
		p->hold_meta = c->meta;
		p->hold_until = f->ts + HTTP_HOLD_NS;
		p->next = NULL;
		if (f->t->held_tail)
			f->t->held_tail->next = p;
		else
			f->t->held = p;
		f->t->held_tail = p;
		f->t->nheld++;
		return;
	}
	emit_span(f->t, &p->span);
	pending_drop(f->t, p);
}

static void on_complete(void *ctx, bool clean)
{
	struct feed_ctx *f = ctx;
	struct dir_state *ds = &f->c->ds[f->dir];
	struct pending *p = ds->responding;

	(void)clean;
	if (ds->last_kind != HTTP_RESPONSE || ds->informational || !p)
		return;
	ds->responding = NULL;
	finish(f, p);
}

static void on_error(void *ctx)
{
	struct feed_ctx *f = ctx;

	f->t->stats.parse_errors++;
}

static void on_truncated(void *ctx)
{
	struct feed_ctx *f = ctx;

	f->t->stats.truncated++;
}

static const struct http_stream_ops stream_ops = {
	.on_head = on_head,
	.on_complete = on_complete,
	.on_error = on_error,
	.on_truncated = on_truncated,
};

void http_tracker_data(struct http_tracker *t, uint64_t conn_id, uint32_t pid, uint32_t tid,
		       uint64_t ts_ns, enum http_dir dir, const uint8_t *data, size_t len,
		       uint64_t total)
{
	struct feed_ctx f = { .t = t, .dir = dir, .tid = tid, .ts = ts_ns, .head_ts = ts_ns };
	struct http_stream *st;
	struct dir_state *ds;
	bool cont;

	f.c = conn_get(t, conn_id, pid, true);
	if (!f.c)
		return;
	st = &f.c->st[dir];
	ds = &f.c->ds[dir];
	/* a request starts when its first byte arrives, not when its head is complete */
	cont = st->state == HTTP_ST_HEAD;
	if (cont)
		f.head_ts = ds->head_ts;
	http_stream_feed(st, data, len, total, &stream_ops, &f);
	if (st->state == HTTP_ST_HEAD && (!cont || f.heads))
		ds->head_ts = ts_ns;
}

static void close_conn(struct http_tracker *t, struct http_conn *c, uint64_t ts_ns)
{
	struct feed_ctx f = { .t = t, .c = c, .ts = ts_ns, .head_ts = ts_ns };

	for (f.dir = HTTP_DIR_IN; f.dir <= HTTP_DIR_OUT; f.dir++) {
		f.tid = c->ds[f.dir].responding ? c->ds[f.dir].responding->span.tid : 0;
		http_stream_close(&c->st[f.dir], &stream_ops, &f);
	}
	conn_remove(t, c);
}

void http_tracker_close(struct http_tracker *t, uint64_t conn_id, uint64_t ts_ns)
{
	struct http_conn *c = conn_get(t, conn_id, 0, false);

	if (c)
		close_conn(t, c, ts_ns);
}

void http_tracker_proc_exit(struct http_tracker *t, uint32_t pid, uint64_t ts_ns)
{
	struct http_conn *c, *n;

	for (c = t->lru.lru_next; c != &t->lru; c = n) {
		n = c->lru_next;
		if (c->pid == pid)
			close_conn(t, c, ts_ns);
	}
}

void http_tracker_get_stats(const struct http_tracker *t, struct http_tracker_stats *out)
{
	*out = t->stats;
}
