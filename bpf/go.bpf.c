// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Goroutines of watched Go programs, for span links (obsprobe/go.h): uprobes on the Go runtime
 * and net/http, placed per executable on an instruction the kernel emulates (a `go` statement's
 * call, a `jbe` after the stack check, a `je` after newproc1 stores the new goroutine's id),
 * never on a return: Go moves
 * goroutine stacks, so no uretprobe. Processes that are not targets are not in go_procs.
 *
 * Go's own TLS (crypto/tls, no library to hook): the plaintext an application writes is the
 * slice crypto/tls.(*Conn).Write gets, sent at its entry; what it reads is what the one
 * `call runtime.memmove` in (*Conn).Read copies into the caller's buffer (length and source in
 * the call's arguments), named by the socket Read's entry found under the *Conn. Three probes
 * on emulated instructions, none on a return.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "sock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define X86_FLAG_CF 0x1
#define X86_FLAG_ZF 0x40

/* The register numbered r in the hardware's order (the cookie of go_spawn). Read through the
 * helper: compilers turn a switch of context loads into one load at a computed offset, which
 * the verifier refuses. */
static __always_inline __u64 reg_of(const struct pt_regs *ctx, __u64 r)
{
	__u32 off;
	__u64 v = 0;

	switch (r) {
	case 0:
		off = offsetof(struct pt_regs, ax);
		break;
	case 1:
		off = offsetof(struct pt_regs, cx);
		break;
	case 2:
		off = offsetof(struct pt_regs, dx);
		break;
	case 3:
		off = offsetof(struct pt_regs, bx);
		break;
	case 5:
		off = offsetof(struct pt_regs, bp);
		break;
	case 6:
		off = offsetof(struct pt_regs, si);
		break;
	case 7:
		off = offsetof(struct pt_regs, di);
		break;
	case 8:
		off = offsetof(struct pt_regs, r8);
		break;
	case 9:
		off = offsetof(struct pt_regs, r9);
		break;
	case 10:
		off = offsetof(struct pt_regs, r10);
		break;
	case 11:
		off = offsetof(struct pt_regs, r11);
		break;
	case 12:
		off = offsetof(struct pt_regs, r12);
		break;
	case 13:
		off = offsetof(struct pt_regs, r13);
		break;
	case 15:
		off = offsetof(struct pt_regs, r15);
		break;
	default:
		return 0; /* rsp and r14 never hold the new g */
	}
	bpf_probe_read_kernel(&v, sizeof(v), (const char *)ctx + off);
	return v;
}

/*
 * runtime.newproc1, just after it stored the new goroutine's id; the register holding the new g
 * is the cookie. newproc1 runs on the system stack (R14 is the thread's g0), called by the
 * goroutine that ran the `go` statement: that one is its thread's m.curg.
 */
SEC("uprobe")
int go_spawn(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 newg, m = 0, curg = 0, child = 0, parent = 0;

	if (!cfg)
		return 0;
	newg = reg_of(ctx, bpf_get_attach_cookie(ctx));
	if (!newg || bpf_probe_read_user(&child, sizeof(child), (void *)(newg + cfg->goid_off)) ||
	    !child)
		return 0;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)(ctx->r14 + cfg->m_off)) || !m ||
	    bpf_probe_read_user(&curg, sizeof(curg), (void *)(m + cfg->curg_off)) || !curg ||
	    bpf_probe_read_user(&parent, sizeof(parent), (void *)(curg + cfg->goid_off)) || !parent)
		return 0; /* spawned by the runtime itself */
	go_send(pid_tgid, GO_EV_SPAWN, parent, child, 0);
	return 0;
}

/* Where the link-time address vaddr is in this process: moved by the executable's load bias,
 * the probed instruction's address less its link-time one (the program's cookie). */
static __always_inline __u64 loaded_at(struct pt_regs *ctx, __u64 vaddr)
{
	return vaddr + (ctx->ip - (bpf_get_attach_cookie(ctx) & ~GO_COOKIE_STACK_CHECK));
}

/*
 * At a stack check's `jbe` (the cookie says so): whether it jumps, to morestack, after which the
 * function starts over (its stack grown, or its goroutine preempted: stackguard0 set to
 * stackPreempt) and this probe hits again. Only the hit that goes on counts: the other would
 * send a write's plaintext twice, or a panic twice. jbe jumps on CF or ZF.
 */
