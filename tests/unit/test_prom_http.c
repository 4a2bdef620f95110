// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The metrics endpoint's request heads: what prom_request_parse reads of them (method, path,
 * whether the connection may carry another request, the head's length), the heads it turns
 * away (400, 431) or waits on, and the answer heads prom_answer_head writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prom_http.h"

/* A realistic scrape: what Prometheus 2.x sends every scrape interval. */
#define SCRAPE                                                                                   \
	"GET /metrics HTTP/1.1\r\n"                                                              \
	"Host: 10.0.0.5:9464\r\n"                                                                \
	"User-Agent: Prometheus/2.53.0\r\n"                                                      \
	"Accept: application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;" \
	"version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2\r\n"                       \
	"Accept-Encoding: gzip\r\n"                                                              \
	"X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"                                            \
	"\r\n"

/* buf[0..len) parsed from a heap copy of exactly that size (no NUL after it), so that the
 * ASan build catches a read past the end; *r starts out as garbage. */
static int parse_n(const void *buf, size_t len, struct prom_request *r)
{
	char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	memset(r, 0xa5, sizeof(*r));
	rc = prom_request_parse(copy, len, r);
	free(copy);
	return rc;
}

static int parse(const char *s, struct prom_request *r)
{
	return parse_n(s, strlen(s), r);
}

/* The keep_alive of the head s, which must parse whole. */
static bool keep_alive_of(const char *s)
{
	struct prom_request r;

	assert_int_equal(parse(s, &r), strlen(s));
	return r.keep_alive;
}

UNIT_TEST(test_prom_plain_get)
{
	static const char head[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	struct prom_request r;

	(void)state;
	assert_int_equal(strlen(head), 34);
	assert_int_equal(parse(head, &r), 34);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	assert_int_equal(r.head_len, 34);

	/* a pipelined second request, whole or in part, is not part of the first head */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
			       "GET /other HTTP/1.1\r\nHost: x\r\n\r\n",
			       &r),
			 34);
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(r.head_len, 34);
	assert_true(r.keep_alive);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nHEAD /ot", &r), 34);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");

	/* what follows a head, a body or binary noise, does not change it */
	assert_int_equal(
		parse_n("POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\n\x1f\x8b", 47, &r), 45);
	assert_int_equal(r.method, PROM_OTHER);
	assert_int_equal(parse_n("GET /metrics HTTP/1.1\r\n\r\n\x16\x03\x01", 28, &r), 25);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);

	/* no header at all */
	assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), 18);
	assert_string_equal(r.path, "/");
	assert_true(r.keep_alive);
	assert_int_equal(r.head_len, 18);
}

UNIT_TEST(test_prom_methods)
{
	struct prom_request r;

	(void)state;
	assert_int_equal(parse("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r), 35);
	assert_int_equal(r.method, PROM_HEAD);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);

	/* anything else is answered 405, and the connection closes after it */
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r), 35);
	assert_int_equal(r.method, PROM_OTHER);
	assert_string_equal(r.path, "/metrics");
	assert_false(r.keep_alive);
	assert_int_equal(parse("DELETE /metrics HTTP/1.1\r\n\r\n", &r), 28);
	assert_int_equal(r.method, PROM_OTHER);
	assert_false(r.keep_alive);
	/* asterisk-form: kept as it is */
	assert_int_equal(parse("OPTIONS * HTTP/1.1\r\n\r\n", &r), 22);
	assert_int_equal(r.method, PROM_OTHER);
	assert_string_equal(r.path, "*");
	assert_false(r.keep_alive);

	/* methods are case-sensitive: "get" and "Head" are not GET and HEAD */
	assert_int_equal(parse("get /metrics HTTP/1.1\r\n\r\n", &r), 25);
	assert_int_equal(r.method, PROM_OTHER);
	assert_false(r.keep_alive);
	assert_int_equal(parse("Head /metrics HTTP/1.1\r\n\r\n", &r), 26);
	assert_int_equal(r.method, PROM_OTHER);
	assert_false(r.keep_alive);
	/* nor are longer tokens that start like them */
	assert_int_equal(parse("GETX / HTTP/1.1\r\n\r\n", &r), 19);
	assert_int_equal(r.method, PROM_OTHER);
	assert_int_equal(parse("HEADER / HTTP/1.1\r\n\r\n", &r), 21);
	assert_int_equal(r.method, PROM_OTHER);

	/* a method of 16 characters is one, of 17 is not */
	assert_int_equal(parse("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n", &r), 31);
	assert_int_equal(r.method, PROM_OTHER);
	assert_int_equal(parse("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", &r), PROM_BAD_REQUEST);
	/* token characters other than letters */
	assert_int_equal(parse("M-SEARCH! / HTTP/1.1\r\n\r\n", &r), 24);
	assert_int_equal(r.method, PROM_OTHER);
}

