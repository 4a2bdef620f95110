// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporters/prometheus_text.h"
#include "pipeline/metrics.h"
#include "expo.h"

UNIT_TEST(test_register_rules)
{
	static const double unsorted[] = { 1, 0.5 };
	static const double dup[] = { 1, 1 };
	static const double inf[] = { 1, INFINITY };
	double nan_bound[] = { NAN };
	struct metric_family_def def = { .name = "x_total", .type = METRIC_COUNTER };
	struct metrics *m = metrics_new(10);

	(void)state;
	assert_non_null(m);
	assert_int_equal(reg(m, "a_total", METRIC_COUNTER, NULL, 0), 0);
	assert_int_equal(reg(m, "b", METRIC_GAUGE, NULL, 0), 1);
	assert_int_equal(reg(m, "c_seconds", METRIC_HISTOGRAM, semconv_bounds,
			     ARRAY_SIZE(semconv_bounds)),
			 2);
	assert_int_equal(reg(m, "d_seconds", METRIC_HISTOGRAM, NULL, 0), 3);
	assert_int_equal(reg(m, "_x:y_Z9", METRIC_GAUGE, NULL, 0), 4);

	assert_int_equal(reg(m, NULL, METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "9lives", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "http-requests", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "caf\xc3\xa9", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "a b", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "requests", METRIC_COUNTER, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "requests_total", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "latency_sum", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "latency_count", METRIC_HISTOGRAM, semconv_bounds, 2), -EINVAL);
	/* semconv gauges end in _count (process_thread_count), unless a histogram's _count
	 * series already has the name, or will */
	assert_true(reg(m, "threads_count", METRIC_GAUGE, NULL, 0) >= 0);
	assert_int_equal(reg(m, "threads", METRIC_HISTOGRAM, semconv_bounds, 2), -EINVAL);
	assert_true(reg(m, "wait_seconds", METRIC_HISTOGRAM, semconv_bounds, 2) >= 0);
	assert_int_equal(reg(m, "wait_seconds_count", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "latency_bucket", METRIC_HISTOGRAM, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "x", 0, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "x", 42, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "x", METRIC_GAUGE, semconv_bounds, 2), -EINVAL);
	assert_int_equal(reg(m, "x_seconds", METRIC_HISTOGRAM, NULL, 3), -EINVAL);
	assert_int_equal(reg(m, "x_seconds", METRIC_HISTOGRAM, unsorted, 2), -EINVAL);
	assert_int_equal(reg(m, "x_seconds", METRIC_HISTOGRAM, dup, 2), -EINVAL);
	assert_int_equal(reg(m, "x_seconds", METRIC_HISTOGRAM, inf, 2), -EINVAL);
	assert_int_equal(reg(m, "x_seconds", METRIC_HISTOGRAM, nan_bound, 1), -EINVAL);
	/* Reserved for the registry's own overflow accounting. */
	assert_int_equal(reg(m, "obsprobe_metric_series_overflow_total", METRIC_COUNTER, NULL, 0),
			 -EINVAL);
	/* promtool reports a family without help. */
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	def.help = "";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	assert_int_equal(metrics_register(m, NULL), -EINVAL);
	assert_int_equal(metrics_register(NULL, &def), -EINVAL);

	/* Nothing recorded yet: nothing rendered, not even HELP lines. */
	assert_render(m, "");
	metrics_free(m);
	metrics_free(NULL);
}

UNIT_TEST(test_register_otel)
{
	struct metric_family_def def = {
		.name = "http_server_request_duration_seconds",
		.help = "Help.",
		.type = METRIC_HISTOGRAM,
		.bounds = semconv_bounds,
		.nbounds = 3,
		.otel_name = "http.server.request.duration",
		.unit = "s",
	};
	static const char *const bad_names[] = {
		"", "1x", ".x", "_x", "x y", "x:y", "caf\xc3\xa9",
	};
	static const char *const good_names[] = { "x", "a.b_c-d/e", "Z9" };
	char long_name[257], long_unit[65];
	struct metrics *m = metrics_new(10);
	size_t i;

	(void)state;
	assert_int_equal(metrics_register(m, &def), 0);
	assert_int_equal(metrics_register(m, &def), 0);
	/* The same family with another OTLP name or unit is another shape. */
	def.unit = "ms";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	def.unit = NULL;
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	def.unit = "s";
	def.otel_name = "http.server.duration";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	def.otel_name = NULL;
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	/* Another family under an OTLP name already taken. */
	def.name = "other_seconds";
	def.otel_name = "http.server.request.duration";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	/* Neither is needed. */
	def.otel_name = NULL;
	def.unit = NULL;
	assert_int_equal(metrics_register(m, &def), 1);

	def.unit = "{request}";
	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		def.name = "bad_seconds";
		def.otel_name = bad_names[i];
		assert_int_equal(metrics_register(m, &def), -EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(good_names); i++) {
		char name[32];

		snprintf(name, sizeof(name), "good%zu_seconds", i);
		def.name = name;
		def.otel_name = good_names[i];
		assert_int_equal(metrics_register(m, &def), (int)(2 + i));
	}
	/* At most 255 characters of name, 63 of unit, printable ASCII. */
	memset(long_name, 'a', sizeof(long_name));
	long_name[255] = '\0';
	def.name = "long_seconds";
	def.otel_name = long_name;
	assert_int_equal(metrics_register(m, &def), 5);
	long_name[255] = 'a';
	long_name[256] = '\0';
	def.name = "longer_seconds";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	def.otel_name = "unit.test";
	memset(long_unit, 'u', sizeof(long_unit));
	long_unit[64] = '\0';
	def.unit = long_unit;
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	long_unit[63] = '\0';
	assert_int_equal(metrics_register(m, &def), 6);
	def.name = "tab_seconds";
	def.otel_name = "tab";
	def.unit = "a\tb";
	assert_int_equal(metrics_register(m, &def), -EINVAL);
	metrics_free(m);
}

UNIT_TEST(test_register_twice)
{
	static const double other[] = { 1, 2 };
	struct metrics *m = metrics_new(10);

	(void)state;
	assert_int_equal(reg(m, "a_total", METRIC_COUNTER, NULL, 0), 0);
	assert_int_equal(reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 3), 1);
	assert_int_equal(reg(m, "a_total", METRIC_COUNTER, NULL, 0), 0);
	assert_int_equal(reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 3), 1);
	/* Same name, another shape. */
	assert_int_equal(reg(m, "h_seconds", METRIC_HISTOGRAM, other, 2), -EINVAL);
	assert_int_equal(reg(m, "h_seconds", METRIC_GAUGE, NULL, 0), -EINVAL);
	assert_int_equal(reg(m, "g", METRIC_GAUGE, NULL, 0), 2);
	metrics_free(m);
}

