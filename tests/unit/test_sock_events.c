// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * sock_event_decode: raw OBS_EV_SOCK_* ring-buffer records, built with the wire structs of
 * include/obsprobe/, into a connection table whose only protocol records what it is handed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>
#include <sys/socket.h>

#include "probes/sock.h"

#define MAX_CALLS 16
#define PID 4321
#define TID 4322

enum call_kind {
	CALL_DATA,
	CALL_CLOSE,
};

/* What one callback got; the pointers it was handed are gone after it returns: copies. */
struct call {
	enum call_kind kind;
	uint64_t conn_id;
	uint32_t conn_pid;
	bool have_meta;
	bool tls;
	struct conn_meta meta;
	uint64_t ts_ns; /* CALL_CLOSE */
	struct conn_data d;
	uint8_t bytes[SOCK_CAPTURE_MAX + 64];
};

struct fixture {
	struct conn_table *conns;
	struct conn_proto proto;
	struct call calls[MAX_CALLS + 1]; /* the last one takes what is past MAX_CALLS */
	size_t ncalls;
	size_t nsniffs;
	/* every record is built here, 8-byte aligned as the ring buffer hands them over */
	union {
		struct obs_event_hdr hdr;
		struct sock_open_event open;
		struct sock_data_event data;
		struct sock_close_event close;
		uint8_t raw[sizeof(struct sock_data_event) + 64];
	} rec;
};

static struct fixture *current; /* sniff has no context argument */

/* Bytes to capture, other than the record they are copied into. */
static uint8_t pattern[SOCK_CAPTURE_MAX];

static bool sniff_any(enum conn_dir dir, const uint8_t *data, size_t len)
{
	(void)dir;
	(void)data;
	(void)len;
	current->nsniffs++;
	return true;
}

static struct call *record(struct fixture *f, enum call_kind kind, const struct conn *c)
{
	struct call *k = &f->calls[f->ncalls < MAX_CALLS ? f->ncalls : MAX_CALLS];

	f->ncalls++;
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	k->conn_id = c->id;
	k->conn_pid = c->pid;
	k->have_meta = c->have_meta;
	k->tls = c->tls;
	k->meta = c->meta;
	return k;
}

static void on_data(void *tracker, struct conn *c, const struct conn_data *d)
{
	struct call *k = record(tracker, CALL_DATA, c);

	assert_true(d->len <= sizeof(k->bytes));
	assert_true(d->len <= d->total);
	k->d = *d;
	k->d.data = NULL;
	if (d->len)
		memcpy(k->bytes, d->data, d->len);
}

static void on_close(void *tracker, struct conn *c, uint64_t ts_ns)
{
	record(tracker, CALL_CLOSE, c)->ts_ns = ts_ns;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;

	if (!f)
		return -1;
	f->proto = (struct conn_proto){ .name = "recorder",
					.sniff = sniff_any,
					.data = on_data,
					.close = on_close,
					.tracker = f };
	f->conns = conn_table_new(16);
	if (!f->conns || conn_table_register(f->conns, &f->proto)) {
		conn_table_free(f->conns);
		free(f);
		return -1;
	}
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 31 + 7);
	current = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conn_table_free(f->conns);
	current = NULL;
	free(f);
	return 0;
}

static uint64_t nconns(const struct fixture *f)
{
	struct conn_table_stats st;

	conn_table_get_stats(f->conns, &st);
	return st.conns;
}

struct found {
	uint64_t id;
	const struct conn *c;
};

static void find_one(void *ctx, const struct conn *c)
{
	struct found *fd = ctx;

	if (c->id == fd->id)
		fd->c = c;
}

/* The entry of id, looked up without making one (conn_table_get would). */
static const struct conn *find(const struct fixture *f, uint64_t id)
{
	struct found fd = { .id = id };

	conn_table_visit(f->conns, NULL, find_one, &fd);
	conn_table_visit(f->conns, &f->proto, find_one, &fd);
	return fd.c;
}

/* ---- records, as sock.bpf.c fills them ---- */

static void hdr(struct obs_event_hdr *h, uint32_t type, uint64_t ts)
{
	h->type = type;
	h->pid = PID;
	h->tid = TID;
	h->ts_ns = ts;
}

