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

/* A zeroed event in the ring buffer for this call, or NULL (counted) when it is full. */
static __always_inline struct libpq_event *begin(__u8 call, const void *conn)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct libpq_event *e;

	if (!is_target(pid_tgid >> 32))
		return NULL;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(OBS_DROP_RINGBUF_FULL);
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

static __always_inline void end(struct libpq_event *e)
{
	bpf_ringbuf_submit(e, rb_flags());
}

static __always_inline int query(__u8 call, const void *conn, const char *name, const char *sql)
{
	struct libpq_event *e = begin(call, conn);

	if (!e)
		return 0;
	if (name && bpf_probe_read_user_str(e->name, sizeof(e->name), name) < 0)
		e->name[0] = '\0';
	if (sql && bpf_probe_read_user_str(e->text, sizeof(e->text), sql) < 0)
		e->text[0] = '\0';
	end(e);
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
	end(e);
	return 0;
}
