/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* obsprobe's own health as metrics: events read, events lost by reason, streams that did not
 * parse by protocol, route overflow, watched processes, OTLP export outcomes, what trace
 * sampling kept and dropped. The app reads the counters from where they are kept and hands them
 * over once a second. */
#ifndef OBSPROBE_HEALTH_H
#define OBSPROBE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct health;

struct health *health_new(struct metrics *m); /* NULL on error (logged) */
void health_free(struct health *h);	      /* NULL ok */

/* Totals since the start; every function accepts a NULL h. */
void health_events(struct health *h, uint64_t events);
void health_lost(struct health *h, const char *reason, uint64_t n);
/* Log records made of watched processes' stdout and stderr lines, with a trace or not, and
 * of them those whose line was cut; what the log budgets kept out, by reason. Budgets are
 * policy, not loss: none of it counts in obsprobe_events_lost_total. */
void health_logs(struct health *h, uint64_t linked, uint64_t unlinked, uint64_t truncated);
void health_log_dropped(struct health *h, const char *reason, uint64_t n);
/* obsprobe_crashes_total: fatal signals; Go panics by how they ended */
void health_crashes(struct health *h, uint64_t signals, uint64_t recovered, uint64_t fatal,
		    uint64_t unresolved);
/* obsprobe_errors_total of one error group (pipeline/errors.h) */
void health_errors(struct health *h, const char *service, const char *type, const char *fingerprint,
		   uint64_t n);
void health_parse_errors(struct health *h, const char *protocol, uint64_t n);
/* Client spans linked to a parent, and left without one by reason (reasons[i]: unlinked[i]). */
void health_links(struct health *h, uint64_t linked, const char *const reasons[],
		  const uint64_t unlinked[], size_t nreasons);
/* Goroutine spawns followed and refuted (actors_stats). */
void health_spawns(struct health *h, uint64_t followed, uint64_t refuted);
void health_route_overflow(struct health *h, uint64_t n);
void health_db_collection_overflow(struct health *h, uint64_t n);
void health_watched(struct health *h, uint64_t processes);
/* obsprobe's budget: spans not exported for the rate and the memory limit, its RSS and limit
 * (bytes). */
void health_budget(struct health *h, uint64_t rate_limited, uint64_t memory_limited, uint64_t rss,
		   uint64_t limit);
/* Uprobes on files: files with them and links now, files let go so far. */
void health_uprobes(struct health *h, uint64_t files, uint64_t links, uint64_t released);
/* Node-wide: processes the selectors wanted, watched or refused for want of room. */
void health_discovered(struct health *h, uint64_t watched, uint64_t table_full,
		       uint64_t unreadable);
/* Kubernetes pod metadata: pods held, API requests by outcome, watches begun again. */
void health_k8s(struct health *h, uint64_t pods, uint64_t ok, uint64_t failed, uint64_t restarts);
/* signal: "traces", "metrics" or "logs" */
void health_export(struct health *h, const char *signal, uint64_t dropped, uint64_t ok,
		   uint64_t retried, uint64_t failed);
/* Spans trace sampling passed to the OTLP exporter (kept) or dropped, by reason, and the spans
 * it holds now while their trace is undecided. */
void health_spans_kept(struct health *h, const char *reason, uint64_t n);
void health_spans_sampled_out(struct health *h, const char *reason, uint64_t n);
void health_spans_held(struct health *h, uint64_t spans);

#endif /* OBSPROBE_HEALTH_H */