static void addr4(struct sock_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3,
		  uint16_t port)
{
	a->family = AF_INET;
	a->port = port;
	a->addr[0] = b0;
	a->addr[1] = b1;
	a->addr[2] = b2;
	a->addr[3] = b3;
}

static void addr6(struct sock_addr *a, const uint8_t ip[16], uint16_t port)
{
	a->family = AF_INET6;
	a->port = port;
	memcpy(a->addr, ip, 16);
}

static struct sock_open_event *open_rec(struct fixture *f, uint64_t id, uint16_t role, uint64_t ts)
{
	struct sock_open_event *e = &f->rec.open;

	memset(&f->rec, 0, sizeof(f->rec));
	hdr(&e->hdr, OBS_EV_SOCK_OPEN, ts);
	e->conn_id = id;
	e->fd = 9;
	e->role = role;
	return e;
}

/* An IPv4 connection 10.1.2.3:40000 -> 192.0.2.80:5432 seen from its client end. */
static struct sock_open_event *open_rec4(struct fixture *f, uint64_t id, uint16_t role)
{
	struct sock_open_event *e = open_rec(f, id, role, 100);

	addr4(&e->local, 10, 1, 2, 3, 40000);
	addr4(&e->remote, 192, 0, 2, 80, 5432);
	return e;
}

static struct sock_data_event *data_rec(struct fixture *f, uint64_t id, uint8_t dir, uint8_t sc,
					uint64_t ts, const void *bytes, uint32_t captured,
					uint64_t total)
{
	struct sock_data_event *e = &f->rec.data;

	memset(&f->rec, 0, sizeof(f->rec));
	hdr(&e->hdr, OBS_EV_SOCK_DATA, ts);
	e->conn_id = id;
	e->bytes = total;
	e->captured = captured;
	e->fd = 9;
	e->dir = dir;
	e->syscall = sc;
	memcpy(e->data, bytes, captured);
	return e;
}

static struct sock_close_event *close_rec(struct fixture *f, uint64_t id, uint64_t ts)
{
	struct sock_close_event *e = &f->rec.close;

	memset(&f->rec, 0, sizeof(f->rec));
	hdr(&e->hdr, OBS_EV_SOCK_CLOSE, ts);
	e->conn_id = id;
	e->fd = 9;
	return e;
}

/* A data record's size on the ring buffer: its header and what it captured. */
static size_t data_size(const struct fixture *f)
{
	return SOCK_DATA_HDR_SIZE + f->rec.data.captured;
}

static int decode(struct fixture *f, size_t size)
{
	return sock_event_decode(f->conns, &f->rec, size);
}

/* The first size bytes of the record in a heap block of exactly that size, so that ASan sees
 * any read past what the ring buffer would have handed over. */
static int decode_exact(struct fixture *f, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, &f->rec, size);
	ret = sock_event_decode(f->conns, copy, size);
	free(copy);
	return ret;
}

/* ---- open ---- */

UNIT_TEST_FIXTURE(test_open_ipv4_connected, setup, teardown)
{
	struct fixture *f = *state;
	const struct conn *c;

	open_rec4(f, 7, SOCK_ROLE_CONNECTED);
	assert_int_equal(decode_exact(f, sizeof(struct sock_open_event)), 0);
	assert_int_equal(f->ncalls, 0); /* an opening hands nothing to a protocol */
	assert_int_equal(f->nsniffs, 0);
	assert_int_equal(nconns(f), 1);
	c = find(f, 7);
	assert_non_null(c);
	assert_true(c->have_meta);
	assert_null(c->proto);
	assert_int_equal(c->pid, PID);
	assert_int_equal(c->meta.conn_id, 7);
	assert_int_equal(c->meta.pid, PID);
	assert_int_equal(c->meta.fd, 9);
	assert_true(c->meta.connected);
	assert_false(c->meta.accepted);
	assert_false(c->meta.is_unix);
	assert_string_equal(c->meta.local_addr, "10.1.2.3");
	assert_int_equal(c->meta.local_port, 40000);
	assert_string_equal(c->meta.remote_addr, "192.0.2.80");
	assert_int_equal(c->meta.remote_port, 5432);
}

