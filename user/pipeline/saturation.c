// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/saturation.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probes/probe.h"
#include "probes/sched.h"
#include "process/goruntime.h"
#include "util/clock.h"
#include "util/log.h"
#include "probes/mem.h"
#include "pipeline/metrics.h"
#include "pipeline/red.h"
#include "process/procfs.h"
#include "pipeline/targets.h"
#include "pipeline/semconv.h"

#define MAX_PROCS 8192

enum {
	F_THREADS,
	F_THREAD_STATES,
	F_RUNQ,
	F_OFFCPU,
	F_CPU_TIME,
	F_SWITCHES,
	F_RSS,
	F_PEAK,
	F_FAULTS,
	F_OOM,
	F_GOROUTINES,
	F__COUNT,
};

enum { GONE, LIVE, UNSEEN }; /* sat_proc.live; UNSEEN only inside sync_procs() */

struct sat_proc {
	uint32_t pid;
	int live;
	uint64_t exited_at;
	char pid_str[16];
	struct proc_info info; /* its resource when its series were last labelled */
	uint64_t last_rss;
	struct go_proc *go;
	uint64_t oom_kills;
	struct cpu_stats shown; /* the scheduler counters as last recorded (cpu_stats_hold) */
};

struct saturation {
	unsigned int what;
	uint64_t retain_ns; /* how long an exited process's series stay */
	struct metrics *m;
	struct sched_bpf *cpu;
	struct mem_bpf *mem;
	struct go_cache *go_cache;
	char failures[512]; /* "what: why\n" for each probe set that could not be had */
	int fam[F__COUNT];
	struct sat_proc *procs; /* sorted by pid */
	size_t n, cap;
	double ticks_per_s;
	/* scratch for one collection */
	uint32_t *live;
	struct cpu_stats *cpu_stats;
};

/* Log2 microsecond slots: slot k ends at 2^(k+1) us; the last slot is +Inf. */
static double runq_bounds[SCHED_SLOTS - 1];

static int register_families(struct saturation *s)
{
	const struct metric_family_def defs[F__COUNT] = {
		[F_THREADS] = { "process_thread_count", "Threads of the process.", METRIC_GAUGE,
				NULL, 0, SC_PROCESS_THREAD_COUNT, "{thread}" },
		[F_THREAD_STATES] = { "obsprobe_process_thread_count",
				      "Threads of the process by scheduler state: running (on a "
				      "CPU), runnable (waiting for one), blocked.",
				      METRIC_GAUGE, NULL, 0, "obsprobe.process.thread.count",
				      "{thread}" },
		[F_RUNQ] = { "obsprobe_sched_runqueue_latency_seconds",
			     "Time the process's threads waited on a run queue for a CPU, from "
			     "wakeup or preemption to running.",
			     METRIC_HISTOGRAM, runq_bounds, SCHED_SLOTS - 1,
			     "obsprobe.sched.runqueue.latency", "s" },
		[F_OFFCPU] = { "obsprobe_sched_offcpu_seconds_total",
			       "Time the process's threads spent blocked (off CPU, not runnable).",
			       METRIC_COUNTER, NULL, 0, "obsprobe.sched.offcpu", "s" },
		[F_CPU_TIME] = { "process_cpu_time_seconds_total",
				 "CPU time of the process by mode.", METRIC_COUNTER, NULL, 0,
				 SC_PROCESS_CPU_TIME, "s" },
		[F_SWITCHES] = { "process_context_switches_total",
				 "Context switches of the process's threads: voluntary (blocking) "
				 "or involuntary (preempted).",
				 METRIC_COUNTER, NULL, 0, SC_PROCESS_CONTEXT_SWITCHES,
				 "{context_switch}" },
		[F_RSS] = { "process_memory_usage_bytes",
			    "Resident memory of the process (kept from the rss_stat tracepoint).",
			    METRIC_GAUGE, NULL, 0, SC_PROCESS_MEMORY_USAGE, "By" },
		[F_PEAK] = { "obsprobe_process_memory_peak_bytes",
			     "Highest resident memory of the process since the previous reading "
			     "(one second).",
			     METRIC_GAUGE, NULL, 0, "obsprobe.process.memory.peak", "By" },
		[F_FAULTS] = { "obsprobe_page_faults_total",
			       "Page faults the process took in user mode, by type.",
			       METRIC_COUNTER, NULL, 0, "obsprobe.page_faults", "{fault}" },
		[F_OOM] = { "obsprobe_process_oom_kills_total",
			    "Times the kernel's OOM killer chose the process.", METRIC_COUNTER,
			    NULL, 0, "obsprobe.process.oom_kills", "{kill}" },
		[F_GOROUTINES] = { "go_goroutine_count",
				   "Live goroutines, read from the Go runtime's own counters.",
				   METRIC_GAUGE, NULL, 0, "go.goroutine.count", "{goroutine}" },
	};
	int i;

	for (i = 0; i < SCHED_SLOTS - 1; i++)
		runq_bounds[i] = (double)(2ull << i) * 1e-6;
	for (i = 0; i < F__COUNT; i++) {
		s->fam[i] = metrics_register(s->m, &defs[i]);
		if (s->fam[i] < 0)
			return s->fam[i];
	}
	return 0;
}

