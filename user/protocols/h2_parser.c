// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "protocols/h2_parser.h"

/* The parts of a frame's payload, in order; each may be empty. */
enum phase {
	PH_PAD = 0, /* the Pad Length byte of a PADDED frame */
	PH_PRE,	    /* fixed fields kept in p->pre */
	PH_BODY,    /* data, header block fragment, settings, or what is skipped */
	PH_PADDING,
	PH_DONE,
};

static const struct h2_callbacks no_callbacks;

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void release(struct h2_stream_parser *p)
{
	free(p->block);
	if (!p->shared) {
		free(p->hdrs);
		free(p->hdr_bytes);
		p->hdrs = NULL;
		p->hdr_bytes = NULL;
	}
	p->block = NULL;
	p->block_cap = 0;
	hpack_decoder_free(&p->hpack);
}

void h2_parser_init(struct h2_stream_parser *p, bool client)
{
	memset(p, 0, sizeof(*p));
	p->state = client ? H2_ST_PREFACE : H2_ST_HEADER;
	hpack_decoder_init(&p->hpack);
}

void h2_parser_share(struct h2_stream_parser *p, struct h2_work *work)
{
	p->shared = true;
	p->hdrs = work->hdrs;
	p->hdr_bytes = work->hdr_bytes;
	hpack_decoder_share_scratch(&p->hpack, work->scratch);
}

void h2_parser_free(struct h2_stream_parser *p)
{
	if (!p)
		return;
	release(p);
}

void h2_parser_pair(struct h2_stream_parser *client, struct h2_stream_parser *server)
{
	client->peer_hpack = &server->hpack;
	server->peer_hpack = &client->hpack;
}

bool h2_sniff(const uint8_t *buf, size_t len)
{
	return !memcmp(buf, H2_PREFACE, len < H2_PREFACE_LEN ? len : H2_PREFACE_LEN);
}

/* Once: the direction cannot be followed any more; what it held is released at once. */
static void lost(struct h2_stream_parser *p, const struct h2_callbacks *cb, void *ctx,
		 const char *reason)
{
	if (p->broken)
		return;
	p->broken = true;
	p->state = H2_ST_BROKEN;
	release(p);
	if (cb->on_lost)
		cb->on_lost(ctx, reason);
}

static bool is_block_frame(uint8_t type)
{
	return type == H2_HEADERS || type == H2_PUSH_PROMISE || type == H2_CONTINUATION;
}

/* Room for need bytes of block (need <= H2_HEADER_BLOCK_MAX): 0, or -1 when memory is short. */
static int grow_block(struct h2_stream_parser *p, size_t need)
{
	size_t cap = p->block_cap ? 2 * p->block_cap : 256;
	uint8_t *n;

	if (need <= p->block_cap)
		return 0;
	if (cap < need)
		cap = need;
	if (cap > H2_HEADER_BLOCK_MAX)
		cap = H2_HEADER_BLOCK_MAX;
	n = realloc(p->block, cap);
	if (!n)
		return -1;
	p->block = n;
	p->block_cap = cap;
	return 0;
}

static int alloc_block(struct h2_stream_parser *p, bool headers)
{
	if (!headers)
		return grow_block(p, p->len); /* a SETTINGS payload */
	if (p->shared)
		return 0;
	if (!p->hdrs && !(p->hdrs = malloc(H2_MAX_HEADERS * sizeof(p->hdrs[0]))))
		return -1;
	if (!p->hdr_bytes && !(p->hdr_bytes = malloc(H2_HEADER_BYTES)))
		return -1;
	return 0;
}

/* Copies each header out of the decoder: its strings do not outlive the emit call. */
static void collect(void *ctx, const char *name, size_t name_len, const char *value,
		    size_t value_len, unsigned flags)
{
	struct h2_stream_parser *p = ctx;
	struct h2_header *h;

	if (p->nhdrs == H2_MAX_HEADERS ||
	    name_len + value_len > H2_HEADER_BYTES - p->hdr_bytes_len) {
		p->hdrs_truncated = true;
		return;
	}
	h = &p->hdrs[p->nhdrs++];
	memcpy(p->hdr_bytes + p->hdr_bytes_len, name, name_len);
	h->name = p->hdr_bytes + p->hdr_bytes_len;
	h->name_len = name_len;
	p->hdr_bytes_len += name_len;
	memcpy(p->hdr_bytes + p->hdr_bytes_len, value, value_len);
	h->value = p->hdr_bytes + p->hdr_bytes_len;
	h->value_len = value_len;
	p->hdr_bytes_len += value_len;
	h->flags = flags;
}

