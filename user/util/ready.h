/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whether obsprobe is ready: every probe asked for attached. The main thread says what is under
 * way and when it is done; the metrics server's thread answers /readyz from it. Thread-safe.
 */
#ifndef OBSPROBE_READY_H
#define OBSPROBE_READY_H

#include <stdbool.h>
#include <stddef.h>

#define READY_TEXT_MAX 1024

struct ready;

struct ready *ready_new(void);
void ready_free(struct ready *r); /* NULL ok */

/* Not ready yet: what is under way ("loading the BPF programs"). */
void ready_wait(struct ready *r, const char *what);
/* Done attaching. failed: what could not be attached, a line each ("" for nothing): then not
 * ready, and it says so. True when ready. */
bool ready_done(struct ready *r, const char *failed);
/* The state now into text (at most len bytes, a line each): "ready\n", or "not ready: ...\n"
 * with what is under way or what failed. True when ready. NULL r: not ready. */
bool ready_get(struct ready *r, char *text, size_t len);

#endif /* OBSPROBE_READY_H */