UNIT_TEST_FIXTURE(test_open_ipv4_accepted, setup, teardown)
{
	struct fixture *f = *state;
	struct sock_open_event *e = open_rec(f, 8, SOCK_ROLE_ACCEPTED, 100);
	const struct conn *c;

	addr4(&e->local, 127, 0, 0, 1, 8080);
	addr4(&e->remote, 127, 0, 0, 1, 65535);
	assert_int_equal(decode(f, sizeof(*e)), 0);
	c = find(f, 8);
	assert_non_null(c);
	assert_true(c->meta.accepted);
	assert_false(c->meta.connected);
	assert_string_equal(c->meta.local_addr, "127.0.0.1");
	assert_int_equal(c->meta.local_port, 8080);
	assert_string_equal(c->meta.remote_addr, "127.0.0.1");
	assert_int_equal(c->meta.remote_port, 65535); /* a __u16 port, not sign-extended */
}

UNIT_TEST_FIXTURE(test_open_role_unknown, setup, teardown)
{
	struct fixture *f = *state;
	const struct conn *c;

	/* a socket that existed before obsprobe attached: neither end is known to be ours */
	open_rec4(f, 9, SOCK_ROLE_UNKNOWN);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	c = find(f, 9);
	assert_non_null(c);
	assert_false(c->meta.accepted);
	assert_false(c->meta.connected);
	assert_string_equal(c->meta.local_addr, "10.1.2.3");

	/* a role this build does not know is neither */
	open_rec4(f, 10, 7);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	c = find(f, 10);
	assert_non_null(c);
	assert_false(c->meta.accepted);
	assert_false(c->meta.connected);
}

UNIT_TEST_FIXTURE(test_open_ipv6, setup, teardown)
{
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
	static const uint8_t db8_peer[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,	  0,
					      0,    0,	  0,	0,    0, 0, 0xab, 0xcd };
	static const uint8_t loopback[16] = { [15] = 1 };
	struct fixture *f = *state;
	struct sock_open_event *e;
	const struct conn *c;

	e = open_rec(f, 11, SOCK_ROLE_ACCEPTED, 100);
	addr6(&e->local, db8, 443);
	addr6(&e->remote, db8_peer, 51000);
	assert_int_equal(decode(f, sizeof(*e)), 0);
	c = find(f, 11);
	assert_non_null(c);
	assert_false(c->meta.is_unix);
	assert_true(c->meta.accepted);
	assert_string_equal(c->meta.local_addr, "2001:db8::1");
	assert_int_equal(c->meta.local_port, 443);
	assert_string_equal(c->meta.remote_addr, "2001:db8::abcd");
	assert_int_equal(c->meta.remote_port, 51000);

	e = open_rec(f, 12, SOCK_ROLE_CONNECTED, 100);
	addr6(&e->local, loopback, 40000);
	addr6(&e->remote, loopback, 8080);
	assert_int_equal(decode(f, sizeof(*e)), 0);
	c = find(f, 12);
	assert_non_null(c);
	assert_string_equal(c->meta.local_addr, "::1");
	assert_string_equal(c->meta.remote_addr, "::1");
	assert_int_equal(c->meta.remote_port, 8080);
}

UNIT_TEST_FIXTURE(test_open_unix, setup, teardown)
{
	struct fixture *f = *state;
	struct sock_open_event *e = open_rec(f, 13, SOCK_ROLE_CONNECTED, 100);
	const struct conn *c;

	/* read_addrs() sets only the family of a unix socket */
	e->local.family = AF_UNIX;
	e->remote.family = AF_UNIX;
	assert_int_equal(decode(f, sizeof(*e)), 0);
	c = find(f, 13);
	assert_non_null(c);
	assert_true(c->meta.is_unix);
	assert_true(c->meta.connected);
	assert_string_equal(c->meta.local_addr, "");
	assert_string_equal(c->meta.remote_addr, "");
	assert_int_equal(c->meta.local_port, 0);
	assert_int_equal(c->meta.remote_port, 0);
	assert_null(conn_table_peer(f->conns, c));
}

