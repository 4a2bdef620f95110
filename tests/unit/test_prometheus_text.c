// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The text exposition format itself: numbers, escapes, the overflow counter, promtool. What the
 * registry records, and in what order, is test_metrics.c's, seen through this writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exporters/prometheus_text.h"
#include "pipeline/metrics.h"
#include "expo.h"

#define PROMTOOL "/usr/bin/promtool"

UNIT_TEST(test_args)
{
	struct metrics *m = metrics_new(10);
	struct strbuf sb;
	int g;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(prometheus_text_write(NULL, &sb), -EINVAL);
	assert_int_equal(prometheus_text_write(m, NULL), -EINVAL);
	/* Nothing registered, or nothing recorded: nothing at all. */
	assert_int_equal(prometheus_text_write(m, &sb), 0);
	assert_int_equal(sb.len, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	assert_int_equal(prometheus_text_write(m, &sb), 0);
	assert_int_equal(sb.len, 0);
	/* Appended to what out holds. */
	assert_int_equal(metrics_gauge_set(m, g, NULL, 0, 1), 0);
	strbuf_puts(&sb, "before\n");
	assert_int_equal(prometheus_text_write(m, &sb), 0);
	assert_string_equal(sb.buf, "before\n"
				    "# HELP g Help.\n"
				    "# TYPE g gauge\n"
				    "g 1\n");
	strbuf_free(&sb);
	metrics_free(m);
}

UNIT_TEST(test_values)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "0" },
		{ -0.0, "0" },
		{ 1, "1" },
		{ -3, "-3" },
		{ 1.5, "1.5" },
		{ 0.1, "0.1" },
		{ 0.005, "0.005" },
		{ 1.0 / 3, "0.3333333333333333" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 123456789012, "123456789012" },
		{ 9007199254740991.0, "9007199254740991" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 1e20, "1e+20" },
		{ 1e-7, "1e-07" },
		{ 2.5e-7, "2.5e-07" },
		{ NAN, "NaN" },
		{ INFINITY, "+Inf" },
		{ -INFINITY, "-Inf" },
	};
	struct metrics *m;
	char line[128];
	size_t i;
	int g;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		m = metrics_new(10);
		g = reg(m, "g", METRIC_GAUGE, NULL, 0);
		assert_int_equal(metrics_gauge_set(m, g, NULL, 0, cases[i].v), 0);
		snprintf(line, sizeof(line), "\ng %s\n", cases[i].want);
		assert_render_has(m, line);
		metrics_free(m);
	}
}

UNIT_TEST(test_help)
{
	struct metric_family_def def = {
		.name = "g",
		.help = "Back \\ slash, \"quotes\" stay,\nnew line, caf\xc3\xa9, bad \xff.",
		.type = METRIC_GAUGE,
	};
	struct metrics *m = metrics_new(10);
	int g;

	(void)state;
	g = metrics_register(m, &def);
	assert_int_equal(metrics_gauge_set(m, g, NULL, 0, 1), 0);
	/* HELP escapes backslash and newline only; invalid UTF-8 becomes U+FFFD. */
	assert_render(m, "# HELP g Back \\\\ slash, \"quotes\" stay,\\nnew line, caf\xc3\xa9, bad "
			 "\xef\xbf\xbd.\n"
			 "# TYPE g gauge\n"
			 "g 1\n");
	metrics_free(m);
}

