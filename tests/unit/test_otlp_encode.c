// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP encoding, decoded back with the protobuf-c code generated from our .proto files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include "otlp_check.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/metrics.h"
#include "exporters/otlp_encode.h"
#include "pipeline/span.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Logs__V1__ResourceLogs ResourceLogs;
typedef Opentelemetry__Proto__Logs__V1__LogRecord LogRecord;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest LogsRequest;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics ResourceMetrics;
typedef Opentelemetry__Proto__Metrics__V1__Metric Metric;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint NumberDataPoint;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint HistogramDataPoint;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest MetricsRequest;

#define AS_INT OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT
#define AS_DOUBLE OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE
#define CUMULATIVE \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE
#define KIND_SERVER OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER
#define KIND_CLIENT OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT

/* 2026-01-01T00:00:00Z minus a monotonic clock near zero: a realistic realtime offset. */
#define OFFSET 1767225600000000000LL

static const double bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
				 0.5,	0.75, 1,     2.5,  5,	  7.5, 10 };

static void check_double(double got, double want, double eps)
{
	if (!(fabs(got - want) <= eps))
		fail_msg("%.17g, want %.17g", got, want);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static ResourceSpans *resource_of(TraceRequest *req, int64_t pid)
{
	size_t i;

	for (i = 0; i < req->n_resource_spans; i++) {
		const AnyValue *v = find_attr(req->resource_spans[i]->resource->attributes,
					      req->resource_spans[i]->resource->n_attributes,
					      "process.pid");

		if (v && v->value_case == INT_VALUE && v->int_value == pid)
			return req->resource_spans[i];
	}
	fail_msg("no resource for pid %lld", (long long)pid);
	return NULL;
}

UNIT_TEST(test_traces)
{
	const struct metric_label extra[] = {
		{ "deployment.environment.name", "prod" },
		{ "service.name", "not-this" },		      /* the process names its service */
		{ "process.pid", "1", true },		      /* and has its own pid */
		{ "k8s.pod.uid", "42", true },		      /* ints stay ints */
		{ "deployment.environment.name", "staging" }, /* the last one wins */
	};
	const struct otlp_resource_cfg cfg = {
		.host_name = "node-1",
		.sdk_version = "0.5.0",
		.extra = extra,
		.nextra = ARRAY_SIZE(extra),
	};
	struct proc_info shop = make_proc(100, "shop", "nginx"),
			 api = make_proc(200, "api", "python3");
	struct span *srv, *cli, *err, *orphan;
	const struct span *spans[4];
	const struct proc_info *procs[4];
	ResourceSpans *rs;
	TraceRequest *req;
	KeyValue **ra;
	size_t nra;
	Span *m;

	(void)state;
	/* A server span whose caller sent a traceparent, a client span it made. */
	srv = new_span(SPAN_KIND_SERVER, 100, 1, 5000000000ULL, 2500000, "GET /users/{id}");
	srv->has_parent = true;
	srv->remote_parent = true;
	fill_id(srv->parent_id, 8, 200);
	span_set_str(srv, "http.request.method", "GET");
	span_set_str(srv, "http.route", "/users/{id}");
	span_set_int(srv, "http.response.status_code", 200);
	span_set_str(srv, "url.path", "/users/42");
	span_set_int(srv, "server.port", 8080);
	span_set_str(srv, "empty", "");
	cli = new_span(SPAN_KIND_CLIENT, 100, 1, 5000100000ULL, 1000000, "GET");
	memcpy(cli->trace_id, srv->trace_id, 16);
	cli->has_parent = true;
	memcpy(cli->parent_id, srv->span_id, 8);
	cli->trace_flags = 0;
	span_set_str(cli, "server.address", "backend");
	span_set_int(cli, "http.response.status_code", -1);
	/* An error span of another process, without a parent. */
	err = new_span(SPAN_KIND_SERVER, 200, 50, 7000000000ULL, 1, "POST /orders");
	err->error = true;
	span_set_int(err, "http.response.status_code", 500);
	/* A span of a process we know nothing about. */
	orphan = new_span(SPAN_KIND_SERVER, 300, 60, 1, 1, "GET");

	/* Interleaved, as a batch would be. */
	spans[0] = err, procs[0] = &api;
	spans[1] = srv, procs[1] = &shop;
	spans[2] = orphan, procs[2] = NULL;
	spans[3] = cli, procs[3] = &shop;
	req = encode_traces(spans, procs, 4, &cfg, OFFSET);

	/* One resource per process, by pid. */
	assert_int_equal(req->n_resource_spans, 3);
	assert_ptr_equal(req->resource_spans[0], resource_of(req, 100));
	assert_ptr_equal(req->resource_spans[1], resource_of(req, 200));
	assert_ptr_equal(req->resource_spans[2], resource_of(req, 300));

	rs = resource_of(req, 100);
	ra = rs->resource->attributes;
	nra = rs->resource->n_attributes;
	check_str(ra, nra, "service.name", "shop");
	check_int(ra, nra, "process.pid", 100);
	check_str(ra, nra, "process.executable.name", "nginx");
	check_str(ra, nra, "host.name", "node-1");
	check_str(ra, nra, "telemetry.sdk.name", "obsprobe");
	check_str(ra, nra, "telemetry.sdk.version", "0.5.0");
	check_str(ra, nra, "deployment.environment.name", "staging");
	check_int(ra, nra, "k8s.pod.uid", 42);
	check_absent(ra, nra, "telemetry.sdk.language");
	assert_int_equal(nra, 8);
	assert_int_equal(rs->n_scope_spans, 1);
	assert_string_equal(rs->scope_spans[0]->scope->name, "obsprobe");
	assert_string_equal(rs->scope_spans[0]->scope->version, "0.5.0");
	assert_int_equal(rs->scope_spans[0]->n_spans, 2);

	/* The server span: every field. */
	m = rs->scope_spans[0]->spans[0];
	check_bytes(m->trace_id, srv->trace_id, 16);
	check_bytes(m->span_id, srv->span_id, 8);
	check_bytes(m->parent_span_id, srv->parent_id, 8);
	assert_string_equal(m->trace_state, "");
	assert_int_equal(m->flags, 0); /* left out: see encode_span() */
	assert_string_equal(m->name, "GET /users/{id}");
	assert_int_equal(m->kind, KIND_SERVER);
	assert_true(m->start_time_unix_nano == 5000000000ULL + OFFSET);
	assert_true(m->end_time_unix_nano == 5002500000ULL + OFFSET);
	assert_int_equal(m->n_attributes, 6);
	check_str(m->attributes, m->n_attributes, "http.request.method", "GET");
	check_str(m->attributes, m->n_attributes, "http.route", "/users/{id}");
	check_int(m->attributes, m->n_attributes, "http.response.status_code", 200);
	check_str(m->attributes, m->n_attributes, "url.path", "/users/42");
	check_int(m->attributes, m->n_attributes, "server.port", 8080);
	check_str(m->attributes, m->n_attributes, "empty", "");
	assert_string_equal(m->attributes[0]->key, "http.request.method"); /* span order */
	assert_int_equal(m->dropped_attributes_count, 0);
	assert_non_null(m->status);
	assert_int_equal(m->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_UNSET);

	/* The client span: a local parent, not sampled. */
	m = rs->scope_spans[0]->spans[1];
	check_bytes(m->trace_id, srv->trace_id, 16);
	check_bytes(m->span_id, cli->span_id, 8);
	check_bytes(m->parent_span_id, srv->span_id, 8);
	assert_int_equal(m->flags, 0);
	assert_int_equal(m->kind, KIND_CLIENT);
	assert_true(m->start_time_unix_nano == 5000100000ULL + OFFSET);
	assert_true(m->end_time_unix_nano == 5001100000ULL + OFFSET);
	check_str(m->attributes, m->n_attributes, "server.address", "backend");
	check_int(m->attributes, m->n_attributes, "http.response.status_code", -1);

	/* The error span: status ERROR, no parent. */
	rs = resource_of(req, 200);
	check_str(rs->resource->attributes, rs->resource->n_attributes, "service.name", "api");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "process.executable.name",
		  "python3");
	assert_int_equal(rs->scope_spans[0]->n_spans, 1);
	m = rs->scope_spans[0]->spans[0];
	check_bytes(m->span_id, err->span_id, 8);
	assert_int_equal(m->parent_span_id.len, 0);
	assert_int_equal(m->flags, 0);
	assert_non_null(m->status);
	assert_int_equal(m->status->code,
			 OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
	assert_true(m->start_time_unix_nano == 7000000000ULL + OFFSET);

	/* Unknown process: the SDKs' default service name, no executable. */
	rs = resource_of(req, 300);
	ra = rs->resource->attributes;
	nra = rs->resource->n_attributes;
	check_str(ra, nra, "service.name", "unknown_service");
	check_absent(ra, nra, "process.executable.name");
	check_str(ra, nra, "host.name", "node-1");

	free_traces_req(req);
	free(srv);
	free(cli);
	free(err);
	free(orphan);
}

UNIT_TEST(test_traces_clock)
{
	struct proc_info p = make_proc(7, "", "worker");
	struct span *s = new_span(SPAN_KIND_SERVER, 7, 3, 1000000000000ULL, 10, "GET");
	const struct span *spans[] = { s };
	const struct proc_info *procs[] = { &p };
	TraceRequest *req;
	KeyValue **ra;
	Span *m;

	(void)state;
	/* A negative offset, and no cfg at all. */
	req = encode_traces(spans, procs, 1, NULL, -999999999999LL);
	m = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_true(m->start_time_unix_nano == 1);
	assert_true(m->end_time_unix_nano == 11);
	ra = req->resource_spans[0]->resource->attributes;
	/* No service name: the SDKs' unknown_service:EXE. */
	check_str(ra, req->resource_spans[0]->resource->n_attributes, "service.name",
		  "unknown_service:worker");
	check_absent(ra, req->resource_spans[0]->resource->n_attributes, "host.name");
	check_absent(ra, req->resource_spans[0]->resource->n_attributes, "telemetry.sdk.version");
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->scope->version, "");
	free_traces_req(req);
	free(s);
}

