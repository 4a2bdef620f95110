// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Trace sampling that keeps whole traces: the sampler's decision per trace, held traces rescued
 * by an ERROR or a slow root, the grace and hold limits, the caps, the counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/semconv.h"
#include "pipeline/tracesample.h"

#define MS 1000000ull
#define S 1000000000ull
#define T0 (1000 * S) /* times start here, as CLOCK_MONOTONIC does on a machine up for a while */
#define MAX_OUT 70000

/* What the release callback saw, in order. */
static struct {
	uint8_t span_id[MAX_OUT][8];
	uint8_t trace_id[MAX_OUT][16];
	uint32_t pid[MAX_OUT]; /* the proc's pid, 0 for NULL */
	size_t n;
	struct span last;
	struct proc_info last_proc;
	bool last_had_proc;
} out;

static void sink(void *ctx, const struct span *s, const struct proc_info *p)
{
	(void)ctx;
	assert_true(out.n < MAX_OUT);
	memcpy(out.span_id[out.n], s->span_id, 8);
	memcpy(out.trace_id[out.n], s->trace_id, 16);
	out.pid[out.n] = p ? p->pid : 0;
	out.n++;
	out.last = *s;
	out.last_had_proc = p != NULL;
	if (p)
		out.last_proc = *p;
}

static struct tracesample *ts_new(enum otel_sampler sampler, double ratio, uint64_t slower_than,
				  const struct tracesample_limits *l)
{
	struct tracesample_config c = { .sampler = sampler,
					.ratio = ratio,
					.keep_slower_than_ns = slower_than,
					.hash_seed = 42 };
	struct tracesample *t;

	if (l)
		c.limits = *l;
	memset(&out, 0, sizeof(out));
	t = tracesample_new(&c, sink, NULL);
	assert_non_null(t);
	return t;
}

/* A trace id whose ratio answer is known: its compared bytes are 0 (kept by any ratio > 0) or
 * all ones (dropped by any ratio < 1); n tells traces apart. */
static void trace_id(uint8_t id[16], unsigned n, bool low)
{
	memset(id, 0, 16);
	memcpy(id, &n, sizeof(n));
	memset(id + 8, low ? 0 : 0xff, 8);
}

/* A finished span of trace id: span number no, child of span number parent (0: a root),
 * from start to end (ms after T0). */
static struct span mk(const uint8_t id[16], uint8_t no, uint8_t parent, uint64_t start_ms,
		      uint64_t end_ms)
{
	struct span s;

	span_init(&s, parent ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER);
	memcpy(s.trace_id, id, 16);
	memset(s.span_id, 0, 8);
	s.span_id[0] = no;
	memcpy(s.span_id + 1, id, 4);
	if (parent) {
		uint8_t p[8] = { parent };

		memcpy(p + 1, id, 4);
		span_make_child(&s, id, p);
	}
	s.pid = 100 + no;
	s.start_ns = T0 + start_ms * MS;
	s.end_ns = T0 + end_ms * MS;
	snprintf(s.name, sizeof(s.name), "GET /%u", no);
	span_set_str(&s, SC_URL_PATH, s.name + 4);
	return s;
}

static void add(struct tracesample *t, const struct span *s, uint64_t now_ms)
{
	struct proc_info p = { .pid = s->pid };

	snprintf(p.service_name, sizeof(p.service_name), "svc%u", s->pid);
	tracesample_add(t, s, &p, T0 + now_ms * MS);
}

static void tick(struct tracesample *t, uint64_t now_ms)
{
	tracesample_tick(t, T0 + now_ms * MS);
}

/* Whether span number no of trace id was released, and how many times. */
static unsigned released(const uint8_t id[16], uint8_t no)
{
	unsigned k = 0;
	size_t i;

	for (i = 0; i < out.n; i++)
		k += out.span_id[i][0] == no && !memcmp(out.trace_id[i], id, 16);
	return k;
}

static uint64_t sum(const uint64_t *v, size_t n)
{
	uint64_t s = 0;

	while (n--)
		s += v[n];
	return s;
}

