// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Follows watched processes: children join the target set, exits leave it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/proc.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void emit_proc(__u32 type, struct task_struct *task, __u32 pid, __u32 ppid,
				      __s32 exit_code)
{
	struct obs_proc_event e = {};

	e.hdr.type = type;
	e.hdr.pid = pid;
	e.hdr.tid = BPF_CORE_READ(task, pid);
	e.hdr.ts_ns = bpf_ktime_get_ns();
	e.ppid = ppid;
	e.exit_code = exit_code;
	BPF_CORE_READ_STR_INTO(&e.comm, task, comm);
	emit(&e, sizeof(e));
}

static __always_inline int on_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u32 *flags, f;

	if (ptgid == ctgid) /* a new thread: already covered by its tgid */
		return 0;
	flags = target_of(ptgid);
	if (!flags || !(*flags & OBS_TARGET_FOLLOW_CHILDREN))
		return 0;
	f = *flags;
	bpf_map_update_elem(&targets, &ctgid, &f, BPF_ANY);
	emit_proc(OBS_EV_PROC_FORK, child, ctgid, ptgid, 0);
	return 0;
}

static __always_inline int on_exec(struct task_struct *p, const bool typed)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!target_of(tgid))
		return 0;
	emit_proc(OBS_EV_PROC_EXEC, p, tgid, 0, 0);
	return 0;
}

static __always_inline int on_exit(struct task_struct *p, const bool typed)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);

	if (!target_of(tgid))
		return 0;
	/* do_exit() drops signal->live before this tracepoint: 0 means the last thread is going. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&targets, &tgid);
	emit_proc(OBS_EV_PROC_EXIT, p, tgid, 0, BPF_CORE_READ(p, exit_code));
	return 0;
}

/* Every read above goes through BPF_CORE_READ (typed is not needed): the tp_btf programs and
 * their raw_tp twins share the bodies as they are. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(sched_process_fork__raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(parent, child);
}

TASK_HOOK_TWINS(sched_process_exec, sched_process_exec, on_exec)
TASK_HOOK_TWINS(sched_process_exit, sched_process_exit, on_exit)
