// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/health.h"

#include <stdlib.h>

#include "pipeline/metrics.h"
#include "util/log.h"

enum {
	FAM_EVENTS,
	FAM_LOST,
	FAM_PARSE,
	FAM_ROUTES,
	FAM_DB_NAMES,
	FAM_PROCS,
	FAM_EXP_DROPPED,
	FAM_EXP_REQUESTS,
	FAM_LINKED,
	FAM_UNLINKED,
	FAM_KEPT,
	FAM_SAMPLED_OUT,
	FAM_HELD,
	FAM_SPAWNS,
	FAM_LOG_RECORDS,
	FAM_LOG_DROPPED,
	FAM_LOG_CUT,
	FAM_ERRORS,
	FAM_CRASHES,
	FAM_DISCOVERED,
	FAM_SPANS_DROPPED,
	FAM_MEM_RSS,
	FAM_MEM_LIMIT,
	FAM_K8S_PODS,
	FAM_K8S_REQUESTS,
	FAM_K8S_RESTARTS,
	FAM_UPROBE_FILES,
	FAM_UPROBE_LINKS,
	FAM_UPROBE_RELEASED,
	FAM__COUNT,
};

struct health {
	struct metrics *m;
	int fam[FAM__COUNT];
};

static const struct metric_family_def defs[FAM__COUNT] = {
	[FAM_EVENTS] = { "obsprobe_events_total", "Events obsprobe read from its ring buffer.",
			 METRIC_COUNTER, NULL, 0, "obsprobe.events", "{event}" },
	[FAM_LOST] = { "obsprobe_events_lost_total",
		       "Events lost before they reached obsprobe, by reason.", METRIC_COUNTER, NULL,
		       0, "obsprobe.events.lost", "{event}" },
	[FAM_PARSE] = { "obsprobe_parse_errors_total",
			"Streams that did not parse as their protocol.", METRIC_COUNTER, NULL, 0,
			"obsprobe.parse.errors", "{error}" },
	[FAM_ROUTES] = { "obsprobe_route_overflow_total",
			 "Requests whose route was folded into 'other' by the per-service route "
			 "cap.",
			 METRIC_COUNTER, NULL, 0, "obsprobe.route.overflow", "{request}" },
	[FAM_DB_NAMES] = { "obsprobe_db_collection_overflow_total",
			   "Database client spans named by their operation alone: the distinct "
			   "collections their names would have held reached the cap.",
			   METRIC_COUNTER, NULL, 0, "obsprobe.db.collection.overflow", "{span}" },
	[FAM_PROCS] = { "obsprobe_watched_processes", "Processes obsprobe watches now.",
			METRIC_GAUGE, NULL, 0, "obsprobe.watched.processes", "{process}" },
	[FAM_EXP_DROPPED] = { "obsprobe_export_dropped_total",
			      "Spans (signal=traces), metric exports (signal=metrics) or log records "
			      "(signal=logs) the OTLP exporter gave up on.",
			      METRIC_COUNTER, NULL, 0, "obsprobe.export.dropped", "{item}" },
	[FAM_EXP_REQUESTS] = { "obsprobe_export_requests_total",
			       "OTLP export attempts, by signal and outcome.", METRIC_COUNTER, NULL,
			       0, "obsprobe.export.requests", "{request}" },
	[FAM_LINKED] = { "obsprobe_spans_linked_total",
			 "Client spans made the child of the request their thread or goroutine "
			 "served.",
			 METRIC_COUNTER, NULL, 0, "obsprobe.spans.linked", "{span}" },
	[FAM_UNLINKED] = { "obsprobe_spans_unlinked_total",
			   "Client spans left without a parent, by reason: no_request (nothing "
			   "served on that thread or goroutine), ambiguous (several requests, "
			   "none matching), no_goroutine (a Go call whose goroutine is unknown).",
			   METRIC_COUNTER, NULL, 0, "obsprobe.spans.unlinked", "{span}" },
	[FAM_KEPT] = { "obsprobe_spans_kept_total",
		       "Spans trace sampling passed to the OTLP exporter, by reason: ratio (the "
		       "sampler), parent_sampled, error, slow.",
		       METRIC_COUNTER, NULL, 0, "obsprobe.spans.kept", "{span}" },
	[FAM_SAMPLED_OUT] = { "obsprobe_spans_sampled_out_total",
			      "Spans trace sampling dropped, by reason: ratio (the sampler), "
			      "parent_not_sampled, buffer_full.",
			      METRIC_COUNTER, NULL, 0, "obsprobe.spans.sampled_out", "{span}" },
	[FAM_HELD] = { "obsprobe_sampling_held_spans",
		       "Spans trace sampling holds until their trace is decided.", METRIC_GAUGE,
		       NULL, 0, "obsprobe.sampling.held_spans", "{span}" },
	[FAM_SPAWNS] = { "obsprobe_goroutine_spawns_total",
			 "Goroutines a `go` statement started while its goroutine served a "
			 "request, by outcome: followed (they work for that request), refuted "
			 "(the id told in advance went to another goroutine: not followed).",
			 METRIC_COUNTER, NULL, 0, "obsprobe.goroutine.spawns", "{goroutine}" },
	[FAM_LOG_RECORDS] = { "obsprobe_log_records_total",
			      "Lines watched processes wrote to stdout and stderr, made log records, "
			      "by outcome: linked (written while serving a request: they carry its "
			      "trace), unlinked.",
			      METRIC_COUNTER, NULL, 0, "obsprobe.log.records", "{record}" },
	[FAM_LOG_DROPPED] = { "obsprobe_log_dropped_total",
			      "What the log budgets kept out, by reason: byte_budget (writes over "
			      "--log-bytes-per-second, not read), line_budget (lines over "
			      "--log-lines-per-second), streams_full (writes of a stream beyond the "
			      "streams followed at once).",
			      METRIC_COUNTER, NULL, 0, "obsprobe.log.dropped", "{item}" },
	[FAM_LOG_CUT] = { "obsprobe_log_records_truncated_total",
			  "Log records whose line was cut: longer than 8 KiB, or part of it not read.",
			  METRIC_COUNTER, NULL, 0, "obsprobe.log.records.truncated", "{record}" },
	[FAM_ERRORS] = { "obsprobe_errors_total",
			 "Errors of watched processes, grouped as Sentry groups them: by service, "
			 "error_type (a signal's name such as SIGSEGV, panic, exit, an HTTP status, "
			 "a SQLSTATE) and fingerprint (its type and top frames of its own code; "
			 "overflow: groups beyond the table).",
			 METRIC_COUNTER, NULL, 0, "obsprobe.errors", "{error}" },
	[FAM_CRASHES] = { "obsprobe_crashes_total",
			  "Crashes and panics of watched processes, by kind: signal (a fatal "
			  "signal), panic_recovered (a Go panic a recover() stopped), panic_fatal "
			  "(one that killed its process), panic_unresolved (neither seen within "
			  "30 s).",
			  METRIC_COUNTER, NULL, 0, "obsprobe.crashes", "{crash}" },
	[FAM_DISCOVERED] = { "obsprobe_discovered_processes_total",
			     "Processes node-wide mode found that its selectors want, by "
			     "outcome: watched, table_full (the kernel's target table had no "
			     "room: not watched), or unreadable (its /proc entry could not be "
			     "read, obsprobe out of descriptors or memory: not judged, not "
			     "watched until its next exec or listen()).",
			     METRIC_COUNTER, NULL, 0, "obsprobe.discovered.processes",
			     "{process}" },
	[FAM_SPANS_DROPPED] = { "obsprobe_spans_dropped_total",
				"Spans not exported (console, OTLP) for obsprobe's budget, by "
				"reason: rate_limit (--max-spans-per-second), memory_limit "
				"(--memory-limit); metrics still count them.",
				METRIC_COUNTER, NULL, 0, "obsprobe.spans.dropped", "{span}" },
	[FAM_MEM_RSS] = { "obsprobe_memory_rss_bytes", "obsprobe's own resident memory.",
			  METRIC_GAUGE, NULL, 0, "obsprobe.memory.rss", "By" },
	[FAM_MEM_LIMIT] = { "obsprobe_memory_limit_bytes",
			    "--memory-limit: above it, spans stop being exported (0: none).",
			    METRIC_GAUGE, NULL, 0, "obsprobe.memory.limit", "By" },
	[FAM_K8S_PODS] = { "obsprobe_k8s_pods",
			   "Pods of this node whose metadata obsprobe holds (with K8S_NODE_NAME).",
			   METRIC_GAUGE, NULL, 0, "obsprobe.k8s.pods", "{pod}" },
	[FAM_K8S_REQUESTS] = { "obsprobe_k8s_api_requests_total",
			       "Requests to the Kubernetes API server (lists, watches, owner "
			       "GETs), by outcome: ok, error.",
			       METRIC_COUNTER, NULL, 0, "obsprobe.k8s.api.requests", "{request}" },
	[FAM_K8S_RESTARTS] = { "obsprobe_k8s_watch_restarts_total",
			       "Watches of the node's pods begun again after the first.",
			       METRIC_COUNTER, NULL, 0, "obsprobe.k8s.watch.restarts", "{watch}" },
	[FAM_UPROBE_FILES] = { "obsprobe_uprobe_files",
			       "Files (TLS libraries, libpq, Go executables) with obsprobe's "
			       "uprobes on them now: one per file, however many processes map it.",
			       METRIC_GAUGE, NULL, 0, "obsprobe.uprobe.files", "{file}" },
	[FAM_UPROBE_LINKS] = { "obsprobe_uprobe_links", "Uprobe links obsprobe holds now.",
			       METRIC_GAUGE, NULL, 0, "obsprobe.uprobe.links", "{link}" },
	[FAM_UPROBE_RELEASED] = { "obsprobe_uprobe_files_released_total",
				  "Files whose uprobes were removed because no watched process "
				  "maps them any more.",
				  METRIC_COUNTER, NULL, 0, "obsprobe.uprobe.files.released",
				  "{file}" },
};