/* Every span handed in is released, dropped or still held, once. */
static void check_balance(struct tracesample *t, uint64_t added)
{
	struct tracesample_stats st;

	tracesample_get_stats(t, &st);
	assert_int_equal(sum(st.kept, TS_KEEP__COUNT), out.n);
	assert_int_equal(out.n + sum(st.dropped, TS_DROP__COUNT) + st.held_spans, added);
}

static struct tracesample_stats stats(struct tracesample *t)
{
	struct tracesample_stats st;

	tracesample_get_stats(t, &st);
	return st;
}

UNIT_TEST(test_names)
{
	(void)state;
	assert_string_equal(tracesample_keep_name(TS_KEEP_RATIO), "ratio");
	assert_string_equal(tracesample_keep_name(TS_KEEP_PARENT_SAMPLED), "parent_sampled");
	assert_string_equal(tracesample_keep_name(TS_KEEP_ERROR), "error");
	assert_string_equal(tracesample_keep_name(TS_KEEP_SLOW), "slow");
	assert_string_equal(tracesample_drop_name(TS_DROP_RATIO), "ratio");
	assert_string_equal(tracesample_drop_name(TS_DROP_PARENT_NOT_SAMPLED),
			    "parent_not_sampled");
	assert_string_equal(tracesample_drop_name(TS_DROP_BUFFER_FULL), "buffer_full");
	assert_string_equal(tracesample_keep_name(TS_KEEP__COUNT), "unknown");
	assert_string_equal(tracesample_drop_name(TS_DROP__COUNT), "unknown");
	tracesample_free(NULL);
}

/* always_on lets every span go at once, children before their root, and holds nothing. */
UNIT_TEST(test_always_on)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_ALWAYS_ON, 1, 0, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	trace_id(id, 1, false);
	s = mk(id, 2, 1, 1, 2);
	add(t, &s, 3);
	assert_int_equal(out.n, 1);
	s = mk(id, 1, 0, 0, 4);
	add(t, &s, 5);
	assert_int_equal(out.n, 2);
	assert_int_equal(stats(t).kept[TS_KEEP_RATIO], 2);
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(stats(t).decided, 0); /* the ratio answers again: nothing to remember */
	check_balance(t, 2);
	tracesample_free(t);
}

/* The released span is the span handed in: ids, times, name, attributes, with its process. */
UNIT_TEST(test_held_span_comes_back_whole)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	struct span s, full;
	uint8_t id[16];
	char big[600];
	int i;

	(void)state;
	trace_id(id, 7, false);
	/* an arena filled to the last byte: attributes past it point at its final '\0' */
	full = mk(id, 2, 1, 1, 2);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (i = 0; i < 8; i++)
		span_set_str(&full, i % 2 ? SC_USER_AGENT_ORIGINAL : SC_URL_QUERY, big);
	span_set_str(&full, SC_SERVER_ADDRESS, "past the end");
	span_set_int(&full, SC_SERVER_PORT, 8080);
	full.error = true;
	s = mk(id, 1, 0, 0, 3);
	add(t, &s, 3); /* held: ratio 0 */
	assert_int_equal(out.n, 0);
	add(t, &full, 4); /* the error releases the trace: s, then full */
	assert_int_equal(out.n, 2);
	assert_memory_equal(&out.last, &full, offsetof(struct span, arena) + full.arena_used);
	assert_string_equal(span_get_str(&out.last, SC_SERVER_ADDRESS), "");
	assert_string_equal(span_get_str(&out.last, SC_USER_AGENT_ORIGINAL),
			    span_get_str(&full, SC_USER_AGENT_ORIGINAL));
	assert_int_equal(span_get_int(&out.last, SC_SERVER_PORT, 0), 8080);
	assert_true(out.last_had_proc);
	assert_int_equal(out.last_proc.pid, full.pid);
	assert_string_equal(out.last_proc.service_name, "svc102");
	/* the first, held, span came back with its own process */
	assert_int_equal(out.pid[0], s.pid);
	assert_memory_equal(out.span_id[0], s.span_id, 8);

	/* no process: NULL in, NULL out */
	trace_id(id, 8, false);
	s = mk(id, 2, 1, 1, 2);
	tracesample_add(t, &s, NULL, T0 + 5 * MS);
	s = mk(id, 1, 0, 0, 3);
	s.error = true;
	tracesample_add(t, &s, NULL, T0 + 6 * MS);
	assert_int_equal(out.n, 4);
	assert_int_equal(out.pid[2], 0);
	assert_false(out.last_had_proc);
	check_balance(t, 4);
	tracesample_free(t);
}

