// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every field otlp_encode_traces() writes, read back with protobuf-c's generated decoder; and
 * each body packed again by protobuf-c from what it decoded, which must give the very same
 * bytes: the writer sends what protobuf-c would, field order and omissions included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "unit.h"
#include "otlp_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp_encode.h"
#include "pipeline/semconv.h"
#include "pipeline/span.h"

typedef Opentelemetry__Proto__Trace__V1__Span__Event SpanEvent;

#define SPAN_KIND(k) OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_##k
#define STATUS(c) OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_##c

#define OFF 1700000000000000000LL /* a realtime offset */

static void check_ids(const Span *m, const struct span *s)
{
	check_bytes(m->trace_id, s->trace_id, sizeof(s->trace_id));
	check_bytes(m->span_id, s->span_id, sizeof(s->span_id));
	if (s->has_parent)
		check_bytes(m->parent_span_id, s->parent_id, sizeof(s->parent_id));
	else
		assert_int_equal(m->parent_span_id.len, 0);
}

UNIT_TEST(test_span_every_field)
{
	struct proc_info p = make_proc(10, "svc", "exe");
	struct span *srv = new_span(SPAN_KIND_SERVER, 10, 1, 1001, 1000, "GET /users/{id}");
	struct span *cli = new_span(SPAN_KIND_CLIENT, 10, 2, 1002, 1000, "GET");
	struct span *other = new_span((enum span_kind)0, 10, 3, 1003, 1000, "work");
	const struct span *spans[] = { srv, cli, other };
	const struct proc_info *procs[] = { &p, &p, &p };
	const SpanEvent *ev;
	TraceRequest *req;
	const Span *m;

	(void)state;
	srv->has_parent = true;
	memset(srv->parent_id, 0xab, sizeof(srv->parent_id));
	span_set_str(srv, "http.request.method", "GET");
	span_set_str(srv, "empty", "");
	span_set_int(srv, "zero", 0);
	span_set_int(srv, "min", INT64_MIN);
	span_set_int(srv, "max", INT64_MAX);
	span_set_str(srv, "bad",
		     "a\xff"
		     "b\xc3");
	span_set_str(srv, "euro", "\xe2\x82\xac");
	span_set_exception(srv, 777, "ValueError", "bad value", "frame 1\nframe 2\n", true);
	cli->has_parent = true;
	memcpy(cli->parent_id, srv->span_id, sizeof(cli->parent_id));
	span_set_int(cli, "http.response.status_code", 503);
	cli->error = true; /* an error without an exception */

	req = encode_traces(spans, procs, ARRAY_SIZE(spans), NULL, OFF);
	assert_int_equal(req->n_resource_spans, 1);
	assert_int_equal(req->resource_spans[0]->n_scope_spans, 1);
	assert_string_equal(req->resource_spans[0]->schema_url, "");
	assert_string_equal(req->resource_spans[0]->scope_spans[0]->schema_url, "");
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->n_spans, 3);

	m = req->resource_spans[0]->scope_spans[0]->spans[0];
	check_ids(m, srv);
	assert_string_equal(m->trace_state, "");
	assert_string_equal(m->name, "GET /users/{id}");
	assert_int_equal(m->kind, SPAN_KIND(SERVER));
	assert_true(m->start_time_unix_nano == 1001 + OFF);
	assert_true(m->end_time_unix_nano == 2001 + OFF);
	assert_int_equal(m->flags, 0);
	assert_int_equal(m->n_attributes, 7); /* in the span's order */
	is_str(m->attributes[0], "http.request.method", "GET");
	is_str(m->attributes[1], "empty", "");
	is_int(m->attributes[2], "zero", 0);
	is_int(m->attributes[3], "min", INT64_MIN);
	is_int(m->attributes[4], "max", INT64_MAX);
	is_str(m->attributes[5], "bad",
	       "a\xef\xbf\xbd"
	       "b\xef\xbf\xbd");
	is_str(m->attributes[6], "euro", "\xe2\x82\xac");
	assert_int_equal(m->dropped_attributes_count, 0);
	assert_int_equal(m->n_events, 1);
	ev = m->events[0];
	assert_string_equal(ev->name, "exception");
	assert_true(ev->time_unix_nano == 777 + OFF);
	assert_int_equal(ev->n_attributes, 4);
	is_str(ev->attributes[0], "exception.type", "ValueError");
	is_str(ev->attributes[1], "exception.message", "bad value");
	is_str(ev->attributes[2], "exception.stacktrace", "frame 1\nframe 2\n");
	is_bool(ev->attributes[3], "exception.escaped", true);
	assert_int_equal(ev->dropped_attributes_count, 0);
	assert_int_equal(m->dropped_events_count, 0);
	assert_non_null(m->status);
	assert_int_equal(m->status->code, STATUS(ERROR));
	assert_string_equal(m->status->message, "");

	m = req->resource_spans[0]->scope_spans[0]->spans[1];
	check_ids(m, cli);
	assert_int_equal(m->kind, SPAN_KIND(CLIENT));
	assert_int_equal(m->n_attributes, 1);
	is_int(m->attributes[0], "http.response.status_code", 503);
	assert_int_equal(m->n_events, 0);
	assert_int_equal(m->status->code, STATUS(ERROR));

	/* neither SERVER nor CLIENT: INTERNAL; no parent, attribute, event or error */
	m = req->resource_spans[0]->scope_spans[0]->spans[2];
	check_ids(m, other);
	assert_int_equal(m->kind, SPAN_KIND(INTERNAL));
	assert_int_equal(m->n_attributes, 0);
	assert_int_equal(m->n_events, 0);
	assert_non_null(m->status); /* always there, UNSET */
	assert_int_equal(m->status->code, STATUS(UNSET));
	free_traces_req(req);
	free(srv);
	free(cli);
	free(other);
}

