// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The console exporter: the text line and the JSON object of a span. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "exporters/console.h"
#include "pipeline/semconv.h"
#include "pipeline/span.h"
#include "util/strbuf.h"

/* 2026-11-21T13:24:00.123456Z */
#define UNIX_NS 1795267440123456000ll
#define MONO_NS 5000000000ull
#define OFFSET (UNIX_NS - (int64_t)MONO_NS)
#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"

static const uint8_t trace_id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
				      0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t span_id[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
static const uint8_t parent_id[8] = { 0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8 };

static const struct proc_info nginx = { .pid = 4242, .service_name = "nginx", .exe_name = "nginx" };

static void base_span(struct span *s, enum span_kind kind, uint64_t dur_ns)
{
	span_init(s, kind);
	memcpy(s->trace_id, trace_id, sizeof(trace_id));
	memcpy(s->span_id, span_id, sizeof(span_id));
	s->pid = 4242;
	s->tid = 4250;
	s->start_ns = MONO_NS;
	s->end_ns = MONO_NS + dur_ns;
}

static void server_span(struct span *s)
{
	base_span(s, SPAN_KIND_SERVER, 412000);
	snprintf(s->name, sizeof(s->name), "GET /users/{id}");
	span_set_str(s, SC_HTTP_REQUEST_METHOD, "GET");
	span_set_str(s, SC_HTTP_ROUTE, "/users/{id}");
	span_set_int(s, SC_HTTP_RESPONSE_STATUS_CODE, 200);
	span_set_str(s, SC_CLIENT_ADDRESS, "127.0.0.1");
	span_set_int(s, SC_CLIENT_PORT, 51234);
}

/* The last line format() made: freed by the next call or by teardown, so that a failed
 * assertion (which leaves the test by longjmp) leaks nothing under ASan. */
static char *last;

static int teardown(void **state)
{
	(void)state;
	free(last);
	last = NULL;
	return 0;
}

static const char *format(enum console_mode mode, const struct span *s, const struct proc_info *p,
			  const char *host, int64_t offset)
{
	struct strbuf sb;

	free(last);
	strbuf_init(&sb);
	console_format(&sb, mode, s, p, host, offset);
	last = strbuf_detach(&sb, NULL);
	assert_non_null(last);
	return last;
}

static void assert_has(const char *got, const char *want)
{
	if (!strstr(got, want))
		fail_msg("missing \"%s\" in:\n%s", want, got);
}

/* Whether [s, s+n) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF), as RFC 8259 requires of JSON text. */
static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/* No raw control character anywhere but the final newline: JSON forbids them in strings. */
static void assert_json_line(const char *got)
{
	size_t n = strlen(got), i;

	assert_true(n > 2);
	assert_int_equal(got[0], '{');
	assert_string_equal(got + n - 2, "}\n");
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)got[i] < 0x20)
			fail_msg("raw control byte 0x%02x at %zu in:\n%s", got[i], i, got);
	if (!valid_utf8((const unsigned char *)got, n))
		fail_msg("not valid UTF-8:\n%s", got);
}

UNIT_TEST_FIXTURE(test_text_server, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	server_span(&s);
	got = format(CONSOLE_TEXT, &s, &nginx, "host1", OFFSET);
	/* README.md's example line */
	assert_string_equal(got, "2026-11-21T13:24:00.123456Z " TRACE_HEX " SERVER nginx[4242] GET "
				 "/users/{id} 200 0.412ms client=127.0.0.1:51234\n");
}

UNIT_TEST_FIXTURE(test_text_client, NULL, teardown)
{
	static const struct proc_info curl = { .pid = 77,
					       .service_name = "checkout",
					       .exe_name = "curl" };
	struct span s;
	const char *got;

	(void)state;
	base_span(&s, SPAN_KIND_CLIENT, 5 * 1000000ull + 250);
	s.pid = 77;
	snprintf(s.name, sizeof(s.name), "POST");
	span_set_str(&s, SC_HTTP_REQUEST_METHOD, "POST");
	span_set_int(&s, SC_HTTP_RESPONSE_STATUS_CODE, 201);
	span_set_str(&s, SC_SERVER_ADDRESS, "api.example");
	span_set_int(&s, SC_SERVER_PORT, 8080);
	/* a client span names its server, not the client address, even when both are set */
	span_set_str(&s, SC_CLIENT_ADDRESS, "10.0.0.1");
	got = format(CONSOLE_TEXT, &s, &curl, NULL, OFFSET);
	/* the service name, not the executable's; duration to the microsecond */
	assert_string_equal(got, "2026-11-21T13:24:00.123456Z " TRACE_HEX
				 " CLIENT checkout[77] POST 201 5.000ms server=api.example:8080\n");
}

