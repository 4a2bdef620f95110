// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The sock object's events, decoded into the connection table. Pure: no libbpf, so that unit
 * tests and a fuzzer can feed it any bytes. */
#include "probes/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "obsprobe/go.h"

static void format_addr(const struct sock_addr *a, char *out, size_t outlen, int *port)
{
	*port = a->port;
	out[0] = '\0';
	if (a->family == AF_INET)
		inet_ntop(AF_INET, a->addr, out, (socklen_t)outlen);
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, a->addr, out, (socklen_t)outlen);
}

static int on_open(struct conn_table *conns, const void *data, size_t size)
{
	const struct sock_open_event *e = data;
	struct conn_meta m = {};

	if (size < sizeof(*e))
		return -EINVAL;
	m.conn_id = e->conn_id;
	m.pid = e->hdr.pid;
	m.fd = e->fd;
	m.accepted = e->role == SOCK_ROLE_ACCEPTED;
	m.connected = e->role == SOCK_ROLE_CONNECTED;
	m.is_unix = e->local.family == AF_UNIX;
	format_addr(&e->local, m.local_addr, sizeof(m.local_addr), &m.local_port);
	format_addr(&e->remote, m.remote_addr, sizeof(m.remote_addr), &m.remote_port);
	conn_table_open(conns, &m);
	return 0;
}

static int on_data(struct conn_table *conns, const void *data, size_t size)
{
	const struct sock_data_event *e = data;
	struct conn_data d;

	if (size < SOCK_DATA_HDR_SIZE || e->captured > size - SOCK_DATA_HDR_SIZE ||
	    e->captured > e->bytes || e->lead > e->bytes - e->captured || e->dir > SOCK_DIR_EGRESS)
		return -EINVAL;
	d = (struct conn_data){
		.tid = e->hdr.tid,
		.go = e->go,
		.goid = e->goid,
		.fd = e->fd,
		.ts_ns = e->hdr.ts_ns,
		.dir = e->dir == SOCK_DIR_INGRESS ? CONN_DIR_IN : CONN_DIR_OUT,
		.from_tls = e->syscall == SOCK_SC_TLS_READ || e->syscall == SOCK_SC_TLS_WRITE,
		.data = e->data,
		.len = 0,
		.total = e->lead,
	};
	/* bytes not captured before data[]: the protocols take a gap at the end of a feed */
	if (e->lead)
		conn_table_data(conns, e->conn_id, e->hdr.pid, &d);
	d.len = e->captured;
	d.total = e->bytes - e->lead;
	if (d.total || !e->lead)
		conn_table_data(conns, e->conn_id, e->hdr.pid, &d);
	return 0;
}

/* A goroutine spawned, or an HTTP call handed from one goroutine to another. */
static int on_go(struct conn_table *conns, const void *data, size_t size)
{
	const struct go_event *e = data;
	struct actors *t = conn_table_actors(conns);

	if (size < sizeof(*e))
		return -EINVAL;
	switch (e->kind) {
	case GO_EV_SPAWN:
		actors_go_spawn(t, e->hdr.pid, e->goid, e->arg, e->pc);
		return 0;
	case GO_EV_BORN:
		actors_go_born(t, e->hdr.pid, e->goid, e->arg);
		return 0;
	case GO_EV_CALL:
		if (e->arg > INT32_MAX)
			return -EINVAL;
		actors_go_call(t, e->hdr.pid, e->goid, (int)e->arg);
		return 0;
	}
	return -EINVAL;
}

int sock_event_decode(struct conn_table *conns, const void *data, size_t size)
{
	const struct obs_event_hdr *h = data;

	if (size < sizeof(*h))
		return -EINVAL;
	switch (h->type) {
	case OBS_EV_SOCK_OPEN:
		return on_open(conns, data, size);
	case OBS_EV_SOCK_DATA:
		return on_data(conns, data, size);
	case OBS_EV_GO:
		return on_go(conns, data, size);
	case OBS_EV_SOCK_CLOSE:
		if (size < sizeof(struct sock_close_event))
			return -EINVAL;
		conn_table_close(conns, ((const struct sock_close_event *)data)->conn_id, h->ts_ns);
		return 0;
	}
	return -EINVAL;
}
