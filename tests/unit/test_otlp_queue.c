// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP exporter's queue between the thread that queues spans and the exporter thread, which
 * share it without a lock (exporters/otlp.c): every span queued reaches the collector exactly
 * once, in the order it was queued, or is counted dropped; each process's resource stays its
 * own while the processes outnumber the exporter's cache of them. The collector is the
 * benchmarks' sink (bench/otlp_sink.c) on loopback, each request's body decoded here with
 * protobuf-c. Built also with ThreadSanitizer (build/tsan/), which reports any access of the two
 * threads the queue does not order.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit.h"

#include "otlp_check.h"

#include "bench/otlp_sink.h"

#include "exporters/otlp.h"
#include "otel_config.h"

#define MAX_SPANS 40000
#define NPROCS 97 /* more processes than the exporter caches (PROC_CACHE) */

typedef Opentelemetry__Proto__Trace__V1__ScopeSpans ScopeSpans;

/* What the collector saw (bench/otlp_sink.c, its hook sink_body()); read once the exporter and
 * the sink have stopped. */
static struct sink {
	int port;
	unsigned char seen[MAX_SPANS]; /* times each seq came */
	int64_t last_seq[NPROCS];      /* the last seq of each process, for the order */
	size_t spans, requests, bad;
} sink;

/* While set, the collector holds the request it has read, unanswered: the queue fills. */
static int sink_hold;

static int64_t attr_int(KeyValue **kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key) && kv[i]->value &&
		    kv[i]->value->value_case == INT_VALUE)
			return kv[i]->value->int_value;
	return -1;
}

static const char *attr_str(KeyValue **kv, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(kv[i]->key, key) && kv[i]->value &&
		    kv[i]->value->value_case == STRING_VALUE)
			return kv[i]->value->string_value;
	return NULL;
}

/* One request's spans into the sink: each carries its seq and its process's number, which the
 * resource must name too (service.name "svc-N"). */
static void sink_take(const uint8_t *body, size_t len)
{
	TraceRequest *req =
		opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
			NULL, len, body);
	size_t r, k, i;

	if (!req) {
		sink.bad++;
		return;
	}
	for (r = 0; r < req->n_resource_spans; r++) {
		ResourceSpans *rs = req->resource_spans[r];
		const char *svc = rs->resource
					  ? attr_str(rs->resource->attributes,
						     rs->resource->n_attributes, "service.name")
					  : NULL;

		for (k = 0; k < rs->n_scope_spans; k++) {
			ScopeSpans *ss = rs->scope_spans[k];

			for (i = 0; i < ss->n_spans; i++) {
				Span *sp = ss->spans[i];
				int64_t seq = attr_int(sp->attributes, sp->n_attributes, "seq");
				int64_t proc = attr_int(sp->attributes, sp->n_attributes, "proc");
				char want[32];

				snprintf(want, sizeof(want), "svc-%lld", (long long)proc);
				if (seq < 0 || seq >= MAX_SPANS || proc < 0 || proc >= NPROCS ||
				    !svc || strcmp(svc, want) || seq <= sink.last_seq[proc]) {
					sink.bad++;
					continue;
				}
				sink.last_seq[proc] = seq;
				sink.seen[seq]++;
				sink.spans++;
			}
		}
	}
	sink.requests++;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
		req, NULL);
}

/* The sink's hook: while sink_hold is set, the request read waits, unanswered (the queue
 * fills). */
static void sink_body(const uint8_t *body, size_t len)
{
	while (__atomic_load_n(&sink_hold, __ATOMIC_ACQUIRE))
		usleep(1000);
	sink_take(body, len);
}

static void sink_start(void)
{
	size_t i;

	memset(sink.seen, 0, sizeof(sink.seen));
	for (i = 0; i < NPROCS; i++)
		sink.last_seq[i] = -1;
	sink.spans = sink.requests = sink.bad = 0;
	sink.port = otlp_sink_start(0, sink_body);
	assert_true(sink.port > 0);
}

static const char *no_env(const char *name)
{
	(void)name;
	return NULL;
}

