/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The OpenTelemetry SDK environment variables obsprobe honours, and trace sampling. Pure. */
#ifndef OBSPROBE_OTEL_CONFIG_H
#define OBSPROBE_OTEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/span.h"

#define OTEL_URL_MAX 1024
#define OTEL_MAX_HEADERS 32
#define OTEL_MAX_RESOURCE_ATTRS 32
#define OTEL_BLRP_QUEUE_LIMIT 65536 /* OTEL_BLRP_MAX_QUEUE_SIZE at most: a record is ~13 KiB */
#define OTEL_BSP_QUEUE_LIMIT 65536  /* OTEL_BSP_MAX_QUEUE_SIZE at most: a span is ~5 KiB */

enum otel_sampler {
	OTEL_SAMPLER_ALWAYS_ON = 0,
	OTEL_SAMPLER_ALWAYS_OFF,
	OTEL_SAMPLER_TRACEIDRATIO,
	OTEL_SAMPLER_PARENTBASED_ALWAYS_ON,
	OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF,
	OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO,
};

struct otel_kv {
	char key[128];
	char value[384];
};

/* A batch processor (OTEL_BSP_* for spans, OTEL_BLRP_* for log records): items queued at most,
 * items per request, how long a partial batch waits, how long a batch may take with its
 * retries. */
struct otel_batch {
	unsigned max_queue;
	unsigned max_batch;
	unsigned delay_ms;
	unsigned timeout_ms;
};

struct otel_config {
	char traces_url[OTEL_URL_MAX];	/* "" when traces are not exported */
	char metrics_url[OTEL_URL_MAX]; /* "" when metrics are not exported */
	char logs_url[OTEL_URL_MAX];	/* "" when logs are not exported */
	struct otel_kv headers[OTEL_MAX_HEADERS];
	size_t nheaders;
	bool gzip;
	unsigned timeout_ms;
	unsigned metric_interval_ms;
	struct otel_batch bsp;	/* the batch span processor */
	struct otel_batch blrp; /* the batch log record processor */
	enum otel_sampler sampler;
	double ratio;
	struct otel_kv resource[OTEL_MAX_RESOURCE_ATTRS];
	size_t nresource;
};

/*
 * Reads OTEL_EXPORTER_OTLP_{ENDPOINT,TRACES_ENDPOINT,METRICS_ENDPOINT,LOGS_ENDPOINT,HEADERS,
 * COMPRESSION,TIMEOUT}, OTEL_LOGS_EXPORTER (otlp, the default, or none), OTEL_BSP_ and
 * OTEL_BLRP_{MAX_QUEUE_SIZE,MAX_EXPORT_BATCH_SIZE,SCHEDULE_DELAY,EXPORT_TIMEOUT}, OTEL_RESOURCE_ATTRIBUTES,
 * OTEL_METRIC_EXPORT_INTERVAL, OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG through
 * getenv_fn. endpoint_flag (--otlp-endpoint, may be NULL) overrides every endpoint variable.
 * Export stays off without any endpoint. Returns 0, or -EINVAL with one sentence in err naming
 * the variable and what is wrong with it.
 */
int otel_config_load(struct otel_config *c, const char *(*getenv_fn)(const char *name),
		     const char *endpoint_flag, char *err, size_t errlen);

/* TraceIdRatioBased: whether ratio (0..1) keeps the trace trace_id, decided on its last 8
 * bytes as the OpenTelemetry SDKs compare them, so every span of one trace gets one answer. */
bool otel_ratio_sample(const uint8_t trace_id[16], double ratio);
/* The value of key in an OTEL_RESOURCE_ATTRIBUTES list ("k1=v1,k2=v2", percent-encoded) into
 * out (len bytes): true when the list parses and has key with a non-empty value. */
bool otel_resource_value(const char *list, const char *key, char *out, size_t len);

#endif /* OBSPROBE_OTEL_CONFIG_H */
