// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>
#include <strings.h>

#include "unit.h"

#include "protocols/http_parser.h"

/* A string literal as bytes and length, embedded NULs included. */
#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

static int parse(const char *s, struct http_head *h)
{
	return http_parse_head((const uint8_t *)s, strlen(s), h);
}

static void expect_parse_error(const char *s)
{
	struct http_head h;

	if (parse(s, &h) != HTTP_PARSE_ERROR)
		fail_msg("accepted: \"%s\"", s);
}

/* Records the callbacks of a stream as a string: "H GET /a|C|" and so on. */
struct rec {
	char log[8192];
	size_t len;
	int heads, clean, dirty, errors, truncs;
	struct http_head last;
	int modes[8]; /* what on_head returns for the n-th head */
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

static int rec_head(void *ctx, const struct http_head *h)
{
	struct rec *r = ctx;
	int mode = r->heads < 8 ? r->modes[r->heads] : HTTP_BODY_DEFAULT;

	r->heads++;
	r->last = *h;
	if (h->kind == HTTP_REQUEST)
		rec_put(r, "H %s %s%s|", h->method, h->target, h->truncated ? " T" : "");
	else
		rec_put(r, "H %d%s|", h->status, h->truncated ? " T" : "");
	return mode;
}

static void rec_complete(void *ctx, bool clean)
{
	struct rec *r = ctx;

	if (clean)
		r->clean++;
	else
		r->dirty++;
	rec_put(r, clean ? "C|" : "c|");
}

static void rec_error(void *ctx)
{
	struct rec *r = ctx;

	r->errors++;
	rec_put(r, "E|");
}

static void rec_truncated(void *ctx)
{
	struct rec *r = ctx;

	r->truncs++;
	rec_put(r, "T|");
}

static const struct http_stream_ops rec_ops = {
	.on_head = rec_head,
	.on_complete = rec_complete,
	.on_error = rec_error,
	.on_truncated = rec_truncated,
};

static void feed_n(struct http_stream *s, struct rec *r, const void *data, size_t len,
		   uint64_t total)
{
	http_stream_feed(s, data, len, total, &rec_ops, r);
}

static void feed(struct http_stream *s, struct rec *r, const char *str)
{
	feed_n(s, r, str, strlen(str), strlen(str));
}

/* Feeds data as events of `size` bytes. */
static void feed_split(struct http_stream *s, struct rec *r, const char *data, size_t len,
		       size_t size)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < size ? len - off : size;
		feed_n(s, r, data + off, n, n);
	}
}

/* Zeroed, so that a secret found in s->buf can only have been left there by the stream. */
static struct http_stream *stream_new(void)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	http_stream_init(s);
	return s;
}

/* A field value accepts HTAB, SP, VCHAR and obs-text, and refuses every other byte, wherever in
 * the value it is (values are checked 16 bytes at a time with SSE2, else 8). CR and LF end
 * lines: not tried. */
UNIT_TEST(test_field_value_bytes)
{
	char req[96];
	unsigned int c;
	size_t len, pos;

	(void)state;
	/* values of every length up to two and a half 16-byte blocks (vchars_ok takes 16 bytes
	 * or 8 at a time, the last block overlapping), the byte at every position of each */
	for (c = 0; c < 256; c++) {
		bool ok = c == '\t' || (c >= 0x20 && c != 0x7f);

		if (c == '\r' || c == '\n')
			continue;
		for (len = 1; len <= 40; len++) {
			for (pos = 0; pos < len; pos++) {
				static const char head[] = "GET / HTTP/1.1\r\nX-A:";
				struct http_head h;
				size_t n = sizeof(head) - 1;

				memcpy(req, head, n);
				memset(req + n, 'v', len);
				req[n + pos] = (char)c; /* NUL too */
				memcpy(req + n + len, "\r\n\r\n", 4);
				n += len + 4;
				if (ok)
					assert_int_equal(http_parse_head((const uint8_t *)req, n,
									 &h),
							 (int)n);
				else
					assert_int_equal(http_parse_head((const uint8_t *)req, n,
									 &h),
							 HTTP_PARSE_ERROR);
			}
		}
	}
}

/* Whether the field "name: value" in a request was taken as the field obsprobe reads. */
static bool field_taken(const char *name, const char *value)
{
	char req[128];
	struct http_head h;

	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s: %s\r\n\r\n", name, value);
	assert_true(parse(req, &h) > 0);
	if (!strcasecmp(value, "chunked"))
		return h.chunked;
	if (!strcmp(value, "close"))
		return h.conn_close;
	if (!strcmp(value, "17"))
		return h.content_length == 17;
	return h.host[0] || h.user_agent[0] || h.traceparent[0] || h.content_type[0];
}

/* The names obsprobe reads are matched whatever their case, at every position, and a name
 * that differs from one by a single byte (another token character) is not taken for it: the
 * names are compared 8 bytes at a time, the last word overlapping. */
UNIT_TEST(test_field_names_matched)
{
	static const struct {
		const char *name, *value;
	} known[] = {
		{ "content-length", "17" },
		{ "transfer-encoding", "chunked" },
		{ "connection", "close" },
		{ "user-agent", "curl" },
		{ "host", "a" },
		{ "traceparent", "x" },
		{ "content-type", "text/plain" },
	};
	static const char others[] = "-!#xZ09_~^";
	size_t k, i, o;

	(void)state;
	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
		char name[32];
		size_t n = strlen(known[k].name);

		assert_true(field_taken(known[k].name, known[k].value));
		for (i = 0; i < n; i++) {
			strcpy(name, known[k].name);
			name[i] = (char)toupper((unsigned char)name[i]);
			assert_true(field_taken(name, known[k].value));
			for (o = 0; others[o]; o++) {
				if (tolower((unsigned char)others[o]) == known[k].name[i])
					continue;
				strcpy(name, known[k].name);
				name[i] = others[o];
				if (field_taken(name, known[k].value))
					fail_msg("\"%s\" taken for \"%s\"", name, known[k].name);
			}
		}
		for (i = 0; i < n; i++)
			name[i] = (char)toupper((unsigned char)known[k].name[i]);
		name[n] = '\0';
		assert_true(field_taken(name, known[k].value));
	}
}

