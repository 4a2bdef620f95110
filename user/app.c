// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "app.h"

#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exporters/console.h"
#include "exporters/otlp.h"
#include "exporters/prometheus.h"
#include "k8s_watch.h"
#include "obsprobe/common.h"
#include "obsprobe/libpq.h"
#include "obsprobe/proc.h"
#include "pipeline/conn.h"
#include "pipeline/errors.h"
#include "pipeline/health.h"
#include "pipeline/logs.h"
#include "pipeline/metrics.h"
#include "pipeline/red.h"
#include "pipeline/saturation.h"
#include "pipeline/targets.h"
#include "pipeline/tracesample.h"
#include "probes/fault.h"
#include "probes/goprobe.h"
#include "probes/kernel.h"
#include "probes/mem.h"
#include "probes/probe.h"
#include "probes/proc.h"
#include "probes/sock.h"
#include "probes/tls.h"
#include "process/procfs.h"
#include "process/x86sites.h"
#include "protocols/http.h"
#include "protocols/http2.h"
#include "protocols/pg.h"
#include "util/budget.h"
#include "util/clock.h"
#include "util/evfile.h"
#include "util/log.h"
#include "util/ready.h"
#include "util/ringread.h"
#include "util/strbuf.h"

#define MAX_DESCENDANTS 4096
#define TICK_NS 1000000000ull
/* how long a closed connection still takes events on their way, from when its close was read
 * (conn.h): a writer descheduled between its send and its syscall's exit reports late */
#define CLOSE_GRACE_NS 100000000ull
/* while events come, the ring buffer is read at least this often: producers wake the reader
 * only once an eighth of the ring waits (maps.bpf.h), or for an exec or a library mapped,
 * whose probes are placed at once, or when it sleeps (read_events()). Each wakeup is a context switch, 15 to
 * 50 us of CPU on these VMs: at 10 ms, 100 a second were 7% of obsprobe's CPU under pgbench
 * -c 1; from 50 to 100 ms, pgbench -c 1 took 212 -> 154..169 wakeups in 10 s and obsprobe's
 * CPU a statement went from 0.80..0.89 to 0.70..0.78 us */
#define POLL_MS 100
#define MAX_SERIES 2000
#define MAX_CONNS 16384

static const char *const drop_reason_names[OBS_DROP__COUNT] = {
	[OBS_DROP_RINGBUF_FULL] = "ringbuf_full",  [OBS_DROP_READ_FAULT] = "read_fault",
	[OBS_DROP_CONN_TABLE] = "conn_table_full", [OBS_DROP_SCRATCH] = "scratch_miss",
	[OBS_DROP_TLS_NO_CONN] = "tls_no_socket",  [OBS_DROP_TLS_CALLS] = "tls_call_table_full",
	[OBS_DROP_H2_WALK] = "h2_walk_abandoned",  [OBS_DROP_LOG_BUDGET] = "log_byte_budget",
};

#define LET_GO_KEPT 64

struct app {
	const struct config *cfg;
	/* pipeline */
	struct targets *targets;
	struct conn_table *conns;
	struct http_tracker *http;    /* NULL with --disable http */
	struct http2_tracker *http2;  /* likewise */
	struct pg_tracker *pg;	      /* NULL with --disable pgsql */
	struct log_tracker *logs;     /* NULL with --logs off */
	struct error_tracker *errors; /* NULL with --disable errors */
	struct fault_tracker *faults; /* likewise */
	struct span *span_copy;	      /* a span an exception goes on */
	uint64_t errors_synced;	      /* reports counted in obsprobe_errors_total */
	struct metrics *metrics;
	struct red *red;
	struct health *health;
	/* exporters */
	struct prom_server *prom;
	struct ready *ready; /* what /readyz says */
	struct otlp_exporter *otlp;
	struct tracesample *sampler; /* NULL unless traces are exported */
	struct strbuf line;
	char host_name[256];
	int64_t clock_offset;
	/* probes */
	struct proc_bpf *proc;
	struct sock_bpf *sock;
	struct tls_probe *tls;
	struct go_probe *go;
	struct saturation *sat;
	struct ringread *rb;
	uint64_t *sleeps; /* reader_sleeps, mapped; NULL: the timer only (read_events()) */
	uint64_t events, bad_events;
	FILE *record;	     /* --record */
	uint64_t replay_now; /* --replay: the time of the event being replayed */
	/* the budget */
	struct rate_limit span_rate;
	struct mem_limit mem;
	uint64_t rss, memory_dropped;
	/* node-wide mode */
	bool node_wide;
	uint32_t self;
	uint64_t discovered, targets_full, unjudged;
	/* the last processes let go while alive, and when: the events they sent before that
	 * still say watched (let_go_before()) */
	struct {
		uint32_t pid;
		uint64_t at_ns;
	} let_go[LET_GO_KEPT];
	unsigned let_go_next;
	struct k8s_watch *k8s; /* NULL without K8S_NODE_NAME */
};

/* pid is watched now, or runs another program: its executable and libraries get looked at. */
static void note_pid(struct app *a, uint32_t pid)
{
	tls_probe_note(a->tls, pid);
	go_probe_note(a->go, pid);
	if (a->faults)
		fault_note(a->faults, pid);
}

/* The time now: the clock, or with --replay the recorded time of the event. */
static uint64_t now_ns(const struct app *a)
{
	return a->cfg->replay ? a->replay_now : clock_mono_ns();
}

static const char *route_cb(void *ctx, uint32_t pid, const char *folded)
{
	struct app *a = ctx;

	targets_get(a->targets, pid);
	return targets_route(a->targets, pid, folded);
}

static const char *service_of(const struct proc_info *p)
{
	return p ? p->service_name : "unknown_service";
}

