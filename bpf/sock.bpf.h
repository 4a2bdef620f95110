/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The data event both byte sources fill: socket syscalls (sock.bpf.c) and TLS library uprobes
 * (tls.bpf.c). One per-CPU scratch per object, one way to copy and to size what is sent, and
 * one way for syscall-exit programs (sock.bpf.c, sys_exit_mmap) to read their arguments.
 */
#ifndef OBSPROBE_DATA_BPF_H
#define OBSPROBE_DATA_BPF_H

#include "obsprobe/sock.h"
#include "obsprobe/tls.h"
#include "fd.bpf.h"
#include "maps.bpf.h"

const volatile __u32 capture_bytes = SOCK_CAPTURE_DEFAULT;

/* Threads inside a hooked TLS read or write (tid -> call). Shared by the sock and tls objects:
 * the socket syscall made inside the call names its connection and is not reported itself,
 * because what it moves is ciphertext. */
struct {
	/* LRU: a thread killed inside a call never returns from it */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TLS_MAX_CALLS);
	__type(key, __u64);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* What we know of one fd of a watched process. Non-sockets are remembered too, so a process
 * reading files pays the socket check once per fd, not once per read. Filled by sock.bpf.c;
 * Go's TLS probes (go.bpf.c) look their socket up in it (the go object shares the map). */
struct conn_info {
	__u64 conn_id; /* 0: not a stream socket we report on */
	__u32 flags;   /* CONN_* */
	__u32 pad;
};

#define CONN_SEEN 0x1 /* data went through: its first bytes were checked for a TLS record */
#define CONN_TLS 0x2  /* carries TLS: its bytes are ciphertext, the plaintext comes from tls */

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
	/* bytes copied so far by a bpf_loop over iovecs: kept in the map, where the verifier
	 * does not know the value, so the callback's states converge */
	__u32 iov_off;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct data_scratch);
} data_scratch SEC(".maps");

static __always_inline void fill_hdr(struct obs_event_hdr *h, __u32 type, __u64 pid_tgid)
{
	h->type = type;
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ts_ns = bpf_ktime_get_ns();
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

/* A data event for conn_id in the per-CPU scratch, nothing captured yet; NULL (counted) when
 * the scratch is missing. */
static __always_inline struct data_scratch *scratch_event(__u64 pid_tgid, __u64 conn_id, int fd,
							  __u8 dir, __u8 sc, __u64 bytes)
{
	__u32 zero = 0;
	struct data_scratch *s = bpf_map_lookup_elem(&data_scratch, &zero);
	struct go_proc_cfg *go;

	if (!s) {
		count_drop(OBS_DROP_SCRATCH);
		return NULL;
	}
	fill_hdr(&s->ev.hdr, OBS_EV_SOCK_DATA, pid_tgid);
	s->ev.go = 0;
	s->ev.goid = 0;
	go = bpf_map_lookup_elem(&go_procs, &s->ev.hdr.pid);
	if (go) {
		struct pt_regs *regs = user_regs();

		s->ev.go = 1;
		s->ev.goid =
			go_running(go, pid_tgid, BPF_CORE_READ(regs, r14), BPF_CORE_READ(regs, sp));
	}
	s->ev.conn_id = conn_id;
	s->ev.bytes = bytes;
	s->ev.captured = 0;
	s->ev.fd = fd;
	s->ev.dir = dir;
	s->ev.syscall = sc;
	return s;
}

/* Copies up to n bytes from user memory at ubuf to e->data + off; returns the bytes copied. */
static __always_inline __u32 copy_user(struct data_scratch *s, __u32 off, __u64 n, const void *ubuf)
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

_Static_assert(sizeof(struct data_scratch) > 8191, "send_data's mask must stay in bounds");

static __always_inline void send_data(struct data_scratch *s, __u32 captured)
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

/* A data event of conn_id carrying the first capture_limit(bytes) of buf (bytes moved in all),
 * stamped at ts (0: now); the uprobes that hand over plaintext send theirs this way. */
static __always_inline void send_buffer(__u64 pid_tgid, __u64 conn_id, __u8 dir, __u8 sc,
					__u64 bytes, const void *buf, __u64 ts)
{
	struct data_scratch *s = scratch_event(pid_tgid, conn_id, -1, dir, sc, bytes);

	if (!s)
		return;
	if (ts)
		s->ev.hdr.ts_ns = ts;
	send_data(s, copy_user(s, 0, capture_limit(bytes), buf));
}

#endif /* OBSPROBE_DATA_BPF_H */
