// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Span assembly: connection events in, spans out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "protocols/http.h"

#define MAX_SPANS 16

struct captured {
	size_t n;
	struct span spans[MAX_SPANS];
};

static void capture_span(void *ctx, const struct span *s)
{
	struct captured *c = ctx;

	if (c->n < MAX_SPANS)
		c->spans[c->n] = *s;
	c->n++;
}

struct fixture {
	struct captured got;
	struct conn_table *conns;
	struct http_tracker *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct http_tracker_ops ops = { .span = capture_span };

	ops.ctx = &f->got;
	f->conns = conn_table_new(4);
	f->t = f->conns ? http_tracker_new(&ops, f->conns) : NULL;
	*state = f;
	return f->t ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conn_table_free(f->conns);
	http_tracker_free(f->t);
	free(f);
	return 0;
}

/* Bytes of connection id, as the connection table hands them over. */
static void feed(struct fixture *f, uint64_t id, uint32_t pid, uint32_t tid, uint64_t ts,
		 enum conn_dir dir, const void *data, size_t len, uint64_t total)
{
	struct conn_data d = {
		.tid = tid, .ts_ns = ts, .dir = dir, .data = data, .len = len, .total = total
	};

	conn_table_data(f->conns, id, pid, &d);
}

static void open_addrs(struct fixture *f, uint64_t id, bool accepted, int lport, const char *raddr,
		       int rport)
{
	struct conn_meta m = { .conn_id = id, .pid = 100, .fd = 5, .accepted = accepted };

	strcpy(m.local_addr, "127.0.0.1");
	m.local_port = lport;
	strcpy(m.remote_addr, raddr);
	m.remote_port = rport;
	conn_table_open(f->conns, &m);
}

static void open_conn(struct fixture *f, uint64_t id, bool accepted)
{
	/* not a loopback peer: a local client would make server spans wait for their client end */
	open_addrs(f, id, accepted, 8080, "192.0.2.7", 40000);
}

/* Both ends on loopback: two such connections with mirrored ports are one connection. */
static void open_tuple(struct fixture *f, uint64_t id, bool accepted, int lport, int rport)
{
	open_addrs(f, id, accepted, lport, "127.0.0.1", rport);
}

static void send_str(struct fixture *f, uint64_t id, uint32_t tid, uint64_t ts, enum conn_dir d,
		     const char *s)
{
	feed(f, id, 100, tid, ts, d, (const uint8_t *)s, strlen(s), strlen(s));
}

UNIT_TEST_FIXTURE(test_server_span, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *s;

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1000, CONN_DIR_IN,
		 "GET /users/42?token=abc HTTP/1.1\r\nHost: example.com:8080\r\n"
		 "User-Agent: curl/7.88\r\n\r\n");
	assert_int_equal(f->got.n, 0);
	send_str(f, 1, 7, 5000, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_int_equal(s->kind, SPAN_KIND_SERVER);
	assert_string_equal(s->name, "GET /users/{id}");
	assert_int_equal(s->start_ns, 1000);
	assert_int_equal(s->end_ns, 5000);
	assert_false(s->error);
	assert_false(s->has_parent);
	assert_string_equal(span_get_str(s, "http.request.method"), "GET");
	assert_string_equal(span_get_str(s, "url.path"), "/users/42");
	assert_string_equal(span_get_str(s, "url.query"), "token=REDACTED");
	assert_string_equal(span_get_str(s, "http.route"), "/users/{id}");
	assert_int_equal(span_get_int(s, "http.response.status_code", 0), 200);
	assert_string_equal(span_get_str(s, "server.address"), "example.com");
	assert_int_equal(span_get_int(s, "server.port", 0), 8080);
	assert_string_equal(span_get_str(s, "client.address"), "192.0.2.7");
	assert_int_equal(span_get_int(s, "client.port", 0), 40000);
	assert_string_equal(span_get_str(s, "network.protocol.version"), "1.1");
	assert_string_equal(span_get_str(s, "user_agent.original"), "curl/7.88");
}

/* server.address and server.port from Host; the socket's local port (7070 here) when Host names
 * no port, or one that is none. */