UNIT_TEST(test_counter_gauge)
{
	struct metric_label http = { "kind", "http" }, pg = { "kind", "pg" };
	struct metric_label reason = { "reason", "ringbuf_full" };
	struct metrics *m = metrics_new(10);
	int ev, tg, lost;

	(void)state;
	ev = reg(m, "obsprobe_events_total", METRIC_COUNTER, NULL, 0);
	tg = reg(m, "obsprobe_targets", METRIC_GAUGE, NULL, 0);
	lost = reg(m, "obsprobe_events_lost_total", METRIC_COUNTER, NULL, 0);
	assert_true(ev >= 0 && tg >= 0 && lost >= 0);

	assert_int_equal(metrics_counter_add(m, ev, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter_add(m, ev, NULL, 0, 2.5), 0);
	assert_int_equal(metrics_counter_add(m, ev, NULL, 0, 0), 0);
	assert_int_equal(metrics_gauge_set(m, tg, &http, 1, 7), 0);
	assert_int_equal(metrics_gauge_set(m, tg, &http, 1, 5), 0);
	assert_int_equal(metrics_gauge_set(m, tg, &pg, 1, -2), 0);
	assert_int_equal(metrics_counter_set(m, lost, &reason, 1, 10), 0);
	assert_int_equal(metrics_counter_set(m, lost, &reason, 1, 12), 0);

	assert_render(m, "# HELP obsprobe_events_total Help.\n"
			 "# TYPE obsprobe_events_total counter\n"
			 "obsprobe_events_total 3.5\n"
			 "# HELP obsprobe_targets Help.\n"
			 "# TYPE obsprobe_targets gauge\n"
			 "obsprobe_targets{kind=\"http\"} 5\n"
			 "obsprobe_targets{kind=\"pg\"} -2\n"
			 "# HELP obsprobe_events_lost_total Help.\n"
			 "# TYPE obsprobe_events_lost_total counter\n"
			 "obsprobe_events_lost_total{reason=\"ringbuf_full\"} 12\n");
	metrics_free(m);
}

UNIT_TEST(test_bad_records)
{
	struct metrics *m = metrics_new(10);
	int c, g, h;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, ARRAY_SIZE(semconv_bounds));

	/* Wrong type for the family, unknown family. */
	assert_int_equal(metrics_gauge_set(m, c, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, g, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_set(m, h, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_histogram_observe(m, c, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, 3, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, -1, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(NULL, c, NULL, 0, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, c, NULL, 1, 1), -EINVAL);

	/* Counters and histograms take finite values; counters do not go down by adding. */
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, -1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, NAN), -EINVAL);
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, INFINITY), -EINVAL);
	assert_int_equal(metrics_counter_set(m, c, NULL, 0, -1), -EINVAL);
	assert_int_equal(metrics_histogram_observe(m, h, NULL, 0, NAN), -EINVAL);
	assert_int_equal(metrics_histogram_observe(m, h, NULL, 0, INFINITY), -EINVAL);

	/* None of the above created a series. */
	assert_render(m, "");
	metrics_free(m);
}

UNIT_TEST(test_histogram)
{
	static const double bounds[] = { 0.25, 0.5, 1, 2.5 };
	static const double obs[] = { -1, 0.125, 0.25, 0.5, 0.75, 1, 3 };
	struct metric_label get = { "method", "GET" };
	struct metrics *m = metrics_new(10);
	size_t i;
	int h, bare;

	(void)state;
	h = reg(m, "rpc_duration_seconds", METRIC_HISTOGRAM, bounds, ARRAY_SIZE(bounds));
	bare = reg(m, "bare_seconds", METRIC_HISTOGRAM, NULL, 0);
	assert_true(h >= 0 && bare >= 0);
	for (i = 0; i < ARRAY_SIZE(obs); i++)
		assert_int_equal(metrics_histogram_observe(m, h, &get, 1, obs[i]), 0);
	assert_int_equal(metrics_histogram_observe(m, bare, NULL, 0, 42), 0);

	/* Values on a bound count in that bucket (le is inclusive); counts are cumulative. */
	assert_render(m, "# HELP rpc_duration_seconds Help.\n"
			 "# TYPE rpc_duration_seconds histogram\n"
			 "rpc_duration_seconds_bucket{method=\"GET\",le=\"0.25\"} 3\n"
			 "rpc_duration_seconds_bucket{method=\"GET\",le=\"0.5\"} 4\n"
			 "rpc_duration_seconds_bucket{method=\"GET\",le=\"1\"} 6\n"
			 "rpc_duration_seconds_bucket{method=\"GET\",le=\"2.5\"} 6\n"
			 "rpc_duration_seconds_bucket{method=\"GET\",le=\"+Inf\"} 7\n"
			 "rpc_duration_seconds_sum{method=\"GET\"} 4.625\n"
			 "rpc_duration_seconds_count{method=\"GET\"} 7\n"
			 "# HELP bare_seconds Help.\n"
			 "# TYPE bare_seconds histogram\n"
			 "bare_seconds_bucket{le=\"+Inf\"} 1\n"
			 "bare_seconds_sum 42\n"
			 "bare_seconds_count 1\n");
	metrics_free(m);
}

UNIT_TEST(test_histogram_semconv_bounds)
{
	struct metrics *m = metrics_new(10);
	size_t i;
	int h;

	(void)state;
	h = reg(m, "d_seconds", METRIC_HISTOGRAM, semconv_bounds, ARRAY_SIZE(semconv_bounds));
	/* Each bound itself, as the same double the caller wrote. */
	for (i = 0; i < ARRAY_SIZE(semconv_bounds); i++)
		assert_int_equal(metrics_histogram_observe(m, h, NULL, 0, semconv_bounds[i]), 0);
	/* The next double up belongs to the next bucket. */
	assert_int_equal(metrics_histogram_observe(m, h, NULL, 0, nextafter(0.005, 1)), 0);

	/* Bounds print as written, not as 0.0050000000000000001. */
	assert_render_has(m, "d_seconds_bucket{le=\"0.005\"} 1\n"
			     "d_seconds_bucket{le=\"0.01\"} 3\n"
			     "d_seconds_bucket{le=\"0.025\"} 4\n"
			     "d_seconds_bucket{le=\"0.05\"} 5\n"
			     "d_seconds_bucket{le=\"0.075\"} 6\n"
			     "d_seconds_bucket{le=\"0.1\"} 7\n"
			     "d_seconds_bucket{le=\"0.25\"} 8\n"
			     "d_seconds_bucket{le=\"0.5\"} 9\n"
			     "d_seconds_bucket{le=\"0.75\"} 10\n"
			     "d_seconds_bucket{le=\"1\"} 11\n"
			     "d_seconds_bucket{le=\"2.5\"} 12\n"
			     "d_seconds_bucket{le=\"5\"} 13\n"
			     "d_seconds_bucket{le=\"7.5\"} 14\n"
			     "d_seconds_bucket{le=\"10\"} 15\n"
			     "d_seconds_bucket{le=\"+Inf\"} 15\n");
	assert_render_has(m, "d_seconds_count 15\n");
	metrics_free(m);
}

