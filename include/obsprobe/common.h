/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Definitions shared by every BPF program and the user-space loader. */
#ifndef OBSPROBE_H
#define OBSPROBE_H

#ifndef __VMLINUX_H__ /* BPF side: vmlinux.h already has the kernel types */
#include <linux/types.h>
#endif

/* Every event that crosses a ring buffer starts with this header. */
enum obs_event_type {
	OBS_EV_PROC_FORK = 1,
	OBS_EV_PROC_EXIT = 2,
	OBS_EV_SOCK_OPEN = 3,
	OBS_EV_SOCK_DATA = 4,
	OBS_EV_SOCK_CLOSE = 5,
	OBS_EV_PROC_EXEC = 6,
	OBS_EV_MEM_OOM = 7,
	OBS_EV_PROC_MMAP = 8,	 /* a watched process mapped a file executable (dlopen, ld.so) */
	OBS_EV_LIBPQ = 9,	 /* a libpq call (libpq.h) */
	OBS_EV_GO = 10,		 /* a goroutine spawned or handing a call on (go.h) */
	OBS_EV_PROC_LISTEN = 11, /* node-wide: a process listens on a TCP port (proc.h) */
	OBS_EV_LOG = 12,	 /* a write to stdout or stderr (sock.h: a sock_data_event) */
	OBS_EV_FAULT = 13,	 /* a fatal signal, with registers and stack (fault.h) */
	OBS_EV_GO_PANIC = 14,	 /* a Go panic raised, recovered or fatal (go.h) */
};

struct obs_event_hdr {
	__u32 type;
	__u32 pid; /* tgid */
	__u32 tid;
	__u32 pad;
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
};
_Static_assert(sizeof(struct obs_event_hdr) == 24, "obs_event_hdr layout");

/* Why an event could not be delivered; indexes the per-CPU `drops` array. */
enum obs_drop_reason {
	OBS_DROP_RINGBUF_FULL = 0,
	OBS_DROP_READ_FAULT = 1,  /* bpf_probe_read_user of the payload failed */
	OBS_DROP_CONN_TABLE = 2,  /* connection map full */
	OBS_DROP_SCRATCH = 3,	  /* per-CPU scratch lookup failed */
	OBS_DROP_TLS_NO_CONN = 4, /* TLS plaintext whose socket was never seen */
	OBS_DROP_TLS_CALLS = 5,	  /* in-flight TLS call table full */
	OBS_DROP_H2_WALK = 6,	  /* an HTTP/2 frame walk gave up: more frames than steps */
	OBS_DROP_LOG_BUDGET = 7,  /* a write to stdout/stderr over its process's bytes per second */
	OBS_DROP__COUNT,
};

/* Values of the `targets` map (tgid -> flags). */
#define OBS_TARGET_WATCH 0x1
#define OBS_TARGET_FOLLOW_CHILDREN 0x2
/* asked for by --pid (or a descendant of one): kept whatever node-wide selectors say */
#define OBS_TARGET_PINNED 0x4

#define OBS_MAX_TARGETS 8192
/* The targets' bitmap (maps.bpf.h watched_bits): a bit for every PID up to the kernel's
 * PID_MAX_LIMIT (4,194,304 on 64-bit), in 64-bit words */
#define OBS_PID_WORDS (4194304 / 64)
/* the events ring buffer as compiled; the loader sets its size (--ring-buffer-size, 4M) */
#define OBS_RINGBUF_BYTES (4u << 20)

#endif /* OBSPROBE_H */
