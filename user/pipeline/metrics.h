/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Metrics registry: counters, gauges and fixed-bucket histograms keyed by label sets, with a
 * hard cap on series per family. Thread-safe: the event loop records, exporters read.
 */
#ifndef OBSPROBE_METRICS_H
#define OBSPROBE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	/* The instrument for OTLP: "http.server.request.duration" in "s" (UCUM: "{request}",
	 * "By"). A family without otel_name is not exported over OTLP; unit may be NULL. */
	const char *otel_name;
	const char *unit;
};

/* key: [a-zA-Z_][a-zA-Z0-9_.]*, so OpenTelemetry attribute keys ("http.request.method") are
 * used as they are; Prometheus sees every '.' as '_' (http_request_method), and keys that read
 * the same there name the same label. */
struct metric_label {
	const char *key;
	const char *value;
	bool is_int; /* value is a decimal integer: OTLP sends an int (status codes, ports) */
};

/* One series as metrics_visit() hands it out. */
struct metric_point {
	double value;	/* counters, gauges */
	uint64_t count; /* histograms */
	double sum;
	const uint64_t *bucket_counts; /* histograms: nbounds + 1, the last +Inf; NOT cumulative */
	uint64_t start_unix_ns;	       /* CLOCK_REALTIME when the series was created */
};

struct metrics;

/* Where exporters count the measurements each family diverted to its overflow series; no
 * family may be registered under this name. */
#define METRICS_OVERFLOW_FAMILY "obsprobe_metric_series_overflow_total"
/* The only label of a family's overflow series (as Prometheus reads otel.metric.overflow). */
#define METRICS_OVERFLOW_LABEL "otel_metric_overflow"

/* max_series: per family; a label set beyond it is recorded in one overflow series whose only
 * label is otel.metric.overflow="true" (otel_metric_overflow in Prometheus), and counted in
 * METRICS_OVERFLOW_FAMILY. */
struct metrics *metrics_new(size_t max_series);
void metrics_free(struct metrics *m);

/* Returns a family id >= 0, or -EINVAL for a bad definition (otel_name, when set: a letter,
 * then up to 254 of [a-zA-Z0-9_.-/], unique among families; unit: at most 63 printable ASCII
 * characters). Registering the same name twice returns the existing id; with another type,
 * bounds, otel_name or unit it is -EINVAL. */
int metrics_register(struct metrics *m, const struct metric_family_def *def);

/* Label order does not matter; labels with an empty value are dropped. A new series keeps its
 * labels (key, value with invalid UTF-8 replaced by U+FFFD, is_int) as first recorded. Return 0
 * or -errno. */
int metrics_counter_add(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v);
int metrics_counter_set(struct metrics *m, int family, const struct metric_label *labels,
			size_t nlabels, double v); /* for totals read from elsewhere */
int metrics_gauge_set(struct metrics *m, int family, const struct metric_label *labels,
		      size_t nlabels, double v);
int metrics_histogram_observe(struct metrics *m, int family, const struct metric_label *labels,
			      size_t nlabels, double v);

/* For histograms aggregated elsewhere (BPF maps read on a timer): replaces the series' buckets
 * with bucket_counts (nbounds + 1 values, the last +Inf, NOT cumulative, as in metric_point)
 * and its sum with sum; count becomes the sum of the buckets. A label set past the cap lands
 * in the overflow series, which merges many histograms and so never moves backwards: it keeps
 * the larger of each bucket and of the sum. -EINVAL for a NULL bucket_counts, a sum that is
 * negative or not finite, or a family that is not a histogram. */
int metrics_histogram_set(struct metrics *m, int family, const struct metric_label *labels,
			  size_t nlabels, const uint64_t *bucket_counts, double sum);

/* Removes, from every family, each series with the label key=value (a process's series once it
 * exits), so that it leaves the exposition and OTLP; the family's cap then has room for a new
 * series, and the same label set recorded again starts afresh. key is read as in records
 * ("process.pid" and "process_pid" are one label), value as stored (invalid UTF-8 as U+FFFD).
 * The overflow series stays. Safe while another thread is in metrics_visit() (or an exporter
 * rendering through it), and from a metrics_visit() callback: a removed series is freed once no
 * snapshot is left. Returns how many series went, or -EINVAL (bad or reserved key,
 * NULL or empty value). */
int metrics_remove(struct metrics *m, const char *key, const char *value);

typedef void (*metrics_visit_fn)(void *ctx, const struct metric_family_def *def,
				 const struct metric_label *labels, size_t nlabels,
				 const struct metric_point *pt);

/* Calls fn for every series of every family (including overflow series): families in the order
 * they were registered, series in the order of the Prometheus exposition; labels sorted, empty
 * ones dropped. fn runs on a snapshot, without the registry's lock, and may record. def lives
 * as long as the registry; labels and pt only during the call. Returns 0, -EINVAL or -ENOMEM
 * (then fn was not called). */
int metrics_visit(struct metrics *m, metrics_visit_fn fn, void *ctx);

/* A family as metrics_visit_families() hands it out, from the same snapshot as its series. */
struct metric_family_info {
	size_t nseries;	     /* series visited next, the overflow series included */
	uint64_t overflowed; /* measurements recorded into the overflow series so far */
};

typedef void (*metrics_family_fn)(void *ctx, const struct metric_family_def *def,
				  const struct metric_family_info *info);

/* As metrics_visit(), and first family_fn for each family, with or without series, just before
 * its series. Either callback may be NULL, not both; info lives only during the call. */
int metrics_visit_families(struct metrics *m, metrics_family_fn family_fn, metrics_visit_fn fn,
			   void *ctx);

#endif /* OBSPROBE_METRICS_H */
