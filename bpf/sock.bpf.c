// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket I/O of watched processes at syscall exit. Exit-only tracepoints read the arguments
 * from the user registers saved at syscall entry: half the cost of enter+exit pairs, no
 * per-thread map, and a syscall already blocked when we attached is still seen when it returns.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "sock.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EINPROGRESS 115
#define MSG_PEEK 2

__u64 next_conn_id = 0;

static __always_inline void read_addrs(struct sock *sk, struct sock_addr *l, struct sock_addr *r)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	l->family = family;
	r->family = family;
	if (family == AF_INET) {
		bpf_core_read(l->addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(r->addr, 4, &sk->__sk_common.skc_daddr);
	} else if (family == AF_INET6) {
		bpf_core_read(l->addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(r->addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	if (family != AF_UNIX) {
		l->port = BPF_CORE_READ(sk, __sk_common.skc_num);
		r->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	}
}

/* Registers fd as a connection and reports it; returns its conn_id, 0 for a non-socket. */
static __always_inline __u64 track_fd(__u64 pid_tgid, int fd, __u16 role)
{
	struct sock_fd_key key = { .pid = pid_tgid >> 32, .fd = fd };
	struct conn_info ci = {};
	struct sock_open_event e = {};
	struct sock *sk = stream_sock_of_fd(fd);

	if (sk)
		ci.conn_id = __sync_fetch_and_add(&next_conn_id, 1) + 1;
	if (bpf_map_update_elem(&conns, &key, &ci, BPF_ANY)) {
		count_drop(OBS_DROP_CONN_TABLE);
		return 0;
	}
	if (!sk)
		return 0;
	fill_hdr(&e.hdr, OBS_EV_SOCK_OPEN, pid_tgid);
	e.conn_id = ci.conn_id;
	e.fd = fd;
	e.role = role;
	read_addrs(sk, &e.local, &e.remote);
	emit(&e, sizeof(e));
	return ci.conn_id;
}

/* What is known of fd; NULL for an fd that could not be registered. */
static __always_inline struct conn_info *conn_of(__u64 pid_tgid, int fd)
{
	struct sock_fd_key key = { .pid = pid_tgid >> 32, .fd = fd };
	struct conn_info *ci = bpf_map_lookup_elem(&conns, &key);

	if (ci)
		return ci;
	if (!track_fd(pid_tgid, fd, SOCK_ROLE_UNKNOWN))
		return NULL;
	return bpf_map_lookup_elem(&conns, &key);
}

/* A data event for fd, or NULL when there is nothing to report: not a stream socket, or
 * ciphertext. A syscall made inside a hooked TLS call tells that call its connection. */
static __always_inline struct data_scratch *begin_data(__u64 pid_tgid, int fd, __u8 dir, __u8 sc,
						       __u64 bytes, struct conn_info **cip)
{
	struct conn_info *ci = conn_of(pid_tgid, fd);
	struct tls_call *call;

	*cip = ci;
	if (!ci || !ci->conn_id)
		return NULL;
	call = bpf_map_lookup_elem(&tls_calls, &pid_tgid);
	if (call) {
		call->conn_id = ci->conn_id;
		ci->flags |= CONN_TLS | CONN_SEEN;
		return NULL;
	}
	if (ci->flags & CONN_TLS)
		return NULL;
	return scratch_event(pid_tgid, ci->conn_id, fd, dir, sc, bytes);
}

/* The start of a TLS record header, as far as n bytes show it: content type 20..23
 * (change_cipher_spec, alert, handshake, application_data), then version 3.x with x <= 4. No
 * HTTP message starts with these bytes. */
static __always_inline bool tls_record(const __u8 *d, __u32 n)
{
	return n >= 1 && d[0] >= 20 && d[0] <= 23 && (n < 2 || d[1] == 3) && (n < 3 || d[2] <= 4);
}

/* Sends the event, unless the connection's first bytes show it is TLS that no hooked library
 * decrypts for us (a handshake not made inside SSL_read or SSL_write, a Go or Java client):
 * then the connection is marked and its ciphertext is never sent. */
static __always_inline void finish_data(struct data_scratch *s, struct conn_info *ci,
					__u32 captured)
{
	if (!(ci->flags & CONN_SEEN)) {
		ci->flags |= CONN_SEEN;
		if (tls_record(s->ev.data, captured)) {
			ci->flags |= CONN_TLS;
			return;
		}
	}
	send_data(s, captured);
}

static __always_inline __u32 no_walk_bit(__u8 dir)
{
	return dir == SOCK_DIR_INGRESS ? CONN_NO_H2_IN : CONN_NO_H2_OUT;
}

/* No HTTP/2 frame walk on this connection direction from now on (a vectored call is not
 * walked: what follows it cannot be placed in its frames). */
static __always_inline void end_walk(struct conn_info *ci, __u8 dir)
{
	struct h2_walk_key key = { .conn_id = ci->conn_id, .dir = dir };

	if (ci->flags & no_walk_bit(dir))
		return;
	ci->flags |= no_walk_bit(dir);
	bpf_map_delete_elem(&h2_walks, &key);
}

/* The connection is closed: its walks, if any, are over. */
static __always_inline void forget_walks(struct conn_info *ci)
{
	end_walk(ci, SOCK_DIR_INGRESS);
	end_walk(ci, SOCK_DIR_EGRESS);
}

/* With bpf_loop (sock.bpf.h's use_loop), a call with more than SOCK_MAX_IOV iovecs has every
 * one up to SOCK_MAX_IOV_LOOP read (gRPC's C core writes an answer's frames in a dozen); fewer
 * are read unrolled, which costs a quarter of the loop's calls (bench/http2.sh, nginx's
 * writev). */

struct iov_walk {
	struct data_scratch *s;
	const struct iovec *iov;
	__u64 iovcnt;
	__u32 limit;
};

/* The bytes of the iovec at uiov into s at off, as many as fit below limit: how many, or -1
 * when the iovec cannot be read (the walk ends there). */
static __always_inline long copy_one_iov(struct data_scratch *s, const struct iovec *uiov,
					 __u32 off, __u32 limit)
{
	struct iovec v;
	__u64 n;

	if (bpf_probe_read_user(&v, sizeof(v), uiov))
		return -1;
	n = v.iov_len;
	if (n > limit - off)
		n = limit - off;
	return copy_user(s, off, n, v.iov_base);
}

static long iov_step(__u64 i, void *ctx)
{
	struct iov_walk *w = ctx;
	__u32 off = w->s->iov_off;
	long n;

	if (i >= w->iovcnt || off >= w->limit)
		return 1;
	n = copy_one_iov(w->s, &w->iov[i], off, w->limit);
	if (n < 0)
		return 1;
	w->s->iov_off = off + n;
	return 0;
}

static __always_inline __u32 copy_iov(struct data_scratch *s, const struct iovec *iov, __u64 iovcnt,
				      __u32 limit)
{
	__u32 i;

	s->iov_off = 0;
	if (use_loop && iovcnt > SOCK_MAX_IOV) {
		struct iov_walk w = { s, iov, iovcnt, limit };

		bpf_loop(SOCK_MAX_IOV_LOOP, iov_step, &w, 0);
	} else {
		/* the offset lives in the map here too, read back each time (volatile: not
		 * the compiler's copy in a register): otherwise each path through an iovec
		 * gives the next a state of its own (~100,000 instructions to verify) */
		for (i = 0; i < SOCK_MAX_IOV; i++) {
			__u32 off = *(volatile __u32 *)&s->iov_off;
			long n;

			if (i >= iovcnt || off >= limit)
				break;
			n = copy_one_iov(s, &iov[i], off, limit);
			if (n < 0)
				break;
			s->iov_off = off + n;
		}
	}
	return s->iov_off < limit ? s->iov_off : limit;
}

/* Logs: what a watched process writes to its stdout and stderr (any kind of file: pipe, tty,
 * file, journald's stream socket) goes out as OBS_EV_LOG events, within a byte budget per
 * process and second; over it, one event per second with nothing captured marks the gap. */
const volatile bool capture_logs = false;
const volatile __u64 log_bytes_per_sec = SOCK_LOG_BYTES_DEFAULT;

struct log_window {
	__u64 start_ns;
	__u64 bytes;
	__u64 gapped; /* this window's gap was reported */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_LOG_PROCS);
	__type(key, __u32);
	__type(value, struct log_window);
} log_windows SEC(".maps");

/* Whether n more bytes of tgid fit this second's budget; *gap: no, and the gap is to be told. */
static __always_inline bool log_budget(__u32 tgid, __u64 n, bool *gap)
{
	struct log_window fresh = {}, *w = bpf_map_lookup_elem(&log_windows, &tgid);
	__u64 now = bpf_ktime_get_ns();

	*gap = false;
	if (!w) {
		fresh.start_ns = now;
		bpf_map_update_elem(&log_windows, &tgid, &fresh, BPF_NOEXIST);
		w = bpf_map_lookup_elem(&log_windows, &tgid);
		if (!w)
			return false;
	}
	if (now - w->start_ns >= 1000000000ull) {
		w->start_ns = now;
		w->bytes = 0;
		w->gapped = 0;
	}
	if (w->bytes + n <= log_bytes_per_sec) {
		__sync_fetch_and_add(&w->bytes, n);
		return true;
	}
	count_drop(OBS_DROP_LOG_BUDGET);
	if (!w->gapped) {
		w->gapped = 1;
		*gap = true;
	}
	return false;
}

static __always_inline bool is_log_fd(int fd, __u8 dir)
{
	return capture_logs && dir == SOCK_DIR_EGRESS && (fd == 1 || fd == 2);
}

/* A write of n bytes at buf to fd 1 or 2 (iov: buf is an iovec array of iovcnt). */
static __always_inline void send_log(__u64 pid_tgid, int fd, __u8 sc, const __u8 *buf, __u64 n,
				     const struct iovec *iov, __u64 iovcnt)
{
	struct data_scratch *s;
	bool gap;
	__u32 i;

	if (!log_budget(pid_tgid >> 32, n, &gap) && !gap)
		return;
	s = scratch_event(pid_tgid, 0, fd, SOCK_DIR_EGRESS, sc, n);
	if (!s)
		return;
	s->ev.hdr.type = OBS_EV_LOG;
	if (gap) {
		send_data(s, 0);
		return;
	}
	if (iov) {
		/* a vectored write: its first SOCK_CAPTURE_MAX bytes */
		send_data(s, copy_iov(s, iov, iovcnt, n < SOCK_CAPTURE_MAX ? n : SOCK_CAPTURE_MAX));
		return;
	}
	for (i = 0; i < SOCK_LOG_CHUNKS; i++) {
		__u64 off = (__u64)i * SOCK_CAPTURE_MAX;
		__u64 len = n - off;

		if (off >= n)
			break;
		if (len > SOCK_CAPTURE_MAX)
			len = SOCK_CAPTURE_MAX;
		/* the last event covers what is left, captured or not */
		s->ev.bytes = i == SOCK_LOG_CHUNKS - 1 ? n - off : len;
		send_data(s, copy_user(s, 0, len, buf + off));
	}
}

static __always_inline int on_buf(long ret, __u8 dir, __u8 sc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct data_scratch *s;
	struct conn_info *ci;
	struct pt_regs *regs;
	const void *buf;
	int fd;

	if (ret <= 0 || !is_target(pid_tgid >> 32))
		return 0;
	regs = user_regs();
	/* a peek (nginx peeks at the first byte of an https connection) is read again later */
	if (sc == SOCK_SC_RECVFROM && (PT_REGS_PARM4_SYSCALL(regs) & MSG_PEEK))
		return 0;
	fd = PT_REGS_PARM1_SYSCALL(regs);
	buf = (const void *)PT_REGS_PARM2_SYSCALL(regs);
	if (is_log_fd(fd, dir)) {
		send_log(pid_tgid, fd, sc, buf, ret, NULL, 0);
		return 0;
	}
	s = begin_data(pid_tgid, fd, dir, sc, ret, &ci);
	if (!s)
		return 0;
	if (!(ci->flags & CONN_SEEN)) {
		__u8 first[3] = {};
		__u32 n = ret < 3 ? ret : 3;

		/* as finish_data: TLS that no hooked library decrypts is never sent */
		ci->flags |= CONN_SEEN;
		if (!bpf_probe_read_user(first, n, buf) && tls_record(first, n)) {
			ci->flags |= CONN_TLS;
			return 0;
		}
	}
	send_stream(s, buf, ret, &ci->flags, no_walk_bit(dir));
	return 0;
}

static __always_inline int on_iov(long ret, __u8 dir, __u8 sc, bool msg)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct iovec *iov;
	struct data_scratch *s;
	struct conn_info *ci;
	struct pt_regs *regs;
	__u64 iovcnt;
	int fd;

	if (ret <= 0 || !is_target(pid_tgid >> 32))
		return 0;
	regs = user_regs();
	fd = PT_REGS_PARM1_SYSCALL(regs);
	if (msg) {
		struct user_msghdr mh;

		if (dir == SOCK_DIR_INGRESS && (PT_REGS_PARM3_SYSCALL(regs) & MSG_PEEK))
			return 0;

		if (bpf_probe_read_user(&mh, sizeof(mh), (const void *)PT_REGS_PARM2_SYSCALL(regs)))
			return 0;
		iov = mh.msg_iov;
		iovcnt = mh.msg_iovlen;
	} else {
		iov = (const struct iovec *)PT_REGS_PARM2_SYSCALL(regs);
		iovcnt = PT_REGS_PARM3_SYSCALL(regs);
	}
	if (is_log_fd(fd, dir)) {
		send_log(pid_tgid, fd, sc, NULL, ret, iov, iovcnt);
		return 0;
	}
	s = begin_data(pid_tgid, fd, dir, sc, ret, &ci);
	if (!s)
		return 0;
	end_walk(ci, dir);
	finish_data(s, ci, copy_iov(s, iov, iovcnt, capture_limit(ret)));
	return 0;
}

SYSCALL_EXIT(read, on_buf, SOCK_DIR_INGRESS, SOCK_SC_READ)
SYSCALL_EXIT(recvfrom, on_buf, SOCK_DIR_INGRESS, SOCK_SC_RECVFROM)
SYSCALL_EXIT(write, on_buf, SOCK_DIR_EGRESS, SOCK_SC_WRITE)
SYSCALL_EXIT(sendto, on_buf, SOCK_DIR_EGRESS, SOCK_SC_SENDTO)
SYSCALL_EXIT(readv, on_iov, SOCK_DIR_INGRESS, SOCK_SC_READV, false)
SYSCALL_EXIT(writev, on_iov, SOCK_DIR_EGRESS, SOCK_SC_WRITEV, false)
SYSCALL_EXIT(recvmsg, on_iov, SOCK_DIR_INGRESS, SOCK_SC_RECVMSG, true)
SYSCALL_EXIT(sendmsg, on_iov, SOCK_DIR_EGRESS, SOCK_SC_SENDMSG, true)

/* sendfile(out_fd, in_fd, offset, count): body bytes straight from a file; counted, not copied. */
static __always_inline int on_sendfile(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct data_scratch *s;
	struct conn_info *ci;
	int fd;

	if (ret <= 0 || !is_target(pid_tgid >> 32))
		return 0;
	fd = PT_REGS_PARM1_SYSCALL(user_regs());
	s = begin_data(pid_tgid, fd, SOCK_DIR_EGRESS, SOCK_SC_SENDFILE, ret, &ci);
	if (s) {
		end_walk(ci, SOCK_DIR_EGRESS);
		finish_data(s, ci, 0);
	}
	return 0;
}
SYSCALL_EXIT(sendfile64, on_sendfile)

static __always_inline int on_accept(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (ret < 0 || !is_target(pid_tgid >> 32))
		return 0;
	track_fd(pid_tgid, ret, SOCK_ROLE_ACCEPTED);
	return 0;
}
SYSCALL_EXIT(accept, on_accept)
SYSCALL_EXIT(accept4, on_accept)

static __always_inline int on_connect(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if ((ret < 0 && ret != -EINPROGRESS) || !is_target(pid_tgid >> 32))
		return 0;
	track_fd(pid_tgid, PT_REGS_PARM1_SYSCALL(user_regs()), SOCK_ROLE_CONNECTED);
	return 0;
}
SYSCALL_EXIT(connect, on_connect)

/* At close's entry, while the fd still names this socket: once the syscall has released it,
 * another thread's socket() or accept() may get the same number before close returns, and an
 * exit program would drop that new socket's entry instead (its reply then read as bytes of an
 * unknown connection). A close that fails (EBADF) had no socket to drop. */
static __always_inline int on_close(long fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sock_fd_key key = { .pid = pid_tgid >> 32 };
	struct sock_close_event e = {};
	struct conn_info *ci;

	if (!is_target(key.pid))
		return 0;
	key.fd = (int)fd;
	ci = bpf_map_lookup_elem(&conns, &key);
	if (!ci)
		return 0;
	if (ci->conn_id) {
		fill_hdr(&e.hdr, OBS_EV_SOCK_CLOSE, pid_tgid);
		e.conn_id = ci->conn_id;
		e.fd = key.fd;
		emit(&e, sizeof(e));
		forget_walks(ci);
	}
	bpf_map_delete_elem(&conns, &key);
	return 0;
}
SYSCALL_ENTER(close, on_close)

/* At most this many fds are swept per exec or exit (a process's fd table is 64 long until it
 * opens more). */
#define SWEEP_FDS 1024

/*
 * Drops a watched process's entries from conns for its fds that are closed now: at its exit,
 * all of them (a process that exits never calls close(), and another process may get its PID);
 * at its exec, the ones the exec closed (close-on-exec). Without this, entries of processes
 * that come and go pile up until the LRU evicts live connections' entries instead.
 */
static __always_inline int sweep_fds(struct task_struct *p, bool at_exit)
{
	struct sock_fd_key key = { .pid = BPF_CORE_READ(p, tgid) };
	struct fdtable *fdt;
	struct file **fds;
	unsigned int max, i;

	if (!is_target(key.pid))
		return 0;
	/* exit: only when the last thread goes (do_exit() drops signal->live before this) */
	if (at_exit && BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	fdt = BPF_CORE_READ(p, files, fdt);
	fds = BPF_CORE_READ(fdt, fd);
	max = fdt ? BPF_CORE_READ(fdt, max_fds) : 0;
	/* the files are released after the exit tracepoint; without them, sweep a default table */
	if (!max && at_exit)
		max = 64;
	for (i = 0; i < SWEEP_FDS && i < max; i++) {
		struct file *f = NULL;

		if (!at_exit && (bpf_core_read(&f, sizeof(f), &fds[i]) || f))
			continue;
		key.fd = (int)i;
		bpf_map_delete_elem(&conns, &key);
	}
	return 0;
}

static __always_inline int sweep_at_exit(struct task_struct *p, const bool typed)
{
	return sweep_fds(p, true);
}

static __always_inline int sweep_at_exec(struct task_struct *p, const bool typed)
{
	return sweep_fds(p, false);
}

TASK_HOOK_TWINS(sched_process_exit, sock_process_exit, sweep_at_exit)
TASK_HOOK_TWINS(sched_process_exec, sock_process_exec, sweep_at_exec)
