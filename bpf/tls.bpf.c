// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TLS plaintext where the application hands it to its TLS library: uprobes on OpenSSL's
 * SSL_read/SSL_write (and the _ex forms, or the internal worker both forms call, whose first
 * instruction the kernel emulates: user/process/tlslib.h) and GnuTLS's
 * gnutls_record_recv/send (or the internal functions they jump to). The entry
 * program remembers the buffer; the socket syscall the library makes inside the call names the
 * connection (sock.bpf.c fills tls_calls.conn_id); the return program sends the bytes the call
 * really moved. A call served from the library's buffer makes no syscall: the session's last
 * known connection (tls_sessions) stands in, learnt from an earlier call or from the handshake
 * (which may have read the first request along with its own records). Calls that move nothing
 * (want-read) send nothing.
 *
 * sys_exit_mmap tells user space when a watched process maps a file executable, so a TLS
 * library loaded late (dlopen) is probed while the process runs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/proc.h"
#include "sock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PROT_EXEC 0x4

struct {
	/* LRU: sessions are not followed to their end (SSL_free would be one more uprobe); the
	 * handshake of the next session at the same address maps it anew */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLS_MAX_SESSIONS);
	__type(key, struct tls_session_key);
	__type(value, __u64);
} tls_sessions SEC(".maps");

static __always_inline int call_enter(struct pt_regs *ctx, const void *session, const void *buf,
				      const void *out_len, __u8 dir, __u8 kind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call c = {};

	if (!is_target(pid_tgid >> 32))
		return 0;
	c.ctx = (__u64)session;
	c.buf = (__u64)buf;
	c.out_len = (__u64)out_len;
	c.dir = dir;
	c.kind = kind;
	c.ts_ns = bpf_ktime_get_ns();
	c.sp = PT_REGS_SP(ctx);
	if (bpf_map_update_elem(&tls_calls, &pid_tgid, &c, BPF_ANY))
		count_drop(OBS_DROP_TLS_CALLS);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf)
{
	return call_enter(ctx, ssl, buf, NULL, SOCK_DIR_INGRESS, TLS_RET_INT);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, const void *buf)
{
	return call_enter(ctx, ssl, buf, NULL, SOCK_DIR_EGRESS, TLS_RET_INT);
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, __u64 *readbytes)
{
	return call_enter(ctx, ssl, buf, readbytes, SOCK_DIR_INGRESS, TLS_RET_EX);
}

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, const void *buf, __u64 num, __u64 *written)
{
	return call_enter(ctx, ssl, buf, written, SOCK_DIR_EGRESS, TLS_RET_EX);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_recv_enter, void *session, void *data)
{
	return call_enter(ctx, session, data, NULL, SOCK_DIR_INGRESS, TLS_RET_SSIZE);
}

/* gnutls_record_recv's internal receive (TLS_SITE_RECV_INT): application data only */
SEC("uprobe")
int BPF_KPROBE(gnutls_recv_int_enter, void *session, int type, void *data)
{
	if (type != GNUTLS_APPLICATION_DATA)
		return 0;
	return call_enter(ctx, session, data, NULL, SOCK_DIR_INGRESS, TLS_RET_SSIZE);
}

SEC("uprobe")
int BPF_KPROBE(gnutls_send_enter, void *session, const void *data)
{
	return call_enter(ctx, session, data, NULL, SOCK_DIR_EGRESS, TLS_RET_SSIZE);
}

SEC("uprobe")
int BPF_KPROBE(tls_handshake_enter, void *session)
{
	return call_enter(ctx, session, NULL, NULL, SOCK_DIR_INGRESS, TLS_HANDSHAKE);
}

/* Bytes the call moved, from its return value (and *out_len for the _ex forms). */
static __always_inline __u64 call_bytes(const struct tls_call *c, long rc)
{
	__u64 n = 0;

	switch (c->kind) {
	case TLS_RET_INT: /* an int: the upper half of the register is not part of it */
		return (int)rc > 0 ? (__u64)(int)rc : 0;
	case TLS_RET_EX: /* SSL_read_ex returns 1; the worker it shares with SSL_read, > 0 */
		if ((int)rc <= 0 || !c->out_len)
			return 0;
		if (bpf_probe_read_user(&n, sizeof(n), (const void *)c->out_len))
			count_drop(OBS_DROP_READ_FAULT);
		return n;
	case TLS_RET_SSIZE:
		return rc > 0 ? (__u64)rc : 0;
	}
	return 0;
}

/* The connection of the call: the socket it used, else the session's last one. */
static __always_inline __u64 call_conn(__u32 pid, const struct tls_call *c)
{
	struct tls_session_key key = { .pid = pid, .ctx = c->ctx };
	__u64 *known = bpf_map_lookup_elem(&tls_sessions, &key);

	if (!c->conn_id)
		return known ? *known : 0;
	if (!known || *known != c->conn_id)
		bpf_map_update_elem(&tls_sessions, &key, &c->conn_id, BPF_ANY);
	return c->conn_id;
}

/* One return program for every hooked read and write: the entry recorded which it was. */
SEC("uretprobe")
int BPF_KRETPROBE(tls_return, long rc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct tls_call *c = bpf_map_lookup_elem(&tls_calls, &pid_tgid);
	__u64 bytes, conn_id;
	const void *buf;
	__u64 began;
	__u8 dir;

	if (!c || PT_REGS_SP(ctx) != c->sp + 8)
		return 0; /* not the call the entry saw: one nested in it */
	began = c->ts_ns;
	bytes = call_bytes(c, rc);
	conn_id = bytes || c->kind == TLS_HANDSHAKE ? call_conn(pid_tgid >> 32, c) : 0;
	buf = (const void *)c->buf;
	dir = c->dir;
	bpf_map_delete_elem(&tls_calls, &pid_tgid);
	if (!bytes)
		return 0;
	if (!conn_id) {
		count_drop(OBS_DROP_TLS_NO_CONN);
		return 0;
	}
	/* a read's bytes are the application's when it returns; a write's left from its start
	 * (the peer may have read them before this return's trap is over: stamped here, a server
	 * span would end after its client's, or start before it) */
	send_buffer(pid_tgid, conn_id, dir,
		    dir == SOCK_DIR_INGRESS ? SOCK_SC_TLS_READ : SOCK_SC_TLS_WRITE, bytes, buf,
		    dir == SOCK_DIR_EGRESS ? began : 0);
	return 0;
}

static __always_inline int on_mmap(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct obs_proc_event e = {};
	struct pt_regs *regs;

	if (ret < 0 || !is_target(pid_tgid >> 32))
		return 0;
	regs = user_regs();
	if (!(PT_REGS_PARM3_SYSCALL(regs) & PROT_EXEC) || (int)PT_REGS_PARM5_SYSCALL(regs) < 0)
		return 0;
	fill_hdr(&e.hdr, OBS_EV_PROC_MMAP, pid_tgid);
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	emit_now(&e, sizeof(e));
	return 0;
}
SYSCALL_EXIT(mmap, on_mmap)