/* traceidratio over many traces of 3 spans each (two children, then the root): each trace goes
 * out whole or not at all, as otel_ratio_sample says of its id, about ratio of them. */
static void ratio_run(double ratio)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, ratio, 0, NULL);
	const unsigned n = 20000;
	unsigned i, kept = 0, agree = 0;
	double sd = sqrt(n * ratio * (1 - ratio));
	uint64_t now = 0;

	for (i = 0; i < n; i++) {
		uint8_t id[16];
		struct span s;
		size_t before = out.n;

		span_new_trace_id(id);
		s = mk(id, 3, 2, now, now + 1);
		add(t, &s, now + 1);
		s = mk(id, 2, 1, now, now + 2);
		add(t, &s, now + 2);
		s = mk(id, 1, 0, now, now + 3);
		add(t, &s, now + 3);
		now += 3;
		/* a kept trace's spans went out as they came */
		if (otel_ratio_sample(id, ratio)) {
			agree += out.n - before == 3;
			kept++;
		} else {
			agree += out.n == before;
		}
		tick(t, now);
	}
	assert_int_equal(agree, n);
	tick(t, now + 2000); /* every grace over */
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(out.n, 3 * kept);
	assert_int_equal(stats(t).kept[TS_KEEP_RATIO], 3 * kept);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 3 * (n - kept));
	assert_int_equal(stats(t).dropped[TS_DROP_BUFFER_FULL], 0);
	if (kept < n * ratio - 6 * sd || kept > n * ratio + 6 * sd)
		fail_msg("ratio %.2f kept %u traces of %u", ratio, kept, n);
	check_balance(t, 3 * n);
	tracesample_free(t);
}

UNIT_TEST(test_ratio_statistics)
{
	(void)state;
	ratio_run(0);
	ratio_run(1);
	ratio_run(0.1);
	ratio_run(0.5);
}

/* An ERROR anywhere in a trace the ratio drops keeps all of it: the spans that finished before
 * it, itself, and the ones that come after. */
UNIT_TEST(test_error_keeps_whole_trace)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	trace_id(id, 1, false);
	s = mk(id, 4, 2, 1, 2);
	add(t, &s, 2);
	s = mk(id, 3, 2, 2, 3);
	add(t, &s, 3);
	assert_int_equal(out.n, 0);
	s = mk(id, 2, 1, 1, 4);
	s.error = true;
	add(t, &s, 4);
	assert_int_equal(out.n, 3);
	/* in the order they came */
	assert_int_equal(out.span_id[0][0], 4);
	assert_int_equal(out.span_id[1][0], 3);
	assert_int_equal(out.span_id[2][0], 2);
	/* the root, and a late child: out at once */
	s = mk(id, 1, 0, 0, 5);
	add(t, &s, 5);
	s = mk(id, 5, 1, 4, 6);
	add(t, &s, 1500);
	assert_int_equal(out.n, 5);
	assert_int_equal(stats(t).kept[TS_KEEP_ERROR], 5);
	assert_int_equal(stats(t).held_spans, 0);

	/* the error in the root, last */
	trace_id(id, 2, false);
	s = mk(id, 2, 1, 1, 2);
	add(t, &s, 2000);
	s = mk(id, 1, 0, 0, 3);
	s.error = true;
	add(t, &s, 2001);
	assert_int_equal(released(id, 1), 1);
	assert_int_equal(released(id, 2), 1);

	/* the error in a late child, within the grace: the root and all come back */
	trace_id(id, 3, false);
	s = mk(id, 2, 1, 1, 2);
	add(t, &s, 3000);
	s = mk(id, 1, 0, 0, 3);
	add(t, &s, 3001);
	tick(t, 3500);
	assert_int_equal(released(id, 1), 0);
	s = mk(id, 3, 1, 2, 4);
	s.error = true;
	add(t, &s, 3900);
	assert_int_equal(released(id, 1), 1);
	assert_int_equal(released(id, 2), 1);
	assert_int_equal(released(id, 3), 1);
	assert_int_equal(stats(t).kept[TS_KEEP_ERROR], 10);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 0);

	/* a lone ERROR span, first of its trace: out at once, and its trace's later spans too */
	trace_id(id, 4, false);
	s = mk(id, 3, 2, 1, 2);
	s.error = true;
	add(t, &s, 4000);
	s = mk(id, 2, 1, 1, 3);
	add(t, &s, 4001);
	assert_int_equal(released(id, 3), 1);
	assert_int_equal(released(id, 2), 1);
	check_balance(t, 12);
	tracesample_free(t);
}

