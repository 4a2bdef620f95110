// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread states, run-queue latency and off-CPU time of watched processes, from the scheduler's
 * tracepoints. Every hit on an unwatched task ends at one map lookup; watched ones update maps,
 * never the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/sched.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tp_btf arguments are BTF pointers: fields are read with plain loads (CO-RE relocated), not
 * bpf_probe_read_kernel calls, which on sched_switch's rate is most of the cost. */

#define TASK_RUNNING 0
#define PF_EXITING 0x00000004
#define E2BIG 7

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCHED_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct sched_thread);
} threads SEC(".maps");

/* One copy, not one a CPU (8192 entries of 248 bytes on each CPU were 130 MB on a 64-CPU
 * node): written only when a thread's pending counts move here (thread_flush()). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBS_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct sched_proc);
} procs SEC(".maps");

/* Threads that found the threads map full: their states are missing from the counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} threads_full SEC(".maps");

/* task_struct->state became __state in 5.14 (2f064a59a11f) */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t, const bool typed)
{
	struct task_struct___o *old = (void *)t;

	if (bpf_core_field_exists(t->__state))
		return ARG_READ(typed, t, __state);
	return BPF_CORE_READ(old, state);
}

/*
 * The clock. bpf_ktime_get_ns() costs ~110 ns a call in this VM (kvm-clock), a third of a
 * watched context switch. The scheduler has just read its own clock for the task's run queue
 * at both hooks (update_rq_clock() before a wakeup and before a switch), and that rq->clock is
 * reached from the task through typed loads: sched_clock's time, not CLOCK_MONOTONIC's. Each
 * CPU keeps the offset between the two, taken again with bpf_ktime_get_ns() once its clock has
 * moved SCHED_CLOCK_REFRESH_NS past the last taking; every stamp stays in CLOCK_MONOTONIC's
 * terms (user space compares them with its own), off by the clocks' drift over that time.
 * Without the typed path (raw_tp twins, a kernel without group scheduling, more CPUs than
 * the map holds) each stamp is a bpf_ktime_get_ns().
 */
#define SCHED_CLOCK_CPUS 1024
#define SCHED_CLOCK_REFRESH_NS (8 * 1000 * 1000ull)

struct sched_clock_off {
	__u64 rq_at; /* rq->clock when off was taken; 0: never */
	__u64 off;   /* bpf_ktime_get_ns() - rq->clock then (two's complement) */
};

/* a plain array of 16 KiB: kmalloc()ed, no vmalloc page to miss in the TLB, and inlined */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SCHED_CLOCK_CPUS);
	__type(key, __u32);
	__type(value, struct sched_clock_off);
} clock_offs SEC(".maps");

/* Now, in bpf_ktime_get_ns()'s terms, at a wakeup or a switch of t (whose run queue the
 * scheduler has just clocked). */