UNIT_TEST(test_traces_grouping)
{
	enum { N = 1000, NPROCS = 7 };
	struct proc_info procs_store[NPROCS + 1];
	const struct span *spans[N];
	const struct proc_info *procs[N];
	size_t seen[NPROCS + 1] = { 0 };
	TraceRequest *req;
	size_t i, j, total = 0;
	char name[32];

	(void)state;
	for (i = 0; i < NPROCS; i++)
		procs_store[i] = make_proc((uint32_t)(1000 - i * 10), "svc", "exe");
	/* pid 1000 again, under another name (PID reuse within a batch): another resource. */
	procs_store[NPROCS] = make_proc(1000, "other", "exe");
	for (i = 0; i < N; i++) {
		struct span *s;

		snprintf(name, sizeof(name), "span %zu", i);
		s = new_span(SPAN_KIND_SERVER, 0, (uint8_t)i, i, 1, name);
		for (j = 0; j < SPAN_MAX_ATTRS; j++)
			span_set_int(s, j % 2 ? "a" : "b", (int64_t)j); /* two keys */
		span_set_str(s, "c", "some value to fill the arena beyond one chunk");
		spans[i] = s;
		procs[i] = &procs_store[(i * 3) % (NPROCS + 1)];
	}
	req = encode_traces(spans, procs, N, NULL, 0);
	assert_int_equal(req->n_resource_spans, NPROCS + 1);
	for (i = 0; i < req->n_resource_spans; i++) {
		ResourceSpans *rs = req->resource_spans[i];
		const AnyValue *pid = find_attr(rs->resource->attributes,
						rs->resource->n_attributes, "process.pid");
		const AnyValue *svc = find_attr(rs->resource->attributes,
						rs->resource->n_attributes, "service.name");
		size_t k, prev = 0;

		assert_non_null(pid);
		if (i)
			assert_true(pid->int_value >=
				    find_attr(req->resource_spans[i - 1]->resource->attributes,
					      req->resource_spans[i - 1]->resource->n_attributes,
					      "process.pid")
					    ->int_value);
		for (k = 0; k < rs->scope_spans[0]->n_spans; k++) {
			Span *m = rs->scope_spans[0]->spans[k];
			size_t idx = strtoul(m->name + 5, NULL, 10);

			/* Each span in its process's resource, in batch order. */
			assert_int_equal(procs[idx]->pid, pid->int_value);
			assert_string_equal(procs[idx]->service_name, svc->string_value);
			assert_true(!k || idx > prev);
			prev = idx;
			assert_true(m->start_time_unix_nano == idx);
			assert_int_equal(m->n_attributes, 3);
			check_int(m->attributes, 3, "a", SPAN_MAX_ATTRS - 1);
			check_int(m->attributes, 3, "b", SPAN_MAX_ATTRS - 2);
			seen[(size_t)(procs[idx] - procs_store)]++;
			total++;
		}
	}
	assert_int_equal(total, N);
	for (i = 0; i <= NPROCS; i++)
		assert_true(seen[i] > 0);
	free_traces_req(req);
	for (i = 0; i < N; i++)
		free((void *)spans[i]);
}