/* --keep-slower-than: a root (or the trace, first start to last end) slower than asked is kept
 * whole; one that is not is dropped. */
UNIT_TEST(test_slow_traces)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 50 * MS, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	/* a slow root, after its fast children */
	trace_id(id, 1, false);
	s = mk(id, 2, 1, 10, 15);
	add(t, &s, 15);
	s = mk(id, 3, 1, 20, 30);
	add(t, &s, 30);
	assert_int_equal(out.n, 0);
	s = mk(id, 1, 0, 0, 60);
	add(t, &s, 60);
	assert_int_equal(out.n, 3);
	assert_int_equal(stats(t).kept[TS_KEEP_SLOW], 3);

	/* exactly the threshold is not slower than it */
	trace_id(id, 2, false);
	s = mk(id, 2, 1, 10, 15);
	add(t, &s, 100);
	s = mk(id, 1, 0, 0, 50);
	add(t, &s, 100);
	tick(t, 1200);
	assert_int_equal(released(id, 1), 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 2);

	/* a slow child alone (its root unseen yet) is enough */
	trace_id(id, 3, false);
	s = mk(id, 2, 1, 0, 70);
	add(t, &s, 2000);
	assert_int_equal(released(id, 2), 1);
	s = mk(id, 1, 0, 0, 71);
	add(t, &s, 2001);
	assert_int_equal(released(id, 1), 1);

	/* the trace's extent: spans of other processes that start before the root and end after
	 * it (a child stitched from elsewhere) */
	trace_id(id, 4, false);
	s = mk(id, 2, 1, 0, 30);
	add(t, &s, 3000);
	s = mk(id, 1, 0, 20, 45);
	add(t, &s, 3001);
	assert_int_equal(out.n, 5);
	s = mk(id, 3, 1, 40, 55); /* 0..55: slower than 50 ms */
	add(t, &s, 3002);
	assert_int_equal(released(id, 1), 1);
	assert_int_equal(released(id, 2), 1);
	assert_int_equal(released(id, 3), 1);
	check_balance(t, 10);
	tracesample_free(t);

	/* off: nothing is slow */
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	trace_id(id, 5, false);
	s = mk(id, 1, 0, 0, 100000);
	add(t, &s, 100000);
	tracesample_flush(t);
	assert_int_equal(out.n, 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 1);
	tracesample_free(t);
}

/* A dropped trace waits TS_GRACE_NS after its root for late children, then goes; a child later
 * still is dropped at once, counted. */
