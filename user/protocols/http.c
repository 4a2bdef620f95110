// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/http_genai.h"
#include "protocols/http_parser.h"
#include "protocols/http_span.h"

struct pending {
	struct pending *next;
	enum conn_dir dir;   /* direction the request travelled */
	bool head_only;	     /* HEAD: the response has no body */
	bool stitched;	     /* paired with the request at the other end of the connection */
	bool forwarded;	     /* a client request passing on the traceparent its caller sent */
	uint64_t sig;	     /* actors_sig() of its request line */
	uint64_t hold_until; /* while held: until when, and the connection's address pair */
	struct conn_meta hold_meta;
	/* a client request that may be an LLM API call: what its bodies say (NULL: not one) */
	struct genai_call *ai;
	struct span span;
};

struct dir_state {
	enum http_kind last_kind;
	bool informational;	    /* the last head was a 1xx response */
	struct pending *responding; /* the request the response being read answers */
	struct pending *sending;    /* the request whose body is being read, when scanned */
	uint64_t head_ts; /* when the first byte of a head still being collected arrived */
};

/* A connection's HTTP state, hung off its entry in the connection table. */
/* Bytes of one event, kept (struct http_conn's early). */
struct early {
	struct early *next;
	struct conn_data d; /* d.data points at bytes */
	uint8_t bytes[];
};

struct http_conn {
	struct conn *conn; /* identity, ends, tls */
	/* a response that came before its request, oldest event first */
	struct early *early, *early_tail;
	size_t early_bytes;
	struct pending *head, *tail;
	unsigned npending;
	struct dir_state ds[2];
	struct http_stream st[2];
};

struct http_tracker {
	struct http_tracker_ops ops;
	struct conn_table *conns;
	struct conn_proto proto;
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
	enum conn_dir dir;
	uint32_t tid;
	uint64_t actor; /* conn_data_actor() of the event */
	int fd;		/* its socket, -1 when unknown */
	uint64_t ts;
	uint64_t head_ts; /* first byte of the head being parsed */
	unsigned heads;	  /* heads reported by this feed */
};

static void pending_recycle(struct http_tracker *t, struct pending *p)
{
	free(p->ai);
	p->ai = NULL;
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
		actors_span_leave(conn_table_actors(t->conns), p->span.pid, p->span.actor,
				  p->span.span_id);
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

static void early_free(struct http_conn *c)
{
	struct early *e, *n;

	for (e = c->early; e; e = n) {
		n = e->next;
		free(e);
	}
	c->early = c->early_tail = NULL;
	c->early_bytes = 0;
}

static void conn_free(struct http_tracker *t, struct http_conn *c)
{
	struct pending *p, *n;

	early_free(c);
	for (p = c->head; p; p = n) {
		n = p->next;
		t->stats.aborted++;
		pending_drop(t, p);
	}
	http_stream_free(&c->st[0]);
	http_stream_free(&c->st[1]);
	free(c);
}

/* The HTTP state of the other end of c's connection, when a watched process holds it. */
static struct http_conn *http_peer(struct http_tracker *t, const struct http_conn *c)
{
	struct conn *p = conn_table_peer(t->conns, c->conn);

	return p && p->proto == &t->proto ? p->state : NULL;
}

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d);
static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns);

struct http_tracker *http_tracker_new(const struct http_tracker_ops *ops, struct conn_table *conns)
{
	struct http_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->conns = conns;
	t->proto = (struct conn_proto){
		.name = "http", .data = on_data, .close = on_close, .tracker = t
	};
	if (conn_table_register(conns, &t->proto)) {
		free(t);
		return NULL;
	}
	return t;
}

void http_tracker_free(struct http_tracker *t)
{
	if (!t)
		return;
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
	if (conn_table_peer(t->conns, c->conn))
		return true;
	return t->nheld < HTTP_MAX_HELD_GUESS && is_local_addr(c->conn->meta.remote_addr);
}

static void emit_span(struct http_tracker *t, const struct span *s)
{
	if (t->ops.span)
		t->ops.span(t->ops.ctx, s);
}

/* The held server span served on the other end of the client connection m, if any, becomes
 * the child of client and leaves now. */
