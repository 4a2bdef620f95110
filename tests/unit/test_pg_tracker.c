// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* PostgreSQL tracker: the bytes of client connections and libpq calls in, CLIENT spans out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pg_bytes.h"
#include "protocols/pg.h"
#include "protocols/pg_parser.h"

#define MAX_SPANS 16
#define PID 100
#define TID 7
#define KEY_PID 4242u
#define KEY_SECRET 0xdeadbeefu

struct captured {
	size_t n;
	struct span spans[MAX_SPANS];
};

struct fixture {
	struct captured got;
	struct conn_table *conns;
	struct pg_tracker *t;
	struct conn_meta tcp; /* a client's connection to 127.0.0.1:5432 */
	struct conn_meta unix_sock;
	/* what ops.parent answers for the thread parent_tid */
	uint32_t parent_tid;
	uint8_t parent_trace[16], parent_span[8];
};

/* The span pointer is only valid during the call: keep a copy. */
static void capture_span(void *ctx, const struct span *s)
{
	struct fixture *f = ctx;

	if (f->got.n < MAX_SPANS)
		f->got.spans[f->got.n] = *s;
	f->got.n++;
}

static bool parent(void *ctx, uint32_t pid, uint64_t actor, uint8_t trace_id[16],
		   uint8_t span_id[8])
{
	struct fixture *f = ctx;

	(void)pid;
	if (!f->parent_tid || actor != f->parent_tid)
		return false;
	memcpy(trace_id, f->parent_trace, 16);
	memcpy(span_id, f->parent_span, 8);
	return true;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct pg_tracker_ops ops = { .span = capture_span, .parent = parent };

	if (!f)
		return -1;
	ops.ctx = f;
	f->conns = conn_table_new(16);
	f->t = f->conns ? pg_tracker_new(&ops, f->conns) : NULL;
	f->tcp.pid = PID;
	f->tcp.connected = true;
	strcpy(f->tcp.local_addr, "127.0.0.1");
	f->tcp.local_port = 40000;
	strcpy(f->tcp.remote_addr, "127.0.0.1");
	f->tcp.remote_port = 5432;
	f->unix_sock.pid = PID;
	f->unix_sock.connected = true;
	f->unix_sock.is_unix = true;
	*state = f;
	return f->t ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	conn_table_free(f->conns);
	pg_tracker_free(f->t);
	free(f);
	return 0;
}

/* ---- wire bytes (pg_bytes.h), built the way libpq and the server write them ---- */

/* A typed message: its type byte and a length to fill in by msg_end. */
static size_t msg_begin(struct bytes *b, char type)
{
	size_t at;

	put_u8(b, (uint8_t)type);
	at = b->n;
	put_u32(b, 0);
	return at;
}

/* The length at `at` counts itself and what follows. */
static void msg_end(struct bytes *b, size_t at)
{
	uint32_t len = (uint32_t)(b->n - at);

	b->d[at] = len >> 24;
	b->d[at + 1] = len >> 16;
	b->d[at + 2] = len >> 8;
	b->d[at + 3] = len;
}

/* Messages with no body: Sync, CopyDone, ParseComplete, BindComplete, ... */
static void msg_empty(struct bytes *b, char type)
{
	msg_end(b, msg_begin(b, type));
}

/* ---- frontend ---- */

static void fe_startup(struct bytes *b, const char *user, const char *db)
{
	size_t at = b->n;

	put_u32(b, 0);
	put_u32(b, PG_PROTO_V3);
	put_str(b, "user");
	put_str(b, user);
	if (db) {
		put_str(b, "database");
		put_str(b, db);
	}
	put_str(b, "client_encoding");
	put_str(b, "UTF8");
	put_u8(b, 0);
	msg_end(b, at);
}

static void fe_ssl_request(struct bytes *b)
{
	static const uint8_t req[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f };

	put(b, req, sizeof(req));
}

static void fe_cancel(struct bytes *b, uint32_t pid, uint32_t key)
{
	size_t at = b->n;

	put_u32(b, 0);
	put_u32(b, PG_CODE_CANCEL);
	put_u32(b, pid);
	put_u32(b, key);
	msg_end(b, at);
}

static void fe_query(struct bytes *b, const char *sql)
{
	size_t at = msg_begin(b, 'Q');

	put_str(b, sql);
	msg_end(b, at);
}

static void fe_parse(struct bytes *b, const char *stmt, const char *sql)
{
	size_t at = msg_begin(b, 'P');

	put_str(b, stmt);
	put_str(b, sql);
	put_u16(b, 0); /* no parameter types given */
	msg_end(b, at);
}

/* param: one text parameter's value, NULL for none */
static void fe_bind(struct bytes *b, const char *portal, const char *stmt, const char *param)
{
	size_t at = msg_begin(b, 'B');

	put_str(b, portal);
	put_str(b, stmt);
	put_u16(b, 0); /* parameter formats: all text */
	if (param) {
		put_u16(b, 1);
		put_u32(b, (uint32_t)strlen(param));
		put(b, param, strlen(param));
	} else {
		put_u16(b, 0);
	}
	put_u16(b, 0); /* result formats: all text */
	msg_end(b, at);
}

static void fe_describe_portal(struct bytes *b, const char *portal)
{
	size_t at = msg_begin(b, 'D');

	put_u8(b, 'P');
	put_str(b, portal);
	msg_end(b, at);
}

static void fe_execute(struct bytes *b, const char *portal)
{
	size_t at = msg_begin(b, 'E');

	put_str(b, portal);
	put_u32(b, 0); /* no row limit */
	msg_end(b, at);
}

static void fe_copy_data(struct bytes *b, const char *data)
{
	size_t at = msg_begin(b, 'd');

	put(b, data, strlen(data));
	msg_end(b, at);
}

/* Parse, Bind, Describe, Execute, Sync: PQsendQueryParams, as pgbench -M extended sends it. */
static void fe_extended(struct bytes *b, const char *sql, const char *param)
{
	fe_parse(b, "", sql);
	fe_bind(b, "", "", param);
	fe_describe_portal(b, "");
	fe_execute(b, "");
	msg_empty(b, 'S');
}

/* ---- backend ---- */

static void be_auth_ok(struct bytes *b)
{
	size_t at = msg_begin(b, 'R');

	put_u32(b, 0);
	msg_end(b, at);
}

static void be_param_status(struct bytes *b, const char *name, const char *value)
{
	size_t at = msg_begin(b, 'S');

	put_str(b, name);
	put_str(b, value);
	msg_end(b, at);
}

static void be_key(struct bytes *b, uint32_t pid, uint32_t key)
{
	size_t at = msg_begin(b, 'K');

	put_u32(b, pid);
	put_u32(b, key);
	msg_end(b, at);
}

static void be_ready(struct bytes *b, char status)
{
	size_t at = msg_begin(b, 'Z');

	put_u8(b, (uint8_t)status);
	msg_end(b, at);
}

/* RowDescription of one text column. */
static void be_row_desc(struct bytes *b, const char *col)
{
	size_t at = msg_begin(b, 'T');

	put_u16(b, 1);
	put_str(b, col);
	put_u32(b, 0);	/* table oid */
	put_u16(b, 0);	/* column number */
	put_u32(b, 25); /* text */
	put_u16(b, 0xffff);
	put_u32(b, 0xffffffff);
	put_u16(b, 0);
	msg_end(b, at);
}

/* DataRow of one column. */
static void be_data_row(struct bytes *b, const char *value)
{
	size_t at = msg_begin(b, 'D');

	put_u16(b, 1);
	put_u32(b, (uint32_t)strlen(value));
	put(b, value, strlen(value));
	msg_end(b, at);
}

static void be_complete(struct bytes *b, const char *tag)
{
	size_t at = msg_begin(b, 'C');

	put_str(b, tag);
	msg_end(b, at);
}