UNIT_TEST(test_sniff)
{
	static const char *const yes[] = { "GET ",     "HEAD ",		 "POST ",
					   "PUT ",     "DELETE ",	 "CONNECT ",
					   "OPTIONS ", "TRACE ",	 "PATCH ",
					   "HTTP/1.",  "GET / HTTP/1.1", "HTTP/1.1 200 OK" };
	static const char *const no[] = { "get ",     "GETX",	 "GET/",	   "HTTP/2 ",
					  "HTTP/1-",  "SSH-2.0", "PRI * HTTP/2.0", "\x16\x03\x01",
					  "OPTIONS*", " GET " };
	enum http_kind kind;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(http_sniff((const uint8_t *)yes[i], strlen(yes[i]), NULL));
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(http_sniff((const uint8_t *)no[i], strlen(no[i]), &kind));

	assert_true(http_sniff(LIT("POST /x"), &kind));
	assert_int_equal(kind, HTTP_REQUEST);
	assert_true(http_sniff(LIT("HTTP/1.0 200"), &kind));
	assert_int_equal(kind, HTTP_RESPONSE);
	assert_true(http_sniff(LIT("HTT"), &kind));
	assert_int_equal(kind, HTTP_RESPONSE);

	/* Short prefixes answer for what they have. */
	assert_true(http_sniff(LIT("G"), NULL));
	assert_true(http_sniff(LIT("CONNEC"), NULL));
	assert_true(http_sniff(LIT("H"), NULL));
	assert_false(http_sniff(LIT("X"), NULL));
	assert_false(http_sniff(LIT("GX"), NULL));
	assert_false(http_sniff(LIT("\x16"), NULL));
	assert_false(http_sniff(LIT("\x00"), NULL));
	assert_true(http_sniff((const uint8_t *)"", 0, NULL));
}

UNIT_TEST(test_request_line)
{
	const char *req = "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
	struct http_head h;

	(void)state;
	assert_int_equal(parse(req, &h), strlen(req));
	assert_int_equal(h.kind, HTTP_REQUEST);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.target, "/index.html?x=1");
	assert_int_equal(h.version, 11);
	assert_string_equal(h.host, "example.com");
	assert_int_equal(h.content_length, -1);
	assert_false(h.chunked);
	assert_false(h.conn_close);
	assert_false(h.truncated);
	assert_int_equal(h.head_len, strlen(req));

	/* Only the head is counted, not what follows it. */
	assert_int_equal(parse("DELETE /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", &h), 22);
	assert_string_equal(h.method, "DELETE");

	/* Any token is a method here; http_sniff is what restricts to the known ones. */
	assert_true(parse("PROPFIND /dav HTTP/1.1\r\n\r\n", &h) > 0);
	assert_string_equal(h.method, "PROPFIND");
	assert_true(parse("OPTIONS * HTTP/1.1\r\n\r\n", &h) > 0);
	assert_string_equal(h.target, "*");
	assert_true(parse("CONNECT example.com:443 HTTP/1.1\r\n\r\n", &h) > 0);
	assert_string_equal(h.target, "example.com:443");
	assert_true(parse("GET http://example.com/a?b HTTP/1.1\r\n\r\n", &h) > 0);
	assert_string_equal(h.target, "http://example.com/a?b");
}

UNIT_TEST(test_request_line_errors)
{
	(void)state;
	expect_parse_error("GE\x01T / HTTP/1.1\r\n\r\n");
	expect_parse_error("G(T / HTTP/1.1\r\n\r\n");
	expect_parse_error("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n");
	expect_parse_error(" GET / HTTP/1.1\r\n\r\n");
	expect_parse_error("GET  / HTTP/1.1\r\n\r\n");
	expect_parse_error("GET /a b HTTP/1.1\r\n\r\n");
	expect_parse_error("GET /a\tb HTTP/1.1\r\n\r\n");
	expect_parse_error("GET /\x7f HTTP/1.1\r\n\r\n");
	expect_parse_error("GET /\x80 HTTP/1.1\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1 \r\n\r\n");
	expect_parse_error("GET / HTTP/1.1x\r\n\r\n");
	expect_parse_error("GET / HTTP/2.0\r\n\r\n");
	expect_parse_error("GET / HTTP/1\r\n\r\n");
	expect_parse_error("GET / HTTP/1.\r\n\r\n");
	expect_parse_error("GET / http/1.1\r\n\r\n");
	expect_parse_error("GET /\r\n\r\n");
	expect_parse_error("GET\r\n\r\n");
	expect_parse_error("\r\nGET / HTTP/1.1\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\r\n\r\n");
}

