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
	/* Spawns followed at the `go` statements (go_stmt); 0: at runtime.newproc1 */
	__u32 gopc_off;		/* runtime.g.gopc */
	__u32 p_off;		/* runtime.m.p */
	__u32 goidcache_off;	/* runtime.p.goidcache */
	__u32 goidcacheend_off; /* runtime.p.goidcacheend */
	__u32 pconn_conn_off;	/* net/http.persistConn.conn (a net.Conn) */
	__u64 goidgen;		/* link-time address of runtime.sched.goidgen */
	/* HTTP calls (go_http_call): the socket of the connection */
	__u32 tcpconn_fd_off;  /* net.TCPConn.conn.fd */
	__u32 netfd_sysfd_off; /* net.netFD.pfd.Sysfd */
	__u64 tcpconn_itab;    /* link-time address of the *net.TCPConn net.Conn itab; 0: unknown
				  (a stripped build: the socket under any conn is looked up) */
	/* Go's own TLS (go_tls_*), and HTTPS calls: the net.Conn a crypto/tls.Conn wraps */
	__u32 tlsconn_conn_off; /* crypto/tls.Conn.conn */
	__u32 tls;		/* Go's TLS is read (go_tls_*): the offsets above are known */
	__u64 tlsconn_itab; /* link-time address of the *crypto/tls.Conn net.Conn itab; 0: none */
};

#define GO_MAX_PROCS 4096

/* go_tls_reads: a goroutine inside crypto/tls.(*Conn).Read, by its g, until its copy */
struct go_tls_read_key {
	__u32 tgid;
	__u32 pad;
	__u64 g;
};
#define GO_TLS_MAX_READS 16384

enum go_ev_kind {
	/* goid spawned arg (a `go` statement); pc: 0 when seen done (runtime.newproc1), else the
	 * gopc arg must show when it is born: arg was told in advance */
	GO_EV_SPAWN = 1,
	/* goid sends an HTTP request on socket arg (net/http's persistConn.roundTrip hands it
	 * to the connection's writer goroutine and waits) */
	GO_EV_CALL = 2,
	/* goid, told in advance by a GO_EV_SPAWN, shows for the first time: its gopc is arg, 0
	 * when two spawns were told the same id */
	GO_EV_BORN = 4,
};

/* go_born: a goroutine told in advance, until it shows */
struct go_born_key {
	__u32 tgid;
	__u32 pad;
	__u64 goid;
};
#define GO_BORN_MAX 16384

/* OBS_EV_GO */
struct go_event {
	struct obs_event_hdr hdr;
	__u32 kind;
	__u32 pad;
	__u64 goid;
	__u64 arg;
	__u64 pc;
};
_Static_assert(sizeof(struct go_event) == 56, "go_event layout");

/* A panic's life (OBS_EV_GO_PANIC), by the g it runs on: raised (runtime.gopanic), then either
 * recovered (runtime.recovery: a deferred call's recover() stopped it) or fatal
 * (runtime.fatalpanic: nothing did; the process prints it and exits with status 2). */
enum go_panic_kind {
	GO_PANIC_RAISED = 1,
	GO_PANIC_RECOVERED = 2,
	GO_PANIC_FATAL = 3,
};

/* A hook's cookie is its site's link-time address, this bit set when the site is the `jbe` of
 * the function's stack check (go.bpf.c: starts_over()) */
#define GO_COOKIE_STACK_CHECK (1ull << 63)

#define GO_PANIC_TEXT 256 /* bytes of the panic value's string kept */
#define GO_PANIC_FRAMES 48

/* OBS_EV_GO_PANIC. Only GO_PANIC_RAISED fills what follows g. */
struct go_panic_event {
	struct obs_event_hdr hdr;
	__u32 kind; /* enum go_panic_kind */
	__u32 npcs;
	__u64 g;    /* the panicking goroutine's g: what the three kinds of event share */
	__u64 goid; /* 0: unknown (goroutines not followed) */
	__u64 bias; /* the executable's load bias: runtime addresses less link-time ones */
	/* the panic value, an `any`: its type's runtime._type and its data word, the 32 bytes
	 * there, and the string their first 16 bytes name when they look like a Go string
	 * header (a string value, *errors.errorString, runtime.errorString, ...) */
	__u64 type_addr;
	__u64 data_addr;
	__u8 raw[32];
	__u32 text_len; /* 0: no string read */
	__u32 pad;
	char text[GO_PANIC_TEXT];
	/* the goroutine's stack: gopanic's site, its caller's return address, then the frame
	 * pointers' chain (Go keeps them) */
	__u64 pcs[GO_PANIC_FRAMES];
};
_Static_assert(sizeof(struct go_panic_event) == 24 + 48 + 32 + 8 + 256 + 8 * 48,
	       "go_panic_event layout");

/* The register a spawn probe reads the new g from travels as its BPF cookie: the index of
 * the register in the hardware's numbering (rax 0, rcx 1, ..., r15 15). */
#define GO_REG_COUNT 16

#endif /* OBSPROBE_GO_H */
