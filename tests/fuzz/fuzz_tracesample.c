// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: 10 bytes of configuration, then operations of 4 bytes each, run on one tracesample.
 *
 *   config: sampler (mod 6), ratio (/255), keep_slower_than (ms, 0 off), max_traces (1..8),
 *           max_spans (1..32), max_decided (1..32), grace, max hold and remember (ms, 1..256),
 *           max_bytes (in 512-byte steps)
 *   op:     o0 & 3: 0-2 a span finishes, 3 a tick (o0 & 0x70 zero: a flush instead);
 *           o0 & 0x80: the clock goes back o3 / 4 ms rather than forward o3 ms
 *           o1: trace (& 15, from a table of 16 ids, some every ratio keeps, some none),
 *           form (>> 4 & 3: local root, child, root under a remote parent not sampled,
 *           sampled), error (& 0x40), a big span (& 0x80: a full arena)
 *           o2: the span's duration (ms)
 *
 * Besides the sanitizers, it checks after every operation that the held traces, spans and
 * bytes and the remembered decisions stay within their limits, that every span handed in has
 * been released exactly once, or counted dropped, or is still held, that the release counts
 * match the callback's calls, and that a released span is the one handed in (its serial number,
 * times, name and process). After a final flush nothing is held. When nothing was dropped for a
 * full buffer and every decision stayed remembered, every trace went out whole or not at all.
 * tests/fuzz/corpus/fuzz_tracesample.py writes the seed corpus.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/semconv.h"
#include "pipeline/tracesample.h"

#define MS 1000000ull
#define NTRACES 16
#define MAX_SPANS 4096

static struct {
	uint32_t added, released;
	uint8_t out[MAX_SPANS];	     /* times each serial was released */
	uint8_t trace_of[MAX_SPANS]; /* the trace each serial belongs to */
	uint64_t start[MAX_SPANS];
} st;

static uint32_t serial_of(const struct span *s)
{
	uint32_t n;

	memcpy(&n, s->span_id, sizeof(n));
	return n;
}

static void on_release(void *ctx, const struct span *s, const struct proc_info *p)
{
	uint32_t n = serial_of(s);
	char name[32];

	(void)ctx;
	assert(n < st.added);
	assert(st.out[n] == 0);
	st.out[n]++;
	st.released++;
	assert(s->start_ns == st.start[n]);
	snprintf(name, sizeof(name), "span %u", n);
	assert(!strcmp(s->name, name));
	assert(!strcmp(span_get_str(s, SC_URL_PATH), "/x"));
	/* every other span comes with a process, its pid the serial */
	if (n % 2) {
		assert(p && p->pid == n);
		assert(!strcmp(p->service_name, "svc"));
	} else {
		assert(!p);
	}
}

static void trace_id(uint8_t id[16], unsigned i)
{
	memset(id, 0, 16);
	id[0] = (uint8_t)(i + 1);
	if (i < 4)
		return; /* the lowest ratio value: kept by any ratio > 0 */
	if (i < 8) {
		memset(id + 8, 0xff, 8); /* kept by ratio 1 only */
		return;
	}
	id[8] = (uint8_t)(i * 37);
	id[12] = (uint8_t)(i * 101);
}

