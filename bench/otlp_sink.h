/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A minimal OTLP/HTTP sink for benchmarks: answers every POST with 200 as fast as it can. */
#ifndef OBSPROBE_BENCH_OTLP_SINK_H
#define OBSPROBE_BENCH_OTLP_SINK_H

#include <stdint.h>

/* Listens on 127.0.0.1 (port 0: any free one) in threads of its own; returns the port or -1. */
int otlp_sink_start(int port);
uint64_t otlp_sink_requests(void);
uint64_t otlp_sink_bytes(void);

#endif
