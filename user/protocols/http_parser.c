// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/http_parser.h"

#include <stdlib.h>
#include <string.h>

#include "util/hex.h"
#include "util/http_token.h"

/* A chunk-size line longer than this (CR excluded) is not HTTP framing we can trust. */
#define CHUNK_LINE_MAX 64
/* Chunks beyond this cannot be real and would overflow the body accounting. */
#define CHUNK_SIZE_MAX (1ULL << 60)
/* Failed resyncs after a loss of sync before the stream is given up as not HTTP. */
#define RESYNC_TRIES 3
/* http_sniff needs at most this many bytes: "CONNECT " and "OPTIONS ". */
#define SNIFF_LEN 8

static const struct {
	const char *s;
	size_t len;
	enum http_kind kind;
} sniff_prefixes[] = {
	{ "GET ", 4, HTTP_REQUEST },	 { "HEAD ", 5, HTTP_REQUEST },
	{ "POST ", 5, HTTP_REQUEST },	 { "PUT ", 4, HTTP_REQUEST },
	{ "DELETE ", 7, HTTP_REQUEST },	 { "CONNECT ", 8, HTTP_REQUEST },
	{ "OPTIONS ", 8, HTTP_REQUEST }, { "TRACE ", 6, HTTP_REQUEST },
	{ "PATCH ", 6, HTTP_REQUEST },	 { "HTTP/1.", 7, HTTP_RESPONSE },
};

