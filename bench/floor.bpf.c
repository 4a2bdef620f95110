// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The floor of the scheduler hooks (bench/saturation.sh): programs that return at once, on the
 * BTF tracepoints obsprobe's sched programs use per context switch. What any program there
 * costs on this kernel, before it does anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(floor_wakeup, struct task_struct *p)
{
	return 0;
}
