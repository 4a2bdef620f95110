/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps every obsprobe BPF object shares. Each object declares them; the loader creates them once
 * (in the proc object) and hands the same fds to the others with bpf_map__reuse_fd().
 */
#ifndef OBSPROBE_MAPS_BPF_H
#define OBSPROBE_MAPS_BPF_H

#include "obsprobe/common.h"
#include "obsprobe/go.h"

/* tgid -> OBS_TARGET_* flags: the processes somebody asked about. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBS_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} targets SEC(".maps");

/*
 * A bit per tgid, set for every one in targets (and, for a moment, for one just removed): what
 * the hooks that run for every task of the node (context switches, page faults, syscalls) ask
 * first. An array lookup the verifier inlines costs a few instructions, a hash lookup a call
 * and a hash; an unwatched task costs only this. Writers keep a bit set whenever its tgid is in
 * targets: they add to targets and then set the bit, and remove from targets, clear the bit,
 * then set it again if the tgid came back meanwhile. Memory-mapped for user space's writes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OBS_PID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_MMAPABLE);
} watched_bits SEC(".maps");

/* tgid -> where its Go build keeps the goroutine id: the Go programs among the targets. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GO_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct go_proc_cfg);
} go_procs SEC(".maps");

/* A goroutine a `go` statement is about to start, by its id told in advance -> the gopc it
 * must show (0: told twice, trust neither). LRU: one that never shows ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_BORN_MAX);
	__type(key, struct go_born_key);
	__type(value, __u64);
} go_born SEC(".maps");

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
 * throughput, and the reader polls on a timer anyway (user/app.c POLL_MS). The loader sets an
 * eighth of the ring (user/probes/probe.c set_wakeup()). */
const volatile __u64 wakeup_bytes = 512 * 1024;

/*
 * 1 while the reader sleeps past its poll timer (user/app.c read_events(): a poll found nothing,
 * so it waits for the next tick instead); the first event sent then wakes it, and clears this.
 * An idle reader wakes once a second rather than POLL_MS after POLL_MS: each wakeup of a
 * sleeping thread costs ~50 us of its CPU on the VMs obsprobe is measured on. Memory-mapped
 * for user space's writes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_MMAPABLE);
} reader_sleeps SEC(".maps");

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

static __always_inline __u64 *target_word(__u32 tgid)
{
	__u32 word = tgid / 64;

	return bpf_map_lookup_elem(&watched_bits, &word);
}

/*
 * Whether tgid is watched, by its bit alone: for the hooks that need no flags, on the hottest
 * paths (every socket syscall, context switch, page fault of the node), one inlined array
 * lookup instead of that and a hash lookup. The bit is set after the targets entry is made and
 * cleared after it is deleted, so for a process joining or leaving it can say yes a moment late
 * or a moment long; user space takes the events of a process it no longer watches either way.
 */
static __always_inline bool is_target(__u32 tgid)
{
	__u64 *w = target_word(tgid);

	return w && (*w & (1ull << (tgid % 64)));
}

/* tgid's targets flags; NULL when it is not watched (its bit, then the entry) */
static __always_inline __u32 *target_of(__u32 tgid)
{
	if (!is_target(tgid))
		return NULL;
	return bpf_map_lookup_elem(&targets, &tgid);
}

/* tgid joins targets with flags f, then its bit is set. */
static __always_inline void target_add(__u32 tgid, __u32 f)
{
	__u64 *w;

	bpf_map_update_elem(&targets, &tgid, &f, BPF_ANY);
	w = target_word(tgid);
	if (w)
		__sync_fetch_and_or(w, 1ull << (tgid % 64));
}

/* tgid leaves targets, then its bit is cleared, and set again if user space added it back
 * meanwhile (its PID reused). */
static __always_inline void target_remove(__u32 tgid)
{
	__u64 *w;

	bpf_map_delete_elem(&targets, &tgid);
	w = target_word(tgid);
	if (!w)
		return;
	__sync_fetch_and_and(w, ~(1ull << (tgid % 64)));
	if (bpf_map_lookup_elem(&targets, &tgid))
		__sync_fetch_and_or(w, 1ull << (tgid % 64));
}

/*
 * The goroutine running on this thread of a Go program, from the user registers regs: the Go
 * register ABI keeps the running g in R14. Trusted only when the user stack pointer lies
 * within that g's stack (g.stack.lo and .hi are the struct's first two words): that rules out
 * code that is not Go (cgo, a signal handler) holding anything else in R14. 0 when it is not
 * a goroutine (the runtime's g0 has goid 0 too), and for a Go program whose goroutines are not
 * followed (goid_off 0).
 */
