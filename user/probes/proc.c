// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/proc.h"
#include "probes/proc.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/log.h"
#include "probes/probe.h"
#include "obsprobe/common.h"
#include "proc.skel.h"

/* watched_bits (bpf/maps.bpf.h), mapped once: its bits are set and cleared with atomics, as
 * the BPF side does, in the same order around the targets map. One proc object a process. */
static uint64_t *bits;
/* reader_sleeps (bpf/maps.bpf.h), mapped once */
static uint64_t *sleeps;

static const struct probe_load_opts proc_load = {
	"proc", "the sched_process_{fork,exec,exit} and signal_deliver programs", false
};

/* Node-wide only: every other process's exec is reported, and listen() is hooked (its fexit
 * and tracepoint twins). Crashes: the signal_deliver twins, unless errors are off. */
static int configure(struct proc_bpf *skel, bool discover, bool faults, uint64_t ring_bytes)
{
	skel->rodata->discover = discover;
	return bpf_map__set_max_entries(skel->maps.events, (__u32)ring_bytes) ||
	       bpf_program__set_autoload(skel->progs.sys_exit_listen, discover) ||
	       bpf_program__set_autoload(skel->progs.sys_exit_listen__fexit, discover) ||
	       bpf_program__set_autoload(skel->progs.signal_deliver, faults) ||
	       bpf_program__set_autoload(skel->progs.signal_deliver__raw, faults);
}

/* The first object: it creates the maps the others share, and is attached last. */
struct proc_bpf *proc_probe_open_load(bool discover, bool faults, uint64_t ring_bytes)
{
	return PROBE_OPEN_LOAD(proc_bpf, &proc_load, NULL,
			       configure(skel, discover, faults, ring_bytes));
}

int proc_probe_attach(struct proc_bpf *skel)
{
	return probe_attach(skel->skeleton, &proc_load);
}

const struct bpf_object *proc_probe_object(const struct proc_bpf *skel)
{
	return skel->obj;
}

uint64_t *proc_probe_reader_sleeps(struct proc_bpf *skel)
{
	void *p;

	if (sleeps)
		return sleeps;
	p = mmap(NULL, sizeof(*sleeps), PROT_READ | PROT_WRITE, MAP_SHARED,
		 bpf_map__fd(skel->maps.reader_sleeps), 0);
	if (p == MAP_FAILED)
		return NULL;
	sleeps = p;
	return sleeps;
}

void proc_probe_destroy(struct proc_bpf *skel)
{
	if (sleeps) {
		munmap(sleeps, sizeof(*sleeps));
		sleeps = NULL;
	}
	if (bits) {
		munmap(bits, (size_t)OBS_PID_WORDS * sizeof(*bits));
		bits = NULL;
	}
	proc_bpf__destroy(skel);
}

int proc_probe_targets_fd(const struct proc_bpf *skel)
{
	return bpf_map__fd(skel->maps.targets);
}

int proc_probe_events_fd(const struct proc_bpf *skel)
{
	return bpf_map__fd(skel->maps.events);
}

int proc_probe_drops_fd(const struct proc_bpf *skel)
{
	return bpf_map__fd(skel->maps.drops);
}

static uint64_t *bits_word(const struct proc_bpf *skel, uint32_t pid)
{
	if (pid / 64 >= OBS_PID_WORDS)
		return NULL;
	if (!bits) {
		void *p = mmap(NULL, (size_t)OBS_PID_WORDS * sizeof(*bits), PROT_READ | PROT_WRITE,
			       MAP_SHARED, bpf_map__fd(skel->maps.watched_bits), 0);

		if (p == MAP_FAILED)
			return NULL;
		bits = p;
	}
	return &bits[pid / 64];
}

int proc_probe_watch(struct proc_bpf *skel, uint32_t pid, uint32_t flags)
{
	uint64_t *w = bits_word(skel, pid);

	if (!w)
		return pid / 64 >= OBS_PID_WORDS ? -ERANGE : -errno;
	if (bpf_map_update_elem(proc_probe_targets_fd(skel), &pid, &flags, BPF_ANY))
		return -errno;
	__atomic_fetch_or(w, 1ull << (pid % 64), __ATOMIC_SEQ_CST);
	return 0;
}

int proc_probe_unwatch(struct proc_bpf *skel, uint32_t pid)
{
	uint64_t *w = bits_word(skel, pid);
	uint32_t flags;

	if (bpf_map_delete_elem(proc_probe_targets_fd(skel), &pid) && errno != ENOENT)
		return -errno;
	if (!w)
		return 0;
	__atomic_fetch_and(w, ~(1ull << (pid % 64)), __ATOMIC_SEQ_CST);
	/* added again meanwhile by a fork the BPF side followed (its PID reused) */
	if (!bpf_map_lookup_elem(proc_probe_targets_fd(skel), &pid, &flags))
		__atomic_fetch_or(w, 1ull << (pid % 64), __ATOMIC_SEQ_CST);
	return 0;
}

int proc_probe_percpu_sum(int fd, const void *key, uint64_t *out, size_t n)
{
	int ncpu = libbpf_num_possible_cpus(), c, err = 0;
	__u64 *vals;
	size_t i;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	memset(out, 0, n * sizeof(*out));
	vals = calloc((size_t)ncpu * n, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals))
		err = -errno;
	for (c = 0; !err && c < ncpu; c++)
		for (i = 0; i < n; i++)
			out[i] += vals[(size_t)c * n + i];
	free(vals);
	return err;
}

int proc_probe_read_drops(struct proc_bpf *skel, uint64_t *out, size_t n)
{
	__u32 key;

	for (key = 0; key < n && key < OBS_DROP__COUNT; key++)
		if (proc_probe_percpu_sum(proc_probe_drops_fd(skel), &key, &out[key], 1))
			out[key] = 0;
	return 0;
}