UNIT_TEST(test_prom_path_query_fragment)
{
	struct prom_request r;

	(void)state;
	assert_int_equal(parse("GET /metrics?name[]=x HTTP/1.1\r\n\r\n", &r), 34);
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(r.method, PROM_GET);
	assert_true(r.keep_alive);
	assert_int_equal(parse("GET /metrics#frag HTTP/1.1\r\n\r\n", &r), 30);
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(parse("GET /metrics?a=1#b?c HTTP/1.1\r\n\r\n", &r), 33);
	assert_string_equal(r.path, "/metrics");
	/* percent-encoding is left as it is */
	assert_int_equal(parse("GET /met%72ics HTTP/1.1\r\n\r\n", &r), 27);
	assert_string_equal(r.path, "/met%72ics");
	/* only a query: no path */
	assert_int_equal(parse("GET ?x=1 HTTP/1.1\r\n\r\n", &r), 21);
	assert_string_equal(r.path, "");

	/* absolute-form, as a proxy sends it: the path after the authority */
	assert_int_equal(parse("GET http://host:9464/metrics?a HTTP/1.1\r\n\r\n", &r), 43);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	assert_int_equal(parse("GET http://host HTTP/1.1\r\n\r\n", &r), 28);
	assert_string_equal(r.path, "/");
	assert_int_equal(parse("GET HTTP://Host:9464/metrics HTTP/1.1\r\n\r\n", &r), 41);
	assert_string_equal(r.path, "/metrics");
	assert_int_equal(parse("GET http://h/ HTTP/1.1\r\n\r\n", &r), 26);
	assert_string_equal(r.path, "/");
	/* the authority ends at a query too: its '/' is no path */
	assert_int_equal(parse("GET http://host:9464?x=/metrics HTTP/1.1\r\n\r\n", &r), 44);
	assert_string_equal(r.path, "/");
	assert_int_equal(parse("GET https://host:9464/metrics HTTP/1.1\r\n\r\n", &r), 42);
	assert_string_equal(r.path, "/metrics");
}

UNIT_TEST(test_prom_path_max)
{
	char head[PROM_PATH_MAX + 200], path[PROM_PATH_MAX + 1];
	struct prom_request r;
	size_t n;

	(void)state;
	/* PROM_PATH_MAX - 1 bytes: kept whole */
	memset(path, 'a', PROM_PATH_MAX - 1);
	path[0] = '/';
	path[PROM_PATH_MAX - 1] = '\0';
	n = (size_t)snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", path);
	assert_int_equal(parse(head, &r), n);
	assert_int_equal(strlen(r.path), PROM_PATH_MAX - 1);
	assert_string_equal(r.path, path);
	assert_int_equal(r.method, PROM_GET);
	assert_true(r.keep_alive);
	/* the same with a query after it: the query does not count */
	n = (size_t)snprintf(head, sizeof(head), "GET %s?%s HTTP/1.1\r\n\r\n", path, path + 1);
	assert_int_equal(parse(head, &r), n);
	assert_string_equal(r.path, path);

	/* PROM_PATH_MAX bytes or more: none of ours, "" */
	memset(path, 'a', PROM_PATH_MAX);
	path[0] = '/';
	path[PROM_PATH_MAX] = '\0';
	n = (size_t)snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", path);
	assert_int_equal(parse(head, &r), n);
	assert_string_equal(r.path, "");
	assert_int_equal(r.method, PROM_GET);
	assert_true(r.keep_alive);
	n = (size_t)snprintf(head, sizeof(head), "GET %s%s HTTP/1.1\r\n\r\n", path, path);
	assert_int_equal(parse(head, &r), n);
	assert_string_equal(r.path, "");
	/* also through absolute-form */
	n = (size_t)snprintf(head, sizeof(head), "GET http://h%s HTTP/1.1\r\n\r\n", path);
	assert_int_equal(parse(head, &r), n);
	assert_string_equal(r.path, "");
}

