// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/semconv.h"
#include "protocols/h2_parser.h"
#include "protocols/http_genai.h"
#include "protocols/http_span.h"
#include "util/log.h"

/* A stream in flight: its request seen, its response not ended; or a finished server stream
 * held a moment for its client end (tracker's held list). */
struct h2_stream {
	struct h2_stream *next; /* held: the next held */
	uint64_t conn_id;	/* held: the connection it was served on */
	uint64_t hold_until;
	uint32_t id;
	bool grpc;
	bool answered;	       /* a final :status came */
	struct genai_call *ai; /* a client request that may be an LLM API call; NULL: not one */
	struct span span;
};

/* What an answer said on a stream whose request was not read yet, kept to be applied to it. */
enum h2_early_what { EARLY_HEADERS, EARLY_END, EARLY_RST };

struct h2_early_ev {
	enum h2_early_what what;
	bool end_stream;	 /* HEADERS: it ended the stream */
	uint32_t code;		 /* RST_STREAM: its error code */
	uint64_t ts_ns;		 /* of the event that carried it */
	char status[8], grpc[8]; /* HEADERS: :status and grpc-status ("": absent) */
};

/*
 * An answer read before its request: the request's event can come after it (one thread of a
 * client writes the request, another reads the answer, and the reader's syscall may return
 * first), as HTTP/1's early bytes (http.c). Kept until the request comes, HTTP2_HOLD_NS after
 * it was read, a later stream's request, or the end of the connection; then it is unpaired.
 */
struct h2_early {
	struct h2_early *next;
	uint32_t id;
	uint8_t n;
	struct h2_early_ev ev[HTTP2_EARLY_EVENTS];
};

/* A connection's HTTP/2 state, hung off its entry in the connection table. */
struct h2_conn {
	struct conn *conn;
	enum conn_dir req_dir; /* the client's bytes: IN when the watched process serves */
	struct h2_stream_parser p[2];
	struct h2_stream *streams[HTTP2_MAX_STREAMS];
	size_t nstreams;
	uint64_t block_ts[2]; /* when the header block being read in each direction began */
	uint32_t last_req_id; /* the highest stream id a request header block was read on */
	struct h2_early *early;
	size_t nearly;
};

struct http2_tracker {
	struct http_tracker_ops ops;
	struct conn_table *conns;
	struct conn_proto proto;
	struct http2_tracker_stats stats;
	struct h2_work work; /* every connection's parsers decode in it */
	/* Finished server streams whose client end is a watched process whose request was not
	 * read yet (its event can come after the server's answer): held up to HTTP2_HOLD_NS, oldest
	 * first, rather than sent without their parent. */
	struct h2_stream *held, *held_tail;
	size_t nheld;
};

/* The event being fed, for the parser's callbacks. */
struct feed_ctx {
	struct http2_tracker *t;
	struct h2_conn *c;
	const struct conn_data *d;
};

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d);
static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns);
static void early_replay(struct feed_ctx *f, uint32_t id);

/* A server's connection preface: a SETTINGS frame on stream 0 (a server may send it before it
 * reads the client's). */
static bool server_preface(const uint8_t *b, size_t len)
{
	uint32_t flen;

	if (len < H2_FRAME_HEADER_LEN || b[3] != H2_SETTINGS || b[4] || b[5] || b[6] || b[7] ||
	    b[8])
		return false;
	flen = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	return flen % 6 == 0 && flen <= H2_CTRL_FRAME_MAX;
}

/* The first bytes of either end: the client preface, or the server's. */
static bool sniff(enum conn_dir dir, const uint8_t *data, size_t len)
{
	(void)dir;
	return len > 0 && (h2_sniff(data, len) || server_preface(data, len));
}

struct http2_tracker *http2_tracker_new(const struct http_tracker_ops *ops,
					struct conn_table *conns)
{
	struct http2_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->conns = conns;
	t->proto = (struct conn_proto){
		.name = "http2", .sniff = sniff, .data = on_data, .close = on_close, .tracker = t
	};
	if (conn_table_register(conns, &t->proto)) {
		free(t);
		return NULL;
	}
	return t;
}

void http2_tracker_free(struct http2_tracker *t)
{
	if (!t)
		return;
	/* the caller flushed what it wanted sent: the sink may be gone by now */
	while (t->held) {
		struct h2_stream *st = t->held;

		t->held = st->next;
		free(st);
	}
	free(t);
}

