// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libpq calls at their entry: one uprobe per query (the PQsend* function that starts it; PQexec
 * and friends call these), one per connection start and one per PQfinish. Entry only: the end
 * of a query is on the wire (ReadyForQuery), and a return probe or PQgetResult (called twice or
 * more per query) would double or triple the cost of a uprobe hit, ~15 us here. Each program
 * sends what only the caller's arguments hold: the SQL text or the statement name, the PGconn,
 * the connection parameters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "obsprobe/libpq.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Events are built here and sent as long as their text (LIBPQ_EVENT_HDR): the ring buffer
 * reserves a fixed size, which for this event is 1 KiB of mostly nothing per query. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct libpq_event);
} libpq_scratch SEC(".maps");

/* The event for this call in the per-CPU scratch, text empty; NULL when not watched. */
static __always_inline struct libpq_event *begin(__u8 call, const void *conn)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct libpq_event *e;
	__u32 zero = 0;

	if (!is_target(pid_tgid >> 32))
		return NULL;
	e = bpf_map_lookup_elem(&libpq_scratch, &zero);
	if (!e) {
		count_drop(OBS_DROP_SCRATCH);
		return NULL;
	}
	e->hdr.type = OBS_EV_LIBPQ;
	e->hdr.pid = pid_tgid >> 32;
	e->hdr.tid = (__u32)pid_tgid;
	e->hdr.pad = 0;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->conn = (__u64)conn;
	e->call = call;
	e->nparams = 0;
	e->pad = 0;
	e->pad2 = 0;
	e->name[0] = '\0';
	e->text[0] = '\0';
	return e;
}

/* Sends e with text bytes of its text (0: the empty text's NUL). */
static __always_inline void end(struct libpq_event *e, __u64 text)
{
	__u64 size = LIBPQ_EVENT_HDR + (text ? text : 1);

	/* a bound the verifier keeps on the helper's size (the barrier keeps the compiler from
	 * folding it into the one above) */
	asm volatile("" : "+r"(size));
	if (size > sizeof(*e))
		size = sizeof(*e);
	emit(e, size);
}

static __always_inline int query(__u8 call, const void *conn, const char *name, const char *sql)
{
	struct libpq_event *e = begin(call, conn);
	long n = 0;

	if (!e)
		return 0;
	if (name && bpf_probe_read_user_str(e->name, sizeof(e->name), name) < 0)
		e->name[0] = '\0';
	if (sql) {
		n = bpf_probe_read_user_str(e->text, sizeof(e->text), sql);
		if (n < 0) {
			e->text[0] = '\0';
			n = 0;
		}
	}
	end(e, n);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query, void *conn, const char *sql)
{
	return query(LIBPQ_SEND_QUERY, conn, NULL, sql);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query_params, void *conn, const char *sql)
{
	return query(LIBPQ_SEND_QUERY_PARAMS, conn, NULL, sql);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_prepare, void *conn, const char *name, const char *sql)
{
	return query(LIBPQ_SEND_PREPARE, conn, name, sql);
}

SEC("uprobe")
int BPF_KPROBE(pq_send_query_prepared, void *conn, const char *name)
{
	return query(LIBPQ_SEND_QUERY_PREPARED, conn, name, NULL);
}

/* The conninfo string may hold a password: user space reads what it needs and drops it. */
SEC("uprobe")
int BPF_KPROBE(pq_connect_start, const char *conninfo)
{
	return query(LIBPQ_CONNECT_START, NULL, NULL, conninfo);
}

SEC("uprobe")
int BPF_KPROBE(pq_finish, void *conn)
{
	return query(LIBPQ_FINISH, conn, NULL, NULL);
}

/* keywords[] and values[] are NULL-terminated arrays of the same length. */
SEC("uprobe")
int BPF_KPROBE(pq_connect_start_params, const char *const *keywords, const char *const *values)
{
	struct libpq_event *e = begin(LIBPQ_CONNECT_START_PARAMS, NULL);
	__u32 i;

	if (!e)
		return 0;
	for (i = 0; i < LIBPQ_PARAM_SLOTS; i++) {
		char *key = e->text + i * LIBPQ_SLOT;
		const char *k = NULL, *v = NULL;

		if (bpf_probe_read_user(&k, sizeof(k), &keywords[i]) || !k)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), &values[i]))
			break;
		if (bpf_probe_read_user_str(key, LIBPQ_KEY_MAX, k) < 0)
			break;
		key[LIBPQ_KEY_MAX] = '\0';
		/* a password never leaves the kernel */
		if (v && !(key[0] == 'p' && key[1] == 'a' && key[2] == 's' && key[3] == 's') &&
		    bpf_probe_read_user_str(key + LIBPQ_KEY_MAX, LIBPQ_VALUE_MAX, v) < 0)
			key[LIBPQ_KEY_MAX] = '\0';
		e->nparams = i + 1;
	}
	end(e, (__u64)e->nparams * LIBPQ_SLOT);
	return 0;
}