bool http_sniff(const uint8_t *buf, size_t len, enum http_kind *kind)
{
	size_t i;

	if (!buf && len)
		return false;
	/* A prefix that fits both a method and "HTTP/1." ("H") reports the first match. */
	for (i = 0; i < sizeof(sniff_prefixes) / sizeof(sniff_prefixes[0]); i++) {
		size_t n = len < sniff_prefixes[i].len ? len : sniff_prefixes[i].len;

		/* the first byte tells most apart without a call */
		if (n && (buf[0] != (uint8_t)sniff_prefixes[i].s[0] ||
			  memcmp(buf, sniff_prefixes[i].s, n)))
			continue;
		if (kind)
			*kind = sniff_prefixes[i].kind;
		return true;
	}
	return false;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static void copy_str(char *dst, size_t size, const uint8_t *src, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * "HTTP/1.x SP 3DIGIT [SP reason]". With `complete` false p..n is only the start of the line and
 * running out of bytes is not an error.
 */
static int parse_status_line(const uint8_t *p, size_t n, bool complete, struct http_head *out)
{
	static const char ver[] = "HTTP/1.";
	size_t i;

	for (i = 0; i < n && i < 12; i++) {
		uint8_t c = p[i];
		bool ok;

		if (i < 7)
			ok = c == (uint8_t)ver[i];
		else if (i == 7 || i >= 10)
			ok = is_digit(c);
		else if (i == 8)
			ok = c == ' ';
		else
			ok = c >= '1' && c <= '5'; /* keeps the status within 100..599 */
		if (!ok)
			return -1;
	}
	if (n < 12)
		return complete ? -1 : 0;
	if (n > 12 && (p[12] != ' ' || !http_vchars_ok(p + 13, n - 13)))
		return -1;
	out->kind = HTTP_RESPONSE;
	out->version = 10 + (p[7] - '0');
	out->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	return 0;
}

/* "METHOD SP target SP HTTP/1.x", with `complete` as for parse_status_line. */
static int parse_request_line(const uint8_t *p, size_t n, size_t mlen, bool complete,
			      struct http_head *out)
{
	static const char ver[] = "HTTP/1.";
	size_t t, v, i;

	if (mlen == 0 || mlen >= HTTP_METHOD_MAX)
		return -1;
	if (mlen == n)
		return complete ? -1 : 0;
	if (p[mlen] != ' ')
		return -1;
	copy_str(out->method, sizeof(out->method), p, mlen);

	for (t = mlen + 1, i = t; i < n && p[i] != ' '; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return -1;
	if (i == n)
		return complete ? -1 : 0;
	if (i == t)
		return -1;
	copy_str(out->target, sizeof(out->target), p + t, i - t);

	for (v = i + 1, i = v; i < n; i++) {
		size_t k = i - v;

		if (k >= 8 || (k < 7 && p[i] != (uint8_t)ver[k]) || (k == 7 && !is_digit(p[i])))
			return -1;
	}
	if (n - v < 8)
		return complete ? -1 : 0;
	out->kind = HTTP_REQUEST;
	out->version = 10 + (p[v + 7] - '0');
	return 0;
}

/* A request line longer than the capture: its method and the first bytes of its target still
 * make a span (and a metric) rather than a silent loss. */
static int parse_cut_request_line(const uint8_t *p, size_t n, struct http_head *out)
{
	size_t m = 0, i;

	while (m < n && http_is_tchar(p[m]))
		m++;
	if (m == 0 || m >= HTTP_METHOD_MAX || m == n || p[m] != ' ')
		return -1;
	for (i = m + 1; i < n && p[i] != ' '; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return -1;
	if (i == m + 1)
		return -1;
	copy_str(out->method, sizeof(out->method), p, m);
	copy_str(out->target, sizeof(out->target), p + m + 1, i - m - 1);
	out->kind = HTTP_REQUEST;
	out->version = 11; /* the version was cut off: assume the common one */
	return 0;
}

static int parse_start_line(const uint8_t *p, size_t n, bool complete, struct http_head *out)
{
	size_t i = 0;

	if (!n && !complete)
		return 0;
	/* A method is a token and '/' is not a token character: "HTTP/" starts a status line. */
	while (i < n && http_is_tchar(p[i]))
		i++;
	if (i < n && p[i] == '/')
		return parse_status_line(p, n, complete, out);
	return parse_request_line(p, n, i, complete, out);
}

/* What the header lines said, before the rules that combine them are applied. */
struct fields {
	bool cl_seen;
	int64_t cl;
	bool te_seen;
	bool te_chunked;
	bool close;
	bool keep_alive;
};

static void te_coding(const uint8_t *p, size_t n, void *arg)
{
	struct fields *f = arg;
	size_t i = 0;

	/* A coding may carry parameters ("chunked;q=1" is not valid, but be lenient). */
	while (i < n && http_is_tchar(p[i]))
		i++;
	f->te_chunked = http_ieq(p, i, "chunked");
}

static void conn_option(const uint8_t *p, size_t n, void *arg)
{
	struct fields *f = arg;

	if (http_ieq(p, n, "close"))
		f->close = true;
	else if (http_ieq(p, n, "keep-alive"))
		f->keep_alive = true;
}

static int parse_content_length(const uint8_t *p, size_t n, struct fields *f)
{
	int64_t v = 0;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]) || v > (INT64_MAX - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	/* Two different lengths is how requests get smuggled: refuse to pick one. */
	if (f->cl_seen && f->cl != v)
		return -1;
	f->cl_seen = true;
	f->cl = v;
	return 0;
}

/*
 * One header line without its line ending. Only the fields obsprobe uses are looked at; the
 * values of every other field, secrets included, are checked for bytes and never copied.
 */
static int parse_field(const uint8_t *p, size_t n, struct fields *f, struct http_head *out)
{
	size_t name_len = 0, v, e;

	/* obs-fold continuation (RFC 9112 5.2): ignored, which drops the folded part of a value. */
	if (http_is_ows(p[0]))
		return http_vchars_ok(p, n) ? 0 : -1;
	while (name_len < n && http_is_tchar(p[name_len]))
		name_len++;
	/* No whitespace is allowed between the name and the colon (RFC 9112 5.1). */
	if (name_len == 0 || name_len == n || p[name_len] != ':')
		return -1;
	if (!http_vchars_ok(p + name_len + 1, n - name_len - 1))
		return -1;
	for (v = name_len + 1; v < n && http_is_ows(p[v]); v++)
		;
	for (e = n; e > v && http_is_ows(p[e - 1]); e--)
		;

	/* by length first: most fields are none of these */
	switch (name_len) {
	case 14:
		if (http_ieq(p, name_len, "content-length"))
			return parse_content_length(p + v, e - v, f);
		break;
	case 17:
		if (http_ieq(p, name_len, "transfer-encoding")) {
			f->te_seen = true;
			http_list_each(p + v, e - v, te_coding, f);
		}
		break;
	case 10:
		if (http_ieq(p, name_len, "connection"))
			http_list_each(p + v, e - v, conn_option, f);
		else if (http_ieq(p, name_len, "user-agent") && !out->user_agent[0])
			copy_str(out->user_agent, sizeof(out->user_agent), p + v, e - v);
		break;
	case 4:
		if (http_ieq(p, name_len, "host") && !out->host[0])
			copy_str(out->host, sizeof(out->host), p + v, e - v);
		break;
	case 11:
		if (http_ieq(p, name_len, "traceparent") && !out->traceparent[0])
			copy_str(out->traceparent, sizeof(out->traceparent), p + v, e - v);
		break;
	case 12:
		if (http_ieq(p, name_len, "content-type") && !out->content_type[0])
			copy_str(out->content_type, sizeof(out->content_type), p + v, e - v);
		break;
	}
	return 0;
}

/* Whether the start of a header line could still become a valid one. */
static bool field_prefix_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n && !http_is_ows(p[0])) {
		while (i < n && http_is_tchar(p[i]))
			i++;
		if (i == n)
			return true;
		if (i == 0 || p[i] != ':')
			return false;
	}
	return http_vchars_ok(p + i, n - i);
}

static void apply_fields(const struct fields *f, struct http_head *out)
{
	/* Transfer-Encoding overrides Content-Length (RFC 9112 6.3). */
	out->chunked = f->te_seen && f->te_chunked;
	out->content_length = f->te_seen ? -1 : f->cl_seen ? f->cl : -1;
	out->conn_close = f->close || (out->version < 11 && !f->keep_alive);
}

/* What memset to 0 gave, content_length -1, writing only the first byte of each string:
 * a head's string buffers are ~1.7 KiB, and two heads are parsed per request. Every field of
 * struct http_head is here (the size check below fails when one is added or resized). */
static void head_reset(struct http_head *h)
{
	_Static_assert(sizeof(struct http_head) == 1720,
		       "struct http_head changed: reset its new fields here, then update the size");
	h->kind = 0;
	h->version = 0;
	h->method[0] = '\0';
	h->target[0] = '\0';
	h->status = 0;
	h->content_length = -1;
	h->chunked = false;
	h->conn_close = false;
	h->truncated = false;
	h->host[0] = '\0';
	h->user_agent[0] = '\0';
	h->traceparent[0] = '\0';
	h->content_type[0] = '\0';
	h->head_len = 0;
}

static int parse_head(const uint8_t *buf, size_t len, struct http_head *out, bool partial)
{
	size_t lim = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
	struct fields f = { 0 };
	bool have_start = false;
	size_t pos = 0;

	head_reset(out);
	if (!buf)
		return len || partial ? HTTP_PARSE_ERROR : HTTP_PARSE_NEED_MORE;

	while (pos < lim) {
		const uint8_t *nl = memchr(buf + pos, '\n', lim - pos);
		size_t eol, end;
		int err;

		if (!nl)
			break;
		eol = (size_t)(nl - buf);
		end = eol > pos && buf[eol - 1] == '\r' ? eol - 1 : eol;
		if (!have_start) {
			err = parse_start_line(buf + pos, end - pos, true, out);
			have_start = true;
		} else if (end == pos) {
			apply_fields(&f, out);
			out->truncated = partial;
			out->head_len = eol + 1;
			return partial ? 0 : (int)out->head_len;
		} else {
			err = parse_field(buf + pos, end - pos, &f, out);
		}
		if (err)
			goto fail;
		pos = eol + 1;
	}

	if (partial) {
		if (!have_start) {
			if (parse_cut_request_line(buf, lim, out))
				goto fail;
			out->truncated = true;
			out->head_len = lim;
			return 0;
		}
		apply_fields(&f, out);
		out->truncated = true;
		out->head_len = pos;
		return 0;
	}
	if (len >= HTTP_HEAD_MAX)
		goto fail;
	/* Reject garbage now rather than after waiting for HTTP_HEAD_MAX bytes of it. */
	if (lim > pos && buf[lim - 1] == '\r')
		lim--;
	if (!have_start && parse_start_line(buf, lim, false, out))
		goto fail;
	if (have_start && !field_prefix_ok(buf + pos, lim - pos))
		goto fail;
	head_reset(out);
	return HTTP_PARSE_NEED_MORE;
fail:
	head_reset(out);
	return HTTP_PARSE_ERROR;
}

int http_parse_head(const uint8_t *buf, size_t len, struct http_head *out)
{
	struct http_head tmp;

	return parse_head(buf, len, out ? out : &tmp, false);
}

int http_parse_partial_head(const uint8_t *buf, size_t len, struct http_head *out)
{
	struct http_head tmp;

	return parse_head(buf, len, out ? out : &tmp, true);
}

bool http_response_has_body(const char *method, int status)
{
	if (status < 200 || status == 204 || status == 304)
		return false;
	if (method && !strcmp(method, "HEAD"))
		return false;
	/* A 2xx to CONNECT turns the connection into a tunnel. */
	if (method && !strcmp(method, "CONNECT") && status < 300)
		return false;
	return true;
}

static const struct http_stream_ops no_ops;

void http_stream_init(struct http_stream *s)
{
	/* buf is not cleared: nothing reads it past buf_len. */
	s->state = HTTP_ST_IDLE;
	s->body_left = 0;
	s->errors = 0;
	s->buf_len = 0;
	s->buf = NULL;
}

static bool in_message(enum http_stream_state st)
{
	return st >= HTTP_ST_BODY_LEN && st <= HTTP_ST_UNTIL_CLOSE;
}

/* The head buffer may hold Authorization or Cookie values: do not keep them around. */
static void wipe_buf(struct http_stream *s)
{
	if (s->buf && s->buf_len)
		explicit_bzero(s->buf, s->buf_len);
	free(s->buf);
	s->buf = NULL;
	s->buf_len = 0;
}

void http_stream_free(struct http_stream *s)
{
	wipe_buf(s);
}

static bool ensure_buf(struct http_stream *s)
{
	if (!s->buf)
		s->buf = malloc(HTTP_HEAD_MAX);
	return s->buf != NULL;
}

static void complete(struct http_stream *s, const struct http_stream_ops *ops, void *ctx,
		     bool clean)
{
	if (ops->on_complete)
		ops->on_complete(ctx, clean);
	s->state = HTTP_ST_IDLE;
	s->body_left = 0;
	s->buf_len = 0;
}

/* Bytes that cannot be HTTP: report once, then wait for an event that starts a message. */
static void lose_sync(struct http_stream *s, const struct http_stream_ops *ops, void *ctx)
{
	if (in_message(s->state) && ops->on_complete)
		ops->on_complete(ctx, false);
	if (ops->on_error)
		ops->on_error(ctx);
	wipe_buf(s);
	s->body_left = 0;
	/* errors > 0 also tells RESYNC to count the events it skips (see http_stream_feed). */
	s->errors++;
	s->state = s->errors > RESYNC_TRIES ? HTTP_ST_NOT_HTTP : HTTP_ST_RESYNC;
}

/* Bytes lost by the capture: not an error, but the framing is gone. */
static void drop_sync(struct http_stream *s, const struct http_stream_ops *ops, void *ctx)
{
	if (in_message(s->state) && ops->on_complete)
		ops->on_complete(ctx, false);
	wipe_buf(s);
	s->body_left = 0;
	s->state = HTTP_ST_RESYNC;
}

static void got_head(struct http_stream *s, const struct http_head *h,
		     const struct http_stream_ops *ops, void *ctx)
{
	int mode = ops->on_head ? ops->on_head(ctx, h) : HTTP_BODY_DEFAULT;

	s->errors = 0;
	if (h->kind == HTTP_RESPONSE && h->status < 200) {
		/* Interim response: the final one follows on the same stream. */
		complete(s, ops, ctx, true);
		if (h->status == 101)
			s->state = HTTP_ST_NOT_HTTP;
		return;
	}
	if (mode == HTTP_BODY_NONE)
		goto done;
	if (h->kind == HTTP_RESPONSE && !http_response_has_body(NULL, h->status))
		goto done;
	if (h->chunked) {
		s->state = HTTP_ST_CHUNK_SIZE;
		s->buf_len = 0;
		return;
	}
	if (h->content_length > 0) {
		s->state = HTTP_ST_BODY_LEN;
		s->body_left = (uint64_t)h->content_length;
		return;
	}
	/* A request without framing has no body; a response reads until the close. */
	if (h->kind == HTTP_RESPONSE && h->content_length < 0) {
		s->state = HTTP_ST_UNTIL_CLOSE;
		return;
	}
done:
	complete(s, ops, ctx, true);
}

static size_t step_head(struct http_stream *s, const uint8_t *p, size_t n,
			const struct http_stream_ops *ops, void *ctx)
{
	size_t old = s->buf_len, take;
	struct http_head head;
	int r;

	if (old == 0) {
		/* The common case: the whole head is in this event, parse it in place. */
		r = http_parse_head(p, n, &head);
		if (r == HTTP_PARSE_NEED_MORE) {
			/* NEED_MORE means n < HTTP_HEAD_MAX. */
			if (!ensure_buf(s)) {
				lose_sync(s, ops, ctx);
				return n;
			}
			memcpy(s->buf, p, n);
			s->buf_len = n;
			return n;
		}
		if (r < 0) {
			lose_sync(s, ops, ctx);
			return n;
		}
		got_head(s, &head, ops, ctx);
		return (size_t)r;
	}

	take = n < HTTP_HEAD_MAX - old ? n : HTTP_HEAD_MAX - old;
	memcpy(s->buf + old, p, take);
	s->buf_len = old + take;
	/* The head may have started with fewer bytes than the sniff needs: finish that check, so
	 * that how the bytes were split into events does not change what is accepted. */
	if (old < SNIFF_LEN &&
	    !http_sniff(s->buf, s->buf_len < SNIFF_LEN ? s->buf_len : SNIFF_LEN, NULL)) {
		lose_sync(s, ops, ctx);
		return n;
	}
	r = http_parse_head(s->buf, s->buf_len, &head);
	if (r == HTTP_PARSE_NEED_MORE)
		return take;
	/* The first `old` bytes held no blank line, so a head found now ends past them. */
	if (r < 0 || (size_t)r <= old) {
		lose_sync(s, ops, ctx);
		return n;
	}
	wipe_buf(s);
	got_head(s, &head, ops, ctx);
	return (size_t)r - old;
}

/* "1a;ext=v": hex size, optional whitespace, optional extensions. */
static int parse_chunk_size(const uint8_t *p, size_t n, uint64_t *size)
{
	uint64_t v = 0;
	size_t i = 0;

	if (n && p[n - 1] == '\r')
		n--;
	for (; i < n; i++) {
		int d = hex_digit_value((char)p[i]);

		if (d < 0)
			break;
		if (v > (CHUNK_SIZE_MAX - d) / 16)
			return -1;
		v = v * 16 + d;
	}
	if (i == 0)
		return -1;
	while (i < n && http_is_ows(p[i]))
		i++;
	if (i < n && (p[i] != ';' || !http_vchars_ok(p + i, n - i)))
		return -1;
	*size = v;
	return 0;
}

static size_t step_chunk_size(struct http_stream *s, const uint8_t *p, size_t n,
			      const struct http_stream_ops *ops, void *ctx)
{
	uint64_t size;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != '\n') {
			/* Room for CHUNK_LINE_MAX bytes and the CR of the line ending. */
			if (s->buf_len > CHUNK_LINE_MAX ||
			    (s->buf_len == CHUNK_LINE_MAX && p[i] != '\r')) {
				lose_sync(s, ops, ctx);
				return n;
			}
			if (!ensure_buf(s)) {
				lose_sync(s, ops, ctx);
				return n;
			}
			s->buf[s->buf_len++] = p[i];
			continue;
		}
		if (parse_chunk_size(s->buf, s->buf_len, &size)) {
			lose_sync(s, ops, ctx);
			return n;
		}
		s->buf_len = 0;
		s->body_left = size;
		s->state = size ? HTTP_ST_CHUNK_DATA : HTTP_ST_TRAILER;
		return i + 1;
	}
	return n;
}

