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

#include "sock.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define EINPROGRESS 115

const volatile __u32 capture_bytes = SOCK_CAPTURE_DEFAULT;

/* What we know of one fd of a watched process. Non-sockets are remembered too, so a process
 * reading files pays the socket check once per fd, not once per read. */
struct conn_info {
	__u64 conn_id; /* 0: not a stream socket we report on */
};

struct {
	/* LRU: processes that exit never call close() on their fds. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_MAX_CONNS);
	__type(key, struct sock_fd_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

/* The data event plus slack, so that a copy at any offset below SOCK_CAPTURE_MAX of up to
 * SOCK_CAPTURE_MAX bytes stays inside the map value, which is what the verifier checks. */
struct data_scratch {
	struct sock_data_event ev;
	__u8 slack[SOCK_CAPTURE_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct data_scratch);
} data_scratch SEC(".maps");

__u64 next_conn_id = 0;

static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline struct sock *stream_sock_of_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *f = NULL;
	struct socket *sock;
	struct sock *sk;
	__u16 family, type;
	umode_t mode;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_core_read(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	/* sk_type was a bitfield before v5.6 (bf9765145b85 "sock: make sk_protocol a 16-bit
	 * value"); the probed bitfield read handles both layouts. */
	type = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (type != SOCK_STREAM)
		return NULL;
	if (family != AF_INET && family != AF_INET6 && family != AF_UNIX)
		return NULL;
	return sk;
}

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

static __always_inline void fill_hdr(struct obs_event_hdr *h, __u32 type, __u64 pid_tgid)
{
	h->type = type;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ts_ns = bpf_ktime_get_ns();
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

static __always_inline __u64 conn_of(__u64 pid_tgid, int fd)
{
	struct sock_fd_key key = { .pid = pid_tgid >> 32, .fd = fd };
	struct conn_info *ci = bpf_map_lookup_elem(&conns, &key);

	if (ci)
		return ci->conn_id;
	return track_fd(pid_tgid, fd, SOCK_ROLE_UNKNOWN);
}

static __always_inline __u32 capture_limit(__u64 bytes)
{
	__u32 limit = capture_bytes;

	if (limit > SOCK_CAPTURE_MAX)
		limit = SOCK_CAPTURE_MAX;
	if (bytes < limit)
		limit = bytes;
	return limit;
}

/* Copies up to n bytes from user memory at ubuf to e->data + off; returns the bytes copied. */
static __always_inline __u32 copy_user(struct data_scratch *s, __u32 off, __u64 n,
				       const void *ubuf)
{
	off &= SOCK_CAPTURE_MAX - 1;
	if (n > SOCK_CAPTURE_MAX)
		n = SOCK_CAPTURE_MAX;
	/* keep the clamp where the verifier sees it: the compiler may not fold it away */
	asm volatile("" : "+r"(n));
	if (n == 0 || n > SOCK_CAPTURE_MAX)
		return 0;
	if (bpf_probe_read_user(s->ev.data + off, n, ubuf)) {
		count_drop(OBS_DROP_READ_FAULT);
		return 0;
	}
	return n;
}

static __always_inline struct data_scratch *begin_data(__u64 pid_tgid, int fd, __u8 dir,
						       __u8 sc, __u64 bytes, __u64 *conn_id)
{
	__u32 zero = 0;
	struct data_scratch *s;

	*conn_id = conn_of(pid_tgid, fd);
	if (!*conn_id)
		return NULL;
	s = bpf_map_lookup_elem(&data_scratch, &zero);
	if (!s) {
		count_drop(OBS_DROP_SCRATCH);
		return NULL;
	}
	fill_hdr(&s->ev.hdr, OBS_EV_SOCK_DATA, pid_tgid);
	s->ev.conn_id = *conn_id;
	s->ev.bytes = bytes;
	s->ev.captured = 0;
	s->ev.fd = fd;
	s->ev.dir = dir;
	s->ev.syscall = sc;
	return s;
}

_Static_assert(sizeof(struct data_scratch) > 8191, "finish_data's mask must stay in bounds");

static __always_inline void finish_data(struct data_scratch *s, __u32 captured)
{
	__u64 size;

	if (captured > SOCK_CAPTURE_MAX)
		captured = SOCK_CAPTURE_MAX;
	s->ev.captured = captured;
	/* The mask changes nothing (size <= sizeof(ev) < 8192) but is a bound the verifier keeps
	 * on the register the helper gets; the barrier stops the compiler from dropping it. */
	size = SOCK_DATA_HDR_SIZE + captured;
	asm volatile("" : "+r"(size));
	size &= 8191;
	emit(&s->ev, size);
}

static __always_inline int on_buf(long ret, __u8 dir, __u8 sc)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct data_scratch *s;
	struct pt_regs *regs;
	__u64 conn_id;
	const void *buf;
	int fd;

	if (ret <= 0 || !target_of(pid_tgid >> 32))
		return 0;
	regs = user_regs();
	fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	buf = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	s = begin_data(pid_tgid, fd, dir, sc, ret, &conn_id);
	if (!s)
		return 0;
	finish_data(s, copy_user(s, 0, capture_limit(ret), buf));
	return 0;
}

static __always_inline __u32 copy_iov(struct data_scratch *s, const struct iovec *iov,
				      __u64 iovcnt, __u32 limit)
{
	__u32 off = 0;
	__u32 i;

	for (i = 0; i < SOCK_MAX_IOV; i++) {
		struct iovec v;
		__u64 n;

		if (i >= iovcnt || off >= limit)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		n = v.iov_len;
		if (n > limit - off)
			n = limit - off;
		off += copy_user(s, off, n, v.iov_base);
	}
	return off;
}

static __always_inline int on_iov(long ret, __u8 dir, __u8 sc, bool msg)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct iovec *iov;
	struct data_scratch *s;
	struct pt_regs *regs;
	__u64 conn_id, iovcnt;
	int fd;

