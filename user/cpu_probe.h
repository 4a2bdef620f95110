/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The cpu BPF object: thread states, run-queue latency, off-CPU time of watched processes. */
#ifndef OBSPROBE_CPU_PROBE_H
#define OBSPROBE_CPU_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "cpu.h"

struct cpu_bpf;
struct proc_bpf;

struct cpu_stats {
	uint32_t threads[SCHED_STATE__COUNT]; /* live threads by enum sched_thread_state */
	uint64_t runq_slots[SCHED_SLOTS];
	uint64_t runq_ns;
	uint64_t offcpu_ns; /* including the blocked time of threads still blocked */
	uint64_t voluntary;
	uint64_t involuntary;
};

/* Opens, loads (sharing owner's maps) and attaches; NULL with a logged reason. */
struct cpu_bpf *cpu_probe_start(struct proc_bpf *owner);
void cpu_probe_destroy(struct cpu_bpf *skel); /* NULL ok */
/* Records the threads tgid has now (from /proc), so that idle ones count before they run. */
int cpu_probe_watch(struct cpu_bpf *skel, uint32_t tgid, uint64_t now_ns);
/* Fills out[i] for tgids[i] (sorted ascending, n of them) in one pass over the maps. */
int cpu_probe_collect(struct cpu_bpf *skel, const uint32_t *tgids, size_t n,
		      struct cpu_stats *out, uint64_t now_ns);
/* Drops what the maps hold about tgid (it exited). */
void cpu_probe_forget(struct cpu_bpf *skel, uint32_t tgid);
/* Threads that found the thread map full. */
uint64_t cpu_probe_lost(struct cpu_bpf *skel);

#endif /* OBSPROBE_CPU_PROBE_H */