/* Every finished span, whatever made it: to each sink; OTLP through trace sampling, which may
 * hold it until its trace is decided (the console and RED metrics see every span). */
static void span_cb(void *ctx, const struct span *s)
{
	struct app *a = ctx;
	const struct proc_info *p = targets_get(a->targets, s->pid);

	if (a->sampler)
		tracesample_prefetch(a->sampler, s->trace_id);
	/* a crash or panic while it was served: its exception; a failed span: an error */
	if (a->faults)
		s = fault_span_end(a->faults, s, a->span_copy);
	/* metrics count every span; export stays within the budget */
	red_record(a->red, s, p);
	if (a->mem.shedding) {
		a->memory_dropped++;
		return;
	}
	if (!rate_limit_allow(&a->span_rate, s->end_ns))
		return;
	if (a->cfg->console != CONSOLE_OFF) {
		strbuf_reset(&a->line);
		console_format(&a->line, a->cfg->console, s, p, a->host_name, a->clock_offset);
		if (a->line.len)
			fwrite(a->line.buf, 1, a->line.len, stdout);
	}
	/* the span's end is its "now": as good a time as the clock's for the sampler's waits of a
	 * second and more, without a clock read a span */
	if (a->sampler)
		tracesample_add(a->sampler, s, p, s->end_ns ? s->end_ns : now_ns(a));
}

/* A span trace sampling keeps, now or when its trace is decided; p is the process as it was
 * when the span finished (the sampler keeps a copy: the process may be gone by now). */
static void export_span(void *ctx, const struct span *s, const struct proc_info *p)
{
	struct app *a = ctx;

	otlp_exporter_add_span(a->otlp, s, p, a->clock_offset);
}

/* Every log record: to OTLP, unless obsprobe is over its memory limit. */
static void log_cb(void *ctx, const struct log_record *r)
{
	struct app *a = ctx;

	if (a->mem.shedding || !a->otlp || !otlp_exporter_wants_logs(a->otlp))
		return;
	otlp_exporter_add_log(a->otlp, r, targets_get(a->targets, r->pid));
}

/* Every error report (pipeline/errors.h): on the console with its top frames, and to OTLP as
 * a log record. */
static void error_cb(void *ctx, const struct log_record *r)
{
	struct app *a = ctx;

	if (a->cfg->console != CONSOLE_OFF) {
		strbuf_reset(&a->line);
		console_format_error(&a->line, a->cfg->console, r,
				     service_of(targets_get(a->targets, r->pid)), a->clock_offset);
		if (a->line.len)
			fwrite(a->line.buf, 1, a->line.len, stdout);
	}
	log_cb(ctx, r);
}

static const char *fault_service_cb(void *ctx, uint32_t pid)
{
	struct app *a = ctx;

	return service_of(targets_get(a->targets, pid));
}

static bool parent_cb(void *ctx, uint32_t pid, uint64_t actor, uint8_t trace_id[16],
		      uint8_t span_id[8])
{
	struct app *a = ctx;

	return actors_parent(conn_table_actors(a->conns), pid, actor, 0, trace_id, span_id);
}

/* Everything obsprobe holds for pid goes: its connections (what they had in flight ends at
 * ts_ns), its name, its map entries. */
static void release_pid(struct app *a, uint32_t pid, uint64_t ts_ns)
{
	if (a->logs)
		log_tracker_proc_exit(a->logs, pid);
	conn_table_proc_exit(a->conns, pid, ts_ns);
	/* after its spans ended: an exception may wait for one */
	if (a->faults)
		fault_forget(a->faults, pid);
	targets_remove(a->targets, pid);
	tls_probe_forget(a->tls, pid);
	go_probe_forget(a->go, pid);
	if (a->proc) /* none in --replay */
		proc_probe_unwatch(a->proc, pid);
}

/* pid exited at ts_ns. */
static void forget_pid(struct app *a, uint32_t pid, uint64_t ts_ns)
{
	log_info("process %u exited", pid);
	release_pid(a, pid, ts_ns);
}

/* targets_reap()'s: pid was found gone from /proc, its exit event lost. */
static void reap_pid(void *ctx, uint32_t pid)
{
	forget_pid(ctx, pid, now_ns(ctx));
}

/* Starts watching pid with OBS_TARGET_* flags (into the map before /proc is read: a fork in
 * between is caught by the BPF side). 0 or -errno. */
static int watch_pid(struct app *a, uint32_t pid, uint32_t flags)
{
	int err = proc_probe_watch(a->proc, pid, flags);

	if (err) {
		if (err == -E2BIG || err == -ENOMEM || err == -ENOSPC)
			a->targets_full++;
		return err;
	}
	err = targets_add(a->targets, pid);
	if (err) {
		proc_probe_unwatch(a->proc, pid);
		return err;
	}
	note_pid(a, pid);
	return 0;
}

/* Node-wide: whether the selectors want pid, as it is now: 1, 0, -ESRCH (it is gone) or
 * another negative errno (not judged: /proc could not be read); the name it was judged under
 * to comm (selection_match_pid()). obsprobe never watches itself. */
static int wanted(struct app *a, uint32_t pid, char *comm, size_t len)
{
	int r = selection_match_pid(&a->cfg->sel, pid, comm, len);

	return pid == a->self && r == 1 ? 0 : r;
}

