// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h2_frames.h"
#include "unit.h"

#include "protocols/h2_parser.h"

static void put_hex(struct wire *w, const char *hex)
{
	unsigned v;

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		assert_true(sscanf(hex, "%2x", &v) == 1);
		assert_true(w->len < sizeof(w->b));
		w->b[w->len++] = (uint8_t)v;
		hex++;
	}
}

/* A frame whose payload is given in hex. */
static void frame_hex(struct wire *w, uint8_t type, uint8_t flags, uint32_t stream, const char *hex)
{
	struct wire p = { .len = 0 };

	put_hex(&p, hex);
	frame(w, type, flags, stream, p.b, p.len);
}

/* Records callbacks as text; consecutive DATA pieces of one stream are merged into one
 * entry, so that the entries do not depend on how the bytes were cut into feeds. */
struct rec {
	char log[16384];
	size_t len;
	uint32_t data_stream; /* the DATA entry being merged, 0 for none */
	size_t data_captured, data_payload;
	char data[4096];
	int lost;
};

static void rec_put(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(r->log) - r->len);
	r->len += (size_t)n;
}

static void rec_flush(struct rec *r, bool end)
{
	if (!r->data_stream)
		return;
	rec_put(r, "D%u %.*s/%zu%s|", r->data_stream, (int)r->data_captured, r->data,
		r->data_payload, end ? " E" : "");
	r->data_stream = 0;
	r->data_captured = r->data_payload = 0;
}

static void rec_headers(void *ctx, uint32_t stream_id, const struct h2_header *h, size_t n,
			bool end_stream, bool truncated)
{
	struct rec *r = ctx;
	size_t i;

	rec_flush(r, false);
	rec_put(r, "H%u", stream_id);
	for (i = 0; i < n; i++)
		rec_put(r, " %.*s=%.*s", (int)h[i].name_len, h[i].name, (int)h[i].value_len,
			h[i].value);
	rec_put(r, "%s%s|", end_stream ? " E" : "", truncated ? " T" : "");
}

static void rec_push(void *ctx, uint32_t stream_id, uint32_t promised, const struct h2_header *h,
		     size_t n, bool truncated)
{
	struct rec *r = ctx;
	size_t i;

	rec_flush(r, false);
	rec_put(r, "P%u>%u", stream_id, promised);
	for (i = 0; i < n; i++)
		rec_put(r, " %.*s=%.*s", (int)h[i].name_len, h[i].name, (int)h[i].value_len,
			h[i].value);
	rec_put(r, "%s|", truncated ? " T" : "");
}

static void rec_data(void *ctx, uint32_t stream_id, const uint8_t *data, size_t captured,
		     size_t payload, bool end_stream)
{
	struct rec *r = ctx;

	assert_true(captured <= payload);
	assert_true(data || !captured);
	if (r->data_stream != stream_id)
		rec_flush(r, false);
	r->data_stream = stream_id;
	assert_true(captured <= sizeof(r->data) - r->data_captured);
	if (captured)
		memcpy(r->data + r->data_captured, data, captured);
	r->data_captured += captured;
	r->data_payload += payload;
	if (end_stream)
		rec_flush(r, true);
}

static void rec_rst(void *ctx, uint32_t stream_id, uint32_t error_code)
{
	struct rec *r = ctx;

	rec_flush(r, false);
	rec_put(r, "R%u %u|", stream_id, error_code);
}

static void rec_goaway(void *ctx, uint32_t last, uint32_t error_code)
{
	struct rec *r = ctx;

	rec_flush(r, false);
	rec_put(r, "G%u %u|", last, error_code);
}

static void rec_settings(void *ctx, uint16_t id, uint32_t value)
{
	struct rec *r = ctx;

	rec_flush(r, false);
	rec_put(r, "S%u=%u|", id, value);
}

static void rec_lost(void *ctx, const char *reason)
{
	struct rec *r = ctx;

	rec_flush(r, false);
	r->lost++;
	rec_put(r, "L %s|", reason);
}

