// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * RSS, its peak, page faults and OOM kills of watched processes. rss_stat and page faults fire
 * at fault rate: they update maps and return at once for unwatched processes; only an OOM kill,
 * rare by nature, goes through the ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/mem.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u64 page_size = 4096;
/* The reading window user space is in (see struct mem_proc). */
__u32 peak_epoch;

/* Created by user space, seeded from /proc/PID/status, when it starts watching a process:
 * rss_stat reports one counter at a time, so an entry made here would lack the others. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OBS_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct mem_proc);
} mem SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, OBS_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct mem_faults);
} faults SEC(".maps");

/* tid -> the thread's maj_flt at its last fault: a fault's outcome is only known after it,
 * so a major one shows as growth at the thread's next fault. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} last_maj SEC(".maps");

/* mm->rss_stat was struct mm_rss_stat { atomic_long_t count[]; } before 6.2 (f1a7941243c1) */
struct mm_rss_stat___o {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___o {
	struct mm_rss_stat___o rss_stat;
} __attribute__((preserve_access_index));

static __always_inline __s64 mm_counter(struct mm_struct *mm, __u32 member)
{
	__s64 v;

	if (bpf_core_type_exists(struct mm_rss_stat___o)) {
		struct mm_struct___o *old = (void *)mm;

		v = BPF_CORE_READ(old, rss_stat.count[member].counter);
	} else {
		/* what get_mm_counter() reports: the shared count, per-CPU deltas not folded in */
		v = BPF_CORE_READ(mm, rss_stat[member].count);
	}
	return v < 0 ? 0 : v;
}

/* The process an mm belongs to: the current one, else its owner (another task changed it:
 * fork copying it, reclaim). mm->owner exists with CONFIG_MEMCG only. */
static __always_inline __u32 mm_tgid(struct mm_struct *mm, const bool typed)
{
	struct task_struct *cur = bpf_get_current_task_btf(), *owner;

	if (cur->mm == mm)
		return cur->tgid;
	if (!bpf_core_field_exists(mm->owner))
		return 0;
	owner = ARG_READ(typed, mm, owner);
	return owner ? ARG_READ(typed, owner, tgid) : 0;
}

static __always_inline int on_rss_stat(struct mm_struct *mm, int member, const bool typed)
{
	__u32 tgid = mm_tgid(mm, typed);
	__u32 epoch = peak_epoch, w = epoch & 1, idx;
	struct mem_proc *m;
	__u64 rss;

	if (!tgid || member < 0 || member >= MEM_COUNTERS)
		return 0;
	m = bpf_map_lookup_elem(&mem, &tgid);
	if (!m)
		return 0;
	/* the verifier loses the range check above across the copies clang makes: mask it */
	idx = (__u32)member;
	asm volatile("%0 &= 3" : "+r"(idx));
	m->bytes[idx] = mm_counter(mm, idx) * (__s64)page_size;
	rss = m->bytes[MEM_FILEPAGES] + m->bytes[MEM_ANONPAGES] + m->bytes[MEM_SHMEMPAGES];
	if (m->peak_epoch[w] != epoch) {
		m->peak_epoch[w] = epoch;
		m->peak[w] = rss;
	} else if (rss > m->peak[w]) {
		m->peak[w] = rss;
	}
	return 0;
}

SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, true);
}

SEC("raw_tp/rss_stat")
int BPF_PROG(rss_stat__raw, struct mm_struct *mm, int member)
{
	return on_rss_stat(mm, member, false);
}

/* Only the current task is read (a BTF pointer in both variants): one body serves both. */
static __always_inline int on_fault(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	static const struct mem_faults zero;
	struct task_struct *cur;
	struct mem_faults *f;
	__u64 maj, *last;

	if (!is_target(tgid))
		return 0;
	f = bpf_map_lookup_elem(&faults, &tgid);
	if (!f) {
		bpf_map_update_elem(&faults, &tgid, &zero, BPF_NOEXIST);
		f = bpf_map_lookup_elem(&faults, &tgid);
		if (!f)
			return 0;
	}
	f->faults++;
	cur = bpf_get_current_task_btf();
	maj = cur->maj_flt;
	last = bpf_map_lookup_elem(&last_maj, &tid);
	if (!last) {
		bpf_map_update_elem(&last_maj, &tid, &maj, BPF_ANY);
		return 0;
	}
	if (maj > *last) {
		f->major += maj - *last;
		*last = maj;
	}
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(page_fault_user, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	return on_fault();
}

SEC("raw_tp/page_fault_user")
int BPF_PROG(page_fault_user__raw, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	return on_fault();
}

/* A thread's last fault is settled when it exits. */
static __always_inline int on_thread_exit(struct task_struct *p, const bool typed)
{
	__u32 tgid = ARG_READ(typed, p, tgid), tid = ARG_READ(typed, p, pid);
	struct mem_faults *f;
	__u64 maj, *last;

	if (!is_target(tgid))
		return 0;
	last = bpf_map_lookup_elem(&last_maj, &tid);
	if (!last)
		return 0;
	maj = ARG_READ(typed, p, maj_flt);
	f = bpf_map_lookup_elem(&faults, &tgid);
	if (f && maj > *last)
		f->major += maj - *last;
	bpf_map_delete_elem(&last_maj, &tid);
	return 0;
}

TASK_HOOK_TWINS(sched_process_exit, mem_thread_exit, on_thread_exit)

SEC("tp/oom/mark_victim")
int mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct mem_oom_event e = {};

	e.victim_pid = BPF_CORE_READ(ctx, pid);
	/* The OOM killer often runs in the victim itself (it allocated last); otherwise the
	 * victim is the first thread of its process that still has memory: its leader, unless
	 * the leader already exited (then user space maps the thread to its process). */
	e.hdr.pid = (__u32)id == e.victim_pid ? id >> 32 : e.victim_pid;
	if (!is_target(e.hdr.pid) && !is_target(id >> 32))
		return 0;
	e.hdr.type = OBS_EV_MEM_OOM;
	e.hdr.tid = e.victim_pid;
	e.hdr.ts_ns = bpf_ktime_get_ns();
	if (bpf_core_field_exists(ctx->total_vm)) {
		e.total_vm_kib = BPF_CORE_READ(ctx, total_vm);
		e.rss_kib = BPF_CORE_READ(ctx, anon_rss) + BPF_CORE_READ(ctx, file_rss) +
			    BPF_CORE_READ(ctx, shmem_rss);
	}
	if (bpf_core_field_exists(ctx->__data_loc_comm)) {
		__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);

		bpf_probe_read_kernel_str(&e.comm, sizeof(e.comm), (void *)ctx + (loc & 0xffff));
	}
	emit(&e, sizeof(e));
	return 0;
}