/* Node-wide: pid, not watched, was just seen (at start, at its exec, at a listen()). */
static void discover(struct app *a, uint32_t pid, const char *when)
{
	const struct proc_info *p;
	int r;

	if (targets_watched(a->targets, pid))
		return;
	r = wanted(a, pid, NULL, 0);
	if (r < 0 && r != -ESRCH && ++a->unjudged == 1)
		log_warn("node-wide: /proc/%u could not be read (%s): it and others are not "
			 "watched until their next exec or listen() "
			 "(obsprobe_discovered_processes_total{outcome=\"unreadable\"})",
			 pid, strerror(-r));
	if (r != 1)
		return;
	if (watch_pid(a, pid, OBS_TARGET_WATCH | OBS_TARGET_FOLLOW_CHILDREN)) {
		if (a->targets_full == 1)
			log_warn("node-wide: the target table is full (%d processes): pid %u and "
				 "others are not watched (obsprobe_discovered_processes_total"
				 "{outcome=\"table_full\"})",
				 OBS_MAX_TARGETS, pid);
		return;
	}
	a->discovered++;
	p = targets_get(a->targets, pid);
	log_info("watching pid %u (%s%s%s) %s", pid, p ? p->exe_name : "?",
		 p && p->container_id[0] ? ", container " : "",
		 p && p->container_id[0] ? p->container_id : "", when);
}

/* Node-wide: a watched process that is not pinned by --pid and no longer selected (it runs
 * another program now, or listens where --exclude port= says no) is let go. */
static void rejudge(struct app *a, const struct obs_proc_event *pe, uint32_t flags)
{
	uint32_t pid = pe->hdr.pid;
	char comm[64];
	unsigned i;

	/* one already gone is let go by its exit; judged on /proc now, which may show a later
	 * exec than the event's: the line names what was judged */
	if (!a->node_wide || (flags & OBS_TARGET_PINNED) || wanted(a, pid, comm, sizeof(comm)) != 0)
		return;
	log_info("no longer watching pid %u (%s): not selected now", pid, comm);
	release_pid(a, pid, pe->hdr.ts_ns);
	saturation_let_go(a->sat, pid);
	i = a->let_go_next++ % LET_GO_KEPT;
	a->let_go[i].pid = pid;
	a->let_go[i].at_ns = now_ns(a);
}

/* Whether pid, not watched now, was let go after ts_ns: an event it sent then, still marked
 * watched, is from before (the event of a second exec, env then the program it runs, read
 * after the first one's judgement from /proc let the process go). A PID used again by a
 * watched process's child sends its events after. */
static bool let_go_before(const struct app *a, uint32_t pid, uint64_t ts_ns)
{
	unsigned i;

	if (targets_watched(a->targets, pid))
		return false;
	for (i = 0; i < LET_GO_KEPT; i++)
		if (a->let_go[i].pid == pid && a->let_go[i].at_ns > ts_ns)
			return true;
	return false;
}

static void on_proc_event(struct app *a, const void *data, size_t size)
{
	const struct obs_proc_event *pe = data;
	char comm[OBS_COMM_LEN + 1] = "";
	uint32_t flags;

	if (size < sizeof(*pe)) {
		a->bad_events++;
		return;
	}
	memcpy(comm, pe->comm, OBS_COMM_LEN);
	/* watched when it happened, let go since: it is not watched now */
	flags = pe->target_flags;
	if (flags && a->let_go_next && let_go_before(a, pe->hdr.pid, pe->hdr.ts_ns))
		flags = 0;
	if (pe->hdr.type == OBS_EV_PROC_LISTEN) {
		if (!selection_uses(&a->cfg->sel, SELECT_PORT))
			return;
		if (flags)
			rejudge(a, pe, flags);
		else
			discover(a, pe->hdr.pid, "when it listened");
		return;
	}
	/* node-wide, an exec of a process nobody watches: is it one to watch now? */
	if (!flags) {
		if (a->node_wide && pe->hdr.type == OBS_EV_PROC_EXEC)
			discover(a, pe->hdr.pid, "at its exec");
		return;
	}
	if (targets_note(a->targets, pe->hdr.pid, comm) == 0 && pe->hdr.type == OBS_EV_PROC_FORK)
		log_info("following pid %u (child of %u)", pe->hdr.pid, pe->ppid);
	/* a child maps what its parent maps: the files stay probed while either lives */
	if (pe->hdr.type == OBS_EV_PROC_FORK) {
		tls_probe_fork(a->tls, pe->ppid, pe->hdr.pid);
		go_probe_fork(a->go, pe->ppid, pe->hdr.pid);
		if (a->faults)
			fault_fork(a->faults, pe->ppid, pe->hdr.pid);
	}
	/* a new program: its own executable may hold a TLS library */
	if (pe->hdr.type == OBS_EV_PROC_EXEC) {
		note_pid(a, pe->hdr.pid);
		rejudge(a, pe, flags);
	}
}

/* The OOM killer chose a thread: its process's SIGKILL is that. */
static void on_oom(struct app *a, const void *data, size_t size)
{
	struct mem_oom e;

	if (!a->faults || mem_decode_oom(data, size, &e))
		return;
	fault_oom(a->faults,
		  targets_get(a->targets, e.pid) ? e.pid : targets_tgid_of(e.victim_pid));
}

/* The one dispatch of ring-buffer events. */
static int handle_event(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	const struct obs_event_hdr *h = data;

	a->events++;
	if (a->record && evfile_write(a->record, data, size)) {
		log_err("--record: cannot write %s: %s; recording stopped", a->cfg->record,
			strerror(errno));
		fclose(a->record);
		a->record = NULL;
	}
	if (size < sizeof(*h)) {
		a->bad_events++;
		return 0;
	}
	switch (h->type) {
	case OBS_EV_PROC_FORK:
	case OBS_EV_PROC_EXEC:
	case OBS_EV_PROC_LISTEN:
		on_proc_event(a, data, size);
		break;
	case OBS_EV_PROC_MMAP:
		tls_probe_note(a->tls, h->pid);
		if (a->faults)
			fault_note(a->faults, h->pid);
		break;
	case OBS_EV_PROC_EXIT:
		if (a->faults && size >= sizeof(struct obs_proc_event))
			fault_proc_exit(a->faults, h->pid,
					((const struct obs_proc_event *)data)->exit_code);
		forget_pid(a, h->pid, h->ts_ns);
		break;
	case OBS_EV_MEM_OOM:
		saturation_oom(a->sat, a->targets, data, size);
		on_oom(a, data, size);
		break;
	case OBS_EV_FAULT:
	case OBS_EV_GO_PANIC:
		if (!a->faults || fault_event(a->faults, data, size))
			a->bad_events++;
		break;
	case OBS_EV_LOG:
		if (!a->logs || log_tracker_event(a->logs, data, size))
			a->bad_events++;
		break;
	case OBS_EV_LIBPQ:
		if (!a->pg || pg_tracker_libpq(a->pg, data, size))
			a->bad_events++;
		break;
	default:
		if (sock_event_decode(a->conns, data, size))
			a->bad_events++;
	}
	return 0;
}