static bool adopt_held(struct http_tracker *t, const struct conn_meta *m, const struct pending *me)
{
	const struct span *client = &me->span;
	struct pending *prev = NULL, *p;

	for (p = t->held; p && !conn_meta_other_end(&p->hold_meta, m); p = p->next)
		prev = p;
	/* the same request line at both ends, or an event was lost: pairing by order would be
	 * off by one from then on */
	if (!p || p->sig != me->sig)
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

/*
 * Both ends of one connection watched: the server's request is the child of the client's. The
 * two sides' events can reach us in either order (the reader may run before the writer's
 * syscall returns), so whichever request starts second looks for the oldest unpaired one of
 * the other kind at the other end; requests keep their order on a connection.
 */
static void stitch(struct http_tracker *t, struct http_conn *c, struct pending *me)
{
	struct http_conn *peer = http_peer(t, c);
	enum span_kind want = me->span.kind == SPAN_KIND_SERVER ? SPAN_KIND_CLIENT
								: SPAN_KIND_SERVER;
	struct pending *p;
	struct span *server, *client;
	bool forwarded;

	/* the server end may have finished already, or even be gone */
	if (want == SPAN_KIND_SERVER && c->conn->have_meta && !c->conn->meta.is_unix &&
	    adopt_held(t, &c->conn->meta, me)) {
		me->stitched = true;
		return;
	}
	if (!peer)
		return;
	for (p = peer->head; p; p = p->next)
		if (p->span.kind == want && !p->stitched)
			break;
	if (!p || p->sig != me->sig)
		return;
	server = want == SPAN_KIND_SERVER ? &p->span : &me->span;
	client = want == SPAN_KIND_SERVER ? &me->span : &p->span;
	forwarded = want == SPAN_KIND_SERVER ? me->forwarded : p->forwarded;
	/* a server that joined a trace through traceparent keeps it, unless that came from a
	 * proxy at the other end passing on its own caller's: then the proxy's call is the parent */
	if (server->has_parent && !(forwarded && server->remote_parent))
		return;
	p->stitched = me->stitched = true;
	span_make_child(server, client->trace_id, client->span_id);
	server->remote_parent = false;
	actors_span_retrace(conn_table_actors(t->conns), server->pid, server->actor,
			    server->span_id, server->trace_id);
}

static int start_request(struct feed_ctx *f, const struct http_head *h)
{
	struct http_tracker *t = f->t;
	struct http_conn *c = f->c;
	const struct http_span_ctx x = {
		.conns = t->conns,
		.conn = c->conn,
		.route = t->ops.route,
		.route_ctx = t->ops.ctx,
		.dir = f->dir,
		.tid = f->tid,
		.actor = f->actor,
		.fd = f->fd,
		.ts = f->head_ts,
		.version = h->version == 10 ? "1.0" : "1.1",
	};
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
	http_span_request(&x, h, s, &p->sig, &p->forwarded);
	p->ai = genai_call_start(s, h->method, h->content_type);
	if (p->ai)
		c->ds[f->dir].sending = p;

	if (c->tail)
		c->tail->next = p;
	else
		c->head = p;
	c->tail = p;
	c->npending++;
	if (!s->has_parent || s->kind == SPAN_KIND_CLIENT || s->remote_parent)
		stitch(t, c, p);
	return HTTP_BODY_DEFAULT;
}

static int start_response(struct feed_ctx *f, const struct http_head *h)
{
	struct dir_state *ds = &f->c->ds[f->dir];
	struct pending *p = f->c->head;

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
	http_span_status(&p->span, h->status);
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
	ds->sending = NULL;
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
	if (p->ai) {
		/* answered before its body was all sent (a 413): no more of it is looked at */
		if (c->ds[p->dir].sending == p)
			c->ds[p->dir].sending = NULL;
		genai_call_end(p->ai, &p->span);
		p->ai = NULL;
	}
	/* The client end's events may still be on their way, even its connect() (the reader
	 * can run before the writer's syscall returns): a span served to a local client waits
	 * a moment for them rather than lose its parent. */
	if (p->span.kind == SPAN_KIND_SERVER && !p->stitched && !p->span.has_parent &&
	    c->conn->have_meta && !c->conn->meta.is_unix && should_hold(f->t, c)) {
		actors_span_leave(conn_table_actors(f->t->conns), p->span.pid, p->span.actor,
				  p->span.span_id);
		p->hold_meta = c->conn->meta;
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

/* Body bytes: scanned when they belong to a request that may be an LLM API call, or to its
 * answer. */
static void on_body(void *ctx, const uint8_t *data, size_t len)
{
	struct feed_ctx *f = ctx;
	struct dir_state *ds = &f->c->ds[f->dir];
	struct pending *p = ds->last_kind == HTTP_REQUEST ? ds->sending : ds->responding;

	if (p && p->ai)
		genai_body_feed(ds->last_kind == HTTP_REQUEST ? &p->ai->req : &p->ai->resp, data,
				len);
}

static const struct http_stream_ops stream_ops = {
	.on_head = on_head,
	.on_complete = on_complete,
	.on_error = on_error,
	.on_truncated = on_truncated,
	.on_body = on_body,
};

static void feed(struct http_tracker *t, struct conn *cn, const struct conn_data *d);

/* Whether d starts a response on a connection where no request travelled the other way yet:
 * its request's event may still be on its way. */
static bool too_early(const struct http_conn *c, const struct conn_data *d)
{
	if (c->early)
		return c->early->d.dir == d->dir;
	return d->len >= 5 && !memcmp(d->data, "HTTP/", 5) && c->st[d->dir].state == HTTP_ST_IDLE &&
	       (!c->head || c->head->dir == d->dir);
}

/* Keeps d for later; false when it cannot (too much kept already, or no memory). */
static bool keep_early(struct http_conn *c, const struct conn_data *d)
{
	struct early *e;

	if (c->early_bytes + d->len > HTTP_EARLY_MAX || !(e = malloc(sizeof(*e) + d->len)))
		return false;
	e->next = NULL;
	e->d = *d;
	memcpy(e->bytes, d->data, d->len);
	e->d.data = e->bytes;
	if (c->early_tail)
		c->early_tail->next = e;
	else
		c->early = e;
	c->early_tail = e;
	c->early_bytes += d->len;
	return true;
}

/* Feeds what was kept, in order: its request came, or waiting is over. */
static void replay_early(struct http_tracker *t, struct conn *cn, struct http_conn *c)
{
	struct early *e = c->early, *n;

	c->early = c->early_tail = NULL;
	c->early_bytes = 0;
	for (; e; e = n) {
		n = e->next;
		feed(t, cn, &e->d);
		free(e);
	}
}

/* The HTTP state of cn, made on its first bytes; NULL without memory. */
static struct http_conn *state_of(struct http_tracker *t, struct conn *cn)
{
	struct http_conn *c = cn->state;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->conn = cn;
	http_stream_init(&c->st[0]);
	http_stream_init(&c->st[1]);
	cn->state = c;
	t->stats.conns++;
	return c;
}

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d)
{
	struct http_tracker *t = tracker;
	struct http_conn *c = state_of(t, cn);

	if (!c)
		return;
	if (too_early(c, d)) {
		if (keep_early(c, d))
			return;
		replay_early(t, cn, c); /* too much: it answers nothing we will see */
	}
	feed(t, cn, d);
	/* the request those bytes answer came */
	if (c->early && c->head && c->head->dir != c->early->d.dir) {
		t->stats.early++;
		replay_early(t, cn, c);
	}
}

static void feed(struct http_tracker *t, struct conn *cn, const struct conn_data *d)
{
	struct feed_ctx f = { .t = t,
			      .dir = d->dir,
			      .tid = d->tid,
			      .actor = conn_data_actor(d),
			      .fd = d->fd,
			      .ts = d->ts_ns,
			      .head_ts = d->ts_ns };
	struct http_stream *st;
	struct dir_state *ds;
	bool cont;

	f.c = cn->state;
	st = &f.c->st[d->dir];
	ds = &f.c->ds[d->dir];
	/* a request starts when its first byte arrives, not when its head is complete */
	cont = st->state == HTTP_ST_HEAD;
	if (cont)
		f.head_ts = ds->head_ts;
	http_stream_feed(st, d->data, d->len, d->total, &stream_ops, &f);
	if (st->state == HTTP_ST_HEAD && (!cont || f.heads))
		ds->head_ts = d->ts_ns;
}

/* The connection ended (ts_ns 0: dropped from the table, nothing more to read). */
static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns)
{
	struct http_tracker *t = tracker;
	struct http_conn *c = cn->state;
	struct feed_ctx f = { .t = t, .c = c, .ts = ts_ns, .head_ts = ts_ns };

	if (!c)
		return;
	if (ts_ns && c->early)
		replay_early(t, cn, c); /* unpaired, as they would have been */
	for (f.dir = CONN_DIR_IN; ts_ns && f.dir <= CONN_DIR_OUT; f.dir++) {
		f.tid = c->ds[f.dir].responding ? c->ds[f.dir].responding->span.tid : 0;
		f.actor = c->ds[f.dir].responding ? c->ds[f.dir].responding->span.actor : 0;
		http_stream_close(&c->st[f.dir], &stream_ops, &f);
	}
	cn->state = NULL;
	t->stats.conns--;
	conn_free(t, c);
}

void http_tracker_get_stats(const struct http_tracker *t, struct http_tracker_stats *out)
{
	*out = t->stats;
}