UNIT_TEST_FIXTURE(test_server_port_from_host, setup, teardown)
{
	static const struct {
		const char *host, *address;
		int64_t port;
	} cases[] = {
		{ "example.com:8081", "example.com", 8081 },
		{ "example.com:1", "example.com", 1 },
		{ "example.com:65535", "example.com", 65535 },
		{ "example.com:65536", "example.com", 7070 },
		{ "example.com:99999999999999999999", "example.com", 7070 },
		{ "example.com:0", "example.com", 7070 },
		{ "example.com:", "example.com", 7070 },
		{ "example.com:80x", "example.com", 80 },
		{ "example.com:x80", "example.com", 7070 },
		{ "example.com", "example.com", 7070 },
		{ "[::1]:9443", "::1", 9443 },
		{ "[::1]", "::1", 7070 },
		{ "[::1]:", "::1", 7070 },
	};
	struct fixture *f = *state;
	char req[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct span *s;

		f->got.n = 0;
		open_addrs(f, 100 + i, true, 7070, "192.0.2.7", 40000);
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].host);
		send_str(f, 100 + i, 7, 1000, CONN_DIR_IN, req);
		send_str(f, 100 + i, 7, 2000, CONN_DIR_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
		assert_int_equal(f->got.n, 1);
		s = &f->got.spans[0];
		assert_string_equal(span_get_str(s, "server.address"), cases[i].address);
		if (span_get_int(s, "server.port", 0) != cases[i].port)
			fail_msg("Host: %s gave server.port %lld, not %lld", cases[i].host,
				 (long long)span_get_int(s, "server.port", 0),
				 (long long)cases[i].port);
	}
}

UNIT_TEST_FIXTURE(test_server_5xx_is_error_4xx_not, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 3, CONN_DIR_IN, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	assert_false(f->got.spans[0].error);
	assert_true(f->got.spans[1].error);
	assert_string_equal(span_get_str(&f->got.spans[1], "error.type"), "502");
}

UNIT_TEST_FIXTURE(test_pipelined_pairs_in_order, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 1, true);
	send_str(f, 1, 7, 10, CONN_DIR_IN,
		 "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
		 "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 20, CONN_DIR_OUT,
		 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 NF\r\nContent-Length: 1"
		 "\r\n\r\nb");
	send_str(f, 1, 7, 30, CONN_DIR_OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 3);
	assert_string_equal(span_get_str(&f->got.spans[0], "url.path"), "/a");
	assert_int_equal(span_get_int(&f->got.spans[0], "http.response.status_code", 0), 200);
	assert_string_equal(span_get_str(&f->got.spans[1], "url.path"), "/b");
	assert_int_equal(span_get_int(&f->got.spans[1], "http.response.status_code", 0), 404);
	assert_string_equal(span_get_str(&f->got.spans[2], "url.path"), "/c");
	assert_int_equal(span_get_int(&f->got.spans[2], "http.response.status_code", 0), 201);
	assert_int_equal(f->got.spans[2].end_ns, 30);
}

UNIT_TEST_FIXTURE(test_body_by_gap_completes_at_last_byte, setup, teardown)
{
	struct fixture *f = *state;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, head);
	/* sendfile: counted, not captured */
	feed(f, 1, 100, 7, 3, CONN_DIR_OUT, NULL, 0, 60000);
	assert_int_equal(f->got.n, 0);
	feed(f, 1, 100, 7, 4, CONN_DIR_OUT, NULL, 0, 40000);
	assert_int_equal(f->got.n, 1);
	assert_int_equal(f->got.spans[0].end_ns, 4);
}