static void count_pool(void *ctx, uint32_t pid, const char *pool, bool used)
{
	struct app *a = ctx;

	red_pool_count(a->red, service_of(targets_get(a->targets, pid)), "postgresql", pool, used);
}

static void count_errors(void *ctx, const char *service, const char *type, const char *fingerprint,
			 uint64_t n)
{
	struct app *a = ctx;

	health_errors(a->health, service, type, fingerprint, n);
}

/* obsprobe_errors_total as soon as a report is counted, as RED metrics count a failed span:
 * at most once a poll */
static void sync_errors(struct app *a)
{
	struct error_stats es;

	if (!a->errors || !a->health)
		return;
	error_tracker_get_stats(a->errors, &es);
	if (es.reports == a->errors_synced)
		return;
	a->errors_synced = es.reports;
	error_tracker_each(a->errors, count_errors, a);
}

static void update_export_health(struct app *a)
{
	static const char *const signals[OTLP_SIGNALS] = {
		[OTLP_TRACES] = "traces", [OTLP_METRICS] = "metrics", [OTLP_LOGS] = "logs"
	};
	struct otlp_stats st;
	int sig;

	otlp_exporter_get_stats(a->otlp, &st);
	for (sig = 0; sig < OTLP_SIGNALS; sig++)
		health_export(a->health, signals[sig], st.dropped[sig], st.ok[sig], st.retried[sig],
			      st.failed[sig]);
}

static void update_sampling_health(struct app *a)
{
	struct tracesample_stats st;
	int i;

	tracesample_get_stats(a->sampler, &st);
	for (i = 0; i < TS_KEEP__COUNT; i++)
		health_spans_kept(a->health, tracesample_keep_name(i), st.kept[i]);
	for (i = 0; i < TS_DROP__COUNT; i++)
		health_spans_sampled_out(a->health, tracesample_drop_name(i), st.dropped[i]);
	health_spans_held(a->health, st.held_spans);
}

/* Once a second: obsprobe's own RSS against --memory-limit. */
static void check_memory(struct app *a)
{
	static const char *const key[] = { "VmRSS" };
	unsigned long long kib = 0;

	if (procfs_read_status(a->self, key, &kib, 1) != 1)
		return;
	a->rss = kib * 1024;
	if (!mem_limit_update(&a->mem, a->rss))
		return;
	if (a->mem.shedding) {
		log_warn(
			"memory: %llu MiB is over --memory-limit (%llu MiB): spans are not exported "
			"until it is under %d%% of it (metrics still count them)",
			(unsigned long long)(a->rss >> 20),
			(unsigned long long)(a->mem.limit >> 20), BUDGET_RESUME_PCT);
		/* give back what the allocator holds free */
		malloc_trim(0);
	} else {
		log_notice(
			"memory: %llu MiB, under %d%% of --memory-limit: spans are exported again",
			(unsigned long long)(a->rss >> 20), BUDGET_RESUME_PCT);
	}
}

