/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP/HTTP protobuf delivery: spans and log records are queued by the event loop (never
 * blocking it) and sent in batches by a thread of their own; metrics are read from the registry
 * every interval.
 * Retries with backoff and jitter on 429/502/503/504 and network errors (Retry-After honoured),
 * no retry on other 4xx; a bounded queue whose overflow is counted; a final flush on stop.
 */
#ifndef OBSPROBE_OTLP_H
#define OBSPROBE_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/logrec.h"
#include "pipeline/metrics.h"
#include "otel_config.h"
#include "pipeline/span.h"

#define OTLP_QUEUE_MAX 2048 /* spans waiting for the exporter thread */
#define OTLP_BATCH_MAX 512  /* spans per request */
#define OTLP_BATCH_MS 1000  /* a partial batch leaves after this long */
/* Log records: otel_config's OTEL_BLRP_* limits, these when a configuration leaves them 0 */
#define OTLP_LOGS_QUEUE_MAX 2048
#define OTLP_LOGS_TIMEOUT_MS 30000 /* a batch of records is given up after retrying this long */

enum otlp_signal { OTLP_TRACES = 0, OTLP_METRICS = 1, OTLP_LOGS = 2, OTLP_SIGNALS };

struct otlp_stats {
	uint64_t dropped[OTLP_SIGNALS]; /* spans, metric exports or log records given up on */
	uint64_t ok[OTLP_SIGNALS];	/* requests the collector accepted */
	uint64_t retried[OTLP_SIGNALS]; /* attempts that failed and were retried */
	uint64_t failed[OTLP_SIGNALS];	/* requests given up on: rejected, or out of time */
};

struct otlp_exporter;

/* NULL with a sentence in err on failure. m may be NULL when metrics are not exported. */
struct otlp_exporter *otlp_exporter_start(const struct otel_config *cfg, struct metrics *m,
					  const char *host_name, const char *version, char *err,
					  size_t errlen);
/* Flushes what is queued (and one last metrics export) within the configured timeout, then
 * stops the thread. NULL ok. */
void otlp_exporter_stop(struct otlp_exporter *e);
bool otlp_exporter_wants_traces(const struct otlp_exporter *e);
/* Encodes s (its times CLOCK_MONOTONIC + clock_offset_ns) into the queue, or counts it dropped
 * when the queue is full. Never blocks for I/O. Spans and log records are added from one
 * thread only, the same for both. */
void otlp_exporter_add_span(struct otlp_exporter *e, const struct span *s,
			    const struct proc_info *proc, int64_t clock_offset_ns);
bool otlp_exporter_wants_logs(const struct otlp_exporter *e);
/* Copies r (its arena as far as it is used) into the log queue, or counts it dropped when the
 * queue is full. proc may be NULL. Never blocks for I/O. */
void otlp_exporter_add_log(struct otlp_exporter *e, const struct log_record *r,
			   const struct proc_info *proc);
void otlp_exporter_get_stats(struct otlp_exporter *e, struct otlp_stats *out);
/* Spans waiting in the queue now. */
size_t otlp_exporter_queued(struct otlp_exporter *e);
/* CPU time the exporter thread has used, in ns (0 when unknown). */
uint64_t otlp_exporter_cpu_ns(struct otlp_exporter *e);

#endif /* OBSPROBE_OTLP_H */
