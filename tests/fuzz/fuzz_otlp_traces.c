// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: spans and their processes, built from the bytes, encoded by otlp_encode_traces().
 *
 *   byte 0:   bit 0 a configuration (bit 1 host.name, bit 2 the version, bit 3 resource
 *             attributes), bit 4 a realtime offset of 0 (else a large one), bits 5-7 processes
 *   process:  pid (1 + b % 4), service name, executable name (strings), then a byte: bit 0 a
 *             container id, bit 1 a pod (names from one string)
 *   span:     kind (b % 5), a byte of flags (bits 0-2 the process, its count: none; bit 3 a
 *             parent, bit 4 an error, bit 5 an exception, bit 6 it escaped), start and
 *             duration (two bytes each), the name (a string; 160 bytes or more fill the name
 *             with no NUL), attributes (a count, then each: a key from a table, bit 7 of that
 *             byte an int of eight bytes, else a string), then the exception's three strings
 *   string:   a length byte and that many bytes, any of them
 *
 * Checks that the body unpacks with protobuf-c's generated decoder and that protobuf-c packs
 * what it decoded into the very same bytes; that otlp_encode_traces_to() into a kept buffer
 * gives them too; that every span is there once, in its process's resource (ascending pids,
 * batch order within), with its ids, kind, times, name, attributes, status and exception, each
 * string the UTF-8 repair of what the span holds. tests/fuzz/corpus/fuzz_otlp_traces/ has seeds.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporters/otlp_encode.h"
#include "pipeline/span.h"
#include "util/utf8.h"

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest TraceRequest;
typedef Opentelemetry__Proto__Trace__V1__Span Span;
typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;

#define MAX_SPANS 48
#define MAX_PROCS 7
#define ANY(c) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##c##_VALUE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p, *end;
};

static uint8_t byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

/* a string of the input into buf (257 bytes), NUL-terminated */
static size_t string(struct input *in, char *buf)
{
	size_t n = byte(in), left = (size_t)(in->end - in->p);

	if (n > left)
		n = left;
	memcpy(buf, in->p, n);
	buf[n] = '\0';
	in->p += n;
	return n;
}

static const char *const keys[] = {
	"http.request.method",
	"url.path",
	"",
	"server.port",
	"k",
	("a.key.long.enough.that.its.key.value.pair.takes.more.than.one.hundred.and.twenty."
	 "seven.bytes.with.any.value.at.all"),
	"exception.type",
	"x",
};

/* What a string of the span must read as: s up to its NUL or max, repaired. */
static void expect_str(const char *got, const char *s, size_t max)
{
	static char want[3 * SPAN_ARENA + 1];

	utf8_clean(want, s, max);
	assert(!strcmp(got, want));
}

static const KeyValue *attr(KeyValue *const *kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key))
			return kv[i];
	return NULL;
}

