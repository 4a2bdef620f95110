/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Goroutines of watched Go programs: which goroutine made a socket call (read from the user
 * registers: the Go register ABI keeps the running g in R14), which goroutine spawned which, and
 * which goroutine writes an HTTP request another one is waiting on (net/http's client hands the
 * request to its connection's writer goroutine).
 */
#ifndef OBSPROBE_GO_H
#define OBSPROBE_GO_H

#include "obsprobe/common.h"

/* Where a Go build keeps what the programs read (offsets from its DWARF): value of go_procs,
 * by tgid. All 0: a Go program whose goroutines are not followed; its events still say they
 * come from Go, so that no span of it is linked by thread. */
struct go_proc_cfg {
	__u32 goid_off; /* runtime.g.goid */
	__u32 m_off;	/* runtime.g.m */
	__u32 curg_off; /* runtime.m.curg */
	__u32 pad;
};

#define GO_MAX_PROCS 4096

enum go_ev_kind {
	GO_EV_SPAWN = 1, /* goid spawned arg (a `go` statement) */
	GO_EV_CALL = 2,	 /* goid sends the HTTP request at arg (net/http's persistConn.roundTrip) */
	GO_EV_WRITE = 3, /* goid writes the HTTP request at arg (net/http's Request.write) */
};

/* OBS_EV_GO */
struct go_event {
	struct obs_event_hdr hdr;
	__u32 kind;
	__u32 pad;
	__u64 goid;
	__u64 arg;
};
_Static_assert(sizeof(struct go_event) == 48, "go_event layout");

/* The register a spawn probe reads the new g from travels as its BPF cookie: the index of
 * the register in the hardware's numbering (rax 0, rcx 1, ..., r15 15). */
#define GO_REG_COUNT 16

#endif /* OBSPROBE_GO_H */
