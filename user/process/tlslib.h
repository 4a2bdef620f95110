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

struct tls_elf_info {
	enum tls_lib lib;
	/* No symbol names the hooks, yet the file carries libssl's own code (its source file
	 * names): OpenSSL linked in statically, then stripped. */
	bool stripped_openssl;
	bool has_symtab;
	bool libpq; /* defines PQsendQuery: libpq, or a program with libpq linked in */
	/* where each hook goes, as a file offset: the function's start, or past a first
	 * instruction the kernel would single-step (see tls_elf_inspect); 0: absent */
	uint64_t offset[TLS_SYM__COUNT];
	char build_id[41]; /* lower-case hex, "" when the file has none */
};

const char *tls_sym_name(enum tls_sym s);
const char *tls_lib_name(enum tls_lib l);

/* Inspects the ELF image buf[0..len), which libelf may rewrite in place (a private copy or
 * mapping): 0 (out filled, lib may be TLS_LIB_NONE), or -EINVAL for
 * bytes that are not a readable ELF file. Never reads outside buf.
 * On x86-64, a libpq function whose hook reads at most its first two arguments and that starts
 * with `mov $imm32, %eax..%ebx` then a jump (PQsendQuery: `mov $1,%edx; jmp
 * PQsendQueryInternal`) is hooked on the jump: the kernel emulates a jump, but single-steps a
 * mov, a second trap on every call. */
int tls_elf_inspect(void *buf, size_t len, struct tls_elf_info *out);

#endif /* OBSPROBE_TLSLIB_H */