static const struct h2_callbacks rec_cb = {
	.on_headers = rec_headers,
	.on_push_promise = rec_push,
	.on_data = rec_data,
	.on_rst = rec_rst,
	.on_goaway = rec_goaway,
	.on_settings = rec_settings,
	.on_lost = rec_lost,
};

static void rec_reset(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feeds w: mode 0 whole, 1 one byte at a time, else in random pieces seeded by mode. */
static void feed_all(struct h2_stream_parser *p, const struct wire *w, unsigned mode, struct rec *r)
{
	uint32_t x = mode * 2654435761u | 1;
	size_t off = 0, n;

	rec_reset(r);
	for (off = 0; off < w->len; off += n) {
		n = w->len - off;
		if (mode == 1)
			n = 1;
		else if (mode > 1)
			n = 1 + rnd(&x) % (n < 40 ? n : 40);
		h2_feed(p, w->b + off, n, n, &rec_cb, r);
	}
	rec_flush(r, false);
}

/* The client's side of a connection: RFC 7541 C.3's requests, plain. */
static void client_wire(struct wire *w)
{
	static const uint8_t settings[] = { 0, 1, 0, 0, 0x01, 0, 0, 3, 0, 0, 0, 100 };

	w->len = 0;
	put(w, H2_PREFACE, H2_PREFACE_LEN);
	frame(w, H2_SETTINGS, 0, 0, settings, sizeof(settings));
	frame_hex(w, H2_WINDOW_UPDATE, 0, 0, "00ff0001");
	frame_hex(w, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1,
		  "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");
	frame_hex(w, H2_SETTINGS, H2_FLAG_ACK, 0, "");
	/* PADDED and PRIORITY, then two CONTINUATIONs */
	frame_hex(w, H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY, 3,
		  "03 80000001 10 8286 84 000000");
	frame_hex(w, H2_CONTINUATION, 0, 3, "be 5808 6e6f");
	frame_hex(w, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "2d63 6163 6865");
	frame_hex(w, H2_DATA, H2_FLAG_PADDED, 3, "04 706f7374 00000000");
	frame_hex(w, H2_PING, 0, 0, "0102030405060708");
	frame_hex(w, H2_PRIORITY, 0, 3, "0000000110");
	frame_hex(w, 0xfa, 0xff, 7, "0102030405"); /* an unknown type: skipped */
	frame_hex(w, H2_DATA, H2_FLAG_END_STREAM, 3, "");
	frame_hex(w, H2_HEADERS, H2_FLAG_END_HEADERS, 5,
		  "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65");
	frame_hex(w, H2_RST_STREAM, 0, 5, "00000008");
	frame_hex(w, H2_GOAWAY, 0, 0, "00000005 00000000 6279 65");
}

static const char *const client_log =
	"S1=256|S3=100|"
	"H1 :method=GET :scheme=http :path=/ :authority=www.example.com E|"
	"H3 :method=GET :scheme=http :path=/ :authority=www.example.com cache-control=no-cache|"
	"D3 post/4 E|"
	"H5 :method=GET :scheme=https :path=/index.html :authority=www.example.com "
	"custom-key=custom-value|"
	"R5 8|G5 0|";

/* The server's side: RFC 7541 C.6's responses (Huffman) after a size update to 256. */
static void server_wire(struct wire *w)
{
	w->len = 0;
	frame_hex(w, H2_SETTINGS, 0, 0, "000400010000");
	frame_hex(w, H2_SETTINGS, H2_FLAG_ACK, 0, "");
	frame_hex(w, H2_HEADERS, H2_FLAG_END_HEADERS, 1,
		  "3fe101 4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 "
		  "66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3");
	frame_hex(w, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 1,
		  "02 00000002 8287 85 0000");
	frame_hex(w, H2_DATA, 0, 1, "68656c6c6f");
	frame_hex(w, H2_DATA, H2_FLAG_END_STREAM, 1, "20776f726c64");
	frame_hex(w, H2_HEADERS, 0, 3, "4883 640e");
	frame_hex(w, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "ffc1 c0bf");
	frame_hex(w, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 5,
		  "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a "
		  "839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 "
		  "72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07");
}

static const char *const server_log =
	"S4=65536|"
	"H1 :status=302 cache-control=private date=Mon, 21 Oct 2013 20:13:21 GMT "
	"location=https://www.example.com|"
	"P1>2 :method=GET :scheme=https :path=/index.html|"
	"D1 hello world/11 E|"
	"H3 :status=307 cache-control=private date=Mon, 21 Oct 2013 20:13:21 GMT "
	"location=https://www.example.com|"
	"H5 :status=200 cache-control=private date=Mon, 21 Oct 2013 20:13:22 GMT "
	"location=https://www.example.com content-encoding=gzip "
	"set-cookie=foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1 E|";

static struct wire cw, sw, tmp;
static struct rec r1;

UNIT_TEST(test_client_and_server_any_split)
{
	struct h2_stream_parser c, s;
	unsigned mode;

	(void)state;
	client_wire(&cw);
	server_wire(&sw);
	for (mode = 0; mode < 40; mode++) {
		h2_parser_init(&c, true);
		h2_parser_init(&s, false);
		h2_parser_pair(&c, &s);
		feed_all(&c, &cw, mode, &r1);
		if (strcmp(r1.log, client_log))
			fail_msg("client, mode %u:\n%s\n%s", mode, r1.log, client_log);
		assert_false(c.broken);
		assert_int_equal(c.hpack.size, 164);
		/* the client's SETTINGS_HEADER_TABLE_SIZE is the server direction's limit */
		assert_int_equal(s.hpack.limit, 256);
		feed_all(&s, &sw, mode, &r1);
		if (strcmp(r1.log, server_log))
			fail_msg("server, mode %u:\n%s\n%s", mode, r1.log, server_log);
		assert_false(s.broken);
		assert_int_equal(s.hpack.size, 215);
		assert_int_equal(c.hpack.limit, HPACK_TABLE_DEFAULT); /* S4 is not a table size */
		h2_parser_free(&c);
		h2_parser_free(&s);
	}
}

UNIT_TEST(test_settings_wiring)
{
	struct h2_stream_parser c, s;

	(void)state;
	/* the client allows 256: a size update to 4096 by the server is then an error */
	h2_parser_init(&c, true);
	h2_parser_init(&s, false);
	h2_parser_pair(&c, &s);
	tmp.len = 0;
	put(&tmp, H2_PREFACE, H2_PREFACE_LEN);
	frame_hex(&tmp, H2_SETTINGS, 0, 0, "000100000100");
	feed_all(&c, &tmp, 0, &r1);
	assert_string_equal(r1.log, "S1=256|");
	assert_int_equal(s.hpack.limit, 256);
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, H2_FLAG_END_HEADERS, 1, "3fe11f 88");
	feed_all(&s, &tmp, 0, &r1);
	assert_string_equal(r1.log, "L hpack: table size update above the limit|");
	assert_true(s.broken);
	h2_parser_free(&c);
	h2_parser_free(&s);

	/* it allows 8192: the same update is fine; unpaired, the default 4096 holds */
	h2_parser_init(&c, true);
	h2_parser_init(&s, false);
	h2_parser_pair(&c, &s);
	tmp.len = 0;
	put(&tmp, H2_PREFACE, H2_PREFACE_LEN);
	frame_hex(&tmp, H2_SETTINGS, 0, 0, "000100002000");
	feed_all(&c, &tmp, 0, &r1);
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, H2_FLAG_END_HEADERS, 1, "3fe13f 88");
	feed_all(&s, &tmp, 0, &r1);
	assert_string_equal(r1.log, "H1 :status=200|");
	h2_parser_free(&s);
	h2_parser_init(&s, false);
	feed_all(&s, &tmp, 0, &r1);
	assert_string_equal(r1.log, "L hpack: table size update above the limit|");
	h2_parser_free(&c);
	h2_parser_free(&s);
}