UNIT_TEST(test_labels)
{
	struct metric_label a[] = {
		{ "z", "1" },
		{ "a", "x\\y\"z\nw" },
		{ "m", "" },
		{ "n", NULL },
	};
	struct metric_label b[] = { { "a", "x\\y\"z\nw" }, { "z", "1" } };
	struct metric_label empty[] = { { "a", "" }, { "z", NULL } };
	struct metric_label utf8[] = { { "route", "/caf\xc3\xa9/\xff\xc3" } };
	struct metric_label bad_utf8[] = { { "route", "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80" } };
	struct metrics *m = metrics_new(10);
	int c;

	(void)state;
	c = reg(m, "requests_total", METRIC_COUNTER, NULL, 0);
	assert_int_equal(metrics_counter_add(m, c, a, ARRAY_SIZE(a), 1), 0);
	assert_int_equal(metrics_counter_add(m, c, b, ARRAY_SIZE(b), 2), 0);
	assert_int_equal(metrics_counter_add(m, c, empty, ARRAY_SIZE(empty), 5), 0);
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter_add(m, c, utf8, 1, 1), 0);
	assert_int_equal(metrics_counter_add(m, c, bad_utf8, 1, 1), 0);

	/* Invalid UTF-8 becomes U+FFFD, one per bad byte; valid sequences stay. */
	assert_render(m, "# HELP requests_total Help.\n"
			 "# TYPE requests_total counter\n"
			 "requests_total 6\n"
			 "requests_total{a=\"x\\\\y\\\"z\\nw\",z=\"1\"} 3\n"
			 "requests_total{route=\"/caf\xc3\xa9/\xef\xbf\xbd\xef\xbf\xbd\"} 1\n"
			 "requests_total{route=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	metrics_free(m);
}

UNIT_TEST(test_label_rules)
{
	static const char *const bad_keys[] = {
		"",
		"1a",
		"a-b",
		"a:b",
		"a b",
		"__name__",
		"le",
		"quantile",
		"otel_metric_overflow",
		".a",
		"a.-",
		"_.a" /* __a */,
		"otel.metric.overflow",
	};
	struct metric_label dup[] = { { "a", "1" }, { "b", "2" }, { "a", "3" } };
	struct metric_label dup_dot[] = { { "a.b", "1" }, { "a_b", "2" } };
	struct metric_label dup_dropped[] = { { "a", "1" }, { "a", "" } };
	struct metric_label l[2] = { { "ok", "1" } };
	struct metrics *m = metrics_new(10);
	size_t i;
	int c, h;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 2);
	for (i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		l[1].key = bad_keys[i];
		l[1].value = "v";
		assert_int_equal(metrics_counter_add(m, c, l, 2, 1), -EINVAL);
		assert_int_equal(metrics_histogram_observe(m, h, l, 2, 1), -EINVAL);
		/* Rejected even when the value is empty and the label would be dropped. */
		l[1].value = "";
		assert_int_equal(metrics_counter_add(m, c, l, 2, 1), -EINVAL);
	}
	l[1].key = NULL;
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, c, dup, ARRAY_SIZE(dup), 1), -EINVAL);
	/* Two keys Prometheus would read as one. */
	assert_int_equal(metrics_counter_add(m, c, dup_dot, ARRAY_SIZE(dup_dot), 1), -EINVAL);
	assert_render(m, "");

	/* A duplicate whose value is empty is dropped before it can clash. */
	assert_int_equal(metrics_counter_add(m, c, dup_dropped, 2, 1), 0);
	assert_render(m, "# HELP c_total Help.\n"
			 "# TYPE c_total counter\n"
			 "c_total{a=\"1\"} 1\n");
	metrics_free(m);
}

UNIT_TEST(test_dotted_keys)
{
	/* What callers record with OpenTelemetry keys renders as it did with Prometheus ones. */
	struct metric_label otel[] = {
		{ "service.name", "shop" },
		{ "http.route", "/users/{id}" },
		{ "http.response.status_code", "200", true },
		{ "http.request.method", "GET" },
		{ "httpx", "1" }, /* sorts after http_*, as in Prometheus, not between them */
	};
	struct metric_label prom[] = {
		{ "service_name", "shop" },
		{ "http_route", "/users/{id}" },
		{ "http_response_status_code", "200" },
		{ "http_request_method", "GET" },
		{ "httpx", "1" },
	};
	struct metrics *a = metrics_new(10), *b = metrics_new(10);
	char *x, *y;
	int ha, hb;

	(void)state;
	ha = reg(a, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 2);
	hb = reg(b, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 2);
	assert_int_equal(metrics_histogram_observe(a, ha, otel, ARRAY_SIZE(otel), 0.001), 0);
	assert_int_equal(metrics_histogram_observe(b, hb, prom, ARRAY_SIZE(prom), 0.001), 0);
	/* Either spelling finds the same series. */
	assert_int_equal(metrics_histogram_observe(a, ha, prom, ARRAY_SIZE(prom), 0.001), 0);
	assert_int_equal(metrics_histogram_observe(b, hb, prom, ARRAY_SIZE(prom), 0.001), 0);
	x = render(a);
	y = render(b);
	assert_string_equal(x, y);
	assert_non_null(strstr(x, "h_seconds_count{http_request_method=\"GET\","
				  "http_response_status_code=\"200\",http_route=\"/users/{id}\","
				  "httpx=\"1\",service_name=\"shop\"} 2\n"));
	free(x);
	free(y);
	metrics_free(a);
	metrics_free(b);
}

/* The record path's memo (labels seen recently skip rendering) gives what the full path
 * gives: the same series for the same labels in another order, another series when a value or
 * a key changes in a buffer the caller reuses, the overflow series counted at every
 * measurement, a fresh series after a removal, and more label sets than it holds. */
