// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/sched.h"
#include "probes/sched.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.skel.h"
#include "util/log.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "process/procfs.h"

static const struct probe_load_opts sched_load = { "sched", "the scheduler tracepoints", true };

struct sched_bpf *sched_probe_start(struct proc_bpf *owner)
{
	return PROBE_OPEN_LOAD(sched_bpf, &sched_load, proc_probe_object(owner), 0);
}

void sched_probe_destroy(struct sched_bpf *skel)
{
	sched_bpf__destroy(skel);
}

int sched_probe_watch(struct sched_bpf *skel, uint32_t tgid, uint64_t now_ns)
{
	int fd = bpf_map__fd(skel->maps.threads);
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/task", tgid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		struct sched_thread th = { .tgid = tgid, .since_ns = now_ns };
		struct procfs_stat ps;
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (*end || !tid || tid > UINT32_MAX)
			continue;
		if (procfs_read_stat(tgid, (uint32_t)tid, &ps))
			continue; /* gone meanwhile */
		/* R is running or waiting for a CPU; its next switch says which */
		th.state = ps.state == 'R' ? SCHED_RUNNABLE : SCHED_BLOCKED;
		/* what the BPF side already knows is newer than this */
		bpf_map_update_elem(fd, &(__u32){ (__u32)tid }, &th, BPF_NOEXIST);
	}
	closedir(d);
	return 0;
}

static long find_tgid(const uint32_t *tgids, size_t n, uint32_t tgid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (tgids[mid] == tgid)
			return (long)mid;
		if (tgids[mid] < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Entries of the threads map read at a time (walk_threads()) */
#define WALK_BATCH 256

/* Called on each entry; true when it deleted the entry. */
typedef bool (*thread_fn)(uint32_t tid, const struct sched_thread *th, void *ctx);

/* The threads map key by key: two system calls an entry. The walk goes on from the last key
 * kept, which is still in the map (from a deleted one it would start over). */
static int walk_keys(int fd, thread_fn fn, void *ctx)
{
	__u32 key, next, *prev = NULL;
	struct sched_thread th;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		/* else exited meanwhile */
		if (bpf_map_lookup_elem(fd, &next, &th) == 0 && fn(next, &th, ctx))
			continue;
		key = next;
		prev = &key;
	}
	return 0;
}

/*
 * fn on every entry of the threads map, WALK_BATCH at a time (bpf_map_lookup_batch): a system
 * call for a few hundred threads, where the walk key by key took two for each thread of every
 * target, every tick. Key by key on a kernel without batch lookups (before 5.6). 0 or -errno.
 */
static int walk_threads(int fd, thread_fn fn, void *ctx)
{
	static __u32 keys[WALK_BATCH];
	static struct sched_thread vals[WALK_BATCH];
	static bool no_batch;
	__u32 in = 0, out = 0, n, i;
	bool first = true;
	int err;

	while (!no_batch) {
		n = WALK_BATCH;
		err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, NULL);
		if (err && err != -ENOENT) {
			if (!first)
				return err;
			/* no batch lookups on this kernel (EINVAL; ENOTSUPP, 524, inside the
			 * kernel): key by key from now on. Anything else (a bucket longer than a
			 * batch: ENOSPC): key by key this time. */
			if (err == -EINVAL || err == -EOPNOTSUPP || err == -524)
				no_batch = true;
			break;
		}
		for (i = 0; i < n && i < WALK_BATCH; i++)
			fn(keys[i], &vals[i], ctx);
		if (err == -ENOENT)
			return 0;
		in = out;
		first = false;
	}
	return walk_keys(fd, fn, ctx);
}

struct collect {
	const uint32_t *tgids;
	size_t n;
	struct cpu_stats *out;
	uint64_t now_ns;
};

