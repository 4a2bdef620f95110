/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sentry-like error reports: crashes, Go panics and the errors spans already carry (HTTP 5xx,
 * SQLSTATE, non-zero exits), grouped by a fingerprint of their stack (or of what they happened
 * in), counted per group for obsprobe_errors_total, and exported as OTLP log records with the
 * OpenTelemetry exception.* attributes. The first report of a fingerprint is always exported,
 * repeats are sampled. Pure: no I/O, no globals; one thread owns a tracker.
 */
#ifndef OBSPROBE_ERRORS_H
#define OBSPROBE_ERRORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/logrec.h"
#include "process/unwind.h"

#define ERROR_SERVICE_MAX 128	     /* bytes of a group's service name kept */
#define ERROR_TYPE_MAX 32	     /* bytes of a group's error type kept */
#define ERROR_MESSAGE_MAX 1024	     /* bytes of a message in the body and exception.message */
#define ERROR_EXTRA_MAX 4	     /* extra attributes of a report */
#define ERROR_EXTRA_VAL_MAX 256	     /* bytes of an extra attribute's value */
#define ERROR_FP_OVERFLOW "overflow" /* the fingerprint of the groups beyond max_groups */

struct error_report {
	uint64_t ts_ns; /* CLOCK_MONOTONIC */
	uint32_t pid, tid;
	const char *service; /* service.name of the process */
	/* error_type: "SIGSEGV", "SIGABRT", "panic", "500", "23505", "exit", "SIGKILL" */
	const char *type;
	const char *message; /* exception.message; "" or NULL: none */
	bool fatal;	     /* the process dies of it: severity FATAL (21), else ERROR (17) */
	bool recovered;	     /* a Go panic a recover() caught */
	const struct unwind_frame *frames; /* innermost first; NULL/0: none */
	size_t nframes;
	/* what groups a stackless error: "GET /users/:id", "SELECT orders", an exe name */
	const char *culprit;
	bool has_span;
	uint8_t trace_flags;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	size_t nextra; /* more string attributes */
	struct {
		const char *key, *val;
	} extra[ERROR_EXTRA_MAX];
};

struct error_opts {
	size_t max_groups;	  /* 0: 1000 */
	unsigned samples_per_min; /* per fingerprint after the first; 0: 10 */
};

struct error_tracker;

/* o may be NULL (defaults). emit gets each exported record, valid only during the call. */
struct error_tracker *error_tracker_new(const struct error_opts *o,
					void (*emit)(void *ctx, const struct log_record *r),
					void *ctx);
void error_tracker_free(struct error_tracker *t);

/*
 * One error: grouped by (service, type, fingerprint), counted, exported when the sampling says
 * so (the first of a fingerprint always; then at most samples_per_min per minute of ts_ns).
 * Beyond max_groups a new fingerprint counts under (service, type, "overflow"), sampled as one
 * group (its record keeps the real fingerprint); when even that group cannot be made (as many
 * overflow groups as max_groups) the report is counted in stats.overflow only, all such sampled
 * as one group. The record's attributes: exception.type, exception.message, exception.escaped
 * (fatal), error.fingerprint, go.panic.recovered (type "panic"), exception.stacktrace (the top
 * frames that fit; the record is marked truncated when some do not), the extras. Returns true
 * when a record was emitted.
 */
bool error_tracker_report(struct error_tracker *t, const struct error_report *r);

/* Every group, for the metric obsprobe_errors_total{service_name, error_type, fingerprint}. */
void error_tracker_each(const struct error_tracker *t,
			void (*fn)(void *ctx, const char *service, const char *type,
				   const char *fingerprint, uint64_t count),
			void *ctx);

struct error_stats {
	uint64_t reports, exported, sampled_out;
	uint64_t groups;   /* kept now, overflow groups included */
	uint64_t overflow; /* reports counted in no group: even the overflow groups were full */
};
void error_tracker_get_stats(const struct error_tracker *t, struct error_stats *out);

/*
 * Sentry-style fingerprint as 16 lower-case hex digits into out[17]: the type and the functions
 * (else module + module_off) of the top 3 in-app frames; no in-app frame: the top 3 frames; no
 * frames: type + culprit. Stable across runs and processes: no address of ASLR'd code (pc).
 */
void error_fingerprint(const struct error_report *r, char out[17]);

/*
 * The stack as text, one frame a line, innermost first: "store_record (crashme.c:14)",
 * "abort+0x7a (libc.so.6)", "0x1234 (libfoo.so+0x1234)", "0x7f12 (?)". Valid UTF-8, cut at
 * whole lines to fit len (NUL included). Returns the bytes written, the NUL aside.
 */
size_t error_stack_text(const struct unwind_frame *f, size_t n, char *buf, size_t len);

#endif /* OBSPROBE_ERRORS_H */
