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

struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes)
{
	const struct probe_load_opts opts = {
		.name = "sock",
		.hooks = "the syscall tracepoints",
		.owner = proc_probe_object(owner),
		.attach = true,
	};
	struct sock_bpf *skel = sock_bpf__open();

	if (!skel) {
		log_err("cannot open the sock BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->capture_bytes = capture_bytes;
	if (probe_load(skel->skeleton, &opts)) {
		sock_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

void sock_probe_destroy(struct sock_bpf *skel)
{
	sock_bpf__destroy(skel);
}