static bool collect_thread(uint32_t tid, const struct sched_thread *th, void *ctx)
{
	struct collect *c = ctx;
	long at = find_tgid(c->tgids, c->n, th->tgid);
	struct cpu_stats *o;
	int i;

	(void)tid;
	if (at < 0 || th->state >= SCHED_STATE__COUNT)
		return false;
	o = &c->out[at];
	o->threads[th->state]++;
	if (th->state == SCHED_BLOCKED && c->now_ns > th->since_ns)
		o->offcpu_ns += c->now_ns - th->since_ns;
	/* not on a CPU since it last left one: that switch, and the blocked time a wakeup ended,
	 * are not in the process's totals yet */
	o->offcpu_ns += th->offcpu_pending_ns;
	o->voluntary += th->voluntary_pending;
	o->involuntary += th->involuntary_pending;
	o->runq_ns += th->runq_pending_ns;
	for (i = 0; i < SCHED_SLOTS; i++)
		o->runq_slots[i] += th->runq_pending[i];
	return false;
}

/* The threads map, then procs: each process's counts are what its threads hold pending plus
 * what moved to its procs entry. */
static void collect_once(struct sched_bpf *skel, struct collect *c)
{
	int pfd = bpf_map__fd(skel->maps.procs);
	struct sched_proc sum;
	size_t i;
	int j;

	memset(c->out, 0, c->n * sizeof(*c->out));
	if (walk_threads(bpf_map__fd(skel->maps.threads), collect_thread, c)) {
		/* a batch failed after others were counted: once more, key by key */
		memset(c->out, 0, c->n * sizeof(*c->out));
		walk_keys(bpf_map__fd(skel->maps.threads), collect_thread, c);
	}
	for (i = 0; i < c->n; i++) {
		if (bpf_map_lookup_elem(pfd, &c->tgids[i], &sum))
			continue;
		for (j = 0; j < SCHED_SLOTS; j++)
			c->out[i].runq_slots[j] += sum.runq_slots[j];
		c->out[i].runq_ns += sum.runq_ns;
		c->out[i].offcpu_ns += sum.offcpu_ns;
		c->out[i].voluntary += sum.voluntary;
		c->out[i].involuntary += sum.involuntary;
	}
}

/* Reads that a move of pending counts (thread_flush() in sched.bpf.c) may have split, read
 * again: a move between the two maps' reads would show its counts twice or not at all. */
#define COLLECT_TRIES 4

int sched_probe_collect(struct sched_bpf *skel, const uint32_t *tgids, size_t n,
			struct cpu_stats *out, uint64_t now_ns)
{
	struct collect c = { tgids, n, out, now_ns };
	uint64_t begun, ended;
	int t;

	for (t = 0; t < COLLECT_TRIES; t++) {
		if (!skel->bss) {
			/* global data not mapped (a kernel before 5.5): one read */
			collect_once(skel, &c);
			return 0;
		}
		begun = __atomic_load_n(&skel->bss->flush_begun, __ATOMIC_ACQUIRE);
		ended = __atomic_load_n(&skel->bss->flush_ended, __ATOMIC_ACQUIRE);
		collect_once(skel, &c);
		/* no move under way when the reads began, and none begun since */
		if (begun == ended &&
		    __atomic_load_n(&skel->bss->flush_begun, __ATOMIC_ACQUIRE) == begun)
			return 0;
	}
	return 0; /* moves all along: the last read, off by what they moved */
}

struct forget {
	uint32_t tgid;
	int fd;
};

/* Deleting while walking: a batch walk has read its batch already; a key walk goes on from
 * the last key kept. */
static bool forget_thread(uint32_t tid, const struct sched_thread *th, void *ctx)
{
	struct forget *f = ctx;

	return th->tgid == f->tgid && bpf_map_delete_elem(f->fd, &tid) == 0;
}

void sched_probe_forget(struct sched_bpf *skel, uint32_t tgid)
{
	struct forget f = { tgid, bpf_map__fd(skel->maps.threads) };

	bpf_map_delete_elem(bpf_map__fd(skel->maps.procs), &tgid);
	/* threads normally leave at their exit; these are the ones whose exit was not seen */
	walk_threads(f.fd, forget_thread, &f);
}

uint64_t sched_probe_lost(struct sched_bpf *skel)
{
	uint64_t sum = 0;
	__u32 zero = 0;

	proc_probe_percpu_sum(bpf_map__fd(skel->maps.threads_full), &zero, &sum, 1);
	return sum;
}