	if (ret <= 0 || !target_of(pid_tgid >> 32))
		return 0;
	regs = user_regs();
	fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	if (msg) {
		struct user_msghdr mh;

		if (bpf_probe_read_user(&mh, sizeof(mh),
					(const void *)PT_REGS_PARM2_CORE_SYSCALL(regs)))
			return 0;
		iov = mh.msg_iov;
		iovcnt = mh.msg_iovlen;
	} else {
		iov = (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		iovcnt = PT_REGS_PARM3_CORE_SYSCALL(regs);
	}
	s = begin_data(pid_tgid, fd, dir, sc, ret, &conn_id);
	if (!s)
		return 0;
	finish_data(s, copy_iov(s, iov, iovcnt, capture_limit(ret)));
	return 0;
}

SEC("tp/syscalls/sys_exit_read")
int sys_exit_read(struct trace_event_raw_sys_exit *ctx)
{
	return on_buf(ctx->ret, SOCK_DIR_INGRESS, SOCK_SC_READ);
}

SEC("tp/syscalls/sys_exit_recvfrom")
int sys_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return on_buf(ctx->ret, SOCK_DIR_INGRESS, SOCK_SC_RECVFROM);
}

SEC("tp/syscalls/sys_exit_write")
int sys_exit_write(struct trace_event_raw_sys_exit *ctx)
{
	return on_buf(ctx->ret, SOCK_DIR_EGRESS, SOCK_SC_WRITE);
}

SEC("tp/syscalls/sys_exit_sendto")
int sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return on_buf(ctx->ret, SOCK_DIR_EGRESS, SOCK_SC_SENDTO);
}

SEC("tp/syscalls/sys_exit_readv")
int sys_exit_readv(struct trace_event_raw_sys_exit *ctx)
{
	return on_iov(ctx->ret, SOCK_DIR_INGRESS, SOCK_SC_READV, false);
}

SEC("tp/syscalls/sys_exit_writev")
int sys_exit_writev(struct trace_event_raw_sys_exit *ctx)
{
	return on_iov(ctx->ret, SOCK_DIR_EGRESS, SOCK_SC_WRITEV, false);
}

SEC("tp/syscalls/sys_exit_recvmsg")
int sys_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return on_iov(ctx->ret, SOCK_DIR_INGRESS, SOCK_SC_RECVMSG, true);
}

SEC("tp/syscalls/sys_exit_sendmsg")
int sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return on_iov(ctx->ret, SOCK_DIR_EGRESS, SOCK_SC_SENDMSG, true);
}

/* sendfile(out_fd, in_fd, offset, count): body bytes straight from a file; counted, not copied. */
SEC("tp/syscalls/sys_exit_sendfile64")
int sys_exit_sendfile64(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct data_scratch *s;
	__u64 conn_id;
	int fd;

	if (ctx->ret <= 0 || !target_of(pid_tgid >> 32))
		return 0;
	fd = PT_REGS_PARM1_CORE_SYSCALL(user_regs());
	s = begin_data(pid_tgid, fd, SOCK_DIR_EGRESS, SOCK_SC_SENDFILE, ctx->ret, &conn_id);
	if (s)
		finish_data(s, 0);
	return 0;
}

static __always_inline int on_accept(long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if (ret < 0 || !target_of(pid_tgid >> 32))
		return 0;
	track_fd(pid_tgid, ret, SOCK_ROLE_ACCEPTED);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tp/syscalls/sys_exit_connect")
int sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	if ((ctx->ret < 0 && ctx->ret != -EINPROGRESS) || !target_of(pid_tgid >> 32))
		return 0;
	track_fd(pid_tgid, PT_REGS_PARM1_CORE_SYSCALL(user_regs()), SOCK_ROLE_CONNECTED);
	return 0;
}

SEC("tp/syscalls/sys_exit_close")
int sys_exit_close(struct trace_event_raw_sys_exit *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sock_fd_key key = { .pid = pid_tgid >> 32 };
	struct sock_close_event e = {};
	struct conn_info *ci;

	if (!target_of(key.pid))
		return 0;
	key.fd = PT_REGS_PARM1_CORE_SYSCALL(user_regs());
	ci = bpf_map_lookup_elem(&conns, &key);
	if (!ci)
		return 0;
	if (ci->conn_id) {
		fill_hdr(&e.hdr, OBS_EV_SOCK_CLOSE, pid_tgid);
		e.conn_id = ci->conn_id;
		e.fd = key.fd;
		emit(&e, sizeof(e));
	}
	bpf_map_delete_elem(&conns, &key);
	return 0;
}
