// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "probes/kernel.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

int kernel_check_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &hdr, data) == 0 &&
	    (has_cap(data, CAP_SYS_ADMIN) ||
	     (has_cap(data, CAP_BPF) && has_cap(data, CAP_PERFMON))))
		return 0;
	log_err("loading BPF programs needs root or CAP_BPF and CAP_PERFMON (run it with sudo)");
	return -EPERM;
}

int kernel_check_btf(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	log_err("this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); obsprobe needs a kernel "
		"built with CONFIG_DEBUG_INFO_BTF=y",
		strerror(errno));
	return -ENOENT;
}

/* libbpf looks under debugfs first, then /sys/kernel/tracing */
static bool tracefs_mounted(void)
{
	return access("/sys/kernel/debug/tracing/events", F_OK) == 0 ||
	       access("/sys/kernel/tracing/events", F_OK) == 0;
}

int kernel_ensure_tracefs(void)
{
	int err;

	if (tracefs_mounted())
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		log_info("mounted tracefs at /sys/kernel/tracing");
		return 0;
	}
	err = -errno;
	log_warn("tracefs is not mounted and mounting it at /sys/kernel/tracing failed: %s; no "
		 "hook can sit on a tracepoint",
		 strerror(-err));
	return err;
}

/* A program that returns 0: enough for the kernel to say whether it takes the type. */
static int load_nop(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
	int fd;

	if (btf_id > 0)
		opts.attach_btf_id = (__u32)btf_id;
	fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);
	return fd < 0 ? -errno : fd;
}

/* Loads a no-op program of the type and attaches it for a moment to tp (a raw tracepoint name,
 * or NULL for a BTF-typed program, which names its hook by btf_id): 0, or -errno of the step
 * that failed. */
static int try_attach(enum bpf_prog_type type, enum bpf_attach_type attach, int btf_id,
		      const char *tp)
{
	int prog, link, err = 0;

	prog = load_nop(type, attach, btf_id);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(tp, prog);
	if (link < 0)
		err = -errno;
	else
		close(link);
	close(prog);
	return err;
}

/* Whether /proc/kallsyms names the kernel function fn (its BTF may lack a static one). */
static bool in_kallsyms(const char *fn)
{
	char *line = NULL;
	size_t cap = 0, n = strlen(fn);
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		const char *name = strrchr(line, ' ');

		found = name && !strncmp(name + 1, fn, n) && (name[n + 1] == '\n' || !name[n + 1]);
	}
	free(line);
	fclose(f);
	return found;
}

/* The perf event source named pmu ("kprobe", "uprobe") exists, and (kprobe) takes a probe on
 * a kernel function: opened for a moment, never enabled. */
static int try_pmu(const char *pmu, const char *func)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	char path[96], buf[32];
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	if (!func)
		return 0;
	attr.type = (__u32)strtoul(buf, NULL, 10);
	attr.config1 = (__u64)(uintptr_t)func; /* kprobe_func */
	attr.disabled = 1;
	fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static const char *const feature_names[KERNEL_FEATURE__COUNT] = {
	[KERNEL_TP_BTF] = "tp_btf",
	[KERNEL_RAW_TP] = "raw_tp",
	[KERNEL_TP] = "tp",
	[KERNEL_FENTRY] = "fentry",
	[KERNEL_KPROBE] = "kprobe",
	[KERNEL_UPROBE] = "uprobe",
	[KERNEL_UPROBE_PUSH] = "uprobe_push",
	[KERNEL_BPF_LOOP] = "bpf_loop",
	[KERNEL_RINGBUF] = "ringbuf",
};

const char *kernel_feature_name(enum kernel_feature f)
{
	return f < KERNEL_FEATURE__COUNT ? feature_names[f] : "?";
}

int kernel_hide_parse(const char *hide, unsigned int *mask, char *hooks, size_t hookslen, char *err,
		      size_t errlen)
{
	const char *p = hide;
	size_t i, hl = 1;

	*mask = 0;
	if (hookslen < 2)
		return -EINVAL;
	strcpy(hooks, ",");
	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n > 5 && !strncmp(p, "hook:", 5)) {
			if (hl + n - 5 + 2 > hookslen) {
				snprintf(err, errlen, "too many hooks to hide");
				return -EINVAL;
			}
			memcpy(hooks + hl, p + 5, n - 5);
			hl += n - 5;
			strcpy(hooks + hl++, ",");
			p += n + !!p[n];
			continue;
		}
		for (i = 0; i < KERNEL_FEATURE__COUNT; i++)
			if (strlen(feature_names[i]) == n && !strncmp(p, feature_names[i], n))
				break;
		if (i == KERNEL_FEATURE__COUNT) {
			snprintf(
				err, errlen,
				"'%.*s' is not a kernel feature (tp_btf, raw_tp, tp, fentry, kprobe, "
				"uprobe, uprobe_push, bpf_loop, ringbuf) or hook:NAME",
				(int)n, p);
			return -EINVAL;
		}
		*mask |= 1u << i;
		p += n + !!p[n];
	}
	return 0;
}

/* A ring buffer map can be made: 0 or -errno. */
static int try_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, 4096, NULL);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

void kernel_probe_features(struct kernel_features *kf, unsigned int hide)
{
	/* the kernel's BTF, parsed once for both ids (each parse is megabytes of heap) */
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int btf_tp = vmlinux ? btf__find_by_name_kind(vmlinux, "btf_trace_sched_process_exit",
						      BTF_KIND_TYPEDEF)
			     : -ENOENT;
	int btf_fn = vmlinux ? btf__find_by_name_kind(vmlinux, "vfs_read", BTF_KIND_FUNC) : -ENOENT;
	int push = vmlinux ? btf__find_by_name_kind(vmlinux, "push_emulate_op", BTF_KIND_FUNC)
			   : -ENOENT;
	size_t i;

	btf__free(vmlinux);

	memset(kf, 0, sizeof(*kf));
	kf->err[KERNEL_TP_BTF] =
		btf_tp < 0 ? btf_tp
			   : try_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, btf_tp, NULL);
	kf->err[KERNEL_RAW_TP] =
		try_attach(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0, "sched_process_exit");
	kf->err[KERNEL_TP] = tracefs_mounted() ? 0 : -ENOENT;
	kf->err[KERNEL_FENTRY] =
		btf_fn < 0 ? btf_fn
			   : try_attach(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, btf_fn, NULL);
	kf->err[KERNEL_KPROBE] = try_pmu("kprobe", "vfs_read");
	kf->err[KERNEL_UPROBE] = try_pmu("uprobe", NULL);
	kf->err[KERNEL_UPROBE_PUSH] = kf->err[KERNEL_UPROBE] ? kf->err[KERNEL_UPROBE]
				      : push >= 0 || in_kallsyms("push_emulate_op") ? 0
										    : -ENOENT;
	kf->err[KERNEL_BPF_LOOP] =
		libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) > 0
			? 0
			: -ENOENT;
	kf->err[KERNEL_RINGBUF] = try_ringbuf();
	for (i = 0; i < KERNEL_FEATURE__COUNT; i++) {
		if (!kf->err[i] && (hide & (1u << i))) {
			kf->err[i] = -ENOTSUP; /* OBSPROBE_HIDE_KERNEL_FEATURES: tests' fallbacks */
			kf->hidden[i] = true;
		}
		kf->has[i] = kf->err[i] == 0;
	}
}