/*
 * Trailer lines are not kept: buf_len only says whether the current line has content, and
 * body_left counts the trailer's bytes so that an endless one is refused.
 */
static size_t step_trailer(struct http_stream *s, const uint8_t *p, size_t n,
			   const struct http_stream_ops *ops, void *ctx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (++s->body_left > HTTP_HEAD_MAX ||
		    (c != '\r' && c != '\n' && !http_is_vchar(c))) {
			lose_sync(s, ops, ctx);
			return n;
		}
		if (c == '\n') {
			if (!s->buf_len) {
				complete(s, ops, ctx, true);
				return i + 1;
			}
			s->buf_len = 0;
		} else if (c != '\r') {
			s->buf_len = 1;
		}
	}
	return n;
}

/* Consumes bytes of the event in the current state; returns how many. */
static size_t step(struct http_stream *s, const uint8_t *p, size_t n,
		   const struct http_stream_ops *ops, void *ctx)
{
	size_t take;

	switch (s->state) {
	case HTTP_ST_IDLE:
		/* Stray line endings between messages are allowed (RFC 9112 2.2). */
		if (p[0] == '\r' || p[0] == '\n')
			return 1;
		if (!http_sniff(p, n < SNIFF_LEN ? n : SNIFF_LEN, NULL)) {
			lose_sync(s, ops, ctx);
			return n;
		}
		s->state = HTTP_ST_HEAD;
		s->buf_len = 0;
		return step_head(s, p, n, ops, ctx);
	case HTTP_ST_HEAD:
		return step_head(s, p, n, ops, ctx);
	case HTTP_ST_BODY_LEN:
	case HTTP_ST_CHUNK_DATA:
		take = s->body_left < n ? (size_t)s->body_left : n;
		s->body_left -= take;
		if (ops->on_body)
			ops->on_body(ctx, p, take);
		if (!s->body_left) {
			if (s->state == HTTP_ST_BODY_LEN) {
				complete(s, ops, ctx, true);
			} else {
				s->state = HTTP_ST_CHUNK_CRLF;
				s->buf_len = 0;
			}
		}
		return take;
	case HTTP_ST_CHUNK_SIZE:
		return step_chunk_size(s, p, n, ops, ctx);
	case HTTP_ST_CHUNK_CRLF:
		if (p[0] == '\r' && !s->buf_len) {
			s->buf_len = 1;
		} else if (p[0] == '\n') {
			s->state = HTTP_ST_CHUNK_SIZE;
			s->buf_len = 0;
		} else {
			lose_sync(s, ops, ctx);
			return n;
		}
		return 1;
	case HTTP_ST_TRAILER:
		return step_trailer(s, p, n, ops, ctx);
	case HTTP_ST_UNTIL_CLOSE:
		if (ops->on_body)
			ops->on_body(ctx, p, n);
		return n;
	case HTTP_ST_RESYNC:
	case HTTP_ST_NOT_HTTP:
		break;
	}
	return n;
}

