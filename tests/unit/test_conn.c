// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The connection table: protocols chosen by their sniffers in registration order, the LRU
 * bound, the tuple index behind conn_table_peer, process exit, the thread -> span map. Fake
 * protocols write each call they get into one log, so a test reads what happened, in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include <errno.h>

#include "pipeline/conn.h"

#define PID 100
#define OTHER_PID 200

/* "sniff p;data p 1 in 3;close p 1 77;" and so on; sniff has no context argument. */
static char log_buf[4096];

static void log_call(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_call(const char *fmt, ...)
{
	size_t n = strlen(log_buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(log_buf + n, sizeof(log_buf) - n, fmt, ap);
	va_end(ap);
	assert_true(strlen(log_buf) < sizeof(log_buf) - 1);
}

/* What the test has not read yet, and from now on nothing. */
static const char *take_log(void)
{
	static char taken[sizeof(log_buf)];

	memcpy(taken, log_buf, sizeof(taken));
	log_buf[0] = '\0';
	return taken;
}

/* A fake protocol: its name in the log; the state it hangs off a connection is freed by close,
 * so LeakSanitizer (the asan build) sees a connection that never got its close. */
struct fake {
	const char *name;
	struct conn_proto proto;
};

/* Takes bytes that start with 'P'. */
static bool sniff_p(enum conn_dir dir, const uint8_t *data, size_t len)
{
	(void)dir;
	log_call("sniff p;");
	return len && data[0] == 'P';
}

/* Takes bytes that start with 'P' or 'X'. */
static bool sniff_px(enum conn_dir dir, const uint8_t *data, size_t len)
{
	(void)dir;
	log_call("sniff px;");
	return len && (data[0] == 'P' || data[0] == 'X');
}

static void fake_data(void *tracker, struct conn *c, const struct conn_data *d)
{
	struct fake *fk = tracker;

	assert_ptr_equal(c->proto, &fk->proto);
	if (!c->state) {
		c->state = strdup(fk->name);
		assert_non_null(c->state);
	}
	assert_string_equal(c->state, fk->name);
	log_call("data %s %llu %s %zu;", fk->name, (unsigned long long)c->id,
		 d->dir == CONN_DIR_IN ? "in" : "out", d->len);
}

static void fake_close(void *tracker, struct conn *c, uint64_t ts_ns)
{
	struct fake *fk = tracker;

	assert_ptr_equal(c->proto, &fk->proto);
	log_call("close %s %llu %llu;", fk->name, (unsigned long long)c->id,
		 (unsigned long long)ts_ns);
	free(c->state);
	c->state = NULL;
}

static void fake_proc_exit(void *tracker, uint32_t pid)
{
	struct fake *fk = tracker;

	log_call("exit %s %u;", fk->name, pid);
}

static void fake_init(struct fake *fk, const char *name,
		      bool (*sniff)(enum conn_dir, const uint8_t *, size_t), bool proc_exit)
{
	fk->name = name;
	fk->proto = (struct conn_proto){ .name = name,
					 .sniff = sniff,
					 .data = fake_data,
					 .close = fake_close,
					 .proc_exit = proc_exit ? fake_proc_exit : NULL,
					 .tracker = fk };
}

struct fixture {
	struct conn_table *t;
	struct fake p, px, fallback;
};

static int setup_with(void **state, size_t max_conns)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_init(&f->p, "p", sniff_p, true);
	fake_init(&f->px, "px", sniff_px, false);
	fake_init(&f->fallback, "f", NULL, true);
	f->t = conn_table_new(max_conns);
	log_buf[0] = '\0';
	*state = f;
	return f->t ? 0 : -1;
}

static int setup(void **state)
{
	return setup_with(state, 64);
}

static int setup_small(void **state)
{
	return setup_with(state, 3);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conn_table_free(f->t);
	free(f);
	return 0;
}

/* p, then px, then the fallback, as the app registers PostgreSQL then HTTP. */
static void register_all(struct fixture *f)
{
	assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->px.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->fallback.proto), 0);
}