/* Once a second: obsprobe's own counters, and the gauges the trackers hold. */
static void update_health(struct app *a)
{
	uint64_t drops[OBS_DROP__COUNT] = {};
	struct http_tracker_stats hs = {};
	struct http2_tracker_stats h2s = {};
	struct conn_table_stats cs;
	size_t i, files = 0, links = 0;
	struct pg_tracker_stats ps;
	uint64_t released = 0;

	if (!a->metrics)
		return;
	if (a->http)
		http_tracker_get_stats(a->http, &hs);
	if (a->http2)
		http2_tracker_get_stats(a->http2, &h2s);
	if (a->proc) /* none in --replay */
		proc_probe_read_drops(a->proc, drops, OBS_DROP__COUNT);
	health_events(a->health, a->events);
	for (i = 0; i < OBS_DROP__COUNT; i++)
		if (i != OBS_DROP_LOG_BUDGET)
			health_lost(a->health, drop_reason_names[i], drops[i]);
	health_lost(a->health, "capture_truncated", hs.truncated);
	/* a response with no request seen, a request past the pipelining bound: no span */
	health_lost(a->health, "http_response_unpaired", hs.unpaired + h2s.unpaired);
	health_lost(a->health, "http_pending_full", hs.pending_full);
	conn_table_get_stats(a->conns, &cs);
	health_lost(a->health, "conn_table_evicted", cs.evicted);
	if (a->sat)
		health_lost(a->health, "thread_table_full", saturation_lost_threads(a->sat));
	health_parse_errors(a->health, "http", hs.parse_errors);
	health_parse_errors(a->health, "http2", h2s.lost);
	health_lost(a->health, "http2_streams_full", h2s.streams_full);
	{
		const char *reasons[ACTOR_UNLINKED__COUNT];
		struct actors_stats as;
		int r;

		actors_get_stats(conn_table_actors(a->conns), &as);
		for (r = 0; r < ACTOR_UNLINKED__COUNT; r++)
			reasons[r] = actor_unlinked_name(r);
		health_links(a->health, as.linked, reasons, as.unlinked, ACTOR_UNLINKED__COUNT);
		health_spawns(a->health, as.spawns_followed, as.spawns_refuted);
	}
	if (a->logs) {
		struct log_stats ls;

		log_tracker_get_stats(a->logs, &ls);
		health_logs(a->health, ls.linked, ls.records - ls.linked, ls.truncated);
		health_log_dropped(a->health, "byte_budget", drops[OBS_DROP_LOG_BUDGET]);
		health_log_dropped(a->health, "line_budget", ls.rate_dropped);
		health_log_dropped(a->health, "streams_full", ls.full);
	}
	if (a->faults) {
		struct fault_stats fs;
		struct error_stats es;

		fault_get_stats(a->faults, &fs);
		error_tracker_get_stats(a->errors, &es);
		health_lost(a->health, "error_groups_full", es.overflow);
		health_lost(a->health, "go_panics_full", fs.pending_full);
		health_crashes(a->health, fs.crashes, fs.recovered, fs.fatal, fs.unresolved);
	}
	health_route_overflow(a->health, targets_route_overflows(a->targets));
	health_watched(a->health, targets_count(a->targets));
	tls_probe_counts(a->tls, &files, &links, &released);
	go_probe_counts(a->go, &files, &links, &released);
	health_uprobes(a->health, files, links, released);
	health_budget(a->health, a->span_rate.denied, a->memory_dropped, a->rss, a->mem.limit);
	if (a->node_wide)
		health_discovered(a->health, a->discovered, a->targets_full, a->unjudged);
	if (a->k8s) {
		struct k8s_watch_stats ks;
		struct k8s_meta *km = k8s_watch_meta(a->k8s);

		k8s_watch_get_stats(a->k8s, &ks);
		health_k8s(a->health, k8s_meta_count(km), ks.requests_ok, ks.requests_failed,
			   ks.watch_restarts);
		health_lost(a->health, "k8s_pod_table_full", k8s_meta_over_cap(km));
	}
	if (a->pg) {
		red_pools_begin(a->red);
		pg_tracker_visit_conns(a->pg, count_pool, a);
		red_pools_end(a->red);
		pg_tracker_get_stats(a->pg, &ps);
		health_parse_errors(a->health, "postgresql", ps.lost);
		health_lost(a->health, "pg_libpq_unjoined", ps.libpq_unjoined);
		health_lost(a->health, "pg_tls_not_decrypted", ps.encrypted);
		health_db_collection_overflow(a->health, ps.collection_overflows);
	}
	if (a->otlp)
		update_export_health(a);
	if (a->sampler)
		update_sampling_health(a);
}

#define PINNED (OBS_TARGET_WATCH | OBS_TARGET_FOLLOW_CHILDREN | OBS_TARGET_PINNED)

/* Node-wide: every process on the host now that the selectors want. Started after the BPF
 * programs are attached: a process that execs meanwhile is reported by them as well. */
static void scan_host(struct app *a)
{
	struct dirent *de;
	size_t before = a->discovered;
	DIR *d = opendir("/proc");

	if (!d) {
		log_err("cannot list /proc: %s", strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] >= '1' && de->d_name[0] <= '9' && !*end && pid <= UINT32_MAX)
			discover(a, (uint32_t)pid, "(running at start)");
	}
	closedir(d);
	log_notice("node-wide: watching %zu processes; new ones are picked up at their exec%s",
		   (size_t)(a->discovered - before),
		   selection_uses(&a->cfg->sel, SELECT_PORT) ? " and listen()" : "");
}

/* Each --pid, its descendants, and the TLS libraries they map; node-wide, every process the
 * selectors want. */
static int watch_all(struct app *a)
{
	static uint32_t desc[MAX_DESCENDANTS];
	size_t i, j, n;
	int err;

	for (i = 0; i < a->cfg->npids; i++) {
		uint32_t pid = targets_tgid_of(a->cfg->pids[i]);
		const struct proc_info *p;

		/* the BPF side keys processes by thread group: a thread id means its process */
		if (pid != a->cfg->pids[i])
			log_warn("%u is a thread of process %u: watching the process",
				 a->cfg->pids[i], pid);
		if (pid == a->self) {
			log_err("--pid %u is obsprobe itself, which it never watches", pid);
			return -EINVAL;
		}

		err = watch_pid(a, pid, PINNED);
		if (err) {
			log_err("cannot watch pid %u: %s", pid,
				err == -ESRCH ? "no such process" : strerror(-err));
			return err;
		}
		n = targets_descendants(pid, desc, MAX_DESCENDANTS);
		for (j = 0; j < n; j++)
			if (desc[j] != a->self) /* started by a watched shell: never watched */
				watch_pid(a, desc[j], PINNED);
		p = targets_get(a->targets, pid);
		log_notice("watching pid %u (%s) and %zu descendant%s", pid,
			   p ? service_of(p) : "?", n, n == 1 ? "" : "s");
	}
	if (a->node_wide)
		scan_host(a);
	return 0;
}

static int check_host(const struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->npids; i++) {
		if (kill((pid_t)cfg->pids[i], 0) && errno == ESRCH) {
			log_err("no process with pid %u", cfg->pids[i]);
			return -ESRCH;
		}
	}
	if (kernel_check_privileges() || kernel_check_btf())
		return -EPERM;
	return 0;
}