/* The head was cut by the capture: report what its complete lines say, then resync. */
static void truncated_head(struct http_stream *s, const struct http_stream_ops *ops, void *ctx)
{
	struct http_head head;

	if (http_parse_partial_head(s->buf, s->buf_len, &head)) {
		lose_sync(s, ops, ctx);
		return;
	}
	wipe_buf(s);
	s->errors = 0;
	if (ops->on_truncated)
		ops->on_truncated(ctx);
	if (ops->on_head)
		ops->on_head(ctx, &head);
	if (ops->on_complete)
		ops->on_complete(ctx, false);
	s->state = head.kind == HTTP_RESPONSE && head.status == 101 ? HTTP_ST_NOT_HTTP
								    : HTTP_ST_RESYNC;
}

/* `gap` bytes that were not captured follow the event's captured bytes. */
static void feed_gap(struct http_stream *s, uint64_t gap, const struct http_stream_ops *ops,
		     void *ctx)
{
	switch (s->state) {
	case HTTP_ST_IDLE:
		/* The start of the next message was not captured. */
		s->state = HTTP_ST_RESYNC;
		return;
	case HTTP_ST_HEAD:
		truncated_head(s, ops, ctx);
		return;
	case HTTP_ST_BODY_LEN:
		if (ops->on_body)
			ops->on_body(ctx, NULL,
				     gap < s->body_left ? (size_t)gap : (size_t)s->body_left);
		if (gap < s->body_left) {
			s->body_left -= gap;
			return;
		}
		gap -= s->body_left;
		complete(s, ops, ctx, true);
		if (gap)
			s->state = HTTP_ST_RESYNC;
		return;
	case HTTP_ST_CHUNK_DATA:
		if (ops->on_body)
			ops->on_body(ctx, NULL,
				     gap < s->body_left ? (size_t)gap : (size_t)s->body_left);
		if (gap < s->body_left) {
			s->body_left -= gap;
			return;
		}
		gap -= s->body_left;
		s->body_left = 0;
		s->state = HTTP_ST_CHUNK_CRLF;
		s->buf_len = 0;
		if (!gap)
			return;
		drop_sync(s, ops, ctx);
		return;
	case HTTP_ST_CHUNK_SIZE:
	case HTTP_ST_CHUNK_CRLF:
	case HTTP_ST_TRAILER:
		drop_sync(s, ops, ctx);
		return;
	case HTTP_ST_UNTIL_CLOSE:
		if (ops->on_body)
			ops->on_body(ctx, NULL, (size_t)gap);
		return;
	case HTTP_ST_RESYNC:
	case HTTP_ST_NOT_HTTP:
		return;
	}
}