static void add_failure(struct saturation *s, const char *what)
{
	size_t len = strlen(s->failures);

	snprintf(s->failures + len, sizeof(s->failures) - len, "%s: %s\n", what,
		 probe_last_error());
}

const char *saturation_failures(const struct saturation *s)
{
	return s ? s->failures : "";
}

struct saturation *saturation_start(struct proc_bpf *owner, struct metrics *m, unsigned int what,
				    unsigned int retain_s)
{
	struct saturation *s = calloc(1, sizeof(*s));
	long tck = sysconf(_SC_CLK_TCK);

	if (!s)
		return NULL;
	s->what = what;
	s->m = m;
	s->retain_ns = (uint64_t)retain_s * 1000000000ull;
	s->ticks_per_s = tck > 0 ? (double)tck : 100.0;
	s->live = calloc(MAX_PROCS, sizeof(*s->live));
	s->cpu_stats = calloc(MAX_PROCS, sizeof(*s->cpu_stats));
	if (!s->live || !s->cpu_stats || register_families(s)) {
		log_err("cannot set up the saturation metrics");
		goto fail;
	}
	/* a kernel without a hook they need (a tracepoint it lacks) loses those metrics only:
	 * the rest runs, and readiness says what is missing */
	if ((what & SAT_SCHED) && !(s->cpu = sched_probe_start(owner)))
		add_failure(s, "the scheduler probes (thread and run-queue metrics)");
	if ((what & SAT_MEMORY) && !(s->mem = mem_probe_start(owner)))
		add_failure(s, "the memory probes (RSS, page fault and OOM metrics)");
	if ((what & SAT_GO) && !(s->go_cache = go_cache_new()))
		goto fail;
	return s;
fail:
	saturation_free(s);
	return NULL;
}

void saturation_free(struct saturation *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		go_proc_free(s->procs[i].go);
	sched_probe_destroy(s->cpu);
	mem_probe_destroy(s->mem);
	go_cache_free(s->go_cache);
	free(s->procs);
	free(s->live);
	free(s->cpu_stats);
	free(s);
}

static long find_proc(const struct saturation *s, uint32_t pid, size_t *at)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->procs[mid].pid == pid)
			return (long)mid;
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at)
		*at = lo;
	return -1;
}

static void drop_series(struct saturation *s, struct sat_proc *p)
{
	metrics_remove(s->m, SC_PROCESS_PID, p->pid_str);
}

static void proc_exit(struct saturation *s, struct sat_proc *p, uint64_t now)
{
	p->live = GONE;
	p->exited_at = now;
	go_proc_free(p->go);
	p->go = NULL;
	if (s->cpu)
		sched_probe_forget(s->cpu, p->pid);
	if (s->mem)
		mem_probe_forget(s->mem, p->pid);
}

static void proc_start(struct saturation *s, struct sat_proc *p, struct targets *t, uint64_t now)
{
	const struct proc_info *info = targets_get(t, p->pid);
	char msg[256] = "";
	int err;

	p->live = LIVE;
	p->exited_at = 0;
	p->last_rss = 0;
	p->oom_kills = 0;
	snprintf(p->pid_str, sizeof(p->pid_str), "%u", p->pid);
	if (info) {
		p->info = *info;
	} else {
		memset(&p->info, 0, sizeof(p->info));
		snprintf(p->info.service_name, sizeof(p->info.service_name), "unknown_service");
	}
	if (s->cpu)
		sched_probe_watch(s->cpu, p->pid, now);
	if (s->mem && (err = mem_probe_watch(s->mem, p->pid)) && err != -ESRCH && err != -ENOENT)
		log_warn("pid %u: cannot keep its memory: %s", p->pid, strerror(-err));
	if (s->what & SAT_GO) {
		err = go_proc_open(s->go_cache, p->pid, &p->go, msg, sizeof(msg));
		if (err && err != -ENOEXEC && err != -ESRCH)
			log_warn("%s", msg[0] ? msg : strerror(-err));
		else if (!err)
			log_info("pid %u is a Go program (%s): reading go_goroutine_count", p->pid,
				 go_proc_version(p->go));
	}
}