static void be_error(struct bytes *b, const char *sqlstate, const char *message)
{
	size_t at = msg_begin(b, 'E');

	put_u8(b, 'S');
	put_str(b, "ERROR");
	put_u8(b, 'V');
	put_str(b, "ERROR");
	put_u8(b, 'C');
	put_str(b, sqlstate);
	put_u8(b, 'M');
	put_str(b, message);
	put_u8(b, 0);
	msg_end(b, at);
}

/* CopyInResponse: text format, one column. */
static void be_copy_in(struct bytes *b)
{
	size_t at = msg_begin(b, 'G');

	put_u8(b, 0);
	put_u16(b, 1);
	put_u16(b, 0);
	msg_end(b, at);
}

/* What the server answers a startup it accepts. */
static void be_hello(struct bytes *b)
{
	be_auth_ok(b);
	be_param_status(b, "server_version", "16.2");
	be_key(b, KEY_PID, KEY_SECRET);
	be_ready(b, 'I');
}

/* ---- feeding the tracker ---- */

/* Bytes of connection conn, through the connection table as the sock decoder hands them over;
 * meta: its ends, known from its opening (NULL: its opening was not seen). */
static void pg_data(struct fixture *f, uint64_t conn, const struct conn_meta *meta, uint32_t pid,
		    uint32_t tid, uint64_t ts, enum conn_dir dir, bool tls, const void *data,
		    size_t len, uint64_t total)
{
	struct conn *c = conn_table_get(f->conns, conn, pid);
	struct conn_data d = { .tid = tid,
			       .ts_ns = ts,
			       .dir = dir,
			       .from_tls = tls,
			       .data = data,
			       .len = len,
			       .total = total };

	if (c && meta && !c->have_meta) {
		struct conn_meta m = *meta;

		m.conn_id = conn;
		m.pid = pid;
		conn_table_open(f->conns, &m);
	}
	conn_table_data(f->conns, conn, pid, &d);
}

static void feed_as(struct fixture *f, uint64_t conn, const struct conn_meta *meta, uint32_t pid,
		    uint32_t tid, uint64_t ts, enum conn_dir dir, bool tls, const struct bytes *b)
{
	pg_data(f, conn, meta, pid, tid, ts, dir, tls, b->d, b->n, b->n);
}

/* Bytes the client (pid PID, thread TID, connection to 127.0.0.1:5432) wrote. */
static void client_wrote(struct fixture *f, uint64_t conn, uint64_t ts, const struct bytes *b)
{
	feed_as(f, conn, &f->tcp, PID, TID, ts, CONN_DIR_OUT, false, b);
}

/* ... and read. */
static void client_read(struct fixture *f, uint64_t conn, uint64_t ts, const struct bytes *b)
{
	feed_as(f, conn, &f->tcp, PID, TID, ts, CONN_DIR_IN, false, b);
}

/* A connection from its start: the startup for database shop and the server's welcome. */
static void connect_shop(struct fixture *f, uint64_t conn, uint64_t ts)
{
	struct bytes b = { .n = 0 };

	fe_startup(&b, "postgres", "shop");
	client_wrote(f, conn, ts, &b);
	b.n = 0;
	be_hello(&b);
	client_read(f, conn, ts + 1, &b);
}

/* A simple query answered with one row of one column and the given tag, then idle. */
static void simple_query(struct fixture *f, uint64_t conn, uint64_t ts, const char *sql,
			 const char *tag)
{
	struct bytes b = { .n = 0 };

	fe_query(&b, sql);
	client_wrote(f, conn, ts, &b);
	b.n = 0;
	be_row_desc(&b, "c");
	be_data_row(&b, "v");
	be_complete(&b, tag);
	be_ready(&b, 'I');
	client_read(f, conn, ts + 10, &b);
}

static struct pg_tracker_stats stats(const struct fixture *f)
{
	struct pg_tracker_stats st;

	pg_tracker_get_stats(f->t, &st);
	return st;
}

/* No attribute and not the name of s carries needle. */
static void assert_nowhere(const struct span *s, const char *needle)
{
	size_t i;

	assert_null(strstr(s->name, needle));
	for (i = 0; i < s->nattrs; i++)
		assert_null(strstr(span_attr_str(s, &s->attrs[i]), needle));
}

/* A libpq event of size bytes (0: as long as BPF sends it, the text up to its NUL). */
static void libpq_call_sized(struct fixture *f, uint32_t tid, uint64_t ts, enum libpq_call call,
			     uint64_t pgconn, const char *name, const char *text, size_t size)
{
	struct libpq_event *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->hdr.type = OBS_EV_LIBPQ;
	e->hdr.pid = PID;
	e->hdr.tid = tid;
	e->hdr.ts_ns = ts;
	e->conn = pgconn;
	e->call = call;
	if (name)
		snprintf(e->name, sizeof(e->name), "%s", name);
	if (text)
		snprintf(e->text, sizeof(e->text), "%s", text);
	if (!size)
		size = LIBPQ_EVENT_HDR + strlen(e->text) + 1;
	assert_int_equal(pg_tracker_libpq(f->t, e, size), 0);
	free(e);
}

static void libpq_call(struct fixture *f, uint32_t tid, uint64_t ts, enum libpq_call call,
		       uint64_t pgconn, const char *name, const char *text)
{
	libpq_call_sized(f, tid, ts, call, pgconn, name, text, 0);
}

/* ---- startup and a simple query ---- */