UNIT_TEST(test_exception_parts)
{
	char msg[600], stack[2000];
	struct span *bare = new_span(SPAN_KIND_SERVER, 1, 1, 1001, 1000, "a");
	struct span *big = new_span(SPAN_KIND_SERVER, 1, 2, 1002, 1000, "b");
	const struct span *spans[] = { bare, big };
	const SpanEvent *ev;
	TraceRequest *req;
	size_t i;

	(void)state;
	/* no message, no stack, did not escape; at a time that reads 0 after the offset */
	span_set_exception(bare, (uint64_t)-OFF, "T\xfe", "", NULL, false);
	/* message and stack that fill the exception arena (the stack cut at a line's end):
	 * KeyValues longer than 127 bytes */
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	for (i = 0; i + 1 < sizeof(stack); i++)
		stack[i] = i % 50 == 49 ? '\n' : 's';
	stack[sizeof(stack) - 1] = '\0';
	span_set_exception(big, 5, "RuntimeError", msg, stack, true);

	req = encode_traces(spans, NULL, ARRAY_SIZE(spans), NULL, OFF);
	ev = req->resource_spans[0]->scope_spans[0]->spans[0]->events[0];
	assert_true(ev->time_unix_nano == 0);
	assert_int_equal(ev->n_attributes, 2);
	is_str(ev->attributes[0], "exception.type", "T\xef\xbf\xbd");
	is_bool(ev->attributes[1], "exception.escaped", false);
	assert_int_equal(req->resource_spans[0]->scope_spans[0]->spans[0]->status->code,
			 STATUS(ERROR));

	ev = req->resource_spans[0]->scope_spans[0]->spans[1]->events[0];
	assert_int_equal(ev->n_attributes, 4);
	is_str(ev->attributes[0], "exception.type", "RuntimeError");
	is_str(ev->attributes[1], "exception.message", big->exc + big->exc_msg_off);
	is_str(ev->attributes[2], "exception.stacktrace", big->exc + big->exc_stack_off);
	assert_true(strlen(ev->attributes[1]->value->string_value) > 500);
	is_bool(ev->attributes[3], "exception.escaped", true);
	free_traces_req(req);
	free(bare);
	free(big);
}