/* An exporter to the sink, with the queue and batches given. */
static struct otlp_exporter *start(unsigned max_queue, unsigned max_batch, unsigned delay_ms)
{
	struct otel_config cfg;
	struct otlp_exporter *e;
	char url[64], err[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", sink.port);
	assert_int_equal(otel_config_load(&cfg, no_env, url, err, sizeof(err)), 0);
	cfg.metrics_url[0] = '\0';
	cfg.logs_url[0] = '\0';
	cfg.bsp.max_queue = max_queue;
	cfg.bsp.max_batch = max_batch;
	cfg.bsp.delay_ms = delay_ms;
	e = otlp_exporter_start(&cfg, NULL, "test-host", "test", err, sizeof(err));
	assert_non_null(e);
	return e;
}

/* n spans, process i % NPROCS for span i (a proc_info of its own each), queued at once or,
 * paced, only while the queue has room; then the exporter stops, sending what is queued.
 * Returns the spans it counted dropped by then. */
static uint64_t run(struct otlp_exporter *e, size_t n, unsigned max_queue, bool paced)
{
	static struct proc_info procs[NPROCS];
	struct otlp_stats st;
	struct span s;
	size_t i;

	for (i = 0; i < NPROCS; i++) {
		memset(&procs[i], 0, sizeof(procs[i]));
		procs[i].pid = (uint32_t)(1000 + i);
		snprintf(procs[i].service_name, sizeof(procs[i].service_name), "svc-%zu", i);
		snprintf(procs[i].exe_name, sizeof(procs[i].exe_name), "exe-%zu", i);
	}
	span_init(&s, SPAN_KIND_SERVER);
	snprintf(s.name, sizeof(s.name), "GET /");
	span_set_str(&s, "http.request.method", "GET");
	for (i = 0; i < n; i++) {
		struct proc_info *p = &procs[i % NPROCS];

		s.pid = s.tid = p->pid;
		s.start_ns = 1000000000ull + i;
		s.end_ns = s.start_ns + 1000;
		memcpy(s.span_id, &i, sizeof(i));
		span_set_int(&s, "seq", (int64_t)i);
		span_set_int(&s, "proc", (int64_t)(i % NPROCS));
		while (paced && otlp_exporter_queued(e) >= max_queue)
			sched_yield();
		otlp_exporter_add_span(e, &s, p, 0);
	}
	/* the drops are the queuing thread's: final once it has queued */
	otlp_exporter_get_stats(e, &st);
	__atomic_store_n(&sink_hold, 0, __ATOMIC_RELEASE);
	otlp_exporter_stop(e);
	return st.dropped[OTLP_TRACES];
}

/* Paced: nothing is dropped, and every span comes once, in order within its process. */
UNIT_TEST(test_queue_every_span_once)
{
	const unsigned queue = 64, batch = 7;
	size_t i;

	(void)state;
	sink_start();
	assert_int_equal(run(start(queue, batch, 1), MAX_SPANS, queue, true), 0);
	otlp_sink_stop();
	assert_int_equal(sink.bad, 0);
	assert_int_equal(sink.spans, MAX_SPANS);
	for (i = 0; i < MAX_SPANS; i++)
		assert_int_equal(sink.seen[i], 1);
	/* batches of 7 at most */
	assert_true(sink.requests >= MAX_SPANS / batch);
}

/* Not paced, a queue much smaller than the burst, the collector holding the first request until
 * the burst is queued: what is not sent is counted dropped, and what is sent comes once. */
UNIT_TEST(test_queue_full_counts)
{
	const unsigned queue = 50, batch = 16;
	uint64_t dropped;
	size_t i, once = 0;

	(void)state;
	sink_start();
	__atomic_store_n(&sink_hold, 1, __ATOMIC_RELEASE);
	dropped = run(start(queue, batch, 1), MAX_SPANS, queue, false);
	otlp_sink_stop();
	assert_int_equal(sink.bad, 0);
	for (i = 0; i < MAX_SPANS; i++) {
		assert_true(sink.seen[i] <= 1);
		once += sink.seen[i];
	}
	assert_int_equal(once, sink.spans);
	assert_int_equal(sink.spans + dropped, MAX_SPANS);
	/* one batch held in flight, the queue filled behind it, the rest dropped */
	assert_true(sink.spans >= queue);
	assert_true(sink.spans <= queue + batch);
	assert_true(dropped >= MAX_SPANS - queue - batch);
}

/* Stopped with a full queue: what is queued is sent before the thread ends. */
UNIT_TEST(test_queue_drained_at_stop)
{
	const unsigned queue = 2000;

	(void)state;
	sink_start();
	/* batches of the whole queue, which waits a minute for a partial one: only stop sends */
	assert_int_equal(run(start(queue, queue, 60000), 1500, queue, true), 0);
	otlp_sink_stop();
	assert_int_equal(sink.bad, 0);
	assert_int_equal(sink.spans, 1500);
	assert_int_equal(sink.requests, 1);
}

UNIT_MAIN(NULL, NULL)