UNIT_TEST_FIXTURE(test_open_unknown_family, setup, teardown)
{
	struct fixture *f = *state;
	struct sock_open_event *e = open_rec(f, 14, SOCK_ROLE_CONNECTED, 100);
	const struct conn *c;

	/* bytes in addr[] of a family we do not format are not read as an address */
	e->local.family = 0;
	e->remote.family = AF_INET6 + 1;
	memset(e->local.addr, 0x41, sizeof(e->local.addr));
	memset(e->remote.addr, 0x42, sizeof(e->remote.addr));
	assert_int_equal(decode(f, sizeof(*e)), 0);
	c = find(f, 14);
	assert_non_null(c);
	assert_false(c->meta.is_unix);
	assert_string_equal(c->meta.local_addr, "");
	assert_string_equal(c->meta.remote_addr, "");
}

UNIT_TEST_FIXTURE(test_open_again_replaces_meta, setup, teardown)
{
	struct fixture *f = *state;
	struct sock_open_event *e;
	const struct conn *c;

	open_rec4(f, 15, SOCK_ROLE_UNKNOWN);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	e = open_rec(f, 15, SOCK_ROLE_ACCEPTED, 200);
	addr4(&e->local, 10, 0, 0, 1, 80);
	addr4(&e->remote, 10, 0, 0, 2, 1234);
	assert_int_equal(decode(f, sizeof(*e)), 0);
	assert_int_equal(nconns(f), 1);
	c = find(f, 15);
	assert_non_null(c);
	assert_true(c->meta.accepted);
	assert_string_equal(c->meta.local_addr, "10.0.0.1");
	assert_int_equal(c->meta.remote_port, 1234);
}

/* ---- data ---- */