void http_stream_feed(struct http_stream *s, const uint8_t *data, size_t len, uint64_t total,
		      const struct http_stream_ops *ops, void *ctx)
{
	size_t pos = 0;
	uint64_t gap;

	if (!s)
		return;
	if (!ops)
		ops = &no_ops;
	if (!data)
		len = 0;
	if (total < len)
		total = len;
	gap = total - len;

	if (s->state == HTTP_ST_NOT_HTTP)
		return;
	if (s->state == HTTP_ST_RESYNC) {
		if (!len)
			return;
		if (!http_sniff(data, len < SNIFF_LEN ? len : SNIFF_LEN, NULL)) {
			/* Only a resync after bad bytes counts: after a gap, skipped events are
			 * the rest of a body, not evidence that the stream is not HTTP. */
			if (s->errors && ++s->errors > RESYNC_TRIES)
				s->state = HTTP_ST_NOT_HTTP;
			return;
		}
		s->state = HTTP_ST_IDLE;
	}

	while (pos < len) {
		pos += step(s, data + pos, len - pos, ops, ctx);
		if (s->state == HTTP_ST_RESYNC || s->state == HTTP_ST_NOT_HTTP)
			return;
	}
	if (gap)
		feed_gap(s, gap, ops, ctx);
}

void http_stream_close(struct http_stream *s, const struct http_stream_ops *ops, void *ctx)
{
	if (!s)
		return;
	if (!ops)
		ops = &no_ops;
	if (in_message(s->state) && ops->on_complete)
		ops->on_complete(ctx, s->state == HTTP_ST_UNTIL_CLOSE);
	wipe_buf(s);
	http_stream_init(s);
}

