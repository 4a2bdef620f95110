/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TLS plaintext from uprobes on the application's TLS library (OpenSSL, GnuTLS). Plaintext
 * crosses the ring buffer as OBS_EV_SOCK_DATA events (sock.h) with syscall SOCK_SC_TLS_READ or
 * SOCK_SC_TLS_WRITE and the conn_id of the socket the library used, so the HTTP pipeline treats
 * it as it treats plaintext sockets.
 */
#ifndef OBSPROBE_TLS_H
#define OBSPROBE_TLS_H

#include "obsprobe/common.h"

#define TLS_MAX_CALLS 16384    /* threads inside a TLS read or write at once */
#define TLS_MAX_SESSIONS 65536 /* (process, SSL*) -> connection */
/* gnutls_content_type_t's application data: the only records gnutls_record_recv's internal
 * receive is probed for (tlslib.h TLS_SITE_RECV_INT) */
#define GNUTLS_APPLICATION_DATA 23

/* How a hooked function reports the bytes it moved. */
enum tls_ret_kind {
	TLS_RET_INT = 1,   /* int SSL_read/SSL_write(ssl, buf, num): bytes, or <= 0 */
	TLS_RET_EX = 2,	   /* int SSL_read_ex/SSL_write_ex(ssl, buf, num, size_t *n): > 0 and *n */
	TLS_RET_SSIZE = 3, /* ssize_t gnutls_record_recv/send(session, data, size) */
	TLS_HANDSHAKE = 4, /* SSL_do_handshake(ssl), gnutls_handshake(session): no data; its
			    * socket I/O names the session's connection before the first read,
			    * which the handshake's own reads may already have buffered */
};

/* A thread inside a hooked TLS read or write: set at entry, completed at return. */
struct tls_call {
	__u64 ctx;     /* SSL * or gnutls_session_t: the session, for tls_sessions */
	__u64 buf;     /* the plaintext buffer */
	__u64 out_len; /* TLS_RET_EX: where the library stores the byte count */
	__u64 conn_id; /* set by the socket syscall the call made; 0: it made none */
	__u8 dir;      /* enum sock_dir */
	__u8 kind;     /* enum tls_ret_kind */
	__u16 pad;
	__u32 pad2;
	__u64 ts_ns; /* when the call began: a write's bytes leave from then on */
	/* rsp at the probed entry: the return of that very call finds rsp 8 above it (a nested
	 * call of the same probed function returns elsewhere in the stack) */
	__u64 sp;
};
_Static_assert(sizeof(struct tls_call) == 56, "tls_call layout");

struct tls_session_key {
	__u32 pid;
	__u32 pad;
	__u64 ctx;
};

#endif /* OBSPROBE_TLS_H */