/* Feeds w with one gap: bytes [from, to) are not captured, the feed that holds `from` ends
 * with them. The rest goes in pieces of `step` bytes. */
static void feed_gap(struct h2_stream_parser *p, const struct wire *w, size_t from, size_t to,
		     size_t step, struct rec *r)
{
	size_t off = 0, n;

	rec_reset(r);
	while (off < w->len) {
		n = w->len - off < step ? w->len - off : step;
		if (off <= from && from < off + n) {
			h2_feed(p, w->b + off, from - off, to - off, &rec_cb, r);
			off = to;
			continue;
		}
		h2_feed(p, w->b + off, n, n, &rec_cb, r);
		off += n;
	}
	rec_flush(r, false);
}

UNIT_TEST(test_gap_inside_data)
{
	struct h2_stream_parser s;
	size_t data_at, step;

	(void)state;
	server_wire(&sw);
	/* "hello" is the payload of the first DATA frame: 9 bytes after its header */
	data_at = (size_t)((uint8_t *)memmem(sw.b, sw.len, "hello", 5) - sw.b);
	for (step = 1; step < 64; step += 7) {
		h2_parser_init(&s, false);
		hpack_set_limit(&s.hpack, 256);
		feed_gap(&s, &sw, data_at + 1, data_at + 4, step, &r1);
		assert_false(s.broken);
		assert_non_null(strstr(r1.log, "|D1 ho world/11 E|"));
		assert_non_null(strstr(r1.log, "|H5 :status=200"));
		h2_parser_free(&s);

		/* a gap to the end of the frame, and one that starts the frame's payload */
		h2_parser_init(&s, false);
		hpack_set_limit(&s.hpack, 256);
		feed_gap(&s, &sw, data_at, data_at + 5, step, &r1);
		assert_non_null(strstr(r1.log, "|D1  world/11 E|"));
		assert_false(s.broken);
		h2_parser_free(&s);
	}

	/* padded DATA: a gap over the Pad Length byte leaves the rest uncaptured */
	client_wire(&cw);
	data_at = (size_t)((uint8_t *)memmem(cw.b, cw.len, "post", 4) - cw.b);
	h2_parser_init(&s, true);
	feed_gap(&s, &cw, data_at - 1, data_at, 1000, &r1);
	assert_non_null(strstr(r1.log, "|D3 /8 E|"));
	assert_false(s.broken);
	h2_parser_free(&s);
	/* a gap over the padding only costs nothing */
	h2_parser_init(&s, true);
	feed_gap(&s, &cw, data_at + 4, data_at + 8, 1000, &r1);
	assert_string_equal(r1.log, client_log);
	h2_parser_free(&s);
}