UNIT_TEST(test_prom_keep_alive)
{
	struct prom_request r;

	(void)state;
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
	/* HTTP/1.0: one request per connection, keep-alive asked or not */
	assert_false(keep_alive_of("GET /metrics HTTP/1.0\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
	assert_false(keep_alive_of("HEAD /metrics HTTP/1.0\r\n\r\n"));

	/* Connection: close, in any case, anywhere in the list */
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"));
	assert_false(
		keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nCONNECTION:CLOSE\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nconnection: \t close \t\r\n\r\n"));
	assert_false(
		keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: ,, upgrade ,close,\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: keep-alive\r\n"
				   "Connection: close\r\n\r\n"));
	/* other options, or words that only start like close, keep it open */
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nConnection: closed, xclose\r\n\r\n"));
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nConnection:\r\n\r\n"));
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nX-Connection: close\r\n\r\n"));

	/* a body, which the endpoint never reads, closes the connection */
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 999999999999999999\r\n"
				   "\r\n"));
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\ncontent-length:\t000 \r\n\r\n"));

	/* two Content-Lengths: the same value is fine, two values are not */
	assert_true(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n"
				  "Content-Length: 0\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n"
				   "Content-Length: 5\r\n\r\n"));
	assert_false(keep_alive_of("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n"
				   "Content-Length: 005\r\n\r\n"));
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n"
			       "Content-Length: 6\r\n\r\n",
			       &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n"
			       "content-length: 1\r\n\r\n",
			       &r),
			 PROM_BAD_REQUEST);

	/* a Content-Length that is not a number */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 5x\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: +5\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length:\r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: \t \r\n\r\n", &r),
			 PROM_BAD_REQUEST);
	/* more than 18 digits */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nContent-Length: 0000000000000000000\r\n"
			       "\r\n",
			       &r),
			 PROM_BAD_REQUEST);
}

UNIT_TEST(test_prom_line_endings)
{
	struct prom_request r;

	(void)state;
	/* bare LF */
	assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\n\n", &r), 31);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	assert_int_equal(r.head_len, 31);
	/* mixed */
	assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\r\n\n", &r), 32);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\n\r\n", &r), 33);
	assert_int_equal(r.head_len, 33);

	/* empty lines before the request line are skipped, and counted in the head */
	assert_int_equal(parse("\r\n\nGET /metrics HTTP/1.1\r\n\r\n", &r), 28);
	assert_int_equal(r.head_len, 28);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	assert_int_equal(parse("\n\n\n\nHEAD / HTTP/1.0\n\n", &r), 21);
	assert_int_equal(r.head_len, 21);
	assert_int_equal(r.method, PROM_HEAD);
	assert_false(r.keep_alive);
	/* only empty lines: a head may still follow */
	assert_int_equal(parse("\r\n\r\n\n", &r), PROM_NEED_MORE);
	assert_int_equal(parse("", &r), PROM_NEED_MORE);
}

UNIT_TEST(test_prom_need_more)
{
	static const char head[] = SCRAPE;
	const size_t len = sizeof(head) - 1;
	struct prom_request r;
	size_t n;

	(void)state;
	for (n = 0; n < len; n++)
		assert_int_equal(parse_n(head, n, &r), PROM_NEED_MORE);
	assert_int_equal(parse_n(head, len, &r), len);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	assert_int_equal(r.head_len, len);

	/* the same with bare LFs */
	assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\n", &r), PROM_NEED_MORE);
	assert_int_equal(parse("GET /metrics HTTP/1.1\nHost: x\n\r", &r), PROM_NEED_MORE);
	/* a request line not ended yet is not judged yet, even when it could only be bad */
	assert_int_equal(parse("GET /metrics HTTP/9.9", &r), PROM_NEED_MORE);
	assert_int_equal(parse("GET", &r), PROM_NEED_MORE);
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost x", &r), PROM_NEED_MORE);
}

