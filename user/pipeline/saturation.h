/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Saturation of every watched process, read once per tick from the cpu and mem BPF maps, from
 * /proc and from Go runtimes' memory: threads by state, run-queue latency, off-CPU and CPU
 * time, RSS and its peak, page faults, OOM kills, goroutines. Labelled service.name and
 * process.pid; a process's series stay `retain_s` seconds after its exit, then go.
 */
#ifndef OBSPROBE_SATURATION_H
#define OBSPROBE_SATURATION_H

#include <stddef.h>
#include <stdint.h>

#define SAT_SCHED 0x1u
#define SAT_MEMORY 0x2u
#define SAT_GO 0x4u
#define SAT_RETAIN_DEFAULT_S 60

struct metrics;
struct proc_bpf;
struct saturation;
struct targets;

/* Loads and attaches the BPF objects of the groups in `what`; NULL with a logged reason. A group
 * whose objects cannot be had is left out, said by saturation_failures(). */
struct saturation *saturation_start(struct proc_bpf *owner, struct metrics *m, unsigned int what,
				    unsigned int retain_s);
/* "what: why\n" for each group left out ("" for none, or NULL s). */
const char *saturation_failures(const struct saturation *s);
void saturation_free(struct saturation *s); /* NULL ok */
/* Picks up new targets, lets exited ones go, records every metric. now: CLOCK_MONOTONIC ns. */
void saturation_collect(struct saturation *s, struct targets *t, uint64_t now);
/* pid is no longer watched though it lives on (no longer selected): its series go now, not
 * retain_s after an exit, as none of them would be watched again. */
void saturation_let_go(struct saturation *s, uint32_t pid);
/* An OBS_EV_MEM_OOM event: counted and logged when the victim is watched. */
void saturation_oom(struct saturation *s, struct targets *t, const void *data, size_t size);
/* Losses for obsprobe's own health: threads the thread map had no room for. */
uint64_t saturation_lost_threads(const struct saturation *s);

#endif /* OBSPROBE_SATURATION_H */