UNIT_TEST_FIXTURE(test_simple_query_span, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT * FROM users WHERE name = 'bob'");
	client_wrote(f, 1, 1000, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_data_row(&b, "bob");
	be_complete(&b, "SELECT 1");
	client_read(f, 1, 1500, &b);
	assert_int_equal(f->got.n, 0); /* ReadyForQuery ends a simple query */
	b.n = 0;
	be_ready(&b, 'I');
	client_read(f, 1, 1600, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	assert_string_equal(s->name, "SELECT users");
	assert_false(s->error);
	assert_false(s->has_parent);
	assert_int_equal(s->pid, PID);
	assert_int_equal(s->tid, TID);
	assert_int_equal(s->start_ns, 1000);
	assert_int_equal(s->end_ns, 1600);
	assert_string_equal(span_get_str(s, "db.system.name"), "postgresql");
	assert_string_equal(span_get_str(s, "db.namespace"), "shop");
	assert_string_equal(span_get_str(s, "db.operation.name"), "SELECT");
	assert_string_equal(span_get_str(s, "db.collection.name"), "users");
	assert_string_equal(span_get_str(s, "db.query.text"), "SELECT * FROM users WHERE name = ?");
	assert_int_equal(span_get_int(s, "db.response.returned_rows", -1), 1);
	assert_string_equal(span_get_str(s, "server.address"), "127.0.0.1");
	assert_int_equal(span_get_int(s, "server.port", 0), 5432);
	assert_null(span_get(s, "db.response.status_code"));
	assert_null(span_get(s, "error.type"));
	assert_null(span_get(s, "network.transport"));
	assert_null(span_get(s, "db.postgresql.statement.name"));
	assert_nowhere(s, "bob");
	assert_int_equal(stats(f).conns, 1);
	assert_int_equal(stats(f).unpaired, 0);
	assert_int_equal(stats(f).lost, 0);
}

/* Runs prepared statement stmt (Bind, Execute, Sync) and returns its span. */
static const struct span *run_prepared(struct fixture *f, uint64_t ts, const char *stmt)
{
	struct bytes b = { .n = 0 };

	f->got.n = 0;
	fe_bind(&b, "", stmt, "1");
	fe_execute(&b, "");
	msg_empty(&b, 'S');
	client_wrote(f, 1, ts, &b);
	b.n = 0;
	msg_empty(&b, '2');
	be_complete(&b, "DELETE 1");
	be_ready(&b, 'I');
	client_read(f, 1, ts + 10, &b);
	assert_int_equal(f->got.n, 1);
	return &f->got.spans[0];
}

/* Prepares stmt as sql (Parse, Sync). */
static void prepare(struct fixture *f, uint64_t ts, const char *stmt, const char *sql)
{
	struct bytes b = { .n = 0 };

	fe_parse(&b, stmt, sql);
	msg_empty(&b, 'S');
	client_wrote(f, 1, ts, &b);
	b.n = 0;
	msg_empty(&b, '1');
	be_ready(&b, 'I');
	client_read(f, 1, ts + 5, &b);
}

/* A connection remembers its last PG_MAX_STMTS prepared statements: one prepared before those
 * is forgotten (its Execute has no text), each of those keeps its own, and a statement prepared
 * again under its name takes the new text (its entry reused, not doubled). */
UNIT_TEST_FIXTURE(test_prepared_statements_bounded, setup, teardown)
{
	struct fixture *f = *state;
	char stmt[32], sql[64];
	const struct span *s;
	size_t i;

	connect_shop(f, 1, 10);
	for (i = 0; i < PG_MAX_STMTS + 3; i++) {
		snprintf(stmt, sizeof(stmt), "S_%zu", i);
		snprintf(sql, sizeof(sql), "DELETE FROM t%zu WHERE id = $1", i);
		prepare(f, 100 + i * 10, stmt, sql);
	}
	for (i = 0; i < 3; i++) {
		snprintf(stmt, sizeof(stmt), "S_%zu", i);
		s = run_prepared(f, 100000 + i * 100, stmt);
		assert_null(span_get(s, "db.query.text"));
		assert_string_equal(span_get_str(s, "db.postgresql.statement.name"), stmt);
	}
	for (i = 3; i < PG_MAX_STMTS + 3; i++) {
		snprintf(stmt, sizeof(stmt), "S_%zu", i);
		snprintf(sql, sizeof(sql), "DELETE FROM t%zu WHERE id = $1", i);
		s = run_prepared(f, 200000 + i * 100, stmt);
		assert_string_equal(span_get_str(s, "db.query.text"), sql);
	}
	/* again under a name it holds, then the oldest it holds is still there: no entry was
	 * added for the name prepared again */
	prepare(f, 900000, "S_100", "DELETE FROM renamed WHERE id = $1");
	s = run_prepared(f, 900100, "S_100");
	assert_string_equal(span_get_str(s, "db.query.text"), "DELETE FROM renamed WHERE id = $1");
	s = run_prepared(f, 900200, "S_3");
	assert_string_equal(span_get_str(s, "db.query.text"), "DELETE FROM t3 WHERE id = $1");
	assert_int_equal(stats(f).unpaired, 0);
}

/* Statements summarized through the memo of recent redacted texts: one run again with other
 * literals gets the same name, others (more than the memo holds, round after round) their
 * own, and the query text is each one's own, redacted. */
UNIT_TEST_FIXTURE(test_summaries_remembered, setup, teardown)
{
	/* more tables than the memo's 64 entries */
	enum { NTABLES = 80 };
	char tables[NTABLES][8];
	struct fixture *f = *state;
	char sql[128], want[64];
	size_t i, round;

	for (i = 0; i < NTABLES; i++)
		snprintf(tables[i], sizeof(tables[i]), "t%zu", i);
	connect_shop(f, 1, 10);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < NTABLES; i++) {
			const struct span *s;

			snprintf(sql, sizeof(sql), "UPDATE %s SET v = v + %zu WHERE id = %zu",
				 tables[i], round + i, i * 7 + round);
			f->got.n = 0;
			simple_query(f, 1, 1000 + (round * 100 + i) * 100, sql, "UPDATE 1");
			assert_int_equal(f->got.n, 1);
			s = &f->got.spans[0];
			snprintf(want, sizeof(want), "UPDATE %s", tables[i]);
			assert_string_equal(s->name, want);
			assert_string_equal(span_get_str(s, "db.collection.name"), tables[i]);
			snprintf(want, sizeof(want), "UPDATE %s SET v = v + ? WHERE id = ?",
				 tables[i]);
			assert_string_equal(span_get_str(s, "db.query.text"), want);
		}
	}
	/* the same redacted text from another statement shape is not confused with it */
	f->got.n = 0;
	simple_query(f, 1, 900000, "SELECT 1", "SELECT 1");
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "SELECT");
}

/* A statement redaction leaves as it is (parameters, no literal) is redacted once and its text
 * then reused: the same text each run. A statement whose raw text is another's redacted text
 * ('?' is an operator) is still checked once, and one with literals is redacted every time,
 * whatever ran before it. */
UNIT_TEST_FIXTURE(test_clean_statements_remembered, setup, teardown)
{
	static const struct {
		const char *sql, *text, *name;
	} runs[] = {
		{ "UPDATE a SET v = $1 WHERE id = $2", "UPDATE a SET v = $1 WHERE id = $2",
		  "UPDATE a" },
		{ "SELECT 5 FROM b WHERE k = 'secret'", "SELECT ? FROM b WHERE k = ?", "SELECT b" },
		{ "SELECT ? FROM b WHERE k = ?", "SELECT ? FROM b WHERE k = ?", "SELECT b" },
		{ "UPDATE a SET v = $1 WHERE id = $2", "UPDATE a SET v = $1 WHERE id = $2",
		  "UPDATE a" },
		{ "SELECT ? FROM b WHERE k = ?", "SELECT ? FROM b WHERE k = ?", "SELECT b" },
		{ "SELECT 5 FROM b WHERE k = 'secret'", "SELECT ? FROM b WHERE k = ?", "SELECT b" },
		{ "SELECT 5 FROM b WHERE k = 'secret'", "SELECT ? FROM b WHERE k = ?", "SELECT b" },
		{ "BEGIN", "BEGIN", "BEGIN" },
		{ "BEGIN", "BEGIN", "BEGIN" },
	};
	struct fixture *f = *state;
	size_t i;

	connect_shop(f, 1, 10);
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		const struct span *s;

		f->got.n = 0;
		simple_query(f, 1, 1000 + i * 100, runs[i].sql, "SELECT 1");
		assert_int_equal(f->got.n, 1);
		s = &f->got.spans[0];
		assert_string_equal(span_get_str(s, "db.query.text"), runs[i].text);
		assert_string_equal(s->name, runs[i].name);
		assert_nowhere(s, "secret");
	}
}

/* Span names hold the first PG_MAX_COLLECTIONS distinct collections; statements on others are
 * named by their operation alone (and counted), a collection named before keeps its name, and
 * every span still carries its own db.collection.name. */
UNIT_TEST_FIXTURE(test_collections_capped_in_names, setup, teardown)
{
	struct fixture *f = *state;
	char sql[64], want[64];
	size_t i;

	connect_shop(f, 1, 10);
	for (i = 0; i < PG_MAX_COLLECTIONS + 5; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM t%zu WHERE id = 1", i);
		f->got.n = 0;
		simple_query(f, 1, 1000 + i * 100, sql, "SELECT 1");
		assert_int_equal(f->got.n, 1);
		snprintf(want, sizeof(want), "t%zu", i);
		assert_string_equal(span_get_str(&f->got.spans[0], "db.collection.name"), want);
		snprintf(want, sizeof(want), "SELECT t%zu", i);
		assert_string_equal(f->got.spans[0].name, i < PG_MAX_COLLECTIONS ? want : "SELECT");
	}
	assert_int_equal(stats(f).collection_overflows, 5);
	f->got.n = 0;
	simple_query(f, 1, 1000000, "UPDATE t3 SET v = 2", "UPDATE 1");
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "UPDATE t3");
	assert_int_equal(stats(f).collection_overflows, 5);
}

/* ---- extended protocol ---- */