UNIT_TEST(test_strings_at_their_limits)
{
	static const char long_key[] =
		"a.key.longer.than.a.one.byte.length.allows.for.the.whole.key.value.pair."
		"which.takes.the.field.by.field.path.of.the.writer.rather.than.the.short.one.x";
	char value[SPAN_ARENA * 2], want[SPAN_NAME_MAX + 8];
	struct span *full = new_span(SPAN_KIND_SERVER, 1, 1, 1001, 1000, "");
	struct span *cut = new_span(SPAN_KIND_SERVER, 1, 2, 1002, 1000, "");
	struct span *exact = new_span(SPAN_KIND_SERVER, 1, 3, 1003, 1000, "");
	struct span *many = new_span(SPAN_KIND_SERVER, 1, 4, 1004, 1000, "many");
	const struct span *spans[] = { full, cut, exact, many };
	const Span *m;
	TraceRequest *req;
	char key[SPAN_MAX_ATTRS + 1][8];
	size_t i;

	(void)state;
	/* a name that fills its array with no NUL, one cut in a sequence, one just fitting */
	memset(full->name, 'n', sizeof(full->name));
	memset(cut->name, 'c', sizeof(cut->name));
	memcpy(cut->name + sizeof(cut->name) - 2, "\xe2\x82", 2);
	memset(exact->name, 'e', sizeof(exact->name) - 1);
	exact->name[sizeof(exact->name) - 1] = '\0';
	/* a value as big as the arena takes, then one that finds it full, and a long key */
	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	span_set_str(full, "big", value);
	span_set_str(full, "late", "no room left");
	span_set_str(full, long_key, "nor here");
	/* more attributes than a span keeps */
	for (i = 0; i <= SPAN_MAX_ATTRS; i++) {
		snprintf(key[i], sizeof(key[i]), "k%zu", i);
		span_set_int(many, key[i], (int64_t)i * 1000000);
	}

	req = encode_traces(spans, NULL, ARRAY_SIZE(spans), NULL, OFF);
	m = req->resource_spans[0]->scope_spans[0]->spans[0];
	assert_int_equal(strlen(m->name), SPAN_NAME_MAX);
	assert_int_equal(strspn(m->name, "n"), SPAN_NAME_MAX);
	assert_int_equal(m->n_attributes, 3);
	assert_string_equal(m->attributes[0]->key, "big");
	assert_int_equal(strlen(m->attributes[0]->value->string_value), SPAN_ARENA - 2);
	assert_int_equal(strspn(m->attributes[0]->value->string_value, "v"), SPAN_ARENA - 2);
	is_str(m->attributes[1], "late", ""); /* the arena was full */
	is_str(m->attributes[2], long_key, "");

	m = req->resource_spans[0]->scope_spans[0]->spans[1];
	memset(want, 'c', SPAN_NAME_MAX - 2);
	memcpy(want + SPAN_NAME_MAX - 2, "\xef\xbf\xbd\xef\xbf\xbd", 7);
	assert_string_equal(m->name, want);

	m = req->resource_spans[0]->scope_spans[0]->spans[2];
	assert_int_equal(strlen(m->name), SPAN_NAME_MAX - 1);

	m = req->resource_spans[0]->scope_spans[0]->spans[3];
	assert_int_equal(m->n_attributes, SPAN_MAX_ATTRS);
	for (i = 0; i < SPAN_MAX_ATTRS; i++)
		is_int(m->attributes[i], key[i], (int64_t)i * 1000000);
	free_traces_req(req);
	free(full);
	free(cut);
	free(exact);
	free(many);
}