UNIT_TEST_FIXTURE(test_data_ingress, setup, teardown)
{
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";
	struct fixture *f = *state;
	const struct call *k;

	open_rec4(f, 20, SOCK_ROLE_ACCEPTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	data_rec(f, 20, SOCK_DIR_INGRESS, SOCK_SC_READ, 1000, req, sizeof(req) - 1,
		 sizeof(req) - 1);
	assert_int_equal(decode_exact(f, data_size(f)), 0);
	assert_int_equal(f->nsniffs, 1);
	assert_int_equal(f->ncalls, 1);
	k = &f->calls[0];
	assert_int_equal(k->kind, CALL_DATA);
	assert_int_equal(k->conn_id, 20);
	assert_int_equal(k->conn_pid, PID);
	assert_true(k->have_meta);
	assert_true(k->meta.accepted);
	assert_string_equal(k->meta.local_addr, "10.1.2.3");
	assert_false(k->tls);
	assert_int_equal(k->d.tid, TID);
	assert_int_equal(k->d.ts_ns, 1000);
	assert_int_equal(k->d.dir, CONN_DIR_IN);
	assert_false(k->d.from_tls);
	assert_int_equal(k->d.len, sizeof(req) - 1);
	assert_int_equal(k->d.total, sizeof(req) - 1);
	assert_memory_equal(k->bytes, req, sizeof(req) - 1);
	assert_ptr_equal(find(f, 20)->proto, &f->proto);
}

UNIT_TEST_FIXTURE(test_data_egress_partial_capture, setup, teardown)
{
	struct fixture *f = *state;
	const struct call *k;

	/* a write of 1 MiB, of which the capture kept its whole SOCK_CAPTURE_MAX bytes */
	data_rec(f, 21, SOCK_DIR_EGRESS, SOCK_SC_WRITEV, 0xfffffffffffffffeull, pattern,
		 SOCK_CAPTURE_MAX, 1 << 20);
	assert_int_equal(decode_exact(f, data_size(f)), 0);
	assert_int_equal(f->ncalls, 1);
	k = &f->calls[0];
	/* data before any opening: an entry without meta, of the event's process */
	assert_int_equal(k->conn_id, 21);
	assert_int_equal(k->conn_pid, PID);
	assert_false(k->have_meta);
	assert_int_equal(k->d.dir, CONN_DIR_OUT);
	assert_int_equal(k->d.ts_ns, 0xfffffffffffffffeull);
	assert_int_equal(k->d.len, SOCK_CAPTURE_MAX);
	assert_int_equal(k->d.total, 1 << 20);
	assert_memory_equal(k->bytes, pattern, SOCK_CAPTURE_MAX);
}

UNIT_TEST_FIXTURE(test_data_every_syscall, setup, teardown)
{
	static const struct {
		uint8_t sc, dir;
		bool tls;
	} cases[] = {
		{ SOCK_SC_READ, SOCK_DIR_INGRESS, false },
		{ SOCK_SC_READV, SOCK_DIR_INGRESS, false },
		{ SOCK_SC_RECVFROM, SOCK_DIR_INGRESS, false },
		{ SOCK_SC_RECVMSG, SOCK_DIR_INGRESS, false },
		{ SOCK_SC_WRITE, SOCK_DIR_EGRESS, false },
		{ SOCK_SC_WRITEV, SOCK_DIR_EGRESS, false },
		{ SOCK_SC_SENDTO, SOCK_DIR_EGRESS, false },
		{ SOCK_SC_SENDMSG, SOCK_DIR_EGRESS, false },
		{ SOCK_SC_SENDFILE, SOCK_DIR_EGRESS, false },
		{ SOCK_SC_TLS_READ, SOCK_DIR_INGRESS, true },
		{ SOCK_SC_TLS_WRITE, SOCK_DIR_EGRESS, true },
		{ 0, SOCK_DIR_INGRESS, false }, /* syscalls this build does not know are plain */
		{ 200, SOCK_DIR_EGRESS, false },
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* a connection each: the tls flag of a connection sticks */
		f->ncalls = 0;
		data_rec(f, 100 + i, cases[i].dir, cases[i].sc, i, "x", 1, 1);
		assert_int_equal(decode(f, data_size(f)), 0);
		assert_int_equal(f->ncalls, 1);
		assert_int_equal(f->calls[0].conn_id, 100 + i);
		assert_int_equal(f->calls[0].d.dir,
				 cases[i].dir == SOCK_DIR_INGRESS ? CONN_DIR_IN : CONN_DIR_OUT);
		assert_int_equal(f->calls[0].d.from_tls, cases[i].tls);
		assert_int_equal(f->calls[0].tls, cases[i].tls);
	}
}

UNIT_TEST_FIXTURE(test_data_tls_flag_sticks, setup, teardown)
{
	struct fixture *f = *state;

	data_rec(f, 22, SOCK_DIR_EGRESS, SOCK_SC_TLS_WRITE, 1, "GET", 3, 3);
	assert_int_equal(decode(f, data_size(f)), 0);
	data_rec(f, 22, SOCK_DIR_INGRESS, SOCK_SC_READ, 2, "HTTP", 4, 4);
	assert_int_equal(decode(f, data_size(f)), 0);
	assert_int_equal(f->ncalls, 2);
	assert_true(f->calls[0].d.from_tls);
	assert_true(f->calls[0].tls);
	/* these bytes came from a syscall, but the connection is a TLS one */
	assert_false(f->calls[1].d.from_tls);
	assert_true(f->calls[1].tls);
	assert_int_equal(f->nsniffs, 1); /* decided on the first bytes only */
}

UNIT_TEST_FIXTURE(test_data_nothing_captured, setup, teardown)
{
	struct fixture *f = *state;

	/* sendfile(): counted, not copied; as a connection's first event it decides nothing and
	 * goes to no protocol (conn.c), after the first bytes it goes to theirs */
	data_rec(f, 23, SOCK_DIR_EGRESS, SOCK_SC_SENDFILE, 5, "", 0, 65536);
	assert_int_equal(decode_exact(f, SOCK_DATA_HDR_SIZE), 0);
	assert_int_equal(f->ncalls, 0);
	assert_int_equal(f->nsniffs, 0);
	data_rec(f, 23, SOCK_DIR_INGRESS, SOCK_SC_READ, 6, "GET", 3, 3);
	assert_int_equal(decode(f, data_size(f)), 0);
	data_rec(f, 23, SOCK_DIR_EGRESS, SOCK_SC_SENDFILE, 7, "", 0, 65536);
	assert_int_equal(decode_exact(f, SOCK_DATA_HDR_SIZE), 0);
	assert_int_equal(f->ncalls, 2);
	assert_int_equal(f->calls[1].d.len, 0);
	assert_int_equal(f->calls[1].d.total, 65536);
}

UNIT_TEST_FIXTURE(test_data_longer_record_than_captured, setup, teardown)
{
	struct fixture *f = *state;

	/* bytes past what captured counts are not data */
	data_rec(f, 24, SOCK_DIR_INGRESS, SOCK_SC_READ, 5, "abcdef", 6, 6);
	f->rec.data.captured = 3;
	assert_int_equal(decode_exact(f, SOCK_DATA_HDR_SIZE + 6), 0);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->calls[0].d.len, 3);
	assert_int_equal(f->calls[0].d.total, 6);
	assert_memory_equal(f->calls[0].bytes, "abc", 3);
}

