// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How long prometheus_text_write() takes to render the registry, as every scrape of /metrics
 * does: 10,000 series by default with RED-style label sets (six labels, OpenTelemetry keys),
 * as semconv duration histograms (14 bounds), counters, or a mix (a quarter histograms, a
 * quarter gauges, half counters). Prints the median, mean and fastest render.
 *
 *	make BUILD=build build/bench/prometheus_text_bench
 *	build/bench/prometheus_text_bench [counter|mix|hist [SERIES [RENDERS]]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporters/prometheus_text.h"
#include "pipeline/metrics.h"

static const double semconv_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
					 0.5,	0.75, 1,     2.5,  5,	  7.5, 10 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 0: histogram, 1: counter, 2: gauge */
static int kind_of(const char *kind, size_t i)
{
	if (!strcmp(kind, "hist"))
		return 0;
	if (!strcmp(kind, "counter"))
		return 1;
	return i % 4 == 0 ? 0 : i % 4 == 1 ? 2 : 1;
}

static int fill(struct metrics *m, const char *kind, size_t nseries)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
	static const char *const status[] = { "200", "201", "404", "500", "503" };
	const struct metric_family_def defs[] = {
		{ "http_server_request_duration_seconds", "Duration of HTTP server requests.",
		  METRIC_HISTOGRAM, semconv_bounds, 14 },
		{ "http_server_requests_total", "HTTP server requests.", METRIC_COUNTER },
		{ "process_thread_count", "Threads of the process.", METRIC_GAUGE },
	};
	char route[48], pid[16];
	struct metric_label l[] = {
		{ "service.name", "shop" },	 { "http.route", route },
		{ "http.request.method", NULL }, { "http.response.status_code", NULL, true },
		{ "url.scheme", "http" },	 { "process.pid", pid, true },
	};
	int fam[3], err = 0, k;
	size_t i;

	for (k = 0; k < 3; k++) {
		fam[k] = metrics_register(m, &defs[k]);
		if (fam[k] < 0)
			return fam[k];
	}
	for (i = 0; !err && i < nseries; i++) {
		snprintf(route, sizeof(route), "/api/v1/items/{id}/part%zu", i);
		snprintf(pid, sizeof(pid), "%zu", 1000 + i % 37);
		l[2].value = methods[i % 4];
		l[3].value = status[i % 5];
		switch (kind_of(kind, i)) {
		case 0:
			for (k = 0; !err && k < 5; k++)
				err = metrics_histogram_observe(m, fam[0], l, 6,
								0.003 * (double)(k + i % 300));
			break;
		case 1:
			err = metrics_counter_add(m, fam[1], l, 6, (double)(i * 7 + 1));
			break;
		default:
			err = metrics_gauge_set(m, fam[2], l, 6, (double)i / 3);
		}
	}
	return err;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "mix";
	size_t nseries = argc > 2 ? strtoul(argv[2], NULL, 10) : 10000;
	size_t renders = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000;
	uint64_t *t, total = 0, t0;
	struct metrics *m;
	struct strbuf sb;
	size_t i;
	int err;

	if ((strcmp(kind, "counter") && strcmp(kind, "mix") && strcmp(kind, "hist")) || !nseries ||
	    !renders) {
		fprintf(stderr, "usage: %s [counter|mix|hist [SERIES [RENDERS]]]\n", argv[0]);
		return 2;
	}
	m = metrics_new(nseries + 1);
	t = calloc(renders, sizeof(*t));
	if (!m || !t) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	err = fill(m, kind, nseries);
	if (err) {
		fprintf(stderr, "recording: %d\n", err);
		return 1;
	}
	strbuf_init(&sb);
	for (i = 0; i < renders; i++) {
		strbuf_reset(&sb);
		t0 = now_ns();
		err = prometheus_text_write(m, &sb);
		t[i] = now_ns() - t0;
		if (err) {
			fprintf(stderr, "prometheus_text_write: %d\n", err);
			return 1;
		}
		total += t[i];
	}
	qsort(t, renders, sizeof(*t), cmp_u64);
	printf("prometheus_text_write: %s, %zu series, %zu renders of %zu bytes: median %.3f ms, "
	       "mean %.3f ms, fastest %.3f ms\n",
	       kind, nseries, renders, sb.len, (double)t[renders / 2] / 1e6,
	       (double)total / (double)renders / 1e6, (double)t[0] / 1e6);
	strbuf_free(&sb);
	metrics_free(m);
	free(t);
	return 0;
}