static __always_inline __u64 sched_now(struct task_struct *t, const bool typed)
{
	struct sched_clock_off *c;
	struct rq *rq;
	__u64 clock, now;
	__u32 cpu;

	if (!typed || !bpf_core_field_exists(t->se.cfs_rq) ||
	    !bpf_core_field_exists(((struct rq *)0)->cpu))
		return bpf_ktime_get_ns();
	rq = t->se.cfs_rq->rq;
	clock = rq->clock;
	cpu = rq->cpu;
	c = bpf_map_lookup_elem(&clock_offs, &cpu);
	if (!c || !clock)
		return bpf_ktime_get_ns();
	if (c->rq_at && clock - c->rq_at < SCHED_CLOCK_REFRESH_NS)
		return clock + c->off;
	now = bpf_ktime_get_ns();
	c->off = now - clock;
	c->rq_at = clock;
	return now;
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline struct sched_proc *proc_of(__u32 tgid)
{
	static const struct sched_proc zero;
	struct sched_proc *p = bpf_map_lookup_elem(&procs, &tgid);

	if (p)
		return p;
	bpf_map_update_elem(&procs, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&procs, &tgid);
}

/* Moves started and moves ended of pending counts into procs (thread_flush()): user space
 * reads the threads and procs maps again when a move began while it read them. */
__u64 flush_begun, flush_ended;

/* Thread th's pending counts into its process's totals. False when the process has no entry
 * and none could be made (the counts stay pending). */
static __always_inline bool thread_flush(struct sched_thread *th, __u32 tgid)
{
	struct sched_proc *p = proc_of(tgid);
	__u32 i;

	if (!p)
		return false;
	__sync_fetch_and_add(&flush_begun, 1);
	/* atomic: threads of one process move theirs on several CPUs at once */
	__sync_fetch_and_add(&p->voluntary, th->voluntary_pending);
	__sync_fetch_and_add(&p->involuntary, th->involuntary_pending);
	__sync_fetch_and_add(&p->offcpu_ns, th->offcpu_pending_ns);
	__sync_fetch_and_add(&p->runq_ns, th->runq_pending_ns);
	for (i = 0; i < SCHED_SLOTS; i++)
		if (th->runq_pending[i])
			__sync_fetch_and_add(&p->runq_slots[i], th->runq_pending[i]);
	th->voluntary_pending = th->involuntary_pending = 0;
	th->offcpu_pending_ns = th->runq_pending_ns = 0;
	__builtin_memset(th->runq_pending, 0, sizeof(th->runq_pending));
	__sync_fetch_and_add(&flush_ended, 1);
	return true;
}

/* The entry of thread t of watched process tgid, created in state st when it has none yet
 * (threads that existed before the attach and were not seeded, or whose creation we did not
 * see). NULL for tasks on their way out: an exited thread must not come back. */
static __always_inline struct sched_thread *thread_get(struct task_struct *t, __u32 tgid, __u32 st,
						       __u64 now, const bool typed)
{
	__u32 tid = ARG_READ(typed, t, pid);
	struct sched_thread *th, fresh = {};

	th = bpf_map_lookup_elem(&threads, &tid);
	if (th)
		return th;
	if (ARG_READ(typed, t, flags) & PF_EXITING)
		return NULL;
	fresh.tgid = tgid;
	fresh.state = st;
	fresh.since_ns = now;
	if (bpf_map_update_elem(&threads, &tid, &fresh, BPF_NOEXIST) == -E2BIG) {
		__u32 zero = 0;
		__u64 *full = bpf_map_lookup_elem(&threads_full, &zero);

		if (full)
			*full += 1;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

/* thread_get() for a new task: NULL at once when its process is not watched. */
static __always_inline struct sched_thread *thread_of(struct task_struct *t, __u32 st,
						      const bool typed)
{
	__u32 tgid = ARG_READ(typed, t, tgid);

	if (!is_target(tgid))
		return NULL;
	/* the clock after the bit; bpf_ktime_get_ns(), as nothing has clocked a new task's run
	 * queue for it (sched_now()) */
	return thread_get(t, tgid, st, bpf_ktime_get_ns(), typed);
}

/* A wakeup makes a blocked thread runnable: its blocked time ends (kept in the thread's entry
 * until it gets a CPU), its wait for a CPU starts. */
static __always_inline int on_wakeup(struct task_struct *t, const bool typed)
{
	__u32 tgid = ARG_READ(typed, t, tgid);
	struct sched_thread *th;
	__u64 now;

	/* the bit before the clock: an unwatched task's wakeup ends here */
	if (!is_target(tgid))
		return 0;
	now = sched_now(t, typed);
	th = thread_get(t, tgid, SCHED_BLOCKED, now, typed);
	/* a wakeup can reach a thread still on its CPU (woken before it got to block) */
	if (!th || th->state == SCHED_RUNNING)
		return 0;
	if (th->state == SCHED_BLOCKED && now > th->since_ns)
		th->offcpu_pending_ns += now - th->since_ns;
	th->state = SCHED_RUNNABLE;
	th->runq_valid = 1;
	th->since_ns = now;
	return 0;
}

TASK_HOOK_TWINS(sched_wakeup, sched_wakeup, on_wakeup)
TASK_HOOK_TWINS(sched_wakeup_new, sched_wakeup_new, on_wakeup)

static __always_inline int on_switch(bool preempt, struct task_struct *prev,
				     struct task_struct *next, const bool typed)
{
	__u32 prev_tgid = ARG_READ(typed, prev, tgid), next_tgid = ARG_READ(typed, next, tgid);
	/* the bits alone: a switch needs no flags, and a hash lookup per side was a third of a
	 * watched switch's cost */
	bool prev_watched = is_target(prev_tgid), next_watched = is_target(next_tgid);
	struct sched_thread *th;
	bool waited;
	__u64 now;

	if (!prev_watched && !next_watched)
		return 0;
	now = sched_now(prev, typed);

	/* prev: only an entry it already has (a dying thread's last switch must not add one) */
	if (prev_watched) {
		__u32 tid = ARG_READ(typed, prev, pid);

		th = bpf_map_lookup_elem(&threads, &tid);
		if (th) {
			bool queued = preempt || task_state(prev, typed) == TASK_RUNNING;

			/* at most one between two switches in, where they are moved on before
			 * they overflow; saturating all the same, for a process whose procs
			 * entry could not be made */
			if (queued)
				th->involuntary_pending += th->involuntary_pending < 255;
			else
				th->voluntary_pending += th->voluntary_pending < 255;
			th->state = queued ? SCHED_RUNNABLE : SCHED_BLOCKED;
			th->runq_valid = queued;
			th->since_ns = now;
		}
	}
	if (!next_watched)
		return 0;
	th = thread_get(next, next_tgid, SCHED_RUNNING, now, typed);
	if (!th)
		return 0;
	/* a wait that looks negative is one of a few microseconds: queued on one CPU, run on
	 * another, whose clock offsets differ by that much (slot 0 still counts it) */
	waited = th->state == SCHED_RUNNABLE && th->runq_valid;
	/* its last switch out and wakeup, and this switch's wait if it had one, stay pending in
	 * its own entry until a count is about to overflow */
	if (th->voluntary_pending >= SCHED_PENDING_MAX ||
	    th->involuntary_pending >= SCHED_PENDING_MAX)
		thread_flush(th, next_tgid);
	if (waited) {
		__u64 delta = now > th->since_ns ? now - th->since_ns : 0;
		/* 64 bits, checked where it indexes: a 32-bit index is zero-extended into a copy
		 * of the register it was checked in, and 6.1's verifier loses the bound there */
		__u64 slot = log2_u64(delta / 1000);

		barrier_var(slot);
		if (slot >= SCHED_SLOTS)
			slot = SCHED_SLOTS - 1;
		if (th->runq_pending[slot] < SCHED_PENDING_MAX || thread_flush(th, next_tgid)) {
			th->runq_pending[slot] += 1;
			th->runq_pending_ns += delta;
		}
	}
	th->state = SCHED_RUNNING;
	th->runq_valid = 0;
	th->since_ns = now;
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(preempt, prev, next, true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch__raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(preempt, prev, next, false);
}

/* A new thread of a watched process: blocked until sched_wakeup_new puts it on a run queue.
 * New processes join the targets at sched_process_fork, after this; their first thread gets
 * its entry at that first wakeup. */
SEC("tp_btf/task_newtask")
int BPF_PROG(task_newtask, struct task_struct *task, u64 clone_flags)
{
	thread_of(task, SCHED_BLOCKED, true);
	return 0;
}

SEC("raw_tp/task_newtask")
int BPF_PROG(task_newtask__raw, struct task_struct *task, u64 clone_flags)
{
	thread_of(task, SCHED_BLOCKED, false);
	return 0;
}

static __always_inline int on_thread_exit(struct task_struct *p, const bool typed)
{
	__u32 tid = ARG_READ(typed, p, pid), tgid = ARG_READ(typed, p, tgid);
	/* do_exit() has counted it out of signal->live */
	bool last = !BPF_CORE_READ(p, signal, live.counter);
	struct sched_thread *th;

	/*
	 * The last thread of its process: user space reads live processes only, and a process
	 * that came and went between two of its collections is never forgotten there (node_churn:
	 * 6,000 entries left behind by a churn of short-lived processes when their exits moved
	 * their counts here). Whether it is still watched or not: the entry may have been made
	 * before it was let go.
	 */
	if (last)
		bpf_map_delete_elem(&procs, &tgid);
	if (!is_target(tgid))
		return 0;
	/* what it had pending goes to its process, which outlives it */
	th = bpf_map_lookup_elem(&threads, &tid);
	if (th && !last)
		thread_flush(th, tgid);
	bpf_map_delete_elem(&threads, &tid);
	return 0;
}

TASK_HOOK_TWINS(sched_process_exit, sched_thread_exit, on_thread_exit)
