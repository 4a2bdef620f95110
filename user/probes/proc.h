/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The proc BPF object: owns the maps every object shares, follows forks and exits. */
#ifndef OBSPROBE_PROC_PROBE_H
#define OBSPROBE_PROC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_object;
struct proc_bpf;

/* discover: node-wide mode (the exec and listen() of processes not watched are reported);
 * faults: crashes (fatal signals) of watched processes are reported. */
struct proc_bpf *proc_probe_open_load(bool discover, bool faults, uint64_t ring_bytes);
int proc_probe_attach(struct proc_bpf *skel);
void proc_probe_destroy(struct proc_bpf *skel); /* NULL ok */

/* Shared maps, for other objects to reuse (bpf_map__reuse_fd) and for the loader to read. */
int proc_probe_targets_fd(const struct proc_bpf *skel);
int proc_probe_events_fd(const struct proc_bpf *skel);
int proc_probe_drops_fd(const struct proc_bpf *skel);
/* The reader's flag the producers read (reader_sleeps, bpf/maps.bpf.h), memory-mapped: 1 while
 * the reader sleeps past its poll timer, cleared by the first event sent, which wakes it. NULL
 * when it cannot be mapped (the reader then polls on its timer only). */
uint64_t *proc_probe_reader_sleeps(struct proc_bpf *skel);
/* The object whose maps the others share (struct probe_load_opts.owner). */
const struct bpf_object *proc_probe_object(const struct proc_bpf *skel);

/* Target map: watch pid with OBS_TARGET_* flags (FOLLOW_CHILDREN: everything it forks from now
 * on, which inherits the flags). */
int proc_probe_watch(struct proc_bpf *skel, uint32_t pid, uint32_t flags);
int proc_probe_unwatch(struct proc_bpf *skel, uint32_t pid);
/* The value of key in the per-CPU map fd, n __u64 fields, each summed over the CPUs into out.
 * 0, or -errno (-ENOENT: no such key; out is then all zero). */
int proc_probe_percpu_sum(int fd, const void *key, uint64_t *out, size_t n);
/* Sums the per-CPU drop counters into out[OBS_DROP__COUNT]. */
int proc_probe_read_drops(struct proc_bpf *skel, uint64_t *out, size_t n);

#endif /* OBSPROBE_PROC_PROBE_H */