UNIT_TEST_FIXTURE(test_extended_unnamed_statement, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_extended(&b, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", "4711");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	msg_empty(&b, '1');
	msg_empty(&b, '2');
	be_row_desc(&b, "abalance");
	be_data_row(&b, "-3");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	client_read(f, 1, 180, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	assert_false(s->error);
	assert_string_equal(s->name, "SELECT pgbench_accounts");
	assert_string_equal(span_get_str(s, "db.query.text"),
			    "SELECT abalance FROM pgbench_accounts WHERE aid = $1");
	assert_string_equal(span_get_str(s, "db.operation.name"), "SELECT");
	assert_string_equal(span_get_str(s, "db.collection.name"), "pgbench_accounts");
	assert_string_equal(span_get_str(s, "db.namespace"), "shop");
	assert_int_equal(span_get_int(s, "db.response.returned_rows", -1), 1);
	assert_null(span_get(s, "db.postgresql.statement.name")); /* the unnamed statement */
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 180);
	assert_nowhere(s, "4711"); /* a bound parameter is a literal too */
	assert_int_equal(stats(f).unpaired, 0);
}

UNIT_TEST_FIXTURE(test_prepared_statement_reused, setup, teardown)
{
	struct fixture *f = *state;
	const char *sql = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
	struct bytes b = { .n = 0 };
	int i;

	connect_shop(f, 1, 10);
	/* PQprepare: Parse and Sync, answered without running anything */
	fe_parse(&b, "P_0", sql);
	msg_empty(&b, 'S');
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	msg_empty(&b, '1');
	be_ready(&b, 'I');
	client_read(f, 1, 110, &b);
	assert_int_equal(f->got.n, 0);

	for (i = 0; i < 3; i++) {
		b.n = 0;
		fe_bind(&b, "", "P_0", "77");
		fe_describe_portal(&b, "");
		fe_execute(&b, "");
		msg_empty(&b, 'S');
		client_wrote(f, 1, 200 + 100 * i, &b);
		b.n = 0;
		msg_empty(&b, '2');
		msg_empty(&b, 'n'); /* NoData: an UPDATE returns no rows */
		be_complete(&b, "UPDATE 1");
		be_ready(&b, 'I');
		client_read(f, 1, 250 + 100 * i, &b);
	}

	assert_int_equal(f->got.n, 3);
	for (i = 0; i < 3; i++) {
		const struct span *s = &f->got.spans[i];

		assert_string_equal(s->name, "UPDATE pgbench_accounts");
		assert_false(s->error);
		assert_string_equal(span_get_str(s, "db.query.text"), sql);
		assert_string_equal(span_get_str(s, "db.postgresql.statement.name"), "P_0");
		assert_string_equal(span_get_str(s, "db.operation.name"), "UPDATE");
		assert_null(span_get(s, "db.response.returned_rows"));
		assert_int_equal(s->start_ns, 200 + 100 * i);
		assert_int_equal(s->end_ns, 250 + 100 * i);
	}
	assert_int_equal(stats(f).unpaired, 0);
}

/* ---- pipelines ---- */

UNIT_TEST_FIXTURE(test_pipelined_executes_in_order, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };

	connect_shop(f, 1, 10);
	fe_parse(&b, "", "INSERT INTO orders (item) VALUES ($1)");
	fe_bind(&b, "", "", "book");
	fe_execute(&b, "");
	fe_parse(&b, "", "DELETE FROM carts WHERE id = $1");
	fe_bind(&b, "", "", "9");
	fe_execute(&b, "");
	msg_empty(&b, 'S');
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	msg_empty(&b, '1');
	msg_empty(&b, '2');
	be_complete(&b, "INSERT 0 1");
	client_read(f, 1, 130, &b);
	assert_int_equal(f->got.n, 1); /* CommandComplete ends an Execute */
	b.n = 0;
	msg_empty(&b, '1');
	msg_empty(&b, '2');
	be_complete(&b, "DELETE 1");
	be_ready(&b, 'I');
	client_read(f, 1, 160, &b);

	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.spans[0].name, "INSERT orders");
	assert_string_equal(span_get_str(&f->got.spans[0], "db.query.text"),
			    "INSERT INTO orders (item) VALUES ($1)");
	assert_int_equal(f->got.spans[0].start_ns, 100);
	assert_int_equal(f->got.spans[0].end_ns, 130);
	assert_string_equal(f->got.spans[1].name, "DELETE carts");
	assert_string_equal(span_get_str(&f->got.spans[1], "db.query.text"),
			    "DELETE FROM carts WHERE id = $1");
	assert_int_equal(f->got.spans[1].start_ns, 100);
	assert_int_equal(f->got.spans[1].end_ns, 160);
	assert_false(f->got.spans[0].error);
	assert_false(f->got.spans[1].error);
	assert_int_equal(stats(f).unpaired, 0);
}

UNIT_TEST_FIXTURE(test_pipelined_error_skips_rest_of_batch, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_parse(&b, "", "INSERT INTO users (name) VALUES ($1)");
	fe_bind(&b, "", "", "bob");
	fe_execute(&b, "");
	fe_parse(&b, "", "UPDATE stats SET n = n + 1");
	fe_bind(&b, "", "", NULL);
	fe_execute(&b, "");
	msg_empty(&b, 'S');
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	msg_empty(&b, '1');
	msg_empty(&b, '2');
	be_error(&b, "23505", "duplicate key value violates unique constraint \"users_name_key\"");
	client_read(f, 1, 140, &b);
	b.n = 0;
	be_ready(&b, 'I');
	client_read(f, 1, 150, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_true(s->error);
	assert_string_equal(s->name, "INSERT users");
	assert_string_equal(span_get_str(s, "db.response.status_code"), "23505");
	assert_string_equal(span_get_str(s, "error.type"), "23505");
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 140);
	assert_nowhere(s, "bob");

	/* the connection goes on after the Sync */
	simple_query(f, 1, 200, "SELECT 1", "SELECT 1");
	assert_int_equal(f->got.n, 2);
	assert_false(f->got.spans[1].error);
	assert_int_equal(f->got.spans[1].start_ns, 200);
	assert_int_equal(stats(f).unpaired, 0);
}

/* ---- a simple query that fails ---- */

UNIT_TEST_FIXTURE(test_simple_query_error, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_query(&b, "SELEC 1");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	be_error(&b, "42601", "syntax error at or near \"SELEC\"");
	be_ready(&b, 'I');
	client_read(f, 1, 120, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_true(s->error);
	assert_int_equal(s->kind, SPAN_KIND_CLIENT);
	/* a typo names no operation: the span is named after the system, as semconv says */
	assert_string_equal(s->name, "postgresql");
	assert_null(span_get(s, "db.operation.name"));
	assert_string_equal(span_get_str(s, "db.response.status_code"), "42601");
	assert_string_equal(span_get_str(s, "error.type"), "42601");
	assert_string_equal(span_get_str(s, "db.query.text"), "SELEC ?");
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 120);
}

/* ---- an empty query: database/sql's ping (lib/pq sends ";") runs no statement ---- */

UNIT_TEST_FIXTURE(test_empty_query_no_span, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };

	connect_shop(f, 1, 10);
	fe_query(&b, ";");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	msg_end(&b, msg_begin(&b, 'I')); /* EmptyQueryResponse */
	be_ready(&b, 'I');
	client_read(f, 1, 110, &b);
	assert_int_equal(f->got.n, 0);

	/* the next query on the connection is paired as usual */
	b.n = 0;
	fe_query(&b, "SELECT 1");
	client_wrote(f, 1, 200, &b);
	b.n = 0;
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	client_read(f, 1, 210, &b);
	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "SELECT");
	assert_int_equal(f->got.spans[0].start_ns, 200);
}

/* ---- SSL negotiation ---- */

UNIT_TEST_FIXTURE(test_ssl_refused_then_plaintext, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	static const uint8_t no = 'N';

	fe_ssl_request(&b);
	client_wrote(f, 1, 10, &b);
	pg_data(f, 1, &f->tcp, PID, TID, 11, CONN_DIR_IN, false, &no, 1, 1);
	connect_shop(f, 1, 12);
	simple_query(f, 1, 100, "SELECT * FROM users", "SELECT 1");

	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "SELECT users");
	assert_string_equal(span_get_str(&f->got.spans[0], "db.namespace"), "shop");
	assert_int_equal(stats(f).encrypted, 0);
	assert_int_equal(stats(f).lost, 0);
}

