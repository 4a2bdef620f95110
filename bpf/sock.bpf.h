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
/* the first bytes read (written) were not HTTP/2: no frame walk that way (sock.bpf.c) */
#define CONN_NO_H2_IN 0x4
#define CONN_NO_H2_OUT 0x8

struct {
	/* LRU: processes that exit never call close() on their fds. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_MAX_CONNS);
	__type(key, struct sock_fd_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

/* Where an HTTP/2 frame walk (below) is in the call it walks. */
struct walk_pos {
	__u64 buf;    /* the call's bytes */
	__u32 n;      /* bytes of the call */
	__u32 pos;    /* walked so far */
	__u32 sent;   /* covered by the events sent */
	__u32 rstart; /* the bytes to capture next: [rstart, rstart + rlen) */
	__u32 rlen;
	__u32 keep; /* of a DATA payload, the bytes kept at each end */
};

/* The data event plus slack, so that a copy at any offset below SOCK_CAPTURE_MAX of up to
 * SOCK_CAPTURE_MAX bytes stays inside the map value, which is what the verifier checks. */
struct data_scratch {
	struct sock_data_event ev;
	__u8 slack[SOCK_CAPTURE_MAX];
	/* What a bpf_loop callback changes from step to step is kept here, in the map, where
	 * the verifier does not know the values, so that the callback's states converge at once.
	 * On the stack, each step's new numbers made new states to verify: the frame walk cost
	 * ~200,000 instructions of the verifier's work per data program, 0.5 s each. */
	__u32 iov_off; /* bytes copied so far by the walk over iovecs */
	struct walk_pos wp;
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
		s->ev.goid = go_running(go, pid_tgid, regs->r14, regs->sp);
	}
	s->ev.conn_id = conn_id;
	s->ev.bytes = bytes;
	s->ev.captured = 0;
	s->ev.lead = 0;
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

/* The first and the last capture_limit() bytes of n at buf, as one event or, when the two do not
 * touch, two: the middle is left as a gap. What the last bytes say (an LLM API's token usage at
 * the end of a JSON answer, PostgreSQL's CommandComplete after a long result) is kept. */
static __always_inline void send_head_tail(struct data_scratch *s, const __u8 *buf, __u64 n)
{
	__u32 head = capture_limit(n);
	__u32 tail = capture_limit(n - head);

	s->ev.bytes = n - tail;
	send_data(s, copy_user(s, 0, head, buf));
	if (!tail)
		return;
	s->ev.bytes = tail;
	send_data(s, copy_user(s, 0, tail, buf + n - tail));
}

/* bpf_loop (5.17+), probed at load: without it, no HTTP/2 frame walk (and sock.bpf.c reads
 * fewer iovecs). */
const volatile bool use_loop = false;

/*
 * HTTP/2 frame walk. HPACK keeps a table per connection and direction that every header block
 * updates, so a block lost to a capture limit makes every later header on that connection a
 * guess; and a read of 4 KiB may hold a response's DATA and then another stream's HEADERS.
 * When a connection direction starts with the client preface or a SETTINGS frame, its frames
 * are followed from call to call: frame headers and every non-DATA payload are captured whole
 * (several events when more than SOCK_CAPTURE_MAX), of a DATA payload only its first and last
 * capture_bytes; the rest are gaps the parser skips by length.
 */
struct h2_walk {
	__u32 remain; /* payload bytes of the current frame still to come */
	__u32 flen;   /* the current frame's payload length */
	__u32 gap;    /* bytes passed uncaptured since the last event: the next one's lead */
	__u8 preface; /* client preface bytes still to come */
	__u8 have;    /* bytes of a frame header seen so far: a header split between two calls */
	__u8 payload; /* inside a payload */
	__u8 data;    /* the current frame is DATA */
	__u8 off;     /* not HTTP/2, or the walk gave up: captured as any other bytes */
	__u8 pad[7];
	__u8 hdr[32]; /* the frame header being read (9 bytes; slack for the verifier) */
};

struct h2_walk_key {
	__u64 conn_id;
	__u32 dir;
	__u32 pad;
};

struct {
	/* LRU: a connection's end is not seen by every object that walks it */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_H2_WALKS);
	__type(key, struct h2_walk_key);
	__type(value, struct h2_walk);
} h2_walks SEC(".maps");