static void feed(struct fixture *f, uint64_t id, uint32_t pid, enum conn_dir dir, const char *s)
{
	struct conn_data d = {
		.tid = 7, .ts_ns = 1, .dir = dir, .data = (const uint8_t *)s, .len = strlen(s)
	};

	d.total = d.len;
	conn_table_data(f->t, id, pid, &d);
}

static void feed_out(struct fixture *f, uint64_t id, const char *s)
{
	feed(f, id, PID, CONN_DIR_OUT, s);
}

static struct conn_meta meta_tcp(uint64_t id, uint32_t pid, const char *laddr, int lport,
				 const char *raddr, int rport)
{
	struct conn_meta m = { .conn_id = id, .pid = pid, .fd = 3 };

	snprintf(m.local_addr, sizeof(m.local_addr), "%s", laddr);
	m.local_port = lport;
	snprintf(m.remote_addr, sizeof(m.remote_addr), "%s", raddr);
	m.remote_port = rport;
	return m;
}

static void open_tcp(struct fixture *f, uint64_t id, uint32_t pid, const char *laddr, int lport,
		     const char *raddr, int rport)
{
	struct conn_meta m = meta_tcp(id, pid, laddr, lport, raddr, rport);

	conn_table_open(f->t, &m);
}

static uint64_t nconns(const struct fixture *f)
{
	struct conn_table_stats st;

	conn_table_get_stats(f->t, &st);
	return st.conns;
}

static uint64_t nevicted(const struct fixture *f)
{
	struct conn_table_stats st;

	conn_table_get_stats(f->t, &st);
	return st.evicted;
}

/* The ids conn_table_visit gives for p, as "1 2 3 ". */
static void visit_id(void *ctx, const struct conn *c)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%llu ", (unsigned long long)c->id);
}

static const char *visit_ids(struct fixture *f, const struct conn_proto *p)
{
	static char out[256];

	out[0] = '\0';
	conn_table_visit(f->t, p, visit_id, out);
	return out;
}

/* ---- the protocol registry ---- */

UNIT_TEST_FIXTURE(test_first_sniffer_that_takes_wins, setup, teardown)
{
	struct fixture *f = *state;

	register_all(f);
	feed_out(f, 1, "Pabc");
	assert_string_equal(take_log(), "sniff p;data p 1 out 4;");
	feed_out(f, 2, "Xabc");
	assert_string_equal(take_log(), "sniff p;sniff px;data px 2 out 4;");
	feed(f, 3, PID, CONN_DIR_IN, "GET /");
	assert_string_equal(take_log(), "sniff p;sniff px;data f 3 in 5;");

	/* decided once: later bytes go to the same protocol, unsniffed, whatever they are */
	feed_out(f, 1, "Xyz");
	feed_out(f, 2, "Pq");
	feed_out(f, 3, "P");
	assert_string_equal(take_log(), "data p 1 out 3;data px 2 out 2;data f 3 out 1;");

	assert_string_equal(visit_ids(f, &f->p.proto), "1 ");
	assert_string_equal(visit_ids(f, &f->px.proto), "2 ");
	assert_string_equal(visit_ids(f, &f->fallback.proto), "3 ");
	assert_string_equal(visit_ids(f, NULL), "");
}

