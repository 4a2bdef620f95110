// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How fast otlp_encode_traces() turns spans into ExportTraceServiceRequest bodies, on one
 * core: 100,000 HTTP server spans such as nginx yields (eleven attributes), in batches of 512
 * from four processes, encoding only (no gzip, no network).
 *
 *	make build/bench/otlp_encode_bench && build/bench/otlp_encode_bench [SPANS [BATCH]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exporters/otlp_encode.h"
#include "pipeline/span.h"

#define NPROCS 4

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void make_span(struct span *s, size_t i, const struct proc_info *p)
{
	static const char *const routes[] = { "/users/{id}", "/orders", "/", "/static/app.js" };
	char path[64];

	span_init(s, SPAN_KIND_SERVER);
	s->pid = s->tid = p->pid;
	s->start_ns = 1000000000ULL + i * 100000;
	s->end_ns = s->start_ns + 412345;
	if (i % 3 == 0) {
		s->has_parent = true;
		s->remote_parent = true;
		span_new_span_id(s->parent_id);
	}
	snprintf(path, sizeof(path), "/users/%zu", i);
	snprintf(s->name, sizeof(s->name), "GET %s", routes[i % 4]);
	span_set_str(s, "http.request.method", "GET");
	span_set_str(s, "url.path", path);
	span_set_str(s, "network.protocol.version", "1.1");
	span_set_str(s, "url.scheme", "http");
	span_set_str(s, "user_agent.original", "curl/7.88.1");
	span_set_str(s, "http.route", routes[i % 4]);
	span_set_str(s, "server.address", "127.0.0.1");
	span_set_int(s, "server.port", 8080);
	span_set_str(s, "client.address", "127.0.0.1");
	span_set_int(s, "client.port", (int64_t)(40000 + i % 20000));
	span_set_int(s, "http.response.status_code", i % 50 ? 200 : 500);
	s->error = !(i % 50);
}

int main(int argc, char **argv)
{
	size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t batch = argc > 2 ? strtoul(argv[2], NULL, 10) : 512;
	const struct otlp_resource_cfg cfg = { .host_name = "bench-host", .sdk_version = "0.0.0" };
	struct proc_info procs[NPROCS];
	const struct proc_info **pp;
	const struct span **sp;
	uint64_t t0, cpu, wall, bytes = 0;
	struct span *spans;
	size_t i, done;
	uint8_t *out;
	size_t len;
	int err;

	if (!total || !batch) {
		fprintf(stderr, "usage: %s [SPANS [BATCH]]\n", argv[0]);
		return 2;
	}
	spans = calloc(batch, sizeof(*spans));
	sp = calloc(batch, sizeof(*sp));
	pp = calloc(batch, sizeof(*pp));
	if (!spans || !sp || !pp) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (i = 0; i < NPROCS; i++) {
		memset(&procs[i], 0, sizeof(procs[i]));
		procs[i].pid = (uint32_t)(4242 + i);
		snprintf(procs[i].service_name, sizeof(procs[i].service_name), "nginx");
		snprintf(procs[i].exe_name, sizeof(procs[i].exe_name), "nginx");
	}
	/* One batch of distinct spans, encoded over and over: what is measured is encoding. */
	for (i = 0; i < batch; i++) {
		pp[i] = &procs[i % NPROCS];
		make_span(&spans[i], i, pp[i]);
		sp[i] = &spans[i];
	}

	t0 = now_ns(CLOCK_MONOTONIC);
	cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (done = 0; done < total; done += batch) {
		size_t n = total - done < batch ? total - done : batch;

		err = otlp_encode_traces(sp, pp, n, &cfg, 1700000000000000000LL, &out, &len);
		if (err) {
			fprintf(stderr, "otlp_encode_traces: %d\n", err);
			return 1;
		}
		bytes += len;
		free(out);
	}
	cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	wall = now_ns(CLOCK_MONOTONIC) - t0;

	printf("otlp_encode_traces: %zu spans in batches of %zu: %.0f spans/s (CPU), %.0f spans/s "
	       "(wall), %.2f us/span, %.0f bytes/span\n",
	       total, batch, (double)total * 1e9 / (double)cpu, (double)total * 1e9 / (double)wall,
	       (double)cpu / 1e3 / (double)total, (double)bytes / (double)total);
	free(spans);
	free(sp);
	free(pp);
	return 0;
}
