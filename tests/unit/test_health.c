// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* obsprobe's own health series, checked on the Prometheus exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/prometheus_text.h"
#include "pipeline/health.h"
#include "pipeline/metrics.h"
#include "expo.h"

static struct metrics *m;
static struct health *h;

static int setup(void **state)
{
	(void)state;
	m = metrics_new(100);
	if (!m)
		return -1;
	h = health_new(m);
	return h ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	health_free(h);
	metrics_free(m);
	h = NULL;
	m = NULL;
	return 0;
}

/* How many lines of got start with prefix. */
static int count_lines(const char *got, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = got;
	int count = 0;

	while (p && *p) {
		if (!strncmp(p, prefix, n))
			count++;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return count;
}

UNIT_TEST_FIXTURE(test_nothing_set, setup, teardown)
{
	char *got;

	(void)state;
	/* families with no series are not rendered */
	got = render(m);
	assert_string_equal(got, "");
	free(got);
}

UNIT_TEST_FIXTURE(test_events, setup, teardown)
{
	char *got;

	(void)state;
	health_events(h, 42);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_events_total counter");
	assert_line(got, "obsprobe_events_total 42");
	assert_int_equal(count_lines(got, "obsprobe_"), 1);
	free(got);
	/* a total, not an increment */
	health_events(h, 100);
	got = render(m);
	assert_line(got, "obsprobe_events_total 100");
	assert_no(got, "142");
	free(got);
	/* large totals are exact */
	health_events(h, 12345678901ull);
	got = render(m);
	assert_line(got, "obsprobe_events_total 12345678901");
	free(got);
}

UNIT_TEST_FIXTURE(test_lost, setup, teardown)
{
	char *got;

	(void)state;
	health_lost(h, "x", 3);
	health_lost(h, "ringbuf_full", 0);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_events_lost_total counter");
	assert_line(got, "obsprobe_events_lost_total{reason=\"x\"} 3");
	/* a zero total is still a series */
	assert_line(got, "obsprobe_events_lost_total{reason=\"ringbuf_full\"} 0");
	free(got);
	health_lost(h, "x", 7);
	got = render(m);
	assert_line(got, "obsprobe_events_lost_total{reason=\"x\"} 7");
	assert_line(got, "obsprobe_events_lost_total{reason=\"ringbuf_full\"} 0");
	assert_int_equal(count_lines(got, "obsprobe_events_lost_total{"), 2);
	free(got);
}

UNIT_TEST_FIXTURE(test_parse_errors, setup, teardown)
{
	char *got;

	(void)state;
	health_parse_errors(h, "http", 4);
	health_parse_errors(h, "postgresql", 1);
	health_parse_errors(h, "http", 9);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_parse_errors_total counter");
	assert_line(got, "obsprobe_parse_errors_total{protocol=\"http\"} 9");
	assert_line(got, "obsprobe_parse_errors_total{protocol=\"postgresql\"} 1");
	assert_int_equal(count_lines(got, "obsprobe_parse_errors_total{"), 2);
	free(got);
}

UNIT_TEST_FIXTURE(test_route_overflow, setup, teardown)
{
	char *got;

	(void)state;
	health_route_overflow(h, 5);
	health_route_overflow(h, 6);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_route_overflow_total counter");
	assert_line(got, "obsprobe_route_overflow_total 6");
	assert_int_equal(count_lines(got, "obsprobe_"), 1);
	free(got);
}

UNIT_TEST_FIXTURE(test_watched, setup, teardown)
{
	char *got;

	(void)state;
	health_watched(h, 6);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_watched_processes gauge");
	assert_line(got, "obsprobe_watched_processes 6");
	free(got);
	/* a gauge: it goes down as processes exit */
	health_watched(h, 2);
	got = render(m);
	assert_line(got, "obsprobe_watched_processes 2");
	free(got);
	health_watched(h, 0);
	got = render(m);
	assert_line(got, "obsprobe_watched_processes 0");
	free(got);
}

UNIT_TEST_FIXTURE(test_export, setup, teardown)
{
	char *got;

	(void)state;
	health_export(h, "traces", 7, 8, 9, 10);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_export_dropped_total counter");
	assert_line(got, "# TYPE obsprobe_export_requests_total counter");
	assert_line(got, "obsprobe_export_dropped_total{signal=\"traces\"} 7");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"ok\",signal=\"traces\"} 8");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"retry\",signal=\"traces\"} 9");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"failed\",signal=\"traces\"} 10");
	assert_int_equal(count_lines(got, "obsprobe_export_dropped_total{"), 1);
	assert_int_equal(count_lines(got, "obsprobe_export_requests_total{"), 3);
	/* dropped has no outcome label */
	assert_no(got, "obsprobe_export_dropped_total{outcome");
	free(got);

	health_export(h, "metrics", 0, 1, 0, 2);
	health_export(h, "traces", 17, 18, 19, 20);
	got = render(m);
	assert_line(got, "obsprobe_export_dropped_total{signal=\"traces\"} 17");
	assert_line(got, "obsprobe_export_dropped_total{signal=\"metrics\"} 0");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"ok\",signal=\"traces\"} 18");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"retry\",signal=\"traces\"} 19");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"failed\",signal=\"traces\"} 20");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"ok\",signal=\"metrics\"} 1");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"retry\",signal=\"metrics\"} 0");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"failed\",signal=\"metrics\"} 2");
	assert_int_equal(count_lines(got, "obsprobe_export_requests_total{"), 6);
	free(got);

	health_export(h, "logs", 3, 4, 5, 6);
	got = render(m);
	assert_line(got, "obsprobe_export_dropped_total{signal=\"logs\"} 3");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"ok\",signal=\"logs\"} 4");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"retry\",signal=\"logs\"} 5");
	assert_line(got, "obsprobe_export_requests_total{outcome=\"failed\",signal=\"logs\"} 6");
	assert_int_equal(count_lines(got, "obsprobe_export_requests_total{"), 9);
	free(got);
}