UNIT_TEST_FIXTURE(test_head_response_has_no_body, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	send_str(f, 1, 7, 3, CONN_DIR_IN, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	assert_string_equal(span_get_str(&f->got.spans[1], "url.path"), "/y");
}

UNIT_TEST_FIXTURE(test_informational_then_final, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 1, true);
	send_str(
		f, 1, 7, 1, CONN_DIR_IN,
		"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(f->got.n, 0);
	send_str(f, 1, 7, 3, CONN_DIR_IN, "abc");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_int_equal(span_get_int(&f->got.spans[0], "http.response.status_code", 0), 201);
}

UNIT_TEST_FIXTURE(test_client_span, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *s;

	open_conn(f, 2, false);
	send_str(f, 2, 9, 10, CONN_DIR_OUT,
		 "GET /api/v1/items HTTP/1.1\r\nHost: 127.0.0.2:9000\r\n\r\n");
	send_str(f, 2, 9, 90, CONN_DIR_IN,
		 "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "3\r\nabc\r\n0\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	assert_true(s->error);
	assert_string_equal(span_get_str(s, "server.address"), "127.0.0.2");
	assert_int_equal(span_get_int(s, "server.port", 0), 9000);
	assert_string_equal(span_get_str(s, "url.full"), "http://127.0.0.2:9000/api/v1/items");
	assert_null(span_get(s, "http.route"));
	assert_int_equal(s->end_ns, 90);
}

UNIT_TEST_FIXTURE(test_client_4xx_is_error, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 2, false);
	send_str(f, 2, 9, 10, CONN_DIR_OUT, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 9, 11, CONN_DIR_IN, "HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_true(f->got.spans[0].error);
}

UNIT_TEST_FIXTURE(test_traceparent_adopted, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *s;
	char hex[33];

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN,
		 "GET / HTTP/1.1\r\nHost: h\r\n"
		 "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	span_hex(s->trace_id, 16, hex);
	assert_string_equal(hex, "4bf92f3577b34da6a3ce929d0e0e4736");
	assert_true(s->has_parent);
	span_hex(s->parent_id, 8, hex);
	assert_string_equal(hex, "00f067aa0ba902b7");
	span_hex(s->span_id, 8, hex);
	assert_string_not_equal(hex, "00f067aa0ba902b7");
}

UNIT_TEST_FIXTURE(test_invalid_traceparent_ignored, setup, teardown)
{
	struct fixture *f = *state;
	char hex[33];

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN,
		 "GET / HTTP/1.1\r\nHost: h\r\n"
		 "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_false(f->got.spans[0].has_parent);
	span_hex(f->got.spans[0].trace_id, 16, hex);
	assert_string_not_equal(hex, "00000000000000000000000000000000");
}

UNIT_TEST_FIXTURE(test_client_call_is_child_of_thread_request, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *server, *client;

	open_conn(f, 1, true);
	open_conn(f, 2, false);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /front HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 7, 2, CONN_DIR_OUT, "GET /back HTTP/1.1\r\nHost: b\r\n\r\n");
	send_str(f, 2, 7, 3, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	client = &f->got.spans[0];
	server = &f->got.spans[1];
	assert_int_equal(client->kind, SPAN_KIND_CLIENT);
	assert_true(client->has_parent);
	assert_memory_equal(client->trace_id, server->trace_id, 16);
	assert_memory_equal(client->parent_id, server->span_id, 8);
}

UNIT_TEST_FIXTURE(test_ambiguous_thread_gives_no_parent, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 1, true);
	open_conn(f, 3, true);
	open_conn(f, 2, false);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 3, 7, 1, CONN_DIR_IN, "GET /two HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 7, 2, CONN_DIR_OUT, "GET /back HTTP/1.1\r\nHost: b\r\n\r\n");
	send_str(f, 2, 7, 3, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_false(f->got.spans[0].has_parent);
}

UNIT_TEST_FIXTURE(test_close_completes_until_close_body, setup, teardown)
{
	struct fixture *f = *state;

	open_conn(f, 2, false);
	send_str(f, 2, 9, 1, CONN_DIR_OUT, "GET /old HTTP/1.0\r\n\r\n");
	send_str(f, 2, 9, 2, CONN_DIR_IN, "HTTP/1.0 200 OK\r\n\r\nbody until close");
	assert_int_equal(f->got.n, 0);
	conn_table_close(f->conns, 2, 50);
	assert_int_equal(f->got.n, 1);
	assert_int_equal(f->got.spans[0].end_ns, 50);
}

UNIT_TEST_FIXTURE(test_close_mid_request_is_aborted, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /gone HTTP/1.1\r\nHost: h\r\n\r\n");
	conn_table_close(f->conns, 1, 2);
	assert_int_equal(f->got.n, 0);
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.aborted, 1);
	assert_int_equal(st.conns, 0);
}

UNIT_TEST_FIXTURE(test_proc_exit_releases_conns, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;

	open_conn(f, 1, true);
	open_conn(f, 2, false);
	send_str(f, 1, 7, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	conn_table_proc_exit(f->conns, 100, 5);
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.conns, 0);
	assert_int_equal(st.aborted, 1);
}

UNIT_TEST_FIXTURE(test_conn_table_is_bounded, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_table_stats st;
	uint64_t id;

	for (id = 1; id <= 10; id++)
		open_conn(f, id, true);
	conn_table_get_stats(f->conns, &st);
	assert_int_equal(st.conns, 4);
	assert_int_equal(st.evicted, 6);
}

UNIT_TEST_FIXTURE(test_unpaired_response_and_garbage_counted, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc };

	open_conn(f, 1, true);
	send_str(f, 1, 7, 1, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	open_conn(f, 2, true);
	feed(f, 2, 100, 7, 1, CONN_DIR_IN, tls, sizeof(tls), sizeof(tls));
	feed(f, 2, 100, 7, 2, CONN_DIR_IN, tls, sizeof(tls), sizeof(tls));
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.parse_errors, 1);
	/* the response may have come before its request: it waits for it until the end */
	assert_int_equal(st.unpaired, 0);
	conn_table_close(f->conns, 1, 5);
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(f->got.n, 0);
	assert_int_equal(st.unpaired, 1);
	assert_int_equal(st.early, 0);
}