static int setup_pipeline(struct app *a)
{
	const struct config *c = a->cfg;
	struct http_tracker_ops ops = { .route = route_cb, .span = span_cb, .ctx = a };
	struct pg_tracker_ops pg_ops = { .span = span_cb, .parent = parent_cb, .ctx = a };

	a->targets = targets_new(c->service_name, c->max_routes);
	a->conns = conn_table_new(MAX_CONNS);
	if (!a->targets || !a->conns) {
		log_err("out of memory");
		return -ENOMEM;
	}
	conn_table_set_close_grace(a->conns, CLOSE_GRACE_NS);
	if (config_logs(c)) {
		a->logs =
			log_tracker_new(conn_table_actors(a->conns), c->log_lines_per_s, log_cb, a);
		if (!a->logs) {
			log_err("out of memory");
			return -ENOMEM;
		}
	}
	if (config_has(c, GROUP_ERRORS)) {
		struct error_opts eo = { .max_groups = 200, .samples_per_min = 10 };

		a->errors = error_tracker_new(&eo, error_cb, a);
		a->faults = a->errors ? fault_tracker_new(conn_table_actors(a->conns), a->errors,
							  fault_service_cb, a)
				      : NULL;
		a->span_copy = malloc(sizeof(*a->span_copy));
		if (!a->faults || !a->span_copy) {
			log_err("out of memory");
			return -ENOMEM;
		}
	}
	/* pod metadata, watched in the background from now on (K8S_NODE_NAME set) */
	a->k8s = k8s_watch_start();
	targets_set_k8s(a->targets, k8s_watch_meta(a->k8s));
	/* sniffers in this order; HTTP, which takes any bytes, last */
	if (config_has(c, GROUP_PGSQL))
		a->pg = pg_tracker_new(&pg_ops, a->conns);
	if (config_has(c, GROUP_HTTP)) {
		a->http2 = http2_tracker_new(&ops, a->conns);
		a->http = http_tracker_new(&ops, a->conns);
	}
	if ((config_has(c, GROUP_PGSQL) && !a->pg) ||
	    (config_has(c, GROUP_HTTP) && (!a->http || !a->http2))) {
		log_err("out of memory");
		return -ENOMEM;
	}
	if (strcmp(c->prometheus, "off") == 0 && !c->otel.metrics_url[0])
		return 0;
	a->metrics = metrics_new(MAX_SERIES);
	if (a->metrics) {
		a->red = red_new(a->metrics);
		a->health = health_new(a->metrics);
	}
	if (!a->metrics || !a->red || !a->health) {
		log_err("cannot set up the metrics registry");
		return -ENOMEM;
	}
	return 0;
}

static int setup_exporters(struct app *a)
{
	const struct config *c = a->cfg;
	char err[256];

	if (c->otel.traces_url[0] || c->otel.metrics_url[0] || c->otel.logs_url[0]) {
		a->otlp = otlp_exporter_start(&c->otel, a->metrics, a->host_name, OBSPROBE_VERSION,
					      err, sizeof(err));
		if (!a->otlp) {
			log_err("OTLP: %s", err);
			return -EINVAL;
		}
	}
	if (otlp_exporter_wants_traces(a->otlp)) {
		struct tracesample_config sc = { .sampler = c->otel.sampler,
						 .ratio = c->otel.ratio,
						 .keep_slower_than_ns = c->keep_slower_than_ns };

		span_new_span_id((uint8_t *)&sc.hash_seed);
		a->sampler = tracesample_new(&sc, export_span, a);
		if (!a->sampler) {
			log_err("out of memory");
			return -ENOMEM;
		}
	} else if (c->keep_slower_than_ns) {
		log_warn("--keep-slower-than applies to exported traces: no OTLP traces endpoint");
	}
	if (strcmp(c->prometheus, "off") != 0) {
		a->ready = ready_new();
		if (!a->ready) {
			log_err("out of memory");
			return -ENOMEM;
		}
		ready_wait(a->ready, "loading the BPF programs");
		a->prom = prom_server_start(c->prometheus, a->metrics, a->ready, err, sizeof(err));
		if (!a->prom) {
			log_err("--prometheus: %s", err);
			return -EINVAL;
		}
	}
	return 0;
}

static unsigned int saturation_groups(const struct config *c)
{
	return (config_has(c, GROUP_SCHED) ? SAT_SCHED : 0) |
	       (config_has(c, GROUP_MEMORY) ? SAT_MEMORY : 0) |
	       (config_has(c, GROUP_GO) ? SAT_GO : 0);
}

/* Load and attach every BPF object asked for; the ring buffer last. */
static int setup_probes(struct app *a)
{
	const struct config *c = a->cfg;

	/* without tracefs, the hooks with another kind than a tracepoint may still be had */
	kernel_ensure_tracefs();
	if (probe_kernel_init(c->hide_kernel))
		return -EINVAL;
	if (probe_require_ringbuf())
		return -EOPNOTSUPP;
	a->proc = proc_probe_open_load(a->node_wide, config_has(c, GROUP_ERRORS), c->ring_bytes);
	if (!a->proc)
		return -EINVAL;
	if (a->http || a->pg) {
		unsigned int libs = (config_has(c, GROUP_TLS) ? LIBPROBE_TLS : 0) |
				    (a->pg && config_has(c, GROUP_LIBPQ) ? LIBPROBE_LIBPQ : 0);

		a->sock = sock_probe_start(a->proc, c->capture_bytes, a->logs != NULL,
					   c->log_bytes_per_s);
		if (!a->sock)
			return -EINVAL;
		if (libs) {
			a->tls = tls_probe_start(a->proc, a->sock, c->capture_bytes, libs);
			if (!a->tls)
				return -EINVAL;
		}
		a->go = go_probe_start(a->proc, a->sock, c->capture_bytes,
				       config_has(c, GROUP_GOTRACE), config_has(c, GROUP_TLS),
				       config_has(c, GROUP_ERRORS));
		if (!a->go)
			return -EINVAL;
	}
	/* saturation is metrics only: nothing to do without a metrics exporter */
	if (a->metrics && saturation_groups(c)) {
		a->sat = saturation_start(a->proc, a->metrics, saturation_groups(c), c->exited_ttl);
		if (!a->sat)
			return -EINVAL;
	}
	if (proc_probe_attach(a->proc))
		return -EINVAL;
	a->rb = ringread_open(proc_probe_events_fd(a->proc), handle_event, a);
	if (!a->rb) {
		log_err("cannot open the ring buffer: %s", strerror(errno));
		return -errno;
	}
	a->sleeps = proc_probe_reader_sleeps(a->proc);
	return 0;
}

