/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the running kernel and our privileges allow, checked before anything is loaded. */
#ifndef OBSPROBE_KERNEL_H
#define OBSPROBE_KERNEL_H

#include <stddef.h>

/* Root, or CAP_BPF + CAP_PERFMON (+ CAP_SYS_ADMIN for tracefs). 0 or -EPERM with a message. */
int kernel_check_privileges(char *err, size_t errlen);
/* /sys/kernel/btf/vmlinux present. 0 or -ENOENT with a message. */
int kernel_check_btf(char *err, size_t errlen);
/* Tracepoints need tracefs; mounts it at /sys/kernel/tracing when nothing provides it. */
int kernel_ensure_tracefs(char *err, size_t errlen);

#endif /* OBSPROBE_KERNEL_H */