UNIT_TEST_FIXTURE(test_registration_order_not_specificity, setup, teardown)
{
	struct fixture *f = *state;

	/* px registered before p takes what both would */
	assert_int_equal(conn_table_register(f->t, &f->px.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	feed_out(f, 1, "Pabc");
	assert_string_equal(take_log(), "sniff px;data px 1 out 4;");
	assert_string_equal(visit_ids(f, &f->p.proto), "");
}

UNIT_TEST_FIXTURE(test_fallback_takes_what_none_sniffed, setup, teardown)
{
	struct fixture *f = *state;

	/* a fallback registered first leaves nothing for the sniffers after it */
	assert_int_equal(conn_table_register(f->t, &f->fallback.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	feed_out(f, 1, "Pabc");
	assert_string_equal(take_log(), "data f 1 out 4;");
}

UNIT_TEST_FIXTURE(test_rejected_stays_undecided, setup, teardown)
{
	struct fixture *f = *state;
	struct conn *c;

	assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->px.proto), 0);
	feed_out(f, 1, "GET / HTTP/1.1\r\n");
	assert_string_equal(take_log(), "sniff p;sniff px;");
	c = conn_table_get(f->t, 1, PID);
	assert_non_null(c);
	assert_null(c->proto);
	assert_true(c->undecided);
	assert_int_equal(nconns(f), 1);

	/* Later bytes are not sniffed again, even when they would be taken: a connection's
	 * first bytes are where a protocol shows itself, later ones may be anything (a body, a
	 * payload that happens to start with 'P'). Nothing is handed over, so nothing is read
	 * out of sync. */
	feed_out(f, 1, "Pabc");
	feed(f, 1, PID, CONN_DIR_IN, "Xabc");
	assert_string_equal(take_log(), "");
	assert_null(c->proto);
	assert_true(c->undecided);
	assert_string_equal(visit_ids(f, NULL), "1 ");

	/* its opening, seen late, changes nothing of that */
	open_tcp(f, 1, PID, "10.0.0.1", 1000, "10.0.0.2", 80);
	feed_out(f, 1, "Pabc");
	assert_string_equal(take_log(), "");
	assert_true(c->have_meta);
	assert_true(c->undecided);

	/* and it ends without a protocol to tell */
	conn_table_close(f->t, 1, 9);
	assert_string_equal(take_log(), "");
	assert_int_equal(nconns(f), 0);
}

UNIT_TEST_FIXTURE(test_no_protocol_registered, setup, teardown)
{
	struct fixture *f = *state;

	feed_out(f, 1, "Pabc");
	assert_string_equal(take_log(), "");
	assert_int_equal(nconns(f), 1);
	conn_table_proc_exit(f->t, PID, 5);
	assert_string_equal(take_log(), "");
	assert_int_equal(nconns(f), 0);
}

UNIT_TEST_FIXTURE(test_register_bounded, setup, teardown)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < CONN_MAX_PROTOS - 1; i++)
		assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->fallback.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->px.proto), -ENOSPC);
	assert_int_equal(conn_table_register(f->t, &f->px.proto), -ENOSPC);
	/* the ones that made it still work; the refused one is never asked */
	feed_out(f, 1, "Xabc");
	assert_string_equal(take_log(), "sniff p;sniff p;sniff p;sniff p;sniff p;sniff p;sniff p;"
					"data f 1 out 4;");
}

UNIT_TEST_FIXTURE(test_tls_and_pid, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_data d = {
		.tid = 3, .dir = CONN_DIR_IN, .data = (const uint8_t *)"P", .len = 1
	};
	struct conn *c;

	register_all(f);
	/* bytes before the opening: the entry is made with the pid the bytes came with */
	feed(f, 1, OTHER_PID, CONN_DIR_IN, "Pa");
	c = conn_table_get(f->t, 1, PID);
	assert_int_equal(c->pid, OTHER_PID);
	assert_false(c->have_meta);
	assert_false(c->tls);
	d.from_tls = true;
	d.total = 1;
	conn_table_data(f->t, 1, OTHER_PID, &d);
	assert_true(c->tls);
	feed_out(f, 1, "Pb");
	assert_true(c->tls); /* once TLS, always */
	/* what came before the first plaintext was the handshake (a server peeking at its first
	 * byte): the protocol it chose lets go, and the plaintext chooses again */
	assert_string_equal(take_log(), "sniff p;data p 1 in 2;close p 1 0;sniff p;data p 1 in 1;"
					"data p 1 out 2;");
}