/* Connections closed and requests held past their time by now: done with (UINT64_MAX: all). */
static void reap(struct app *a, uint64_t now)
{
	conn_table_reap(a->conns, now);
	if (a->http)
		http_tracker_flush_held(a->http, now);
	if (a->http2)
		http2_tracker_flush_held(a->http2, now);
}

/* What follows each read of the ring buffer, at time now: held work flushed, closed
 * connections reaped. */
static void after_read(struct app *a, uint64_t now)
{
	tls_probe_flush(a->tls);
	go_probe_flush(a->go);
	reap(a, now);
	if (a->sampler)
		tracesample_tick(a->sampler, now);
	/* the x86 decoder is let go when uprobes have not been placed for a while */
	x86_decoder_idle(now);
	sync_errors(a);
	fflush(stdout);
}

/* At the end: everything still open or held is decided, while the exporters can still send it. */
static void finish(struct app *a)
{
	reap(a, UINT64_MAX);
	if (a->sampler)
		tracesample_flush(a->sampler);
	update_health(a);
	fflush(stdout);
}

/* Waits that read nothing before the reader sleeps until the next tick (read_events()): their
 * POLL_MS each outlast CLOSE_GRACE_NS and HTTP_HOLD_NS, so what was held for them has gone out
 * by then */
#define EMPTY_READS_BEFORE_SLEEP 2
_Static_assert((uint64_t)EMPTY_READS_BEFORE_SLEEP *POLL_MS * 1000000 > CLOSE_GRACE_NS &&
		       (uint64_t)EMPTY_READS_BEFORE_SLEEP * POLL_MS * 1000000 > HTTP_HOLD_NS,
	       "the reader sleeps only once what was held has gone out");

/*
 * Waits for events and reads them: the records read, or -errno. While events come, on the
 * POLL_MS timer (or sooner, woken once an eighth of the ring waits); after
 * EMPTY_READS_BEFORE_SLEEP waits in a row that read none (*empty counts them), until the next tick, unless the first event sent
 * meanwhile wakes it (reader_sleeps): each wakeup of a sleeping thread costs ~50 us of its CPU
 * on these VMs, and 20 a second were 1 ms of CPU a second with nothing to read. An event
 * committed just as the flag is set may wait for the tick.
 */
static int read_events(struct app *a, uint64_t next_tick, unsigned *empty)
{
	int timeout = POLL_MS, n;

	if (*empty >= EMPTY_READS_BEFORE_SLEEP && a->sleeps) {
		uint64_t now = clock_mono_ns();

		__atomic_store_n(a->sleeps, 1, __ATOMIC_SEQ_CST);
		if (ringread_pending(a->rb) || next_tick <= now)
			timeout = 0; /* sent before the flag was set: no wakeup is coming */
		else if (next_tick - now < (uint64_t)INT_MAX * 1000000ull)
			timeout = (int)((next_tick - now + 999999) / 1000000);
	}
	/* the wait, then what is there, woken or not: producers skip wakeups below a fill
	 * threshold, and the timer finds what they left */
	n = ringread_poll(a->rb, timeout);
	if (a->sleeps)
		__atomic_store_n(a->sleeps, 0, __ATOMIC_RELAXED);
	if (n == -EINTR) /* a signal cut the wait short: what came meanwhile all the same */
		n = ringread_drain(a->rb);
	if (n < 0)
		return n;
	if (n > 0)
		*empty = 0;
	else if (*empty < EMPTY_READS_BEFORE_SLEEP)
		(*empty)++;
	return n;
}

/* Until *stop, or until no watched process is left. 0, or -errno when reading failed. */
static int event_loop(struct app *a, volatile sig_atomic_t *stop)
{
	uint64_t next_tick = clock_mono_ns() + TICK_NS;
	unsigned empty = 0;
	int ret = 0;

	a->clock_offset = clock_realtime_offset_ns();
	while (!*stop) {
		int n = read_events(a, next_tick, &empty);
		uint64_t now;

		if (n < 0) {
			log_err("reading the ring buffer failed: %s", strerror(-n));
			ret = n;
			break;
		}
		now = clock_mono_ns();
		after_read(a, now);
		if (now < next_tick)
			continue;
		next_tick = now + TICK_NS;
		a->clock_offset = clock_realtime_offset_ns();
		targets_reap(a->targets, reap_pid, a);
		check_memory(a);
		saturation_collect(a->sat, a->targets, now);
		update_health(a);
		if (targets_count(a->targets) == 0 && !a->node_wide) {
			log_notice("no watched process left, exiting");
			break;
		}
	}
	ringread_drain(a->rb);
	finish(a);
	return ret;
}

/* --replay: the recording's events through handle_event, read as the loop reads them: each
 * POLL_MS of their own time followed by after_read at that time, and health once a TICK_NS.
 * 0, or -errno. */