UNIT_TEST_FIXTURE(test_text_error, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	server_span(&s);
	s.end_ns = s.start_ns + 1234567;
	span_set_int(&s, SC_HTTP_RESPONSE_STATUS_CODE, 503);
	span_set_str(&s, SC_ERROR_TYPE, "503");
	s.error = true;
	got = format(CONSOLE_TEXT, &s, &nginx, "host1", OFFSET);
	assert_string_equal(got, "2026-11-21T13:24:00.123456Z " TRACE_HEX " SERVER nginx[4242] GET "
				 "/users/{id} 503 1.235ms client=127.0.0.1:51234 ERROR\n");
}

UNIT_TEST_FIXTURE(test_text_edges, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	/* no peer, no status, no process known; sub-microsecond time is cut, not rounded */
	base_span(&s, SPAN_KIND_SERVER, 999);
	snprintf(s.name, sizeof(s.name), "GET");
	got = format(CONSOLE_TEXT, &s, NULL, NULL, OFFSET + 999);
	assert_string_equal(got, "2026-11-21T13:24:00.123456Z " TRACE_HEX
				 " SERVER ?[4242] GET 0 0.001ms\n");
	/* the epoch, and a negative offset */
	base_span(&s, SPAN_KIND_CLIENT, 0);
	snprintf(s.name, sizeof(s.name), "GET");
	got = format(CONSOLE_TEXT, &s, &nginx, NULL, -(int64_t)MONO_NS);
	assert_string_equal(got, "1970-01-01T00:00:00.000000Z " TRACE_HEX
				 " CLIENT nginx[4242] GET 0 0.000ms\n");
}

UNIT_TEST_FIXTURE(test_off_appends_nothing, NULL, teardown)
{
	struct strbuf sb;
	struct span s;

	(void)state;
	server_span(&s);
	strbuf_init(&sb);
	strbuf_puts(&sb, "before");
	console_format(&sb, CONSOLE_OFF, &s, &nginx, "host1", OFFSET);
	assert_int_equal(sb.len, 6);
	assert_string_equal(sb.buf, "before");
	/* the other modes append, after what is there */
	console_format(&sb, CONSOLE_TEXT, &s, &nginx, "host1", OFFSET);
	assert_int_equal(strncmp(sb.buf, "before2026-11-21T13:24:00.123456Z ", 34), 0);
	strbuf_free(&sb);
}

UNIT_TEST_FIXTURE(test_json_server, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	server_span(&s);
	got = format(CONSOLE_JSON, &s, &nginx, "host1", OFFSET);
	assert_json_line(got);
	assert_string_equal(
		got,
		"{\"trace_id\":\"" TRACE_HEX "\",\"span_id\":\"00f067aa0ba902b7\","
		"\"kind\":\"SERVER\",\"name\":\"GET /users/{id}\","
		"\"start_time_unix_nano\":1795267440123456000,"
		"\"end_time_unix_nano\":1795267440123868000,\"duration_ms\":0.412,"
		"\"status\":\"UNSET\",\"thread_id\":4250,"
		"\"resource\":{\"service.name\":\"nginx\",\"process.pid\":4242,"
		"\"process.executable.name\":\"nginx\",\"host.name\":\"host1\"},"
		"\"attributes\":{\"http.request.method\":\"GET\",\"http.route\":\"/users/{id}\","
		"\"http.response.status_code\":200,\"client.address\":\"127.0.0.1\","
		"\"client.port\":51234}}\n");
	/* no parent: no parent_span_id key */
	assert_null(strstr(got, "parent_span_id"));
}