static __always_inline __u64 go_goid_of(const struct go_proc_cfg *cfg, __u64 g, __u64 sp)
{
	__u64 stack[2], goid = 0;

	if (!cfg->goid_off || !g || bpf_probe_read_user(stack, sizeof(stack), (const void *)g) ||
	    sp < stack[0] || sp >= stack[1])
		return 0;
	if (bpf_probe_read_user(&goid, sizeof(goid), (const void *)(g + cfg->goid_off)))
		return 0;
	return goid;
}

/* The header of an event the current task sends, built in place (a ring-buffer reservation). */
static __always_inline void event_hdr(struct obs_event_hdr *h, __u32 type, __u64 pid_tgid)
{
	h->type = type;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->pad = 0;
	h->ts_ns = bpf_ktime_get_ns();
}

/* The least time between two wakeups an object's producers force while the reader keeps up.
 * Every event sent with BPF_RB_FORCE_WAKEUP raises an IRQ-work interrupt (a self-IPI; a VM exit
 * on a VM) until the woken reader gets a CPU and drains: ~1,900 a second on a loaded Go server,
 * 3 to 5% of its throughput, where one a millisecond wakes the reader as well. */
#define RB_WAKE_GAP_NS 1000000

/* When this object's producers last forced a wakeup; CPUs race on it, and the worst a race does
 * is one wakeup more. */
static __u64 rb_woke_ns;

/*
 * BPF_RB_NO_WAKEUP below wakeup_bytes waiting (the reader's timer reads them), unless the reader
 * sleeps past its timer (reader_sleeps: this event wakes it); from there BPF_RB_FORCE_WAKEUP at
 * most once an RB_WAKE_GAP_NS; and with every event once a quarter of the ring is waiting: the
 * reader is behind (a slow build, a CPU-starved node), and the interrupts, which slow the
 * producers down, are the only brake on them before the ring is full and events are lost. An
 * ASan obsprobe on nginx lost thousands of events to a full ring with the gap alone, none
 * without it.
 */
static __always_inline __u64 rb_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA), now, *sleeps;
	__u32 zero = 0;

	if (avail < wakeup_bytes) {
		sleeps = bpf_map_lookup_elem(&reader_sleeps, &zero);
		if (!sleeps || !*sleeps)
			return BPF_RB_NO_WAKEUP;
		*sleeps = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (avail >= bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4)
		return BPF_RB_FORCE_WAKEUP;
	now = bpf_ktime_get_ns();
	if (now - rb_woke_ns < RB_WAKE_GAP_NS)
		return BPF_RB_NO_WAKEUP;
	rb_woke_ns = now;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void emit_flags(void *data, __u64 size, __u64 flags)
{
	if (bpf_ringbuf_output(&events, data, size, flags))
		count_drop(OBS_DROP_RINGBUF_FULL);
}

static __always_inline void emit(void *data, __u64 size)
{
	emit_flags(data, size, rb_flags());
}

/* An event user space must act on before the process runs far (an exec, a library mapped: the
 * uprobes to place on it): the reader is woken whatever the fill, not at its next poll. They
 * come a few per process start. */
static __always_inline void emit_now(void *data, __u64 size)
{
	emit_flags(data, size, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void go_send(__u64 pid_tgid, __u32 kind, __u64 goid, __u64 arg, __u64 pc)
{
	struct go_event e = {};

	event_hdr(&e.hdr, OBS_EV_GO, pid_tgid);
	e.kind = kind;
	e.goid = goid;
	e.arg = arg;
	e.pc = pc;
	emit(&e, sizeof(e));
}

/*
 * The goroutine running on this thread of process pid_tgid (go_goid_of()); the first time a
 * goroutine told in advance shows (go_born), its gopc goes out ahead of whatever event the
 * caller sends, so that user space checks the spawn before it uses it.
 */
static __always_inline __u64 go_running(const struct go_proc_cfg *cfg, __u64 pid_tgid, __u64 g,
					__u64 sp)
{
	struct go_born_key k = { .tgid = pid_tgid >> 32 };
	__u64 *want, gopc = 0;

	k.goid = go_goid_of(cfg, g, sp);
	if (!k.goid || !cfg->gopc_off)
		return k.goid;
	want = bpf_map_lookup_elem(&go_born, &k);
	if (!want)
		return k.goid;
	if (*want)
		bpf_probe_read_user(&gopc, sizeof(gopc), (const void *)(g + cfg->gopc_off));
	bpf_map_delete_elem(&go_born, &k);
	go_send(pid_tgid, GO_EV_BORN, k.goid, gopc, 0);
	return k.goid;
}

#endif /* OBSPROBE_MAPS_BPF_H */