struct health *health_new(struct metrics *m)
{
	struct health *h = calloc(1, sizeof(*h));
	int i;

	if (!h)
		return NULL;
	h->m = m;
	for (i = 0; i < FAM__COUNT; i++) {
		h->fam[i] = metrics_register(m, &defs[i]);
		if (h->fam[i] < 0) {
			log_err("cannot register the metric %s", defs[i].name);
			free(h);
			return NULL;
		}
	}
	return h;
}

void health_free(struct health *h)
{
	free(h);
}

/* One series of a counter with one label (reason, protocol), or none (key NULL). */
static void set_total(struct health *h, int fam, const char *key, const char *value, uint64_t n)
{
	struct metric_label l = { key, value };

	if (h)
		metrics_counter_set(h->m, h->fam[fam], key ? &l : NULL, key ? 1 : 0, (double)n);
}

void health_events(struct health *h, uint64_t events)
{
	set_total(h, FAM_EVENTS, NULL, NULL, events);
}

void health_lost(struct health *h, const char *reason, uint64_t n)
{
	set_total(h, FAM_LOST, "reason", reason, n);
}

void health_links(struct health *h, uint64_t linked, const char *const reasons[],
		  const uint64_t unlinked[], size_t nreasons)
{
	size_t i;

	set_total(h, FAM_LINKED, NULL, NULL, linked);
	for (i = 0; i < nreasons; i++)
		set_total(h, FAM_UNLINKED, "reason", reasons[i], unlinked[i]);
}