UNIT_TEST(test_record_memo)
{
	char key[8] = "path", val[8] = "/a", long_val[400];
	struct metric_label l[2] = { { key, val, false }, { "method", "GET", false } };
	struct metric_label r[2] = { { "method", "GET", false }, { "path", "/a", false } };
	struct metrics *m = metrics_new(3);
	char *got, line[64];
	int c, i;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	assert_int_equal(metrics_counter_add(m, c, r, 2, 1), 0); /* other order, same series */
	strcpy(val, "/b");					 /* the caller's buffer reused */
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	strcpy(key, "route"); /* a key too */
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	strcpy(key, "bad key"); /* an invalid key is refused every time, memo or not */
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), -EINVAL);
	strcpy(key, "path");
	/* the cap (3) is reached: /c goes to the overflow series, each time counted */
	strcpy(val, "/c");
	for (i = 0; i < 4; i++)
		assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	got = render(m);
	assert_line(got, "c_total{method=\"GET\",path=\"/a\"} 3");
	assert_line(got, "c_total{method=\"GET\",path=\"/b\"} 1");
	assert_line(got, "c_total{method=\"GET\",route=\"/b\"} 1");
	assert_line(got, "c_total{otel_metric_overflow=\"true\"} 4");
	assert_line(got, "obsprobe_metric_series_overflow_total{metric=\"c_total\"} 4");
	free(got);
	/* a removal frees room: /c gets its own series now, and the removed one is not reused */
	assert_int_equal(metrics_remove(m, "route", "/b"), 1);
	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	strcpy(key, "route");
	strcpy(val, "/b");
	assert_int_equal(metrics_counter_add(m, c, l, 2, 5), 0);
	got = render(m);
	assert_line(got, "c_total{method=\"GET\",path=\"/c\"} 1");
	/* route=/b, removed, comes back into a full family: the overflow series, 4 + 5 */
	assert_no(got, "route=");
	assert_line(got, "c_total{otel_metric_overflow=\"true\"} 9");
	assert_line(got, "obsprobe_metric_series_overflow_total{metric=\"c_total\"} 5");
	free(got);
	metrics_free(m);

	/* more label sets than the memo's ways, round after round; and one too long for it */
	m = metrics_new(100);
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	strcpy(key, "path");
	memset(long_val, 'x', sizeof(long_val) - 1);
	long_val[sizeof(long_val) - 1] = '\0';
	for (i = 0; i < 20 * 3; i++) {
		snprintf(val, sizeof(val), "/%d", i % 20);
		assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
		l[1].value = long_val;
		assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
		l[1].value = "GET";
	}
	got = render(m);
	for (i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "c_total{method=\"GET\",path=\"/%d\"} 3", i);
		assert_line(got, line);
	}
	assert_int_equal(strstr(got, "c_total{method=\"xxx") != NULL, 1);
	free(got);
	metrics_free(m);

	/* label sets the memo must tell apart, each after the other: the bytes split another way
	 * between key and value, one label fewer, one more; and those it must not: NULL and "" */
	m = metrics_new(100);
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	{
		const struct metric_label sets[][2] = {
			{ { "ab", "c", false }, { "x", "1", false } },
			{ { "a", "bc", false }, { "x", "1", false } },
			{ { "ab", "c", false }, { "x", "1", false } },
			{ { "a", "bc", false }, { "x", "1", false } },
		};
		const struct metric_label one[1] = { { "ab", "c", false } };
		const struct metric_label empty[2] = { { "ab", "c", false }, { "x", NULL, false } };
		const struct metric_label blank[2] = { { "ab", "c", false }, { "x", "", false } };
		const struct metric_label longer[2] = { { "abx", "c", false },
							{ "x", "1", false } };

		for (i = 0; i < 4; i++)
			assert_int_equal(metrics_counter_add(m, c, sets[i], 2, 1), 0);
		assert_int_equal(metrics_counter_add(m, c, one, 1, 10), 0);
		assert_int_equal(metrics_counter_add(m, c, sets[0], 2, 100), 0);
		assert_int_equal(metrics_counter_add(m, c, one, 1, 10), 0);
		assert_int_equal(metrics_counter_add(m, c, empty, 2, 1000), 0);
		assert_int_equal(metrics_counter_add(m, c, blank, 2, 1000), 0);
		assert_int_equal(metrics_counter_add(m, c, NULL, 0, 10000), 0);
		assert_int_equal(metrics_counter_add(m, c, sets[1], 2, 100000), 0);
		/* a key that begins with a memoized one */
		assert_int_equal(metrics_counter_add(m, c, sets[0], 2, 0), 0);
		assert_int_equal(metrics_counter_add(m, c, longer, 2, 1000000), 0);
	}
	got = render(m);
	assert_line(got, "c_total{ab=\"c\",x=\"1\"} 102");
	assert_line(got, "c_total{a=\"bc\",x=\"1\"} 100002");
	/* one label, and x empty (dropped): the same series */
	assert_line(got, "c_total{ab=\"c\"} 2020");
	assert_line(got, "c_total 10000");
	assert_line(got, "c_total{abx=\"c\",x=\"1\"} 1000000");
	free(got);
	metrics_free(m);
}

UNIT_TEST(test_series_cap)
{
	static const char *const paths[] = { "/a", "/b", "/c", "/d", "/a", "/e" };
	struct metric_label l = { "path", NULL };
	struct metrics *m = metrics_new(2);
	size_t i;
	int c, h, g;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 1);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		l.value = paths[i];
		assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
		assert_int_equal(metrics_histogram_observe(m, h, &l, 1, 0.001), 0);
	}
	/* The overflow series merges counters; a set never moves it backwards. */
	l.value = "/x";
	assert_int_equal(metrics_counter_set(m, c, &l, 1, 10), 0);
	assert_int_equal(metrics_counter_set(m, c, &l, 1, 4), 0);
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 1), 0);

	assert_render(m, "# HELP c_total Help.\n"
			 "# TYPE c_total counter\n"
			 "c_total{otel_metric_overflow=\"true\"} 10\n"
			 "c_total{path=\"/a\"} 2\n"
			 "c_total{path=\"/b\"} 1\n"
			 "# HELP h_seconds Help.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.005\"} 3\n"
			 "h_seconds_bucket{otel_metric_overflow=\"true\",le=\"+Inf\"} 3\n"
			 "h_seconds_sum{otel_metric_overflow=\"true\"} 0.003\n"
			 "h_seconds_count{otel_metric_overflow=\"true\"} 3\n"
			 "h_seconds_bucket{path=\"/a\",le=\"0.005\"} 2\n"
			 "h_seconds_bucket{path=\"/a\",le=\"+Inf\"} 2\n"
			 "h_seconds_sum{path=\"/a\"} 0.002\n"
			 "h_seconds_count{path=\"/a\"} 2\n"
			 "h_seconds_bucket{path=\"/b\",le=\"0.005\"} 1\n"
			 "h_seconds_bucket{path=\"/b\",le=\"+Inf\"} 1\n"
			 "h_seconds_sum{path=\"/b\"} 0.001\n"
			 "h_seconds_count{path=\"/b\"} 1\n"
			 "# HELP g Help.\n"
			 "# TYPE g gauge\n"
			 "g{path=\"/x\"} 1\n"
			 "# HELP obsprobe_metric_series_overflow_total Measurements recorded into "
			 "the overflow series of a metric that reached its series limit.\n"
			 "# TYPE obsprobe_metric_series_overflow_total counter\n"
			 "obsprobe_metric_series_overflow_total{metric=\"c_total\"} 5\n"
			 "obsprobe_metric_series_overflow_total{metric=\"h_seconds\"} 3\n");
	metrics_free(m);
}

UNIT_TEST(test_many_series)
{
	struct metric_label l = { "id", NULL };
	struct metrics *m = metrics_new(5000);
	char id[16], line[64], *out;
	int c, i, round;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	/* Enough series to rehash several times; each must keep its own count. */
	for (round = 1; round <= 2; round++) {
		for (i = 0; i < 4000; i++) {
			snprintf(id, sizeof(id), "%d", i);
			l.value = id;
			assert_int_equal(metrics_counter_add(m, c, &l, 1, i), 0);
		}
	}
	out = render(m);
	for (i = 0; i < 4000; i += 397) {
		snprintf(line, sizeof(line), "\nc_total{id=\"%d\"} %d\n", i, 2 * i);
		assert_non_null(strstr(out, line));
	}
	assert_null(strstr(out, "overflow"));
	free(out);
	metrics_free(m);
}

#define THREAD_ITERS 200000

struct worker {
	struct metrics *m;
	int c, h;
	const char *name;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct metric_label shared = { "thread", "shared" };
	struct metric_label own = { "thread", w->name };
	int i;

	for (i = 0; i < THREAD_ITERS; i++) {
		if (metrics_counter_add(w->m, w->c, &shared, 1, 1) ||
		    metrics_counter_add(w->m, w->c, &own, 1, 1) ||
		    metrics_histogram_observe(w->m, w->h, &shared, 1, i % 2 ? 0.005 : 20))
			return (void *)1;
	}
	return NULL;
}

