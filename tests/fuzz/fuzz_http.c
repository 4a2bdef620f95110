// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: byte 0 picks how the payload is cut into events, byte 1 which events claim more bytes
 * than were captured and what on_head answers, the rest is the payload. The payload goes
 * through two streams (as the request and the response direction of a connection) and
 * through every parsing entry point directly.
 *
 * Besides the sanitizers, it checks that callbacks come in a sane order (head, complete,
 * head, ...; on_truncated right before a truncated head), that every string in a head is
 * NUL-terminated, and that without gaps the way the bytes are split into events does not
 * change what is reported up to the first error.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "protocols/http_parser.h"
#include "pipeline/route.h"

#define MAX_RECS 4096

struct rec {
	char type; /* H, C (clean), c (not clean), E, T */
	uint64_t hash;
};

struct fz {
	bool open;	    /* a head was reported and its message has not completed */
	bool trunc_pending; /* on_truncated was called, its head is next */
	uint8_t modes;	    /* bit i: the i-th head (mod 8) gets HTTP_BODY_NONE */
	unsigned heads;
	struct rec recs[MAX_RECS];
	size_t nrecs;
	bool full;
};

static void put(struct fz *f, char type, uint64_t hash)
{
	if (f->nrecs == MAX_RECS) {
		f->full = true;
		return;
	}
	f->recs[f->nrecs].type = type;
	f->recs[f->nrecs].hash = hash;
	f->nrecs++;
}

static void check_str(const char *s, size_t size)
{
	assert(memchr(s, '\0', size));
}

static void check_head(const struct http_head *h)
{
	check_str(h->method, sizeof(h->method));
	check_str(h->target, sizeof(h->target));
	check_str(h->host, sizeof(h->host));
	check_str(h->user_agent, sizeof(h->user_agent));
	check_str(h->traceparent, sizeof(h->traceparent));
	assert(h->kind == HTTP_REQUEST || h->kind == HTTP_RESPONSE);
	assert(h->version >= 10 && h->version <= 19);
	assert(h->content_length >= -1);
	assert(h->head_len <= HTTP_HEAD_MAX);
	assert(!h->chunked || h->content_length == -1);
	if (h->kind == HTTP_RESPONSE) {
		assert(h->status >= 100 && h->status <= 599);
	} else {
		assert(h->method[0] && h->target[0]);
		assert(!strchr(h->target, ' '));
	}
}

static int on_head(void *ctx, const struct http_head *h)
{
	struct fz *f = ctx;
	uint64_t hash = FNV1A_OFFSET;

	check_head(h);
	assert(!f->open);
	assert(h->truncated == f->trunc_pending);
	f->trunc_pending = false;
	f->open = true;
	hash = fnv1a_update(hash, h->method, strlen(h->method));
	hash = fnv1a_update(hash, h->target, strlen(h->target));
	hash = fnv1a_update(hash, &h->status, sizeof(h->status));
	hash = fnv1a_update(hash, &h->content_length, sizeof(h->content_length));
	hash = fnv1a_update(hash, &h->chunked, sizeof(h->chunked));
	put(f, 'H', hash);
	return (f->modes >> (f->heads++ & 7)) & 1 ? HTTP_BODY_NONE : HTTP_BODY_DEFAULT;
}

static void on_complete(void *ctx, bool clean)
{
	struct fz *f = ctx;

	assert(f->open && !f->trunc_pending);
	f->open = false;
	put(f, clean ? 'C' : 'c', 0);
}

static void on_error(void *ctx)
{
	struct fz *f = ctx;

	assert(!f->open && !f->trunc_pending);
	put(f, 'E', 0);
}

static void on_truncated(void *ctx)
{
	struct fz *f = ctx;

	assert(!f->open && !f->trunc_pending);
	f->trunc_pending = true;
	put(f, 'T', 0);
}

static const struct http_stream_ops ops = {
	.on_head = on_head,
	.on_complete = on_complete,
	.on_error = on_error,
	.on_truncated = on_truncated,
};

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feeds data as events: pattern 0 one event, 1 one byte each, else random sizes. With
 * gap_bits, some events claim bytes that were not captured. */
