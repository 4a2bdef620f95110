// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "protocols/h2_hpack.h"
#include "hpack_vectors.h"

/* The headers of one block as "name: value\n" lines, "(n)" after never-indexed ones. */
struct rec {
	char log[65536];
	size_t len;
	size_t n;
};

static void rec_put(struct rec *r, const void *s, size_t len)
{
	assert_true(len < sizeof(r->log) - r->len);
	memcpy(r->log + r->len, s, len); /* not printf: values may hold NULs */
	r->len += len;
	r->log[r->len] = '\0';
}

static void rec_emit(void *ctx, const char *name, size_t name_len, const char *value,
		     size_t value_len, unsigned flags)
{
	struct rec *r = ctx;

	rec_put(r, name, name_len);
	rec_put(r, ": ", 2);
	rec_put(r, value, value_len);
	if (flags & HPACK_F_NEVER_INDEXED)
		rec_put(r, " (n)", 4);
	rec_put(r, "\n", 1);
	r->n++;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	for (; *hex; hex++) {
		if (*hex == ' ')
			continue;
		assert_true(sscanf(hex, "%2x", &v) == 1);
		assert_true(n < cap);
		out[n++] = (uint8_t)v;
		hex++;
	}
	return n;
}

/* Decodes hex into r (emptied first); returns what hpack_decode returned. */
static int decode_hex(struct hpack_decoder *d, const char *hex, struct rec *r)
{
	static uint8_t buf[8192];
	size_t n = unhex(hex, buf, sizeof(buf));

	r->len = 0;
	r->n = 0;
	r->log[0] = '\0';
	return hpack_decode(d, buf, n, rec_emit, r);
}

static void expect_block(struct hpack_decoder *d, const char *hex, const char *headers,
			 uint32_t table_size)
{
	static struct rec r;

	assert_int_equal(decode_hex(d, hex, &r), 0);
	assert_string_equal(r.log, headers);
	assert_int_equal(d->size, table_size);
	assert_false(d->broken);
}

static void expect_error(struct hpack_decoder *d, const char *hex, int err)
{
	static struct rec r;

	assert_int_equal(decode_hex(d, hex, &r), err);
	assert_true(d->broken);
	assert_int_equal(decode_hex(d, "82", &r), HPACK_E_BROKEN);
	assert_int_equal(r.n, 0);
}

/* The dynamic table, newest first, as "name: value\n" lines. */
static void expect_table(const struct hpack_decoder *d, const char *want)
{
	char got[4096];
	const char *n, *v;
	size_t nl, vl, len = 0;
	uint32_t i;

	got[0] = '\0';
	for (i = 1; hpack_table_get(d, i, &n, &nl, &v, &vl) == 0; i++)
		len += (size_t)snprintf(got + len, sizeof(got) - len, "%.*s: %.*s\n", (int)nl, n,
					(int)vl, v);
	assert_int_equal(i - 1, d->count);
	assert_string_equal(got, want);
}

static struct hpack_decoder *decoder_new(uint32_t limit)
{
	struct hpack_decoder *d = malloc(sizeof(*d));

	assert_non_null(d);
	hpack_decoder_init(d);
	hpack_set_limit(d, limit);
	hpack_decoder_reset(d); /* a table of `limit` from the start, as RFC 7541 C.5 has */
	return d;
}

static void decoder_del(struct hpack_decoder *d)
{
	hpack_decoder_free(d);
	free(d);
}