/* A process in a Kubernetes pod: every k8s.* attribute set in its resource; the same pid in two
 * pods (or before and after its metadata arrived) is two resources. */
UNIT_TEST(test_traces_k8s_resource)
{
	struct proc_info bare = make_proc(77, "web", "goserver"), boxed = bare;
	const struct span *spans[2];
	const struct proc_info *procs[2] = { &bare, &boxed };
	TraceRequest *req;
	ResourceSpans *rs = NULL;
	size_t i;

	(void)state;
	snprintf(boxed.k8s.pod_name, sizeof(boxed.k8s.pod_name), "web-7d9f8b6c5d-x2x4q");
	snprintf(boxed.k8s.namespace_name, sizeof(boxed.k8s.namespace_name), "shop");
	snprintf(boxed.k8s.pod_uid, sizeof(boxed.k8s.pod_uid),
		 "6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b");
	snprintf(boxed.k8s.container_name, sizeof(boxed.k8s.container_name), "web");
	snprintf(boxed.k8s.node_name, sizeof(boxed.k8s.node_name), "node-a");
	boxed.k8s.owner_kind = K8S_KIND_REPLICASET;
	snprintf(boxed.k8s.owner_name, sizeof(boxed.k8s.owner_name), "web-7d9f8b6c5d");
	boxed.k8s.workload_kind = K8S_KIND_DEPLOYMENT;
	snprintf(boxed.k8s.workload_name, sizeof(boxed.k8s.workload_name), "web");
	spans[0] = new_span(SPAN_KIND_SERVER, 77, 1, 1, 1, "a");
	spans[1] = new_span(SPAN_KIND_SERVER, 77, 2, 2, 1, "b");
	req = encode_traces(spans, procs, 2, NULL, 0);
	assert_int_equal(req->n_resource_spans, 2);
	for (i = 0; i < 2; i++)
		if (find_attr(req->resource_spans[i]->resource->attributes,
			      req->resource_spans[i]->resource->n_attributes, "k8s.pod.name"))
			rs = req->resource_spans[i];
	assert_non_null(rs);
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.pod.name",
		  "web-7d9f8b6c5d-x2x4q");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.namespace.name",
		  "shop");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.pod.uid",
		  "6a3f2b8e-1c4d-4e5f-9a0b-7c8d9e0f1a2b");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.container.name",
		  "web");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.node.name", "node-a");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.replicaset.name",
		  "web-7d9f8b6c5d");
	check_str(rs->resource->attributes, rs->resource->n_attributes, "k8s.deployment.name",
		  "web");
	check_absent(rs->resource->attributes, rs->resource->n_attributes, "k8s.statefulset.name");
	assert_int_equal(rs->scope_spans[0]->n_spans, 1);
	assert_string_equal(rs->scope_spans[0]->spans[0]->name, "b");
	free_traces_req(req);
	for (i = 0; i < 2; i++)
		free((void *)spans[i]);
}

UNIT_TEST(test_traces_utf8)
{
	struct proc_info p;
	struct span *s = new_span(SPAN_KIND_SERVER, 9, 1, 1, 1, "GET /caf\xc3\xa9\xff");
	const struct span *spans[] = { s };
	const struct proc_info *procs[] = { &p };
	TraceRequest *req;
	KeyValue **ra;
	size_t nra;
	Span *m;

	(void)state;
	/* Names that fill their arrays with no NUL, ending in a cut sequence. */
	memset(&p, 'x', sizeof(p));
	p.pid = 9;
	p.service_name[sizeof(p.service_name) - 1] = (char)0xc3;
	memcpy(p.exe_name, "\xe2\x82\xac", 3); /* the euro sign, then 'x' to the end */
	span_set_str(s, "url.path", "/\xed\xa0\x80/\xf0\x9f\x98\x80");
	req = encode_traces(spans, procs, 1, NULL, 0);
	m = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_string_equal(m->name, "GET /caf\xc3\xa9\xef\xbf\xbd");
	/* A surrogate is three bad bytes; an emoji is fine. */
	check_str(m->attributes, m->n_attributes, "url.path",
		  "/\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd/\xf0\x9f\x98\x80");
	ra = req->resource_spans[0]->resource->attributes;
	nra = req->resource_spans[0]->resource->n_attributes;
	{
		const AnyValue *v = find_attr(ra, nra, "service.name");
		const AnyValue *e = find_attr(ra, nra, "process.executable.name");
		size_t n = sizeof(p.service_name) - 1;

		assert_non_null(v);
		assert_int_equal(strlen(v->string_value), n + 3);
		assert_int_equal(strspn(v->string_value, "x"), n);
		assert_string_equal(v->string_value + n, "\xef\xbf\xbd");
		assert_non_null(e);
		assert_int_equal(strlen(e->string_value), sizeof(p.exe_name));
		assert_memory_equal(e->string_value, "\xe2\x82\xacxxx", 6);
	}
	free_traces_req(req);
	free(s);
}