/* The start of a TLS ClientHello: what a client sends after 'S'. */
static const uint8_t client_hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01,
					0xfc, 0x03, 0x03, 0x5a, 0x1c, 0x77, 0x20, 0x9e };

UNIT_TEST_FIXTURE(test_ssl_accepted_ciphertext_not_read, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	static const uint8_t yes = 'S';

	fe_ssl_request(&b);
	client_wrote(f, 1, 10, &b);
	pg_data(f, 1, &f->tcp, PID, TID, 11, CONN_DIR_IN, false, &yes, 1, 1);
	/* a driver with its own TLS (Go, Java): the socket's bytes are all there is */
	pg_data(f, 1, &f->tcp, PID, TID, 12, CONN_DIR_OUT, false, client_hello,
		sizeof(client_hello), 517);
	/* even bytes that look like PostgreSQL's are ciphertext now */
	connect_shop(f, 1, 13);
	simple_query(f, 1, 100, "SELECT * FROM users", "SELECT 1");

	assert_int_equal(f->got.n, 0);
	assert_int_equal(stats(f).encrypted, 1);
	assert_int_equal(stats(f).conns, 1);
}

UNIT_TEST_FIXTURE(test_ssl_accepted_plaintext_from_tls_library, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	static const uint8_t yes = 'S';

	fe_ssl_request(&b);
	client_wrote(f, 1, 10, &b);
	pg_data(f, 1, &f->tcp, PID, TID, 11, CONN_DIR_IN, false, &yes, 1, 1);
	/* libssl hands over the plaintext; the ciphertext never reaches the tracker */
	b.n = 0;
	fe_startup(&b, "postgres", "shop");
	feed_as(f, 1, &f->tcp, PID, TID, 12, CONN_DIR_OUT, true, &b);
	b.n = 0;
	be_hello(&b);
	feed_as(f, 1, &f->tcp, PID, TID, 13, CONN_DIR_IN, true, &b);
	b.n = 0;
	fe_query(&b, "SELECT * FROM users");
	feed_as(f, 1, &f->tcp, PID, TID, 100, CONN_DIR_OUT, true, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_data_row(&b, "bob");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	feed_as(f, 1, &f->tcp, PID, TID, 110, CONN_DIR_IN, true, &b);

	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "SELECT users");
	assert_string_equal(span_get_str(&f->got.spans[0], "db.namespace"), "shop");
	assert_int_equal(f->got.spans[0].start_ns, 100);
	assert_int_equal(f->got.spans[0].end_ns, 110);
	assert_int_equal(stats(f).encrypted, 0);
}

UNIT_TEST_FIXTURE(test_gss_accepted_is_encrypted, setup, teardown)
{
	struct fixture *f = *state;
	static const uint8_t gss_request[] = { 0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x30 };
	static const uint8_t yes = 'G';
	static const uint8_t wrapped[] = { 0x00, 0x00, 0x02, 0x5c, 0x60, 0x82, 0x02, 0x58 };

	pg_data(f, 1, &f->tcp, PID, TID, 10, CONN_DIR_OUT, false, gss_request, sizeof(gss_request),
		sizeof(gss_request));
	pg_data(f, 1, &f->tcp, PID, TID, 11, CONN_DIR_IN, false, &yes, 1, 1);
	/* GSSAPI-wrapped packets: no library hands their plaintext over */
	pg_data(f, 1, &f->tcp, PID, TID, 12, CONN_DIR_OUT, false, wrapped, sizeof(wrapped), 608);
	assert_int_equal(f->got.n, 0);
	assert_int_equal(stats(f).encrypted, 1);
	assert_int_equal(stats(f).lost, 0);
}

/* ---- the watched process is the server ---- */

UNIT_TEST_FIXTURE(test_server_end_makes_no_span, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	struct conn_meta m = f->tcp;

	m.accepted = true;
	m.connected = false;
	fe_query(&b, "SELECT * FROM users");
	feed_as(f, 1, &m, PID, TID, 10, CONN_DIR_IN, false, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_data_row(&b, "bob");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	feed_as(f, 1, &m, PID, TID, 20, CONN_DIR_OUT, false, &b);

	assert_int_equal(f->got.n, 0);
	assert_int_equal(stats(f).unpaired, 0);
}

/* The agent started while a query ran: the first bytes seen are the client reading its answer. */
UNIT_TEST_FIXTURE(test_client_seen_first_reading_an_error, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };

	/* an ErrorResponse ('S' field first) reads as an Execute of a portal "SERROR" too */
	be_error(&b, "57014", "canceling statement due to statement timeout");
	be_ready(&b, 'I');
	client_read(f, 1, 100, &b);
	simple_query(f, 1, 200, "SELECT * FROM users", "SELECT 1");
	/* CommandComplete "SET" reads as a Close of statement "ET" too */
	b.n = 0;
	be_complete(&b, "SET");
	be_ready(&b, 'I');
	client_read(f, 2, 100, &b);
	simple_query(f, 2, 300, "SELECT * FROM orders", "SELECT 1");

	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.spans[0].name, "SELECT users");
	assert_int_equal(f->got.spans[0].start_ns, 200);
	assert_string_equal(f->got.spans[1].name, "SELECT orders");
	assert_int_equal(f->got.spans[1].start_ns, 300);
}

/* ---- libpq calls ---- */