/* ---- close ---- */

UNIT_TEST_FIXTURE(test_close, setup, teardown)
{
	struct fixture *f = *state;
	const struct call *k;

	open_rec4(f, 30, SOCK_ROLE_CONNECTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	data_rec(f, 30, SOCK_DIR_EGRESS, SOCK_SC_WRITE, 10, "Q", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	close_rec(f, 30, 12345);
	assert_int_equal(decode_exact(f, sizeof(struct sock_close_event)), 0);
	assert_int_equal(f->ncalls, 2);
	k = &f->calls[1];
	assert_int_equal(k->kind, CALL_CLOSE);
	assert_int_equal(k->conn_id, 30);
	assert_int_equal(k->ts_ns, 12345);
	assert_true(k->have_meta);
	assert_int_equal(k->meta.remote_port, 5432);
	assert_int_equal(nconns(f), 0);
	assert_null(find(f, 30));

	/* again, or a connection never seen: nothing to do, and no error */
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);
	close_rec(f, 31, 1);
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);
	assert_int_equal(f->ncalls, 2);
	assert_int_equal(nconns(f), 0);
}

UNIT_TEST_FIXTURE(test_close_without_protocol, setup, teardown)
{
	struct fixture *f = *state;

	/* opened, never moved a byte: no protocol to tell, the entry goes */
	open_rec4(f, 32, SOCK_ROLE_CONNECTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	close_rec(f, 32, 2);
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);
	assert_int_equal(f->ncalls, 0);
	assert_int_equal(nconns(f), 0);
}