static void finish_block(struct h2_stream_parser *p, const struct h2_callbacks *cb, void *ctx)
{
	int err;

	p->nhdrs = 0;
	p->hdr_bytes_len = 0;
	p->hdrs_truncated = false;
	err = hpack_decode(&p->hpack, p->block, p->block_len, collect, p);
	p->in_block = false;
	p->block_len = 0;
	if (p->block_cap > 1024) { /* a large block is rare: not kept for the next */
		free(p->block);
		p->block = NULL;
		p->block_cap = 0;
	}
	if (err) {
		lost(p, cb, ctx, hpack_strerror(err));
		return;
	}
	if (p->block_type == H2_HEADERS && cb->on_headers)
		cb->on_headers(ctx, p->block_stream, p->hdrs, p->nhdrs, p->block_end_stream,
			       p->hdrs_truncated);
	else if (p->block_type == H2_PUSH_PROMISE && cb->on_push_promise)
		cb->on_push_promise(ctx, p->block_stream, p->promised_id, p->hdrs, p->nhdrs,
				    p->hdrs_truncated);
}

static void frame_done(struct h2_stream_parser *p, const struct h2_callbacks *cb, void *ctx)
{
	size_t i;

	p->state = H2_ST_HEADER;
	p->hdr_got = 0;
	switch (p->type) {
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
		p->in_block = true;
		p->block_type = p->type;
		p->block_stream = p->stream_id;
		p->block_end_stream = p->flags & H2_FLAG_END_STREAM;
		if (p->type == H2_PUSH_PROMISE)
			p->promised_id = be32(p->pre) & 0x7fffffff;
		/* fall through */
	case H2_CONTINUATION:
		if (p->flags & H2_FLAG_END_HEADERS)
			finish_block(p, cb, ctx);
		break;
	case H2_SETTINGS:
		for (i = 0; i + 6 <= p->block_len; i += 6) {
			uint16_t id = (uint16_t)(p->block[i] << 8 | p->block[i + 1]);
			uint32_t value = be32(p->block + i + 2);

			if (id == H2_SETTINGS_HEADER_TABLE_SIZE && p->peer_hpack)
				hpack_set_limit(p->peer_hpack, value);
			if (cb->on_settings)
				cb->on_settings(ctx, id, value);
		}
		p->block_len = 0;
		break;
	case H2_RST_STREAM:
		if (!p->damaged && cb->on_rst)
			cb->on_rst(ctx, p->stream_id, be32(p->pre));
		break;
	case H2_GOAWAY:
		if (!p->damaged && cb->on_goaway)
			cb->on_goaway(ctx, be32(p->pre) & 0x7fffffff, be32(p->pre + 4));
		break;
	default:
		break;
	}
}

/* Enters `phase`, passing over empty phases; the frame ends after the padding. */
static void enter(struct h2_stream_parser *p, enum phase phase, const struct h2_callbacks *cb,
		  void *ctx)
{
	for (; phase < PH_DONE && !p->broken; phase++) {
		p->phase = (uint8_t)phase;
		switch (phase) {
		case PH_PAD:
			p->phase_left = p->flags & H2_FLAG_PADDED ? 1 : 0;
			break;
		case PH_PRE:
			p->phase_left = p->pre_len;
			p->pre_got = 0;
			break;
		case PH_BODY:
			p->phase_left = p->body_len;
			if (is_block_frame(p->type) &&
			    p->body_len > H2_HEADER_BLOCK_MAX - p->block_len) {
				lost(p, cb, ctx, "header block too large");
				return;
			}
			if (is_block_frame(p->type) && grow_block(p, p->block_len + p->body_len)) {
				lost(p, cb, ctx, "out of memory");
				return;
			}
			if (p->type == H2_DATA && !p->body_len && cb->on_data)
				cb->on_data(ctx, p->stream_id, NULL, 0, 0,
					    p->flags & H2_FLAG_END_STREAM);
			break;
		case PH_PADDING:
			p->phase_left = p->pad_len;
			break;
		default:
			break;
		}
		if (p->phase_left)
			return;
	}
	if (!p->broken)
		frame_done(p, cb, ctx);
}