static __always_inline bool starts_over(struct pt_regs *ctx)
{
	return (bpf_get_attach_cookie(ctx) & GO_COOKIE_STACK_CHECK) &&
	       (ctx->flags & (X86_FLAG_CF | X86_FLAG_ZF));
}

/*
 * A `go` statement: the `call runtime.newproc` itself (emulated; the cookie is the call's
 * link-time address). The goroutine it starts does not exist yet, but its id does: newproc1
 * takes the next one from the goid cache of the P this thread holds, and refills an exhausted
 * cache with the batch after runtime.sched.goidgen. Nothing else takes from that cache before
 * (the P is this thread's), unless the spawner is preempted in newproc's stack check and
 * resumes elsewhere: so the id is only told here, and checked where the goroutine first shows
 * (go_running(): its gopc must be this call's return address); an id told twice is trusted for
 * neither.
 */
SEC("uprobe")
int go_stmt(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	struct go_born_key k = { .tgid = tgid };
	__u64 parent, m = 0, p = 0, cache[2] = {}, gopc, contested = 0;

	if (!cfg || !cfg->gopc_off)
		return 0;
	/* go_running(): a spawner told in advance is confirmed before its own spawn goes out */
	parent = go_running(cfg, pid_tgid, ctx->r14, ctx->sp);
	if (!parent || bpf_probe_read_user(&m, sizeof(m), (void *)(ctx->r14 + cfg->m_off)) || !m ||
	    bpf_probe_read_user(&p, sizeof(p), (void *)(m + cfg->p_off)) || !p ||
	    bpf_probe_read_user(&cache[0], sizeof(cache[0]), (void *)(p + cfg->goidcache_off)) ||
	    bpf_probe_read_user(&cache[1], sizeof(cache[1]), (void *)(p + cfg->goidcacheend_off)))
		return 0;
	if (cache[0] == cache[1]) {
		/* a new batch: the first after the last handed out, if no other P takes it
		 * first (then two spawns are told one id) */
		__u64 gen = 0;

		if (bpf_probe_read_user(&gen, sizeof(gen), (void *)loaded_at(ctx, cfg->goidgen)))
			return 0;
		cache[0] = gen + 1;
	}
	k.goid = cache[0];
	gopc = ctx->ip + 5;
	if (bpf_map_update_elem(&go_born, &k, &gopc, BPF_NOEXIST))
		bpf_map_update_elem(&go_born, &k, &contested, BPF_ANY);
	go_send(pid_tgid, GO_EV_SPAWN, parent, k.goid, gopc);
	return 0;
}

/* The socket under the net.Conn at iface (type word, data word): a *net.TCPConn's, as its
 * itab shows (moved by the executable's load bias); -1 for any other conn. In a stripped build
 * (no itab known) the conn is taken for one whose first word leads to a netFD: what that gives
 * counts only if it is a socket of the process's that obsprobe follows (tls_conn_id). */
static __always_inline int tcp_fd_of(struct pt_regs *ctx, const struct go_proc_cfg *cfg,
				     const __u64 iface[2])
{
	__u64 nfd = 0, fd = 0;

	if ((cfg->tcpconn_itab && iface[0] != loaded_at(ctx, cfg->tcpconn_itab)) || !iface[1] ||
	    bpf_probe_read_user(&nfd, sizeof(nfd), (void *)(iface[1] + cfg->tcpconn_fd_off)) ||
	    !nfd || bpf_probe_read_user(&fd, sizeof(fd), (void *)(nfd + cfg->netfd_sysfd_off)))
		return -1;
	return (int)fd;
}

/* The socket of the *crypto/tls.Conn c, or -1. */
static __always_inline int tls_fd_of(struct pt_regs *ctx, const struct go_proc_cfg *cfg, __u64 c)
{
	__u64 iface[2] = {};

	if (!c || bpf_probe_read_user(iface, sizeof(iface), (void *)(c + cfg->tlsconn_conn_off)))
		return -1;
	return tcp_fd_of(ctx, cfg, iface);
}

/* The connection the *crypto/tls.Conn c encrypts for: its socket's, marked as carrying TLS
 * (its ciphertext is never parsed); 0 when there is none. Counted lost when the socket is open
 * but was never seen; not when its fd is closed: a call on a connection another goroutine is
 * closing (its netFD keeps the number until close() returns, close's entry has dropped the
 * entry) moves no bytes, it fails. */