/* ---- the LRU bound ---- */

UNIT_TEST_FIXTURE(test_lru_evicts_least_recent, setup_small, teardown)
{
	struct fixture *f = *state;

	register_all(f);
	feed_out(f, 1, "P1");
	feed_out(f, 2, "X2");
	feed_out(f, 3, "G3");
	assert_string_equal(take_log(), "sniff p;data p 1 out 2;sniff p;sniff px;data px 2 out 2;"
					"sniff p;sniff px;data f 3 out 2;");
	assert_int_equal(nconns(f), 3);
	assert_int_equal(nevicted(f), 0);

	/* 1 used again: 2 is now the least recent */
	feed_out(f, 1, "P1");
	assert_string_equal(take_log(), "data p 1 out 2;");
	/* a lookup of an entry that exists moves it too, and evicts nothing */
	assert_non_null(conn_table_get(f->t, 2, PID));
	assert_int_equal(nevicted(f), 0);

	/* 3 goes: what it had in flight ends unanswered, at time 0 */
	feed_out(f, 4, "P4");
	assert_string_equal(take_log(), "close f 3 0;sniff p;data p 4 out 2;");
	assert_int_equal(nconns(f), 3);
	assert_int_equal(nevicted(f), 1);

	/* an opening makes an entry too, and so evicts */
	open_tcp(f, 5, PID, "10.0.0.1", 1, "10.0.0.2", 2);
	assert_string_equal(take_log(), "close p 1 0;");
	assert_int_equal(nevicted(f), 2);
	open_tcp(f, 6, PID, "10.0.0.1", 3, "10.0.0.2", 4);
	assert_string_equal(take_log(), "close px 2 0;");
	open_tcp(f, 7, PID, "10.0.0.1", 5, "10.0.0.2", 6);
	assert_string_equal(take_log(), "close p 4 0;");
	/* an entry without a protocol goes without a close, and counts */
	open_tcp(f, 8, PID, "10.0.0.1", 7, "10.0.0.2", 8);
	assert_string_equal(take_log(), "");
	assert_int_equal(nconns(f), 3);
	assert_int_equal(nevicted(f), 5);
	assert_string_equal(visit_ids(f, NULL), "6 7 8 ");

	/* closing what is gone already is nothing */
	conn_table_close(f->t, 3, 10);
	assert_string_equal(take_log(), "");
	assert_int_equal(nconns(f), 3);
}

UNIT_TEST_FIXTURE(test_lru_evicted_peer_is_forgotten, setup_small, teardown)
{
	struct fixture *f = *state;
	struct conn *client;

	/* both ends of one loopback connection, then two more: the server end goes first */
	open_tcp(f, 1, OTHER_PID, "127.0.0.1", 8080, "127.0.0.1", 40000);
	open_tcp(f, 2, PID, "127.0.0.1", 40000, "127.0.0.1", 8080);
	client = conn_table_get(f->t, 2, PID);
	assert_non_null(conn_table_peer(f->t, client));
	open_tcp(f, 3, PID, "127.0.0.1", 40001, "127.0.0.1", 8080);
	open_tcp(f, 4, PID, "127.0.0.1", 40002, "127.0.0.1", 8080);
	assert_int_equal(nevicted(f), 1);
	/* no dangling entry in the tuple index (ASan would see a use after free) */
	assert_null(conn_table_peer(f->t, client));
}

UNIT_TEST(test_zero_max_conns_means_one)
{
	struct fixture *f;

	(void)state;
	assert_int_equal(setup_with((void **)&f, 0), 0);
	register_all(f);
	feed_out(f, 1, "P");
	feed_out(f, 2, "P");
	assert_string_equal(take_log(),
			    "sniff p;data p 1 out 1;close p 1 0;sniff p;data p 2 out 1;");
	assert_int_equal(nconns(f), 1);
	assert_int_equal(nevicted(f), 1);
	teardown((void **)&f);
}