UNIT_TEST(test_prom_bad_request)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GARBAGE\n",
		/* no version, or one that is not HTTP/1.0 or 1.1 */
		"GET /metrics\r\n\r\n",
		"GET /metrics HTTP/2.0\r\n\r\n",
		"GET /metrics HTTP/1.2\r\n\r\n",
		"GET /metrics HTTP/1.10\r\n\r\n",
		"GET /metrics HTTP/1.\r\n\r\n",
		"GET /metrics http/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1 \r\n\r\n",
		/* what separates the parts is exactly one space */
		"GET  /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics  HTTP/1.1\r\n\r\n",
		"GET\t/metrics HTTP/1.1\r\n\r\n",
		" GET /metrics HTTP/1.1\r\n\r\n",
		"GET /metrics\tHTTP/1.1\r\n\r\n",
		"GET  HTTP/1.1\r\n\r\n",
		/* a method longer than 16 characters, or with a non-token character */
		"ABCDEFGHIJKLMNOPQR /metrics HTTP/1.1\r\n\r\n",
		"GE(T /metrics HTTP/1.1\r\n\r\n",
		/* a target byte outside the visible ASCII */
		"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
		/* a header line without a colon, with space before it, or with no name */
		"GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost\t: x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n: x\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHo(st: x\r\n\r\n",
		/* obs-fold */
		"GET /metrics HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n",
		"GET /metrics HTTP/1.1\r\n \r\n\r\n",
		/* a bare CR inside a line, or doubled before the LF */
		"GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		"GET /metrics\rHTTP/1.1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\r\n\r\n",
		"\rGET /metrics HTTP/1.1\r\n\r\n",
		/* control bytes: no line needs to end for them */
		"\x16\x03\x01\x02\x00",
		"\x16",
		"GET /metrics HTTP/1.1\r\nX-A: \x01\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nX-A: \x7f\r\n\r\n",
		"GET /met\x1b",
	};
	struct prom_request r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r) != PROM_BAD_REQUEST)
			fail_msg("bad[%zu] not turned away: \"%s\"", i, bad[i]);
	}

	/* a NUL, wherever it is */
	assert_int_equal(parse_n("GET /metrics HTTP/1.1\r\nHost: a\0b\r\n\r\n", 35, &r),
			 PROM_BAD_REQUEST);
	assert_int_equal(parse_n("GET /\0", 6, &r), PROM_BAD_REQUEST);
	assert_int_equal(parse_n("\0", 1, &r), PROM_BAD_REQUEST);
	/* a TLS ClientHello's record header, its NUL included: no line has ended */
	assert_int_equal(parse_n("\x16\x03\x01\x02\x00", 5, &r), PROM_BAD_REQUEST);

	/* but tabs and obs-text in a field value are fine */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nX-A:\tcaf\xc3\xa9\t~\r\n\r\n", &r), 39);
	assert_true(r.keep_alive);
}

/* A head of PROM_HEAD_MAX bytes that needs more: the request line, then "X-A: b\r\n" lines */
static void fill_headers(char *buf, size_t len)
{
	static const char start[] = "GET /metrics HTTP/1.1\r\n", line[] = "X-A: b\r\n";
	size_t i;

	assert_true(len >= sizeof(start) - 1);
	memcpy(buf, start, sizeof(start) - 1);
	for (i = sizeof(start) - 1; i < len; i++)
		buf[i] = line[(i - (sizeof(start) - 1)) % (sizeof(line) - 1)];
}

UNIT_TEST(test_prom_too_large)
{
	char *buf = malloc(PROM_HEAD_MAX + 64);
	struct prom_request r;
	size_t len, i;

	(void)state;
	assert_non_null(buf);
	/* never a blank line: too large once PROM_HEAD_MAX bytes came, else waiting */
	fill_headers(buf, PROM_HEAD_MAX + 64);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX, &r), PROM_TOO_LARGE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX + 1, &r), PROM_TOO_LARGE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX + 64, &r), PROM_TOO_LARGE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX - 1, &r), PROM_NEED_MORE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX / 2, &r), PROM_NEED_MORE);

	/* a head of exactly PROM_HEAD_MAX bytes is taken, one byte longer is too large */
	len = PROM_HEAD_MAX - 2 - 10;
	len -= (len - 23) % 8;
	fill_headers(buf, len);
	/* one last header line padded to end 2 bytes before PROM_HEAD_MAX */
	memcpy(buf + len, "X-B: ", 5);
	for (i = len + 5; i < PROM_HEAD_MAX - 4; i++)
		buf[i] = 'v';
	memcpy(buf + PROM_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX, &r), PROM_HEAD_MAX);
	assert_int_equal(r.head_len, PROM_HEAD_MAX);
	assert_int_equal(r.method, PROM_GET);
	assert_string_equal(r.path, "/metrics");
	assert_true(r.keep_alive);
	memcpy(buf + PROM_HEAD_MAX, "GET / HTTP/1.1\r\n\r\n", 18);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX + 18, &r), PROM_HEAD_MAX);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX - 1, &r), PROM_NEED_MORE);
	/* one more byte of padding: its blank line ends past PROM_HEAD_MAX */
	memcpy(buf + PROM_HEAD_MAX - 4, "v\r\n\r\n", 5);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX + 1, &r), PROM_TOO_LARGE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX, &r), PROM_TOO_LARGE);
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX - 1, &r), PROM_NEED_MORE);

	/* a bad line is bad before the head is too large */
	fill_headers(buf, PROM_HEAD_MAX);
	buf[23 + 8 * 10 + 3] = ' '; /* "X-A  b" */
	assert_int_equal(parse_n(buf, PROM_HEAD_MAX, &r), PROM_BAD_REQUEST);
	free(buf);
}

