// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/kernel.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int kernel_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (has_cap(data, CAP_SYS_ADMIN) ||
	     (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))))
		return 0;
	snprintf(err, errlen,
		 "loading BPF programs needs root or CAP_BPF and CAP_PERFMON "
		 "(run it with sudo)");
	return -EPERM;
}

int kernel_check_btf(char *err, size_t errlen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	snprintf(err, errlen,
		 "this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); obsprobe needs "
		 "a kernel built with CONFIG_DEBUG_INFO_BTF=y",
		 strerror(errno));
	return -ENOENT;
}

int kernel_ensure_tracefs(char *err, size_t errlen)
{
	/* libbpf looks under debugfs first, then /sys/kernel/tracing */
	if (access("/sys/kernel/debug/tracing/events", F_OK) == 0 ||
	    access("/sys/kernel/tracing/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		log_info("mounted tracefs at /sys/kernel/tracing");
		return 0;
	}
	snprintf(err, errlen,
		 "tracefs is not mounted and mounting it at /sys/kernel/tracing "
		 "failed: %s",
		 strerror(errno));
	return -errno;
}
