// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/mem.h"
#include "probes/mem.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "mem.skel.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "process/procfs.h"

static const struct probe_load_opts mem_load = { "mem", "the memory tracepoints", true };

static int set_page_size(struct mem_bpf *skel)
{
	long page = sysconf(_SC_PAGESIZE);

	if (page > 0)
		skel->rodata->page_size = (__u64)page;
	return 0;
}

struct mem_bpf *mem_probe_start(struct proc_bpf *owner)
{
	return PROBE_OPEN_LOAD(mem_bpf, &mem_load, proc_probe_object(owner), set_page_size(skel));
}

void mem_probe_destroy(struct mem_bpf *skel)
{
	mem_bpf__destroy(skel);
}

/* RssFile, RssAnon, RssShmem of /proc/PID/status, in bytes. */
static int read_rss(uint32_t tgid, struct mem_proc *m)
{
	static const char *const keys[] = { "RssFile", "RssAnon", "RssShmem" };
	static const int members[] = { MEM_FILEPAGES, MEM_ANONPAGES, MEM_SHMEMPAGES };
	unsigned long long kib[3] = {};
	int found = procfs_read_status(tgid, keys, kib, 3);
	size_t i;

	if (found < 0)
		return found;
	if (!found)
		return -ENOENT; /* kernel threads have no memory of their own */
	for (i = 0; i < 3; i++)
		m->bytes[members[i]] = (__s64)(kib[i] * 1024);
	return 0;
}

int mem_probe_watch(struct mem_bpf *skel, uint32_t tgid)
{
	struct mem_proc m = {};
	int err = read_rss(tgid, &m);

	if (err)
		return err;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.mem), &tgid, &m, BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

int mem_probe_read(struct mem_bpf *skel, uint32_t tgid, uint64_t prev_rss, struct mem_stats *out)
{
	__u32 epoch = __atomic_load_n(&skel->bss->peak_epoch, __ATOMIC_ACQUIRE) - 1;
	struct mem_faults f;
	struct mem_proc m;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.mem), &tgid, &m) == 0) {
		__s64 rss =
			m.bytes[MEM_FILEPAGES] + m.bytes[MEM_ANONPAGES] + m.bytes[MEM_SHMEMPAGES];

		out->have_rss = true;
		out->rss = rss > 0 ? (uint64_t)rss : 0;
		/* the closed window's peak: what it started with, and every change in it */
		out->peak = prev_rss > out->rss ? prev_rss : out->rss;
		if (m.peak_epoch[epoch & 1] == epoch && m.peak[epoch & 1] > out->peak)
			out->peak = m.peak[epoch & 1];
	}
	/* struct mem_faults is all __u64; no entry yet is no fault yet */
	if (proc_probe_percpu_sum(bpf_map__fd(skel->maps.faults), &tgid, (uint64_t *)&f,
				  sizeof(f) / 8) == 0) {
		out->faults = f.faults;
		out->major = f.major;
	}
	return 0;
}

void mem_probe_next_window(struct mem_bpf *skel)
{
	__atomic_add_fetch(&skel->bss->peak_epoch, 1, __ATOMIC_RELEASE);
}

void mem_probe_forget(struct mem_bpf *skel, uint32_t tgid)
{
	bpf_map_delete_elem(bpf_map__fd(skel->maps.mem), &tgid);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.faults), &tgid);
}

int mem_decode_oom(const void *data, size_t size, struct mem_oom *out)
{
	const struct mem_oom_event *e = data;

	if (size < sizeof(*e) || e->hdr.type != OBS_EV_MEM_OOM)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->pid = e->hdr.pid;
	out->victim_pid = e->victim_pid;
	out->total_vm_kib = e->total_vm_kib;
	out->rss_kib = e->rss_kib;
	memcpy(out->comm, e->comm, sizeof(e->comm));
	return 0;
}