UNIT_TEST(test_status_line)
{
	struct http_head h;

	(void)state;
	assert_true(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &h) > 0);
	assert_int_equal(h.kind, HTTP_RESPONSE);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.version, 11);
	assert_int_equal(h.content_length, 5);
	assert_string_equal(h.method, "");

	assert_true(parse("HTTP/1.1 404\r\n\r\n", &h) > 0);
	assert_int_equal(h.status, 404);
	assert_true(parse("HTTP/1.1 200 \r\n\r\n", &h) > 0);
	assert_true(parse("HTTP/1.1 100 Continue\r\n\r\n", &h) > 0);
	assert_int_equal(h.status, 100);
	assert_true(parse("HTTP/1.1 599 Whatever it is\r\n\r\n", &h) > 0);
	assert_int_equal(h.status, 599);
	assert_true(parse("HTTP/1.1 200 \xc3\xa7"
			  "a va\r\n\r\n",
			  &h) > 0);
	assert_true(parse("HTTP/1.0 503 Service Unavailable\r\n\r\n", &h) > 0);
	assert_int_equal(h.version, 10);
	assert_true(h.conn_close);

	expect_parse_error("HTTP/1.1 099 Low\r\n\r\n");
	expect_parse_error("HTTP/1.1 600 High\r\n\r\n");
	expect_parse_error("HTTP/1.1 000 Zero\r\n\r\n");
	expect_parse_error("HTTP/1.1 20 OK\r\n\r\n");
	expect_parse_error("HTTP/1.1 2000 OK\r\n\r\n");
	expect_parse_error("HTTP/1.1 200OK\r\n\r\n");
	expect_parse_error("HTTP/1.1  200 OK\r\n\r\n");
	expect_parse_error("HTTP/1.1 2x0 OK\r\n\r\n");
	expect_parse_error("HTTP/1.1 200 O\x01K\r\n\r\n");
	expect_parse_error("HTTP/2 200\r\n\r\n");
	expect_parse_error("HTTP/1.1\r\n\r\n");
	expect_parse_error("HTTPS/1.1 200 OK\r\n\r\n");
}

UNIT_TEST(test_versions_and_connection)
{
	struct http_head h;

	(void)state;
	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
	assert_int_equal(h.version, 10);
	assert_true(h.conn_close);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &h) > 0);
	assert_false(h.conn_close);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive, Upgrade\r\n\r\n", &h) > 0);
	assert_false(h.conn_close);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", &h) > 0);
	assert_true(h.conn_close);
	assert_true(parse("GET / HTTP/1.1\r\n\r\n", &h) > 0);
	assert_int_equal(h.version, 11);
	assert_false(h.conn_close);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &h) > 0);
	assert_true(h.conn_close);
	assert_true(parse("GET / HTTP/1.1\r\nconnection: upgrade,  CLOSE \r\n\r\n", &h) > 0);
	assert_true(h.conn_close);
	assert_true(parse("GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", &h) > 0);
	assert_false(h.conn_close);
	assert_true(parse("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", &h) > 0);
	assert_true(h.conn_close);
}

UNIT_TEST(test_header_names_and_values)
{
	const char *req = "POST /u HTTP/1.1\r\n"
			  "HOST:example.org:8080\r\n"
			  "user-AGENT: \t curl/8.1  \t\r\n"
			  "TraceParent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
			  "content-LENGTH:  12 \r\n"
			  "X-Empty:\r\n"
			  "X-Utf8: caf\xc3\xa9\r\n"
			  "\r\n";
	struct http_head h;

	(void)state;
	assert_int_equal(parse(req, &h), strlen(req));
	assert_string_equal(h.host, "example.org:8080");
	assert_string_equal(h.user_agent, "curl/8.1");
	assert_string_equal(h.traceparent,
			    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
	assert_int_equal(h.content_length, 12);

	/* The first Host wins. */
	assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", &h) > 0);
	assert_string_equal(h.host, "a");

	expect_parse_error("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\n: a\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nHost a\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nHo st: a\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nX-A: \x7f\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nX-A: \x1b[31m\r\n\r\n");
	expect_parse_error("GET / HTTP/1.1\r\nX-\x01: a\r\n\r\n");
	assert_int_equal(http_parse_head(LIT("GET / HTTP/1.1\r\nX-A: a\x00"
					     "b\r\n\r\n"),
					 &h),
			 HTTP_PARSE_ERROR);
}

UNIT_TEST(test_long_values_truncated)
{
	char req[8192], target[3000], host[600];
	struct http_head h;

	(void)state;
	memset(target, 'a', sizeof(target) - 1);
	target[0] = '/';
	target[sizeof(target) - 1] = '\0';
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n", target,
		 host, host);
	assert_int_equal(parse(req, &h), strlen(req));
	assert_int_equal(strlen(h.target), HTTP_TARGET_MAX - 1);
	assert_memory_equal(h.target, target, HTTP_TARGET_MAX - 1);
	assert_int_equal(strlen(h.host), HTTP_HOST_MAX - 1);
	assert_int_equal(strlen(h.user_agent), HTTP_UA_MAX - 1);
}

UNIT_TEST(test_bare_lf_and_obs_fold)
{
	const char *lf = "GET / HTTP/1.1\nHost: a\nContent-Length: 3\n\n";
	const char *mixed = "HTTP/1.1 200 OK\r\nHost: a\n\r\n";
	const char *fold = "GET / HTTP/1.1\r\nUser-Agent: foo\r\n  bar\r\n\tbaz\r\nHost: h\r\n\r\n";
	struct http_head h;

	(void)state;
	assert_int_equal(parse(lf, &h), strlen(lf));
	assert_string_equal(h.host, "a");
	assert_int_equal(h.content_length, 3);
	assert_int_equal(parse(mixed, &h), strlen(mixed));
	/* obs-fold lines are ignored: the folded part of a value is dropped. */
	assert_int_equal(parse(fold, &h), strlen(fold));
	assert_string_equal(h.user_agent, "foo");
	assert_string_equal(h.host, "h");
	expect_parse_error("GET / HTTP/1.1\r\nA: b\r\n \x01\r\n\r\n");
}

UNIT_TEST(test_content_length)
{
	static const struct {
		const char *v;
		int64_t want; /* -2: parse error */
	} cases[] = {
		{ "0", 0 },
		{ "42", 42 },
		{ "007", 7 },
		{ "9223372036854775807", INT64_MAX },
		{ "9223372036854775808", -2 },
		{ "99999999999999999999999", -2 },
		{ "+42", -2 },
		{ "-1", -2 },
		{ "4 2", -2 },
		{ "", -2 },
		{ "0x10", -2 },
		{ "42, 42", -2 },
		{ "1e3", -2 },
		{ "42;", -2 },
	};
	char req[256];
	struct http_head h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n",
			 cases[i].v);
		r = parse(req, &h);
		if (cases[i].want == -2) {
			assert_int_equal(r, HTTP_PARSE_ERROR);
		} else {
			assert_int_equal(r, strlen(req));
			assert_int_equal(h.content_length, cases[i].want);
		}
	}
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", &h) >
		    0);
	assert_int_equal(h.content_length, 5);
	expect_parse_error("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
	expect_parse_error("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 10\r\n\r\n");
}