UNIT_TEST_FIXTURE(test_json_client_error, NULL, teardown)
{
	static const struct proc_info app = { .pid = 900,
					      .service_name = "checkout",
					      .exe_name = "app" };
	struct span s;
	const char *got;

	(void)state;
	base_span(&s, SPAN_KIND_CLIENT, 2000000);
	s.pid = 900;
	span_make_child(&s, trace_id, parent_id);
	s.error = true;
	snprintf(s.name, sizeof(s.name), "SELECT users");
	span_set_str(&s, SC_DB_SYSTEM_NAME, "postgresql");
	span_set_str(&s, SC_ERROR_TYPE, "42P01");
	span_set_int(&s, SC_SERVER_PORT, 5432);
	got = format(CONSOLE_JSON, &s, &app, NULL, OFFSET);
	assert_json_line(got);
	assert_has(got, "\"span_id\":\"00f067aa0ba902b7\",\"parent_span_id\":\"53995c3f42cd8ad8\","
			"\"kind\":\"CLIENT\",\"name\":\"SELECT users\",");
	assert_has(got, ",\"duration_ms\":2.000,\"status\":\"ERROR\",\"thread_id\":4250,");
	/* no host name: an empty string, not a missing key */
	assert_has(got, "\"resource\":{\"service.name\":\"checkout\",\"process.pid\":900,"
			"\"process.executable.name\":\"app\",\"host.name\":\"\"},");
	assert_has(got, "\"attributes\":{\"db.system.name\":\"postgresql\","
			"\"error.type\":\"42P01\",\"server.port\":5432}}\n");

	/* no process known: empty resource strings, the pid from the span */
	got = format(CONSOLE_JSON, &s, NULL, "h", OFFSET);
	assert_json_line(got);
	assert_has(got, "\"resource\":{\"service.name\":\"\",\"process.pid\":900,");
}

UNIT_TEST_FIXTURE(test_json_escapes, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	server_span(&s);
	snprintf(s.name, sizeof(s.name), "GET /a\"b\\c");
	span_set_str(&s, SC_USER_AGENT_ORIGINAL, "q\"b\\s/\x01\x1f\t\n\r\x7f end \xe2\x82\xac");
	got = format(CONSOLE_JSON, &s, &nginx, "ho\"st", OFFSET);
	assert_json_line(got);
	assert_has(got, "\"name\":\"GET /a\\\"b\\\\c\",");
	assert_has(got, "\"host.name\":\"ho\\\"st\"}");
	/* control characters as \u00XX; valid UTF-8 (the euro sign) passes as it is */
	assert_has(got, "\"user_agent.original\":\"q\\\"b\\\\s/\\u0001\\u001f\\u0009\\u000a"
			"\\u000d\\u007f end \xe2\x82\xac\"");
}

/* A captured value with invalid UTF-8 (a truncated capture, a Latin-1 User-Agent) still makes
 * valid JSON (RFC 8259 8.1): each stray byte becomes U+FFFD, as in metrics.c and otlp_encode.c. */
UNIT_TEST_FIXTURE(test_json_invalid_utf8, NULL, teardown)
{
	struct span s;
	const char *got;

	(void)state;
	server_span(&s);
	/* a stray continuation byte, a lead byte followed by ASCII, a sequence cut at the end */
	span_set_str(&s, SC_USER_AGENT_ORIGINAL,
		     "a\xff"
		     "b\xc3("
		     "c\xe2\x82");
	got = format(CONSOLE_JSON, &s, &nginx, "host1", OFFSET);
	assert_json_line(got);
	assert_has(got, "\"user_agent.original\":\"a\xef\xbf\xbd"
			"b\xef\xbf\xbd("
			"c\xef\xbf\xbd");
}

/* A process in a Kubernetes pod: every k8s.* attribute set is in the resource, none that is not */
UNIT_TEST_FIXTURE(test_json_k8s_resource, NULL, teardown)
{
	struct proc_info p = { .pid = 4242, .service_name = "report", .exe_name = "goserver" };
	const char *out;
	struct span s;

	(void)state;
	snprintf(p.k8s.pod_name, sizeof(p.k8s.pod_name), "report-28571040-wq7zr");
	snprintf(p.k8s.namespace_name, sizeof(p.k8s.namespace_name), "batch");
	snprintf(p.k8s.container_name, sizeof(p.k8s.container_name), "report");
	p.k8s.owner_kind = K8S_KIND_JOB;
	snprintf(p.k8s.owner_name, sizeof(p.k8s.owner_name), "report-28571040");
	p.k8s.workload_kind = K8S_KIND_CRONJOB;
	snprintf(p.k8s.workload_name, sizeof(p.k8s.workload_name), "report");
	server_span(&s);
	out = format(CONSOLE_JSON, &s, &p, "node-a", OFFSET);
	assert_non_null(strstr(out,
			       "\"resource\":{\"service.name\":\"report\",\"process.pid\":4242,"
			       "\"process.executable.name\":\"goserver\","
			       "\"k8s.namespace.name\":\"batch\","
			       "\"k8s.pod.name\":\"report-28571040-wq7zr\","
			       "\"k8s.container.name\":\"report\","
			       "\"k8s.job.name\":\"report-28571040\","
			       "\"k8s.cronjob.name\":\"report\",\"host.name\":\"node-a\"}"));
	assert_null(strstr(out, "k8s.pod.uid"));
	assert_null(strstr(out, "k8s.deployment.name"));
}

UNIT_MAIN(NULL, NULL)