/* A process whose resource changed (its pod's metadata arrived, and with it its service.name)
 * loses its series under the old labels; the next collection sets them anew. */
static void relabel(struct saturation *s, struct sat_proc *p, struct targets *t)
{
	const struct proc_info *info = targets_get(t, p->pid);

	if (!info || (!strcmp(info->service_name, p->info.service_name) &&
		      !k8s_pod_info_cmp(&info->k8s, &p->info.k8s)))
		return;
	drop_series(s, p);
	p->info = *info;
}

/* The entry at k out of procs, its series with it. */
static void remove_proc(struct saturation *s, size_t k)
{
	drop_series(s, &s->procs[k]);
	memmove(&s->procs[k], &s->procs[k + 1], (s->n - k - 1) * sizeof(*s->procs));
	s->n--;
}

void saturation_let_go(struct saturation *s, uint32_t pid)
{
	long k;

	if (!s || (k = find_proc(s, pid, NULL)) < 0)
		return;
	if (s->procs[k].live)
		proc_exit(s, &s->procs[k], 0);
	remove_proc(s, (size_t)k);
}

/* New targets in, exited ones out, series of long-gone ones dropped. */
static size_t sync_procs(struct saturation *s, struct targets *t, uint64_t now)
{
	size_t i, n, at = 0;
	long k;

	n = targets_pids(t, s->live, MAX_PROCS);
	for (i = 0; i < s->n; i++)
		if (s->procs[i].live)
			s->procs[i].live = UNSEEN;
	for (i = 0; i < n; i++) {
		k = find_proc(s, s->live[i], &at);
		if (k >= 0) {
			if (s->procs[k].exited_at) { /* the pid came back: another process */
				drop_series(s, &s->procs[k]);
				proc_start(s, &s->procs[k], t, now);
			}
			s->procs[k].live = LIVE;
			relabel(s, &s->procs[k], t);
			continue;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct sat_proc *np = realloc(s->procs, cap * sizeof(*np));

			if (!np)
				continue;
			s->procs = np;
			s->cap = cap;
		}
		memmove(&s->procs[at + 1], &s->procs[at], (s->n - at) * sizeof(*s->procs));
		memset(&s->procs[at], 0, sizeof(*s->procs));
		s->procs[at].pid = s->live[i];
		s->n++;
		proc_start(s, &s->procs[at], t, now);
	}
	for (i = 0; i < s->n;) {
		struct sat_proc *p = &s->procs[i];

		if (p->live == UNSEEN)
			proc_exit(s, p, now);
		if (!p->live && now - p->exited_at >= s->retain_ns) {
			remove_proc(s, i);
			continue;
		}
		i++;
	}
	/* live pids, sorted, for the one pass over the thread map */
	for (i = 0, n = 0; i < s->n; i++)
		if (s->procs[i].live)
			s->live[n++] = s->procs[i].pid;
	return n;
}

