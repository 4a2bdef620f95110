// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How many spans per second the OTLP exporter encodes and sends, to a local sink on loopback
 * that answers 200 at once. Prints spans/s of wall time and per second of the CPU that encoding
 * and sending took (the "one core" figure): the exporter thread's, plus the encoding each span
 * gets as it is queued (otlp_encode_span(), in the thread that queues it), timed apart on the
 * same spans first. Usage: otlp_send_bench [SPANS] (200000); OTEL_EXPORTER_OTLP_*
 * variables apply (e.g. OTEL_EXPORTER_OTLP_COMPRESSION=gzip).
 * `otlp_send_bench --sink PORT` only runs the sink, for bench/nginx.sh's export rounds.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "otel_config.h"
#include "exporters/otlp.h"
#include "exporters/otlp_encode.h"
#include "util/clock.h"
#include "otlp_sink.h"

static const char *getenv_const(const char *name)
{
	return getenv(name);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t n, i;
	struct proc_info proc = { .pid = 4242, .service_name = "nginx", .exe_name = "nginx" };
	struct otel_config cfg;
	struct otlp_exporter *e;
	struct otlp_stats st;
	char url[64], err[256];
	struct pb_buf w = { 0 };
	struct span s;
	double t0, t1;
	uint64_t cpu, enc_cpu, last_ok = ~0ull;
	int64_t offset = clock_realtime_offset_ns();
	int port;

	if (argc == 3 && !strcmp(argv[1], "--sink")) {
		if (otlp_sink_start(atoi(argv[2]), NULL) < 0) {
			fprintf(stderr, "otlp_send_bench: cannot listen on 127.0.0.1:%s\n",
				argv[2]);
			return 1;
		}
		printf("sink ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	port = otlp_sink_start(0, NULL);
	if (port < 0) {
		fprintf(stderr, "otlp_send_bench: cannot start the sink\n");
		return 1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	if (otel_config_load(&cfg, getenv_const, url, err, sizeof(err))) {
		fprintf(stderr, "otlp_send_bench: %s\n", err);
		return 1;
	}
	cfg.metrics_url[0] = '\0';
	e = otlp_exporter_start(&cfg, NULL, "bench-host", "bench", err, sizeof(err));
	if (!e) {
		fprintf(stderr, "otlp_send_bench: %s\n", err);
		return 1;
	}
	/* a typical nginx SERVER span, as the HTTP tracker makes them */
	span_init(&s, SPAN_KIND_SERVER);
	s.pid = 4242;
	s.tid = 4243;
	snprintf(s.name, sizeof(s.name), "GET /users/{id}");
	span_set_str(&s, "http.request.method", "GET");
	span_set_str(&s, "url.path", "/users/12345");
	span_set_str(&s, "network.protocol.version", "1.1");
	span_set_str(&s, "url.scheme", "http");
	span_set_str(&s, "client.address", "127.0.0.1");
	span_set_int(&s, "client.port", 51234);
	span_set_str(&s, "server.address", "127.0.0.1");
	span_set_int(&s, "server.port", 8080);
	span_set_str(&s, "user_agent.original", "wrk/4.1.0");
	span_set_str(&s, "http.route", "/users/{id}");
	span_set_int(&s, "http.response.status_code", 200);

	/* the encoding of each span as it is queued, alone */
	enc_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	for (i = 0; i < n; i++) {
		s.start_ns = 1000000000ull + i * 1000;
		s.end_ns = s.start_ns + 250000;
		memcpy(s.span_id, &i, sizeof(i));
		if (otlp_encode_span(&w, &s, offset)) {
			fprintf(stderr, "otlp_send_bench: cannot encode a span\n");
			return 1;
		}
	}
	enc_cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - enc_cpu;
	pb_buf_free(&w);

	t0 = now_s();
	for (i = 0; i < n; i++) {
		s.start_ns = 1000000000ull + i * 1000;
		s.end_ns = s.start_ns + 250000;
		memcpy(s.span_id, &i, sizeof(i));
		while (otlp_exporter_queued(e) >= OTLP_QUEUE_MAX)
			sched_yield();
		otlp_exporter_add_span(e, &s, &proc, offset);
	}
	/* drained when the queue is empty and no request has completed for a while */
	for (;;) {
		otlp_exporter_get_stats(e, &st);
		if (!otlp_exporter_queued(e) && st.ok[OTLP_TRACES] == last_ok)
			break;
		last_ok = st.ok[OTLP_TRACES];
		usleep(20000);
	}
	t1 = now_s() - 0.02;
	cpu = otlp_exporter_cpu_ns(e);
	otlp_exporter_get_stats(e, &st);
	otlp_exporter_stop(e);
	printf("otlp send: %zu spans in %llu requests (%.1f MiB%s), %llu dropped\n", n,
	       (unsigned long long)otlp_sink_requests(), (double)otlp_sink_bytes() / 1048576.0,
	       cfg.gzip ? " gzip" : "", (unsigned long long)st.dropped[OTLP_TRACES]);
	/* the target (make bench's closing table) is set for the gzip run */
	printf("otlp send: %.0f ns a span to encode as it is queued, %.0f in the exporter thread\n",
	       (double)enc_cpu / (double)n, (double)cpu / (double)n);
	printf("otlp send: %.0f spans/s wall, %.0f spans per CPU-second of encoding and the exporter "
	       "thread%s\n",
	       (double)n / (t1 - t0), cpu ? (double)n / ((double)(cpu + enc_cpu) / 1e9) : 0.0,
	       cfg.gzip ? " (target >= 1000000)" : "");
	return 0;
}