UNIT_TEST(test_grace)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	trace_id(id, 1, false);
	s = mk(id, 1, 0, 0, 10);
	add(t, &s, 10);
	s = mk(id, 2, 1, 1, 12);
	add(t, &s, 500); /* late, in the grace */
	tick(t, 10 + 999);
	assert_int_equal(stats(t).held_spans, 2);
	assert_int_equal(stats(t).held_traces, 1);
	tick(t, 10 + 1000);
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 2);
	assert_int_equal(stats(t).decided, 1);
	/* later than the grace, while the decision is remembered: dropped at once */
	s = mk(id, 3, 1, 2, 13);
	add(t, &s, 3000);
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 3);
	/* even an ERROR: the trace is gone, and half of it is not sent */
	s.error = true;
	add(t, &s, 3001);
	assert_int_equal(out.n, 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 4);
	/* decisions are forgotten after TS_REMEMBER_NS */
	tick(t, 10 + 1000 + 9999);
	assert_int_equal(stats(t).decided, 1);
	tick(t, 10 + 1000 + 10000);
	assert_int_equal(stats(t).decided, 0);
	check_balance(t, 4);
	tracesample_free(t);

	/* a grace of one's own */
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0,
		   &(struct tracesample_limits){ .grace_ns = 100 * MS });
	s = mk(id, 1, 0, 0, 10);
	add(t, &s, 10);
	tick(t, 109);
	assert_int_equal(stats(t).held_spans, 1);
	tick(t, 110);
	assert_int_equal(stats(t).held_spans, 0);
	tracesample_free(t);
}

/* Children whose root never ends here wait TS_MAX_HOLD_NS from the first, then the root
 * sampler decides on the trace id. */
UNIT_TEST(test_max_hold)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	uint8_t id[16], id2[16];
	struct span s;

	(void)state;
	trace_id(id, 1, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 1);
	s = mk(id, 3, 1, 0, 2);
	add(t, &s, 9000);
	tick(t, 1 + 9999);
	assert_int_equal(stats(t).held_spans, 2);
	tick(t, 1 + 10000);
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 2);
	tracesample_free(t);

	/* parentbased: children wait for the root, which may carry a remote decision; without
	 * one, the root sampler keeps them (always_on) */
	t = ts_new(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1, 0, NULL);
	trace_id(id, 2, false);
	trace_id(id2, 3, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 1);
	s = mk(id2, 2, 1, 0, 1);
	add(t, &s, 5000);
	assert_int_equal(out.n, 0);
	tick(t, 10001);
	assert_int_equal(released(id, 2), 1);
	assert_int_equal(released(id2, 2), 0);
	tick(t, 15000);
	assert_int_equal(released(id2, 2), 1);
	assert_int_equal(stats(t).kept[TS_KEEP_RATIO], 2);
	check_balance(t, 2);
	tracesample_free(t);
}

/* parentbased_*: the root's remote parent decides for the whole trace, children included;
 * without a remote parent, the root sampler; plain traceidratio ignores the flag. */
