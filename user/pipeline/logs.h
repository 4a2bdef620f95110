/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Logs without SDKs: the writes of watched processes to their stdout and stderr (OBS_EV_LOG
 * events) become log records, line by line (pipeline/logline.h), each carrying the span of the
 * request its thread or goroutine was serving when it wrote the line, on evidence only: a write
 * that carries exactly one whole line, made by an actor serving one request (actors.h). A write
 * of several lines is a buffer flushed later than its lines were made, so none of them is
 * linked. Budgeted per stream (lines a second); what is dropped is counted. Pure: events in, no
 * I/O.
 */
#ifndef OBSPROBE_LOGS_H
#define OBSPROBE_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/actors.h"
#include "pipeline/logrec.h"

#define LOG_MAX_STREAMS 4096 /* (process, stdout or stderr) followed at once */

struct log_stats {
	uint64_t records;      /* log records made */
	uint64_t linked;       /* of them: with the span their writer served */
	uint64_t truncated;    /* of them: cut (longer than LOG_LINE_MAX, or bytes lost) */
	uint64_t rate_dropped; /* lines over their stream's lines-per-second budget */
	uint64_t gaps;	       /* writes not read: over the byte budget (BPF), or not captured */
	uint64_t full;	       /* writes dropped: LOG_MAX_STREAMS streams were followed */
	uint64_t streams;      /* followed now */
};

struct log_tracker;

/* lines_per_s: per stream (0: no cap). emit gets every record; it may not keep the pointer. */
struct log_tracker *log_tracker_new(struct actors *actors, unsigned long lines_per_s,
				    void (*emit)(void *ctx, const struct log_record *r), void *ctx);
void log_tracker_free(struct log_tracker *t); /* NULL ok; partial lines are dropped */
/* One OBS_EV_LOG event. 0, or -EINVAL for a malformed one. */
int log_tracker_event(struct log_tracker *t, const void *data, size_t size);
/* pid is gone: a line it left unfinished is a record; its streams are forgotten. */
void log_tracker_proc_exit(struct log_tracker *t, uint32_t pid);
void log_tracker_get_stats(const struct log_tracker *t, struct log_stats *out);

#endif /* OBSPROBE_LOGS_H */