static void run(struct http_stream *s, struct fz *f, const uint8_t *data, size_t size,
		unsigned pattern, uint8_t gap_bits, uint32_t seed)
{
	uint32_t x = seed | 1;
	size_t off = 0, ev = 0;

	http_stream_init(s);
	while (off < size) {
		size_t n = size - off;
		uint64_t total;

		if (pattern == 1)
			n = 1;
		else if (pattern >= 2 && n > 1)
			n = 1 + rnd(&x) % (n < 64 * pattern ? n : 64 * pattern);
		total = n;
		if ((gap_bits >> (ev++ & 7)) & 1) {
			static const uint64_t extra[] = { 1, 2, 7, 100, 4096, 1ULL << 40, 0 };

			total += extra[rnd(&x) % 7];
			if (rnd(&x) % 4 == 0)
				n = 0; /* nothing captured at all */
		}
		http_stream_feed(s, data + off, n, total, &ops, f);
		assert(s->buf_len <= HTTP_HEAD_MAX);
		assert(s->state <= HTTP_ST_NOT_HTTP);
		off += n ? n : 1;
	}
	http_stream_close(s, &ops, f);
	assert(!f->open && !f->trunc_pending);
	assert(s->state == HTTP_ST_IDLE && s->buf_len == 0);
}

/* Records up to and including the first error. */
static size_t until_error(const struct fz *f)
{
	size_t i;

	for (i = 0; i < f->nrecs; i++)
		if (f->recs[i].type == 'E')
			return i + 1;
	return f->nrecs;
}

static void same_until_error(const struct fz *a, const struct fz *b)
{
	size_t na = until_error(a), nb = until_error(b);

	if (a->full || b->full)
		return;
	/* One run may end in UNTIL_CLOSE etc. the same way; compare the common reports. */
	assert(na == nb);
	assert(!memcmp(a->recs, b->recs, na * sizeof(a->recs[0])));
}

static void check_route(const char *target)
{
	char path[512], query[512], folded[512], again[512];
	static struct route_set *rs;
	const char *r, *q;

	route_split_target(target, path, sizeof(path), query, sizeof(query));
	check_str(path, sizeof(path));
	check_str(query, sizeof(query));
	assert(path[0]);
	/* Every value in the query was replaced (unless the output was cut short). */
	for (q = strchr(query, '='); q; q = strchr(q + 1, '='))
		assert(!strncmp(q + 1, "REDACTED", strlen(q + 1) < 8 ? strlen(q + 1) : 8));

	route_fold(path, folded, sizeof(folded));
	check_str(folded, sizeof(folded));
	if (strlen(folded) < sizeof(folded) - 1) {
		route_fold(folded, again, sizeof(again));
		assert(!strcmp(folded, again));
	}

	if (!rs)
		rs = route_set_new(64);
	assert(rs);
	r = route_set_intern(rs, folded);
	assert(r && (!strcmp(r, folded) || !strcmp(r, ROUTE_OVERFLOW)));
}

static struct http_stream req_stream, resp_stream;
static struct fz fa, fb, fc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t tid[16], sid[8], flags;
	const uint8_t *p;
	struct http_head h, ph;
	unsigned pattern;
	uint8_t gaps;
	char *str;
	size_t n;
	int r;

	if (size < 2)
		return 0;
	pattern = data[0] & 0x0f;
	gaps = data[1];
	p = data + 2;
	n = size - 2;

	r = http_parse_head(p, n, &h);
	assert(r >= HTTP_PARSE_ERROR);
	if (r > 0) {
		assert((size_t)r <= n && h.head_len == (size_t)r && !h.truncated);
		check_head(&h);
	}
	if (!http_parse_partial_head(p, n, &ph)) {
		assert(ph.head_len <= n && ph.truncated);
		check_head(&ph);
		if (r > 0)
			assert(ph.head_len == h.head_len);
	}
	http_sniff(p, n, NULL);

	/* The two directions of a connection, each with its own cut and gaps. */
	memset(&fa, 0, sizeof(fa));
	fa.modes = gaps;
	run(&req_stream, &fa, p, n, pattern, gaps, data[0] | (uint32_t)data[1] << 8);
	memset(&fb, 0, sizeof(fb));
	fb.modes = (uint8_t)~gaps;
	run(&resp_stream, &fb, p, n, data[0] >> 4, (uint8_t)(gaps >> 4), ~(uint32_t)data[0]);

	/* Without gaps, the cut into events must not change what is reported. */
	memset(&fa, 0, sizeof(fa));
	run(&req_stream, &fa, p, n, 0, 0, 0);
	memset(&fc, 0, sizeof(fc));
	run(&resp_stream, &fc, p, n, n <= 512 ? 1 : 2 + pattern % 4, 0, data[0] + 7);
	same_until_error(&fa, &fc);

	str = malloc(n + 1);
	if (!str)
		return 0;
	memcpy(str, p, n);
	str[n] = '\0';
	http_parse_traceparent(str, tid, sid, &flags);
	if (r > 0 && h.traceparent[0])
		http_parse_traceparent(h.traceparent, tid, sid, &flags);
	check_route(str);
	if (r > 0 && h.kind == HTTP_REQUEST)
		check_route(h.target);
	free(str);
	return 0;
}
