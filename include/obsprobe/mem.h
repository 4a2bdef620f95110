/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Memory of watched processes: RSS kept from the rss_stat tracepoint with its peak, page
 * faults, OOM kills. Aggregated in maps; only an OOM kill crosses the ring buffer.
 */
#ifndef OBSPROBE_MEM_H
#define OBSPROBE_MEM_H

#include "obsprobe/common.h"

/* The mm counters rss_stat reports (enum in include/linux/mm_types_task.h). */
#define MEM_FILEPAGES 0
#define MEM_ANONPAGES 1
#define MEM_SWAPENTS 2
#define MEM_SHMEMPAGES 3
#define MEM_COUNTERS 4

/* mem map: tgid -> RSS parts in bytes, as the last rss_stat said, and the highest RSS seen in
 * the current and the previous reading window. User space starts a window by bumping the
 * program's peak_epoch; the program keeps window e's peak in peak[e & 1], reset at the first
 * update it sees in that window, so neither side ever writes a field the other one owns. */
struct mem_proc {
	__s64 bytes[MEM_COUNTERS];
	__u64 peak[2];
	__u32 peak_epoch[2];
};
_Static_assert(sizeof(struct mem_proc) == 56, "mem_proc layout");

/* faults map (per CPU): tgid -> counts. */
struct mem_faults {
	__u64 faults; /* user page faults taken (exceptions/page_fault_user) */
	__u64 major;  /* of which major: growth of the faulting thread's maj_flt */
};
_Static_assert(sizeof(struct mem_faults) == 16, "mem_faults layout");

struct mem_oom_event {
	struct obs_event_hdr hdr; /* hdr.pid: the victim's tgid when known, else its pid */
	__u32 victim_pid;	  /* the task the OOM killer chose */
	__u32 pad;
	__u64 total_vm_kib;
	__u64 rss_kib; /* anon + file + shmem, where the kernel reports them */
	char comm[16];
};
_Static_assert(sizeof(struct mem_oom_event) == 64, "mem_oom_event layout");

#endif /* OBSPROBE_MEM_H */