static void check_span(const Span *m, const struct span *s, int64_t off)
{
	size_t i, n = s->nattrs < SPAN_MAX_ATTRS ? s->nattrs : SPAN_MAX_ATTRS;
	size_t used = s->arena_used < SPAN_ARENA ? s->arena_used : SPAN_ARENA;

	assert(m->trace_id.len == 16 && !memcmp(m->trace_id.data, s->trace_id, 16));
	assert(m->parent_span_id.len == (s->has_parent ? 8u : 0u));
	assert(!s->has_parent || !memcmp(m->parent_span_id.data, s->parent_id, 8));
	assert((int)m->kind == (s->kind == SPAN_KIND_SERVER || s->kind == SPAN_KIND_CLIENT
					? (int)s->kind
					: 1)); /* INTERNAL */
	assert(m->start_time_unix_nano == s->start_ns + (uint64_t)off);
	assert(m->end_time_unix_nano == s->end_ns + (uint64_t)off);
	expect_str(m->name, s->name, sizeof(s->name));
	assert(m->status && m->status->code == (s->error ? 2 : 0) && !*m->status->message);
	assert(m->n_attributes == n);
	for (i = 0; i < n; i++) {
		const struct span_attr *a = &s->attrs[i];
		const KeyValue *kv = m->attributes[i];

		assert(!strcmp(kv->key, a->key));
		if (a->is_int) {
			assert(kv->value->value_case == ANY(INT) &&
			       kv->value->int_value == a->ival);
		} else {
			assert(kv->value->value_case == ANY(STRING));
			if (a->soff < used)
				expect_str(kv->value->string_value, s->arena + a->soff,
					   used - a->soff);
			else
				assert(!*kv->value->string_value);
		}
	}
	assert(m->n_events == (s->exc_ns ? 1u : 0u));
	if (s->exc_ns) {
		const Opentelemetry__Proto__Trace__V1__Span__Event *ev = m->events[0];
		const KeyValue *kv;

		assert(!strcmp(ev->name, "exception"));
		assert(ev->time_unix_nano == s->exc_ns + (uint64_t)off);
		kv = attr(ev->attributes, ev->n_attributes, "exception.type");
		assert(kv);
		expect_str(kv->value->string_value, s->exc, SPAN_EXC_ARENA);
		kv = attr(ev->attributes, ev->n_attributes, "exception.message");
		assert(!kv == !s->exc[s->exc_msg_off]);
		if (kv)
			expect_str(kv->value->string_value, s->exc + s->exc_msg_off,
				   SPAN_EXC_ARENA - s->exc_msg_off);
		kv = attr(ev->attributes, ev->n_attributes, "exception.escaped");
		assert(kv && kv->value->value_case == ANY(BOOL));
		assert(!!kv->value->bool_value == s->exc_escaped);
	}
}