UNIT_TEST(test_long_keys)
{
	/* Longer than the writer's key buffer, after another label and before one. */
	static const char key[] = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.0.1.2.3.4.5."
				  "6.7.8.9.a.b.c.d.e.f.g.h.i.j.k.l.m.n";
	static const char prom[] =
		"a_b_c_d_e_f_g_h_i_j_k_l_m_n_o_p_q_r_s_t_u_v_w_x_y_z_0_1_2_3_4_5_"
		"6_7_8_9_a_b_c_d_e_f_g_h_i_j_k_l_m_n";
	struct metric_label l[] = { { "a", "u" }, { key, "v" }, { "z.last", "w" } };
	struct metrics *m = metrics_new(10);
	char want[512];
	int c, h;

	(void)state;
	c = reg(m, "c_total", METRIC_COUNTER, NULL, 0);
	h = reg(m, "h_seconds", METRIC_HISTOGRAM, semconv_bounds, 1);
	assert_int_equal(metrics_counter_add(m, c, l, 3, 1), 0);
	assert_int_equal(metrics_histogram_observe(m, h, l, 3, 1), 0);
	snprintf(want, sizeof(want), "\nc_total{a=\"u\",%s=\"v\",z_last=\"w\"} 1\n", prom);
	assert_render_has(m, want);
	snprintf(want, sizeof(want),
		 "\nh_seconds_bucket{a=\"u\",%s=\"v\",z_last=\"w\",le=\"+Inf\"} 1\n", prom);
	assert_render_has(m, want);
	snprintf(want, sizeof(want), "\nh_seconds_count{a=\"u\",%s=\"v\",z_last=\"w\"} 1\n", prom);
	assert_render_has(m, want);
	metrics_free(m);
}

UNIT_TEST(test_overflow_order)
{
	struct metric_label l = { "k", NULL };
	struct metrics *m = metrics_new(1);
	int z, a, g;

	(void)state;
	z = reg(m, "z_total", METRIC_COUNTER, NULL, 0);
	g = reg(m, "g", METRIC_GAUGE, NULL, 0);
	a = reg(m, "a_total", METRIC_COUNTER, NULL, 0);
	l.value = "1";
	assert_int_equal(metrics_counter_add(m, z, &l, 1, 1), 0);
	assert_int_equal(metrics_counter_add(m, a, &l, 1, 1), 0);
	assert_int_equal(metrics_gauge_set(m, g, &l, 1, 1), 0);
	l.value = "2";
	assert_int_equal(metrics_counter_add(m, z, &l, 1, 1), 0);
	assert_int_equal(metrics_counter_add(m, a, &l, 1, 1), 0);
	assert_int_equal(metrics_counter_add(m, a, &l, 1, 1), 0);
	/* Families in registration order, the overflow counter last, by family name. */
	assert_render(m, "# HELP z_total Help.\n"
			 "# TYPE z_total counter\n"
			 "z_total{k=\"1\"} 1\n"
			 "z_total{otel_metric_overflow=\"true\"} 1\n"
			 "# HELP g Help.\n"
			 "# TYPE g gauge\n"
			 "g{k=\"1\"} 1\n"
			 "# HELP a_total Help.\n"
			 "# TYPE a_total counter\n"
			 "a_total{k=\"1\"} 1\n"
			 "a_total{otel_metric_overflow=\"true\"} 2\n"
			 "# HELP obsprobe_metric_series_overflow_total Measurements recorded into "
			 "the overflow series of a metric that reached its series limit.\n"
			 "# TYPE obsprobe_metric_series_overflow_total counter\n"
			 "obsprobe_metric_series_overflow_total{metric=\"a_total\"} 2\n"
			 "obsprobe_metric_series_overflow_total{metric=\"z_total\"} 1\n");
	metrics_free(m);
}