/* ---- the two ends of a connection ---- */

UNIT_TEST_FIXTURE(test_peer_two_ends_of_loopback, setup, teardown)
{
	struct fixture *f = *state;
	struct conn *server, *client, *other;
	struct conn_meta sm, cm;

	/* a server in one process, its client in another: each sees the other's ports mirrored */
	open_tcp(f, 1, OTHER_PID, "127.0.0.1", 8080, "127.0.0.1", 40000);
	open_tcp(f, 2, PID, "127.0.0.1", 40000, "127.0.0.1", 8080);
	server = conn_table_get(f->t, 1, OTHER_PID);
	client = conn_table_get(f->t, 2, PID);
	assert_ptr_equal(conn_table_peer(f->t, server), client);
	assert_ptr_equal(conn_table_peer(f->t, client), server);
	assert_true(conn_meta_other_end(&server->meta, &client->meta));
	assert_true(conn_meta_other_end(&client->meta, &server->meta));
	/* an end is not its own other end */
	assert_false(conn_meta_other_end(&client->meta, &client->meta));

	/* another client of the same server: a different port, not the other end of either */
	open_tcp(f, 3, PID, "127.0.0.1", 40001, "127.0.0.1", 8080);
	other = conn_table_get(f->t, 3, PID);
	assert_null(conn_table_peer(f->t, other));
	assert_false(conn_meta_other_end(&other->meta, &server->meta));
	assert_ptr_equal(conn_table_peer(f->t, server), client);

	/* the same ports between other hosts are other connections */
	sm = meta_tcp(0, 0, "10.0.0.1", 8080, "10.0.0.2", 40000);
	cm = meta_tcp(0, 0, "10.0.0.2", 40000, "10.0.0.3", 8080);
	assert_false(conn_meta_other_end(&sm, &cm));
	cm = meta_tcp(0, 0, "10.0.0.2", 40000, "10.0.0.1", 8080);
	assert_true(conn_meta_other_end(&sm, &cm));
	cm.remote_port = 8081;
	assert_false(conn_meta_other_end(&sm, &cm));

	/* one end gone: the other has no peer */
	conn_table_close(f->t, 1, 5);
	assert_null(conn_table_peer(f->t, client));
}

UNIT_TEST_FIXTURE(test_peer_ipv6_and_same_process, setup, teardown)
{
	struct fixture *f = *state;
	struct conn *a, *b;

	/* both ends in one process (a proxy talking to itself), over IPv6 loopback */
	open_tcp(f, 1, PID, "::1", 5432, "::1", 50000);
	open_tcp(f, 2, PID, "::1", 50000, "::1", 5432);
	a = conn_table_get(f->t, 1, PID);
	b = conn_table_get(f->t, 2, PID);
	assert_ptr_equal(conn_table_peer(f->t, a), b);
	assert_ptr_equal(conn_table_peer(f->t, b), a);
}

UNIT_TEST_FIXTURE(test_no_peer_without_addresses, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_meta m = { .conn_id = 1, .pid = PID, .is_unix = true };
	struct conn *u1, *u2, *bare;

	/* two unix sockets: no addresses, so no telling which ends belong together */
	conn_table_open(f->t, &m);
	m.conn_id = 2;
	conn_table_open(f->t, &m);
	u1 = conn_table_get(f->t, 1, PID);
	u2 = conn_table_get(f->t, 2, PID);
	assert_null(conn_table_peer(f->t, u1));
	assert_null(conn_table_peer(f->t, u2));

	/* bytes of a connection whose opening was never seen */
	register_all(f);
	feed_out(f, 3, "P");
	bare = conn_table_get(f->t, 3, PID);
	assert_false(bare->have_meta);
	assert_null(conn_table_peer(f->t, bare));

	/* one end known only in part (a family we do not format) */
	open_tcp(f, 4, PID, "", 0, "127.0.0.1", 80);
	open_tcp(f, 5, PID, "127.0.0.1", 80, "", 0);
	assert_null(conn_table_peer(f->t, conn_table_get(f->t, 4, PID)));
	assert_null(conn_table_peer(f->t, conn_table_get(f->t, 5, PID)));
}

