/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The cpu BPF object: thread states, run-queue latency, off-CPU time of watched processes. */
#ifndef OBSPROBE_CPU_PROBE_H
#define OBSPROBE_CPU_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "obsprobe/sched.h"

struct sched_bpf;
struct proc_bpf;

struct cpu_stats {
	uint32_t threads[SCHED_STATE__COUNT]; /* live threads by enum sched_thread_state */
	uint64_t runq_slots[SCHED_SLOTS];
	uint64_t runq_ns;
	uint64_t offcpu_ns; /* including the blocked time of threads still blocked */
	uint64_t voluntary;
	uint64_t involuntary;
};

/* *now raised to *shown if below it; *shown takes it. */
static inline void counter_hold(uint64_t *shown, uint64_t *now)
{
	if (*now < *shown)
		*now = *shown;
	*shown = *now;
}

/*
 * Counters never go back: each of now's is raised to what shown holds, then shown takes them.
 * Two reads can disagree by what they cannot see at once: a thread's blocked time so far
 * counts until the thread exits blocked, and a move of pending counts into procs between the
 * reads of the two maps (retried, but not forever) shows them twice. A later, right, read
 * must not look like a counter reset to a rate().
 */
static inline void cpu_stats_hold(struct cpu_stats *shown, struct cpu_stats *now)
{
	size_t i;

	for (i = 0; i < SCHED_SLOTS; i++)
		counter_hold(&shown->runq_slots[i], &now->runq_slots[i]);
	counter_hold(&shown->runq_ns, &now->runq_ns);
	counter_hold(&shown->offcpu_ns, &now->offcpu_ns);
	counter_hold(&shown->voluntary, &now->voluntary);
	counter_hold(&shown->involuntary, &now->involuntary);
}

/* Opens, loads (sharing owner's maps) and attaches; NULL with a logged reason. */
struct sched_bpf *sched_probe_start(struct proc_bpf *owner);
void sched_probe_destroy(struct sched_bpf *skel); /* NULL ok */
/* Records the threads tgid has now (from /proc), so that idle ones count before they run. */
int sched_probe_watch(struct sched_bpf *skel, uint32_t tgid, uint64_t now_ns);
/* Fills out[i] for tgids[i] (sorted ascending, n of them) in one pass over the maps. */
int sched_probe_collect(struct sched_bpf *skel, const uint32_t *tgids, size_t n,
			struct cpu_stats *out, uint64_t now_ns);
/* Drops what the maps hold about tgid (it exited). */
void sched_probe_forget(struct sched_bpf *skel, uint32_t tgid);
/* Threads that found the thread map full. */
uint64_t sched_probe_lost(struct sched_bpf *skel);

#endif /* OBSPROBE_CPU_PROBE_H */
