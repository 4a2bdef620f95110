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

int sched_probe_collect(struct sched_bpf *skel, const uint32_t *tgids, size_t n,
			struct cpu_stats *out, uint64_t now_ns)
{
	int tfd = bpf_map__fd(skel->maps.threads), pfd = bpf_map__fd(skel->maps.procs);
	__u32 key, next, *prev = NULL;
	struct sched_proc sum;
	size_t i;

	memset(out, 0, n * sizeof(*out));
	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		struct sched_thread th;
		long at;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(tfd, &key, &th))
			continue; /* exited meanwhile */
		at = find_tgid(tgids, n, th.tgid);
		if (at < 0 || th.state >= SCHED_STATE__COUNT)
			continue;
		out[at].threads[th.state]++;
		if (th.state == SCHED_BLOCKED && now_ns > th.since_ns)
			out[at].offcpu_ns += now_ns - th.since_ns;
		/* not on a CPU since it last left one: that switch, and the blocked time a
		 * wakeup ended, are not in the process's totals yet */
		out[at].offcpu_ns += th.offcpu_pending_ns;
		out[at].voluntary += th.voluntary_pending;
		out[at].involuntary += th.involuntary_pending;
	}
	for (i = 0; i < n; i++) {
		/* struct sched_proc is all __u64 */
		if (proc_probe_percpu_sum(pfd, &tgids[i], (uint64_t *)&sum, sizeof(sum) / 8))
			continue;
		memcpy(out[i].runq_slots, sum.runq_slots, sizeof(out[i].runq_slots));
		out[i].runq_ns = sum.runq_ns;
		out[i].offcpu_ns += sum.offcpu_ns;
		out[i].voluntary += sum.voluntary;
		out[i].involuntary += sum.involuntary;
	}
	return 0;
}

void sched_probe_forget(struct sched_bpf *skel, uint32_t tgid)
{
	int tfd = bpf_map__fd(skel->maps.threads);
	__u32 last, next, *prev = NULL;
	struct sched_thread th;

	bpf_map_delete_elem(bpf_map__fd(skel->maps.procs), &tgid);
	/* threads normally leave at their exit; these are the ones whose exit was not seen.
	 * The walk continues from the last key kept, which is still in the map. */
	while (bpf_map_get_next_key(tfd, prev, &next) == 0) {
		if (bpf_map_lookup_elem(tfd, &next, &th) == 0 && th.tgid == tgid) {
			bpf_map_delete_elem(tfd, &next);
			continue;
		}
		last = next;
		prev = &last;
	}
}

uint64_t sched_probe_lost(struct sched_bpf *skel)
{
	uint64_t sum = 0;
	__u32 zero = 0;

	proc_probe_percpu_sum(bpf_map__fd(skel->maps.threads_full), &zero, &sum, 1);
	return sum;
}