UNIT_TEST(test_concurrent)
{
	struct metrics *m = metrics_new(10);
	struct worker w[2];
	pthread_t t[2];
	struct strbuf sb;
	void *ret;
	int i, c, h;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 3);
	for (i = 0; i < 2; i++) {
		w[i] = (struct worker){ .m = m, .c = c, .h = h, .name = i ? "t1" : "t0" };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	/* Render while the writers run, as the HTTP thread does. */
	strbuf_init(&sb);
	for (i = 0; i < 20; i++) {
		strbuf_reset(&sb);
		assert_int_equal(prometheus_text_write(m, &sb), 0);
	}
	strbuf_free(&sb);
	for (i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	assert_render_has(m, "c_total{thread=\"shared\"} 400000\n"
			     "c_total{thread=\"t0\"} 200000\n"
			     "c_total{thread=\"t1\"} 200000\n");
	assert_render_has(m, "h_seconds_bucket{thread=\"shared\",le=\"0.005\"} 200000\n"
			     "h_seconds_bucket{thread=\"shared\",le=\"0.01\"} 200000\n"
			     "h_seconds_bucket{thread=\"shared\",le=\"0.025\"} 200000\n"
			     "h_seconds_bucket{thread=\"shared\",le=\"+Inf\"} 400000\n");
	assert_render_has(m, "h_seconds_count{thread=\"shared\"} 400000\n");
	metrics_free(m);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#define MAX_VISITED 16

struct visited {
	const struct metric_family_def *def;
	size_t nlabels;
	char labels[128]; /* key=value[#],... with # for is_int */
	struct metric_point pt;
	uint64_t buckets[8];
};

struct visit_log {
	struct visited v[MAX_VISITED];
	size_t n;
	struct metrics *m; /* recorded into from the callback */
	int fam;
};

static void visit_cb(void *ctx, const struct metric_family_def *def,
		     const struct metric_label *labels, size_t nlabels,
		     const struct metric_point *pt)
{
	struct visit_log *log = ctx;
	struct visited *v;
	size_t i, len = 0;

	assert_true(log->n < MAX_VISITED);
	v = &log->v[log->n++];
	v->def = def;
	v->nlabels = nlabels;
	v->pt = *pt;
	v->labels[0] = '\0';
	for (i = 0; i < nlabels; i++)
		len += (size_t)snprintf(v->labels + len, sizeof(v->labels) - len, "%s%s=%s%s",
					i ? "," : "", labels[i].key, labels[i].value,
					labels[i].is_int ? "#" : "");
	if (def->type == METRIC_HISTOGRAM) {
		assert_true(def->nbounds < ARRAY_SIZE(v->buckets));
		memcpy(v->buckets, pt->bucket_counts, (def->nbounds + 1) * sizeof(uint64_t));
		v->pt.bucket_counts = v->buckets;
	}
	/* The registry's lock is not held. */
	if (log->m)
		assert_int_equal(metrics_counter_add(log->m, log->fam, NULL, 0, 1), 0);
}

UNIT_TEST(test_visit)
{
	static const double b[] = { 1, 2, 5 };
	const struct metric_family_def hdef = {
		.name = "h_seconds",
		.help = "Help.",
		.type = METRIC_HISTOGRAM,
		.bounds = b,
		.nbounds = ARRAY_SIZE(b),
		.otel_name = "h",
		.unit = "s",
	};
	struct metric_label l1[] = {
		{ "z.last", "\xff" }, /* kept as valid UTF-8 */
		{ "http.response.status_code", "200", true },
		{ "empty", "" }, /* dropped */
		{ "a", "x" },
	};
	struct metric_label l2[] = { { "a", "y" } };
	struct visit_log log = { .n = 0 };
	struct metrics *m = metrics_new(2);
	uint64_t t0, t1, t2;
	int c, h, g;

	(void)state;
	assert_int_equal(metrics_visit(NULL, visit_cb, &log), -EINVAL);
	assert_int_equal(metrics_visit(m, NULL, &log), -EINVAL);
	assert_int_equal(metrics_visit(m, visit_cb, &log), 0);
	assert_int_equal(log.n, 0);

	h = metrics_register(m, &hdef);
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	t0 = realtime_ns();
	assert_int_equal(metrics_histogram_observe(m, h, l1, ARRAY_SIZE(l1), 0.5), 0);
	assert_int_equal(metrics_histogram_observe(m, h, l1, ARRAY_SIZE(l1), 2), 0);
	assert_int_equal(metrics_histogram_observe(m, h, l1, ARRAY_SIZE(l1), 9), 0);
	assert_int_equal(metrics_histogram_observe(m, h, l1, ARRAY_SIZE(l1), 1.5), 0);
	t1 = realtime_ns();
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, 3), 0);
	/* Recorded with other flags and order: the same series, as first recorded. */
	l1[1].is_int = false;
	assert_int_equal(metrics_histogram_observe(m, h, l1, ARRAY_SIZE(l1), 0.1), 0);
	assert_int_equal(metrics_gauge_set(m, g, l2, 1, 1.5), 0);
	l2[0].value = "z";
	assert_int_equal(metrics_gauge_set(m, g, l2, 1, 2), 0);
	l2[0].value = "w"; /* past the cap of 2 */
	assert_int_equal(metrics_gauge_set(m, g, l2, 1, 7), 0);
	t2 = realtime_ns();

	log.m = m;
	log.fam = c;
	assert_int_equal(metrics_visit(m, visit_cb, &log), 0);
	/* Registration order; inside a family the exposition's order. */
	assert_int_equal(log.n, 5);
	assert_string_equal(log.v[0].def->name, "h_seconds");
	assert_string_equal(log.v[0].def->otel_name, "h");
	assert_string_equal(log.v[0].def->unit, "s");
	assert_string_equal(log.v[0].def->help, "Help.");
	assert_int_equal(log.v[0].def->nbounds, 3);
	assert_true(log.v[0].def->bounds[2] == 5);
	assert_int_equal(log.v[0].nlabels, 3);
	assert_string_equal(log.v[0].labels,
			    "a=x,http.response.status_code=200#,z.last=\xef\xbf\xbd");
	assert_int_equal(log.v[0].pt.count, 5);
	assert_true(log.v[0].pt.sum == 13.1);
	/* Buckets as counted, not cumulative: (,1] (1,2] (2,5] (5,+Inf). */
	assert_int_equal(log.v[0].pt.bucket_counts[0], 2);
	assert_int_equal(log.v[0].pt.bucket_counts[1], 2);
	assert_int_equal(log.v[0].pt.bucket_counts[2], 0);
	assert_int_equal(log.v[0].pt.bucket_counts[3], 1);
	assert_true(log.v[0].pt.start_unix_ns >= t0 && log.v[0].pt.start_unix_ns <= t1);

	assert_string_equal(log.v[1].def->name, "c_total");
	assert_null(log.v[1].def->otel_name);
	assert_null(log.v[1].def->unit);
	assert_int_equal(log.v[1].nlabels, 0);
	assert_true(log.v[1].pt.value == 3);
	assert_true(log.v[1].pt.start_unix_ns >= t1 && log.v[1].pt.start_unix_ns <= t2);

	assert_string_equal(log.v[2].def->name, "g");
	assert_string_equal(log.v[2].labels, "a=y");
	assert_true(log.v[2].pt.value == 1.5);
	assert_string_equal(log.v[3].labels, "a=z");
	/* The overflow series, under its OpenTelemetry key. */
	assert_string_equal(log.v[4].labels, "otel.metric.overflow=true");
	assert_true(log.v[4].pt.value == 7);
	assert_true(log.v[4].pt.start_unix_ns >= t1 && log.v[4].pt.start_unix_ns <= t2);

	/* Start times stay; the callback's own counting went into the registry. */
	log.n = 0;
	log.m = NULL;
	assert_int_equal(metrics_visit(m, visit_cb, &log), 0);
	assert_int_equal(log.n, 5);
	assert_true(log.v[1].pt.value == 8);
	assert_true(log.v[0].pt.start_unix_ns >= t0 && log.v[0].pt.start_unix_ns <= t1);
	metrics_free(m);
}