UNIT_TEST(test_parentbased)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 0, 0, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	/* sampled upstream: the children wait for the root, then all go */
	trace_id(id, 1, false);
	s = mk(id, 3, 2, 1, 2);
	add(t, &s, 2);
	s = mk(id, 2, 1, 1, 3);
	add(t, &s, 3);
	assert_int_equal(out.n, 0);
	assert_int_equal(stats(t).held_spans, 2);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 1;
	add(t, &s, 4);
	assert_int_equal(out.n, 3);
	assert_int_equal(stats(t).kept[TS_KEEP_PARENT_SAMPLED], 3);
	/* a late child of it: remembered, out at once */
	s = mk(id, 4, 1, 3, 5);
	add(t, &s, 1500);
	assert_int_equal(out.n, 4);

	/* not sampled upstream: all dropped after the grace, counted as the parent's doing */
	trace_id(id, 2, true);
	s = mk(id, 2, 1, 1, 3);
	add(t, &s, 2000);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 0;
	add(t, &s, 2001);
	tick(t, 3001);
	assert_int_equal(released(id, 1) + released(id, 2), 0);
	assert_int_equal(stats(t).dropped[TS_DROP_PARENT_NOT_SAMPLED], 2);
	s = mk(id, 3, 1, 2, 3);
	add(t, &s, 3500);
	assert_int_equal(stats(t).dropped[TS_DROP_PARENT_NOT_SAMPLED], 3);

	/* not sampled upstream, but an ERROR: kept */
	trace_id(id, 3, true);
	s = mk(id, 2, 1, 1, 3);
	s.error = true;
	add(t, &s, 4000);
	assert_int_equal(released(id, 2), 1);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 0;
	add(t, &s, 4001);
	assert_int_equal(released(id, 1), 1);

	/* two local roots (a proxy that forwards traceparent: its client span has no parent, the
	 * upstream's server span the caller's): the caller's flag outweighs the ratio, either way
	 * round */
	trace_id(id, 10, true);
	s = mk(id, 2, 0, 1, 3);
	add(t, &s, 4500);
	assert_int_equal(released(id, 2), 0);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 1;
	add(t, &s, 4501);
	assert_int_equal(released(id, 1), 1);
	assert_int_equal(released(id, 2), 1);
	trace_id(id, 11, true);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 0;
	add(t, &s, 4600);
	s = mk(id, 2, 0, 1, 3);
	add(t, &s, 4601);
	tick(t, 4601 + 1000);
	assert_int_equal(released(id, 1) + released(id, 2), 0);
	assert_int_equal(stats(t).dropped[TS_DROP_PARENT_NOT_SAMPLED], 5);

	/* a local root: the ratio (0) decides */
	trace_id(id, 4, true);
	s = mk(id, 2, 1, 1, 3);
	add(t, &s, 6000);
	s = mk(id, 1, 0, 0, 4);
	add(t, &s, 6001);
	tick(t, 7001);
	assert_int_equal(released(id, 1) + released(id, 2), 0);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 2);
	check_balance(t, 15);
	tracesample_free(t);

	/* parentbased_traceidratio 1: a local root keeps its children */
	t = ts_new(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 1, 0, NULL);
	trace_id(id, 5, false);
	s = mk(id, 2, 1, 1, 3);
	add(t, &s, 1);
	s = mk(id, 1, 0, 0, 4);
	add(t, &s, 2);
	assert_int_equal(out.n, 2);
	assert_int_equal(stats(t).kept[TS_KEEP_RATIO], 2);
	tracesample_free(t);

	/* parentbased_always_off: only a sampled remote parent keeps a trace */
	t = ts_new(OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF, 1, 0, NULL);
	trace_id(id, 6, true);
	s = mk(id, 1, 0, 0, 4);
	add(t, &s, 1);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 1;
	trace_id(s.trace_id, 7, true);
	add(t, &s, 2);
	tracesample_flush(t);
	assert_int_equal(out.n, 1);
	assert_int_equal(stats(t).kept[TS_KEEP_PARENT_SAMPLED], 1);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 1);
	tracesample_free(t);

	/* plain traceidratio: the trace id decides, whatever the caller said */
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0.5, 0, NULL);
	trace_id(id, 8, true);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 0;
	add(t, &s, 1);
	assert_int_equal(out.n, 1);
	trace_id(id, 9, false);
	s = mk(id, 1, 0, 0, 4);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 1;
	add(t, &s, 2);
	tracesample_flush(t);
	assert_int_equal(out.n, 1);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 1);
	tracesample_free(t);
}

/* The caps: the oldest held trace is decided early, its drops counted as buffer_full; one
 * trace bigger than the caps is decided alone; nothing is ever held past them. */