UNIT_TEST_FIXTURE(test_reopen_moves_in_tuple_index, setup, teardown)
{
	struct fixture *f = *state;
	struct conn *server, *client;

	open_tcp(f, 1, OTHER_PID, "127.0.0.1", 8080, "127.0.0.1", 40000);
	/* first known with other ends (an fd reused before the table heard of its close) */
	open_tcp(f, 2, PID, "127.0.0.1", 39999, "127.0.0.1", 9090);
	client = conn_table_get(f->t, 2, PID);
	assert_null(conn_table_peer(f->t, client));
	open_tcp(f, 2, PID, "127.0.0.1", 40000, "127.0.0.1", 8080);
	server = conn_table_get(f->t, 1, OTHER_PID);
	assert_ptr_equal(conn_table_peer(f->t, client), server);
	assert_ptr_equal(conn_table_peer(f->t, server), client);
	assert_int_equal(nconns(f), 2);

	/* the old tuple is not found any more */
	open_tcp(f, 3, OTHER_PID, "127.0.0.1", 9090, "127.0.0.1", 39999);
	assert_null(conn_table_peer(f->t, conn_table_get(f->t, 3, OTHER_PID)));
}

/* ---- process exit, and the end ---- */

UNIT_TEST_FIXTURE(test_proc_exit_closes_its_conns_then_tells, setup, teardown)
{
	struct fixture *f = *state;

	register_all(f);
	feed_out(f, 1, "P");
	feed(f, 2, OTHER_PID, CONN_DIR_OUT, "X");
	feed_out(f, 3, "X");
	feed_out(f, 4, "G");
	open_tcp(f, 5, PID, "10.0.0.1", 1, "10.0.0.2", 2); /* no bytes: no protocol */
	take_log();
	assert_int_equal(nconns(f), 5);

	conn_table_proc_exit(f->t, PID, 77);
	/* its connections, oldest first, at the time of the exit; then every protocol that
	 * asked to hear of exits (px did not), in registration order */
	assert_string_equal(take_log(),
			    "close p 1 77;close px 3 77;close f 4 77;exit p 100;exit f 100;");
	assert_int_equal(nconns(f), 1);
	assert_string_equal(visit_ids(f, &f->px.proto), "2 ");

	/* a process without connections: only the protocols hear of it */
	conn_table_proc_exit(f->t, 12345, 78);
	assert_string_equal(take_log(), "exit p 12345;exit f 12345;");
	assert_int_equal(nconns(f), 1);
}

UNIT_TEST_FIXTURE(test_free_closes_everything, setup, teardown)
{
	struct fixture *f = *state;

	register_all(f);
	feed_out(f, 1, "P");
	feed(f, 2, OTHER_PID, CONN_DIR_IN, "X");
	feed_out(f, 3, "G");
	open_tcp(f, 4, PID, "127.0.0.1", 1, "127.0.0.1", 2);
	actors_span_enter(conn_table_actors(f->t), PID, 7, (const uint8_t *)"0123456789abcdef",
			  (const uint8_t *)"01234567", 0, 0);
	take_log();
	conn_table_free(f->t);
	f->t = NULL;
	/* at time 0: nothing more is known; no process exit is made up */
	assert_string_equal(take_log(), "close p 1 0;close px 2 0;close f 3 0;");
	conn_table_free(NULL);
}

