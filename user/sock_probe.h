/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The sock BPF object: socket syscalls of watched processes; its events feed the HTTP tracker. */
#ifndef OBSPROBE_SOCK_PROBE_H
#define OBSPROBE_SOCK_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "sock.h"

struct proc_bpf;
struct sock_bpf;

/* Opens, configures (capture_bytes), shares the proc object's maps, loads, attaches. */
struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes);
void sock_probe_destroy(struct sock_bpf *skel); /* NULL ok */

/* Decodes one OBS_EV_SOCK_* event into the tracker. Returns 0, or -EINVAL when it is short. */
int sock_handle_event(struct http_tracker *t, const void *data, size_t size);

#endif /* OBSPROBE_SOCK_PROBE_H */