/* Process names that fill their arrays, and every Kubernetes attribute at its longest. */
UNIT_TEST(test_resource_at_its_limits)
{
	struct proc_info p = make_proc(77, "", "");
	struct span *s = new_span(SPAN_KIND_SERVER, 77, 1, 1001, 1000, "GET");
	const struct span *spans[] = { s };
	const struct proc_info *procs[] = { &p };
	KeyValue **ra;
	TraceRequest *req;
	size_t nra, i;
	char want[K8S_NAME_MAX];

	(void)state;
	memset(p.service_name, 's', sizeof(p.service_name));
	memset(p.exe_name, 'e', sizeof(p.exe_name));
	memset(p.container_id, 'c', sizeof(p.container_id) - 1);
	memset(p.k8s.pod_name, 'p', sizeof(p.k8s.pod_name) - 1);
	memset(p.k8s.namespace_name, 'n', sizeof(p.k8s.namespace_name) - 1);
	memset(p.k8s.pod_uid, 'u', sizeof(p.k8s.pod_uid) - 1);
	memset(p.k8s.node_name, 'o', sizeof(p.k8s.node_name) - 1);
	memset(p.k8s.container_name, 'k', sizeof(p.k8s.container_name) - 1);
	p.k8s.owner_kind = K8S_KIND_REPLICASET;
	memset(p.k8s.owner_name, 'r', sizeof(p.k8s.owner_name) - 1);
	p.k8s.workload_kind = K8S_KIND_DEPLOYMENT;
	memset(p.k8s.workload_name, 'w', sizeof(p.k8s.workload_name) - 1);

	req = encode_traces(spans, procs, 1, NULL, OFF);
	ra = req->resource_spans[0]->resource->attributes;
	nra = req->resource_spans[0]->resource->n_attributes;
	assert_int_equal(nra, 4 + 7 + 1); /* own, pod, telemetry.sdk.name */
	assert_int_equal(strlen(ra[0]->value->string_value), sizeof(p.service_name));
	assert_int_equal(strspn(ra[0]->value->string_value, "s"), sizeof(p.service_name));
	is_int(ra[1], "process.pid", 77);
	assert_string_equal(ra[2]->key, "process.executable.name");
	assert_int_equal(strlen(ra[2]->value->string_value), sizeof(p.exe_name));
	is_str(ra[3], "container.id", p.container_id);
	is_str(ra[4], "k8s.namespace.name", p.k8s.namespace_name);
	is_str(ra[5], "k8s.pod.name", p.k8s.pod_name);
	is_str(ra[6], "k8s.pod.uid", p.k8s.pod_uid);
	is_str(ra[7], "k8s.container.name", p.k8s.container_name);
	is_str(ra[8], "k8s.node.name", p.k8s.node_name);
	memset(want, 'r', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	is_str(ra[9], "k8s.replicaset.name", want);
	memset(want, 'w', sizeof(want) - 1);
	is_str(ra[10], "k8s.deployment.name", want);
	is_str(ra[11], "telemetry.sdk.name", "obsprobe");
	for (i = 0; i < nra; i++)
		assert_true(ra[i]->value->value_case == STRING_VALUE || i == 1);
	free_traces_req(req);
	free(s);
}

/* Empty names and keys, an unknown process, a zero time, a configuration of empty strings. */
UNIT_TEST(test_empty_and_unknown)
{
	const struct otlp_resource_cfg cfg = { .host_name = "", .sdk_version = "" };
	struct proc_info noname = make_proc(3, "", ""), exe_only = make_proc(4, "", "worker");
	struct span *a = new_span(SPAN_KIND_SERVER, 3, 1, 1001, 1000, "");
	struct span *b = new_span(SPAN_KIND_SERVER, 4, 2, 1002, 1000, "b");
	struct span *c = new_span(SPAN_KIND_SERVER, 5, 3, 1003, 1000, "c");
	const struct span *spans[] = { c, b, a };
	const struct proc_info *procs[] = { NULL, &exe_only, &noname };
	const ResourceSpans *rs;
	const Span *m;
	TraceRequest *req;

	(void)state;
	span_set_str(a, "", "keyless");
	a->start_ns = (uint64_t)-OFF; /* Unix time 0: not sent, read back as 0 */

	req = encode_traces(spans, procs, ARRAY_SIZE(spans), &cfg, OFF);
	assert_int_equal(req->n_resource_spans, 3);
	rs = req->resource_spans[0];
	assert_int_equal(rs->resource->n_attributes, 3); /* no host, no version */
	is_str(rs->resource->attributes[0], "service.name", "unknown_service");
	is_int(rs->resource->attributes[1], "process.pid", 3);
	is_str(rs->resource->attributes[2], "telemetry.sdk.name", "obsprobe");
	assert_string_equal(rs->scope_spans[0]->scope->name, "obsprobe");
	assert_string_equal(rs->scope_spans[0]->scope->version, "");
	m = rs->scope_spans[0]->spans[0];
	assert_string_equal(m->name, "");
	assert_true(m->start_time_unix_nano == 0);
	assert_int_equal(m->n_attributes, 1);
	is_str(m->attributes[0], "", "keyless");

	rs = req->resource_spans[1];
	is_str(rs->resource->attributes[0], "service.name", "unknown_service:worker");
	is_str(rs->resource->attributes[2], "process.executable.name", "worker");

	/* no process at all: the span's pid */
	rs = req->resource_spans[2];
	assert_int_equal(rs->resource->n_attributes, 3);
	is_str(rs->resource->attributes[0], "service.name", "unknown_service");
	is_int(rs->resource->attributes[1], "process.pid", 5);
	free_traces_req(req);
	free(a);
	free(b);
	free(c);
}

/* Resources in pid order (an unknown process before a known one of its pid, names in order
 * after it), spans in batch order within each; the resource attributes in their order, with
 * OTEL_RESOURCE_ATTRIBUTES replacing or adding. */
UNIT_TEST(test_processes_and_resources)
{
	const struct metric_label extra[] = {
		{ "host.name", "replaced" }, { "service.name", "ignored" }, { "", "no key" },
		{ "no.value", NULL },	     { "team", "caf\xe9" },	    { "k\xff", "v" },
		{ "shard", "7", true },	     { "shard.text", "7x", true },
	};
	const struct otlp_resource_cfg cfg = {
		.host_name = "node",
		.sdk_version = "1.2.3",
		.extra = extra,
		.nextra = ARRAY_SIZE(extra),
	};
	struct proc_info p10b = make_proc(10, "b", "x"), p10a = make_proc(10, "a", "x");
	struct proc_info p20 = make_proc(20, "c", "y");
	const struct proc_info *order[] = { NULL, &p10a, &p10b, &p20 }; /* pid 10 */
	const struct proc_info *procs[12];
	const struct span *spans[12];
	struct span *s[12];
	const ResourceSpans *rs;
	TraceRequest *req;
	KeyValue **ra;
	size_t i, g, k, prev;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(s); i++) {
		s[i] = new_span(SPAN_KIND_SERVER, 10, (uint8_t)i, 1000 + i, 1000, "span");
		spans[i] = s[i];
		procs[i] = order[(i * 7 + 1) % ARRAY_SIZE(order)];
	}
	s[11]->pid = 5; /* no process, another pid: first */
	procs[11] = NULL;

	req = encode_traces(spans, procs, ARRAY_SIZE(spans), &cfg, OFF);
	assert_int_equal(req->n_resource_spans, 5);
	for (g = 0; g < req->n_resource_spans; g++) {
		rs = req->resource_spans[g];
		for (k = 0, prev = 0; k < rs->scope_spans[0]->n_spans; k++) {
			i = rs->scope_spans[0]->spans[k]->trace_id.data[0]; /* new_span's seed */
			assert_true(!k || i > prev);
			prev = i;
			if (g == 0)
				assert_int_equal(i, 11);
			else
				assert_ptr_equal(procs[i], order[g - 1]);
		}
	}
	is_int(req->resource_spans[0]->resource->attributes[1], "process.pid", 5);
	is_str(req->resource_spans[2]->resource->attributes[0], "service.name", "a");
	is_str(req->resource_spans[3]->resource->attributes[0], "service.name", "b");

	rs = req->resource_spans[4];
	ra = rs->resource->attributes;
	assert_int_equal(rs->resource->n_attributes, 10);
	is_str(ra[0], "service.name", "c");
	is_int(ra[1], "process.pid", 20);
	is_str(ra[2], "process.executable.name", "y");
	is_str(ra[3], "host.name", "replaced"); /* in its place */
	is_str(ra[4], "telemetry.sdk.name", "obsprobe");
	is_str(ra[5], "telemetry.sdk.version", "1.2.3");
	is_str(ra[6], "team", "caf\xef\xbf\xbd");
	is_str(ra[7], "k\xef\xbf\xbd", "v");
	is_int(ra[8], "shard", 7);
	is_str(ra[9], "shard.text", "7x");
	check_absent(ra, 10, "no.value");
	assert_string_equal(rs->scope_spans[0]->scope->version, "1.2.3");
	assert_int_equal(rs->scope_spans[0]->scope->n_attributes, 0);
	free_traces_req(req);
	for (i = 0; i < ARRAY_SIZE(s); i++)
		free(s[i]);
}