UNIT_TEST_FIXTURE(test_stats_and_visit, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_table_stats st;

	register_all(f);
	conn_table_get_stats(f->t, &st);
	assert_int_equal(st.conns, 0);
	assert_int_equal(st.evicted, 0);
	feed_out(f, 1, "P");
	feed_out(f, 2, "P");
	feed_out(f, 3, "X");
	feed_out(f, 4, "P");
	feed_out(f, 2, "P"); /* most recent now */
	assert_string_equal(visit_ids(f, &f->p.proto), "1 4 2 ");
	assert_string_equal(visit_ids(f, &f->px.proto), "3 ");
	assert_string_equal(visit_ids(f, &f->fallback.proto), "");
	conn_table_get_stats(f->t, &st);
	assert_int_equal(st.conns, 4);
	conn_table_close(f->t, 4, 1);
	conn_table_close(f->t, 4, 1);
	conn_table_get_stats(f->t, &st);
	assert_int_equal(st.conns, 3);
	assert_string_equal(visit_ids(f, &f->p.proto), "1 2 ");
}

/* An event with nothing captured (sendfile(), a failed copy) shows no protocol: the first
 * captured bytes choose, with or without a fallback. */
UNIT_TEST_FIXTURE(test_nothing_captured_decides_nothing, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_data d = { .tid = 7, .ts_ns = 1, .dir = CONN_DIR_OUT, .total = 65536 };

	assert_int_equal(conn_table_register(f->t, &f->p.proto), 0);
	assert_int_equal(conn_table_register(f->t, &f->px.proto), 0);
	conn_table_data(f->t, 1, PID, &d);
	feed_out(f, 1, "Pabc");
	assert_ptr_equal(conn_table_get(f->t, 1, PID)->proto, &f->p.proto);

	/* with a fallback, the same: the first captured bytes choose */
	assert_int_equal(conn_table_register(f->t, &f->fallback.proto), 0);
	conn_table_data(f->t, 2, PID, &d);
	feed_out(f, 2, "Xabc");
	assert_ptr_equal(conn_table_get(f->t, 2, PID)->proto, &f->px.proto);
}

/* With a grace, a closed connection still takes the events on their way (the writer's, reported
 * after the reader closed) and ends at reap time, with the time it closed. */
UNIT_TEST_FIXTURE(test_close_grace, setup, teardown)
{
	struct fixture *f = *state;
	struct conn_table_stats st;

	register_all(f);
	conn_table_set_close_grace(f->t, 100);
	feed_out(f, 1, "P1");
	feed_out(f, 2, "P2");
	take_log();
	conn_table_close(f->t, 1, 10);
	conn_table_close(f->t, 1, 12); /* twice: the first counts */
	assert_string_equal(take_log(), "");
	feed(f, 1, PID, CONN_DIR_IN, "late");
	assert_string_equal(take_log(), "data p 1 in 4;");
	/* the grace runs from when the reaper first sees the close (at 20: until 120), however
	 * late that is; the spans still end at the close's own time */
	conn_table_reap(f->t, 20);
	conn_table_close(f->t, 2, 50);
	conn_table_reap(f->t, 119);
	assert_string_equal(take_log(), "");
	feed(f, 1, PID, CONN_DIR_IN, "later");
	assert_string_equal(take_log(), "data p 1 in 5;");
	conn_table_reap(f->t, 120);
	assert_string_equal(take_log(), "close p 1 10;");
	conn_table_get_stats(f->t, &st);
	assert_int_equal(st.conns, 1);
	/* the process exits: its closing connections end now */
	conn_table_proc_exit(f->t, PID, 60);
	assert_string_equal(take_log(), "close p 2 60;exit p 100;exit f 100;");
	conn_table_reap(f->t, UINT64_MAX);
	assert_string_equal(take_log(), "");
	/* closed and still in grace when the table goes: ended then */
	feed_out(f, 3, "P3");
	conn_table_close(f->t, 3, 70);
	take_log();
	conn_table_free(f->t);
	f->t = NULL;
	assert_string_equal(take_log(), "close p 3 0;");
}

UNIT_MAIN(NULL, NULL)