static __always_inline __u64 tls_conn_id(struct pt_regs *ctx, const struct go_proc_cfg *cfg,
					 __u64 pid_tgid, __u64 c)
{
	struct sock_fd_key key = { .pid = pid_tgid >> 32, .fd = tls_fd_of(ctx, cfg, c) };
	struct conn_info *ci;

	if (key.fd < 0)
		return 0;
	ci = bpf_map_lookup_elem(&conns, &key);
	if (!ci || !ci->conn_id) {
		if (stream_sock_of_fd(key.fd))
			count_drop(OBS_DROP_TLS_NO_CONN);
		return 0;
	}
	if ((ci->flags & (CONN_TLS | CONN_SEEN)) != (CONN_TLS | CONN_SEEN))
		ci->flags |= CONN_TLS | CONN_SEEN;
	return ci->conn_id;
}

/* A goroutine inside crypto/tls.(*Conn).Read: its *crypto/tls.Conn, until its copy. */
struct {
	/* LRU: a Read that fails or returns nothing never reaches the copy */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GO_TLS_MAX_READS);
	__type(key, struct go_tls_read_key);
	__type(value, __u64);
} go_tls_reads SEC(".maps");

/* crypto/tls.(*Conn).Write(c, b) at its stack check's jbe: c in RAX, b's pointer and length
 * in RBX and RCX. Write sends all of b or fails: b is what goes out, sent now, before the
 * first byte of it reaches the peer. */
SEC("uprobe")
int go_tls_write(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 conn_id, n = ctx->cx;

	if (starts_over(ctx))
		return 0;
	if (!cfg || !cfg->tls || !n || !ctx->bx)
		return 0;
	conn_id = tls_conn_id(ctx, cfg, pid_tgid, ctx->ax);
	if (!conn_id)
		return 0;
	send_buffer(pid_tgid, conn_id, SOCK_DIR_EGRESS, SOCK_SC_TLS_WRITE, n, (const void *)ctx->bx,
		    0);
	return 0;
}

/* crypto/tls.(*Conn).Read(c, b) at its stack check's jbe: which *crypto/tls.Conn this
 * goroutine (its g, in R14) reads from. Its connection is looked up at the copy, when bytes
 * come: a Read that waits on a connection another goroutine closes returns none. */
SEC("uprobe")
int go_tls_read(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_tls_read_key k = { .tgid = pid_tgid >> 32, .g = ctx->r14 };
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &k.tgid);
	__u64 c = ctx->ax;

	if (starts_over(ctx))
		return 0;
	if (!cfg || !cfg->tls)
		return 0;
	if (c)
		bpf_map_update_elem(&go_tls_reads, &k, &c, BPF_ANY);
	else
		bpf_map_delete_elem(&go_tls_reads, &k);
	return 0;
}

/* Read's `call runtime.memmove(dst, src, n)`: the n bytes of plaintext at src (RBX, RCX) are
 * what this Read returns. */
SEC("uprobe")
int go_tls_copy(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct go_tls_read_key k = { .tgid = pid_tgid >> 32, .g = ctx->r14 };
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &k.tgid);
	__u64 *cp, c, id, n = ctx->cx;

	cp = bpf_map_lookup_elem(&go_tls_reads, &k);
	if (!cp)
		return 0;
	c = *cp;
	bpf_map_delete_elem(&go_tls_reads, &k);
	if (!cfg || !n || !ctx->bx)
		return 0;
	id = tls_conn_id(ctx, cfg, pid_tgid, c);
	if (!id)
		return 0;
	send_buffer(pid_tgid, id, SOCK_DIR_INGRESS, SOCK_SC_TLS_READ, n, (const void *)ctx->bx, 0);
	return 0;
}

/*
 * net/http.(*persistConn).roundTrip(pc, req) at its stack check's jbe: the caller's goroutine
 * hands the request to the connection's writer goroutine and waits for the answer. What goes
 * out is the connection's socket: pc.conn is a net.Conn (type word, data word); when it is a
 * *net.TCPConn (its itab, moved by the executable's load bias: the cookie is the site's
 * link-time address), its conn.fd is the *netFD holding pfd.Sysfd; when it is a
 * *crypto/tls.Conn (HTTPS), the one under it. Any other conn (a wrapper): nothing sent, the
 * call gets no parent.
 */
