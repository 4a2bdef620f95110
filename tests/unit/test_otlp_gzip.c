// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exporter's gzip bodies (exporters/gzip.c, libdeflate), inflated by zlib, a decoder that
 * shares no code with the compressor: each is one gzip member (header, CRC-32 and length
 * checked by inflate) holding the very bytes it was given, the encoded request included, with
 * the compressor and buffer kept from body to body.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include "otlp_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exporters/gzip.h"
#include "exporters/otlp_encode.h"
#include "pipeline/span.h"

/* g's member inflated: exactly want[0..len), and nothing after the member */
static void check_member(const struct gzip *g, size_t gzlen, const uint8_t *want, size_t len)
{
	uint8_t *got = malloc(len + 16);
	z_stream zs;

	assert_non_null(got);
	assert_true(gzlen >= 18); /* 10-byte header, 8-byte trailer */
	assert_int_equal(g->out[0], 0x1f);
	assert_int_equal(g->out[1], 0x8b);
	assert_int_equal(g->out[2], 8); /* deflate */
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 16 + 15), Z_OK); /* gzip only */
	zs.next_in = g->out;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = got;
	zs.avail_out = (uInt)(len + 16);
	assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0);
	assert_int_equal(zs.total_out, len);
	if (len)
		assert_memory_equal(got, want, len);
	inflateEnd(&zs);
	free(got);
}

/* n spans of one process, alike as an nginx server's are, encoded into w */
static const uint8_t *encode_batch(struct pb_buf *w, size_t n, size_t *len)
{
	struct proc_info p = make_proc(4242, "nginx", "nginx");
	const struct span **spans = calloc(n, sizeof(*spans));
	const struct proc_info **procs = calloc(n, sizeof(*procs));
	const uint8_t *body = NULL;
	struct span *s;
	char path[32];
	size_t i;

	assert_non_null(spans);
	assert_non_null(procs);
	for (i = 0; i < n; i++) {
		s = new_span(SPAN_KIND_SERVER, 4242, (uint8_t)i, 1000 + i * 1000, 250000,
			     "GET /users/{id}");
		snprintf(path, sizeof(path), "/users/%zu", i * 7919);
		span_set_str(s, "http.request.method", "GET");
		span_set_str(s, "url.path", path);
		span_set_int(s, "client.port", (int64_t)(40000 + i));
		span_set_int(s, "http.response.status_code", i % 9 ? 200 : 404);
		spans[i] = s;
		procs[i] = &p;
	}
	assert_int_equal(otlp_encode_traces_to(w, spans, procs, n, NULL, 0, &body, len), 0);
	for (i = 0; i < n; i++)
		free((void *)spans[i]);
	free(spans);
	free(procs);
	return body;
}

UNIT_TEST(test_gzip_request_bodies)
{
	static const size_t sizes[] = { 512, 1, 64, 512 };
	struct gzip g = { 0 };
	struct pb_buf w = { 0 };
	struct libdeflate_compressor *c = NULL;
	const uint8_t *body;
	size_t i, len, gzlen, cap = 0;
	uint8_t *out = NULL;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		body = encode_batch(&w, sizes[i], &len);
		gzlen = 0;
		assert_int_equal(gzip_body(&g, body, len, &gzlen), 0);
		check_member(&g, gzlen, body, len);
		free_traces_req(unpack_and_repack(body, len));
		if (i == 0) {
			/* a batch of alike spans shrinks several times over */
			assert_true(gzlen * 4 < len);
			c = g.c;
			out = g.out;
			cap = g.cap;
		}
		/* one compressor for every body; the buffer kept while bodies fit it */
		assert_ptr_equal(g.c, c);
		assert_ptr_equal(g.out, out);
		assert_int_equal(g.cap, cap);
	}
	pb_buf_free(&w);
	gzip_free(&g);
	assert_null(g.c);
	assert_null(g.out);
}

UNIT_TEST(test_gzip_empty_and_incompressible)
{
	static const uint8_t none[1];
	struct gzip g = { 0 };
	size_t n = 256 * 1024, i, gzlen = 0, cap;
	uint8_t *noise = malloc(n);
	uint32_t x = 2463534242u;

	(void)state;
	assert_non_null(noise);
	assert_int_equal(gzip_body(&g, none, 0, &gzlen), 0);
	check_member(&g, gzlen, none, 0);
	cap = g.cap;

	/* xorshift: nothing to find, stored blocks, and the buffer grows to their bound */
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (uint8_t)x;
	}
	assert_int_equal(gzip_body(&g, noise, n, &gzlen), 0);
	assert_true(g.cap > cap);
	assert_true(gzlen >= n);
	check_member(&g, gzlen, noise, n);

	/* a short body after a long one: nothing of the long one left in it */
	assert_int_equal(gzip_body(&g, noise + 1000, 100, &gzlen), 0);
	check_member(&g, gzlen, noise + 1000, 100);
	gzip_free(&g);
	gzip_free(&g);
	gzip_free(NULL);
	free(noise);
}

UNIT_MAIN(NULL, otlp_kept_free)