UNIT_TEST(test_promtool)
{
	struct req {
		const char *method, *status, *route, *service;
		double v;
	} reqs[] = {
		{ "GET", "200", "/users/{id}", "shop", 0.005 },
		{ "GET", "200", "/users/{id}", "shop", 0.0123 },
		{ "GET", "404", "", "shop", 0.001 },
		{ "POST", "201", "/orders", "shop", 1.7 },
		{ "POST", "500", "/orders", "shop", 12 },
		{ "GET", "200", "/caf\xc3\xa9/\xff", "shop", 0.2 },
		{ "GET", "200", "/q\"uote\\back\nline", "shop", 10 },
		{ "PUT", "200", "/x", "shop", 0.3 },
		{ "DELETE", "204", "/y", "shop", 0.3 },
	};
	struct metric_family_def dur = {
		.name = "http_server_request_duration_seconds",
		.help = "Duration of HTTP server requests.",
		.type = METRIC_HISTOGRAM,
		.bounds = semconv_bounds,
		.nbounds = ARRAY_SIZE(semconv_bounds),
	};
	struct metric_family_def events = {
		.name = "obsprobe_events_total",
		.help = "Events read from the ring buffers.",
		.type = METRIC_COUNTER,
	};
	struct metric_family_def lost = {
		.name = "obsprobe_events_lost_total",
		.help = "Events the kernel side could not deliver, by reason.",
		.type = METRIC_COUNTER,
	};
	struct metric_family_def perr = {
		.name = "obsprobe_parse_errors_total",
		.help = "Payloads that did not parse, by protocol.",
		.type = METRIC_COUNTER,
	};
	struct metric_family_def conns = {
		.name = "obsprobe_open_connections",
		.help = "Connections being tracked \\ with a \"quoted\"\nhelp.",
		.type = METRIC_GAUGE,
	};
	struct metric_family_def runq = {
		.name = "process_runqueue_wait_seconds",
		.help = "Time runnable threads waited for a CPU, summed in BPF.",
		.type = METRIC_HISTOGRAM,
		.bounds = semconv_bounds,
		.nbounds = 3,
	};
	struct metric_label reason = { "reason", NULL }, proto = { "protocol", NULL };
	struct metric_label l[4], pid = { "process.pid", NULL, true };
	const uint64_t runq_buckets[] = { 4, 0, 2, 1 };
	char path[] = "/tmp/test_metrics_XXXXXX", cmd[128], *text;
	struct metrics *m = metrics_new(6);
	int d, ev, lo, pe, co, rq, fd, rc;
	size_t i;
	FILE *f;

	(void)state;
	/* scripts/install-deps.sh installs prometheus: its absence is a failure, not a skip */
	assert_int_equal(access(PROMTOOL, X_OK), 0);
	d = metrics_register(m, &dur);
	ev = metrics_register(m, &events);
	lo = metrics_register(m, &lost);
	pe = metrics_register(m, &perr);
	co = metrics_register(m, &conns);
	rq = metrics_register(m, &runq);
	assert_true(d >= 0 && ev >= 0 && lo >= 0 && pe >= 0 && co >= 0 && rq >= 0);

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		l[0] = (struct metric_label){ "service_name", reqs[i].service };
		l[1] = (struct metric_label){ "http_route", reqs[i].route };
		l[2] = (struct metric_label){ "http_response_status_code", reqs[i].status };
		l[3] = (struct metric_label){ "http_request_method", reqs[i].method };
		assert_int_equal(metrics_histogram_observe(m, d, l, 4, reqs[i].v), 0);
	}
	assert_int_equal(metrics_counter_add(m, ev, NULL, 0, 123456), 0);
	reason.value = "ringbuf_full";
	assert_int_equal(metrics_counter_set(m, lo, &reason, 1, 7), 0);
	reason.value = "read_fault";
	assert_int_equal(metrics_counter_set(m, lo, &reason, 1, 0), 0);
	proto.value = "http";
	assert_int_equal(metrics_counter_add(m, pe, &proto, 1, 2), 0);
	proto.value = "postgres";
	assert_int_equal(metrics_counter_add(m, pe, &proto, 1, 1), 0);
	assert_int_equal(metrics_gauge_set(m, co, NULL, 0, NAN), 0);
	pid.value = "101";
	assert_int_equal(metrics_histogram_set(m, rq, &pid, 1, runq_buckets, 0.0625), 0);
	pid.value = "102";
	assert_int_equal(metrics_histogram_set(m, rq, &pid, 1, runq_buckets, 0.125), 0);
	assert_int_equal(metrics_remove(m, "process.pid", "102"), 1);

	text = render(m);
	assert_non_null(strstr(text, "process_runqueue_wait_seconds_bucket{process_pid=\"101\","
				     "le=\"+Inf\"} 7\n"));
	assert_null(strstr(text, "\"102\""));
	/* The series cap was reached, so the overflow series and counter are checked too. */
	assert_non_null(strstr(text, "otel_metric_overflow=\"true\""));
	assert_non_null(strstr(text, "obsprobe_metric_series_overflow_total{metric="));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s", path);
	rc = system(cmd);
	unlink(path);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		fail_msg("promtool check metrics failed (status %d) on:\n%s", rc, text);
	free(text);
	metrics_free(m);
}

UNIT_MAIN(NULL, NULL)