void health_spawns(struct health *h, uint64_t followed, uint64_t refuted)
{
	set_total(h, FAM_SPAWNS, "outcome", "followed", followed);
	set_total(h, FAM_SPAWNS, "outcome", "refuted", refuted);
}

void health_logs(struct health *h, uint64_t linked, uint64_t unlinked, uint64_t truncated)
{
	set_total(h, FAM_LOG_RECORDS, "outcome", "linked", linked);
	set_total(h, FAM_LOG_RECORDS, "outcome", "unlinked", unlinked);
	set_total(h, FAM_LOG_CUT, NULL, NULL, truncated);
}

void health_log_dropped(struct health *h, const char *reason, uint64_t n)
{
	set_total(h, FAM_LOG_DROPPED, "reason", reason, n);
}

void health_errors(struct health *h, const char *service, const char *type, const char *fingerprint,
		   uint64_t n)
{
	struct metric_label l[3] = { { "service_name", service },
				     { "error_type", type },
				     { "fingerprint", fingerprint } };

	if (h)
		metrics_counter_set(h->m, h->fam[FAM_ERRORS], l, 3, (double)n);
}

void health_crashes(struct health *h, uint64_t signals, uint64_t recovered, uint64_t fatal,
		    uint64_t unresolved)
{
	set_total(h, FAM_CRASHES, "kind", "signal", signals);
	set_total(h, FAM_CRASHES, "kind", "panic_recovered", recovered);
	set_total(h, FAM_CRASHES, "kind", "panic_fatal", fatal);
	set_total(h, FAM_CRASHES, "kind", "panic_unresolved", unresolved);
}

