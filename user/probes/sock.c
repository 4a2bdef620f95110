// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/sock.h"
#include "probes/sock.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "sock.skel.h"

static const struct probe_load_opts sock_load = { "sock", "the syscall tracepoints", true };

struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes, bool logs,
				  uint64_t log_bytes_per_s)
{
	/* bpf_loop reads every iovec (up to SOCK_MAX_IOV_LOOP) of a vectored call, and walks
	 * HTTP/2 frames */
	bool loop = probe_kernel()->has[KERNEL_BPF_LOOP];

	if (!loop)
		log_info("sock: no bpf_loop in this kernel: the first %d iovecs of a vectored "
			 "read or write are captured, and HTTP/2 header blocks only within the "
			 "first and last %u bytes of each read or write",
			 SOCK_MAX_IOV, capture_bytes);
	return PROBE_OPEN_LOAD(sock_bpf, &sock_load, proc_probe_object(owner),
			       (skel->rodata->capture_bytes = capture_bytes,
				skel->rodata->use_loop = loop, skel->rodata->capture_logs = logs,
				skel->rodata->log_bytes_per_sec = log_bytes_per_s, 0));
}

void sock_probe_destroy(struct sock_bpf *skel)
{
	sock_bpf__destroy(skel);
}