UNIT_TEST(test_transfer_encoding)
{
	struct http_head h;

	(void)state;
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &h) > 0);
	assert_true(h.chunked);
	assert_true(parse("POST / HTTP/1.1\r\ntransfer-encoding: gzip, CHUNKED\r\n\r\n", &h) > 0);
	assert_true(h.chunked);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", &h) > 0);
	assert_false(h.chunked);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked ,\r\n\r\n", &h) > 0);
	assert_true(h.chunked);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n",
			  &h) > 0);
	assert_true(h.chunked);
	assert_true(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunkedx\r\n\r\n", &h) > 0);
	assert_false(h.chunked);
	/* Transfer-Encoding overrides Content-Length. */
	assert_true(parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n",
			  &h) > 0);
	assert_true(h.chunked);
	assert_int_equal(h.content_length, -1);
}

UNIT_TEST(test_need_more_at_every_prefix)
{
	static const char *const heads[] = {
		"GET /a/b?c=d HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
		"HTTP/1.0 204\nA: b\n\n",
		"OPTIONS * HTTP/1.1\r\nX: y\r\n  folded\r\n\r\n",
	};
	struct http_head h;
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		size_t n = strlen(heads[i]);

		for (k = 0; k < n; k++)
			assert_int_equal(http_parse_head((const uint8_t *)heads[i], k, &h),
					 HTTP_PARSE_NEED_MORE);
		assert_int_equal(http_parse_head((const uint8_t *)heads[i], n, &h), n);
	}
	assert_int_equal(http_parse_head(NULL, 0, &h), HTTP_PARSE_NEED_MORE);
	assert_int_equal(http_parse_head(LIT("GET / HTTP/1.1\r\n\r\n"), NULL), 18);
}