static int replay(struct app *a, volatile sig_atomic_t *stop)
{
	uint64_t next_read = 0, next_tick = 0;
	size_t cap = 0, size;
	void *buf = NULL;
	FILE *f = fopen(a->cfg->replay, "rb");
	int n = -EINVAL;

	if (!f) {
		n = -errno;
		log_err("--replay: cannot open %s: %s", a->cfg->replay, strerror(errno));
		return n;
	}
	a->clock_offset = clock_realtime_offset_ns();
	if (evfile_read_header(f)) {
		log_err("--replay: %s is not an obsprobe recording", a->cfg->replay);
		goto out;
	}
	while (!*stop && (n = evfile_read(f, &buf, &cap, &size)) == 1) {
		const struct obs_event_hdr *h = buf;
		uint64_t ts = size >= sizeof(*h) ? h->ts_ns : next_read;

		a->replay_now = ts;

		if (ts >= next_read) {
			if (next_read)
				after_read(a, ts);
			next_read = ts + POLL_MS * 1000000ull;
			/* faster than real time: the exporter keeps up, as it does below saturation */
			while (otlp_exporter_queued(a->otlp) > a->cfg->otel.bsp.max_queue / 2 &&
			       !*stop)
				usleep(1000);
		}
		if (ts >= next_tick) {
			if (next_tick)
				update_health(a);
			next_tick = ts + TICK_NS;
		}
		handle_event(a, buf, size);
	}
	if (n < 0)
		log_err("--replay: %s: %s after %llu events", a->cfg->replay,
			n == -ENOMEM ? "out of memory" : "a truncated record",
			(unsigned long long)a->events);
	else
		log_notice("replayed %llu events", (unsigned long long)a->events);
	finish(a);
out:
	free(buf);
	fclose(f);
	return n < 0 ? n : 0;
}

/* --record: the file, with its header. 0, or -errno. */
static int start_recording(struct app *a)
{
	if (!a->cfg->record)
		return 0;
	a->record = fopen(a->cfg->record, "wb");
	if (!a->record || evfile_write_header(a->record)) {
		log_err("--record: cannot write %s: %s", a->cfg->record, strerror(errno));
		return -errno;
	}
	return 0;
}

static void teardown(struct app *a)
{
	if (a->record && fclose(a->record))
		log_err("--record: cannot write %s: %s", a->cfg->record, strerror(errno));
	a->record = NULL;
	tls_probe_detach_start(a->tls);
	go_probe_detach_start(a->go);
	ringread_free(a->rb);
	/* before the exporter they go to */
	log_tracker_free(a->logs);
	a->logs = NULL;
	fault_tracker_free(a->faults);
	a->faults = NULL;
	error_tracker_free(a->errors);
	a->errors = NULL;
	free(a->span_copy);
	a->span_copy = NULL;
	tracesample_free(a->sampler);
	a->sampler = NULL;
	/* before the registry goes: its last metrics export reads it */
	otlp_exporter_stop(a->otlp);
	saturation_free(a->sat);
	tls_probe_destroy(a->tls);
	go_probe_destroy(a->go);
	sock_probe_destroy(a->sock);
	proc_probe_destroy(a->proc);
	prom_server_stop(a->prom);
	ready_free(a->ready);
	/* the table first: closing its connections reaches the trackers */
	conn_table_free(a->conns);
	http_tracker_free(a->http);
	http2_tracker_free(a->http2);
	pg_tracker_free(a->pg);
	targets_free(a->targets);
	k8s_watch_stop(a->k8s);
	red_free(a->red);
	health_free(a->health);
	metrics_free(a->metrics);
	strbuf_free(&a->line);
}

/* The readiness line, then /readyz: whoever sees the endpoint say ready finds the line too. */
static void say_ready(struct app *a)
{
	char failed[1024];

	snprintf(failed, sizeof(failed), "%s%s%s", tls_probe_failures(a->tls),
		 go_probe_failures(a->go), saturation_failures(a->sat));
	if (failed[0]) {
		char line[sizeof(failed) + 64];
		size_t i, n = 0;

		/* one line: "a: why; b: why" */
		for (i = 0; failed[i] && n + 3 < sizeof(line); i++) {
			if (failed[i] != '\n')
				line[n++] = failed[i];
			else if (failed[i + 1])
				n += (size_t)snprintf(line + n, sizeof(line) - n, "; ");
		}
		line[n] = '\0';
		log_warn("not ready: could not attach %s", line);
	} else {
		log_notice("ready: every probe asked for is attached");
	}
	ready_done(a->ready, failed[0] ? failed : "");
}

int app_run(const struct config *cfg, volatile sig_atomic_t *stop)
{
	static struct app app;
	struct app *a = &app;
	int ret = 1;

	a->cfg = cfg;
	a->node_wide = selection_node_wide(&cfg->sel);
	a->self = (uint32_t)getpid();
	a->mem.limit = cfg->memory_limit;
	rate_limit_init(&a->span_rate, (double)cfg->max_spans_per_s);
	probe_log_install();
	if (cfg->probe_sites)
		return tls_probe_print_sites(cfg->probe_sites, stdout,
					     go_probe_print_sites(cfg->probe_sites, stdout) > 0)
			       ? 1
			       : 0;
	strbuf_init(&a->line);
	gethostname(a->host_name, sizeof(a->host_name) - 1);
	if (cfg->replay) {
		if (setup_pipeline(a) || setup_exporters(a))
			goto out;
		ready_done(a->ready, "");
		if (replay(a, stop) == 0)
			ret = 0;
		goto out;
	}
	if (check_host(cfg))
		return 1;
	if (setup_pipeline(a) || setup_exporters(a) || setup_probes(a) || watch_all(a) ||
	    start_recording(a))
		goto out;
	ready_wait(a->ready, "placing uprobes in the watched processes");
	tls_probe_flush(a->tls);
	go_probe_flush(a->go);
	saturation_collect(a->sat, a->targets, clock_mono_ns());
	/* every requested probe is attached by now, or said it could not be */
	if (a->prom)
		log_notice("metrics on http://%s/metrics", cfg->prometheus);
	say_ready(a);
	/* placed: until more uprobes are, the x86 decoder need not stay loaded */
	x86_decoder_idle(UINT64_MAX);
	if (event_loop(a, stop) == 0)
		ret = 0;
	log_notice("detached");
out:
	teardown(a);
	return ret;
}
