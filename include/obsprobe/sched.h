/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Scheduler saturation of watched processes, aggregated in BPF maps and read on a timer: no
 * ring-buffer event crosses for these.
 */
#ifndef OBSPROBE_CPU_H
#define OBSPROBE_CPU_H

#include "obsprobe/common.h"

/* Run-queue latency in log2 microsecond slots, as runqlat keeps them: slot k counts waits of
 * [2^k, 2^(k+1)) us (slot 0 also holds 0-1 us); the last slot takes everything longer. */
#define SCHED_SLOTS 27
#define SCHED_MAX_THREADS 65536

enum sched_thread_state {
	SCHED_RUNNING = 0,
	SCHED_RUNNABLE = 1,
	SCHED_BLOCKED = 2,
	SCHED_STATE__COUNT,
};

/* threads map: tid -> what the thread does now and since when. */
struct sched_thread {
	__u32 tgid;
	__u8 state;	 /* enum sched_thread_state */
	__u8 runq_valid; /* since is when it was queued (a wakeup or a preemption we saw) */
	/* switches out not yet in the process's totals: one at most between two switches in,
	 * counted all the same (a few per thousand find the last one still there, here) */
	__u8 voluntary_pending;
	__u8 involuntary_pending;
	__u64 since_ns; /* the last state change, in bpf_ktime_get_ns()'s terms */
	/* blocked time that ended at a wakeup, added to the process's offcpu_ns when the thread
	 * gets a CPU. With the two above, a thread's wakeup and switch out touch no per-process
	 * entry, only its switch in does: a percpu hash lookup is ~120 ns here. User space adds
	 * both to what it reads from procs. */
	__u64 offcpu_pending_ns;
};
_Static_assert(sizeof(struct sched_thread) == 24, "sched_thread layout");

/* procs map (per CPU): tgid -> totals since the process was first seen. */
struct sched_proc {
	__u64 runq_slots[SCHED_SLOTS];
	__u64 runq_ns;	   /* sum of the waits in runq_slots */
	__u64 offcpu_ns;   /* blocked time of threads that have woken up and run since */
	__u64 voluntary;   /* switches out while blocking */
	__u64 involuntary; /* switches out while still runnable (preempted) */
};
_Static_assert(sizeof(struct sched_proc) == (SCHED_SLOTS + 4) * 8, "sched_proc layout");

#endif /* OBSPROBE_CPU_H */