struct family_log {
	char events[256]; /* name(nseries,overflowed) for a family, "." for each series after it */
	size_t len;
};

static void family_log_cb(void *ctx, const struct metric_family_def *def,
			  const struct metric_family_info *info)
{
	struct family_log *log = ctx;

	log->len += (size_t)snprintf(log->events + log->len, sizeof(log->events) - log->len,
				     "%s(%zu,%llu)", def->name, info->nseries,
				     (unsigned long long)info->overflowed);
	assert_true(log->len < sizeof(log->events));
}

static void series_log_cb(void *ctx, const struct metric_family_def *def,
			  const struct metric_label *labels, size_t nlabels,
			  const struct metric_point *pt)
{
	struct family_log *log = ctx;

	(void)def;
	(void)labels;
	(void)nlabels;
	(void)pt;
	assert_true(log->len + 1 < sizeof(log->events));
	log->events[log->len++] = '.';
	log->events[log->len] = '\0';
}

UNIT_TEST(test_visit_families)
{
	struct metric_label l = { "k", NULL };
	struct family_log log = { .len = 0 };
	struct metrics *m = metrics_new(2);
	int c, g;

	(void)state;
	assert_int_equal(metrics_visit_families(NULL, family_log_cb, series_log_cb, &log), -EINVAL);
	assert_int_equal(metrics_visit_families(m, NULL, NULL, &log), -EINVAL);
	assert_int_equal(metrics_visit_families(m, family_log_cb, series_log_cb, &log), 0);
	assert_int_equal(log.len, 0);

	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	assert_true(reg(m, "empty", METRIC_GAUGE, NULL, 0) >= 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	l.value = "a";
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 1), 0);
	l.value = "b";
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 1), 0);
	l.value = "c"; /* past the cap of 2: the overflow series, twice */
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 1), 0);
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 2), 0);

	/* Every family, series or not, just before its own series. */
	assert_int_equal(metrics_visit_families(m, family_log_cb, series_log_cb, &log), 0);
	assert_string_equal(log.events, "c_total(1,0).empty(0,0)g(3,2)...");
	log.len = 0;
	assert_int_equal(metrics_visit_families(m, family_log_cb, NULL, &log), 0);
	assert_string_equal(log.events, "c_total(1,0)empty(0,0)g(3,2)");
	log.len = 0;
	log.events[0] = '\0';
	assert_int_equal(metrics_visit_families(m, NULL, series_log_cb, &log), 0);
	assert_string_equal(log.events, "....");
	metrics_free(m);
}

UNIT_TEST(test_histogram_set)
{
	static const double b[] = { 1, 2, 5 };
	const uint64_t first[] = { 1, 2, 0, 3 }, second[] = { 0, 1, 0, 0 };
	struct metric_label l = { "process.pid", "42", true };
	struct visit_log log = { .n = 0 };
	struct metrics *m = metrics_new(10);
	int h;

	(void)state;
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, b, ARRAY_SIZE(b));
	assert_int_equal(metrics_histogram_set(m, h, &l, 1, first, 20.5), 0);
	/* Counts as given, rendered cumulative. */
	assert_render(m, "# HELP h_seconds Help.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"1\"} 1\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"2\"} 3\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"5\"} 3\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"+Inf\"} 6\n"
			 "h_seconds_sum{process_pid=\"42\"} 20.5\n"
			 "h_seconds_count{process_pid=\"42\"} 6\n");

	/* A second set replaces, it does not add. */
	assert_int_equal(metrics_histogram_set(m, h, &l, 1, second, 1.5), 0);
	assert_render(m, "# HELP h_seconds Help.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"1\"} 0\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"2\"} 1\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"5\"} 1\n"
			 "h_seconds_bucket{process_pid=\"42\",le=\"+Inf\"} 1\n"
			 "h_seconds_sum{process_pid=\"42\"} 1.5\n"
			 "h_seconds_count{process_pid=\"42\"} 1\n");
	assert_int_equal(metrics_visit(m, visit_cb, &log), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.v[0].labels, "process.pid=42#");
	assert_int_equal(log.v[0].pt.count, 1);
	assert_true(log.v[0].pt.sum == 1.5);
	assert_int_equal(log.v[0].pt.bucket_counts[0], 0);
	assert_int_equal(log.v[0].pt.bucket_counts[1], 1);
	assert_int_equal(log.v[0].pt.bucket_counts[2], 0);
	assert_int_equal(log.v[0].pt.bucket_counts[3], 0);

	/* Observations still count on top of a set. */
	assert_int_equal(metrics_histogram_observe(m, h, &l, 1, 3), 0);
	assert_render_has(m, "h_seconds_bucket{process_pid=\"42\",le=\"5\"} 2\n"
			     "h_seconds_bucket{process_pid=\"42\",le=\"+Inf\"} 2\n"
			     "h_seconds_sum{process_pid=\"42\"} 4.5\n"
			     "h_seconds_count{process_pid=\"42\"} 2\n");
	metrics_free(m);
}

UNIT_TEST(test_histogram_set_bad)
{
	const uint64_t bk[] = { 1, 1 };
	struct metric_label bad = { "le", "1" };
	struct metrics *m = metrics_new(10);
	int h, c, g;

	(void)state;
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 1);
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	assert_int_equal(metrics_histogram_set(NULL, h, NULL, 0, bk, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, h, NULL, 0, NULL, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, h, NULL, 0, bk, NAN), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, h, NULL, 0, bk, INFINITY), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, h, NULL, 0, bk, -1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, c, NULL, 0, bk, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, g, NULL, 0, bk, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, -1, NULL, 0, bk, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, 42, NULL, 0, bk, 1), -EINVAL);
	assert_int_equal(metrics_histogram_set(m, h, &bad, 1, bk, 1), -EINVAL);
	assert_render(m, "");
	/* Zero is a sum like any other. */
	assert_int_equal(metrics_histogram_set(m, h, NULL, 0, bk, 0), 0);
	assert_render_has(m, "h_seconds_sum 0\nh_seconds_count 2\n");
	metrics_free(m);
}

UNIT_TEST(test_histogram_set_overflow)
{
	const uint64_t a[] = { 5, 1 }, b[] = { 2, 4 }, own[] = { 1, 0 };
	struct metric_label l = { "process.pid", NULL };
	struct metrics *m = metrics_new(1);
	int h;

	(void)state;
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 1);
	l.value = "1";
	assert_int_equal(metrics_histogram_set(m, h, &l, 1, own, 0.001), 0);
	/* Past the cap: per bucket, and for the sum, the larger value stays. */
	l.value = "2";
	assert_int_equal(metrics_histogram_set(m, h, &l, 1, a, 3), 0);
	l.value = "3";
	assert_int_equal(metrics_histogram_set(m, h, &l, 1, b, 2), 0);
	assert_render(m, "# HELP h_seconds Help.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{otel_metric_overflow=\"true\",le=\"0.005\"} 5\n"
			 "h_seconds_bucket{otel_metric_overflow=\"true\",le=\"+Inf\"} 9\n"
			 "h_seconds_sum{otel_metric_overflow=\"true\"} 3\n"
			 "h_seconds_count{otel_metric_overflow=\"true\"} 9\n"
			 "h_seconds_bucket{process_pid=\"1\",le=\"0.005\"} 1\n"
			 "h_seconds_bucket{process_pid=\"1\",le=\"+Inf\"} 1\n"
			 "h_seconds_sum{process_pid=\"1\"} 0.001\n"
			 "h_seconds_count{process_pid=\"1\"} 1\n"
			 "# HELP obsprobe_metric_series_overflow_total Measurements recorded into "
			 "the overflow series of a metric that reached its series limit.\n"
			 "# TYPE obsprobe_metric_series_overflow_total counter\n"
			 "obsprobe_metric_series_overflow_total{metric=\"h_seconds\"} 2\n");
	metrics_free(m);
}