SEC("uprobe")
int go_http_call(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	__u64 goid, conn[2] = {};
	int fd;

	if (starts_over(ctx))
		return 0;
	if (!cfg || !cfg->tcpconn_itab)
		return 0;
	goid = go_running(cfg, pid_tgid, ctx->r14, ctx->sp);
	if (!goid || !ctx->ax ||
	    bpf_probe_read_user(conn, sizeof(conn), (void *)(ctx->ax + cfg->pconn_conn_off)))
		return 0;
	if (cfg->tlsconn_itab && conn[0] == loaded_at(ctx, cfg->tlsconn_itab))
		fd = tls_fd_of(ctx, cfg, conn[1]);
	else
		fd = tcp_fd_of(ctx, cfg, conn);
	if (fd < 0)
		return 0;
	go_send(pid_tgid, GO_EV_CALL, goid, (__u64)fd, 0);
	return 0;
}

/*
 * runtime.gopanic(e any) at its stack check's jbe: e's type and data words in RAX and RBX, the
 * return address into the panicking function at the top of the stack, RBP still its frame.
 * Rare: the whole event is built here, the value's text read while it exists.
 */
SEC("uprobe")
int go_panic(struct pt_regs *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32, i, n;
	struct go_proc_cfg *cfg = bpf_map_lookup_elem(&go_procs, &tgid);
	struct go_panic_event *e;
	__u64 fp, str[2], goid;

	if (starts_over(ctx))
		return 0;
	if (!cfg)
		return 0;
	/* before the reservation: a goroutine told in advance and showing first here has its
	 * birth go out ahead of its panic (go_running()) */
	goid = go_running(cfg, pid_tgid, ctx->r14, ctx->sp);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(OBS_DROP_RINGBUF_FULL);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	event_hdr(&e->hdr, OBS_EV_GO_PANIC, pid_tgid);
	e->kind = GO_PANIC_RAISED;
	e->g = ctx->r14;
	e->goid = goid;
	e->bias = loaded_at(ctx, 0); /* the executable's load bias */
	e->type_addr = ctx->ax;
	e->data_addr = ctx->bx;
	if (ctx->bx && !bpf_probe_read_user(e->raw, sizeof(e->raw), (void *)ctx->bx)) {
		__builtin_memcpy(str, e->raw, sizeof(str));
		n = str[1] < GO_PANIC_TEXT ? (__u32)str[1] : GO_PANIC_TEXT;
		if (str[0] && n && n <= GO_PANIC_TEXT &&
		    !bpf_probe_read_user(e->text, n, (void *)str[0]))
			e->text_len = n;
	}
	e->pcs[0] = ctx->ip;
	if (bpf_probe_read_user(&e->pcs[1], sizeof(e->pcs[1]), (void *)ctx->sp))
		goto out;
	e->npcs = 2;
	fp = ctx->bp;
	for (i = 2; i < GO_PANIC_FRAMES; i++) {
		__u64 frame[2];

		if (!fp || bpf_probe_read_user(frame, sizeof(frame), (void *)fp) || !frame[1])
			break;
		e->pcs[i] = frame[1];
		e->npcs = i + 1;
		if (frame[0] <= fp) /* stacks grow down: callers' frames lie above */
			break;
		fp = frame[0];
	}
out:
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	return 0;
}

static __always_inline void panic_ends(__u32 kind, __u64 g)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	struct go_panic_event *e;

	if (!bpf_map_lookup_elem(&go_procs, &tgid))
		return;
	e = bpf_ringbuf_reserve(&events, offsetof(struct go_panic_event, bias), 0);
	if (!e) {
		count_drop(OBS_DROP_RINGBUF_FULL);
		return;
	}
	event_hdr(&e->hdr, OBS_EV_GO_PANIC, pid_tgid);
	e->kind = kind;
	e->npcs = 0;
	e->g = g;
	e->goid = 0;
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
}

/* runtime.recovery(gp) at its stack check's jbe (on the system stack: gp in RAX): a deferred
 * call recovered gp's panic. */
SEC("uprobe")
int go_panic_recovered(struct pt_regs *ctx)
{
	if (!starts_over(ctx))
		panic_ends(GO_PANIC_RECOVERED, ctx->ax);
	return 0;
}

/* runtime.fatalpanic, on the panicking goroutine (R14): no recover; the process dies. Once
 * per process at most, so its entry serves, emulated or not. */
SEC("uprobe")
int go_panic_fatal(struct pt_regs *ctx)
{
	panic_ends(GO_PANIC_FATAL, ctx->r14);
	return 0;
}