UNIT_TEST(test_gap_loses_sync)
{
	struct h2_stream_parser c;
	size_t at, i;

	(void)state;
	client_wire(&cw);
	/* over the HEADERS block of stream 1 (after the preface, SETTINGS and WINDOW_UPDATE) */
	at = H2_PREFACE_LEN + 9 + 12 + 9 + 4 + 9 + 3;
	h2_parser_init(&c, true);
	feed_gap(&c, &cw, at, at + 2, 7, &r1);
	assert_string_equal(r1.log, "S1=256|S3=100|L gap in a header block|");
	assert_int_equal(r1.lost, 1);
	assert_true(c.broken);
	h2_feed(&c, cw.b, cw.len, cw.len, &rec_cb, &r1);
	assert_int_equal(r1.lost, 1);
	h2_parser_free(&c);

	/* over a frame header, the preface, a SETTINGS payload, a CONTINUATION */
	h2_parser_init(&c, true);
	feed_gap(&c, &cw, H2_PREFACE_LEN + 2, H2_PREFACE_LEN + 3, 5, &r1);
	assert_string_equal(r1.log, "L gap in a frame header|");
	h2_parser_free(&c);
	h2_parser_init(&c, true);
	feed_gap(&c, &cw, 3, 30, 5, &r1);
	assert_string_equal(r1.log, "L gap in the connection preface|");
	h2_parser_free(&c);
	h2_parser_init(&c, true);
	feed_gap(&c, &cw, H2_PREFACE_LEN + 9, H2_PREFACE_LEN + 10, 5, &r1);
	assert_string_equal(r1.log, "L gap in SETTINGS|");
	h2_parser_free(&c);

	/* a gap anywhere: at most one loss, and what came before it as without a gap */
	for (i = 0; i + 1 < cw.len; i++) {
		h2_parser_init(&c, true);
		feed_gap(&c, &cw, i, i + 1, 13, &r1);
		assert_true(r1.lost <= 1);
		assert_true(r1.lost == (int)c.broken);
		if (!c.broken)
			assert_true(strstr(r1.log, "custom-key=custom-value|"));
		h2_parser_free(&c);
	}
}