/* A batch many times the size the writer starts with, so that its buffer grows over and over. */
UNIT_TEST(test_large_batch)
{
	enum { N = 3000, NPROCS = 3 };
	struct proc_info p[NPROCS];
	const struct proc_info **procs = calloc(N, sizeof(*procs));
	const struct span **spans = calloc(N, sizeof(*spans));
	struct span *s = calloc(N, sizeof(*s));
	static const char *const keys[] = { "k0", "k1", "k2", "k3", "k4", "k5", "k6",
					    "k7", "k8", "k9", "ka", "kb", "kc", "kd",
					    "ke", "kf", "kg", "kh", "ki", "kj" };
	char val[160];
	TraceRequest *req;
	size_t i, j, g, k, seen = 0;

	(void)state;
	assert_true(procs && spans && s);
	for (i = 0; i < NPROCS; i++)
		p[i] = make_proc((uint32_t)(100 + i), "svc", "exe");
	for (i = 0; i < N; i++) {
		span_init(&s[i], SPAN_KIND_CLIENT);
		memcpy(s[i].span_id, &i, sizeof(i));
		snprintf(s[i].name, sizeof(s[i].name), "span %zu", i);
		s[i].start_ns = i + 1;
		s[i].end_ns = i + 2;
		for (j = 0; j < ARRAY_SIZE(keys); j++) {
			snprintf(val, sizeof(val), "%zu:%zu:%0130zu", i, j, i * j);
			span_set_str(&s[i], keys[j], val);
		}
		spans[i] = &s[i];
		procs[i] = &p[i % NPROCS];
	}
	req = encode_traces(spans, procs, N, NULL, OFF);
	assert_int_equal(req->n_resource_spans, NPROCS);
	for (g = 0; g < NPROCS; g++) {
		for (k = 0; k < req->resource_spans[g]->scope_spans[0]->n_spans; k++) {
			const Span *m = req->resource_spans[g]->scope_spans[0]->spans[k];

			memcpy(&i, m->span_id.data, sizeof(i));
			assert_int_equal(i % NPROCS, g);
			assert_int_equal(m->n_attributes, ARRAY_SIZE(keys));
			for (j = 0; j < ARRAY_SIZE(keys); j++) {
				snprintf(val, sizeof(val), "%zu:%zu:%0130zu", i, j, i * j);
				is_str(m->attributes[j], keys[j], val);
			}
			seen++;
		}
	}
	assert_int_equal(seen, N);
	free_traces_req(req);
	free(procs);
	free(spans);
	free(s);
}