/* One label set per pid in each kind of family, plus series that must survive a removal. */
static void record_pid(struct metrics *m, int c, int g, int h, const char *pid)
{
	const uint64_t bk[] = { 1, 2 };
	struct metric_label l[] = { { "process.pid", pid, true }, { "kind", "http" } };

	assert_int_equal(metrics_counter_add(m, c, l, 2, 1), 0);
	assert_int_equal(metrics_gauge_set(m, g, l, 1, 3), 0);
	assert_int_equal(metrics_histogram_set(m, h, l, 1, bk, 0.5), 0);
}

UNIT_TEST(test_remove)
{
	struct metric_label other[] = { { "thread.id", "1" } };
	struct metric_label one = { "process.pid", "1" }, bad_utf8 = { "process.pid", "\xff" };
	struct metrics *m = metrics_new(10);
	int c, g, h, e;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 1);
	e = reg(m, "e_total", METRIC_COUNTER, NULL, 0);
	record_pid(m, c, g, h, "1");
	record_pid(m, c, g, h, "2");
	record_pid(m, c, g, h, "11");
	assert_int_equal(metrics_counter_add(m, c, NULL, 0, 7), 0);
	/* Another key with the same value stays. */
	assert_int_equal(metrics_counter_add(m, c, other, 1, 1), 0);
	/* A family holding nothing but pid 1 disappears altogether. */
	assert_int_equal(metrics_counter_add(m, e, &one, 1, 1), 0);

	assert_int_equal(metrics_remove(m, "process.pid", "1"), 4);
	assert_int_equal(metrics_remove(m, "process.pid", "1"), 0);
	assert_render(m, "# HELP c_total Help.\n"
			 "# TYPE c_total counter\n"
			 "c_total 7\n"
			 "c_total{kind=\"http\",process_pid=\"11\"} 1\n"
			 "c_total{kind=\"http\",process_pid=\"2\"} 1\n"
			 "c_total{thread_id=\"1\"} 1\n"
			 "# HELP g Help.\n"
			 "# TYPE g gauge\n"
			 "g{process_pid=\"11\"} 3\n"
			 "g{process_pid=\"2\"} 3\n"
			 "# HELP h_seconds Help.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{process_pid=\"11\",le=\"0.005\"} 1\n"
			 "h_seconds_bucket{process_pid=\"11\",le=\"+Inf\"} 3\n"
			 "h_seconds_sum{process_pid=\"11\"} 0.5\n"
			 "h_seconds_count{process_pid=\"11\"} 3\n"
			 "h_seconds_bucket{process_pid=\"2\",le=\"0.005\"} 1\n"
			 "h_seconds_bucket{process_pid=\"2\",le=\"+Inf\"} 3\n"
			 "h_seconds_sum{process_pid=\"2\"} 0.5\n"
			 "h_seconds_count{process_pid=\"2\"} 3\n");

	/* Either spelling of the key is the same label; values compare as stored. */
	assert_int_equal(metrics_remove(m, "process_pid", "2"), 3);
	assert_int_equal(metrics_counter_add(m, c, &bad_utf8, 1, 1), 0);
	assert_int_equal(metrics_remove(m, "process.pid", "\xff"), 1);
	assert_int_equal(metrics_counter_add(m, c, &bad_utf8, 1, 1), 0);
	assert_int_equal(metrics_remove(m, "process.pid", "\xef\xbf\xbd"), 1);
	assert_int_equal(metrics_remove(m, "process.pid", "\xfe"), 0);
	assert_int_equal(metrics_remove(m, "kind", "http"), 1);
	assert_int_equal(metrics_remove(m, "process.pid", "11"), 2);
	assert_render(m, "# HELP c_total Help.\n"
			 "# TYPE c_total counter\n"
			 "c_total 7\n"
			 "c_total{thread_id=\"1\"} 1\n");
	metrics_free(m);
}

UNIT_TEST(test_remove_bad)
{
	struct metrics *m = metrics_new(1);
	struct metric_label l = { "k", "v" };
	int c;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	assert_int_equal(metrics_remove(m, "k", "v"), 0);
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	l.value = "w";
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0); /* overflow */
	assert_int_equal(metrics_remove(NULL, "k", "v"), -EINVAL);
	assert_int_equal(metrics_remove(m, NULL, "v"), -EINVAL);
	assert_int_equal(metrics_remove(m, "", "v"), -EINVAL);
	assert_int_equal(metrics_remove(m, "1k", "v"), -EINVAL);
	assert_int_equal(metrics_remove(m, "le", "v"), -EINVAL);
	assert_int_equal(metrics_remove(m, "k", NULL), -EINVAL);
	/* Empty values are never stored: asking for one is a mistake, not a match. */
	assert_int_equal(metrics_remove(m, "k", ""), -EINVAL);
	/* The overflow series cannot be removed. */
	assert_int_equal(metrics_remove(m, "otel.metric.overflow", "true"), -EINVAL);
	assert_int_equal(metrics_remove(m, "otel_metric_overflow", "true"), -EINVAL);
	assert_render_has(m, "c_total{k=\"v\"} 1\n"
			     "c_total{otel_metric_overflow=\"true\"} 1\n");
	metrics_free(m);
}

UNIT_TEST(test_remove_recreate)
{
	struct metric_label l = { "process.pid", "7" };
	struct visit_log log = { .n = 0 };
	struct metrics *m = metrics_new(10);
	uint64_t t;
	int c;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 5), 0);
	assert_int_equal(metrics_remove(m, "process.pid", "7"), 1);
	t = realtime_ns();
	/* A new series: counted from zero, started after the removal, labels as now given. */
	l.is_int = true;
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 2), 0);
	assert_int_equal(metrics_visit(m, visit_cb, &log), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.v[0].labels, "process.pid=7#");
	assert_true(log.v[0].pt.value == 2);
	assert_true(log.v[0].pt.start_unix_ns >= t);
	metrics_free(m);
}

UNIT_TEST(test_remove_cap)
{
	struct metric_label l = { "process.pid", NULL };
	struct metrics *m = metrics_new(2);
	int c;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	l.value = "1";
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	l.value = "2";
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	l.value = "3"; /* at the cap */
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 4), 0);
	assert_int_equal(metrics_remove(m, "process.pid", "1"), 1);
	/* The cap counts live series: pid 3 now has a place of its own. */
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	l.value = "4";
	assert_int_equal(metrics_counter_add(m, c, &l, 1, 1), 0);
	/* The overflow series and its count are not disturbed. */
	assert_render(m, "# HELP c_total Help.\n"
			 "# TYPE c_total counter\n"
			 "c_total{otel_metric_overflow=\"true\"} 5\n"
			 "c_total{process_pid=\"2\"} 1\n"
			 "c_total{process_pid=\"3\"} 1\n"
			 "# HELP obsprobe_metric_series_overflow_total Measurements recorded into "
			 "the overflow series of a metric that reached its series limit.\n"
			 "# TYPE obsprobe_metric_series_overflow_total counter\n"
			 "obsprobe_metric_series_overflow_total{metric=\"c_total\"} 2\n");
	metrics_free(m);
}

