/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Metrics registry: counters, gauges and fixed-bucket histograms keyed by label sets, with a
 * hard cap on series per family. Thread-safe: the event loop records, exporters read.
 */
#ifndef OBSPROBE_METRICS_H
#define OBSPROBE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum metric_type {
	METRIC_COUNTER = 1,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

/* A family as the OpenTelemetry Prometheus exporter renders a semconv instrument:
 * name "http_server_request_duration_seconds", histogram; counters end in "_total". */
struct metric_family_def {
	const char *name;
	const char *help;
	enum metric_type type;
	const double *bounds; /* histograms: ascending upper bounds, +Inf implied */
	size_t nbounds;
};

struct metric_label {
	const char *key;
	const char *value;
};

struct metrics;

/* max_series: per family; a label set beyond it is recorded in one overflow series whose only
 * label is otel_metric_overflow="true", and counted in obsprobe_metric_series_overflow_total. */
struct metrics *metrics_new(size_t max_series);
void metrics_free(struct metrics *m);

/* Returns a family id >= 0, or -EINVAL for a bad definition. Registering the same name twice
 * returns the existing id. */
int metrics_register(struct metrics *m, const struct metric_family_def *def);

/* Label order does not matter; labels with an empty value are dropped. Return 0 or -errno. */
int metrics_counter_add(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v);
int metrics_counter_set(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v); /* for totals read from elsewhere */
int metrics_gauge_set(struct metrics *m, int family, const struct metric_label *labels,
		      size_t nlabels, double v);
int metrics_histogram_observe(struct metrics *m, int family, const struct metric_label *labels,
			      size_t nlabels, double v);

/* Prometheus text exposition format 0.0.4 of every family with at least one series, clean
 * under `promtool check metrics`. Returns 0 or -ENOMEM. */
int metrics_write_prometheus(struct metrics *m, struct strbuf *out);

#endif /* OBSPROBE_METRICS_H */
