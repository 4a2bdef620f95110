// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/sock.h"
#include "probes/sock.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "probes/proc.h"
#include "sock.skel.h"

struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes)
{
	struct sock_bpf *skel = sock_bpf__open();
	int err;

	if (!skel) {
		log_err("cannot open the sock BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->capture_bytes = capture_bytes;
	err = proc_probe_share_maps(owner, skel->obj);
	if (err) {
		log_err("cannot share maps with the sock BPF object: %s", strerror(-err));
		goto fail;
	}
	err = sock_bpf__load(skel);
	if (err) {
		log_err("cannot load the socket BPF programs: %s (run with -vv for the verifier log)",
			strerror(-err));
		goto fail;
	}
	err = sock_bpf__attach(skel);
	if (err) {
		log_err("cannot attach the syscall tracepoints: %s", strerror(-err));
		goto fail;
	}
	return skel;
fail:
	sock_bpf__destroy(skel);
	return NULL;
}

void sock_probe_destroy(struct sock_bpf *skel)
{
	sock_bpf__destroy(skel);
}
