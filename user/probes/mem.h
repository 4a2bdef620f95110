/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The mem BPF object: RSS and its peak, page faults, OOM kills of watched processes. */
#ifndef OBSPROBE_MEM_PROBE_H
#define OBSPROBE_MEM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obsprobe/mem.h"

struct mem_bpf;
struct proc_bpf;

struct mem_stats {
	bool have_rss;	 /* the process has an entry (seeded at watch) */
	uint64_t rss;	 /* bytes, as the last rss_stat said */
	uint64_t peak;	 /* highest RSS in the window mem_probe_next_window() closed */
	uint64_t faults; /* user page faults */
	uint64_t major;	 /* of which major */
};

struct mem_oom {
	uint32_t pid; /* tgid when the BPF side knew it, else the victim's pid */
	uint32_t victim_pid;
	uint64_t total_vm_kib, rss_kib;
	char comm[17];
};

struct mem_bpf *mem_probe_start(struct proc_bpf *owner);
void mem_probe_destroy(struct mem_bpf *skel); /* NULL ok */
/* Starts keeping tgid's RSS, seeded from /proc/PID/status. 0, or -errno (-ESRCH: gone). */
int mem_probe_watch(struct mem_bpf *skel, uint32_t tgid);
/* A reading: mem_probe_next_window() closes the current peak window (the BPF side starts
 * the next one, in the other slot), then mem_probe_read() for each process reads the closed
 * one. prev_rss is the RSS the process had when that window opened (the last reading's). */
void mem_probe_next_window(struct mem_bpf *skel);
int mem_probe_read(struct mem_bpf *skel, uint32_t tgid, uint64_t prev_rss, struct mem_stats *out);
void mem_probe_forget(struct mem_bpf *skel, uint32_t tgid);
/* An OBS_EV_MEM_OOM event from the ring buffer. 0 or -EINVAL. */
int mem_decode_oom(const void *data, size_t size, struct mem_oom *out);

#endif /* OBSPROBE_MEM_PROBE_H */