/* A gap in the fixed fields of RST_STREAM or GOAWAY, or in a PING, keeps sync: the frame is
 * not reported (its fields are not known), what follows is. */
UNIT_TEST(test_gap_in_control_frames)
{
	struct h2_stream_parser c;
	size_t rst;

	(void)state;
	client_wire(&cw);
	rst = cw.len - (9 + 11) - 4; /* the RST_STREAM payload, before the GOAWAY */
	h2_parser_init(&c, true);
	feed_gap(&c, &cw, rst + 1, rst + 3, 1000, &r1);
	assert_false(c.broken);
	assert_non_null(strstr(r1.log, "custom-key=custom-value|G5 0|"));
	assert_null(strstr(r1.log, "R5"));
	h2_parser_free(&c);

	h2_parser_init(&c, true);
	feed_gap(&c, &cw, cw.len - 11, cw.len - 9, 1000, &r1);
	assert_false(c.broken);
	assert_non_null(strstr(r1.log, "R5 8|"));
	assert_null(strstr(r1.log, "G5"));
	h2_parser_free(&c);
}

static void expect_lost(const struct wire *w, bool client, const char *log)
{
	struct h2_stream_parser p;
	unsigned mode;

	for (mode = 0; mode < 3; mode++) {
		h2_parser_init(&p, client);
		feed_all(&p, w, mode, &r1);
		assert_string_equal(r1.log, log);
		assert_true(p.broken);
		h2_parser_free(&p);
	}
}