UNIT_TEST(test_rfc7541_c2)
{
	struct hpack_decoder *d = decoder_new(4096);

	(void)state;
	/* C.2.1 literal with indexing, C.2.2 without, C.2.3 never indexed, C.2.4 indexed */
	expect_block(d, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
		     "custom-key: custom-header\n", 55);
	expect_table(d, "custom-key: custom-header\n");
	decoder_del(d);

	d = decoder_new(4096);
	expect_block(d, "040c 2f73 616d 706c 652f 7061 7468", ":path: /sample/path\n", 0);
	decoder_del(d);

	d = decoder_new(4096);
	expect_block(d, "1008 7061 7373 776f 7264 0673 6563 7265 74", "password: secret (n)\n", 0);
	decoder_del(d);

	d = decoder_new(4096);
	expect_block(d, "82", ":method: GET\n", 0);
	expect_table(d, "");
	decoder_del(d);
}

static const char *const req1 = ":method: GET\n:scheme: http\n:path: /\n"
				":authority: www.example.com\n";
static const char *const req2 = ":method: GET\n:scheme: http\n:path: /\n"
				":authority: www.example.com\ncache-control: no-cache\n";
static const char *const req3 = ":method: GET\n:scheme: https\n:path: /index.html\n"
				":authority: www.example.com\ncustom-key: custom-value\n";
static const char *const table3 = "custom-key: custom-value\ncache-control: no-cache\n"
				  ":authority: www.example.com\n";