UNIT_TEST(test_prom_answer_head)
{
	char out[512];
	size_t n;

	(void)state;
	n = prom_answer_head(out, sizeof(out), 200, "text/plain; version=0.0.4; charset=utf-8",
			     1234, true);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\n"
				 "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
				 "Content-Length: 1234\r\n"
				 "\r\n");
	assert_int_equal(n, strlen(out));

	n = prom_answer_head(out, sizeof(out), 405, "text/plain", 19, false);
	assert_string_equal(out, "HTTP/1.1 405 Method Not Allowed\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 19\r\n"
				 "Allow: GET, HEAD\r\n"
				 "Connection: close\r\n"
				 "\r\n");
	assert_int_equal(n, strlen(out));
	n = prom_answer_head(out, sizeof(out), 405, "text/plain", 19, true);
	assert_string_equal(out, "HTTP/1.1 405 Method Not Allowed\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 19\r\n"
				 "Allow: GET, HEAD\r\n"
				 "\r\n");
	assert_int_equal(n, strlen(out));

	/* Content-Length even for no body */
	n = prom_answer_head(out, sizeof(out), 503, "text/plain", 0, false);
	assert_string_equal(out, "HTTP/1.1 503 Service Unavailable\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 0\r\n"
				 "Connection: close\r\n"
				 "\r\n");
	assert_int_equal(n, strlen(out));

	n = prom_answer_head(out, sizeof(out), 431, "text/plain", 32, false);
	assert_string_equal(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 32\r\n"
				 "Connection: close\r\n"
				 "\r\n");
	assert_int_equal(n, strlen(out));

	/* the other reason phrases */
	n = prom_answer_head(out, sizeof(out), 400, "t", 0, false);
	assert_int_equal(n, strlen(out));
	assert_memory_equal(out, "HTTP/1.1 400 Bad Request\r\n", 26);
	n = prom_answer_head(out, sizeof(out), 404, "t", 0, true);
	assert_string_equal(
		out, "HTTP/1.1 404 Not Found\r\nContent-Type: t\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(n, strlen(out));
	n = prom_answer_head(out, sizeof(out), 500, "t", 0, true);
	assert_memory_equal(out, "HTTP/1.1 500 Internal Server Error\r\n", 36);
	n = prom_answer_head(out, sizeof(out), 418, "t", 0, true);
	assert_memory_equal(out, "HTTP/1.1 418 Unknown\r\n", 22);
	n = prom_answer_head(out, sizeof(out), 200, "t", SIZE_MAX, true);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Type: t\r\n"
				 "Content-Length: 18446744073709551615\r\n\r\n");
	assert_int_equal(n, strlen(out));
}

UNIT_TEST(test_prom_answer_head_short)
{
	static const char want[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				   "Content-Length: 7\r\n\r\n";
	char out[sizeof(want) + 8];
	size_t n;

	(void)state;
	/* 10 bytes: does not fit, 0 (and what is there is still a string) */
	memset(out, 'x', sizeof(out));
	assert_int_equal(prom_answer_head(out, 10, 200, "text/plain", 7, true), 0);
	assert_string_equal(out, "HTTP/1.1 ");
	assert_int_equal(out[10], 'x');
	/* nothing at all */
	memset(out, 'x', sizeof(out));
	assert_int_equal(prom_answer_head(out, 0, 200, "text/plain", 7, true), 0);
	assert_int_equal(out[0], 'x');
	/* one byte short of its NUL, and just right */
	assert_int_equal(prom_answer_head(out, sizeof(want) - 1, 200, "text/plain", 7, true), 0);
	n = prom_answer_head(out, sizeof(want), 200, "text/plain", 7, true);
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(out));
}

UNIT_MAIN(NULL, NULL)