/* A client's two threads: the reader's event (the response) is reported before the writer's
 * (the request). The response waits for its request, in order, and both make one span. */
UNIT_TEST_FIXTURE(test_response_reported_before_request, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;

	open_conn(f, 1, false);
	send_str(f, 1, 8, 20, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
	send_str(f, 1, 8, 21, CONN_DIR_IN, "hello");
	assert_int_equal(f->got.n, 0);
	send_str(f, 1, 7, 22, CONN_DIR_OUT, "GET /early HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "GET /early");
	assert_int_equal(span_get_int(&f->got.spans[0], "http.response.status_code", 0), 200);
	assert_int_equal(f->got.spans[0].kind, SPAN_KIND_CLIENT);
	/* the next exchange, in the usual order */
	send_str(f, 1, 7, 30, CONN_DIR_OUT, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 8, 31, CONN_DIR_IN, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	assert_int_equal(span_get_int(&f->got.spans[1], "http.response.status_code", 0), 404);
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.early, 1);
	assert_int_equal(st.unpaired, 0);
}

/* What waits is bounded: beyond HTTP_EARLY_MAX it is read at once (and answers nothing). */
UNIT_TEST_FIXTURE(test_early_bytes_bounded, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;
	static char body[HTTP_EARLY_MAX];
	int i;

	memset(body, 'x', sizeof(body) - 1);
	open_conn(f, 1, false);
	send_str(f, 1, 8, 1, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
	for (i = 0; i < 3; i++)
		send_str(f, 1, 8, 2 + i, CONN_DIR_IN, body);
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.unpaired, 1);
	assert_int_equal(f->got.n, 0);
}

UNIT_TEST_FIXTURE(test_request_split_over_events, setup, teardown)
{
	struct fixture *f = *state;
	const char *req = "GET /split/path HTTP/1.1\r\nHost: h\r\nUser-Agent: x\r\n\r\n";
	size_t i;

	open_conn(f, 1, true);
	for (i = 0; req[i]; i++)
		feed(f, 1, 100, 7, 10 + i, CONN_DIR_IN, (const uint8_t *)req + i, 1, 1);
	send_str(f, 1, 7, 500, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	assert_string_equal(span_get_str(&f->got.spans[0], "url.path"), "/split/path");
	assert_int_equal(f->got.spans[0].start_ns, 10);
}

UNIT_TEST_FIXTURE(test_request_line_longer_than_capture, setup, teardown)
{
	struct fixture *f = *state;
	struct http_tracker_stats st;
	char req[2048];
	int n;

	open_conn(f, 1, true);
	n = snprintf(req, sizeof(req), "GET /users/15?q=%01500d HTTP/1.1\r\nHost: h\r\n\r\n", 7);
	/* the capture kept 1024 of the bytes the syscall moved */
	feed(f, 1, 100, 7, 1, CONN_DIR_IN, (const uint8_t *)req, 1024, (uint64_t)n);
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 3, CONN_DIR_IN, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.spans[0].name, "GET /users/{id}");
	assert_string_equal(span_get_str(&f->got.spans[0], "url.query"), "q=REDACTED");
	assert_int_equal(span_get_int(&f->got.spans[0], "http.response.status_code", 0), 200);
	assert_string_equal(span_get_str(&f->got.spans[1], "url.path"), "/next");
	http_tracker_get_stats(f->t, &st);
	assert_int_equal(st.truncated, 1);
	assert_int_equal(st.parse_errors, 0);
}

UNIT_TEST_FIXTURE(test_both_ends_watched_make_one_trace, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *client, *server;

	open_tuple(f, 1, false, 50000, 8080); /* the client end */
	open_tuple(f, 2, true, 8080, 50000);  /* the server end of the same connection */
	open_tuple(f, 3, true, 8080, 50001);  /* another client's connection: not a peer */
	send_str(f, 1, 7, 1, CONN_DIR_OUT,
		 "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 3, 8, 2, CONN_DIR_IN, "GET /other HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 2, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 3, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 2, 8, 5, CONN_DIR_IN, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 6, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 7, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 3, 8, 8, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	/* /other's local client is not watched: it waits for one, then leaves without a parent */
	assert_int_equal(f->got.n, 4);
	http_tracker_flush_held(f->t, 8 + HTTP_HOLD_NS);
	assert_int_equal(f->got.n, 5);
	/* order of completion: server /a, client /a, server /b, client /b, other */
	server = &f->got.spans[0];
	client = &f->got.spans[1];
	assert_int_equal(server->kind, SPAN_KIND_SERVER);
	assert_int_equal(client->kind, SPAN_KIND_CLIENT);
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	assert_true(server->has_parent);
	assert_memory_equal(server->parent_id, client->span_id, 8);
	server = &f->got.spans[2];
	client = &f->got.spans[3];
	assert_string_equal(span_get_str(server, "url.path"), "/b");
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	assert_memory_equal(server->parent_id, client->span_id, 8);
	assert_false(f->got.spans[4].has_parent);
}

UNIT_TEST_FIXTURE(test_server_end_seen_before_client_end, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *server, *client;

	open_tuple(f, 1, false, 50000, 8080);
	open_tuple(f, 2, true, 8080, 50000);
	/* the reader's syscall returned before the writer's */
	send_str(f, 2, 8, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 2, CONN_DIR_OUT, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 3, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	server = &f->got.spans[0];
	client = &f->got.spans[1];
	assert_int_equal(server->kind, SPAN_KIND_SERVER);
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	assert_true(server->has_parent);
	assert_memory_equal(server->parent_id, client->span_id, 8);
	assert_false(client->has_parent);
}

UNIT_TEST_FIXTURE(test_server_done_before_client_request_seen, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *server, *client;

	open_tuple(f, 1, false, 50000, 8080);
	open_tuple(f, 2, true, 8080, 50000);
	/* the whole server side is read before the client's write event */
	send_str(f, 2, 8, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 2, CONN_DIR_OUT, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 0); /* held for its client */
	send_str(f, 1, 7, 3, CONN_DIR_OUT, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(f->got.n, 1);
	send_str(f, 1, 7, 4, CONN_DIR_IN, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	server = &f->got.spans[0];
	client = &f->got.spans[1];
	assert_int_equal(server->kind, SPAN_KIND_SERVER);
	assert_true(server->has_parent);
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	assert_memory_equal(server->parent_id, client->span_id, 8);
	assert_int_equal(server->end_ns, 2);
}

UNIT_TEST_FIXTURE(test_held_span_leaves_after_the_wait, setup, teardown)
{
	struct fixture *f = *state;

	open_tuple(f, 1, false, 50000, 8080);
	open_tuple(f, 2, true, 8080, 50000);
	send_str(f, 2, 8, 1000, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 2000, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	http_tracker_flush_held(f->t, 2000 + HTTP_HOLD_NS - 1);
	assert_int_equal(f->got.n, 0);
	http_tracker_flush_held(f->t, 2000 + HTTP_HOLD_NS);
	assert_int_equal(f->got.n, 1);
	assert_false(f->got.spans[0].has_parent);
	/* a server end whose client is not local is never held */
	open_conn(f, 3, true);
	send_str(f, 3, 8, 1, CONN_DIR_IN, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 3, 8, 2, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
}

UNIT_TEST_FIXTURE(test_client_connect_seen_after_server_done, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *server, *client;

	/* the server end is all there is yet: even the client's connect() is still to come */
	open_tuple(f, 2, true, 8080, 50000);
	send_str(f, 2, 8, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 2, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	conn_table_close(f->conns, 2, 3);
	assert_int_equal(f->got.n, 0);
	open_tuple(f, 1, false, 50000, 8080);
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 1, 7, 5, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->got.n, 2);
	server = &f->got.spans[0];
	client = &f->got.spans[1];
	assert_true(server->has_parent);
	assert_memory_equal(server->trace_id, client->trace_id, 16);
	assert_memory_equal(server->parent_id, client->span_id, 8);
}

/* The client's first exchange was never seen (obsprobe came to the client later, or lost its
 * events): the server's first request is not the client's second, though they are the oldest
 * unpaired ones at each end; the second pair still stitches. */
UNIT_TEST_FIXTURE(test_stitch_needs_the_same_request, setup, teardown)
{
	struct fixture *f = *state;
	const struct span *a = NULL, *b = NULL, *client = NULL;
	size_t i;

	open_tuple(f, 1, false, 50000, 8080);
	open_tuple(f, 2, true, 8080, 50000);
	send_str(f, 2, 8, 1, CONN_DIR_IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 2, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 4, CONN_DIR_OUT, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 5, CONN_DIR_IN, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	send_str(f, 2, 8, 6, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 7, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	http_tracker_flush_held(f->t, UINT64_MAX);
	for (i = 0; i < f->got.n; i++) {
		const struct span *s = &f->got.spans[i];

		if (s->kind == SPAN_KIND_CLIENT)
			client = s;
		else if (!strcmp(s->name, "GET /a"))
			a = s;
		else
			b = s;
	}
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(client);
	assert_string_equal(client->name, "GET /b");
	assert_false(a->has_parent);
	assert_true(b->has_parent);
	assert_memory_equal(b->parent_id, client->span_id, 8);
}

/* A proxy passes on the traceparent its caller sent (nginx forwards the header): its call is the
 * child of the request it serves, with an id of its own, and the server it calls, watched too,
 * is the child of that call rather than of the caller two hops away. */
UNIT_TEST_FIXTURE(test_proxy_forwards_traceparent, setup, teardown)
{
	struct fixture *f = *state;
	static const char tp[] =
		"traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	static const uint8_t caller[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
	const struct span *in = NULL, *out = NULL, *up = NULL;
	char req[256];
	size_t i;

	snprintf(req, sizeof(req), "GET /p HTTP/1.1\r\nHost: h\r\n%s\r\n\r\n", tp);
	open_tuple(f, 1, true, 80, 40000);
	open_tuple(f, 2, false, 50000, 8080);
	open_tuple(f, 3, true, 8080, 50000);
	send_str(f, 1, 7, 1, CONN_DIR_IN, req);
	send_str(f, 2, 7, 2, CONN_DIR_OUT, req);
	send_str(f, 3, 9, 3, CONN_DIR_IN, req);
	send_str(f, 3, 9, 4, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 2, 7, 5, CONN_DIR_IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	send_str(f, 1, 7, 6, CONN_DIR_OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	http_tracker_flush_held(f->t, UINT64_MAX);
	assert_int_equal(f->got.n, 3);
	for (i = 0; i < f->got.n; i++) {
		const struct span *s = &f->got.spans[i];

		if (s->kind == SPAN_KIND_CLIENT)
			out = s;
		else if (span_get_int(s, "server.port", 0) == 80)
			in = s;
		else
			up = s;
	}
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(up);
	assert_true(in->remote_parent);
	assert_memory_equal(in->parent_id, caller, 8);
	assert_true(out->has_parent);
	assert_memory_equal(out->parent_id, in->span_id, 8);
	assert_memory_equal(out->trace_id, in->trace_id, 16);
	assert_memory_not_equal(out->span_id, caller, 8);
	assert_true(up->has_parent);
	assert_false(up->remote_parent);
	assert_memory_equal(up->parent_id, out->span_id, 8);
	assert_memory_equal(up->trace_id, in->trace_id, 16);
}

UNIT_MAIN(NULL, NULL)
