/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel and our privileges allow, checked before anything is loaded. */
#ifndef OBSPROBE_KERNEL_H
#define OBSPROBE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

/* Root, or CAP_BPF + CAP_PERFMON (+ CAP_SYS_ADMIN for tracefs). 0 or -EPERM, logged. */
int kernel_check_privileges(void);
/* /sys/kernel/btf/vmlinux present. 0 or -ENOENT, logged. */
int kernel_check_btf(void);
/* Tracepoints need tracefs; mounts it at /sys/kernel/tracing when nothing provides it. 0, or
 * -errno with a warning: then no hook sits on a tracepoint, the other kinds still may. */
int kernel_ensure_tracefs(void);

/* The kinds of hook a BPF program can sit on, as this kernel offers them. */
enum kernel_feature {
	KERNEL_TP_BTF, /* BTF-typed raw tracepoints (5.5+): typed arguments, direct reads */
	KERNEL_RAW_TP, /* raw tracepoints (4.17+): the same arguments, read with probe_read */
	KERNEL_TP,     /* classic tracepoints, through tracefs */
	KERNEL_FENTRY, /* fentry/fexit on kernel functions (5.5+, x86 trampolines; lockdown may
			* refuse them) */
	KERNEL_KPROBE, /* kprobes (CONFIG_KPROBES) */
	KERNEL_UPROBE, /* uprobes (CONFIG_UPROBES) */
	/* the kernel emulates `push reg` under a uprobe (push_emulate_op(), 2024 on) rather than
	 * single-stepping it: TLS probes may sit on a function's first push */
	KERNEL_UPROBE_PUSH,
	/* the bpf_loop helper (5.17+): a vectored read or write's every iovec is captured, else
	 * its first SOCK_MAX_IOV */
	KERNEL_BPF_LOOP,
	/* the BPF ring buffer map (5.8+): every event reaches obsprobe through one */
	KERNEL_RINGBUF,
	KERNEL_FEATURE__COUNT,
};

struct kernel_features {
	bool has[KERNEL_FEATURE__COUNT];
	int err[KERNEL_FEATURE__COUNT]; /* why not: -errno of the step that failed; -ENOTSUP
					 * when hidden */
	bool hidden[KERNEL_FEATURE__COUNT];
};

/*
 * Asks the running kernel, by loading and attaching a no-op program for a moment, which hooks
 * it offers (tp_btf on sched_process_exit, raw_tp on the same, fentry on vfs_read; the kprobe
 * PMU taking a probe on vfs_read; the uprobe PMU; tracefs; push_emulate_op in the kernel's
 * BTF or /proc/kallsyms; the bpf_loop helper; a ring buffer map). hide: features (bit 1 << feature)
 * to report missing anyway, so that the fallbacks run on a kernel that has everything
 * (OBSPROBE_HIDE_KERNEL_FEATURES, for tests). Quiet: the caller silences libbpf.
 */
void kernel_probe_features(struct kernel_features *kf, unsigned int hide);
const char *kernel_feature_name(enum kernel_feature f);
/* The comma-separated feature names of hide (NULL: none) as bits 1 << feature in *mask, and its
 * "hook:NAME" entries (a hook whose every variant is missing, as a tracepoint a kernel lacks)
 * as ",NAME,NAME," in hooks: 0, or -EINVAL and a message naming what is not a feature or does
 * not fit. */
int kernel_hide_parse(const char *hide, unsigned int *mask, char *hooks, size_t hookslen, char *err,
		      size_t errlen);

#endif /* OBSPROBE_KERNEL_H */