UNIT_TEST(test_garbage_rejected)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03,
				       0x03, 0xde, 0xad, 0xbe, 0xef, '\r', '\n', '\r', '\n' };
	uint8_t junk[512];
	struct http_head h;
	size_t i;

	(void)state;
	assert_int_equal(http_parse_head(tls, sizeof(tls), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(tls, 2, &h), HTTP_PARSE_ERROR);
	srand(1);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(rand() & 0xff);
	junk[0] = 0x80;
	assert_int_equal(http_parse_head(junk, sizeof(junk), &h), HTTP_PARSE_ERROR);
	/* Incomplete heads with bytes HTTP cannot contain fail at once, without more data. */
	assert_int_equal(http_parse_head(LIT("GET /\x00"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("GET / HTTP/1.1\r\nX: \x00"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("GET / HTTP/1.1\r\nX\x01"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("GET / HTTP/1.2x"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("HTTP/1.1 700"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("SSH-2.0-OpenSSH\r\n"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head(LIT("\x00\x00\x00\x08\x04\xd2\x16\x2f"), &h),
			 HTTP_PARSE_ERROR);
}

/* A head of `len` bytes: a request line, padding headers, and the blank line if `end`. */
static size_t make_head(char *buf, size_t len, bool end)
{
	const char *start = "GET / HTTP/1.1\r\n";
	size_t pos = strlen(start), tail = end ? 2 : 0;

	memcpy(buf, start, pos);
	while (pos + tail < len) {
		size_t line = len - tail - pos > 100 ? 100 : len - tail - pos;

		if (line < 5) {
			/* Too short for a header: lengthen the previous one instead. */
			memmove(buf + pos - 2 + line, buf + pos - 2, 2);
			memset(buf + pos - 2, 'x', line);
			pos += line;
			continue;
		}
		memcpy(buf + pos, "X:", 2);
		memset(buf + pos + 2, 'p', line - 4);
		memcpy(buf + pos + line - 2, "\r\n", 2);
		pos += line;
	}
	if (end)
		memcpy(buf + pos, "\r\n", 2);
	return pos + tail;
}

UNIT_TEST(test_oversized_head)
{
	size_t cap = HTTP_HEAD_MAX + 4096;
	char *buf = malloc(cap);
	struct http_head h;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(make_head(buf, HTTP_HEAD_MAX, true), HTTP_HEAD_MAX);
	assert_int_equal(http_parse_head((uint8_t *)buf, HTTP_HEAD_MAX, &h), HTTP_HEAD_MAX);
	assert_int_equal(http_parse_head((uint8_t *)buf, cap, &h), HTTP_HEAD_MAX);

	make_head(buf, HTTP_HEAD_MAX + 1, true);
	assert_int_equal(http_parse_head((uint8_t *)buf, HTTP_HEAD_MAX + 1, &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_head((uint8_t *)buf, HTTP_HEAD_MAX - 1, &h),
			 HTTP_PARSE_NEED_MORE);
	assert_int_equal(http_parse_head((uint8_t *)buf, HTTP_HEAD_MAX, &h), HTTP_PARSE_ERROR);

	make_head(buf, cap, false);
	assert_int_equal(http_parse_head((uint8_t *)buf, cap, &h), HTTP_PARSE_ERROR);
	free(buf);
}

static void assert_no_secret(const void *p, size_t n)
{
	static const char *const secrets[] = { "s3cr3t-bearer", "s3cr3t-cookie", "s3cr3t-set" };
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (memmem(p, n, secrets[i], strlen(secrets[i])))
			fail_msg("found %s", secrets[i]);
}

static const char secret_req[] = "GET /account HTTP/1.1\r\n"
				 "Host: bank.example\r\n"
				 "Authorization: Bearer s3cr3t-bearer\r\n"
				 "Cookie: session=s3cr3t-cookie; theme=dark\r\n"
				 "User-Agent: test\r\n"
				 "\r\n";
static const char secret_resp[] = "HTTP/1.1 200 OK\r\n"
				  "Set-Cookie: id=s3cr3t-set; HttpOnly\r\n"
				  "Content-Length: 0\r\n"
				  "\r\n";

UNIT_TEST(test_secrets_never_copied)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };
	struct http_head h;

	(void)state;
	memset(&h, 0xa5, sizeof(h));
	assert_true(parse(secret_req, &h) > 0);
	assert_string_equal(h.user_agent, "test");
	assert_no_secret(&h, sizeof(h));
	assert_true(parse(secret_resp, &h) > 0);
	assert_no_secret(&h, sizeof(h));
	assert_int_equal(http_parse_partial_head(LIT(secret_req) - 5, &h), 0);
	assert_no_secret(&h, sizeof(h));

	/* Through the stream, split so the head is collected in its buffer. */
	feed_split(s, &r, secret_req, strlen(secret_req), 7);
	assert_string_equal(r.log, "H GET /account|C|");
	assert_no_secret(&r.last, sizeof(r.last));
	if (s->buf) /* wiped and released once the head is parsed */
		assert_no_secret(s->buf, HTTP_HEAD_MAX);
	feed_split(s, &r, secret_resp, strlen(secret_resp), 3);
	assert_no_secret(&r.last, sizeof(r.last));
	if (s->buf) /* wiped and released once the head is parsed */
		assert_no_secret(s->buf, HTTP_HEAD_MAX);
	/* And when the capture cuts the head. */
	feed_n(s, &r, secret_req, 90, 500);
	assert_int_equal(r.truncs, 1);
	assert_no_secret(&r.last, sizeof(r.last));
	if (s->buf) /* wiped and released once the head is parsed */
		assert_no_secret(s->buf, HTTP_HEAD_MAX);
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_partial_head)
{
	const char *cut = "GET /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 9\r\nUser-Ag";
	struct http_head h;

	(void)state;
	assert_int_equal(http_parse_partial_head((const uint8_t *)cut, strlen(cut), &h), 0);
	assert_true(h.truncated);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.target, "/x");
	assert_string_equal(h.host, "example.com");
	assert_string_equal(h.user_agent, "");
	assert_int_equal(h.content_length, 9);
	assert_int_equal(h.head_len, strlen(cut) - strlen("User-Ag"));

	assert_int_equal(http_parse_partial_head(LIT("HTTP/1.1 503 Busy\r\n"), &h), 0);
	assert_int_equal(h.status, 503);
	assert_true(h.truncated);
	/* A complete head is fine too. */
	assert_int_equal(http_parse_partial_head(LIT("GET / HTTP/1.1\r\n\r\nxx"), &h), 0);
	assert_int_equal(h.head_len, 18);
	assert_true(h.truncated);

	/* A request line cut by the capture still gives the method and the target's start. */
	assert_int_equal(http_parse_partial_head(LIT("GET /x HTTP/1.1"), &h), 0);
	assert_string_equal(h.target, "/x");
	assert_true(h.truncated);
	assert_int_equal(http_parse_partial_head(LIT("GET /very-long-tar"), &h), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.target, "/very-long-tar");
	assert_int_equal(h.version, 11);
	assert_int_equal(http_parse_partial_head(LIT("GET "), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_partial_head(LIT("GET"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_partial_head(LIT("GET /a\x01b"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_partial_head(LIT(""), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_partial_head(LIT("\x16\x03\x01\r\n"), &h), HTTP_PARSE_ERROR);
	assert_int_equal(http_parse_partial_head(LIT("GET / HTTP/1.1\r\nBad Header\r\nX"), &h),
			 HTTP_PARSE_ERROR);
}

UNIT_TEST(test_response_has_body)
{
	(void)state;
	assert_true(http_response_has_body(NULL, 200));
	assert_true(http_response_has_body("GET", 200));
	assert_true(http_response_has_body("POST", 404));
	assert_true(http_response_has_body("GET", 500));
	assert_false(http_response_has_body(NULL, 100));
	assert_false(http_response_has_body(NULL, 101));
	assert_false(http_response_has_body(NULL, 103));
	assert_false(http_response_has_body("GET", 204));
	assert_false(http_response_has_body("GET", 304));
	assert_false(http_response_has_body("HEAD", 200));
	assert_false(http_response_has_body("HEAD", 404));
	assert_false(http_response_has_body("CONNECT", 200));
	assert_true(http_response_has_body("CONNECT", 407));
	assert_true(http_response_has_body("CONNECT", 502));
}

UNIT_TEST(test_traceparent)
{
	static const char *const bad[] = {
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
		"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e47366-0f067aa0ba902b7-01",
		"00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
		"00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
		"0-04bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what",
		"",
	};
	static const uint8_t want_tid[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
					      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
	static const uint8_t want_sid[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	uint8_t tid[16], sid[8], flags = 0xee;
	size_t i;

	(void)state;
	assert_true(http_parse_traceparent(
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tid, sid, &flags));
	assert_memory_equal(tid, want_tid, 16);
	assert_memory_equal(sid, want_sid, 8);
	assert_int_equal(flags, 1);
	assert_true(http_parse_traceparent(
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", tid, sid, &flags));
	assert_int_equal(flags, 0);
	/* A later version may append fields after a '-'. */
	assert_true(http_parse_traceparent(
		"cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what", tid, sid, &flags));
	assert_int_equal(flags, 3);
	assert_true(http_parse_traceparent(
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL, NULL, NULL));

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(tid, 0x77, sizeof(tid));
		if (http_parse_traceparent(bad[i], tid, sid, &flags))
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(tid[0], 0x77); /* outputs untouched on failure */
	}
	assert_false(http_parse_traceparent(NULL, tid, sid, &flags));
}

UNIT_TEST(test_stream_simple)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_string_equal(r.log, "H GET /a|C|");
	assert_int_equal(s->state, HTTP_ST_IDLE);
	assert_string_equal(r.last.host, "x");

	feed(s, &r, "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel");
	assert_string_equal(r.log, "H GET /a|C|H POST /b|");
	assert_int_equal(s->state, HTTP_ST_BODY_LEN);
	assert_int_equal(s->body_left, 2);
	feed(s, &r, "lo");
	assert_string_equal(r.log, "H GET /a|C|H POST /b|C|");
	assert_int_equal(s->state, HTTP_ST_IDLE);
	assert_int_equal(r.errors, 0);
	http_stream_free(s);
	free(s);
}

static const char chunked_msgs[] = "POST /upload HTTP/1.1\r\nHost: a\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n"
				   "5;name=val\r\nhello\r\n"
				   "0A ; a=b;c\r\n0123456789\r\n"
				   "1\nx\n"
				   "0;last\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n"
				   "GET /next HTTP/1.1\r\nHost: a\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				   "3\r\nabc\r\n0\r\n\r\n";
static const char chunked_log[] = "H POST /upload|C|H GET /next|C|H 200|C|";

UNIT_TEST(test_stream_chunked)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r, chunked_msgs);
	assert_string_equal(r.log, chunked_log);
	assert_int_equal(s->state, HTTP_ST_IDLE);

	/* Chunked without trailers, ending in the same event as the head. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	assert_string_equal(r.log, "H 200|C|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_chunked_every_split)
{
	size_t n = sizeof(chunked_msgs) - 1, k;
	struct http_stream *s = stream_new();
	struct rec r;

	(void)state;
	for (k = 1; k < n; k++) {
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed_n(s, &r, chunked_msgs, k, k);
		feed_n(s, &r, chunked_msgs + k, n - k, n - k);
		if (strcmp(r.log, chunked_log))
			fail_msg("split at %zu: %s", k, r.log);
		assert_int_equal(s->state, HTTP_ST_IDLE);
	}
	for (k = 1; k <= 16; k++) {
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed_split(s, &r, chunked_msgs, n, k);
		if (strcmp(r.log, chunked_log))
			fail_msg("events of %zu: %s", k, r.log);
	}
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_chunk_errors)
{
	static const char *const bodies[] = {
		"10000000000000001\r\n", /* past 2^60 */
		"1000000000000001\r\n",
		"zz\r\n",
		"\r\n",
		"5 5\r\n",
		"5\r\nhelloX",
		"5\r\nhello\r\r",
		"0\r\nX-Bad: \x01\r\n\r\n",
		"5;ext\x01\r\n",
	};
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	struct http_stream *s = stream_new();
	char line[200];
	struct rec r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed(s, &r, head);
		feed(s, &r, bodies[i]);
		if (strcmp(r.log, "H 200|c|E|"))
			fail_msg("%zu: %s", i, r.log);
		assert_int_equal(s->state, HTTP_ST_RESYNC);
		/* And the next message is found again. */
		feed(s, &r, "HTTP/1.1 204 No Content\r\n\r\n");
		assert_string_equal(r.log, "H 200|c|E|H 204|C|");
	}

	/* 2^60 itself is still a (huge) chunk. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed(s, &r, head);
	feed(s, &r, "1000000000000000\r\n");
	assert_int_equal(s->state, HTTP_ST_CHUNK_DATA);
	assert_int_equal(s->body_left, 1ULL << 60);

	/* The size line is bounded: 64 bytes pass, 65 do not, split or not. */
	memset(line, 0, sizeof(line));
	memcpy(line, "1;", 2);
	memset(line + 2, 'e', 62);
	strcat(line, "\r\nx\r\n0\r\n\r\n");
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed(s, &r, head);
	feed_split(s, &r, line, strlen(line), 5);
	assert_string_equal(r.log, "H 200|C|");
	memset(line, 0, sizeof(line));
	memcpy(line, "1;", 2);
	memset(line + 2, 'e', 63);
	strcat(line, "\r\nx\r\n0\r\n\r\n");
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed(s, &r, head);
	feed_split(s, &r, line, strlen(line), 5);
	assert_string_equal(r.log, "H 200|c|E|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_keep_alive)
{
	struct http_stream *req = stream_new(), *resp = stream_new();
	struct rec rq = { 0 }, rs = { 0 };
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		feed(req, &rq, "GET /item HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
		feed(resp, &rs, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
		feed(resp, &rs, "data");
	}
	feed(req, &rq, "GET /bye HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_true(rq.last.conn_close);
	assert_string_equal(rq.log, "H GET /item|C|H GET /item|C|H GET /item|C|H GET /bye|C|");
	assert_string_equal(rs.log, "H 200|C|H 200|C|H 200|C|");
	free(req);
	free(resp);
}

UNIT_TEST(test_stream_pipelined)
{
	const char *p = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
			"POST /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
			"PUT /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
			"\r\n" /* a stray line ending between messages is allowed */
			"DELETE /4 HTTP/1.0\r\n\r\n";
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r, p);
	assert_string_equal(r.log, "H GET /1|C|H POST /2|C|H PUT /3|C|H DELETE /4|C|");
	assert_int_equal(r.errors, 0);

	/* The same across events of every size from 1 to 40. */
	for (size_t k = 1; k <= 40; k++) {
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed_split(s, &r, p, strlen(p), k);
		assert_string_equal(r.log, "H GET /1|C|H POST /2|C|H PUT /3|C|H DELETE /4|C|");
	}
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_response_many_events)
{
	static const size_t sizes[] = { 1, 3, 7, 64, 1000 };
	char msg[4096];
	struct http_stream *s = stream_new();
	struct rec r;
	size_t n, i;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg),
			     "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\n"
			     "Content-Length: 2000\r\nConnection: keep-alive\r\n\r\n");
	memset(msg + n, 'b', 2000);
	n += 2000;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n,
			      "HTTP/1.1 404 Not Found\r\n"
			      "Content-Length: 0\r\n\r\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed_split(s, &r, msg, n, sizes[i]);
		assert_string_equal(r.log, "H 201|C|H 404|C|");
	}
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_body_as_gap)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	/* sendfile: the head is captured, the body is not. */
	feed_n(s, &r, head, strlen(head), strlen(head) + 100000);
	assert_string_equal(r.log, "H 200|C|");
	assert_int_equal(s->state, HTTP_ST_IDLE);
	feed(s, &r, "HTTP/1.1 304 Not Modified\r\n\r\n");
	assert_string_equal(r.log, "H 200|C|H 304|C|");

	/* Part of the body captured, part lost, the rest in a later event. */
	memset(&r, 0, sizeof(r));
	feed_n(s, &r, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789", 50, 110);
	assert_int_equal(s->state, HTTP_ST_BODY_LEN);
	assert_int_equal(s->body_left, 30);
	feed_n(s, &r, "tail", 4, 30);
	assert_string_equal(r.log, "H 200|C|");

	/* Gaps inside chunk data are body too. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\nab");
	feed_n(s, &r, "cd", 2, 4094);
	assert_int_equal(s->state, HTTP_ST_CHUNK_CRLF);
	feed(s, &r, "\r\n0\r\n\r\n");
	assert_string_equal(r.log, "H 200|C|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_gap_past_message)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	/* The gap covers the body and the start of something else: resync, silently. */
	feed_n(s, &r, head, strlen(head), strlen(head) + 500);
	assert_string_equal(r.log, "H 200|C|");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	feed(s, &r, "rest of some body that was not captured");
	feed(s, &r, "more body");
	feed(s, &r, "and more body");
	feed(s, &r, "and more body still");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	assert_int_equal(r.errors, 0);
	feed(s, &r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.log, "H 200|C|H 200|C|");

	/* A gap in chunk framing ends the message unclean. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1");
	feed_n(s, &r, "0", 1, 50);
	assert_string_equal(r.log, "H 200|c|");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	feed(s, &r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.log, "H 200|c|H 200|C|");

	/* An event captured not at all. */
	memset(&r, 0, sizeof(r));
	feed_n(s, &r, NULL, 0, 1000);
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	feed(s, &r, "GET / HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "H GET /|C|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_truncated_head)
{
	const char *cut = "GET /x HTTP/1.1\r\nHost: example.com\r\nUser-Ag";
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed_n(s, &r, cut, strlen(cut), strlen(cut) + 700);
	assert_string_equal(r.log, "T|H GET /x T|c|");
	assert_true(r.last.truncated);
	assert_string_equal(r.last.host, "example.com");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	assert_int_equal(r.errors, 0);
	feed(s, &r, "GET /y HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "T|H GET /x T|c|H GET /y|C|");

	/* The head spans events and the second one is cut. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 500 Oops\r\nCont");
	feed_n(s, &r, "ent-Length: 5\r\nX-", 17, 4096);
	assert_string_equal(r.log, "T|H 500 T|c|");
	assert_int_equal(r.last.content_length, 5);
	assert_int_equal(r.last.status, 500);

	/* The request line itself is cut: method and the target's start still make a message. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed_n(s, &r, "GET /very-long-tar", 18, 9000);
	assert_string_equal(r.log, "T|H GET /very-long-tar T|c|");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	feed(s, &r, "GET /z HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "T|H GET /very-long-tar T|c|H GET /z|C|");

	/* A status line cut short has nothing usable. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed_n(s, &r, "HTTP/1.1 20", 11, 9000);
	assert_string_equal(r.log, "E|");
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_garbage)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03 };
	static const uint8_t app[] = { 0x17, 0x03, 0x03, 0x00, 0x20, 0xaa, 0xbb, 0xcc };
	struct http_stream *s = stream_new();
	struct rec r = { 0 };
	int i;

	(void)state;
	feed_n(s, &r, tls, sizeof(tls), sizeof(tls));
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	for (i = 0; i < 10; i++)
		feed_n(s, &r, app, sizeof(app), 4096);
	assert_string_equal(r.log, "E|");
	assert_int_equal(s->state, HTTP_ST_NOT_HTTP);
	/* Given up: silent even for HTTP. */
	feed(s, &r, "GET / HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "E|");

	/* Three failed resyncs after the loss, not fewer. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed(s, &r, "\x01\x02\x03");
	for (i = 0; i < 3; i++) {
		assert_int_equal(s->state, HTTP_ST_RESYNC);
		feed(s, &r, "binary junk");
	}
	assert_int_equal(s->state, HTTP_ST_NOT_HTTP);
	assert_int_equal(r.errors, 1);

	/* A close starts over. */
	http_stream_close(s, &rec_ops, &r);
	assert_int_equal(s->state, HTTP_ST_IDLE);
	feed(s, &r, "GET / HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "E|H GET /|C|");

	/* Binary after a sniffable start. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	feed_n(s, &r, LIT("GET \x00\x01\x02\x03\xff\xfe"), 100);
	assert_string_equal(r.log, "E|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_resync)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r, "hello there, not http\r\n\r\n");
	feed(s, &r, "still not http");
	feed(s, &r, "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
	assert_string_equal(r.log, "E|H GET /a|C|H POST /b|C|");
	assert_int_equal(s->errors, 0);

	/* Garbage after a message, in the same event. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "GET /c HTTP/1.1\r\n\r\n\x16\x03\x01junk");
	assert_string_equal(r.log, "H GET /c|C|E|");
	feed(s, &r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.log, "H GET /c|C|E|H 200|C|");

	/* Each resync that finds a bad head again is a new loss of sync. */
	memset(&r, 0, sizeof(r));
	http_stream_free(s);
	http_stream_init(s);
	for (int i = 0; i < 4; i++)
		feed(s, &r, "GET /\x01 HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "E|E|E|E|");
	assert_int_equal(s->state, HTTP_ST_NOT_HTTP);

	/* A head over HTTP_HEAD_MAX, collected across events, is one error. */
	{
		size_t n = HTTP_HEAD_MAX + 2000;
		char *big = malloc(n);

		assert_non_null(big);
		make_head(big, n, true);
		memset(&r, 0, sizeof(r));
		http_stream_free(s);
		http_stream_init(s);
		feed_split(s, &r, big, n, 1000);
		assert_string_equal(r.log, "E|");
		http_stream_free(s);
		http_stream_init(s);
		make_head(big, HTTP_HEAD_MAX, true);
		feed_split(s, &r, big, HTTP_HEAD_MAX, 999);
		assert_string_equal(r.log, "E|H GET /|C|");
		free(big);
	}
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_interim_responses)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r,
	     "HTTP/1.1 100 Continue\r\n\r\n"
	     "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_string_equal(r.log, "H 100|C|H 103|C|H 200|C|");

	memset(&r, 0, sizeof(r));
	feed(s, &r,
	     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	     "Connection: Upgrade\r\n\r\n\x81\x05hello");
	assert_string_equal(r.log, "H 101|C|");
	assert_int_equal(s->state, HTTP_ST_NOT_HTTP);
	feed_n(s, &r, LIT("\x82\x7e\x00\x10\x00\x00"), 6);
	assert_string_equal(r.log, "H 101|C|");
	assert_int_equal(r.errors, 0);
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_no_body)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	/* 204 and 304 carry no body whatever their headers say. */
	feed(s, &r,
	     "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
	     "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.log, "H 204|C|H 304|C|H 200|C|");
	assert_int_equal(s->state, HTTP_ST_IDLE);

	/* The response to HEAD: the caller knows the method and says so. */
	memset(&r, 0, sizeof(r));
	r.modes[0] = HTTP_BODY_NONE;
	feed(s, &r,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
	assert_string_equal(r.log, "H 200|C|H 200|C|");

	/* A request without framing has no body. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "POST /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	assert_string_equal(r.log, "H POST /x|C|H GET /y|C|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_until_close)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	feed(s, &r, "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>");
	assert_int_equal(s->state, HTTP_ST_UNTIL_CLOSE);
	feed(s, &r, "GET / HTTP/1.1\r\n\r\n"); /* body bytes, whatever they look like */
	feed_n(s, &r, "x", 1, 100000);
	assert_string_equal(r.log, "H 200|");
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "H 200|C|");
	assert_int_equal(s->state, HTTP_ST_IDLE);

	/* A transfer coding other than chunked also reads until the close. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\n");
	assert_int_equal(s->state, HTTP_ST_UNTIL_CLOSE);
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "H 200|C|");

	/* A close in the middle of a framed body abandons it. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\npartial");
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "H 200|c|");
	feed(s, &r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "H 200|c|H 200|c|");

	/* Nothing in progress: nothing to report. */
	memset(&r, 0, sizeof(r));
	http_stream_close(s, &rec_ops, &r);
	feed(s, &r, "GET /half HTTP/1.1\r\nHo");
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "");
	assert_int_equal(s->buf_len, 0);
	http_stream_close(s, NULL, NULL);
	http_stream_close(NULL, &rec_ops, &r);
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_lying_content_length)
{
	struct http_stream *s = stream_new();
	struct rec r = { 0 };

	(void)state;
	/* Shorter than the body: the rest is not a message. */
	feed(s, &r, "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcdefgh");
	assert_string_equal(r.log, "H POST /a|C|E|");
	feed(s, &r, "POST /b HTTP/1.1\r\nContent-Length: 1\r\n\r\nz");
	assert_string_equal(r.log, "H POST /a|C|E|H POST /b|C|");

	/* Longer than the body: the next request is swallowed as body, until the close. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "POST /c HTTP/1.1\r\nContent-Length: 500\r\n\r\nabc");
	feed(s, &r, "GET /d HTTP/1.1\r\n\r\n");
	assert_string_equal(r.log, "H POST /c|");
	http_stream_close(s, &rec_ops, &r);
	assert_string_equal(r.log, "H POST /c|c|");

	/* Overflowing or conflicting lengths are not HTTP we can frame. */
	memset(&r, 0, sizeof(r));
	feed(s, &r, "POST /e HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n");
	assert_string_equal(r.log, "E|");
	feed(s, &r, "POST /f HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab");
	assert_string_equal(r.log, "E|E|");
	http_stream_free(s);
	free(s);
}

UNIT_TEST(test_stream_null_ops)
{
	static const struct http_stream_ops empty;
	struct http_stream *s = stream_new();

	(void)state;
	http_stream_feed(s, (const uint8_t *)chunked_msgs, sizeof(chunked_msgs) - 1,
			 sizeof(chunked_msgs) - 1, NULL, NULL);
	assert_int_equal(s->state, HTTP_ST_IDLE);
	http_stream_feed(s, (const uint8_t *)"GET / HTTP/1.1\r\nHo", 18, 500, &empty, NULL);
	assert_int_equal(s->state, HTTP_ST_RESYNC);
	http_stream_feed(s, (const uint8_t *)"\x16\x03", 2, 2, &empty, NULL);
	http_stream_feed(s, (const uint8_t *)"HTTP/1.0 200 OK\r\n\r\n", 19, 40, &empty, NULL);
	assert_int_equal(s->state, HTTP_ST_UNTIL_CLOSE);
	http_stream_close(s, &empty, NULL);
	http_stream_feed(NULL, (const uint8_t *)"x", 1, 1, NULL, NULL);
	/* total < len is treated as total == len. */
	http_stream_feed(s, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, 3, NULL, NULL);
	assert_int_equal(s->state, HTTP_ST_IDLE);
	http_stream_free(s);
	free(s);
}

UNIT_MAIN(NULL, NULL)