UNIT_TEST_FIXTURE(test_libpq_query_joined, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	struct pg_tracker_stats st;

	connect_shop(f, 1, 10);
	libpq_call(f, TID, 1000, LIBPQ_SEND_QUERY, 0x5000, NULL, "SELECT * FROM users");
	fe_query(&b, "SELECT * FROM users");
	client_wrote(f, 1, 1200, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_complete(&b, "SELECT 0");
	be_ready(&b, 'I');
	client_read(f, 1, 1500, &b);

	assert_int_equal(f->got.n, 1);
	assert_int_equal(f->got.spans[0].start_ns, 1000); /* the call began before its bytes left */
	assert_int_equal(f->got.spans[0].end_ns, 1500);
	assert_int_equal(span_get_int(&f->got.spans[0], "db.response.returned_rows", -1), 0);
	st = stats(f);
	assert_int_equal(st.libpq_calls, 1);
	assert_int_equal(st.libpq_joined, 1);
	assert_int_equal(st.libpq_unjoined, 0);
}

UNIT_TEST_FIXTURE(test_libpq_prepared_without_parse, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	/* the agent started after PQprepare: the connection is seen mid-way, Parse never */
	libpq_call(f, TID, 100, LIBPQ_SEND_QUERY_PREPARED, 0x5000, "P_0", NULL);
	fe_bind(&b, "", "P_0", "5");
	fe_describe_portal(&b, "");
	fe_execute(&b, "");
	msg_empty(&b, 'S');
	client_wrote(f, 1, 150, &b);
	b.n = 0;
	msg_empty(&b, '2');
	msg_empty(&b, 'n');
	be_complete(&b, "UPDATE 1");
	be_ready(&b, 'I');
	client_read(f, 1, 200, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_false(s->error);
	assert_string_equal(s->name, "UPDATE");
	assert_string_equal(span_get_str(s, "db.operation.name"), "UPDATE");
	assert_string_equal(span_get_str(s, "db.postgresql.statement.name"), "P_0");
	assert_null(span_get(s, "db.query.text"));
	assert_null(span_get(s, "db.collection.name"));
	assert_null(span_get(s, "db.namespace")); /* the startup was not seen */
	assert_string_equal(span_get_str(s, "server.address"), "127.0.0.1");
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 200);
	assert_int_equal(stats(f).libpq_joined, 1);
}

UNIT_TEST_FIXTURE(test_libpq_unjoined_calls_counted, setup, teardown)
{
	struct fixture *f = *state;
	struct pg_tracker_stats st;
	int i;

	/* TLS not decrypted: the calls' bytes never reach the tracker */
	for (i = 0; i < PG_MAX_CALLS + 1; i++)
		libpq_call(f, TID, 100 + i, LIBPQ_SEND_QUERY, 0x5000, NULL, "SELECT 1");
	st = stats(f);
	assert_int_equal(st.libpq_calls, PG_MAX_CALLS + 1);
	assert_int_equal(st.libpq_joined, 0);
	assert_int_equal(st.libpq_unjoined, 1);
	/* the process ends: its calls waiting for their bytes never get them */
	conn_table_proc_exit(f->conns, PID, 1000);
	st = stats(f);
	assert_int_equal(st.libpq_unjoined, PG_MAX_CALLS + 1);
	assert_int_equal(f->got.n, 0);
}

/* One keyword/value slot of a LIBPQ_CONNECT_START_PARAMS event. */
static void connect_param(struct libpq_event *e, const char *key, const char *value)
{
	char *slot = e->text + e->nparams * LIBPQ_SLOT;

	strncpy(slot, key, LIBPQ_KEY_MAX);
	strncpy(slot + LIBPQ_KEY_MAX, value, LIBPQ_VALUE_MAX);
	e->nparams++;
}

/* Connection 1 over f->unix_sock: a startup for the database shop at 60, the server's hello,
 * then SELECT * FROM users sent at 100 and answered at 110. */
static void unix_select(struct fixture *f)
{
	struct bytes b = { .n = 0 };

	fe_startup(&b, "postgres", "shop");
	feed_as(f, 1, &f->unix_sock, PID, TID, 60, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_hello(&b);
	feed_as(f, 1, &f->unix_sock, PID, TID, 61, CONN_DIR_IN, false, &b);
	b.n = 0;
	fe_query(&b, "SELECT * FROM users");
	feed_as(f, 1, &f->unix_sock, PID, TID, 100, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_complete(&b, "SELECT 0");
	be_ready(&b, 'I');
	feed_as(f, 1, &f->unix_sock, PID, TID, 110, CONN_DIR_IN, false, &b);
}

UNIT_TEST_FIXTURE(test_libpq_connect_params_unix_socket, setup, teardown)
{
	struct fixture *f = *state;
	struct libpq_event *e = calloc(1, sizeof(*e));
	const struct span *s;

	assert_non_null(e);
	e->hdr.type = OBS_EV_LIBPQ;
	e->hdr.pid = PID;
	e->hdr.tid = TID;
	e->hdr.ts_ns = 50;
	e->call = LIBPQ_CONNECT_START_PARAMS;
	connect_param(e, "host", "/tmp/pgdir");
	connect_param(e, "port", "5433");
	connect_param(e, "dbname", "shop");
	connect_param(e, "user", "postgres");
	connect_param(e, "password", ""); /* its value is never read */
	assert_int_equal(pg_tracker_libpq(f->t, e, LIBPQ_EVENT_HDR + e->nparams * LIBPQ_SLOT), 0);
	free(e);

	unix_select(f);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_string_equal(span_get_str(s, "server.address"), "/tmp/pgdir");
	assert_int_equal(span_get_int(s, "server.port", 0), 5433);
	assert_string_equal(span_get_str(s, "network.transport"), "unix");
	assert_string_equal(span_get_str(s, "db.namespace"), "shop");
	assert_int_equal(s->start_ns, 100);
}

struct visit {
	size_t n;
	uint32_t pid[8];
	char pool[8][96];
	bool used[8];
};

static void visit_conn(void *ctx, uint32_t pid, const char *pool, bool used)
{
	struct visit *v = ctx;

	if (v->n < 8) {
		v->pid[v->n] = pid;
		snprintf(v->pool[v->n], sizeof(v->pool[v->n]), "%s", pool);
		v->used[v->n] = used;
	}
	v->n++;
}

UNIT_TEST_FIXTURE(test_libpq_event_sizes, setup, teardown)
{
	struct fixture *f = *state;
	const char *ci = "host=/tmp/x port=6000 dbname=shop";
	struct libpq_event *e = calloc(1, sizeof(*e));
	const struct span *s;

	assert_non_null(e);
	e->hdr.type = OBS_EV_LIBPQ;
	e->call = LIBPQ_SEND_QUERY;
	assert_int_equal(pg_tracker_libpq(f->t, e, LIBPQ_EVENT_HDR - 1), -EINVAL);
	assert_int_equal(pg_tracker_libpq(f->t, e, sizeof(*e) + 1), -EINVAL);
	assert_int_equal(stats(f).libpq_calls, 0);
	free(e);

	/* a conninfo sent up to "port=60", no NUL among its bytes: what follows is not read */
	libpq_call_sized(f, TID, 50, LIBPQ_CONNECT_START, 0, NULL, ci,
			 LIBPQ_EVENT_HDR + strlen("host=/tmp/x port=60"));
	unix_select(f);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_string_equal(span_get_str(s, "server.address"), "/tmp/x");
	assert_int_equal(span_get_int(s, "server.port", 0), 60);
}

UNIT_TEST_FIXTURE(test_libpq_conninfo_namespace, setup, teardown)
{
	struct fixture *f = *state;
	const char *ci = "host=/tmp/x port=6000 dbname='my db' password=secret";
	struct bytes b = { .n = 0 };
	struct visit v = { .n = 0 };
	const struct span *s;

	/* the startup names the database: that is the one the server opened */
	libpq_call(f, TID, 50, LIBPQ_CONNECT_START, 0, NULL, ci);
	fe_startup(&b, "postgres", "shop");
	feed_as(f, 1, &f->unix_sock, PID, TID, 60, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_hello(&b);
	feed_as(f, 1, &f->unix_sock, PID, TID, 61, CONN_DIR_IN, false, &b);

	/* a startup captured only up to its protocol code: the conninfo tells the database */
	libpq_call(f, TID, 70, LIBPQ_CONNECT_START, 0, NULL, ci);
	b.n = 0;
	fe_startup(&b, "postgres", "my db");
	pg_data(f, 2, &f->unix_sock, PID, TID, 80, CONN_DIR_OUT, false, b.d, 8, b.n);
	b.n = 0;
	be_hello(&b);
	feed_as(f, 2, &f->unix_sock, PID, TID, 81, CONN_DIR_IN, false, &b);

	b.n = 0;
	fe_query(&b, "SELECT 1");
	feed_as(f, 1, &f->unix_sock, PID, TID, 100, CONN_DIR_OUT, false, &b);
	feed_as(f, 2, &f->unix_sock, PID, TID, 101, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_row_desc(&b, "?column?");
	be_data_row(&b, "1");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	feed_as(f, 1, &f->unix_sock, PID, TID, 110, CONN_DIR_IN, false, &b);
	feed_as(f, 2, &f->unix_sock, PID, TID, 111, CONN_DIR_IN, false, &b);

	assert_int_equal(f->got.n, 2);
	s = &f->got.spans[0];
	assert_string_equal(span_get_str(s, "db.namespace"), "shop");
	assert_string_equal(span_get_str(s, "server.address"), "/tmp/x");
	assert_int_equal(span_get_int(s, "server.port", 0), 6000);
	assert_string_equal(span_get_str(s, "network.transport"), "unix");
	assert_nowhere(s, "secret");
	s = &f->got.spans[1];
	assert_string_equal(span_get_str(s, "db.namespace"), "my db");
	assert_string_equal(span_get_str(s, "server.address"), "/tmp/x");
	assert_int_equal(span_get_int(s, "server.port", 0), 6000);
	assert_nowhere(s, "secret");
	pg_tracker_visit_conns(f->t, visit_conn, &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(v.pool[0], "/tmp/x:6000");
	assert_string_equal(v.pool[1], "/tmp/x:6000");
}

/* ---- the request a query serves ---- */

UNIT_TEST_FIXTURE(test_thread_parent, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;
	char hex[33];
	int i;

	for (i = 0; i < 16; i++)
		f->parent_trace[i] = (uint8_t)(0xa0 + i);
	for (i = 0; i < 8; i++)
		f->parent_span[i] = (uint8_t)(0x10 + i);
	f->parent_tid = 9;
	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT * FROM users");
	feed_as(f, 1, &f->tcp, PID, 9, 100, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_complete(&b, "SELECT 0");
	be_ready(&b, 'I');
	feed_as(f, 1, &f->tcp, PID, 9, 110, CONN_DIR_IN, false, &b);
	/* another thread serves no request */
	simple_query(f, 1, 200, "SELECT 1", "SELECT 1");

	assert_int_equal(f->got.n, 2);
	s = &f->got.spans[0];
	assert_true(s->has_parent);
	assert_int_equal(s->tid, 9);
	span_hex(s->trace_id, 16, hex);
	assert_string_equal(hex, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
	span_hex(s->parent_id, 8, hex);
	assert_string_equal(hex, "1011121314151617");
	span_hex(s->span_id, 8, hex);
	assert_string_not_equal(hex, "1011121314151617");
	s = &f->got.spans[1];
	assert_false(s->has_parent);
	assert_memory_not_equal(s->trace_id, f->parent_trace, 16);
}

/* ---- bytes cut anyhow ---- */

static void feed_bytewise(struct fixture *f, uint64_t conn, uint64_t ts, enum conn_dir dir,
			  const struct bytes *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		pg_data(f, conn, &f->tcp, PID, TID, ts + i, dir, false, b->d + i, 1, 1);
}

UNIT_TEST_FIXTURE(test_one_byte_feeds, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;
	uint64_t end;

	/* the caller hands over a connection once its first bytes were sniffed: the startup */
	fe_startup(&b, "postgres", "shop");
	client_wrote(f, 1, 10, &b);
	b.n = 0;
	be_hello(&b);
	feed_bytewise(f, 1, 100, CONN_DIR_IN, &b);

	b.n = 0;
	fe_query(&b, "SELECT * FROM users WHERE name = 'bob'");
	feed_bytewise(f, 1, 1000, CONN_DIR_OUT, &b);
	b.n = 0;
	be_row_desc(&b, "name");
	be_data_row(&b, "bob");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	end = 2000 + b.n - 1;
	feed_bytewise(f, 1, 2000, CONN_DIR_IN, &b);
	assert_int_equal(f->got.n, 1);

	b.n = 0;
	fe_extended(&b, "SELECT abalance FROM pgbench_accounts WHERE aid = $1", "1");
	feed_bytewise(f, 1, 3000, CONN_DIR_OUT, &b);
	b.n = 0;
	msg_empty(&b, '1');
	msg_empty(&b, '2');
	be_row_desc(&b, "abalance");
	be_data_row(&b, "0");
	be_complete(&b, "SELECT 1");
	be_ready(&b, 'I');
	feed_bytewise(f, 1, 4000, CONN_DIR_IN, &b);

	assert_int_equal(f->got.n, 2);
	s = &f->got.spans[0];
	assert_string_equal(s->name, "SELECT users");
	assert_string_equal(span_get_str(s, "db.namespace"), "shop");
	assert_string_equal(span_get_str(s, "db.query.text"), "SELECT * FROM users WHERE name = ?");
	assert_int_equal(span_get_int(s, "db.response.returned_rows", -1), 1);
	/* from the query's first byte to the answer's last */
	assert_int_equal(s->start_ns, 1000);
	assert_int_equal(s->end_ns, end);
	s = &f->got.spans[1];
	assert_string_equal(s->name, "SELECT pgbench_accounts");
	assert_int_equal(span_get_int(s, "db.response.returned_rows", -1), 1);
	assert_int_equal(stats(f).lost, 0);
	assert_int_equal(stats(f).unpaired, 0);
}

UNIT_TEST_FIXTURE(test_data_row_gap, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	char *big = malloc(10001);
	size_t row_at;

	assert_non_null(big);
	memset(big, 'x', 10000);
	big[10000] = '\0';
	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT body FROM documents");
	client_wrote(f, 1, 100, &b);
	/* the read moved the description and a big row; the capture kept its first 200 bytes */
	b.n = 0;
	be_row_desc(&b, "body");
	row_at = b.n;
	be_data_row(&b, big);
	pg_data(f, 1, &f->tcp, PID, TID, 110, CONN_DIR_IN, false, b.d, row_at + 200, b.n);
	/* a row larger than what the tracker keeps of a message, all captured */
	b.n = 0;
	be_data_row(&b, big);
	client_read(f, 1, 120, &b);
	b.n = 0;
	be_data_row(&b, "small");
	be_complete(&b, "SELECT 3");
	be_ready(&b, 'I');
	client_read(f, 1, 130, &b);
	free(big);

	assert_int_equal(f->got.n, 1);
	assert_string_equal(f->got.spans[0].name, "SELECT documents");
	assert_int_equal(span_get_int(&f->got.spans[0], "db.response.returned_rows", -1), 3);
	assert_int_equal(f->got.spans[0].start_ns, 100);
	assert_int_equal(f->got.spans[0].end_ns, 130);
	assert_int_equal(stats(f).lost, 0);

	simple_query(f, 1, 200, "SELECT 1", "SELECT 1");
	assert_int_equal(f->got.n, 2);
}

/* A read whose uncaptured bytes held the end of the result: its answer is lost, the next
 * query's answer must not be taken for it. */
UNIT_TEST_FIXTURE(test_lost_answer_does_not_shift_spans, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	char big[3000];
	int i;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT body FROM documents");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	be_row_desc(&b, "body");
	for (i = 0; i < 10; i++)
		be_data_row(&b, big);
	be_complete(&b, "SELECT 10");
	be_ready(&b, 'I');
	pg_data(f, 1, &f->tcp, PID, TID, 110, CONN_DIR_IN, false, b.d, 4096, b.n);
	assert_int_equal(stats(f).lost, 1);

	simple_query(f, 1, 200, "SELECT * FROM users", "SELECT 1");
	simple_query(f, 1, 300, "SELECT * FROM orders", "SELECT 1");
	assert_int_equal(f->got.n, 2);
	assert_string_equal(f->got.spans[0].name, "SELECT users");
	assert_int_equal(f->got.spans[0].start_ns, 200);
	assert_int_equal(f->got.spans[0].end_ns, 210);
	assert_string_equal(f->got.spans[1].name, "SELECT orders");
	assert_int_equal(f->got.spans[1].start_ns, 300);
	assert_int_equal(f->got.spans[1].end_ns, 310);
}

UNIT_TEST_FIXTURE(test_close_mid_query_is_aborted, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	struct pg_tracker_stats st;

	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT pg_sleep(60)");
	client_wrote(f, 1, 100, &b);
	conn_table_close(f->conns, 1, 200);

	assert_int_equal(f->got.n, 0);
	st = stats(f);
	assert_int_equal(st.aborted, 1);
	assert_int_equal(st.conns, 0);
	/* a later connection with the same id starts afresh */
	connect_shop(f, 1, 300);
	simple_query(f, 1, 400, "SELECT 1", "SELECT 1");
	assert_int_equal(f->got.n, 1);
	assert_int_equal(f->got.spans[0].start_ns, 400);
}

UNIT_TEST_FIXTURE(test_proc_exit_frees_everything, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	struct pg_tracker_stats st;

	/* a connection with prepared statements, a named portal and a query in flight */
	connect_shop(f, 1, 10);
	fe_parse(&b, "S_1", "SELECT * FROM users WHERE id = $1");
	fe_parse(&b, "S_2", "DELETE FROM users WHERE id = $1");
	fe_bind(&b, "C_1", "S_1", "1");
	fe_execute(&b, "C_1");
	msg_empty(&b, 'S');
	client_wrote(f, 1, 100, &b);
	/* one idle */
	connect_shop(f, 2, 20);
	simple_query(f, 2, 30, "SELECT 1", "SELECT 1");
	/* libpq calls waiting for their bytes, and a connect */
	libpq_call(f, TID, 150, LIBPQ_SEND_QUERY, 0x5000, NULL, "SELECT 2");
	libpq_call(f, 8, 160, LIBPQ_CONNECT_START, 0, NULL, "host=db port=5432");
	/* another process's connection stays */
	b.n = 0;
	fe_startup(&b, "postgres", "shop");
	feed_as(f, 3, &f->tcp, PID + 1, 11, 40, CONN_DIR_OUT, false, &b);
	assert_int_equal(stats(f).conns, 3);

	conn_table_proc_exit(f->conns, PID, 200);
	st = stats(f);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.aborted, 1);
	assert_int_equal(st.libpq_unjoined, 1);
	assert_int_equal(f->got.n, 1); /* the idle one's query, done before */

	b.n = 0;
	be_hello(&b);
	feed_as(f, 3, &f->tcp, PID + 1, 11, 41, CONN_DIR_IN, false, &b);
	b.n = 0;
	fe_query(&b, "SELECT 1");
	feed_as(f, 3, &f->tcp, PID + 1, 11, 300, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_complete(&b, "SELECT 0");
	be_ready(&b, 'I');
	feed_as(f, 3, &f->tcp, PID + 1, 11, 310, CONN_DIR_IN, false, &b);
	assert_int_equal(f->got.n, 2);
	assert_int_equal(f->got.spans[1].pid, PID + 1);
	conn_table_proc_exit(f->conns, PID + 1, 400);
	assert_int_equal(stats(f).conns, 0);
}

/* ---- connection pool usage ---- */

/* Where the connection of pid is among the visited. */
static size_t visit_index(const struct visit *v, uint32_t pid)
{
	size_t i;

	for (i = 0; i < v->n && i < 8; i++)
		if (v->pid[i] == pid)
			return i;
	fail_msg("no connection of pid %u visited", pid);
	return 0;
}

UNIT_TEST_FIXTURE(test_visit_conns_idle_and_used, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	struct visit v = { .n = 0 };
	struct conn_meta server = f->tcp;
	size_t i;

	/* pid 100: idle; 101: a query in flight; 102: in a transaction, idle */
	connect_shop(f, 1, 10);
	simple_query(f, 1, 20, "SELECT 1", "SELECT 1");
	fe_startup(&b, "postgres", "shop");
	feed_as(f, 2, &f->tcp, PID + 1, TID, 10, CONN_DIR_OUT, false, &b);
	feed_as(f, 3, &f->tcp, PID + 2, TID, 10, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_hello(&b);
	feed_as(f, 2, &f->tcp, PID + 1, TID, 11, CONN_DIR_IN, false, &b);
	feed_as(f, 3, &f->tcp, PID + 2, TID, 11, CONN_DIR_IN, false, &b);
	b.n = 0;
	fe_query(&b, "SELECT pg_sleep(5)");
	feed_as(f, 2, &f->tcp, PID + 1, TID, 20, CONN_DIR_OUT, false, &b);
	b.n = 0;
	fe_query(&b, "BEGIN");
	feed_as(f, 3, &f->tcp, PID + 2, TID, 20, CONN_DIR_OUT, false, &b);
	b.n = 0;
	be_complete(&b, "BEGIN");
	be_ready(&b, 'T');
	feed_as(f, 3, &f->tcp, PID + 2, TID, 21, CONN_DIR_IN, false, &b);
	/* a server's connection is no pool of ours */
	server.pid = PID + 3;
	server.accepted = true;
	b.n = 0;
	fe_query(&b, "SELECT 1");
	feed_as(f, 4, &server, PID + 3, TID, 30, CONN_DIR_IN, false, &b);

	pg_tracker_visit_conns(f->t, visit_conn, &v);
	assert_int_equal(v.n, 3);
	i = visit_index(&v, PID);
	assert_string_equal(v.pool[i], "127.0.0.1:5432");
	assert_false(v.used[i]);
	i = visit_index(&v, PID + 1);
	assert_string_equal(v.pool[i], "127.0.0.1:5432");
	assert_true(v.used[i]);
	i = visit_index(&v, PID + 2);
	assert_string_equal(v.pool[i], "127.0.0.1:5432");
	assert_true(v.used[i]);
}

/* ---- COPY ---- */

UNIT_TEST_FIXTURE(test_copy_from_stdin, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_query(&b, "COPY t FROM STDIN");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	be_copy_in(&b);
	client_read(f, 1, 110, &b);
	b.n = 0;
	fe_copy_data(&b, "1\tbob\n");
	client_wrote(f, 1, 120, &b);
	b.n = 0;
	fe_copy_data(&b, "2\tann\n");
	msg_empty(&b, 'c');
	client_wrote(f, 1, 130, &b);
	b.n = 0;
	be_complete(&b, "COPY 2");
	be_ready(&b, 'I');
	client_read(f, 1, 140, &b);

	assert_int_equal(f->got.n, 1);
	s = &f->got.spans[0];
	assert_string_equal(s->name, "COPY t");
	assert_false(s->error);
	assert_string_equal(span_get_str(s, "db.operation.name"), "COPY");
	assert_string_equal(span_get_str(s, "db.collection.name"), "t");
	assert_string_equal(span_get_str(s, "db.query.text"), "COPY t FROM STDIN");
	assert_null(span_get(s, "db.response.returned_rows"));
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 140);
	assert_nowhere(s, "bob");
	assert_int_equal(stats(f).unpaired, 0);
	assert_int_equal(stats(f).lost, 0);
}

/* ---- CancelRequest ---- */

UNIT_TEST_FIXTURE(test_cancel_request_marks_query, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };
	const struct span *s;

	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT pg_sleep(60)");
	client_wrote(f, 1, 100, &b);
	/* a key that is not this connection's cancels nothing here */
	b.n = 0;
	fe_cancel(&b, KEY_PID, KEY_SECRET + 1);
	client_wrote(f, 2, 150, &b);
	conn_table_close(f->conns, 2, 151);
	/* PQcancel: a new connection that carries the first one's key */
	b.n = 0;
	fe_cancel(&b, KEY_PID, KEY_SECRET);
	feed_as(f, 3, &f->tcp, PID, 8, 200, CONN_DIR_OUT, false, &b);
	conn_table_close(f->conns, 3, 201);
	assert_int_equal(f->got.n, 0);
	b.n = 0;
	be_error(&b, "57014", "canceling statement due to user request");
	be_ready(&b, 'I');
	client_read(f, 1, 210, &b);

	/* the next query was not cancelled */
	simple_query(f, 1, 300, "SELECT 1", "SELECT 1");

	assert_int_equal(f->got.n, 2);
	s = &f->got.spans[0];
	assert_true(s->error);
	assert_string_equal(span_get_str(s, "db.response.status_code"), "57014");
	assert_int_equal(span_get_int(s, "db.postgresql.cancel_requested", 0), 1);
	assert_int_equal(s->start_ns, 100);
	assert_int_equal(s->end_ns, 210);
	s = &f->got.spans[1];
	assert_false(s->error);
	assert_null(span_get(s, "db.postgresql.cancel_requested"));
	assert_int_equal(stats(f).conns, 1);
}

UNIT_TEST_FIXTURE(test_uncancelled_query_has_no_cancel_mark, setup, teardown)
{
	struct fixture *f = *state;
	struct bytes b = { .n = 0 };

	/* a statement timeout is 57014 too, with no CancelRequest */
	connect_shop(f, 1, 10);
	fe_query(&b, "SELECT pg_sleep(60)");
	client_wrote(f, 1, 100, &b);
	b.n = 0;
	be_error(&b, "57014", "canceling statement due to statement timeout");
	be_ready(&b, 'I');
	client_read(f, 1, 210, &b);

	assert_int_equal(f->got.n, 1);
	assert_true(f->got.spans[0].error);
	assert_null(span_get(&f->got.spans[0], "db.postgresql.cancel_requested"));
}

UNIT_MAIN(NULL, NULL)
