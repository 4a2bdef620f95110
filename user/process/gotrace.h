/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where goroutine tracking probes a Go executable: the offsets in runtime.g and runtime.m the
 * BPF programs read (DWARF), and a site the kernel emulates in each hooked function (the
 * symbol table and the code): each `go` statement's call of runtime.newproc (emulated), or
 * runtime.newproc1 just after it stores the new goroutine's id when the build does not let the
 * new id be told in advance, and net/http's client at the `jbe` after the stack check. Pure:
 * bytes in, facts out.
 */
#ifndef OBSPROBE_GOTRACE_H
#define OBSPROBE_GOTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/goruntime.h"
#include "process/x86sites.h"

enum go_hook {
	GO_HOOK_SPAWN,	   /* runtime.newproc1: a `go` statement */
	GO_HOOK_HTTP_CALL, /* net/http.(*persistConn).roundTrip: a client call, its socket */
	/* Go's own TLS: the plaintext an application writes (its entry: buffer and length) and
	 * reads (its entry names the connection; the one `call runtime.memmove` in Read copies
	 * the plaintext out, length and source in its arguments) */
	GO_HOOK_TLS_WRITE, /* crypto/tls.(*Conn).Write */
	GO_HOOK_TLS_READ,  /* crypto/tls.(*Conn).Read */
	GO_HOOK_TLS_COPY,  /* crypto/tls.(*Conn).Read's call of runtime.memmove */
	/* panics: raised, recovered by a deferred call, or killing the process */
	GO_HOOK_PANIC,	  /* runtime.gopanic */
	GO_HOOK_RECOVERY, /* runtime.recovery */
	GO_HOOK_FATAL,	  /* runtime.fatalpanic */
	GO_HOOK__COUNT,
};

/* `go` statements probed in one binary at most; beyond: runtime.newproc1, one probe for all */
#define GO_MAX_STMTS 512

/* A `go` statement: a call of runtime.newproc in fn. */
struct go_stmt {
	struct x86_site site;
	const char *skip; /* why it is not probed (its goroutines never work for a request on
			     their own); NULL: probed */
	char fn[96];
};

struct go_trace_info {
	bool is_go;
	char version[GO_VERSION_MAX];
	int err; /* 0: offsets known; else why says what is missing */
	char why[160];
	struct go_g_offsets off;
	struct go_hook_site {
		bool found;
		struct x86_site site;
		int reg;	/* GO_HOOK_SPAWN: the register holding the new g (enum x86_gpr) */
		bool no_socket; /* GO_HOOK_HTTP_CALL, GO_HOOK_TLS_*: in the binary, but where
				   its connection keeps the socket is not known: not placed */
	} hook[GO_HOOK__COUNT];
	/* by_stmt: spawns are followed at the `go` statements (stmt[], nprobed of them not
	 * skipped), the new goroutine's id told from its P's goid cache before it exists and
	 * checked against its gopc when it first shows; else at hook[GO_HOOK_SPAWN] */
	bool by_stmt;
	char stmt_why[64];
	struct go_stmt *stmt; /* heap: go_trace_info_release() */
	size_t nstmt, nprobed;
	uint64_t goidgen; /* link-time address of runtime.sched.goidgen */
	/* link-time address of the itab of *net.TCPConn as a net.Conn; 0: unknown, and no
	 * HTTP call is followed (off.http_conn neither) */
	uint64_t tcpconn_itab;
	/* the same for *crypto/tls.Conn (an HTTPS call's connection), 0 when unknown */
	uint64_t tlsconn_itab;
	/* Go's own TLS is read: the three GO_HOOK_TLS_* sites found, or why not in words */
	bool tls;
	bool tls_bare; /* found without DWARF or symbols: .gopclntab and Go's fixed layout */
	char tls_why[160];
};

/* Whether h is one of Go's TLS hooks. */
static inline bool go_hook_tls(int h)
{
	return h == GO_HOOK_TLS_WRITE || h == GO_HOOK_TLS_READ || h == GO_HOOK_TLS_COPY;
}

static inline bool go_hook_panic(int h)
{
	return h == GO_HOOK_PANIC || h == GO_HOOK_RECOVERY || h == GO_HOOK_FATAL;
}

/* The function a hook goes on. */
const char *go_hook_symbol(enum go_hook h);
/* Whether the version ("go1.19.8") has the register ABI (Go 1.17 on, amd64). */
bool go_version_regabi(const char *version);
/*
 * Reads the ELF image buf (len bytes; libelf may convert it in place): 0 with *out filled
 * (out->is_go false for anything but a Go executable), -EINVAL for no ELF image. A Go build
 * without the register ABI, DWARF or a symbol table has out->err set and why in words.
 */
int go_trace_inspect(void *buf, size_t len, unsigned int emulates, struct go_trace_info *out);
void go_trace_info_release(struct go_trace_info *info);
/* Why the goroutines a `go` statement in function fn starts are not followed, or NULL. */
const char *go_stmt_skip(const char *fn);

#endif /* OBSPROBE_GOTRACE_H */
