/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Errors of watched processes, as Sentry reports them, from what the kernel shows: crashes
 * (OBS_EV_FAULT: a fatal signal with the thread's registers and stack, unwound here from the
 * files' CFI), Go panics (OBS_EV_GO_PANIC: raised, then recovered or fatal, with the
 * goroutine's stack), OOM kills, non-zero exits, and failed spans (HTTP 5xx, SQLSTATE errors).
 * Each becomes an error report (pipeline/errors.h: grouped, counted, exported as a log record)
 * carrying the request its thread or goroutine served; a crash or panic inside a request also
 * becomes that span's `exception` event when the span ends.
 *
 * A process is usually gone when its crash is read: its mappings are kept from when it was
 * watched, exec'd, forked or mapped a file (fault_note(), fault_fork()).
 */
#ifndef OBSPROBE_FAULT_USER_H
#define OBSPROBE_FAULT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/actors.h"
#include "pipeline/errors.h"
#include "pipeline/span.h"

struct fault_stats {
	uint64_t crashes;      /* fatal signals read */
	uint64_t unwound;      /* of them: with at least one frame beyond the faulting one */
	uint64_t panics;       /* Go panics raised */
	uint64_t recovered;    /* of them: recovered by a deferred call */
	uint64_t fatal;	       /* of them: killing the process */
	uint64_t unresolved;   /* of them: neither seen (another panic replaced it, 30 s passed) */
	uint64_t pending_full; /* panics not followed: too many at once */
	uint64_t exceptions;   /* exception events put on spans */
	uint64_t exceptions_lost; /* crashes or panics in a request whose span never ended */
	uint64_t maps_missing;	  /* crashes of a process whose mappings were never read */
};

struct fault_tracker;

/* service(ctx, pid): the service name of pid (never NULL). */
struct fault_tracker *fault_tracker_new(struct actors *actors, struct error_tracker *errors,
					const char *(*service)(void *ctx, uint32_t pid), void *ctx);
void fault_tracker_free(struct fault_tracker *t); /* NULL ok */

/* pid is watched now, exec'd or mapped a file: its mappings are read again. */
void fault_note(struct fault_tracker *t, uint32_t pid);
/* child is a fork of parent: it maps what parent maps until it says otherwise. */
void fault_fork(struct fault_tracker *t, uint32_t parent, uint32_t child);
/* pid exited with status (wait(2)'s): what it leaves pending is reported (a panic it died of),
 * a non-zero exit or a death by the OOM killer is an error report. */
void fault_proc_exit(struct fault_tracker *t, uint32_t pid, int32_t status);
/* Everything of pid goes: call it once its last spans have ended (an exception waiting for
 * one of them is lost then, counted). */
void fault_forget(struct fault_tracker *t, uint32_t pid);
/* The OOM killer chose pid: its SIGKILL is reported as such. */
void fault_oom(struct fault_tracker *t, uint32_t pid);

/* One OBS_EV_FAULT or OBS_EV_GO_PANIC event: 0, or -EINVAL for a malformed one. */
int fault_event(struct fault_tracker *t, const void *data, size_t size);

/* A span ends: when a crash or panic left an exception for it, a copy of it in *copy with the
 * exception on it; else s itself, a failed one reported as an error. */
const struct span *fault_span_end(struct fault_tracker *t, const struct span *s, struct span *copy);

void fault_get_stats(const struct fault_tracker *t, struct fault_stats *out);

#endif /* OBSPROBE_FAULT_USER_H */
