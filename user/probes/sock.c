// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "obsprobe/sock.h"
#include "probes/sock.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"
#include "probes/proc.h"
#include "sock.skel.h"

struct sock_bpf *sock_probe_start(struct proc_bpf *owner, uint32_t capture_bytes)
{
	struct sock_bpf *skel = sock_bpf__open();
	int err;

	if (!skel) {
		log_err("cannot open the sock BPF object: %s", strerror(errno));
		return NULL;
	}
	skel->rodata->capture_bytes = capture_bytes;
	err = proc_probe_share_maps(owner, skel->obj);
	if (err) {
		log_err("cannot share maps with the sock BPF object: %s", strerror(-err));
		goto fail;
	}
	err = sock_bpf__load(skel);
	if (err) {
		log_err("cannot load the socket BPF programs: %s (run with -vv for the verifier log)",
			strerror(-err));
		goto fail;
	}
	err = sock_bpf__attach(skel);
	if (err) {
		log_err("cannot attach the syscall tracepoints: %s", strerror(-err));
		goto fail;
	}
	return skel;
fail:
	sock_bpf__destroy(skel);
	return NULL;
}

void sock_probe_destroy(struct sock_bpf *skel)
{
	sock_bpf__destroy(skel);
}

static void format_addr(const struct sock_addr *a, char *out, size_t outlen, int *port)
{
	*port = a->port;
	out[0] = '\0';
	if (a->family == AF_INET)
		inet_ntop(AF_INET, a->addr, out, (socklen_t)outlen);
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, a->addr, out, (socklen_t)outlen);
}

/* The connection's bytes: to the parser its first bytes chose. */
static void on_data(const struct sock_sinks *s, const struct obs_event_hdr *h,
		    const struct sock_data_event *e)
{
	enum http_dir dir = e->dir == SOCK_DIR_INGRESS ? HTTP_DIR_IN : HTTP_DIR_OUT;
	bool tls = e->syscall == SOCK_SC_TLS_READ || e->syscall == SOCK_SC_TLS_WRITE;
	const struct conn_meta *meta = NULL;
	enum conn_proto *proto = http_tracker_proto(s->http, e->conn_id, h->pid, &meta);

	if (proto && *proto == CONN_PROTO_UNKNOWN)
		*proto = s->pg && pg_tracker_sniff(dir, e->data, e->captured) ? CONN_PROTO_PG
									      : CONN_PROTO_HTTP;
	if (proto && *proto == CONN_PROTO_PG) {
		pg_tracker_data(s->pg, e->conn_id, meta, h->pid, h->tid, h->ts_ns, dir, tls,
				e->data, e->captured, e->bytes);
		return;
	}
	if (!s->http_spans)
		return;
	if (tls)
		http_tracker_mark_tls(s->http, e->conn_id, h->pid);
	http_tracker_data(s->http, e->conn_id, h->pid, h->tid, h->ts_ns, dir, e->data, e->captured,
			  e->bytes);
}

int sock_handle_event(const struct sock_sinks *s, const void *data, size_t size)
{
	const struct obs_event_hdr *h = data;

	switch (h->type) {
	case OBS_EV_SOCK_OPEN: {
		const struct sock_open_event *e = data;
		struct conn_meta m = {};

		if (size < sizeof(*e))
			return -EINVAL;
		m.conn_id = e->conn_id;
		m.pid = h->pid;
		m.fd = e->fd;
		m.accepted = e->role == SOCK_ROLE_ACCEPTED;
		m.connected = e->role == SOCK_ROLE_CONNECTED;
		m.is_unix = e->local.family == AF_UNIX;
		format_addr(&e->local, m.local_addr, sizeof(m.local_addr), &m.local_port);
		format_addr(&e->remote, m.remote_addr, sizeof(m.remote_addr), &m.remote_port);
		http_tracker_open(s->http, &m);
		return 0;
	}
	case OBS_EV_SOCK_DATA: {
		const struct sock_data_event *e = data;

		if (size < SOCK_DATA_HDR_SIZE || e->captured > size - SOCK_DATA_HDR_SIZE ||
		    e->captured > e->bytes)
			return -EINVAL;
		on_data(s, h, e);
		return 0;
	}
	case OBS_EV_SOCK_CLOSE: {
		const struct sock_close_event *e = data;

		if (size < sizeof(*e))
			return -EINVAL;
		http_tracker_close(s->http, e->conn_id, h->ts_ns);
		if (s->pg)
			pg_tracker_close(s->pg, e->conn_id, h->ts_ns);
		return 0;
	}
	}
	return -EINVAL;
}