#define H2_PREFACE_LEN 24
#define H2_FRAME_HDR 9

/* The callback's context: the scratch, whose wp is where the walk is, and the walk's state. */
struct frame_walk {
	struct data_scratch *s;
	struct h2_walk *st;
};

/* Sends the pending capture as an event that covers the call's bytes from `sent` to `end`. */
static __always_inline void walk_flush(struct data_scratch *s, struct h2_walk *st, __u32 end)
{
	struct walk_pos *w = &s->wp;

	s->ev.lead = w->rstart - w->sent + st->gap;
	s->ev.bytes = end - w->sent + st->gap;
	st->gap = 0;
	send_data(s, copy_user(s, 0, w->rlen, (const void *)(w->buf + w->rstart)));
	w->sent = end;
	w->rlen = 0;
}

/* The next k bytes at pos are captured: walk_step has flushed a pending capture they do not
 * continue, so that one place in it flushes (each inlined flush costs the verifier dearly). */
static __always_inline void walk_keep(struct walk_pos *w, __u32 k)
{
	if (!w->rlen)
		w->rstart = w->pos;
	w->rlen += k;
	w->pos += k;
}

static __always_inline __u32 min_u32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

/* One step: a piece of the preface, of a frame header or of a payload. 1 ends the walk. */
static long walk_step(__u64 i, void *ctx)
{
	struct frame_walk *fw = ctx;
	struct h2_walk *st = fw->st;
	struct walk_pos *w = &fw->s->wp;
	__u32 left, room, k, fo, tail_from;

	if (w->pos >= w->n)
		return 1;
	left = w->n - w->pos;
	/* a pending capture that is full, or that the next bytes do not continue, goes first */
	if (w->rlen && (w->rstart + w->rlen != w->pos || w->rlen >= SOCK_CAPTURE_MAX)) {
		walk_flush(fw->s, st, w->pos);
		return 0;
	}
	room = SOCK_CAPTURE_MAX - w->rlen;
	if (st->preface) {
		k = min_u32(min_u32(st->preface, left), room);
		st->preface -= k;
		walk_keep(w, k);
		return 0;
	}
	if (!st->payload) {
		__u32 at = st->have;

		if (at >= H2_FRAME_HDR)
			return 1;
		k = min_u32(min_u32(H2_FRAME_HDR - at, left), room);
		if (!k)
			return 1;
		/* the masks change nothing (at < 9, k <= 9) but are bounds the verifier keeps */
		asm volatile("" : "+r"(at), "+r"(k));
		if (bpf_probe_read_user(&st->hdr[at & 15], k & 15, (const void *)(w->buf + w->pos)))
			return 1;
		st->have = at + k;
		walk_keep(w, k);
		if (st->have < H2_FRAME_HDR)
			return 0;
		st->have = 0;
		st->flen = (__u32)st->hdr[0] << 16 | (__u32)st->hdr[1] << 8 | st->hdr[2];
		st->remain = st->flen;
		st->data = st->hdr[3] == 0;
		st->payload = st->flen > 0;
		return 0;
	}
	k = min_u32(st->remain, left);
	fo = st->flen - st->remain;
	tail_from = st->flen > 2 * w->keep ? st->flen - w->keep : 0;
	if (st->data && fo >= w->keep && fo < tail_from) {
		/* the middle of a long DATA payload: passed, not captured */
		k = min_u32(k, tail_from - fo);
		w->pos += k;
	} else {
		if (st->data && fo < w->keep && tail_from)
			k = min_u32(k, w->keep - fo);
		k = min_u32(k, room);
		walk_keep(w, k);
	}
	st->remain -= k;
	if (!st->remain)
		st->payload = 0;
	return 0;
}

/* Whether n bytes at buf start a connection direction's HTTP/2: the client preface, or a
 * SETTINGS frame on stream 0 (what a server sends first). */
