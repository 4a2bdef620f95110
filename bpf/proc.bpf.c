// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Follows watched processes: children join the target set, exits leave it. Node-wide
 * (discover), every other process's exec and listen() go to user space, which judges it. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/fault.h"
#include "obsprobe/proc.h"
#include "fd.bpf.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* node-wide mode: report processes that are not watched (yet) too */
const volatile bool discover = false;

static __always_inline void emit_proc(__u32 type, struct task_struct *task, __u32 pid, __u32 ppid,
				      __s32 exit_code, __u32 *flags, bool now)
{
	struct obs_proc_event e = {};

	e.target_flags = flags ? *flags : 0;
	e.hdr.type = type;
	e.hdr.pid = pid;
	e.hdr.tid = BPF_CORE_READ(task, pid);
	e.hdr.ts_ns = bpf_ktime_get_ns();
	e.ppid = ppid;
	e.exit_code = exit_code;
	BPF_CORE_READ_STR_INTO(&e.comm, task, comm);
	if (now)
		emit_now(&e, sizeof(e));
	else
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
	target_add(ctgid, f);
	emit_proc(OBS_EV_PROC_FORK, child, ctgid, ptgid, 0, &f, false);
	return 0;
}

static __always_inline int on_exec(struct task_struct *p, const bool typed)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 *flags = target_of(tgid);

	if (!flags && !discover)
		return 0;
	/* its new image's uprobes (TLS, libpq, Go) are placed from this event: at once */
	emit_proc(OBS_EV_PROC_EXEC, p, tgid, 0, 0, flags, true);
	return 0;
}

static __always_inline int on_exit(struct task_struct *p, const bool typed)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 *flags = target_of(tgid), f;

	if (!flags)
		return 0;
	f = *flags;
	/* do_exit() drops signal->live before this tracepoint: 0 means the last thread is going. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	target_remove(tgid);
	emit_proc(OBS_EV_PROC_EXIT, p, tgid, 0, BPF_CORE_READ(p, exit_code), &f, false);
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

/*
 * A signal is delivered to the current thread: when it is a crash signal left to its default
 * action in a watched process, the process dies of it now. Its user registers and the top of its
 * stack go to user space, which unwinds them once the process is gone. A handled signal is not
 * reported (Go turns its faults into panics; a handler that re-raises with the default action
 * is caught then). Rare: the ring-buffer reservation is the event's 16 KiB.
 */
static __always_inline int on_signal(int sig, struct kernel_siginfo *info, struct k_sigaction *ka,
				     const bool typed)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, *flags, i;
	struct task_struct *task;
	struct fault_event *e;
	struct pt_regs regs;
	__u64 sp;

	/* SIGKILL is no crash (the OOM killer's is told by mem.bpf.c) */
	if (!fault_crash_signal(sig))
		return 0;
	flags = target_of(tgid);
	if (!flags || BPF_CORE_READ(ka, sa.sa_handler) != 0 /* SIG_DFL */)
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(OBS_DROP_RINGBUF_FULL);
		return 0;
	}
	event_hdr(&e->hdr, OBS_EV_FAULT, pid_tgid);
	e->sig = sig;
	e->code = BPF_CORE_READ(info, si_code);
	e->addr = (__u64)BPF_CORE_READ(info, _sifields._sigfault._addr);
	e->target_flags = *flags;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	task = bpf_get_current_task_btf();
	if (bpf_probe_read_kernel(&regs, sizeof(regs), (void *)bpf_task_pt_regs(task)))
		__builtin_memset(&regs, 0, sizeof(regs));
	e->regs[0] = regs.ax;
	e->regs[1] = regs.dx;
	e->regs[2] = regs.cx;
	e->regs[3] = regs.bx;
	e->regs[4] = regs.si;
	e->regs[5] = regs.di;
	e->regs[6] = regs.bp;
	e->regs[7] = regs.sp;
	e->regs[8] = regs.r8;
	e->regs[9] = regs.r9;
	e->regs[10] = regs.r10;
	e->regs[11] = regs.r11;
	e->regs[12] = regs.r12;
	e->regs[13] = regs.r13;
	e->regs[14] = regs.r14;
	e->regs[15] = regs.r15;
	e->regs[16] = regs.ip;
	sp = regs.sp;
	e->stack_addr = sp;
	e->stack_len = 0;
	/* chunk by chunk up to the first that faults: the window may pass the stack's top */
	for (i = 0; i < FAULT_STACK_BYTES / FAULT_STACK_CHUNK; i++) {
		if (bpf_probe_read_user(e->stack + i * FAULT_STACK_CHUNK, FAULT_STACK_CHUNK,
					(const void *)(sp + i * FAULT_STACK_CHUNK)))
			break;
		e->stack_len += FAULT_STACK_CHUNK;
	}
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	return on_signal(sig, info, ka, true);
}

SEC("raw_tp/signal_deliver")
int BPF_PROG(signal_deliver__raw, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	return on_signal(sig, info, ka, false);
}

/* Node-wide, for --port: a process starts listening on a TCP port. listen() is rare, and the
 * program is only loaded in node-wide mode (user/probes/proc.c). */
static __always_inline int on_listen(long ret)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, *flags;
	struct obs_proc_event e = {};
	struct sock *sk;

	if (ret != 0)
		return 0;
	sk = stream_sock_of_fd(PT_REGS_PARM1_SYSCALL(user_regs()));
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) == AF_UNIX)
		return 0;
	e.hdr.type = OBS_EV_PROC_LISTEN;
	e.hdr.pid = tgid;
	e.hdr.tid = (__u32)bpf_get_current_pid_tgid();
	e.hdr.ts_ns = bpf_ktime_get_ns();
	e.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	bpf_get_current_comm(&e.comm, sizeof(e.comm));
	flags = target_of(tgid);
	e.target_flags = flags ? *flags : 0;
	emit(&e, sizeof(e));
	return 0;
}
SYSCALL_EXIT(listen, on_listen)
