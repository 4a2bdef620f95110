/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps every obsprobe BPF object shares. Each object declares them; the loader creates them once
 * (in the proc object) and hands the same fds to the others with bpf_map__reuse_fd().
 */
#ifndef OBSPROBE_MAPS_BPF_H
#define OBSPROBE_MAPS_BPF_H

#include "obsprobe/common.h"

/* tgid -> OBS_TARGET_* flags: the processes somebody asked about. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBS_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OBS_RINGBUF_BYTES);
} events SEC(".maps");

/* Per-CPU loss counters, indexed by enum obs_drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OBS_DROP__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Wake the reader only once this much is waiting: a wakeup per event halves a busy server's
 * throughput, and the reader polls on a short timer anyway. */
const volatile __u64 wakeup_bytes = 256 * 1024;

/*
 * A field reached from a tracepoint's argument: read directly in tp_btf programs, whose
 * arguments are typed pointers the verifier lets us follow, and with bpf_probe_read_kernel in
 * their raw_tp twins (the fallback where the kernel refuses tp_btf), whose arguments are plain
 * numbers. typed is a constant in every caller: only one of the two is compiled in. The twin
 * of program NAME is NAME__raw (user/probes/probe.c keeps the one the kernel offers).
 */
#define ARG_READ(typed, p, field) ((typed) ? (p)->field : BPF_CORE_READ(p, field))

/* The twins of a hook whose only argument is a task: NAME on tp_btf/TP and NAME__raw on
 * raw_tp/TP, both `return body(p, typed)`. */
#define TASK_HOOK_TWINS(tp, name, body)                  \
	SEC("tp_btf/" #tp)                               \
	int BPF_PROG(name, struct task_struct *p)        \
	{                                                \
		return body(p, true);                    \
	}                                                \
	SEC("raw_tp/" #tp)                               \
	int BPF_PROG(name##__raw, struct task_struct *p) \
	{                                                \
		return body(p, false);                   \
	}

static __always_inline void count_drop(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&drops, &reason);

	if (v)
		*v += 1;
}

static __always_inline __u32 *target_of(__u32 tgid)
{
	return bpf_map_lookup_elem(&targets, &tgid);
}

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

static __always_inline void emit(void *data, __u64 size)
{
	if (bpf_ringbuf_output(&events, data, size, rb_flags()))
		count_drop(OBS_DROP_RINGBUF_FULL);
}

#endif /* OBSPROBE_MAPS_BPF_H */