void health_parse_errors(struct health *h, const char *protocol, uint64_t n)
{
	set_total(h, FAM_PARSE, "protocol", protocol, n);
}

void health_route_overflow(struct health *h, uint64_t n)
{
	set_total(h, FAM_ROUTES, NULL, NULL, n);
}

void health_db_collection_overflow(struct health *h, uint64_t n)
{
	set_total(h, FAM_DB_NAMES, NULL, NULL, n);
}

void health_watched(struct health *h, uint64_t processes)
{
	if (h)
		metrics_gauge_set(h->m, h->fam[FAM_PROCS], NULL, 0, (double)processes);
}

void health_uprobes(struct health *h, uint64_t files, uint64_t links, uint64_t released)
{
	if (!h)
		return;
	metrics_gauge_set(h->m, h->fam[FAM_UPROBE_FILES], NULL, 0, (double)files);
	metrics_gauge_set(h->m, h->fam[FAM_UPROBE_LINKS], NULL, 0, (double)links);
	set_total(h, FAM_UPROBE_RELEASED, NULL, NULL, released);
}

void health_discovered(struct health *h, uint64_t watched, uint64_t table_full, uint64_t unreadable)
{
	set_total(h, FAM_DISCOVERED, "outcome", "watched", watched);
	set_total(h, FAM_DISCOVERED, "outcome", "table_full", table_full);
	set_total(h, FAM_DISCOVERED, "outcome", "unreadable", unreadable);
}

void health_budget(struct health *h, uint64_t rate_limited, uint64_t memory_limited, uint64_t rss,
		   uint64_t limit)
{
	if (!h)
		return;
	set_total(h, FAM_SPANS_DROPPED, "reason", "rate_limit", rate_limited);
	set_total(h, FAM_SPANS_DROPPED, "reason", "memory_limit", memory_limited);
	metrics_gauge_set(h->m, h->fam[FAM_MEM_RSS], NULL, 0, (double)rss);
	metrics_gauge_set(h->m, h->fam[FAM_MEM_LIMIT], NULL, 0, (double)limit);
}

void health_export(struct health *h, const char *signal, uint64_t dropped, uint64_t ok,
		   uint64_t retried, uint64_t failed)
{
	struct metric_label l[2] = { { "signal", signal }, { "outcome", "ok" } };

	if (!h)
		return;
	metrics_counter_set(h->m, h->fam[FAM_EXP_DROPPED], l, 1, (double)dropped);
	metrics_counter_set(h->m, h->fam[FAM_EXP_REQUESTS], l, 2, (double)ok);
	l[1].value = "retry";
	metrics_counter_set(h->m, h->fam[FAM_EXP_REQUESTS], l, 2, (double)retried);
	l[1].value = "failed";
	metrics_counter_set(h->m, h->fam[FAM_EXP_REQUESTS], l, 2, (double)failed);
}

void health_spans_kept(struct health *h, const char *reason, uint64_t n)
{
	set_total(h, FAM_KEPT, "reason", reason, n);
}

void health_spans_sampled_out(struct health *h, const char *reason, uint64_t n)
{
	set_total(h, FAM_SAMPLED_OUT, "reason", reason, n);
}

void health_spans_held(struct health *h, uint64_t spans)
{
	if (h)
		metrics_gauge_set(h->m, h->fam[FAM_HELD], NULL, 0, (double)spans);
}

void health_k8s(struct health *h, uint64_t pods, uint64_t ok, uint64_t failed, uint64_t restarts)
{
	if (!h)
		return;
	metrics_gauge_set(h->m, h->fam[FAM_K8S_PODS], NULL, 0, (double)pods);
	set_total(h, FAM_K8S_REQUESTS, "outcome", "ok", ok);
	set_total(h, FAM_K8S_REQUESTS, "outcome", "error", failed);
	set_total(h, FAM_K8S_RESTARTS, NULL, NULL, restarts);
}