UNIT_TEST(test_malformed)
{
	uint8_t big[H2_HEADER_BLOCK_MAX];

	(void)state;
	tmp.len = 0;
	put(&tmp, "PRI * HTTP/1.1\r\n", 16);
	expect_lost(&tmp, true, "L no connection preface|");

	tmp.len = 0;
	frame_hex(&tmp, H2_PING, 0, 0, "01020304050607");
	expect_lost(&tmp, false, "L bad control frame length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_SETTINGS, 0, 0, "0001000010");
	expect_lost(&tmp, false, "L bad SETTINGS length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_SETTINGS, H2_FLAG_ACK, 0, "000100001000");
	expect_lost(&tmp, false, "L bad SETTINGS length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_RST_STREAM, 0, 1, "000008");
	expect_lost(&tmp, false, "L bad control frame length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_WINDOW_UPDATE, 0, 1, "0000000100");
	expect_lost(&tmp, false, "L bad control frame length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_GOAWAY, 0, 0, "00000001");
	expect_lost(&tmp, false, "L bad GOAWAY length|");
	tmp.len = 0;
	frame_header(&tmp, 20000, H2_GOAWAY, 0, 0);
	expect_lost(&tmp, false, "L bad control frame length|");
	tmp.len = 0;
	frame_hex(&tmp, H2_DATA, 0, 0, "00");
	expect_lost(&tmp, false, "L stream frame on stream 0|");
	tmp.len = 0;
	frame_hex(&tmp, H2_PING, 0, 1, "0102030405060708");
	expect_lost(&tmp, false, "L PING on a stream|");
	tmp.len = 0;
	frame_hex(&tmp, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, "82");
	expect_lost(&tmp, false, "L CONTINUATION without HEADERS|");
	/* padding longer than the frame, a PADDED frame with no room for its Pad Length */
	tmp.len = 0;
	frame_hex(&tmp, H2_DATA, H2_FLAG_PADDED, 1, "05 6869 0000");
	expect_lost(&tmp, false, "L padding longer than the frame|");
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_END_HEADERS, 1, "03 82 00");
	expect_lost(&tmp, false, "L padding longer than the frame|");
	tmp.len = 0;
	frame_hex(&tmp, H2_DATA, H2_FLAG_PADDED, 1, "");
	expect_lost(&tmp, false, "L frame shorter than its fixed fields|");
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, H2_FLAG_PRIORITY | H2_FLAG_END_HEADERS, 1, "00000082");
	expect_lost(&tmp, false, "L frame shorter than its fixed fields|");

	/* a frame in the middle of a header block, a CONTINUATION for another stream */
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, 0, 1, "82");
	frame_hex(&tmp, H2_DATA, 0, 1, "00");
	expect_lost(&tmp, false, "L header block interrupted before END_HEADERS|");
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, 0, 1, "82");
	frame_hex(&tmp, H2_CONTINUATION, H2_FLAG_END_HEADERS, 3, "84");
	expect_lost(&tmp, false, "L header block interrupted before END_HEADERS|");

	/* a header block one byte over the buffer, in a HEADERS and CONTINUATIONs */
	memset(big, 0x82, sizeof(big));
	tmp.len = 0;
	frame(&tmp, H2_HEADERS, 0, 1, big, 8000);
	frame(&tmp, H2_CONTINUATION, 0, 1, big, 8000);
	frame(&tmp, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, big, H2_HEADER_BLOCK_MAX - 16000 + 1);
	expect_lost(&tmp, false, "L header block too large|");
	/* one byte less fits: 16384 :method GETs, of which H2_MAX_HEADERS are kept */
	tmp.len = 0;
	frame(&tmp, H2_HEADERS, 0, 1, big, 8000);
	frame(&tmp, H2_CONTINUATION, 0, 1, big, 8000);
	frame(&tmp, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, big, H2_HEADER_BLOCK_MAX - 16000);
	{
		struct h2_stream_parser p;

		h2_parser_init(&p, false);
		feed_all(&p, &tmp, 0, &r1);
		assert_false(p.broken);
		assert_non_null(strstr(r1.log, " T|"));
		assert_int_equal(p.nhdrs, H2_MAX_HEADERS);
		h2_parser_free(&p);
	}

	/* an HPACK error: index 0 */
	tmp.len = 0;
	frame_hex(&tmp, H2_HEADERS, H2_FLAG_END_HEADERS, 1, "80");
	expect_lost(&tmp, false, "L hpack: index 0 or beyond the tables|");
}

UNIT_TEST(test_null_callbacks)
{
	struct h2_stream_parser c;
	struct h2_callbacks none = { 0 };

	(void)state;
	client_wire(&cw);
	h2_parser_init(&c, true);
	h2_feed(&c, cw.b, cw.len, cw.len, NULL, NULL);
	assert_false(c.broken);
	h2_feed(&c, cw.b, 3, 100, &none, NULL); /* a gap over a frame header */
	assert_true(c.broken);
	h2_parser_free(&c);
	h2_parser_free(NULL);
}

UNIT_TEST(test_sniff)
{
	(void)state;
	assert_true(h2_sniff((const uint8_t *)H2_PREFACE, H2_PREFACE_LEN));
	assert_true(h2_sniff((const uint8_t *)H2_PREFACE "\0\0\0\4", H2_PREFACE_LEN + 4));
	assert_true(h2_sniff((const uint8_t *)"PRI * HT", 8));
	assert_true(h2_sniff((const uint8_t *)"", 0));
	assert_false(h2_sniff((const uint8_t *)"PRI * HTTP/1.1", 14));
	assert_false(h2_sniff((const uint8_t *)"GET / HTTP/1.1\r\n\r\n      ", 24));
	assert_false(h2_sniff((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", 24));
}

UNIT_MAIN(NULL, NULL)