static void check(const struct tracesample *t, const struct tracesample_limits *l)
{
	struct tracesample_stats s;
	uint64_t kept = 0, dropped = 0;
	int i;

	tracesample_get_stats(t, &s);
	for (i = 0; i < TS_KEEP__COUNT; i++)
		kept += s.kept[i];
	for (i = 0; i < TS_DROP__COUNT; i++)
		dropped += s.dropped[i];
	assert(kept == st.released);
	assert(st.released + dropped + s.held_spans == st.added);
	assert(s.held_traces <= l->max_traces);
	assert(s.held_spans <= l->max_spans);
	assert(s.held_bytes <= l->max_bytes);
	assert(s.decided <= l->max_decided);
	assert(s.held_spans >= s.held_traces);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracesample_config c = { 0 };
	struct tracesample_limits *l = &c.limits;
	struct tracesample_stats s;
	struct tracesample *t;
	uint64_t now = 1000000 * MS;
	static struct span sp;
	size_t i;

	if (size < 10)
		return 0;
	memset(&st, 0, sizeof(st));
	c.sampler = (enum otel_sampler)(data[0] % 6);
	c.ratio = data[1] / 255.0;
	c.keep_slower_than_ns = data[2] * MS;
	l->max_traces = 1 + data[3] % 8;
	l->max_spans = 1 + data[4] % 32;
	l->max_decided = 1 + data[5] % 32;
	l->grace_ns = (1 + data[6]) * MS;
	l->max_hold_ns = (1 + data[7]) * MS;
	l->remember_ns = (1 + data[8]) * MS;
	l->max_bytes = 512 * (1 + (size_t)data[9]);
	c.hash_seed = data[9];
	t = tracesample_new(&c, on_release, NULL);
	assert(t);

	for (i = 10; i + 4 <= size && st.added < MAX_SPANS; i += 4) {
		const uint8_t *o = data + i;
		unsigned kind = o[1] >> 4 & 3, tr = o[1] & 15;
		uint32_t n = st.added;
		struct proc_info p = { .pid = n };

		if (o[0] & 0x80)
			now -= (o[3] / 4) * MS;
		else
			now += o[3] * MS;
		if ((o[0] & 3) == 3) {
			if (o[0] & 0x70)
				tracesample_tick(t, now);
			else
				tracesample_flush(t);
			check(t, l);
			continue;
		}
		span_init(&sp, kind == 1 ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER);
		trace_id(sp.trace_id, tr);
		memset(sp.span_id, 0, 8);
		memcpy(sp.span_id, &n, sizeof(n));
		if (kind) {
			uint8_t parent[8] = { 0xee };

			span_make_child(&sp, sp.trace_id, parent);
			sp.remote_parent = kind >= 2;
			sp.trace_flags = kind == 3;
		}
		sp.error = o[1] & 0x40;
		sp.start_ns = now - o[2] * MS;
		sp.end_ns = now;
		snprintf(sp.name, sizeof(sp.name), "span %u", n);
		span_set_str(&sp, SC_URL_PATH, "/x");
		if (o[1] & 0x80) {
			char big[1100];

			memset(big, 'b', sizeof(big) - 1);
			big[sizeof(big) - 1] = '\0';
			span_set_str(&sp, SC_URL_QUERY, big);
			span_set_str(&sp, SC_USER_AGENT_ORIGINAL, big);
			span_set_str(&sp, SC_URL_FULL, big);
		}
		sp.pid = n;
		snprintf(p.service_name, sizeof(p.service_name), "svc");
		st.trace_of[n] = (uint8_t)tr;
		st.start[n] = sp.start_ns;
		st.added++;
		tracesample_add(t, &sp, n % 2 ? &p : NULL, now);
		check(t, l);
	}
	tracesample_flush(t);
	check(t, l);
	tracesample_get_stats(t, &s);
	assert(s.held_spans == 0 && s.held_traces == 0 && s.held_bytes == 0);

	/* Whole traces: decided once, remembered throughout (every decision kept: no more traces
	 * than max_decided, a memory longer than the run, a clock that never went back), nothing
	 * cut short by a full buffer. */
	if (!s.dropped[TS_DROP_BUFFER_FULL] && l->max_decided >= NTRACES) {
		bool monotonic = true;
		uint64_t span_ms = 0;
		size_t j;

		for (j = 10; j + 4 <= size; j += 4) {
			monotonic &= !(data[j] & 0x80);
			span_ms += data[j + 3];
		}
		if (monotonic && span_ms < 1 + data[8]) {
			int seen[NTRACES] = { 0 }, kept[NTRACES] = { 0 };
			uint32_t k;

			for (k = 0; k < st.added; k++) {
				seen[st.trace_of[k]]++;
				kept[st.trace_of[k]] += st.out[k];
			}
			for (k = 0; k < NTRACES; k++)
				assert(kept[k] == 0 || kept[k] == seen[k]);
		}
	}
	tracesample_free(t);
	return 0;
}
