/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal OTLP/HTTP sink for benchmarks and tests: answers every POST with 200 as fast as it
 * can, after handing its body to a hook if one is set. */
#ifndef OBSPROBE_BENCH_OTLP_SINK_H
#define OBSPROBE_BENCH_OTLP_SINK_H

#include <stddef.h>
#include <stdint.h>

/* Called with each request's body before it is answered, one call at a time. */
typedef void (*otlp_sink_body_fn)(const uint8_t *body, size_t len);

/* Listens on 127.0.0.1 (port 0: any free one) in threads of its own; returns the port or -1.
 * on_body: NULL for none. */
int otlp_sink_start(int port, otlp_sink_body_fn on_body);
/* Stops accepting. Every body answered before it was handed to the hook, which is over by now
 * (and what it wrote is seen by the caller). */
void otlp_sink_stop(void);
uint64_t otlp_sink_requests(void);
uint64_t otlp_sink_bytes(void);

#endif
