/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Trace sampling that keeps whole traces. OTEL_TRACES_SAMPLER decides once per trace, at its
 * local root (a span with no parent, or a remote one): the trace id's ratio, or for the
 * parentbased_* samplers a remote parent's sampled flag. Beyond what an SDK can do, obsprobe
 * sees the whole local trace before it lets it go: a trace the sampler drops is held until its
 * root has ended (and a grace for late children), and kept after all when any of its spans is
 * an ERROR or it lasted longer than keep_slower_than. Every span either reaches the release
 * callback exactly once or is counted dropped, by reason. Pure: no I/O, time is handed in
 * (CLOCK_MONOTONIC ns, as spans carry it), one thread.
 */
#ifndef OBSPROBE_TRACESAMPLE_H
#define OBSPROBE_TRACESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "otel_config.h"
#include "pipeline/span.h"

/* Why spans were kept. */
enum tracesample_keep {
	TS_KEEP_RATIO = 0,	/* the sampler said yes (a ratio; always_on is ratio 1) */
	TS_KEEP_PARENT_SAMPLED, /* parentbased_*: the root's remote parent was sampled */
	TS_KEEP_ERROR,		/* the sampler said no, and a span of the trace is an ERROR */
	TS_KEEP_SLOW,		/* the sampler said no, and the trace was slower than asked */
	TS_KEEP__COUNT,
};

/* Why spans were dropped. */
enum tracesample_drop {
	TS_DROP_RATIO = 0,	    /* the sampler said no and nothing rescued the trace */
	TS_DROP_PARENT_NOT_SAMPLED, /* parentbased_*: the root's remote parent was not sampled */
	TS_DROP_BUFFER_FULL,	    /* at a cap, dropped before its root ended */
	TS_DROP__COUNT,
};

#define TS_GRACE_NS 1000000000ull     /* a dropped trace waits this long after its root */
#define TS_MAX_HOLD_NS 10000000000ull /* and never longer than this after its first span */
#define TS_REMEMBER_NS 10000000000ull /* a decision stays known this long */
#define TS_MAX_TRACES 16384	      /* traces held undecided */
#define TS_MAX_SPANS 65536	      /* spans held */
#define TS_MAX_BYTES (64ull << 20)    /* bytes held (a held span is ~2 KiB, its proc_info 1.4) */
#define TS_MAX_DECIDED 16384	      /* decisions remembered */

/* Any limit left 0 takes its TS_* default. */
struct tracesample_limits {
	size_t max_traces;
	size_t max_spans;
	size_t max_bytes;
	size_t max_decided;
	uint64_t grace_ns;
	uint64_t max_hold_ns;
	uint64_t remember_ns;
};

struct tracesample_config {
	enum otel_sampler sampler;
	double ratio;
	uint64_t keep_slower_than_ns; /* 0: off */
	uint64_t hash_seed; /* trace ids come from outside (traceparent): seed their hash */
	struct tracesample_limits limits;
};

/* Where kept spans go: s and proc (NULL when unknown) live only during the call, which must
 * not call back into the sampler. */
typedef void (*tracesample_release_fn)(void *ctx, const struct span *s,
				       const struct proc_info *proc);

struct tracesample_stats {
	uint64_t kept[TS_KEEP__COUNT];	  /* spans released, by reason */
	uint64_t dropped[TS_DROP__COUNT]; /* spans dropped, by reason */
	size_t held_traces, held_spans, held_bytes;
	size_t decided; /* decisions remembered */
};

struct tracesample;

/* NULL on ENOMEM. */
struct tracesample *tracesample_new(const struct tracesample_config *c, tracesample_release_fn fn,
				    void *ctx);
/* What is still held goes uncounted: tracesample_flush() first. NULL ok. */
void tracesample_free(struct tracesample *t);

/* A finished span, of the process proc (may be NULL), at now_ns: released at once, held, or
 * dropped; a trace it completes may be released or dropped with it. */
void tracesample_add(struct tracesample *t, const struct span *s, const struct proc_info *proc,
		     uint64_t now_ns);
/* Optional, before tracesample_add() of a span of trace_id, with other work between the two:
 * starts loading what that call looks at first (each is a cache miss on a busy server, where
 * the tables of recent traces outgrow the CPU's caches). */
void tracesample_prefetch(const struct tracesample *t, const uint8_t trace_id[16]);
/* Decides the traces whose wait is over at now_ns and forgets old decisions. Cheap: call it
 * often (the event loop does, every poll). */
void tracesample_tick(struct tracesample *t, uint64_t now_ns);
/* Decides every held trace now, as if its wait were over: at shutdown. */
void tracesample_flush(struct tracesample *t);

void tracesample_get_stats(const struct tracesample *t, struct tracesample_stats *out);
/* The reason label of each: "ratio", "parent_sampled", "error", "slow"; "ratio",
 * "parent_not_sampled", "buffer_full". */
const char *tracesample_keep_name(enum tracesample_keep r);
const char *tracesample_drop_name(enum tracesample_drop r);

#endif /* OBSPROBE_TRACESAMPLE_H */