UNIT_TEST(test_caps)
{
	struct tracesample_limits l = { .max_traces = 4, .max_spans = 10 };
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, &l);
	struct tracesample_stats st;
	uint8_t id[16];
	struct span s;
	unsigned i;

	(void)state;
	for (i = 1; i <= 5; i++) {
		trace_id(id, i, false);
		s = mk(id, 2, 1, 0, 1);
		add(t, &s, i);
		s = mk(id, 3, 1, 0, 1);
		add(t, &s, i);
		st = stats(t);
		assert_true(st.held_traces <= 4);
		assert_true(st.held_spans <= 10);
	}
	/* 5 traces of 2: the first went at the fifth */
	st = stats(t);
	assert_int_equal(st.held_traces, 4);
	assert_int_equal(st.dropped[TS_DROP_BUFFER_FULL], 2);
	/* and its later spans follow it */
	trace_id(id, 1, false);
	s = mk(id, 1, 0, 0, 2);
	add(t, &s, 10);
	assert_int_equal(stats(t).dropped[TS_DROP_BUFFER_FULL], 3);
	/* one trace with more spans than the cap: every other goes first, then it */
	trace_id(id, 9, false);
	for (i = 0; i < 11; i++) {
		s = mk(id, (uint8_t)(10 + i), 1, 0, 1);
		add(t, &s, 20);
		assert_true(stats(t).held_spans <= 10);
	}
	st = stats(t);
	assert_int_equal(st.held_traces, 0);
	assert_int_equal(st.dropped[TS_DROP_BUFFER_FULL], 3 + 8 + 11);
	check_balance(t, 10 + 1 + 11);
	tracesample_free(t);

	/* bytes: a held span costs its used part, ~1 KiB for these */
	l = (struct tracesample_limits){ .max_bytes = 10000 };
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, &l);
	for (i = 1; i <= 50; i++) {
		trace_id(id, i, false);
		s = mk(id, 2, 1, 0, 1);
		add(t, &s, i);
		st = stats(t);
		assert_true(st.held_bytes <= 10000);
	}
	assert_true(stats(t).held_spans > 3);
	assert_true(stats(t).dropped[TS_DROP_BUFFER_FULL] > 30);
	check_balance(t, 50);

	/* traces whose root has ended go first, oldest root first, as the sampler's drops (they
	 * only lose the rest of their grace); one still waiting for its root after them, as
	 * buffer_full */
	tracesample_free(t);
	l = (struct tracesample_limits){ .max_traces = 3 };
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, &l);
	trace_id(id, 1, false); /* the oldest, waiting for its root */
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 1);
	trace_id(id, 2, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 2);
	s = mk(id, 1, 0, 0, 2);
	add(t, &s, 2);
	trace_id(id, 3, false);
	s = mk(id, 1, 0, 0, 2);
	add(t, &s, 3);
	trace_id(id, 4, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 4);
	st = stats(t);
	assert_int_equal(st.held_traces, 3);
	assert_int_equal(st.dropped[TS_DROP_RATIO], 2); /* trace 2 */
	assert_int_equal(st.dropped[TS_DROP_BUFFER_FULL], 0);
	trace_id(id, 5, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 5);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 3); /* trace 3 */
	trace_id(id, 6, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 6);
	st = stats(t);
	assert_int_equal(st.dropped[TS_DROP_RATIO], 3);
	assert_int_equal(st.dropped[TS_DROP_BUFFER_FULL], 1); /* trace 1, the oldest of the rest */
	check_balance(t, 7);
	trace_id(id, 1, false);
	s = mk(id, 1, 0, 0, 2);
	add(t, &s, 7); /* its root: the decision stands */
	assert_int_equal(stats(t).dropped[TS_DROP_BUFFER_FULL], 2);

	/* an evicted trace the root sampler keeps goes out rather than being lost */
	tracesample_free(t);
	l = (struct tracesample_limits){ .max_traces = 1 };
	t = ts_new(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1, 0, &l);
	trace_id(id, 1, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 1);
	trace_id(id, 2, false);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 2);
	assert_int_equal(out.n, 1);
	assert_int_equal(stats(t).kept[TS_KEEP_RATIO], 1);
	assert_int_equal(stats(t).dropped[TS_DROP_BUFFER_FULL], 0);
	tracesample_free(t);

	/* remembered decisions are capped too */
	l = (struct tracesample_limits){ .max_decided = 3 };
	t = ts_new(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1, 0, &l);
	for (i = 1; i <= 10; i++) {
		trace_id(id, i, false);
		s = mk(id, 1, 0, 0, 1);
		add(t, &s, i);
		assert_true(stats(t).decided <= 3);
	}
	assert_int_equal(stats(t).decided, 3);
	assert_int_equal(out.n, 10);
	tracesample_free(t);

	/* through many more decisions than it keeps (its index wraps, each one forgotten frees
	 * its slot): exactly the newest are recalled, a late child of each out at once, and a
	 * late child of an older one held for its root */
	l = (struct tracesample_limits){ .max_decided = 37 };
	t = ts_new(OTEL_SAMPLER_PARENTBASED_ALWAYS_ON, 1, 0, &l);
	for (i = 1; i <= 5000; i++) {
		trace_id(id, i, i & 1);
		s = mk(id, 1, 0, 0, 1);
		add(t, &s, 10);
	}
	assert_int_equal(stats(t).decided, 37);
	for (i = 5000 - 36; i <= 5000; i++) {
		trace_id(id, i, i & 1);
		s = mk(id, 2, 1, 0, 1);
		add(t, &s, 11);
		assert_int_equal(released(id, 2), 1);
	}
	assert_int_equal(out.n, 5000 + 37);
	assert_int_equal(stats(t).held_traces, 0);
	trace_id(id, 5000 - 37, (5000 - 37) & 1);
	s = mk(id, 2, 1, 0, 1);
	add(t, &s, 12);
	assert_int_equal(released(id, 2), 0);
	assert_int_equal(stats(t).held_traces, 1);
	/* the decisions age out with TS_REMEMBER_NS, oldest first */
	tick(t, 10 + 9999);
	assert_int_equal(stats(t).decided, 37);
	tick(t, 10 + 10000);
	assert_int_equal(stats(t).decided, 0);
	tracesample_flush(t);
	tracesample_free(t);
}