UNIT_TEST_FIXTURE(test_sampling, setup, teardown)
{
	char *got;

	(void)state;
	health_spans_kept(h, "ratio", 30);
	health_spans_kept(h, "error", 3);
	health_spans_sampled_out(h, "ratio", 270);
	health_spans_sampled_out(h, "buffer_full", 0);
	health_spans_held(h, 12);
	got = render(m);
	assert_line(got, "# TYPE obsprobe_spans_kept_total counter");
	assert_line(got, "# TYPE obsprobe_spans_sampled_out_total counter");
	assert_line(got, "# TYPE obsprobe_sampling_held_spans gauge");
	assert_line(got, "obsprobe_spans_kept_total{reason=\"ratio\"} 30");
	assert_line(got, "obsprobe_spans_kept_total{reason=\"error\"} 3");
	assert_line(got, "obsprobe_spans_sampled_out_total{reason=\"ratio\"} 270");
	assert_line(got, "obsprobe_spans_sampled_out_total{reason=\"buffer_full\"} 0");
	assert_line(got, "obsprobe_sampling_held_spans 12");
	free(got);
	/* totals and a gauge: set, not added */
	health_spans_sampled_out(h, "ratio", 280);
	health_spans_held(h, 0);
	got = render(m);
	assert_line(got, "obsprobe_spans_sampled_out_total{reason=\"ratio\"} 280");
	assert_int_equal(count_lines(got, "obsprobe_spans_sampled_out_total{"), 2);
	assert_line(got, "obsprobe_sampling_held_spans 0");
	free(got);
}

UNIT_TEST_FIXTURE(test_all_together, setup, teardown)
{
	static const char want[] =
		"# HELP obsprobe_events_total Events obsprobe read from its ring buffer.\n"
		"# TYPE obsprobe_events_total counter\n"
		"obsprobe_events_total 1\n"
		"# HELP obsprobe_events_lost_total Events lost before they reached obsprobe, by "
		"reason.\n"
		"# TYPE obsprobe_events_lost_total counter\n"
		"obsprobe_events_lost_total{reason=\"x\"} 2\n"
		"# HELP obsprobe_parse_errors_total Streams that did not parse as their protocol.\n"
		"# TYPE obsprobe_parse_errors_total counter\n"
		"obsprobe_parse_errors_total{protocol=\"http\"} 3\n"
		"# HELP obsprobe_route_overflow_total Requests whose route was folded into 'other' "
		"by the per-service route cap.\n"
		"# TYPE obsprobe_route_overflow_total counter\n"
		"obsprobe_route_overflow_total 4\n"
		"# HELP obsprobe_watched_processes Processes obsprobe watches now.\n"
		"# TYPE obsprobe_watched_processes gauge\n"
		"obsprobe_watched_processes 5\n"
		"# HELP obsprobe_export_dropped_total Spans (signal=traces), metric exports "
		"(signal=metrics) or log records (signal=logs) the OTLP exporter gave up on.\n"
		"# TYPE obsprobe_export_dropped_total counter\n"
		"obsprobe_export_dropped_total{signal=\"traces\"} 6\n"
		"# HELP obsprobe_export_requests_total OTLP export attempts, by signal and "
		"outcome.\n"
		"# TYPE obsprobe_export_requests_total counter\n"
		"obsprobe_export_requests_total{outcome=\"failed\",signal=\"traces\"} 9\n"
		"obsprobe_export_requests_total{outcome=\"ok\",signal=\"traces\"} 7\n"
		"obsprobe_export_requests_total{outcome=\"retry\",signal=\"traces\"} 8\n";
	char *got;

	(void)state;
	health_events(h, 1);
	health_lost(h, "x", 2);
	health_parse_errors(h, "http", 3);
	health_route_overflow(h, 4);
	health_watched(h, 5);
	health_export(h, "traces", 6, 7, 8, 9);
	got = render(m);
	assert_string_equal(got, want);
	free(got);
}

UNIT_TEST_FIXTURE(test_null, setup, teardown)
{
	char *got;

	(void)state;
	health_events(NULL, 1);
	health_lost(NULL, "x", 2);
	health_parse_errors(NULL, "http", 3);
	health_route_overflow(NULL, 4);
	health_watched(NULL, 5);
	health_export(NULL, "traces", 6, 7, 8, 9);
	health_spans_kept(NULL, "ratio", 1);
	health_spans_sampled_out(NULL, "ratio", 1);
	health_spans_held(NULL, 1);
	health_free(NULL);
	/* the registry h uses was not touched */
	got = render(m);
	assert_string_equal(got, "");
	free(got);
}

UNIT_TEST_FIXTURE(test_shared_registry, setup, teardown)
{
	struct health *h2;
	char *got;

	(void)state;
	/* a second health on the same registry names the same series */
	h2 = health_new(m);
	assert_non_null(h2);
	health_events(h, 3);
	health_events(h2, 4);
	got = render(m);
	assert_line(got, "obsprobe_events_total 4");
	assert_int_equal(count_lines(got, "obsprobe_events_total "), 1);
	free(got);
	health_free(h2);
}

UNIT_MAIN(NULL, NULL)