/* The frame header is complete: check it against what may come now and set up the phases. */
static void frame_start(struct h2_stream_parser *p, const struct h2_callbacks *cb, void *ctx)
{
	uint32_t pre_len = 0, ctrl_len = 0;
	bool padded, ctrl = false, on_stream = true;

	p->len = (uint32_t)p->hdr[0] << 16 | (uint32_t)p->hdr[1] << 8 | p->hdr[2];
	p->type = p->hdr[3];
	p->flags = p->hdr[4];
	p->stream_id = be32(p->hdr + 5) & 0x7fffffff;
	p->pad_len = 0;
	p->pad_unknown = false;
	p->damaged = false;
	p->state = H2_ST_PAYLOAD;
	padded = p->flags & H2_FLAG_PADDED;

	if (p->in_block && (p->type != H2_CONTINUATION || p->stream_id != p->block_stream))
		return lost(p, cb, ctx, "header block interrupted before END_HEADERS");
	switch (p->type) {
	case H2_DATA:
		break;
	case H2_HEADERS:
		pre_len = p->flags & H2_FLAG_PRIORITY ? 5 : 0;
		break;
	case H2_PUSH_PROMISE:
		pre_len = 4;
		break;
	case H2_CONTINUATION:
		if (!p->in_block)
			return lost(p, cb, ctx, "CONTINUATION without HEADERS");
		padded = false;
		break;
	case H2_PRIORITY:
		ctrl = true;
		ctrl_len = 5;
		break;
	case H2_RST_STREAM:
		ctrl = true;
		ctrl_len = pre_len = 4;
		break;
	case H2_WINDOW_UPDATE:
		ctrl = true;
		ctrl_len = 4;
		on_stream = false; /* either: stream 0 is the connection */
		break;
	case H2_PING:
		ctrl = true;
		ctrl_len = 8;
		on_stream = false;
		if (p->stream_id)
			return lost(p, cb, ctx, "PING on a stream");
		break;
	case H2_SETTINGS:
		ctrl = true;
		on_stream = false;
		if (p->stream_id)
			return lost(p, cb, ctx, "SETTINGS on a stream");
		if (p->flags & H2_FLAG_ACK ? p->len != 0 : p->len % 6 != 0)
			return lost(p, cb, ctx, "bad SETTINGS length");
		break;
	case H2_GOAWAY:
		ctrl = true;
		on_stream = false;
		pre_len = 8;
		if (p->stream_id)
			return lost(p, cb, ctx, "GOAWAY on a stream");
		if (p->len < 8)
			return lost(p, cb, ctx, "bad GOAWAY length");
		break;
	default:
		/* unknown types are skipped by length, whatever their flags */
		padded = false;
		on_stream = false;
		break;
	}
	if (on_stream && !p->stream_id)
		return lost(p, cb, ctx, "stream frame on stream 0");
	if (ctrl && (p->len > H2_CTRL_FRAME_MAX || (ctrl_len && p->len != ctrl_len)))
		return lost(p, cb, ctx, "bad control frame length");
	if (!padded)
		p->flags &= (uint8_t)~H2_FLAG_PADDED;
	if (p->len < (padded ? 1 : 0) + pre_len)
		return lost(p, cb, ctx, "frame shorter than its fixed fields");
	if ((p->type == H2_HEADERS || p->type == H2_PUSH_PROMISE ||
	     (p->type == H2_SETTINGS && p->len)) &&
	    alloc_block(p, p->type != H2_SETTINGS))
		return lost(p, cb, ctx, "out of memory");
	if (p->type == H2_HEADERS || p->type == H2_PUSH_PROMISE)
		p->block_len = 0;
	p->body_len = p->len - (padded ? 1 : 0) - pre_len;
	p->pre_len = (uint8_t)pre_len;
	enter(p, PH_PAD, cb, ctx);
}

/*
 * Consumes up to n bytes of the current phase: data (captured) or a gap (data NULL). For DATA,
 * a captured piece that runs into the feed's gap is not reported yet but kept in *pending, so
 * that it and the gap are one piece. Returns the bytes consumed.
 */