/* At shutdown every held trace is decided now: what the sampler keeps goes out, the rest is
 * counted; nothing is left. */
UNIT_TEST(test_flush)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO, 0.5, 0, NULL);
	uint8_t keep[16], drop[16], remote[16];
	struct span s;

	(void)state;
	trace_id(keep, 1, true);
	trace_id(drop, 2, false);
	trace_id(remote, 3, true);
	s = mk(keep, 2, 1, 0, 1); /* a child waiting for its root */
	add(t, &s, 1);
	s = mk(drop, 2, 1, 0, 1);
	add(t, &s, 2);
	s = mk(drop, 1, 0, 0, 2); /* a root in its grace */
	add(t, &s, 3);
	s = mk(remote, 2, 1, 0, 1);
	add(t, &s, 4);
	s = mk(remote, 1, 0, 0, 2);
	s.has_parent = s.remote_parent = true;
	s.trace_flags = 0;
	add(t, &s, 5);
	assert_int_equal(out.n, 0);
	assert_int_equal(stats(t).held_spans, 5);
	tracesample_flush(t);
	assert_int_equal(stats(t).held_spans, 0);
	assert_int_equal(stats(t).held_traces, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(released(keep, 2), 1);
	assert_int_equal(stats(t).dropped[TS_DROP_RATIO], 2);
	assert_int_equal(stats(t).dropped[TS_DROP_PARENT_NOT_SAMPLED], 2);
	check_balance(t, 5);
	tracesample_flush(t); /* twice: nothing more */
	assert_int_equal(out.n, 1);
	tracesample_free(t);

	/* freed with spans still held: no leak (ASan checks), nothing released */
	t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	s = mk(drop, 1, 0, 0, 2);
	add(t, &s, 1);
	tracesample_free(t);
	assert_int_equal(out.n, 0);
}

/* Times that go backwards (two clocks read apart) do not expire anything early. */
UNIT_TEST(test_time_backwards)
{
	struct tracesample *t = ts_new(OTEL_SAMPLER_TRACEIDRATIO, 0, 0, NULL);
	uint8_t id[16];
	struct span s;

	(void)state;
	trace_id(id, 1, false);
	s = mk(id, 1, 0, 0, 2);
	add(t, &s, 5000);
	tick(t, 10);
	tick(t, 5999);
	assert_int_equal(stats(t).held_spans, 1);
	tick(t, 6000);
	assert_int_equal(stats(t).held_spans, 0);
	tracesample_free(t);
}

UNIT_MAIN(NULL, NULL)