/* The kept buffer: larger and smaller batches one after the other, and bad arguments. */
UNIT_TEST(test_encode_to)
{
	struct span *s = new_span(SPAN_KIND_SERVER, 1, 1, 1001, 1000, "one");
	const struct span *spans[] = { s }, *none[] = { NULL };
	const uint8_t *body = NULL;
	struct pb_buf w = { 0 };
	uint8_t *base;
	size_t len = 1;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(otlp_encode_traces_to(&w, spans, NULL, 1, NULL, 0, &body, &len),
				 0);
		assert_true(body >= w.base && body + len == w.end);
		free_traces_req(unpack_and_repack(body, len));
	}
	base = w.base;
	assert_int_equal(otlp_encode_traces_to(&w, NULL, NULL, 0, NULL, 0, &body, &len), 0);
	assert_int_equal(len, 0);
	assert_ptr_equal(w.base, base); /* kept */

	assert_int_equal(otlp_encode_traces_to(NULL, spans, NULL, 1, NULL, 0, &body, &len),
			 -EINVAL);
	assert_int_equal(otlp_encode_traces_to(&w, NULL, NULL, 1, NULL, 0, &body, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces_to(&w, none, NULL, 1, NULL, 0, &body, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces_to(&w, spans, NULL, 1, NULL, 0, NULL, &len), -EINVAL);
	assert_int_equal(otlp_encode_traces_to(&w, spans, NULL, 1, NULL, 0, &body, NULL), -EINVAL);
	pb_buf_free(&w);
	free(s);
}

/*
 * Spans encoded one by one as they are queued (otlp_encode_span()) and framed later
 * (otlp_encode_encoded_traces_to()) give the very body otlp_encode_traces_to() gives for the
 * same spans: processes interleaved, one unknown, an exception, a value to repair, a parent.
 */
UNIT_TEST(test_encoded_spans_same_body)
{
	enum { N = 9 };
	struct proc_info p[3] = { make_proc(10, "api", "api"), make_proc(20, "db", "postgres"),
				  make_proc(30, "web", "nginx") };
	struct span *s[N];
	const struct span *spans[N];
	const struct proc_info *procs[N];
	struct otlp_span_bytes enc[N];
	uint8_t *copy[N], *want;
	const uint8_t *body;
	struct pb_buf w = { 0 }, one = { 0 };
	size_t i, len, want_len;

	(void)state;
	for (i = 0; i < N; i++) {
		s[i] = new_span(i % 2 ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER, p[i % 3].pid,
				(uint8_t)i, 1000 + i, 500 + i, i % 2 ? "GET" : "GET /users/{id}");
		span_set_str(s[i], SC_HTTP_REQUEST_METHOD, "GET");
		span_set_int(s[i], SC_HTTP_RESPONSE_STATUS_CODE, 200 + (int64_t)i);
		spans[i] = s[i];
		procs[i] = i == 4 ? NULL : &p[i % 3];
	}
	span_set_str(s[2], SC_URL_PATH, "/caf\xe9\xff"); /* not UTF-8: repaired */
	span_set_exception(s[3], 1777, "ValueError", "bad value", "frame 1\nframe 2\n", true);
	span_make_child(s[5], s[4]->trace_id, s[4]->span_id);
	s[6]->error = true;

	assert_int_equal(otlp_encode_traces_to(&w, spans, procs, N, NULL, OFF, &body, &len), 0);
	want = malloc(len);
	assert_non_null(want);
	memcpy(want, body, len);
	want_len = len;
	for (i = 0; i < N; i++) {
		assert_int_equal(otlp_encode_span(&one, s[i], OFF), 0);
		copy[i] = malloc(pb_mark(&one));
		assert_non_null(copy[i]);
		memcpy(copy[i], one.p, pb_mark(&one));
		enc[i] = (struct otlp_span_bytes){ copy[i], pb_mark(&one), s[i]->pid };
	}
	assert_int_equal(otlp_encode_encoded_traces_to(&w, enc, procs, N, NULL, &body, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(body, want, len);
	free_traces_req(unpack_and_repack(body, len));

	assert_int_equal(otlp_encode_encoded_traces_to(&w, NULL, NULL, 0, NULL, &body, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(otlp_encode_encoded_traces_to(&w, NULL, NULL, 1, NULL, &body, &len),
			 -EINVAL);
	assert_int_equal(otlp_encode_span(NULL, s[0], OFF), -EINVAL);
	assert_int_equal(otlp_encode_span(&one, NULL, OFF), -EINVAL);
	for (i = 0; i < N; i++) {
		free(copy[i]);
		free(s[i]);
	}
	free(want);
	pb_buf_free(&one);
	pb_buf_free(&w);
}

UNIT_MAIN(NULL, otlp_kept_free)
