/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding the libraries obsprobe probes in a process: which mapped files hold OpenSSL or GnuTLS,
 * and where their read/write functions are; and which hold libpq (PostgreSQL's client library),
 * and where its query functions are. Pure: bytes in, facts out (tls.c does the files and probes).
 */
#ifndef OBSPROBE_TLSLIB_H
#define OBSPROBE_TLSLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_lib {
	TLS_LIB_NONE = 0,
	TLS_LIB_OPENSSL,
	TLS_LIB_GNUTLS,
};

/* The functions obsprobe hooks, by library. */
enum tls_sym {
	TLS_SYM_SSL_READ,
	TLS_SYM_SSL_WRITE,
	TLS_SYM_SSL_READ_EX,
	TLS_SYM_SSL_WRITE_EX,
	TLS_SYM_SSL_HANDSHAKE,
	TLS_SYM_GNUTLS_RECV,
	TLS_SYM_GNUTLS_SEND,
	TLS_SYM_GNUTLS_HANDSHAKE,
	/* libpq: the calls that start a query or a connection, or end one */
	TLS_SYM_PQ_SEND_QUERY,
	TLS_SYM_PQ_SEND_QUERY_PARAMS,
	TLS_SYM_PQ_SEND_PREPARE,
	TLS_SYM_PQ_SEND_QUERY_PREPARED,
	TLS_SYM_PQ_CONNECT_START,
	TLS_SYM_PQ_CONNECT_START_PARAMS,
	TLS_SYM_PQ_FINISH,
	TLS_SYM__COUNT,
};

/* Where a hook's probe sits. */
enum tls_site_kind {
	TLS_SITE_NONE = 0, /* the function is absent */
	TLS_SITE_ENTRY,	   /* its first instruction */
	/* a later instruction every call runs, the arguments still in their registers: for
	 * hooks that read their arguments only (libpq) */
	TLS_SITE_INSIDE,
	/* the internal function that a function and its _ex twin (SSL_read, SSL_read_ex) both
	 * call first, passing their arguments on, and that nothing else calls or takes the
	 * address of: it has the _ex contract (buffer, length, size_t *count; > 0 on success),
	 * and one probe and return probe on it serve both */
	TLS_SITE_WORKER,
	/* the function this one ends in a jump to (gnutls_record_send: to gnutls_record_send2
	 * through its PLT entry), its arguments and stack as it got them, so that the other
	 * returns for it: probed there (and its return) when that starts with an emulated
	 * instruction */
	TLS_SITE_TAIL,
	/* GnuTLS's gnutls_record_recv(session, data, size), whose entry is `sub $8,%rsp`: the
	 * internal receive _gnutls_recv_int(session, type, data, size, seq, ms) that every path
	 * of it which reads records ends in a jump to, passing (session, 23: application data,
	 * data, size) and its own stack: probed there (and its return), a program that takes
	 * those arguments and skips the other record types (alerts, handshake) that the library
	 * reads through it elsewhere. Its kTLS branch (the kernel decrypts) is not probed. */
	TLS_SITE_RECV_INT,
};

struct tls_site {
	enum tls_site_kind kind;
	uint64_t offset; /* file offset of the probe */
	bool emulated;	 /* the kernel emulates the instruction there (x86-64 only) */
	bool shared;	 /* TLS_SITE_WORKER: the _ex twin's probe serves this hook too */
	char insn[48];	 /* the instruction there, "" where not decoded */
	char how[96];	 /* TLS_SITE_WORKER, TLS_SITE_TAIL: which calls or jumps reach it */
};

struct tls_elf_info {
	enum tls_lib lib;
	/* No symbol names the hooks, yet the file carries libssl's own code (its source file
	 * names): OpenSSL linked in statically, then stripped. */
	bool stripped_openssl;
	bool has_symtab;
	bool libpq; /* defines PQsendQuery: libpq, or a program with libpq linked in */
	/* each hooked function's start, as a file offset; 0: absent */
	uint64_t offset[TLS_SYM__COUNT];
	/* where each hook's probe goes (see tls_elf_inspect) */
	struct tls_site site[TLS_SYM__COUNT];
	char build_id[41]; /* lower-case hex, "" when the file has none */
};

const char *tls_sym_name(enum tls_sym s);
const char *tls_lib_name(enum tls_lib l);

/* Inspects the ELF image buf[0..len), which libelf may rewrite in place (a private copy or
 * mapping): 0 (out filled, lib may be TLS_LIB_NONE), or -EINVAL for
 * bytes that are not a readable ELF file. Never reads outside buf.
 * On x86-64 each site is chosen by decoding the code (x86sites.h) so that the probe sits on an
 * instruction the kernel emulates where one serves: the entry when it is one; for a hook that
 * reads only its arguments, the first emulated instruction every call runs with them intact
 * (PQsendQuery: `mov $1,%edx; jmp PQsendQueryInternal` is hooked on the jmp); for OpenSSL's
 * reads and writes, whose entry is `sub $N,%rsp`, their shared worker (TLS_SITE_WORKER); for
 * a function that only passes its call on, the function it jumps to (TLS_SITE_TAIL).
 * Otherwise the entry, single-stepped. Elsewhere every site is the entry. emulates: what the
 * running kernel emulates besides branches (X86_EMUL_*, x86sites.h). */
int tls_elf_inspect(void *buf, size_t len, unsigned int emulates, struct tls_elf_info *out);
/* The same on buf, a private mapping of the file: the pages the scan for a stripped OpenSSL
 * reads through, which may be the whole file, are given back as it goes (util/pages.h), so that
 * inspecting a library costs a chunk of RSS, not its size. The scan is the last read of buf: a
 * page libelf rewrote in place (a foreign byte order) reads back as the file's after it. */
int tls_elf_inspect_file(void *buf, size_t len, unsigned int emulates, struct tls_elf_info *out);

#endif /* OBSPROBE_TLSLIB_H */
