/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a file descriptor of the current task is: the socket behind it. */
#ifndef OBSPROBE_FD_BPF_H
#define OBSPROBE_FD_BPF_H

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1

/* The user registers saved at syscall entry: exit-only tracepoints read the arguments there.
 * A BTF pointer: its fields are plain loads (PT_REGS_PARMn_SYSCALL), not a
 * bpf_probe_read_kernel() call each (PT_REGS_PARMn_CORE_SYSCALL). */
static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* The kernel's function for syscall name, which fentry/fexit attach to. */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_FN(name) "__x64_sys_" #name
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_FN(name) "__arm64_sys_" #name
#endif

/*
 * SYSCALL_EXIT(name, body, ...): a hook at the exit of syscall name running body(ret, ...), twice: an
 * fexit trampoline on the syscall's function, and the syscall's exit tracepoint. The loader
 * keeps the cheapest the kernel offers (user/probes/probe.c: choose_variants): fexit costs only
 * the syscalls it hooks, where enabling any syscall tracepoint sends every syscall of every task
 * on the node through the kernel's slow syscall path. Both read the arguments from user_regs().
 * SYSCALL_ENTER(name, body) is the same at the entry, body(fd) getting the first argument.
 */
#define SYSCALL_EXIT(name, body, ...)                                                \
	SEC("fexit/" SYSCALL_FN(name))                                               \
	int BPF_PROG(sys_exit_##name##__fexit, const struct pt_regs *regs, long ret) \
	{                                                                            \
		return body(ret, ##__VA_ARGS__);                                     \
	}                                                                            \
	SEC("tp/syscalls/sys_exit_" #name)                                           \
	int sys_exit_##name(struct trace_event_raw_sys_exit *ctx)                    \
	{                                                                            \
		return body(ctx->ret, ##__VA_ARGS__);                                \
	}
#define SYSCALL_ENTER(name, body)                                            \
	SEC("fentry/" SYSCALL_FN(name))                                      \
	int BPF_PROG(sys_enter_##name##__fentry, const struct pt_regs *regs) \
	{                                                                    \
		return body(PT_REGS_PARM1_SYSCALL(regs));                    \
	}                                                                    \
	SEC("tp/syscalls/sys_enter_" #name)                                  \
	int sys_enter_##name(struct trace_event_raw_sys_enter *ctx)          \
	{                                                                    \
		return body(ctx->args[0]);                                   \
	}

/* The TCP or unix stream socket fd is, in the current task; NULL for anything else. */
static __always_inline struct sock *stream_sock_of_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;
	__u16 family, type;
	umode_t mode;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	/* sk_type was a bitfield before v5.6 (bf9765145b85 "sock: make sk_protocol a 16-bit
	 * value"); the probed bitfield read handles both layouts. */
	type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (type != SOCK_STREAM)
		return NULL;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
		return NULL;
	return sk;
}

#endif /* OBSPROBE_FD_BPF_H */
