// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * HTTP/2 framing of hostile byte streams, fed as a capture would feed them. Input: byte 0
 * chooses how the bytes are cut into feeds, byte 1 which feeds end in a gap, byte 2 the
 * direction (bit 0: client, with the preface) and the other direction's limit; the rest is
 * the stream.
 *
 * Besides the sanitizers, it checks that callbacks keep their promises (on_lost once and
 * nothing after it, DATA pieces that add up, headers within bounds and readable) and that,
 * without gaps, how the bytes are cut into feeds changes nothing that is reported.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/hash.h"
#include "protocols/h2_parser.h"

#define MAX_RECS 4096

struct fz {
	uint64_t recs[MAX_RECS]; /* one hash per callback; DATA pieces merged per stream */
	size_t nrecs;
	bool full;
	bool lost;
	uint32_t data_stream;
	uint64_t data_hash;
	uint64_t data_len;
};

static void put(struct fz *f, uint64_t h)
{
	if (f->nrecs == MAX_RECS) {
		f->full = true;
		return;
	}
	f->recs[f->nrecs++] = h;
}

static void flush(struct fz *f)
{
	if (!f->data_stream)
		return;
	put(f, fnv1a_update(f->data_hash, &f->data_len, sizeof(f->data_len)));
	f->data_stream = 0;
}

static uint64_t hash_headers(uint64_t h, const struct h2_header *hdrs, size_t n)
{
	size_t i;

	assert(n <= H2_MAX_HEADERS);
	for (i = 0; i < n; i++) {
		h = fnv1a_update(h, hdrs[i].name, hdrs[i].name_len);
		h = fnv1a_update(h, ":", 1);
		h = fnv1a_update(h, hdrs[i].value, hdrs[i].value_len);
		h = fnv1a_update(h, &hdrs[i].flags, sizeof(hdrs[i].flags));
	}
	return h;
}

static void on_headers(void *ctx, uint32_t stream_id, const struct h2_header *hdrs, size_t n,
		       bool end_stream, bool truncated)
{
	struct fz *f = ctx;
	uint64_t h = FNV1A_OFFSET;

	assert(!f->lost && stream_id && stream_id <= 0x7fffffff);
	flush(f);
	h = fnv1a_update(h, "H", 1);
	h = fnv1a_update(h, &stream_id, sizeof(stream_id));
	h = fnv1a_update(h, &end_stream, sizeof(end_stream));
	h = fnv1a_update(h, &truncated, sizeof(truncated));
	put(f, hash_headers(h, hdrs, n));
}

static void on_push_promise(void *ctx, uint32_t stream_id, uint32_t promised,
			    const struct h2_header *hdrs, size_t n, bool truncated)
{
	struct fz *f = ctx;
	uint64_t h = FNV1A_OFFSET;

	assert(!f->lost && stream_id && promised <= 0x7fffffff);
	flush(f);
	h = fnv1a_update(h, "P", 1);
	h = fnv1a_update(h, &promised, sizeof(promised));
	h = fnv1a_update(h, &truncated, sizeof(truncated));
	put(f, hash_headers(h, hdrs, n));
}

static void on_data(void *ctx, uint32_t stream_id, const uint8_t *data, size_t captured,
		    size_t payload, bool end_stream)
{
	struct fz *f = ctx;

	assert(!f->lost && stream_id);
	assert(captured <= payload && payload < (1u << 24));
	assert(data || !captured);
	if (f->data_stream != stream_id) {
		flush(f);
		f->data_stream = stream_id;
		f->data_hash = fnv1a_update(FNV1A_OFFSET, &stream_id, sizeof(stream_id));
		f->data_len = 0;
	}
	if (captured)
		f->data_hash = fnv1a_update(f->data_hash, data, captured);
	f->data_len += payload;
	if (end_stream) {
		f->data_hash = fnv1a_update(f->data_hash, "E", 1);
		flush(f);
	}
}

static void on_rst(void *ctx, uint32_t stream_id, uint32_t error_code)
{
	struct fz *f = ctx;

	assert(!f->lost && stream_id);
	flush(f);
	put(f, fnv1a_update(fnv1a_update(FNV1A_OFFSET, "R", 1), &error_code, 4) ^ stream_id);
}