static void emit(struct http2_tracker *t, const struct span *s)
{
	t->stats.streams++;
	if (t->ops.span)
		t->ops.span(t->ops.ctx, s);
}

void http2_tracker_flush_held(struct http2_tracker *t, uint64_t now_ns)
{
	while (t->held && t->held->hold_until <= now_ns) {
		struct h2_stream *st = t->held;

		t->held = st->next;
		if (!t->held)
			t->held_tail = NULL;
		t->nheld--;
		emit(t, &st->span);
		free(st);
	}
}

/* The held server stream id served on connection conn_id leaves the list (NULL: none). */
static struct h2_stream *unhold(struct http2_tracker *t, uint64_t conn_id, uint32_t id)
{
	struct h2_stream *prev = NULL, *st;

	for (st = t->held; st && (st->conn_id != conn_id || st->id != id); st = st->next)
		prev = st;
	if (!st)
		return NULL;
	if (prev)
		prev->next = st->next;
	else
		t->held = st->next;
	if (t->held_tail == st)
		t->held_tail = prev;
	t->nheld--;
	return st;
}

void http2_tracker_get_stats(const struct http2_tracker *t, struct http2_tracker_stats *out)
{
	*out = t->stats;
}

static struct h2_stream **find(struct h2_conn *c, uint32_t id)
{
	size_t i;

	for (i = 0; i < c->nstreams; i++)
		if (c->streams[i]->id == id)
			return &c->streams[i];
	return NULL;
}

/* The stream at slot leaves the connection's table; returned. */
static struct h2_stream *detach(struct h2_conn *c, struct h2_stream **slot)
{
	struct h2_stream *st = *slot;

	*slot = c->streams[--c->nstreams];
	return st;
}

/* The stream leaves the connection (freed). */
static void drop(struct h2_conn *c, struct h2_stream **slot)
{
	struct h2_stream *st = detach(c, slot);

	free(st->ai);
	free(st);
}

/* The stream will not be answered, or not that we can see: no span, counted. */
static void abort_stream(struct http2_tracker *t, struct h2_conn *c, struct h2_stream **slot)
{
	const struct span *s = &(*slot)->span;

	if (s->kind == SPAN_KIND_SERVER)
		actors_span_leave(conn_table_actors(t->conns), s->pid, s->actor, s->span_id);
	t->stats.aborted++;
	drop(c, slot);
}

/* The link in c's list to the early answer kept for stream id (*link NULL: none). */
static struct h2_early **early_link(struct h2_conn *c, uint32_t id)
{
	struct h2_early **pp = &c->early;

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

/* The early answer at link, unlinked from c's list. */
static struct h2_early *early_unlink(struct h2_conn *c, struct h2_early **link)
{
	struct h2_early *e = *link;

	*link = e->next;
	c->nearly--;
	return e;
}

/* An early answer that will not be paired: counted as each of its header blocks would have
 * been, freed. */
static void early_unpaired(struct http2_tracker *t, struct h2_early *e)
{
	uint8_t i;

	for (i = 0; i < e->n; i++)
		t->stats.unpaired += e->ev[i].what == EARLY_HEADERS;
	free(e);
}

/* Early answers whose request will not come: read HTTP2_HOLD_NS before now_ns, or on a stream
 * below a request read since (a client opens its streams in order); all of them when now_ns is
 * UINT64_MAX. */
static void early_expire(struct http2_tracker *t, struct h2_conn *c, uint64_t now_ns)
{
	struct h2_early **pp = &c->early, *e;

	while ((e = *pp)) {
		if (now_ns == UINT64_MAX || e->ev[0].ts_ns + HTTP2_HOLD_NS <= now_ns ||
		    e->id <= c->last_req_id)
			early_unpaired(t, early_unlink(c, pp));
		else
			pp = &e->next;
	}
}

/* A slot for what the answer being read says on stream id, whose request was not read: when
 * that request may still come (a stream a client opens, above every request read, the requests
 * still readable) and there is room; NULL: the answer is unpaired now. */
static struct h2_early_ev *early_keep(struct feed_ctx *f, uint32_t id, enum h2_early_what what)
{
	struct h2_conn *c = f->c;
	struct h2_early *e;
	struct h2_early_ev *ev;