static size_t payload(struct h2_stream_parser *p, const uint8_t *data, size_t n, bool gap_follows,
		      const uint8_t **pending, size_t *pending_len, const struct h2_callbacks *cb,
		      void *ctx)
{
	size_t m = n < p->phase_left ? n : p->phase_left;
	bool last = m == p->phase_left;

	switch (p->phase) {
	case PH_PAD:
		if (data) {
			p->pad_len = data[0];
			if (p->pad_len > p->body_len)
				return lost(p, cb, ctx, "padding longer than the frame"), m;
			p->body_len -= p->pad_len;
		} else if (p->type == H2_DATA) {
			p->pad_unknown = true; /* body_len covers the padding too */
		} else {
			return lost(p, cb, ctx, "gap in a header block"), m;
		}
		break;
	case PH_PRE:
		if (data)
			memcpy(p->pre + p->pre_got, data, m);
		else if (is_block_frame(p->type))
			return lost(p, cb, ctx, "gap in a header block"), m;
		else
			p->damaged = true;
		p->pre_got += (uint8_t)m;
		break;
	case PH_BODY:
		if (p->type == H2_DATA) {
			bool end = last && p->flags & H2_FLAG_END_STREAM;

			if (data && !p->pad_unknown && !last && m == n && gap_follows) {
				*pending = data;
				*pending_len = m;
				p->phase_left -= (uint32_t)m;
				return m;
			}
			if (!cb->on_data)
				break;
			if (data && !p->pad_unknown)
				cb->on_data(ctx, p->stream_id, data, m, m, end);
			else if (data)
				cb->on_data(ctx, p->stream_id, NULL, 0, m, end);
			else
				cb->on_data(ctx, p->stream_id, *pending, *pending_len,
					    *pending_len + m, end);
			*pending = NULL;
			*pending_len = 0;
		} else if (is_block_frame(p->type) || p->type == H2_SETTINGS) {
			if (!data)
				return lost(p, cb, ctx,
					    p->type == H2_SETTINGS ? "gap in SETTINGS"
								   : "gap in a header block"),
				       m;
			memcpy(p->block + p->block_len, data, m);
			p->block_len += m;
		}
		break;
	default:
		break;
	}
	p->phase_left -= (uint32_t)m;
	if (!p->phase_left)
		enter(p, (enum phase)(p->phase + 1), cb, ctx);
	return m;
}

void h2_feed(struct h2_stream_parser *p, const uint8_t *data, size_t captured, size_t total,
	     const struct h2_callbacks *cb, void *ctx)
{
	const uint8_t *pending = NULL;
	size_t off = 0, gap, n, pending_len = 0;

	if (!cb)
		cb = &no_callbacks;
	if (p->broken)
		return;
	if (total < captured)
		total = captured;
	gap = total - captured;

	while (off < captured && !p->broken) {
		n = captured - off;
		switch (p->state) {
		case H2_ST_PREFACE:
			if (n > (size_t)(H2_PREFACE_LEN - p->preface_got))
				n = H2_PREFACE_LEN - p->preface_got;
			if (memcmp(data + off, &H2_PREFACE[p->preface_got], n))
				return lost(p, cb, ctx, "no connection preface");
			p->preface_got += (uint8_t)n;
			if (p->preface_got == H2_PREFACE_LEN)
				p->state = H2_ST_HEADER;
			break;
		case H2_ST_HEADER:
			if (n > (size_t)(H2_FRAME_HEADER_LEN - p->hdr_got))
				n = H2_FRAME_HEADER_LEN - p->hdr_got;
			memcpy(p->hdr + p->hdr_got, data + off, n);
			p->hdr_got += (uint8_t)n;
			if (p->hdr_got == H2_FRAME_HEADER_LEN)
				frame_start(p, cb, ctx);
			break;
		case H2_ST_PAYLOAD:
			n = payload(p, data + off, n, gap > 0, &pending, &pending_len, cb, ctx);
			break;
		default:
			return;
		}
		off += n;
	}
	while (gap && !p->broken) {
		switch (p->state) {
		case H2_ST_PREFACE:
			return lost(p, cb, ctx, "gap in the connection preface");
		case H2_ST_HEADER:
			return lost(p, cb, ctx, "gap in a frame header");
		case H2_ST_PAYLOAD:
			gap -= payload(p, NULL, gap, false, &pending, &pending_len, cb, ctx);
			break;
		default:
			return;
		}
	}
}
