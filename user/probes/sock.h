/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The sock BPF object: socket syscalls of watched processes; its events feed the HTTP and the
 * PostgreSQL trackers. */
#ifndef OBSPROBE_SOCK_PROBE_H
#define OBSPROBE_SOCK_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "protocols/http.h"
#include "protocols/pg.h"
#include "obsprobe/sock.h"

struct proc_bpf;
struct sock_bpf;

/* Opens, configures (capture_bytes), shares the proc object's maps, loads, attaches. */
struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes);
void sock_probe_destroy(struct sock_bpf *skel); /* NULL ok */

/* Where socket events go. The HTTP tracker is also the table of connections: it is always
 * there, http_spans says whether HTTP is parsed. pg is NULL when PostgreSQL is not. */
struct sock_sinks {
	struct http_tracker *http;
	struct pg_tracker *pg;
	bool http_spans;
};

/* Decodes one OBS_EV_SOCK_* event into the trackers. Returns 0, or -EINVAL when it is short. */
int sock_handle_event(const struct sock_sinks *s, const void *data, size_t size);

#endif /* OBSPROBE_SOCK_PROBE_H */