/* The process a span of pid belongs to, as its resource names it. */
static void check_resource(KeyValue *const *kv, size_t n, const struct proc_info *p, uint32_t pid)
{
	static char want[3 * sizeof(p->service_name) + 32];
	const KeyValue *svc = attr(kv, n, "service.name"), *pv = attr(kv, n, "process.pid");

	assert(pv && pv->value->value_case == ANY(INT) && pv->value->int_value == pid);
	assert(svc && svc->value->value_case == ANY(STRING));
	if (p && p->service_name[0]) {
		expect_str(svc->value->string_value, p->service_name, sizeof(p->service_name));
	} else {
		strcpy(want, "unknown_service");
		if (p && p->exe_name[0]) {
			strcat(want, ":");
			utf8_clean(want + strlen(want), p->exe_name, sizeof(p->exe_name));
		}
		assert(!strcmp(svc->value->string_value, want));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct span spans[MAX_SPANS];
	static struct proc_info procs[MAX_PROCS];
	static struct pb_buf kept;
	const struct proc_info *pp[MAX_SPANS];
	const struct span *sp[MAX_SPANS];
	struct input in = { data, data + size };
	struct metric_label extra[2] = {
		{ "deployment.environment.name", "fuzz" },
		{ "host.name", "over", false },
	};
	struct otlp_resource_cfg cfg = { 0 };
	char str[3][257];
	size_t n = 0, nprocs, i, g, k, seen = 0;
	const uint8_t *body2;
	uint8_t flags, *body;
	size_t len, len2;
	TraceRequest *req;
	uint32_t last_pid = 0;
	int64_t off;

	if (!size)
		return 0;
	flags = byte(&in);
	off = flags & 0x10 ? 0 : 1767225600000000000LL;
	nprocs = (size_t)(flags >> 5) % (MAX_PROCS + 1);
	if (flags & 1) {
		cfg.host_name = flags & 2 ? "node-1" : "";
		cfg.sdk_version = flags & 4 ? "1.0" : NULL;
		cfg.extra = extra;
		cfg.nextra = flags & 8 ? 2 : 0;
	}
	for (i = 0; i < nprocs; i++) {
		struct proc_info *p = &procs[i];
		uint8_t what;

		memset(p, 0, sizeof(*p));
		p->pid = 1 + byte(&in) % 4;
		string(&in, str[0]);
		snprintf(p->service_name, sizeof(p->service_name), "%s", str[0]);
		string(&in, str[0]);
		snprintf(p->exe_name, sizeof(p->exe_name), "%s", str[0]);
		what = byte(&in);
		if (what & 1)
			snprintf(p->container_id, sizeof(p->container_id), "%064x", what);
		if (what & 2) {
			string(&in, str[0]);
			snprintf(p->k8s.pod_name, sizeof(p->k8s.pod_name), "%s", str[0]);
			snprintf(p->k8s.namespace_name, sizeof(p->k8s.namespace_name), "%s",
				 str[0]);
			p->k8s.owner_kind = what >> 2 & 7;
			snprintf(p->k8s.owner_name, sizeof(p->k8s.owner_name), "o%s", str[0]);
		}
	}
	while (in.p < in.end && n < MAX_SPANS) {
		struct span *s = &spans[n];
		uint8_t kind = byte(&in) % 5, f = byte(&in), nattrs;
		uint64_t id = n;
		size_t j, slen;

		memset(s, 0, sizeof(*s));
		span_init(s, (enum span_kind)kind);
		memcpy(s->span_id, &id, sizeof(id));
		s->pid = 1 + f % 4;
		s->has_parent = f & 8;
		memset(s->parent_id, f, sizeof(s->parent_id));
		s->error = f & 16;
		s->start_ns = (uint64_t)byte(&in) << 8;
		s->start_ns |= byte(&in);
		s->end_ns = s->start_ns + ((uint64_t)byte(&in) << 8);
		s->end_ns += byte(&in);
		slen = string(&in, str[0]);
		memcpy(s->name, str[0], slen < sizeof(s->name) ? slen + 1 : sizeof(s->name));
		nattrs = byte(&in) % 24;
		for (j = 0; j < nattrs; j++) {
			uint8_t kb = byte(&in);
			int64_t v = 0;

			if (kb & 0x80) {
				for (k = 0; k < 8; k++)
					v = (int64_t)((uint64_t)v << 8 | byte(&in));
				span_set_int(s, keys[kb % (sizeof(keys) / sizeof(keys[0]))], v);
			} else {
				/* values long enough to fill the arena now and then */
				slen = string(&in, str[0]);
				if (kb & 0x40 && slen < 240) {
					memset(str[0] + slen, 'z', 240 - slen);
					str[0][240] = '\0';
				}
				span_set_str(s, keys[kb % (sizeof(keys) / sizeof(keys[0]))],
					     str[0]);
			}
		}
		if (f & 32) {
			string(&in, str[0]);
			string(&in, str[1]);
			string(&in, str[2]);
			span_set_exception(s, s->end_ns, str[0], str[1], str[2], f & 64);
		}
		sp[n] = s;
		k = (f & 7) % (nprocs + 1);
		pp[n] = k < nprocs ? &procs[k] : NULL;
		n++;
	}

	assert(otlp_encode_traces(sp, pp, n, flags & 1 ? &cfg : NULL, off, &body, &len) == 0);
	assert(otlp_encode_traces_to(&kept, sp, pp, n, flags & 1 ? &cfg : NULL, off, &body2,
				     &len2) == 0);
	assert(len == len2 && !memcmp(body, body2, len));
	req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
		NULL, len, body);
	assert(req);
	assert(protobuf_c_message_get_packed_size(&req->base) == len);
	body2 = malloc(len + 1);
	assert(body2);
	assert(protobuf_c_message_pack(&req->base, (uint8_t *)body2) == len);
	assert(!memcmp(body, body2, len));
	free((void *)body2);
	free(body);

	for (g = 0; g < req->n_resource_spans; g++) {
		const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[g];
		size_t prev = 0;

		assert(rs->resource && rs->n_scope_spans == 1);
		assert(!strcmp(rs->scope_spans[0]->scope->name, "obsprobe"));
		for (k = 0; k < rs->scope_spans[0]->n_spans; k++) {
			const Span *m = rs->scope_spans[0]->spans[k];
			uint64_t idx;
			uint32_t pid;

			assert(m->span_id.len == 8);
			memcpy(&idx, m->span_id.data, sizeof(idx));
			assert(idx < n && (!k || idx > prev));
			prev = idx;
			pid = pp[idx] ? pp[idx]->pid : sp[idx]->pid;
			assert(pid >= last_pid);
			last_pid = pid;
			check_resource(rs->resource->attributes, rs->resource->n_attributes,
				       pp[idx], pid);
			check_span(m, sp[idx], off);
			seen++;
		}
	}
	assert(seen == n);
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		req, NULL);
	return 0;
}
