/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP trace requests as the tests build, encode and read them back: spans and processes to
 * encode, the request decoded by protobuf-c's generated code, and checks on its attributes, by
 * place (is_*) or by key (check_*). Include after cmocka.h.
 */
#ifndef OBSPROBE_TEST_OTLP_CHECK_H
#define OBSPROBE_TEST_OTLP_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp_encode.h"
#include "pipeline/span.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans ResourceSpans;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;

#define STRING_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE
#define INT_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE
#define BOOL_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE
#define DOUBLE_VALUE OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* id[i] = seed + i */
static inline void fill_id(uint8_t *id, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		id[i] = (uint8_t)(seed + i);
}

/* A span from start_ns to start_ns + dur_ns, its trace id from seed (so trace_id[0] is seed),
 * its span id from seed + 100; the caller frees it. */
static inline struct span *new_span(enum span_kind kind, uint32_t pid, uint8_t seed,
				    uint64_t start_ns, uint64_t dur_ns, const char *name)
{
	struct span *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	span_init(s, kind);
	fill_id(s->trace_id, sizeof(s->trace_id), seed);
	fill_id(s->span_id, sizeof(s->span_id), (uint8_t)(seed + 100));
	s->pid = s->tid = pid;
	s->start_ns = start_ns;
	s->end_ns = start_ns + dur_ns;
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

static inline struct proc_info make_proc(uint32_t pid, const char *svc, const char *exe)
{
	struct proc_info p;

	memset(&p, 0, sizeof(p));
	p.pid = pid;
	snprintf(p.service_name, sizeof(p.service_name), "%s", svc);
	snprintf(p.exe_name, sizeof(p.exe_name), "%s", exe);
	return p;
}

/* One buffer for every encode_traces() of a test binary, as the exporter keeps one: its
 * UNIT_MAIN() frees it with otlp_kept_free. */
static struct pb_buf otlp_kept;

static inline int otlp_kept_free(void **state)
{
	(void)state;
	pb_buf_free(&otlp_kept);
	return 0;
}

/* body decoded, and packed again by protobuf-c from what it decoded: the very same bytes. */
static inline TraceRequest *unpack_and_repack(const uint8_t *body, size_t len)
{
	TraceRequest *req;
	uint8_t *again;

	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, body);
	assert_non_null(req);
	assert_int_equal(protobuf_c_message_get_packed_size(&req->base), len);
	again = malloc(len + 1);
	assert_non_null(again);
	assert_int_equal(protobuf_c_message_pack(&req->base, again), len);
	assert_memory_equal(again, body, len);
	free(again);
	return req;
}

/* The request, by both entry points (the same bytes), decoded; free it with free_traces_req. */
static inline TraceRequest *encode_traces(const struct span *const *spans,
					  const struct proc_info *const *procs, size_t n,
					  const struct otlp_resource_cfg *cfg, int64_t offset)
{
	const uint8_t *body = NULL;
	uint8_t *buf = NULL;
	size_t len = 12345, len2 = 12345;
	TraceRequest *req;

	assert_int_equal(otlp_encode_traces(spans, procs, n, cfg, offset, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(
		otlp_encode_traces_to(&otlp_kept, spans, procs, n, cfg, offset, &body, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, body, len);
	req = unpack_and_repack(buf, len);
	free(buf);
	return req;
}

static inline void free_traces_req(TraceRequest *req)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		req, NULL);
}

/* The value of key in kv[0..n); NULL when it is not there, a failure when it is twice. */
static inline const AnyValue *find_attr(KeyValue *const *kv, size_t n, const char *key)
{
	size_t i, found = 0;
	const AnyValue *v = NULL;

	for (i = 0; i < n; i++) {
		if (!strcmp(kv[i]->key, key)) {
			v = kv[i]->value;
			found++;
		}
	}
	if (found > 1)
		fail_msg("attribute %s appears %zu times", key, found);
	return v;
}

/* v, the value of attribute key, is the string want (likewise an int, a bool). */
static inline void check_str_value(const AnyValue *v, const char *key, const char *want)
{
	if (!v)
		fail_msg("no attribute %s, or no value", key);
	if (v->value_case != STRING_VALUE)
		fail_msg("attribute %s: value case %d, want string", key, v->value_case);
	if (strcmp(v->string_value, want))
		fail_msg("attribute %s: \"%s\", want \"%s\"", key, v->string_value, want);
}

static inline void check_int_value(const AnyValue *v, const char *key, int64_t want)
{
	if (!v)
		fail_msg("no attribute %s, or no value", key);
	if (v->value_case != INT_VALUE)
		fail_msg("attribute %s: value case %d, want int", key, v->value_case);
	if (v->int_value != want)
		fail_msg("attribute %s: %lld, want %lld", key, (long long)v->int_value,
			 (long long)want);
}

static inline void check_bool_value(const AnyValue *v, const char *key, bool want)
{
	if (!v)
		fail_msg("no attribute %s, or no value", key);
	if (v->value_case != BOOL_VALUE)
		fail_msg("attribute %s: value case %d, want bool", key, v->value_case);
	assert_int_equal(!!v->bool_value, want);
}

/* By key: the one attribute key of kv[0..n) is want. */
static inline void check_str(KeyValue *const *kv, size_t n, const char *key, const char *want)
{
	check_str_value(find_attr(kv, n, key), key, want);
}

static inline void check_int(KeyValue *const *kv, size_t n, const char *key, int64_t want)
{
	check_int_value(find_attr(kv, n, key), key, want);
}

static inline void check_bool(KeyValue *const *kv, size_t n, const char *key, bool want)
{
	check_bool_value(find_attr(kv, n, key), key, want);
}

static inline void check_absent(KeyValue *const *kv, size_t n, const char *key)
{
	if (find_attr(kv, n, key))
		fail_msg("attribute %s should not be there", key);
}

/* By place: kv, where the caller expects it in its list, is key = want. */
static inline void is_str(const KeyValue *kv, const char *key, const char *want)
{
	assert_string_equal(kv->key, key);
	check_str_value(kv->value, key, want);
}

static inline void is_int(const KeyValue *kv, const char *key, int64_t want)
{
	assert_string_equal(kv->key, key);
	check_int_value(kv->value, key, want);
}

static inline void is_bool(const KeyValue *kv, const char *key, bool want)
{
	assert_string_equal(kv->key, key);
	check_bool_value(kv->value, key, want);
}

static inline void check_bytes(ProtobufCBinaryData b, const uint8_t *want, size_t n)
{
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, want, n);
}

#endif /* OBSPROBE_TEST_OTLP_CHECK_H */
