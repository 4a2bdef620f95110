/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Prometheus pull endpoint: GET /metrics serves the registry in text format 0.0.4; /healthz
 * answers 200 while the process runs, /readyz 200 once every probe asked for is attached and
 * 503 before (or when some could not be), saying what. */
#ifndef OBSPROBE_PROMETHEUS_H
#define OBSPROBE_PROMETHEUS_H

#include <stddef.h>
#include <sys/socket.h>

#include "pipeline/metrics.h"
#include "util/ready.h"

struct prom_server;

/* listen: "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"). The socket is bound
 * before returning, so a port in use fails here. On failure returns NULL and writes one
 * sentence into err (e.g. "cannot listen on 127.0.0.1:9464: Address already in use").
 * The server renders m from its own thread; m must outlive it. */
struct prom_server *prom_server_start(const char *listen, struct metrics *m, struct ready *ready,
				      char *err, size_t errlen);
void prom_server_stop(struct prom_server *s); /* NULL ok */

/* HOST is an IPv4 address, a bracketed IPv6 address (with an optional %zone), "localhost"
 * (127.0.0.1) or empty (0.0.0.0); PORT is 1..65535. Returns 0 or -EINVAL. */
int prom_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len);

#endif /* OBSPROBE_PROMETHEUS_H */
