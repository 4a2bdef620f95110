/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The sock BPF object: socket syscalls of watched processes; its events feed the connection
 * table, which hands each connection's bytes to the protocol that reads it. */
#ifndef OBSPROBE_SOCK_PROBE_H
#define OBSPROBE_SOCK_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "obsprobe/sock.h"
#include "pipeline/conn.h"

struct proc_bpf;
struct sock_bpf;

/* Opens, configures (capture_bytes; logs: stdout and stderr read as OBS_EV_LOG, within
 * log_bytes_per_s per process), shares the proc object's maps, loads, attaches. */
struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes, bool logs,
				  uint64_t log_bytes_per_s);
void sock_probe_destroy(struct sock_bpf *skel); /* NULL ok */

/* Decodes one OBS_EV_SOCK_* event into conns, or an OBS_EV_GO one into its actors. Returns 0, or -EINVAL when it is short, of
 * another type, or says it captured more than it moved. */
int sock_event_decode(struct conn_table *conns, const void *data, size_t size);

#endif /* OBSPROBE_SOCK_PROBE_H */