static __always_inline bool h2_start(const __u8 *buf, __u64 n, __u8 *preface)
{
	__u8 b[H2_FRAME_HDR];
	__u32 len;

	if (n < H2_FRAME_HDR || bpf_probe_read_user(b, sizeof(b), buf))
		return false;
	if (b[0] == 'P' && b[1] == 'R' && b[2] == 'I' && b[3] == ' ' && b[4] == '*' &&
	    b[5] == ' ' && b[6] == 'H' && b[7] == 'T' && b[8] == 'T') {
		*preface = H2_PREFACE_LEN;
		return true;
	}
	len = (__u32)b[0] << 16 | (__u32)b[1] << 8 | b[2];
	return b[3] == 4 && b[4] == 0 && !b[5] && !b[6] && !b[7] && !b[8] && len % 6 == 0 &&
	       len <= 6 * 16;
}

/* The walk of this connection direction, set up by its first call (no_walk: the caller's
 * conn_info flags; the bit is set when the first call shows no HTTP/2); NULL: not walked. */
static __always_inline struct h2_walk *walk_state(struct data_scratch *s, const __u8 *buf, __u64 n,
						  __u32 *flags, __u32 no_walk)
{
	struct h2_walk_key key = { .conn_id = s->ev.conn_id, .dir = s->ev.dir };
	struct h2_walk fresh = {}, *st;

	if (!use_loop || !key.conn_id || (flags && (*flags & no_walk)))
		return NULL;
	st = bpf_map_lookup_elem(&h2_walks, &key);
	if (st)
		return st->off ? NULL : st;
	if (!h2_start(buf, n, &fresh.preface)) {
		if (flags)
			*flags |= no_walk;
		else
			fresh.off = 1;
	}
	if (flags && (*flags & no_walk))
		return NULL;
	bpf_map_update_elem(&h2_walks, &key, &fresh, BPF_NOEXIST);
	if (fresh.off)
		return NULL;
	return bpf_map_lookup_elem(&h2_walks, &key);
}

static __always_inline void walk_frames(struct data_scratch *s, struct h2_walk *st, const __u8 *buf,
					__u32 n)
{
	struct frame_walk fw = { .s = s, .st = st };
	struct walk_pos *w = &s->wp;

	w->buf = (__u64)buf;
	w->n = n;
	w->pos = 0;
	w->sent = 0;
	w->rstart = 0;
	w->rlen = 0;
	w->keep = capture_bytes < SOCK_CAPTURE_MAX ? capture_bytes : SOCK_CAPTURE_MAX;
	bpf_loop(SOCK_H2_STEPS, walk_step, &fw, 0);
	if (w->pos < w->n) {
		/* more frames than steps, or a header that could not be read: the rest of the call
		 * is a gap, and the direction is read as any bytes are from now on */
		count_drop(OBS_DROP_H2_WALK);
		st->off = 1;
	}
	if (w->rlen)
		walk_flush(s, st, n);
	else
		st->gap += n - w->sent;
}

/* The n bytes at buf that one call moved, captured as sock.h's data event says. flags/no_walk:
 * see walk_state (NULL: the caller keeps no per-connection flags). */
static __always_inline void send_stream(struct data_scratch *s, const __u8 *buf, __u64 n,
					__u32 *flags, __u32 no_walk)
{
	struct h2_walk *st = walk_state(s, buf, n, flags, no_walk);

	if (st && n <= 0xffffffff)
		walk_frames(s, st, buf, n);
	else
		send_head_tail(s, buf, n);
}

/* A data event of conn_id for the bytes of buf (bytes moved in all), stamped at ts (0: now);
 * the uprobes that hand over plaintext send theirs this way. */
static __always_inline void send_buffer(__u64 pid_tgid, __u64 conn_id, __u8 dir, __u8 sc,
					__u64 bytes, const void *buf, __u64 ts)
{
	struct data_scratch *s = scratch_event(pid_tgid, conn_id, -1, dir, sc, bytes);

	if (!s)
		return;
	if (ts)
		s->ev.hdr.ts_ns = ts;
	send_stream(s, buf, bytes, NULL, 0);
}

#endif /* OBSPROBE_DATA_BPF_H */