static bool parse_hex(const char *s, size_t n, uint8_t *out)
{
	bool nonzero = false;
	size_t i;

	for (i = 0; i < n; i++) {
		int hi = hex_lower_value(s[2 * i]), lo = hex_lower_value(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		nonzero |= out[i] != 0;
	}
	return nonzero;
}

bool http_parse_traceparent(const char *s, uint8_t trace_id[16], uint8_t span_id[8], uint8_t *flags)
{
	uint8_t ver, tid[16], sid[8], fl;
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, 56);
	if (len < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	/* parse_hex refuses all zeros, which is right for the ids; version 00 is checked apart. */
	if (hex_lower_value(s[0]) < 0 || hex_lower_value(s[1]) < 0)
		return false;
	ver = (uint8_t)(hex_lower_value(s[0]) << 4 | hex_lower_value(s[1]));
	if (ver == 0xff)
		return false;
	/* Version 00 is exactly 55 characters; later versions may append "-..." fields. */
	if (len > 55 && (ver == 0 || s[55] != '-'))
		return false;
	if (!parse_hex(s + 3, 16, tid) || !parse_hex(s + 36, 8, sid))
		return false;
	if (hex_lower_value(s[53]) < 0 || hex_lower_value(s[54]) < 0)
		return false;
	fl = (uint8_t)(hex_lower_value(s[53]) << 4 | hex_lower_value(s[54]));
	if (trace_id)
		memcpy(trace_id, tid, sizeof(tid));
	if (span_id)
		memcpy(span_id, sid, sizeof(sid));
	if (flags)
		*flags = fl;
	return true;
}