UNIT_TEST_FIXTURE(test_close_ordering, setup, teardown)
{
	static const struct {
		enum call_kind kind;
		uint64_t id, ts;
	} want[] = {
		{ CALL_DATA, 40, 3 },  { CALL_DATA, 41, 4 },  { CALL_CLOSE, 41, 5 },
		{ CALL_DATA, 40, 6 },  { CALL_CLOSE, 40, 7 }, { CALL_DATA, 41, 8 },
		{ CALL_CLOSE, 41, 9 },
	};
	struct fixture *f = *state;
	size_t i;

	open_rec4(f, 40, SOCK_ROLE_CONNECTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	open_rec4(f, 41, SOCK_ROLE_ACCEPTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	data_rec(f, 40, SOCK_DIR_EGRESS, SOCK_SC_WRITE, 3, "a", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	data_rec(f, 41, SOCK_DIR_INGRESS, SOCK_SC_READ, 4, "b", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	close_rec(f, 41, 5);
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);
	data_rec(f, 40, SOCK_DIR_INGRESS, SOCK_SC_READ, 6, "c", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	close_rec(f, 40, 7);
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);
	/* data after its close (a late event of another thread): a new entry, without meta */
	data_rec(f, 41, SOCK_DIR_INGRESS, SOCK_SC_READ, 8, "d", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	close_rec(f, 41, 9);
	assert_int_equal(decode(f, sizeof(struct sock_close_event)), 0);

	assert_int_equal(f->ncalls, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < f->ncalls; i++) {
		assert_int_equal(f->calls[i].kind, want[i].kind);
		assert_int_equal(f->calls[i].conn_id, want[i].id);
		assert_int_equal(f->calls[i].kind == CALL_CLOSE ? f->calls[i].ts_ns
								: f->calls[i].d.ts_ns,
				 want[i].ts);
	}
	assert_false(f->calls[5].have_meta); /* the entry of the reused id is a new one */
	assert_int_equal(nconns(f), 0);
}

/* ---- what is refused ---- */

/* Refused, and nothing happened: no callback, no entry. */
static void assert_refused(struct fixture *f, int ret, uint64_t conns_before)
{
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(f->ncalls, 0);
	assert_int_equal(f->nsniffs, 0);
	assert_int_equal(nconns(f), conns_before);
}

UNIT_TEST_FIXTURE(test_null_and_empty, setup, teardown)
{
	struct fixture *f = *state;

	assert_refused(f, sock_event_decode(f->conns, NULL, 0), 0);
	assert_refused(f, decode_exact(f, 0), 0);
}

UNIT_TEST_FIXTURE(test_truncated_header, setup, teardown)
{
	struct fixture *f = *state;
	size_t n;

	for (n = 0; n < sizeof(struct obs_event_hdr); n++) {
		open_rec4(f, 50, SOCK_ROLE_CONNECTED);
		assert_refused(f, decode_exact(f, n), 0);
		data_rec(f, 50, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, "", 0, 0);
		assert_refused(f, decode_exact(f, n), 0);
		close_rec(f, 50, 1);
		assert_refused(f, decode_exact(f, n), 0);
	}
}

UNIT_TEST_FIXTURE(test_truncated_open, setup, teardown)
{
	struct fixture *f = *state;
	size_t n;

	for (n = 0; n < sizeof(struct sock_open_event); n++) {
		open_rec4(f, 51, SOCK_ROLE_CONNECTED);
		assert_refused(f, decode_exact(f, n), 0);
	}
	assert_int_equal(decode_exact(f, n), 0);
	assert_int_equal(nconns(f), 1);
}

UNIT_TEST_FIXTURE(test_truncated_data, setup, teardown)
{
	static const char req[] = "GET /truncated HTTP/1.1\r\nHost: h\r\n\r\n";
	struct fixture *f = *state;
	size_t n;

	open_rec4(f, 52, SOCK_ROLE_ACCEPTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	/* every length short of the header and of the bytes the record says it carries */
	for (n = 0; n < SOCK_DATA_HDR_SIZE + sizeof(req) - 1; n++) {
		data_rec(f, 52, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, req, sizeof(req) - 1,
			 sizeof(req) - 1);
		assert_refused(f, decode_exact(f, n), 1);
	}
	/* nothing captured: only the header counts */
	for (n = 0; n < SOCK_DATA_HDR_SIZE; n++) {
		data_rec(f, 52, SOCK_DIR_EGRESS, SOCK_SC_SENDFILE, 1, "", 0, 100);
		assert_refused(f, decode_exact(f, n), 1);
	}
	/* the whole of the largest record is taken; a byte less is not */
	data_rec(f, 53, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, pattern, SOCK_CAPTURE_MAX,
		 SOCK_CAPTURE_MAX);
	assert_refused(f, decode_exact(f, sizeof(struct sock_data_event) - 1), 1);
	assert_int_equal(decode_exact(f, sizeof(struct sock_data_event)), 0);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->calls[0].d.len, SOCK_CAPTURE_MAX);
	assert_memory_equal(f->calls[0].bytes, pattern, SOCK_CAPTURE_MAX);
}

UNIT_TEST_FIXTURE(test_truncated_close, setup, teardown)
{
	struct fixture *f = *state;
	size_t n;

	open_rec4(f, 54, SOCK_ROLE_CONNECTED);
	assert_int_equal(decode(f, sizeof(struct sock_open_event)), 0);
	data_rec(f, 54, SOCK_DIR_EGRESS, SOCK_SC_WRITE, 1, "x", 1, 1);
	assert_int_equal(decode(f, data_size(f)), 0);
	f->ncalls = 0;
	f->nsniffs = 0;
	for (n = 0; n < sizeof(struct sock_close_event); n++) {
		close_rec(f, 54, 2);
		assert_refused(f, decode_exact(f, n), 1);
	}
	assert_int_equal(decode_exact(f, n), 0);
	assert_int_equal(f->ncalls, 1);
	assert_int_equal(f->calls[0].kind, CALL_CLOSE);
}

UNIT_TEST_FIXTURE(test_data_claims_more_than_present, setup, teardown)
{
	struct fixture *f = *state;

	/* captured says 100, 99 are there */
	data_rec(f, 55, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, pattern, 100, 100);
	assert_refused(f, decode_exact(f, SOCK_DATA_HDR_SIZE + 99), 0);
	/* a captured that wraps size - SOCK_DATA_HDR_SIZE if added instead of subtracted */
	data_rec(f, 55, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, "", 0, UINT64_MAX);
	f->rec.data.captured = UINT32_MAX;
	assert_refused(f, decode_exact(f, SOCK_DATA_HDR_SIZE + 8), 0);
	f->rec.data.captured = UINT32_MAX - SOCK_DATA_HDR_SIZE + 1;
	assert_refused(f, decode_exact(f, SOCK_DATA_HDR_SIZE + 8), 0);
}

UNIT_TEST_FIXTURE(test_data_captured_more_than_moved, setup, teardown)
{
	struct fixture *f = *state;

	/* 10 bytes captured of a 9-byte read: the record lies */
	data_rec(f, 56, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, "0123456789", 10, 9);
	assert_refused(f, decode_exact(f, data_size(f)), 0);
	data_rec(f, 56, SOCK_DIR_EGRESS, SOCK_SC_WRITE, 1, "0", 1, 0);
	assert_refused(f, decode_exact(f, data_size(f)), 0);
}

UNIT_TEST_FIXTURE(test_data_lead, setup, teardown)
{
	struct fixture *f = *state;

	data_rec(f, 58, SOCK_DIR_INGRESS, SOCK_SC_TLS_READ, 1, "GET", 3, 3);
	assert_int_equal(decode_exact(f, data_size(f)), 0);
	/* 100 bytes not captured, 5 captured, 5 not: a gap, then the bytes with their own gap */
	data_rec(f, 58, SOCK_DIR_INGRESS, SOCK_SC_TLS_READ, 2, "abcde", 5, 110);
	f->rec.data.lead = 100;
	assert_int_equal(decode_exact(f, data_size(f)), 0);
	assert_int_equal(f->ncalls, 3);
	assert_int_equal(f->calls[1].d.len, 0);
	assert_int_equal(f->calls[1].d.total, 100);
	assert_int_equal(f->calls[2].d.len, 5);
	assert_int_equal(f->calls[2].d.total, 10);
	assert_memory_equal(f->calls[2].bytes, "abcde", 5);
	/* nothing captured: the gap alone */
	data_rec(f, 58, SOCK_DIR_INGRESS, SOCK_SC_TLS_READ, 3, "", 0, 4096);
	f->rec.data.lead = 4096;
	assert_int_equal(decode_exact(f, data_size(f)), 0);
	assert_int_equal(f->ncalls, 4);
	assert_int_equal(f->calls[3].d.len, 0);
	assert_int_equal(f->calls[3].d.total, 4096);
	/* a lead the event cannot hold besides what it captured */
	data_rec(f, 58, SOCK_DIR_INGRESS, SOCK_SC_TLS_READ, 4, "abcde", 5, 10);
	f->rec.data.lead = 6;
	assert_int_equal(decode_exact(f, data_size(f)), -EINVAL);
	f->rec.data.lead = UINT32_MAX;
	assert_int_equal(decode_exact(f, data_size(f)), -EINVAL);
	assert_int_equal(f->ncalls, 4);
}

UNIT_TEST_FIXTURE(test_data_bad_direction, setup, teardown)
{
	static const uint8_t dirs[] = { 2, 3, 0x80, 0xff };
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(dirs); i++) {
		data_rec(f, 57, dirs[i], SOCK_SC_READ, 1, "x", 1, 1);
		assert_refused(f, decode_exact(f, data_size(f)), 0);
	}
}

UNIT_TEST_FIXTURE(test_unknown_type, setup, teardown)
{
	static const uint32_t types[] = {
		0,
		OBS_EV_PROC_FORK,
		OBS_EV_PROC_EXIT,
		OBS_EV_PROC_EXEC,
		OBS_EV_MEM_OOM,
		OBS_EV_PROC_MMAP,
		OBS_EV_LIBPQ,
		OBS_EV_LIBPQ + 1,
		OBS_EV_SOCK_OPEN | 0x100,
		0xffffffffu,
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* a record big enough to be any of the sock events, but of another type */
		data_rec(f, 58, SOCK_DIR_INGRESS, SOCK_SC_READ, 1, "GET", 3, 3);
		f->rec.hdr.type = types[i];
		assert_refused(f, decode_exact(f, sizeof(struct sock_data_event)), 0);
		assert_refused(f, decode_exact(f, sizeof(struct obs_event_hdr)), 0);
	}
}

UNIT_MAIN(NULL, NULL)