UNIT_TEST(test_rfc7541_c3_requests)
{
	struct hpack_decoder *d = decoder_new(4096);

	(void)state;
	expect_block(d, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", req1, 57);
	expect_table(d, ":authority: www.example.com\n");
	expect_block(d, "8286 84be 5808 6e6f 2d63 6163 6865", req2, 110);
	expect_table(d, "cache-control: no-cache\n:authority: www.example.com\n");
	expect_block(d, "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
		     req3, 164);
	expect_table(d, table3);
	decoder_del(d);
}

UNIT_TEST(test_rfc7541_c4_requests_huffman)
{
	struct hpack_decoder *d = decoder_new(4096);

	(void)state;
	expect_block(d, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", req1, 57);
	expect_block(d, "8286 84be 5886 a8eb 1064 9cbf", req2, 110);
	expect_block(d, "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", req3, 164);
	expect_table(d, table3);
	decoder_del(d);
}

static const char *const resp1 = ":status: 302\ncache-control: private\n"
				 "date: Mon, 21 Oct 2013 20:13:21 GMT\n"
				 "location: https://www.example.com\n";
static const char *const resp2 = ":status: 307\ncache-control: private\n"
				 "date: Mon, 21 Oct 2013 20:13:21 GMT\n"
				 "location: https://www.example.com\n";
static const char *const resp3 =
	":status: 200\ncache-control: private\ndate: Mon, 21 Oct 2013 20:13:22 GMT\n"
	"location: https://www.example.com\ncontent-encoding: gzip\n"
	"set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n";
static const char *const resp_table1 = "location: https://www.example.com\n"
				       "date: Mon, 21 Oct 2013 20:13:21 GMT\n"
				       "cache-control: private\n:status: 302\n";
static const char *const resp_table2 = ":status: 307\nlocation: https://www.example.com\n"
				       "date: Mon, 21 Oct 2013 20:13:21 GMT\n"
				       "cache-control: private\n";
static const char *const resp_table3 =
	"set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n"
	"content-encoding: gzip\ndate: Mon, 21 Oct 2013 20:13:22 GMT\n";

/* C.5 and C.6: a 256-byte table, so that entries are evicted. */
UNIT_TEST(test_rfc7541_c5_responses)
{
	struct hpack_decoder *d = decoder_new(256);

	(void)state;
	expect_block(d,
		     "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 "
		     "3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 "
		     "7777 2e65 7861 6d70 6c65 2e63 6f6d",
		     resp1, 222);
	expect_table(d, resp_table1);
	expect_block(d, "4803 3330 37c1 c0bf", resp2, 222);
	expect_table(d, resp_table2);
	expect_block(d,
		     "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 "
		     "3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a "
		     "584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 "
		     "3630 303b 2076 6572 7369 6f6e 3d31",
		     resp3, 215);
	expect_table(d, resp_table3);
	decoder_del(d);
}

UNIT_TEST(test_rfc7541_c6_responses_huffman)
{
	struct hpack_decoder *d = decoder_new(256);

	(void)state;
	expect_block(d,
		     "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 "
		     "66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
		     resp1, 222);
	expect_table(d, resp_table1);
	expect_block(d, "4883 640e ffc1 c0bf", resp2, 222);
	expect_table(d, resp_table2);
	expect_block(d,
		     "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a "
		     "839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 "
		     "72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07",
		     resp3, 215);
	expect_table(d, resp_table3);
	decoder_del(d);
}

UNIT_TEST(test_huffman_edges)
{
	struct hpack_decoder *d = decoder_new(4096);
	static struct rec r;

	(void)state;
	/* "a" is 00011 (5 bits): 3 ones of padding is fine, zeros are not */
	expect_block(d, "0001 61 81 1f", "a: a\n", 0);
	expect_error(d, "0001 61 81 18", HPACK_E_HUFFMAN);
	hpack_decoder_reset(d);
	/* 8 bits of padding (a whole 0xff after the symbol) */
	expect_error(d, "0001 61 82 1f ff", HPACK_E_HUFFMAN);
	hpack_decoder_reset(d);
	/* EOS (30 ones) inside a string, with two bits of padding after it */
	expect_error(d, "0001 61 84 ff ff ff ff", HPACK_E_HUFFMAN);
	hpack_decoder_reset(d);
	/* an empty Huffman string is an empty string */
	expect_block(d, "0001 61 80", "a: \n", 0);
	/* every byte value through one string: 0 (13 bits 1111111111000) then 255 (26 bits
	 * 11111111111111111111101110), then 1 one of padding */
	assert_int_equal(decode_hex(d, "0001 61 85 ff c7 ff ff dd", &r), 0);
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.log, "a: \0\377\n", 6);
	decoder_del(d);
}

/* A Huffman string that decodes to more than HPACK_SCRATCH_MAX bytes is an error, not a cut. */
UNIT_TEST(test_too_long)
{
	struct hpack_decoder *d = decoder_new(4096);
	static uint8_t block[16 + 10300];
	static struct rec r;

	(void)state;
	/* without indexing, name "a", value: 10300 bytes of Huffman zeros, 16480 '0's */
	memcpy(block, "\x00\x01\x61\xff\xbd\x4f", 6);
	memset(block + 6, 0, 10300);
	assert_int_equal(hpack_decode(d, block, 6 + 10300, rec_emit, &r), HPACK_E_TOO_LONG);
	assert_true(d->broken);
	/* 16384 of them fit: 10240 bytes, 81 00 4f... (10240 - 127 = 10113 = 0x4f 0x01) */
	hpack_decoder_reset(d);
	memcpy(block, "\x00\x01\x61\xff\x81\x4f", 6);
	r.len = r.n = 0;
	assert_int_equal(hpack_decode(d, block, 6 + 10240, NULL, NULL), 0);
	decoder_del(d);
}

UNIT_TEST(test_integers)
{
	struct hpack_decoder *d = decoder_new(4096);
	static struct rec r;

	(void)state;
	/* RFC 7541 C.1.2: 1337 with a 5-bit prefix, as a size update above a limit of 1336 */
	hpack_set_limit(d, 1337);
	expect_block(d, "3f 9a 0a", "", 0);
	assert_int_equal(d->max_size, 1337);
	hpack_set_limit(d, 1336);
	expect_error(d, "3f 9a 0a", HPACK_E_SIZE_UPDATE);
	hpack_set_limit(d, 4096);
	hpack_decoder_reset(d);
	/* 4096 itself is allowed, 4097 not */
	expect_block(d, "3f e1 1f", "", 0);
	assert_int_equal(d->max_size, 4096);
	expect_error(d, "3f e2 1f", HPACK_E_SIZE_UPDATE);
	hpack_decoder_reset(d);
	/* above 2^32 - 1 */
	expect_error(d, "ff ff ff ff ff 0f", HPACK_E_INTEGER);
	hpack_decoder_reset(d);
	/* 2^32 - 1 decodes (and is an index beyond the tables) */
	expect_error(d, "ff 80 ff ff ff 0f", HPACK_E_INDEX);
	hpack_decoder_reset(d);
	/* zero continuation bytes cannot pad an integer forever */
	expect_error(d, "ff 80 80 80 80 80 80 01", HPACK_E_INTEGER);
	hpack_decoder_reset(d);
	/* the block ends inside an integer, a string, a literal */
	expect_error(d, "ff", HPACK_E_TRUNCATED);
	hpack_decoder_reset(d);
	expect_error(d, "ff 80", HPACK_E_TRUNCATED);
	hpack_decoder_reset(d);
	expect_error(d, "40 05 61", HPACK_E_TRUNCATED);
	hpack_decoder_reset(d);
	expect_error(d, "40 01 61", HPACK_E_TRUNCATED);
	hpack_decoder_reset(d);
	expect_error(d, "41", HPACK_E_TRUNCATED);
	hpack_decoder_reset(d);
	/* an empty block is no error */
	assert_int_equal(decode_hex(d, "", &r), 0);
	assert_int_equal(r.n, 0);
	decoder_del(d);
}

UNIT_TEST(test_indexes)
{
	struct hpack_decoder *d = decoder_new(4096);

	(void)state;
	expect_error(d, "80", HPACK_E_INDEX); /* index 0 */
	hpack_decoder_reset(d);
	expect_block(d, "bd", "www-authenticate: \n", 0); /* 61, the last static one */
	expect_error(d, "be", HPACK_E_INDEX);		  /* 62 with an empty table */
	hpack_decoder_reset(d);
	expect_error(d, "40 00", HPACK_E_TRUNCATED); /* literal name, then nothing */
	hpack_decoder_reset(d);
	expect_error(d, "7f 00 01 61", HPACK_E_INDEX); /* name index 63 */
	hpack_decoder_reset(d);
	expect_block(d, "4001 6101 62", "a: b\n", 34);
	expect_block(d, "be", "a: b\n", 34);
	expect_error(d, "bf", HPACK_E_INDEX);
	decoder_del(d);
}

UNIT_TEST(test_size_updates)
{
	struct hpack_decoder *d = decoder_new(4096);
	static struct rec r;

	(void)state;
	expect_block(d, "4001 6101 62 4001 6301 64", "a: b\nc: d\n", 68);
	/* to 40: only the newest entry fits; to 0: none; back to 4096: still none */
	expect_block(d, "3f 09", "", 34);
	expect_table(d, "c: d\n");
	expect_block(d, "20 3f e1 1f 82", ":method: GET\n", 0);
	assert_int_equal(d->max_size, 4096);
	/* only at the start of a block */
	expect_error(d, "82 20", HPACK_E_UPDATE_ORDER);
	hpack_decoder_reset(d);

	/* the limit from SETTINGS: above it is an error, the cap holds whatever SETTINGS says */
	hpack_set_limit(d, 100000);
	assert_int_equal(d->limit, HPACK_TABLE_CAP);
	assert_int_equal(decode_hex(d, "3f e1 ff 03", &r), 0); /* 65536 */
	assert_int_equal(d->max_size, 65536);
	expect_error(d, "3f e2 ff 03", HPACK_E_SIZE_UPDATE);
	hpack_decoder_reset(d);
	assert_int_equal(d->max_size, 65536);
	hpack_set_limit(d, 256);
	expect_block(d, "3f e1 01", "", 0); /* 256 */
	expect_error(d, "3f e2 01", HPACK_E_SIZE_UPDATE);
	decoder_del(d);
}

UNIT_TEST(test_eviction)
{
	struct hpack_decoder *d = decoder_new(100);
	char hex[512], want[128];
	int i;

	(void)state;
	/* 34 bytes each: two fit in 100, the third evicts the first */
	expect_block(d, "4001 6101 31", "a: 1\n", 34);
	expect_block(d, "4001 6201 32", "b: 2\n", 68);
	expect_block(d, "4001 6301 33", "c: 3\n", 68);
	expect_table(d, "c: 3\nb: 2\n");
	/* an entry larger than the table empties it, and is no error */
	memset(hex, 0, sizeof(hex));
	strcpy(hex, "4001 7845");
	for (i = 0; i < 69; i++)
		strcat(hex, "78");
	memset(want, 'x', sizeof(want));
	memcpy(want, "x: ", 3);
	strcpy(want + 3 + 69, "\n");
	expect_block(d, hex, want, 0);
	expect_table(d, "");
	/* the name of the entry the insertion evicts (RFC 7541 4.4): index 63, "a" */
	expect_block(d, "4001 6101 31 4001 6201 32", "a: 1\nb: 2\n", 68);
	expect_block(d, "7f 00 02 3232", "a: 22\n", 69);
	expect_table(d, "a: 22\nb: 2\n");
	/* many inserts, so that the table's bytes are compacted many times */
	for (i = 0; i < 200; i++) {
		snprintf(hex, sizeof(hex), "4001 %02x 01 %02x", 'a' + i % 26, '0' + i % 10);
		assert_int_equal(decode_hex(d, hex, &(struct rec){ 0 }), 0);
		assert_true(d->size <= 100);
	}
	expect_table(d, "r: 9\nq: 8\n");
	decoder_del(d);
}

/* python3-hpack's encodings of seeded-random header lists (tests/unit/gen_hpack_vectors.py) */
UNIT_TEST(test_python_hpack_vectors)
{
	const size_t nblocks = sizeof(hpack_vec_blocks) / sizeof(hpack_vec_blocks[0]);
	struct hpack_decoder *d = NULL;
	static struct rec r, want;
	unsigned conn = ~0u;
	size_t i, j;

	(void)state;
	for (i = 0; i < nblocks; i++) {
		const struct hpack_vec_block *b = &hpack_vec_blocks[i];

		if (b->conn != conn) {
			if (d)
				decoder_del(d);
			d = malloc(sizeof(*d));
			assert_non_null(d);
			hpack_decoder_init(d);
			hpack_set_limit(d, b->limit);
			conn = b->conn;
		}
		want.len = 0;
		want.n = 0;
		want.log[0] = '\0';
		for (j = b->first; j < b->first + b->n; j++) {
			const struct hpack_vec_header *h = &hpack_vec_headers[j];

			rec_emit(&want, h->name, h->name_len, h->value, h->value_len,
				 h->never_indexed ? HPACK_F_NEVER_INDEXED : 0);
		}
		r.len = 0;
		r.n = 0;
		r.log[0] = '\0';
		if (hpack_decode(d, (const uint8_t *)b->block, b->len, rec_emit, &r))
			fail_msg("block %zu (connection %u): %s", i, b->conn,
				 hpack_strerror(hpack_decode(d, NULL, 0, NULL, NULL)));
		assert_int_equal(r.n, b->n);
		assert_int_equal(r.len, want.len);
		assert_memory_equal(r.log, want.log, want.len);
		assert_int_equal(d->size, b->table_size);
	}
	decoder_del(d);
}

UNIT_TEST(test_strerror_and_free)
{
	int e;

	(void)state;
	for (e = HPACK_E_BROKEN; e <= 0; e++)
		assert_true(!strncmp(hpack_strerror(e), "hpack: ", 7));
	assert_string_equal(hpack_strerror(-100), "hpack: unknown error");
	hpack_decoder_free(NULL);
}

UNIT_MAIN(NULL, NULL)