static void record_proc(struct saturation *s, struct sat_proc *p, struct cpu_stats *cs)
{
	struct metric_label l[3 + RED_RESOURCE_LABELS_MAX] = {
		{ SC_SERVICE_NAME, p->info.service_name },
		{ SC_PROCESS_PID, p->pid_str, true },
	};
	size_t nl = 2 + red_resource_labels(&p->info, l + 2);
	struct metrics *m = s->m;
	struct procfs_stat ps;
	int64_t goroutines;

	if (cs) {
		static const char *const states[] = { "running", "runnable", "blocked" };
		uint64_t buckets[SCHED_SLOTS];
		uint32_t total = 0;
		int i;

		cpu_stats_hold(&p->shown, cs);
		for (i = 0; i < SCHED_STATE__COUNT; i++) {
			l[nl] = (struct metric_label){ "state", states[i] };
			metrics_gauge_set(m, s->fam[F_THREAD_STATES], l, nl + 1, cs->threads[i]);
			total += cs->threads[i];
		}
		metrics_gauge_set(m, s->fam[F_THREADS], l, nl, total);
		memcpy(buckets, cs->runq_slots, sizeof(buckets));
		metrics_histogram_set(m, s->fam[F_RUNQ], l, nl, buckets, (double)cs->runq_ns / 1e9);
		metrics_counter_set(m, s->fam[F_OFFCPU], l, nl, (double)cs->offcpu_ns / 1e9);
		l[nl] = (struct metric_label){ SC_PROCESS_CONTEXT_SWITCH_TYPE, "voluntary" };
		metrics_counter_set(m, s->fam[F_SWITCHES], l, nl + 1, (double)cs->voluntary);
		l[nl].value = "involuntary";
		metrics_counter_set(m, s->fam[F_SWITCHES], l, nl + 1, (double)cs->involuntary);
	}
	/* the process's utime and stime include its exited threads' */
	if (procfs_read_stat(p->pid, 0, &ps) == 0) {
		l[nl] = (struct metric_label){ "cpu.mode", "user" };
		metrics_counter_set(m, s->fam[F_CPU_TIME], l, nl + 1,
				    (double)ps.utime / s->ticks_per_s);
		l[nl].value = "system";
		metrics_counter_set(m, s->fam[F_CPU_TIME], l, nl + 1,
				    (double)ps.stime / s->ticks_per_s);
	}
	if (s->mem) {
		struct mem_stats ms;

		if (mem_probe_read(s->mem, p->pid, p->last_rss, &ms) == 0) {
			if (ms.have_rss) {
				metrics_gauge_set(m, s->fam[F_RSS], l, nl, (double)ms.rss);
				metrics_gauge_set(m, s->fam[F_PEAK], l, nl, (double)ms.peak);
				p->last_rss = ms.rss;
			}
			l[nl] = (struct metric_label){ "type", "minor" };
			metrics_counter_set(
				m, s->fam[F_FAULTS], l, nl + 1,
				(double)(ms.faults -
					 (ms.major < ms.faults ? ms.major : ms.faults)));
			l[nl].value = "major";
			metrics_counter_set(m, s->fam[F_FAULTS], l, nl + 1, (double)ms.major);
		}
		metrics_counter_set(m, s->fam[F_OOM], l, nl, (double)p->oom_kills);
	}
	if (p->go && go_proc_goroutines(p->go, &goroutines) == 0)
		metrics_gauge_set(m, s->fam[F_GOROUTINES], l, nl, (double)goroutines);
}

void saturation_collect(struct saturation *s, struct targets *t, uint64_t now)
{
	size_t i, j, n;

	if (!s)
		return;
	n = sync_procs(s, t, now);
	if (s->cpu && sched_probe_collect(s->cpu, s->live, n, s->cpu_stats, now))
		return;
	if (s->mem)
		mem_probe_next_window(s->mem);
	for (i = 0, j = 0; i < s->n; i++) {
		if (!s->procs[i].live)
			continue;
		record_proc(s, &s->procs[i], s->cpu ? &s->cpu_stats[j] : NULL);
		j++;
	}
}

void saturation_oom(struct saturation *s, struct targets *t, const void *data, size_t size)
{
	struct mem_oom e;
	struct sat_proc *p;
	uint32_t pid;
	long k;

	if (!s || mem_decode_oom(data, size, &e))
		return;
	pid = targets_get(t, e.pid) ? e.pid : targets_tgid_of(e.victim_pid);
	if (!targets_get(t, pid)) {
		log_info("OOM killer chose pid %u (%s), not watched", e.victim_pid, e.comm);
		return;
	}
	log_warn("OOM: the kernel's OOM killer chose pid %u (%s; thread %u), total-vm %" PRIu64
		 " KiB, rss %" PRIu64 " KiB",
		 pid, e.comm, e.victim_pid, e.total_vm_kib, e.rss_kib);
	k = find_proc(s, pid, NULL);
	if (k < 0 || !s->procs[k].live) { /* started and died within a tick: collect it now */
		sync_procs(s, t, clock_mono_ns());
		k = find_proc(s, pid, NULL);
		if (k < 0)
			return;
	}
	p = &s->procs[k];
	p->oom_kills++;
	if (s->m) {
		struct metric_label l[2 + RED_RESOURCE_LABELS_MAX] = {
			{ SC_SERVICE_NAME, p->info.service_name },
			{ SC_PROCESS_PID, p->pid_str, true },
		};
		size_t nl = 2 + red_resource_labels(&p->info, l + 2);

		metrics_counter_set(s->m, s->fam[F_OOM], l, nl, (double)p->oom_kills);
	}
}

uint64_t saturation_lost_threads(const struct saturation *s)
{
	return s && s->cpu ? sched_probe_lost(s->cpu) : 0;
}
