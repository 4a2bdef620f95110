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
	/* switches out not yet in the process's totals */
	__u8 voluntary_pending;
	__u8 involuntary_pending;
	__u64 since_ns; /* the last state change, in bpf_ktime_get_ns()'s terms */
	/* blocked time that ended at a wakeup, not yet in the process's offcpu_ns */
	__u64 offcpu_pending_ns;
	/* run-queue waits not yet in the process's histogram: their sum, and their count in
	 * each slot */
	__u64 runq_pending_ns;
	__u8 runq_pending[SCHED_SLOTS];
	__u8 pad[5];
	/*
	 * The pending counts go to the process's entry in procs (a hash lookup and its updates
	 * were ~70 ns of a switch's ~230 here) only when one of them is about to overflow, and at
	 * the exit of a thread that leaves others behind (the last one's process is gone): a
	 * switch touches the threads' own entries alone. User space adds them
	 * to what it reads from procs, and reads both again when a move happened meanwhile
	 * (flush_begun and flush_ended in sched.bpf.c).
	 */
};
_Static_assert(sizeof(struct sched_thread) == 64, "sched_thread layout");

/* A pending count moves to the process's entry at this value. */
#define SCHED_PENDING_MAX 250

/* procs map: tgid -> totals since the process was first seen, but for what its threads still
 * hold pending. */
struct sched_proc {
	__u64 runq_slots[SCHED_SLOTS];
	__u64 runq_ns;	   /* sum of the waits in runq_slots */
	__u64 offcpu_ns;   /* blocked time of threads that have woken up and run since */
	__u64 voluntary;   /* switches out while blocking */
	__u64 involuntary; /* switches out while still runnable (preempted) */
};
_Static_assert(sizeof(struct sched_proc) == (SCHED_SLOTS + 4) * 8, "sched_proc layout");

#endif /* OBSPROBE_CPU_H */