static void on_goaway(void *ctx, uint32_t last, uint32_t error_code)
{
	struct fz *f = ctx;

	assert(!f->lost && last <= 0x7fffffff);
	flush(f);
	put(f, fnv1a_update(fnv1a_update(FNV1A_OFFSET, "G", 1), &error_code, 4) ^ last);
}

static void on_settings(void *ctx, uint16_t id, uint32_t value)
{
	struct fz *f = ctx;

	assert(!f->lost);
	flush(f);
	put(f, fnv1a_update(fnv1a_update(FNV1A_OFFSET, &id, 2), &value, 4));
}

static void on_lost(void *ctx, const char *reason)
{
	struct fz *f = ctx;

	assert(!f->lost && reason && reason[0]);
	flush(f);
	f->lost = true;
	put(f, fnv1a_update(FNV1A_OFFSET, reason, strlen(reason)));
}

static const struct h2_callbacks cb = {
	.on_headers = on_headers,
	.on_push_promise = on_push_promise,
	.on_data = on_data,
	.on_rst = on_rst,
	.on_goaway = on_goaway,
	.on_settings = on_settings,
	.on_lost = on_lost,
};

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feeds data as events: pattern 0 one event, 1 one byte each, else random sizes. With
 * gap_bits, some events claim bytes that were not captured: the next bytes of the input (or
 * more than there are), which are then skipped. */
static void run(struct fz *f, const uint8_t *data, size_t size, bool client, uint8_t setup,
		unsigned pattern, uint8_t gap_bits, uint32_t seed)
{
	static const uint32_t limits[] = { 0, 256, 4096, 65536 };
	struct h2_stream_parser p, other;
	uint32_t x = seed | 1;
	size_t off = 0, ev = 0;

	memset(f, 0, sizeof(*f));
	h2_parser_init(&p, client);
	h2_parser_init(&other, !client);
	if (client)
		h2_parser_pair(&p, &other);
	else
		h2_parser_pair(&other, &p);
	hpack_set_limit(&p.hpack, limits[(setup >> 1) & 3]);
	if (setup & 8)
		hpack_decoder_reset(&p.hpack);
	while (off < size) {
		size_t n = size - off, total;

		if (pattern == 1)
			n = 1;
		else if (pattern >= 2 && n > 1)
			n = 1 + rnd(&x) % (n < 64 * pattern ? n : 64 * pattern);
		total = n;
		if ((gap_bits >> (ev++ & 7)) & 1) {
			static const size_t extra[] = { 1, 2, 9, 100, 4096, 1 << 24, 0 };

			total += extra[rnd(&x) % 7];
			if (rnd(&x) % 4 == 0)
				n = 0;
		}
		if (!total)
			n = total = 1;
		h2_feed(&p, data + off, n, total, &cb, f);
		assert(p.broken == f->lost);
		assert(p.block_len <= H2_HEADER_BLOCK_MAX);
		assert(p.hpack.limit <= HPACK_TABLE_CAP);
		assert(p.hpack.size <= p.hpack.max_size || p.broken);
		/* the gap's bytes were in the stream, only not captured */
		off += total < size - off ? total : size - off;
	}
	flush(f);
	assert(other.hpack.limit <= HPACK_TABLE_CAP);
	h2_parser_free(&p);
	h2_parser_free(&other);
}

static struct fz fa, fb;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	unsigned pattern;
	bool client;
	size_t n;

	if (size < 3)
		return 0;
	pattern = data[0] & 0x0f;
	client = data[2] & 1;
	p = data + 3;
	n = size - 3;
	h2_sniff(p, n);

	/* with the gaps the input asks for */
	run(&fa, p, n, client, data[2], pattern, data[1], data[0] | (uint32_t)data[1] << 8);

	/* without gaps, the cut into feeds must not change what is reported */
	run(&fa, p, n, client, data[2], 0, 0, 0);
	run(&fb, p, n, client, data[2], n <= 1024 ? 1 : 2 + pattern % 4, 0, data[0] + 7u);
	if (!fa.full && !fb.full) {
		assert(fa.nrecs == fb.nrecs);
		assert(!memcmp(fa.recs, fb.recs, fa.nrecs * sizeof(fa.recs[0])));
	}
	return 0;
}