UNIT_TEST(test_traces_empty_and_bad)
{
	const struct span *none[1] = { NULL };
	TraceRequest *req;
	uint8_t *buf = NULL;
	size_t len = 99;

	(void)state;
	assert_int_equal(otlp_encode_traces(NULL, NULL, 0, NULL, 0, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, buf);
	assert_non_null(req);
	assert_int_equal(req->n_resource_spans, 0);
	free_traces_req(req);
	free(buf);

	assert_int_equal(otlp_encode_traces(NULL, NULL, 1, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces(none, NULL, 1, NULL, 0, &buf, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces(none, NULL, 0, NULL, 0, NULL, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces(none, NULL, 0, NULL, 0, &buf, NULL), -EINVAL);
}

static MetricsRequest *encode_metrics(struct metrics *m, const struct otlp_resource_cfg *cfg,
				      uint64_t now, uint8_t **raw, size_t *rawlen)
{
	MetricsRequest *req;
	uint8_t *buf = NULL;
	size_t len = 12345;

	assert_int_equal(otlp_encode_metrics(m, cfg, now, &buf, &len), 0);
	assert_non_null(buf);
	req = opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__unpack(
		NULL, len, buf);
	assert_non_null(req);
	if (raw) {
		*raw = buf;
		*rawlen = len;
	} else {
		free(buf);
	}
	return req;
}

static ResourceMetrics *service(MetricsRequest *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->n_resource_metrics; i++) {
		const AnyValue *v = find_attr(req->resource_metrics[i]->resource->attributes,
					      req->resource_metrics[i]->resource->n_attributes,
					      "service.name");

		if (v && v->value_case == STRING_VALUE && !strcmp(v->string_value, name))
			return req->resource_metrics[i];
	}
	fail_msg("no resource for service %s", name);
	return NULL;
}

static Metric *metric(ResourceMetrics *rm, const char *name)
{
	size_t i;

	assert_int_equal(rm->n_scope_metrics, 1);
	for (i = 0; i < rm->scope_metrics[0]->n_metrics; i++) {
		if (!strcmp(rm->scope_metrics[0]->metrics[i]->name, name))
			return rm->scope_metrics[0]->metrics[i];
	}
	fail_msg("no metric %s", name);
	return NULL;
}

static void free_metrics_req(MetricsRequest *req)
{
	opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__free_unpacked(
		req, NULL);
}

struct registry {
	struct metrics *m;
	int dur, events, procs, internal;
};

static struct registry build(size_t max_series)
{
	const struct metric_family_def dur = {
		.name = "http_server_request_duration_seconds",
		.help = "Duration of HTTP server requests.",
		.type = METRIC_HISTOGRAM,
		.bounds = bounds,
		.nbounds = ARRAY_SIZE(bounds),
		.otel_name = "http.server.request.duration",
		.unit = "s",
	};
	const struct metric_family_def events = {
		.name = "obsprobe_events_total",
		.help = "Events read.",
		.type = METRIC_COUNTER,
		.otel_name = "obsprobe.events",
		.unit = "{event}",
	};
	const struct metric_family_def procs = {
		.name = "obsprobe_watched_processes",
		.help = "Processes watched.",
		.type = METRIC_GAUGE,
		.otel_name = "obsprobe.watched_processes",
	};
	const struct metric_family_def internal = {
		.name = "internal_total",
		.help = "Not for OTLP.",
		.type = METRIC_COUNTER,
	};
	struct registry r;

	r.m = metrics_new(max_series);
	assert_non_null(r.m);
	r.dur = metrics_register(r.m, &dur);
	r.events = metrics_register(r.m, &events);
	r.procs = metrics_register(r.m, &procs);
	r.internal = metrics_register(r.m, &internal);
	assert_true(r.dur >= 0 && r.events >= 0 && r.procs >= 0 && r.internal >= 0);
	return r;
}

static int observe(struct registry *r, const char *svc, const char *method, const char *status,
		   double v)
{
	const struct metric_label l[] = {
		{ "http.request.method", method },
		{ "http.response.status_code", status, true },
		{ "http.route", "/users/{id}" },
		{ "service.name", svc },
	};

	return metrics_histogram_observe(r->m, r->dur, l, ARRAY_SIZE(l), v);
}

UNIT_TEST(test_metrics_encode)
{
	const struct metric_label extra[] = { { "deployment.environment.name", "prod" },
					      { "service.name", "not-this" } };
	const struct otlp_resource_cfg cfg = {
		.host_name = "node-1",
		.sdk_version = "0.5.0",
		.extra = extra,
		.nextra = ARRAY_SIZE(extra),
	};
	const struct metric_label reason = { "reason", "ringbuf_full" };
	struct registry r = build(10);
	uint64_t before, after, now;
	ResourceMetrics *rm;
	MetricsRequest *req;
	HistogramDataPoint *hp;
	NumberDataPoint *np;
	KeyValue **ra;
	Metric *mt;
	size_t i, nra;

	(void)state;
	before = realtime_ns();
	assert_int_equal(observe(&r, "shop", "GET", "200", 0.004), 0);
	assert_int_equal(observe(&r, "shop", "GET", "200", 0.03), 0);
	assert_int_equal(observe(&r, "shop", "GET", "200", 0.01), 0); /* on a bound */
	assert_int_equal(observe(&r, "shop", "GET", "200", 42), 0);   /* past the last */
	assert_int_equal(observe(&r, "api", "POST", "500", 1), 0);
	assert_int_equal(observe(&r, "api", "GET", "x", 0.2), 0); /* not an int after all */
	assert_int_equal(metrics_counter_add(r.m, r.events, NULL, 0, 7), 0);
	assert_int_equal(metrics_counter_add(r.m, r.events, &reason, 1, 2.5), 0);
	assert_int_equal(metrics_gauge_set(r.m, r.procs, NULL, 0, -3), 0);
	assert_int_equal(metrics_counter_add(r.m, r.internal, NULL, 0, 1), 0);
	after = realtime_ns();
	now = after + 1000;

	req = encode_metrics(r.m, &cfg, now, NULL, NULL);
	assert_int_equal(req->n_resource_metrics, 3);

	/* Every resource: its service, the host, the SDK, the extras; never another service. */
	for (i = 0; i < req->n_resource_metrics; i++) {
		rm = req->resource_metrics[i];
		ra = rm->resource->attributes;
		nra = rm->resource->n_attributes;
		assert_int_equal(nra, 5);
		check_str(ra, nra, "host.name", "node-1");
		check_str(ra, nra, "telemetry.sdk.name", "obsprobe");
		check_str(ra, nra, "telemetry.sdk.version", "0.5.0");
		check_str(ra, nra, "deployment.environment.name", "prod");
		check_absent(ra, nra, "process.pid");
		assert_string_equal(rm->scope_metrics[0]->scope->name, "obsprobe");
		assert_string_equal(rm->scope_metrics[0]->scope->version, "0.5.0");
	}

	/* shop: one histogram series. */
	rm = service(req, "shop");
	assert_int_equal(rm->scope_metrics[0]->n_metrics, 1);
	mt = metric(rm, "http.server.request.duration");
	assert_string_equal(mt->unit, "s");
	assert_string_equal(mt->description, "Duration of HTTP server requests.");
	assert_int_equal(mt->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM);
	assert_int_equal(mt->histogram->aggregation_temporality, CUMULATIVE);
	assert_int_equal(mt->histogram->n_data_points, 1);
	hp = mt->histogram->data_points[0];
	assert_int_equal(hp->n_attributes, 3);
	check_str(hp->attributes, 3, "http.request.method", "GET");
	check_int(hp->attributes, 3, "http.response.status_code", 200);
	check_str(hp->attributes, 3, "http.route", "/users/{id}");
	check_absent(hp->attributes, 3, "service.name");
	assert_true(hp->start_time_unix_nano >= before && hp->start_time_unix_nano <= after);
	assert_true(hp->time_unix_nano == now);
	assert_int_equal(hp->count, 4);
	check_double(hp->sum, 0.004 + 0.03 + 0.01 + 42, 1e-12);
	assert_int_equal(hp->n_explicit_bounds, ARRAY_SIZE(bounds));
	assert_memory_equal(hp->explicit_bounds, bounds, sizeof(bounds));
	assert_int_equal(hp->n_bucket_counts, ARRAY_SIZE(bounds) + 1);
	for (i = 0; i < hp->n_bucket_counts; i++) {
		/* Not cumulative: 0.004 in (,0.005], 0.01 in (0.005,0.01], 0.03 in (0.025,0.05],
		 * 42 in (10,+Inf). */
		uint64_t want = i == 0 || i == 1 || i == 3 || i == ARRAY_SIZE(bounds);

		if (hp->bucket_counts[i] != want)
			fail_msg("bucket %zu: %llu, want %llu", i,
				 (unsigned long long)hp->bucket_counts[i],
				 (unsigned long long)want);
	}

	/* api: two series; a status that is not an integer stays a string. */
	rm = service(req, "api");
	mt = metric(rm, "http.server.request.duration");
	assert_int_equal(mt->histogram->n_data_points, 2);
	for (i = 0; i < 2; i++) {
		hp = mt->histogram->data_points[i];
		if (find_attr(hp->attributes, hp->n_attributes, "http.request.method")
			    ->string_value[0] == 'P') {
			check_int(hp->attributes, hp->n_attributes, "http.response.status_code",
				  500);
			assert_int_equal(hp->count, 1);
			check_double(hp->sum, 1, 0);
			assert_int_equal(hp->bucket_counts[9], 1);
		} else {
			check_str(hp->attributes, hp->n_attributes, "http.response.status_code",
				  "x");
		}
	}

	/* Series without a service.name label: obsprobe's own resource. */
	rm = service(req, "obsprobe");
	assert_int_equal(rm->scope_metrics[0]->n_metrics, 2); /* internal_total is not sent */
	assert_string_equal(rm->scope_metrics[0]->metrics[0]->name, "obsprobe.events");
	assert_string_equal(rm->scope_metrics[0]->metrics[1]->name, "obsprobe.watched_processes");
	mt = metric(rm, "obsprobe.events");
	assert_string_equal(mt->unit, "{event}");
	assert_int_equal(mt->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM);
	assert_int_equal(mt->sum->aggregation_temporality, CUMULATIVE);
	assert_true(mt->sum->is_monotonic);
	assert_int_equal(mt->sum->n_data_points, 2);
	/* In the exposition's order: no labels first. */
	np = mt->sum->data_points[0];
	assert_int_equal(np->n_attributes, 0);
	assert_int_equal(np->value_case, AS_INT);
	assert_int_equal(np->as_int, 7);
	assert_true(np->time_unix_nano == now);
	assert_true(np->start_time_unix_nano >= before && np->start_time_unix_nano <= after);
	np = mt->sum->data_points[1];
	check_str(np->attributes, np->n_attributes, "reason", "ringbuf_full");
	assert_int_equal(np->value_case, AS_DOUBLE);
	check_double(np->as_double, 2.5, 0);
	mt = metric(rm, "obsprobe.watched_processes");
	assert_string_equal(mt->unit, "");
	assert_int_equal(mt->data_case, OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE);
	assert_int_equal(mt->gauge->n_data_points, 1);
	assert_int_equal(mt->gauge->data_points[0]->value_case, AS_INT);
	assert_int_equal(mt->gauge->data_points[0]->as_int, -3);
	free_metrics_req(req);

	/* Start times stay; values and the end time move. */
	assert_int_equal(observe(&r, "shop", "GET", "200", 1), 0);
	req = encode_metrics(r.m, &cfg, now + 5, NULL, NULL);
	mt = metric(service(req, "shop"), "http.server.request.duration");
	hp = mt->histogram->data_points[0];
	assert_int_equal(hp->count, 5);
	assert_true(hp->time_unix_nano == now + 5);
	assert_true(hp->start_time_unix_nano >= before && hp->start_time_unix_nano <= after);
	free_metrics_req(req);
	metrics_free(r.m);
}

UNIT_TEST(test_metrics_overflow)
{
	struct registry r = build(2);
	ResourceMetrics *rm;
	MetricsRequest *req;
	HistogramDataPoint *hp;
	Metric *mt;
	size_t i, nover = 0;

	(void)state;
	/* Three label sets, room for two: the third goes to the overflow series, which has no
	 * service.name and so lands in obsprobe's own resource. */
	assert_int_equal(observe(&r, "a", "GET", "200", 0.1), 0);
	assert_int_equal(observe(&r, "b", "GET", "200", 0.1), 0);
	assert_int_equal(observe(&r, "c", "GET", "200", 0.1), 0);
	assert_int_equal(observe(&r, "c", "PUT", "201", 0.3), 0);
	req = encode_metrics(r.m, NULL, 1, NULL, NULL);
	assert_int_equal(req->n_resource_metrics, 3);
	service(req, "a");
	service(req, "b");
	rm = service(req, "obsprobe");
	/* No cfg: just the service and the SDK name. */
	assert_int_equal(rm->resource->n_attributes, 2);
	mt = metric(rm, "http.server.request.duration");
	assert_int_equal(mt->histogram->n_data_points, 1);
	hp = mt->histogram->data_points[0];
	assert_int_equal(hp->n_attributes, 1);
	check_bool(hp->attributes, 1, "otel.metric.overflow", true);
	assert_int_equal(hp->count, 2);
	check_double(hp->sum, 0.4, 1e-12);
	for (i = 0; i < hp->n_bucket_counts; i++)
		nover += hp->bucket_counts[i];
	assert_int_equal(nover, 2);
	free_metrics_req(req);
	metrics_free(r.m);
}

UNIT_TEST(test_metrics_zero_sum)
{
	static const uint8_t zero_sum[] = { 0x29, 0, 0, 0, 0, 0, 0, 0, 0 }; /* field 5, fixed64 */
	struct registry r = build(10);
	MetricsRequest *req;
	HistogramDataPoint *hp;
	uint8_t *raw;
	size_t len, i, found = 0;

	(void)state;
	/* A sum of 0 is still a sum ("optional double sum" upstream): it must be on the wire. */
	assert_int_equal(observe(&r, "a", "GET", "200", 0), 0);
	req = encode_metrics(r.m, NULL, 1, &raw, &len);
	hp = metric(service(req, "a"), "http.server.request.duration")->histogram->data_points[0];
	assert_int_equal(hp->count, 1);
	assert_true(hp->sum == 0);
	assert_int_equal(hp->bucket_counts[0], 1);
	for (i = 0; i + sizeof(zero_sum) <= len; i++)
		found += !memcmp(raw + i, zero_sum, sizeof(zero_sum));
	assert_int_equal(found, 1);
	free(raw);
	free_metrics_req(req);
	metrics_free(r.m);
}

UNIT_TEST(test_metrics_empty)
{
	struct metrics *m = metrics_new(10);
	struct registry r = build(10);
	MetricsRequest *req;
	uint8_t *buf = NULL;
	size_t len = 1;

	(void)state;
	/* Nothing registered; then only families without otel_name recorded. */
	req = encode_metrics(m, NULL, 1, NULL, NULL);
	assert_int_equal(req->n_resource_metrics, 0);
	free_metrics_req(req);
	assert_int_equal(metrics_counter_add(r.m, r.internal, NULL, 0, 1), 0);
	assert_int_equal(otlp_encode_metrics(r.m, NULL, 1, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);

	assert_int_equal(otlp_encode_metrics(NULL, NULL, 1, &buf, &len), -EINVAL);
	assert_int_equal(otlp_encode_metrics(m, NULL, 1, NULL, &len), -EINVAL);
	assert_int_equal(otlp_encode_metrics(m, NULL, 1, &buf, NULL), -EINVAL);
	metrics_free(m);
	metrics_free(r.m);
}

UNIT_TEST(test_metrics_many_services)
{
	enum { NSVC = 50 };
	struct registry r = build(1000);
	MetricsRequest *req;
	char svc[16];
	size_t i, total = 0;

	(void)state;
	for (i = 0; i < 3 * NSVC; i++) {
		snprintf(svc, sizeof(svc), "s%zu", i % NSVC);
		assert_int_equal(observe(&r, svc, i < NSVC ? "GET" : "PUT", "200", 0.1), 0);
	}
	req = encode_metrics(r.m, NULL, 1, NULL, NULL);
	assert_int_equal(req->n_resource_metrics, NSVC);
	for (i = 0; i < NSVC; i++) {
		Metric *mt;

		snprintf(svc, sizeof(svc), "s%zu", i);
		mt = metric(service(req, svc), "http.server.request.duration");
		assert_int_equal(mt->histogram->n_data_points, 2);
		total += mt->histogram->data_points[0]->count;
		total += mt->histogram->data_points[1]->count;
	}
	assert_int_equal(total, 3 * NSVC);
	free_metrics_req(req);
	metrics_free(r.m);
}

/* Log records: strings go into the record's arena as the log pipeline puts them there. */
static uint16_t log_put(struct log_record *r, const char *str)
{
	size_t n = strlen(str) + 1;
	uint16_t off = (uint16_t)r->arena_used;

	assert_true(r->arena_used + n <= sizeof(r->arena));
	memcpy(r->arena + off, str, n);
	r->arena_used += n;
	return off;
}

static struct log_attr *log_attr(struct log_record *r, const char *key, enum log_value_type t)
{
	struct log_attr *a;

	assert_true(r->nattrs < LOG_MAX_ATTRS);
	a = &r->attrs[r->nattrs++];
	memset(a, 0, sizeof(*a));
	a->koff = log_put(r, key);
	a->type = t;
	return a;
}

static struct log_record *new_log(uint32_t pid, uint64_t ts_ns, uint8_t stream, const char *body)
{
	struct log_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->pid = r->tid = pid;
	r->ts_ns = ts_ns;
	r->stream = stream;
	r->body_off = log_put(r, body);
	return r;
}

static LogsRequest *encode_logs(const struct log_record *const *recs,
				const struct proc_info *const *procs, size_t n,
				const struct otlp_resource_cfg *cfg, int64_t offset)
{
	LogsRequest *req;
	uint8_t *buf = NULL;
	size_t len = 12345;

	assert_int_equal(otlp_encode_logs(recs, procs, n, cfg, offset, &buf, &len), 0);
	assert_non_null(buf);
	req = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
		NULL, len, buf);
	free(buf);
	assert_non_null(req);
	return req;
}

static ResourceLogs *log_resource_of(LogsRequest *req, int64_t pid)
{
	size_t i;

	for (i = 0; i < req->n_resource_logs; i++) {
		const AnyValue *v = find_attr(req->resource_logs[i]->resource->attributes,
					      req->resource_logs[i]->resource->n_attributes,
					      "process.pid");

		if (v && v->value_case == INT_VALUE && v->int_value == pid)
			return req->resource_logs[i];
	}
	fail_msg("no resource for pid %lld", (long long)pid);
	return NULL;
}

/* The same attributes in the same order: one resource builder for spans and logs. */
static void check_same_attrs(KeyValue *const *a, size_t na, KeyValue *const *b, size_t nb)
{
	size_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		assert_string_equal(a[i]->key, b[i]->key);
		assert_int_equal(a[i]->value->value_case, b[i]->value->value_case);
		if (a[i]->value->value_case == STRING_VALUE)
			assert_string_equal(a[i]->value->string_value, b[i]->value->string_value);
		else
			assert_true(a[i]->value->int_value == b[i]->value->int_value);
	}
}

UNIT_TEST(test_logs)
{
	const struct metric_label extra[] = {
		{ "deployment.environment.name", "prod" },
		{ "service.name", "not-this" },
	};
	const struct otlp_resource_cfg cfg = {
		.host_name = "node-1",
		.sdk_version = "0.5.0",
		.extra = extra,
		.nextra = ARRAY_SIZE(extra),
	};
	struct proc_info shop = make_proc(100, "shop", "nginx"),
			 api = make_proc(200, "api", "python3");
	const struct proc_info *procs[4], *sprocs[2];
	struct log_record *plain, *json, *err, *other;
	const struct log_record *recs[4];
	const struct span *spans[2];
	struct span *s1, *s2;
	TraceRequest *treq;
	ResourceLogs *rl;
	LogsRequest *req;
	KeyValue **ra;
	struct log_attr *la;
	const AnyValue *v;
	LogRecord *m;
	size_t nra;

	(void)state;
	snprintf(shop.container_id, sizeof(shop.container_id), "%064x", 7);
	/* A plain stdout line of a request's thread, no time or severity of its own. */
	plain = new_log(100, 5000000000ULL, LOG_STREAM_STDOUT, "GET /users/42 200");
	plain->has_span = true;
	plain->trace_flags = 0x01;
	fill_id(plain->trace_id, 16, 1);
	fill_id(plain->span_id, 8, 101);
	/* A JSON line with its own time, a severity and typed fields, outside any request. */
	json = new_log(100, 5000100000ULL, LOG_STREAM_STDOUT, "cache miss");
	json->time_unix_ns = 1767225600123000000ULL;
	json->severity = 13;
	snprintf(json->severity_text, sizeof(json->severity_text), "warn");
	json->json = true;
	la = log_attr(json, "user", LOG_VAL_STR);
	la->soff = log_put(json, "alice");
	la = log_attr(json, "attempt", LOG_VAL_INT);
	la->i = -3;
	la = log_attr(json, "ratio", LOG_VAL_DOUBLE);
	la->d = 0.25;
	la = log_attr(json, "cached", LOG_VAL_BOOL);
	la->i = 1;
	la = log_attr(json, "fresh", LOG_VAL_BOOL);
	la->i = 0;
	/* stderr of another process, serving a request whose trace is not sampled. */
	err = new_log(200, 7000000000ULL, LOG_STREAM_STDERR, "Traceback (most recent call last):");
	err->severity = 17;
	snprintf(err->severity_text, sizeof(err->severity_text), "ERROR");
	err->has_span = true;
	err->trace_flags = 0x00;
	fill_id(err->trace_id, 16, 50);
	fill_id(err->span_id, 8, 150);
	/* A record whose span fields are set but has_span is not: they stay out. */
	other = new_log(100, 6000000000ULL, LOG_STREAM_STDOUT, "later");
	fill_id(other->trace_id, 16, 9);
	fill_id(other->span_id, 8, 9);
	other->trace_flags = 1;
	other->truncated = true;

	/* Interleaved, as a batch would be. */
	recs[0] = err, procs[0] = &api;
	recs[1] = plain, procs[1] = &shop;
	recs[2] = json, procs[2] = &shop;
	recs[3] = other, procs[3] = &shop;
	req = encode_logs(recs, procs, 4, &cfg, OFFSET);

	/* One resource per process, by pid, with its records in batch order. */
	assert_int_equal(req->n_resource_logs, 2);
	assert_ptr_equal(req->resource_logs[0], log_resource_of(req, 100));
	assert_ptr_equal(req->resource_logs[1], log_resource_of(req, 200));

	rl = log_resource_of(req, 100);
	ra = rl->resource->attributes;
	nra = rl->resource->n_attributes;
	check_str(ra, nra, "service.name", "shop");
	check_int(ra, nra, "process.pid", 100);
	check_str(ra, nra, "process.executable.name", "nginx");
	check_str(ra, nra, "container.id", shop.container_id);
	check_str(ra, nra, "host.name", "node-1");
	check_str(ra, nra, "telemetry.sdk.name", "obsprobe");
	check_str(ra, nra, "telemetry.sdk.version", "0.5.0");
	check_str(ra, nra, "deployment.environment.name", "prod");
	assert_int_equal(nra, 8);
	assert_int_equal(rl->n_scope_logs, 1);
	assert_string_equal(rl->scope_logs[0]->scope->name, "obsprobe");
	assert_string_equal(rl->scope_logs[0]->scope->version, "0.5.0");
	assert_string_equal(rl->schema_url, "");
	assert_int_equal(rl->scope_logs[0]->n_log_records, 3);

	/* The plain line: write time for both times, no severity, the span it was written in. */
	m = rl->scope_logs[0]->log_records[0];
	assert_true(m->time_unix_nano == 5000000000ULL + OFFSET);
	assert_true(m->observed_time_unix_nano == 5000000000ULL + OFFSET);
	assert_int_equal(m->severity_number, 0);
	assert_string_equal(m->severity_text, "");
	assert_non_null(m->body);
	assert_int_equal(m->body->value_case, STRING_VALUE);
	assert_string_equal(m->body->string_value, "GET /users/42 200");
	assert_int_equal(m->n_attributes, 1);
	check_str(m->attributes, m->n_attributes, "log.iostream", "stdout");
	assert_int_equal(m->dropped_attributes_count, 0);
	check_bytes(m->trace_id, plain->trace_id, 16);
	check_bytes(m->span_id, plain->span_id, 8);
	assert_int_equal(m->flags, 1);
	assert_string_equal(m->event_name, "");

	/* The JSON line: its own time, its severity, every field with its type, in order. */
	m = rl->scope_logs[0]->log_records[1];
	assert_true(m->time_unix_nano == 1767225600123000000ULL);
	assert_true(m->observed_time_unix_nano == 5000100000ULL + OFFSET);
	assert_int_equal(m->severity_number,
			 OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN);
	assert_string_equal(m->severity_text, "warn");
	assert_string_equal(m->body->string_value, "cache miss");
	assert_int_equal(m->n_attributes, 6);
	check_str(m->attributes, m->n_attributes, "user", "alice");
	check_int(m->attributes, m->n_attributes, "attempt", -3);
	v = find_attr(m->attributes, m->n_attributes, "ratio");
	assert_non_null(v);
	assert_int_equal(v->value_case, DOUBLE_VALUE);
	check_double(v->double_value, 0.25, 0);
	check_bool(m->attributes, m->n_attributes, "cached", true);
	check_bool(m->attributes, m->n_attributes, "fresh", false);
	check_str(m->attributes, m->n_attributes, "log.iostream", "stdout");
	assert_string_equal(m->attributes[0]->key, "user");
	assert_string_equal(m->attributes[5]->key, "log.iostream");
	assert_int_equal(m->trace_id.len, 0);
	assert_int_equal(m->span_id.len, 0);
	assert_int_equal(m->flags, 0);

	/* No span: no ids, no flags, whatever the fields hold; truncation is not an attribute. */
	m = rl->scope_logs[0]->log_records[2];
	assert_string_equal(m->body->string_value, "later");
	assert_int_equal(m->trace_id.len, 0);
	assert_int_equal(m->span_id.len, 0);
	assert_int_equal(m->flags, 0);
	assert_int_equal(m->n_attributes, 1);

	/* The other process: stderr, ERROR, an unsampled span (flags 0, ids still there). */
	rl = log_resource_of(req, 200);
	check_str(rl->resource->attributes, rl->resource->n_attributes, "service.name", "api");
	assert_int_equal(rl->scope_logs[0]->n_log_records, 1);
	m = rl->scope_logs[0]->log_records[0];
	assert_true(m->time_unix_nano == 7000000000ULL + OFFSET);
	assert_int_equal(m->severity_number,
			 OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR);
	assert_string_equal(m->severity_text, "ERROR");
	assert_string_equal(m->body->string_value, "Traceback (most recent call last):");
	check_str(m->attributes, m->n_attributes, "log.iostream", "stderr");
	check_bytes(m->trace_id, err->trace_id, 16);
	check_bytes(m->span_id, err->span_id, 8);
	assert_int_equal(m->flags, 0);

	/* The resources are the very ones the span encoder gives these processes. */
	s1 = new_span(SPAN_KIND_SERVER, 100, 1, 1, 1, "GET");
	s2 = new_span(SPAN_KIND_SERVER, 200, 2, 1, 1, "GET");
	spans[0] = s1, sprocs[0] = &shop;
	spans[1] = s2, sprocs[1] = &api;
	treq = encode_traces(spans, sprocs, 2, &cfg, OFFSET);
	assert_int_equal(treq->n_resource_spans, 2);
	check_same_attrs(req->resource_logs[0]->resource->attributes,
			 req->resource_logs[0]->resource->n_attributes,
			 treq->resource_spans[0]->resource->attributes,
			 treq->resource_spans[0]->resource->n_attributes);
	check_same_attrs(req->resource_logs[1]->resource->attributes,
			 req->resource_logs[1]->resource->n_attributes,
			 treq->resource_spans[1]->resource->attributes,
			 treq->resource_spans[1]->resource->n_attributes);

	free_traces_req(treq);
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);
	free(s1);
	free(s2);
	free(plain);
	free(json);
	free(err);
	free(other);
}

UNIT_TEST(test_logs_edges)
{
	struct log_record *r = new_log(300, 10, 0, "caf\xc3\xa9 \xff bad"), *r2;
	const struct log_record *recs[1] = { r };
	struct log_attr *la;
	LogsRequest *req;
	uint8_t *buf = NULL;
	size_t len = 1;
	LogRecord *m;

	(void)state;
	/* No process known, no stream, a severity out of range, invalid UTF-8 and a bad offset. */
	r->severity = 99;
	la = log_attr(r, "k\xfe", LOG_VAL_STR);
	la->soff = LOG_ARENA + 5;
	req = encode_logs(recs, NULL, 1, NULL, -5);
	assert_int_equal(req->n_resource_logs, 1);
	check_str(req->resource_logs[0]->resource->attributes,
		  req->resource_logs[0]->resource->n_attributes, "service.name", "unknown_service");
	check_int(req->resource_logs[0]->resource->attributes,
		  req->resource_logs[0]->resource->n_attributes, "process.pid", 300);
	m = req->resource_logs[0]->scope_logs[0]->log_records[0];
	assert_true(m->time_unix_nano == 5);
	assert_true(m->observed_time_unix_nano == 5);
	assert_int_equal(m->severity_number, 0);
	assert_string_equal(m->body->string_value, "caf\xc3\xa9 \xef\xbf\xbd bad");
	assert_int_equal(m->n_attributes, 1);
	assert_string_equal(m->attributes[0]->key, "k\xef\xbf\xbd");
	assert_string_equal(m->attributes[0]->value->string_value, "");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);

	/* A string ends where the arena's used part does: queues copy no further. */
	r2 = new_log(300, 10, LOG_STREAM_STDOUT, "abcdef");
	la = log_attr(r2, "key", LOG_VAL_STR);
	la->soff = 2;
	r2->arena_used = 4;
	recs[0] = r2;
	req = encode_logs(recs, NULL, 1, NULL, 0);
	m = req->resource_logs[0]->scope_logs[0]->log_records[0];
	assert_string_equal(m->body->string_value, "abcd");
	assert_int_equal(m->n_attributes, 2);
	assert_string_equal(m->attributes[0]->key, ""); /* at 7, past the used part */
	assert_string_equal(m->attributes[0]->value->string_value, "cd");
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
											      NULL);
	free(r2);
	recs[0] = r;

	/* An empty batch is an empty request; bad arguments are refused. */
	assert_int_equal(otlp_encode_logs(NULL, NULL, 0, NULL, 0, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	assert_int_equal(otlp_encode_logs(NULL, NULL, 1, NULL, 0, &buf, &len), -EINVAL);
	recs[0] = NULL;
	assert_int_equal(otlp_encode_logs(recs, NULL, 1, NULL, 0, &buf, &len), -EINVAL);
	recs[0] = r;
	assert_int_equal(otlp_encode_logs(recs, NULL, 1, NULL, 0, NULL, &len), -EINVAL);
	free(r);
}

UNIT_MAIN(NULL, otlp_kept_free)