struct remove_ctx {
	struct metrics *m;
	const char *pid;
	size_t visited, removed;
	size_t bytes; /* read from every label, so that ASan sees a freed one */
};

static void remove_cb(void *ctx, const struct metric_family_def *def,
		      const struct metric_label *labels, size_t nlabels,
		      const struct metric_point *pt)
{
	struct remove_ctx *rc = ctx;
	size_t i;

	(void)def;
	(void)pt;
	for (i = 0; i < nlabels; i++)
		rc->bytes += strlen(labels[i].key) + strlen(labels[i].value);
	if (rc->visited++ == 0 && rc->pid)
		rc->removed = (size_t)metrics_remove(rc->m, "process.pid", rc->pid);
}

UNIT_TEST(test_remove_during_visit)
{
	struct remove_ctx rc = { .pid = "9" };
	struct metric_label l = { "process.pid", NULL };
	struct mallinfo2 before, after;
	char pid[16];
	int c, g, i;

	(void)state;
	rc.m = metrics_new(10);
	c = reg(rc.m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(rc.m, "g", METRIC_GAUGE, NULL, 0);
	l.value = "9";
	assert_int_equal(metrics_counter_add(rc.m, c, NULL, 0, 1), 0);
	assert_int_equal(metrics_counter_add(rc.m, c, &l, 1, 1), 0);
	assert_int_equal(metrics_gauge_set(rc.m, g, &l, 1, 1), 0);
	/* Removed from the first callback, still visited, intact, from the snapshot. */
	assert_int_equal(metrics_visit(rc.m, remove_cb, &rc), 0);
	assert_int_equal(rc.removed, 2);
	assert_int_equal(rc.visited, 3);
	assert_int_equal(rc.bytes, 2 * strlen("process.pid9"));
	assert_render(rc.m, "# HELP c_total Help.\n"
			    "# TYPE c_total counter\n"
			    "c_total 1\n");

	/* Series retired under a snapshot are freed when it ends: memory stays flat. (ASan's
	 * allocator is not glibc's, so there the check holds trivially.) */
	for (i = 0; i < 2000; i++) {
		snprintf(pid, sizeof(pid), "%d", i);
		l.value = pid;
		rc.pid = pid;
		rc.visited = 0;
		assert_int_equal(metrics_gauge_set(rc.m, g, &l, 1, 1), 0);
		assert_int_equal(metrics_visit(rc.m, remove_cb, &rc), 0);
		assert_int_equal(rc.removed, 1);
		if (i == 99)
			before = mallinfo2();
	}
	after = mallinfo2();
	assert_true(after.uordblks < before.uordblks + 16384);
	metrics_free(rc.m);
}

#define CHURN_ITERS 20000

struct reader {
	struct metrics *m;
	atomic_bool started, done;
	size_t rounds;
	int err;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	struct remove_ctx rc = { .m = r->m };
	struct strbuf sb;

	strbuf_init(&sb);
	while (!atomic_load(&r->done) && !r->err) {
		strbuf_reset(&sb);
		r->err = metrics_visit(r->m, remove_cb, &rc);
		if (!r->err)
			r->err = prometheus_text_write(r->m, &sb);
		r->rounds++;
		atomic_store(&r->started, true);
	}
	strbuf_free(&sb);
	return NULL;
}

UNIT_TEST(test_remove_concurrent)
{
	const uint64_t bk[] = { 1, 2, 3, 4 };
	struct metric_label l[] = { { "process.pid", NULL, true }, { "kind", "http" } };
	struct reader r = { .m = metrics_new(100) };
	char pid[16], *out;
	pthread_t t;
	int c, g, h, i;

	(void)state;
	c = reg(r.m, "c_total", METRIC_COUNTER, NULL, 0);
	g = reg(r.m, "g", METRIC_GAUGE, NULL, 0);
	h = reg(r.m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 3);
	assert_int_equal(metrics_counter_add(r.m, c, &l[1], 1, 1), 0);
	assert_int_equal(pthread_create(&t, NULL, reader_run, &r), 0);
	while (!atomic_load(&r.started))
		sched_yield();
	/* The event loop: processes come and go while the exporters read. */
	for (i = 0; i < CHURN_ITERS; i++) {
		snprintf(pid, sizeof(pid), "%d", i % 64);
		l[0].value = pid;
		assert_int_equal(metrics_counter_add(r.m, c, l, 2, 1), 0);
		assert_int_equal(metrics_gauge_set(r.m, g, l, 1, i), 0);
		assert_int_equal(metrics_histogram_set(r.m, h, l, 2, bk, 1), 0);
		if (i % 64 == 63 || i % 7 == 0)
			assert_true(metrics_remove(r.m, "process.pid", pid) >= 0);
	}
	for (i = 0; i < 64; i++) {
		snprintf(pid, sizeof(pid), "%d", i);
		assert_true(metrics_remove(r.m, "process.pid", pid) >= 0);
	}
	atomic_store(&r.done, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(r.err, 0);
	assert_true(r.rounds > 0);
	out = render(r.m);
	assert_string_equal(out, "# HELP c_total Help.\n"
				 "# TYPE c_total counter\n"
				 "c_total{kind=\"http\"} 1\n");
	free(out);
	metrics_free(r.m);
}

static struct metrics *build_registry(bool reverse)
{
	static const char *const routes[] = { "/b", "/a", "/c/{id}", "/", "/a/b", "/A" };
	struct metric_label l[2] = { { "route", NULL }, { "method", "GET" } };
	struct metrics *m = metrics_new(100);
	size_t i, j, n = ARRAY_SIZE(routes);
	int c, h;

	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, ARRAY_SIZE(semconv_bounds));
	for (i = 0; i < n; i++) {
		j = reverse ? n - 1 - i : i;
		l[0].value = routes[j];
		assert_int_equal(metrics_counter_add(m, c, l, 2, (double)j + 1), 0);
		assert_int_equal(metrics_histogram_observe(m, h, l, 2, 0.01 * (double)j), 0);
	}
	return m;
}

UNIT_TEST(test_deterministic)
{
	struct metrics *a = build_registry(false), *b = build_registry(true);
	char *x = render(a), *y = render(b), *z = render(a);
	const char *p0, *p1, *p2;

	(void)state;
	assert_string_equal(x, y);
	assert_string_equal(x, z);
	/* Sorted by label string: byte order, so "/A" before "/a". */
	p0 = strstr(x, "c_total{method=\"GET\",route=\"/\"}");
	p1 = strstr(x, "c_total{method=\"GET\",route=\"/A\"}");
	p2 = strstr(x, "c_total{method=\"GET\",route=\"/a\"}");
	assert_true(p0 && p1 && p2 && p0 < p1 && p1 < p2);
	free(x);
	free(y);
	free(z);
	metrics_free(a);
	metrics_free(b);
}

UNIT_MAIN(NULL, NULL)