	if (f->d->dir == c->req_dir || !(id & 1) || id <= c->last_req_id || c->p[c->req_dir].broken)
		return NULL;
	e = *early_link(c, id);
	if (!e) {
		if (c->nearly == HTTP2_MAX_EARLY || !(e = calloc(1, sizeof(*e))))
			return NULL;
		e->id = id;
		e->next = c->early;
		c->early = e;
		c->nearly++;
	}
	if (e->n == HTTP2_EARLY_EVENTS)
		return NULL;
	ev = &e->ev[e->n++];
	ev->what = what;
	ev->ts_ns = f->d->ts_ns;
	return ev;
}

/* The value of header name in hdrs, copied into out (NUL-terminated, cut to fit); false when
 * it is absent. */
static bool header(const struct h2_header *hdrs, size_t n, const char *name, char *out,
		   size_t outlen)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++) {
		if (hdrs[i].name_len != len || memcmp(hdrs[i].name, name, len))
			continue;
		len = hdrs[i].value_len < outlen - 1 ? hdrs[i].value_len : outlen - 1;
		memcpy(out, hdrs[i].value, len);
		out[len] = '\0';
		return true;
	}
	out[0] = '\0';
	return false;
}

/* rpc.service and rpc.method from a gRPC :path, "/package.Service/Method". */
static void set_grpc(struct span *s, const char *path)
{
	const char *slash = path[0] == '/' ? strchr(path + 1, '/') : NULL;
	char service[128];
	size_t n;

	span_set_str(s, SC_RPC_SYSTEM, "grpc");
	if (!slash || !slash[1])
		return;
	n = (size_t)(slash - path - 1) < sizeof(service) - 1 ? (size_t)(slash - path - 1)
							     : sizeof(service) - 1;
	memcpy(service, path + 1, n);
	service[n] = '\0';
	span_set_str(s, SC_RPC_SERVICE, service);
	span_set_str(s, SC_RPC_METHOD, slash + 1);
	snprintf(s->name, sizeof(s->name), "%s", path + 1);
}

/* The other end of c's connection when a watched process holds it and reads it as HTTP/2. */
static struct conn *h2_peer(struct http2_tracker *t, const struct h2_conn *c)
{
	struct conn *pc = conn_table_peer(t->conns, c->conn);

	return pc && pc->proto == &t->proto ? pc : NULL;
}

/*
 * Both ends of one connection watched (a local client and server): a stream has the same id at
 * both, so the server's span is the child of the client's, whichever end's request was read
 * first, while both are in flight. A server span that already has a parent keeps it.
 */
static void stitch(struct http2_tracker *t, struct h2_conn *c, struct h2_stream *st)
{
	struct conn *pc = h2_peer(t, c);
	struct h2_stream **other, *done;
	struct span *server, *client;

	if (!pc || !pc->state)
		return;
	/* the server end answered already: its span waits for this one */
	if (st->span.kind == SPAN_KIND_CLIENT && (done = unhold(t, pc->id, st->id))) {
		span_make_child(&done->span, st->span.trace_id, st->span.span_id);
		emit(t, &done->span);
		free(done);
		return;
	}
	other = find(pc->state, st->id);
	if (!other || (*other)->span.kind == st->span.kind)
		return;
	server = st->span.kind == SPAN_KIND_SERVER ? &st->span : &(*other)->span;
	client = st->span.kind == SPAN_KIND_SERVER ? &(*other)->span : &st->span;
	if (server->has_parent)
		return;
	span_make_child(server, client->trace_id, client->span_id);
	actors_span_retrace(conn_table_actors(t->conns), server->pid, server->actor,
			    server->span_id, server->trace_id);
}

