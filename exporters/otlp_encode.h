/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP protobuf bodies: ExportTraceServiceRequest from spans, ExportLogsServiceRequest from log
 * records, ExportMetricsServiceRequest from the metrics registry. Pure: no I/O, no clocks; the
 * sender (otlp.c) owns delivery.
 */
#ifndef OBSPROBE_OTLP_ENCODE_H
#define OBSPROBE_OTLP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "pb_write.h"
#include "pipeline/logrec.h"
#include "pipeline/metrics.h"
#include "pipeline/span.h"

#define OTLP_SDK_NAME "obsprobe" /* telemetry.sdk.name, and the instrumentation scope name */

/* What every resource carries besides its own service (and, for traces, process). */
struct otlp_resource_cfg {
	const char *host_name;	 /* host.name; NULL or "" leaves it out */
	const char *sdk_version; /* telemetry.sdk.version and the scope version; may be NULL */
	/* OTEL_RESOURCE_ATTRIBUTES: added to every resource. They replace host.name and
	 * telemetry.sdk.* of the same key, never service.name, process.pid or
	 * process.executable.name, which describe the process itself. */
	const struct metric_label *extra;
	size_t nextra;
};

/*
 * One ResourceSpans per process (pid, service name and executable name; procs[i] is the
 * process of spans[i], NULL when unknown), in ascending pid order, each with one ScopeSpans
 * holding its spans in their order. Span times are CLOCK_MONOTONIC + clock_offset_ns.
 * cfg may be NULL. On success returns 0 and a malloc'ed body in *out (freed by the caller;
 * never NULL, *outlen may be 0 for no spans); else -EINVAL or -ENOMEM.
 */
int otlp_encode_traces(const struct span *const *spans, const struct proc_info *const *procs,
		       size_t n, const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
		       uint8_t **out, size_t *outlen);

/*
 * The same body, written into w (pb_write.h), which keeps its allocation from one call to the
 * next: the exporter's way, which in the steady state allocates nothing for a body and touches
 * no new page. w is initialised or all zeros. On success the body is the *len bytes at *body,
 * inside w, until w is written again or freed. Returns as otlp_encode_traces().
 */
int otlp_encode_traces_to(struct pb_buf *w, const struct span *const *spans,
			  const struct proc_info *const *procs, size_t n,
			  const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
			  const uint8_t **body, size_t *len);

/*
 * One span as the Span entry of a ScopeSpans (its tag and length first), written into w (reset
 * first, as pb_buf_reset()): the bytes [w->p, w->p + pb_mark(w)), which
 * otlp_encode_encoded_traces_to() puts in a body as otlp_encode_traces_to() would have encoded
 * the span. Times are CLOCK_MONOTONIC + clock_offset_ns. 0, -EINVAL or -ENOMEM.
 */
int otlp_encode_span(struct pb_buf *w, const struct span *s, int64_t clock_offset_ns);

/* A span otlp_encode_span() encoded: its bytes, and the pid of its process. */
struct otlp_span_bytes {
	const uint8_t *data;
	size_t len;
	uint32_t pid;
};

/*
 * otlp_encode_traces_to() for spans encoded beforehand: the same body, byte for byte, as the
 * spans would have given (the exporter encodes each span as it is queued, where the span is
 * still in the cache of the thread that assembled it, and its thread only frames them).
 */
int otlp_encode_encoded_traces_to(struct pb_buf *w, const struct otlp_span_bytes *spans,
				  const struct proc_info *const *procs, size_t n,
				  const struct otlp_resource_cfg *cfg, const uint8_t **body,
				  size_t *len);

/*
 * One ResourceLogs per process, with the very resource otlp_encode_traces() gives that process
 * (procs[i] is the process of recs[i], NULL when unknown), each with one ScopeLogs (the same
 * scope) holding its records in their order. time_unix_nano is the line's own time when it
 * gave one, else its write time; observed_time_unix_nano is the write time (ts_ns,
 * CLOCK_MONOTONIC, + clock_offset_ns). The body is a string; attributes keep their types, and
 * log.iostream names the stream. trace_id, span_id and flags (the W3C trace flags) only when
 * has_span. Returns as otlp_encode_traces().
 */
int otlp_encode_logs(const struct log_record *const *recs, const struct proc_info *const *procs,
		     size_t n, const struct otlp_resource_cfg *cfg, int64_t clock_offset_ns,
		     uint8_t **out, size_t *outlen);

/*
 * Every family with an otel_name: one ResourceMetrics per value of the "service.name" label
 * (which is taken off the data points; series without it go to service "obsprobe"), one
 * ScopeMetrics, one Metric per family. Counters are cumulative monotonic Sums, gauges Gauges,
 * histograms cumulative explicit-bucket Histograms with the family's bounds; values that are
 * whole numbers go as ints. Points start when their series was created and end at
 * now_unix_ns. Returns as otlp_encode_traces().
 */
int otlp_encode_metrics(struct metrics *m, const struct otlp_resource_cfg *cfg,
			uint64_t now_unix_ns, uint8_t **out, size_t *outlen);

#endif /* OBSPROBE_OTLP_ENCODE_H */