static void start_stream(struct feed_ctx *f, uint32_t id, const struct h2_header *hdrs, size_t n)
{
	struct h2_conn *c = f->c;
	const struct http_span_ctx x = {
		.conns = f->t->conns,
		.conn = c->conn,
		.route = f->t->ops.route,
		.route_ctx = f->t->ops.ctx,
		.dir = f->d->dir,
		.tid = f->d->tid,
		.actor = conn_data_actor(f->d),
		.fd = f->d->fd,
		.ts = c->block_ts[f->d->dir],
		.version = "2",
	};
	struct http_head h = { .kind = HTTP_REQUEST, .version = 20, .content_length = -1 };
	char ctype[64];
	struct h2_stream *st;
	bool forwarded;
	uint64_t sig; /* HTTP/1 pairs ends by it; a stream's id does that here */

	if (find(c, id))
		return; /* trailers of the request */
	if (c->p[!c->req_dir].broken)
		return; /* its answer could not be read (counted in lost) */
	if (!header(hdrs, n, ":method", h.method, sizeof(h.method)) ||
	    !header(hdrs, n, ":path", h.target, sizeof(h.target)))
		return; /* CONNECT, or no request */
	if (c->nstreams == HTTP2_MAX_STREAMS) {
		f->t->stats.streams_full++;
		return;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return;
	header(hdrs, n, ":authority", h.host, sizeof(h.host));
	if (!h.host[0])
		header(hdrs, n, "host", h.host, sizeof(h.host));
	header(hdrs, n, "user-agent", h.user_agent, sizeof(h.user_agent));
	header(hdrs, n, "traceparent", h.traceparent, sizeof(h.traceparent));
	header(hdrs, n, "content-type", ctype, sizeof(ctype));
	st->id = id;
	st->grpc = !strncmp(ctype, "application/grpc", 16);
	http_span_request(&x, &h, &st->span, &sig, &forwarded);
	st->ai = genai_call_start(&st->span, h.method, ctype);
	if (st->grpc)
		set_grpc(&st->span, h.target);
	c->streams[c->nstreams++] = st;
	stitch(f->t, c, st);
}

/* gRPC status codes that make a server span an error (the semantic conventions' list); a
 * client's span is one for every code but OK. */
static bool grpc_server_error(long code)
{
	return code == 2 || code == 4 || code == 12 || code == 13 || code == 14 || code == 15;
}

static void finish(struct feed_ctx *f, struct h2_stream **slot)
{
	struct h2_stream *st = *slot;
	struct span *s = &st->span;

	s->end_ns = f->d->ts_ns > s->start_ns ? f->d->ts_ns : s->start_ns;
	genai_call_end(st->ai, s);
	st->ai = NULL;
	if (s->kind == SPAN_KIND_SERVER)
		actors_span_leave(conn_table_actors(f->t->conns), s->pid, s->actor, s->span_id);
	if (s->kind == SPAN_KIND_SERVER && !s->has_parent && f->t->nheld < HTTP2_MAX_HELD &&
	    h2_peer(f->t, f->c)) { /* its client's request may still come */
		st->conn_id = f->c->conn->id;
		st->hold_until = f->d->ts_ns + HTTP2_HOLD_NS;
		st->next = NULL;
		if (f->t->held_tail)
			f->t->held_tail->next = st;
		else
			f->t->held = st;
		f->t->held_tail = st;
		f->t->nheld++;
		detach(f->c, slot);
		return;
	}
	emit(f->t, s);
	drop(f->c, slot);
}

static void on_response(struct feed_ctx *f, uint32_t id, const struct h2_header *hdrs, size_t n,
			bool end_stream)
{
	struct h2_stream **slot = find(f->c, id), *st;
	struct h2_early_ev *ev;
	char v[16];

	if (!slot) {
		if (!(ev = early_keep(f, id, EARLY_HEADERS))) {
			f->t->stats.unpaired++;
			return;
		}
		ev->end_stream = end_stream;
		header(hdrs, n, ":status", ev->status, sizeof(ev->status));
		header(hdrs, n, "grpc-status", ev->grpc, sizeof(ev->grpc));
		return;
	}
	st = *slot;
	if (header(hdrs, n, ":status", v, sizeof(v))) {
		long status = strtol(v, NULL, 10);

		if (status >= 100 && status < 200)
			return; /* informational: the final one follows */
		st->answered = true;
		/* gRPC's outcome is its grpc-status; an HTTP error (a proxy's 503) is one too */
		if (st->grpc && status == 200)
			span_set_int(&st->span, SC_HTTP_RESPONSE_STATUS_CODE, status);
		else
			http_span_status(&st->span, (int)status);
	}
	/* trailers, or a trailers-only answer */
	if (st->grpc && header(hdrs, n, "grpc-status", v, sizeof(v))) {
		long code = strtol(v, NULL, 10);

		span_set_int(&st->span, SC_RPC_GRPC_STATUS_CODE, code);
		if (code && (st->span.kind == SPAN_KIND_CLIENT || grpc_server_error(code))) {
			st->span.error = true;
			span_set_str(&st->span, SC_ERROR_TYPE, v);
		}
	}
	if (end_stream)
		finish(f, slot);
}

static void cb_headers(void *ctx, uint32_t id, const struct h2_header *hdrs, size_t n,
		       bool end_stream, bool truncated)
{
	struct feed_ctx *f = ctx;

	(void)truncated;
	if (f->d->dir == f->c->req_dir) {
		if (id > f->c->last_req_id)
			f->c->last_req_id = id;
		start_stream(f, id, hdrs, n);
		early_replay(f, id);
		if (f->c->early) /* the answers to streams below it will not be paired */
			early_expire(f->t, f->c, f->d->ts_ns);
	} else
		on_response(f, id, hdrs, n, end_stream);
	/* a block after this one begins in this event */
	f->c->block_ts[f->d->dir] = f->d->ts_ns;
}

static void cb_data(void *ctx, uint32_t id, const uint8_t *data, size_t captured, size_t payload,
		    bool end_stream)
{
	struct feed_ctx *f = ctx;
	bool req = f->d->dir == f->c->req_dir;
	struct h2_stream **slot = find(f->c, id);

	if (slot && (*slot)->ai) {
		struct genai_body *b = req ? &(*slot)->ai->req : &(*slot)->ai->resp;

		if (captured)
			genai_body_feed(b, data, captured);
		if (payload > captured)
			genai_body_feed(b, NULL, payload - captured);
	}
	if (!end_stream || req)
		return;
	if (slot && (*slot)->answered)
		finish(f, slot);
	else if (!slot)
		early_keep(f, id, EARLY_END);
}

/* RFC 9113 section 7's error codes, by their names. */
static const char *const h2_errors[] = {
	"NO_ERROR",
	"PROTOCOL_ERROR",
	"INTERNAL_ERROR",
	"FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT",
	"STREAM_CLOSED",
	"FRAME_SIZE_ERROR",
	"REFUSED_STREAM",
	"CANCEL",
	"COMPRESSION_ERROR",
	"CONNECT_ERROR",
	"ENHANCE_YOUR_CALM",
	"INADEQUATE_SECURITY",
	"HTTP_1_1_REQUIRED",
};

/* A stream reset by either end ends its span as an error (NO_ERROR after a complete answer:
 * the usual end of a response the client no longer reads). */
static void cb_rst(void *ctx, uint32_t id, uint32_t code)
{
	struct feed_ctx *f = ctx;
	struct h2_stream **slot = find(f->c, id);
	struct h2_early_ev *ev;
	struct span *s;

	if (!slot) {
		if ((ev = early_keep(f, id, EARLY_RST)))
			ev->code = code;
		return;
	}
	s = &(*slot)->span;
	if (code || !(*slot)->answered) {
		s->error = true;
		span_set_str(s, SC_ERROR_TYPE,
			     code < sizeof(h2_errors) / sizeof(h2_errors[0]) ? h2_errors[code]
									     : "RST_STREAM");
	}
	finish(f, slot);
}

/* Streams above the last one the server took will never be answered. A client's GOAWAY names
 * the last stream the server began (a push): the client's requests still get their answers. */
static void cb_goaway(void *ctx, uint32_t last_id, uint32_t code)
{
	struct feed_ctx *f = ctx;
	size_t i = 0;

	(void)code;
	if (f->d->dir == f->c->req_dir)
		return;
	while (i < f->c->nstreams) {
		if (f->c->streams[i]->id > last_id)
			abort_stream(f->t, f->c, &f->c->streams[i]);
		else
			i++;
	}
}

/* The answer read early on stream id, now that its request was: applied to its stream, in the
 * order it was read, at the times it was read; unpaired when the request made no stream. */
static void early_replay(struct feed_ctx *f, uint32_t id)
{
	struct h2_early **link = early_link(f->c, id), *e;
	struct h2_stream **slot;
	uint8_t i;

	if (!*link)
		return;
	e = early_unlink(f->c, link);
	slot = find(f->c, id);
	if (!slot) {
		early_unpaired(f->t, e);
		return;
	}
	f->t->stats.early++;
	log_debug("http2: pid %u, connection %llu: stream %u answered before its request was read",
		  f->c->conn->pid, (unsigned long long)f->c->conn->id, id);
	/* each frame may end the stream, and an ended stream's slot holds another */
	for (i = 0; i < e->n && slot; i++, slot = find(f->c, id)) {
		const struct h2_early_ev *ev = &e->ev[i];
		const struct conn_data d = { .ts_ns = ev->ts_ns, .dir = !f->c->req_dir };
		struct feed_ctx g = { f->t, f->c, &d };
		struct h2_header h[2];
		size_t n = 0;

		switch (ev->what) {
		case EARLY_HEADERS:
			if (ev->status[0])
				h[n++] = (struct h2_header){ ":status", 7, ev->status,
							     strlen(ev->status), 0 };
			if (ev->grpc[0])
				h[n++] = (struct h2_header){ "grpc-status", 11, ev->grpc,
							     strlen(ev->grpc), 0 };
			on_response(&g, id, h, n, ev->end_stream);
			break;
		case EARLY_END:
			if ((*slot)->answered)
				finish(&g, slot);
			break;
		case EARLY_RST:
			cb_rst(&g, id, ev->code);
			break;
		}
	}
	free(e);
}

static void cb_lost(void *ctx, const char *reason)
{
	struct feed_ctx *f = ctx;

	log_debug("http2: pid %u, connection %llu: %s lost: %s", f->c->conn->pid,
		  (unsigned long long)f->c->conn->id,
		  f->d->dir == f->c->req_dir ? "requests" : "answers", reason);
	f->t->stats.lost++;
	/* requests can no longer be read: no answer read early will be paired */
	if (f->d->dir == f->c->req_dir)
		early_expire(f->t, f->c, UINT64_MAX);
	/* answers can no longer be read: what is in flight is not finished */
	if (f->d->dir != f->c->req_dir)
		while (f->c->nstreams)
			abort_stream(f->t, f->c, &f->c->streams[0]);
}

static const struct h2_callbacks callbacks = {
	.on_headers = cb_headers,
	.on_data = cb_data,
	.on_rst = cb_rst,
	.on_goaway = cb_goaway,
	.on_lost = cb_lost,
};

static struct h2_conn *state_of(struct http2_tracker *t, struct conn *cn, const struct conn_data *d)
{
	struct h2_conn *c = cn->state;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->conn = cn;
	/* the client preface goes the client's way; else the server spoke first */
	c->req_dir = h2_sniff(d->data, d->len) ? d->dir : !d->dir;
	h2_parser_init(&c->p[c->req_dir], true);
	h2_parser_init(&c->p[!c->req_dir], false);
	h2_parser_pair(&c->p[c->req_dir], &c->p[!c->req_dir]);
	h2_parser_share(&c->p[0], &t->work);
	h2_parser_share(&c->p[1], &t->work);
	cn->state = c;
	t->stats.conns++;
	return c;
}

/* Whether p is inside a header block, or a frame that may begin one, that began in an earlier
 * event. */
static bool block_open(const struct h2_stream_parser *p)
{
	if (p->in_block)
		return true;
	if (p->state == H2_ST_PAYLOAD)
		return p->type == H2_HEADERS || p->type == H2_PUSH_PROMISE;
	return p->state == H2_ST_HEADER && p->hdr_got &&
	       (p->hdr_got <= 3 || p->hdr[3] == H2_HEADERS || p->hdr[3] == H2_PUSH_PROMISE);
}

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d)
{
	struct http2_tracker *t = tracker;
	struct h2_conn *c = state_of(t, cn, d);
	struct feed_ctx f = { t, c, d };

	if (!c)
		return;
	if (c->early)
		early_expire(t, c, d->ts_ns);
	/* a request starts when its first byte came, not when its header block is complete */
	if (!block_open(&c->p[d->dir]))
		c->block_ts[d->dir] = d->ts_ns;
	h2_feed(&c->p[d->dir], d->data, d->len, d->total > d->len ? d->total : d->len, &callbacks,
		&f);
}

/* The connection ended (ts_ns 0: dropped from the table): what is in flight is not answered. */
static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns)
{
	struct http2_tracker *t = tracker;
	struct h2_conn *c = cn->state;

	(void)ts_ns;
	if (!c)
		return;
	while (c->nstreams)
		abort_stream(t, c, &c->streams[0]);
	early_expire(t, c, UINT64_MAX);
	h2_parser_free(&c->p[0]);
	h2_parser_free(&c->p[1]);
	free(c);
	cn->state = NULL;
	t->stats.conns--;
}
