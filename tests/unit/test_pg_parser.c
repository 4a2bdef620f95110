// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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
#include "protocols/pg_parser.h"

/* A string literal as bytes and length, embedded NULs included. */
#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A typed message: type byte, a length counting itself, the body. */
static void put_msg(struct bytes *out, char type, const struct bytes *body)
{
	put_u8(out, (uint8_t)type);
	put_u32(out, 4 + (uint32_t)(body ? body->n : 0));
	if (body)
		put(out, body->d, body->n);
}

/* A startup-phase message: length counting itself, the code, the rest. */
static void put_untyped(struct bytes *out, uint32_t code, const struct bytes *rest)
{
	put_u32(out, 8 + (uint32_t)(rest ? rest->n : 0));
	put_u32(out, code);
	if (rest)
		put(out, rest->d, rest->n);
}

static struct bytes *body_new(void)
{
	struct bytes *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	return b;
}

/* NULL leaves a parameter out. */
static void msg_startup(struct bytes *out, const char *user, const char *db, const char *app)
{
	struct bytes *b = body_new();

	if (user) {
		put_str(b, "user");
		put_str(b, user);
	}
	if (db) {
		put_str(b, "database");
		put_str(b, db);
	}
	if (app) {
		put_str(b, "application_name");
		put_str(b, app);
	}
	put_str(b, "client_encoding");
	put_str(b, "UTF8");
	put_u8(b, 0);
	put_untyped(out, PG_PROTO_V3, b);
	free(b);
}

static void msg_cancel(struct bytes *out, uint32_t pid, uint32_t key)
{
	struct bytes *b = body_new();

	put_u32(b, pid);
	put_u32(b, key);
	put_untyped(out, PG_CODE_CANCEL, b);
	free(b);
}

/* Messages with no body: Sync, Flush, Terminate, CopyDone, ParseComplete, ... */
static void msg_empty(struct bytes *out, char type)
{
	put_msg(out, type, NULL);
}

/* Query, CommandComplete, CopyFail: one String. */
static void msg_text(struct bytes *out, char type, const char *s)
{
	struct bytes *b = body_new();

	put_str(b, s);
	put_msg(out, type, b);
	free(b);
}

static void msg_parse(struct bytes *out, const char *stmt, const char *sql, int nparams)
{
	struct bytes *b = body_new();
	int i;

	put_str(b, stmt);
	put_str(b, sql);
	put_u16(b, (uint16_t)nparams);
	for (i = 0; i < nparams; i++)
		put_u32(b, 23); /* int4 */
	put_msg(out, 'P', b);
	free(b);
}

/* One text parameter, as pgbench -M extended/prepared sends them. */
static void msg_bind(struct bytes *out, const char *portal, const char *stmt, const char *param)
{
	struct bytes *b = body_new();

	put_str(b, portal);
	put_str(b, stmt);
	put_u16(b, 0);
	put_u16(b, 1);
	put_u32(b, (uint32_t)strlen(param));
	put(b, param, strlen(param));
	put_u16(b, 0);
	put_msg(out, 'B', b);
	free(b);
}

/* Describe and Close (frontend). */
static void msg_target(struct bytes *out, char type, char what, const char *name)
{
	struct bytes *b = body_new();

	put_u8(b, (uint8_t)what);
	put_str(b, name);
	put_msg(out, type, b);
	free(b);
}

static void msg_execute(struct bytes *out, const char *portal, uint32_t max_rows)
{
	struct bytes *b = body_new();

	put_str(b, portal);
	put_u32(b, max_rows);
	put_msg(out, 'E', b);
	free(b);
}

static void msg_rowdesc(struct bytes *out, const char *col)
{
	struct bytes *b = body_new();

	put_u16(b, 1);
	put_str(b, col);
	put_u32(b, 16390); /* table oid */
	put_u16(b, 3);
	put_u32(b, 23);
	put_u16(b, 4);
	put_u32(b, 0xffffffff);
	put_u16(b, 0);
	put_msg(out, 'T', b);
	free(b);
}

static void msg_datarow(struct bytes *out, const char *val)
{
	struct bytes *b = body_new();

	put_u16(b, 1);
	put_u32(b, (uint32_t)strlen(val));
	put(b, val, strlen(val));
	put_msg(out, 'D', b);
	free(b);
}

static void msg_ready(struct bytes *out, char status)
{
	struct bytes *b = body_new();

	put_u8(b, (uint8_t)status);
	put_msg(out, 'Z', b);
	free(b);
}

static void msg_param(struct bytes *out, const char *name, const char *value)
{
	struct bytes *b = body_new();

	put_str(b, name);
	put_str(b, value);
	put_msg(out, 'S', b);
	free(b);
}

static void msg_key(struct bytes *out, uint32_t pid, uint32_t key)
{
	struct bytes *b = body_new();

	put_u32(b, pid);
	put_u32(b, key);
	put_msg(out, 'K', b);
	free(b);
}

static void msg_auth_ok(struct bytes *out)
{
	struct bytes *b = body_new();

	put_u32(b, 0);
	put_msg(out, 'R', b);
	free(b);
}

/* ErrorResponse/NoticeResponse; NULL leaves a field out. */
static void msg_error(struct bytes *out, char type, const char *sev, const char *vsev,
		      const char *code, const char *text)
{
	struct bytes *b = body_new();

	if (sev) {
		put_u8(b, 'S');
		put_str(b, sev);
	}
	if (vsev) {
		put_u8(b, 'V');
		put_str(b, vsev);
	}
	if (code) {
		put_u8(b, 'C');
		put_str(b, code);
	}
	if (text) {
		put_u8(b, 'M');
		put_str(b, text);
	}
	put_u8(b, 'F');
	put_str(b, "scan.l");
	put_u8(b, 'L');
	put_str(b, "1188");
	put_u8(b, 0);
	put_msg(out, type, b);
	free(b);
}

/* Copy{In,Out}Response: text format, one column. */
static void msg_copy_response(struct bytes *out, char type)
{
	struct bytes *b = body_new();

	put_u8(b, 0);
	put_u16(b, 1);
	put_u16(b, 0);
	put_msg(out, type, b);
	free(b);
}

static void msg_copy_data(struct bytes *out, const char *row)
{
	struct bytes *b = body_new();

	put(b, row, strlen(row));
	put_msg(out, 'd', b);
	free(b);
}

/* What a stream delivered: a log line to compare, and each message to decode. */
#define REC_MAX 64

struct rmsg {
	struct pg_msg m; /* body points into body below */
	uint8_t body[PG_MSG_KEEP];
};

struct rec {
	char log[8192];
	size_t len;
	size_t n;
	struct rmsg msgs[REC_MAX];
};

static void rec_put(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(r->log) - r->len);
	r->len += (size_t)n;
}

static uint32_t fnv32(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static const char *type_name(int type)
{
	static char c[2];

	switch (type) {
	case PG_MSG_STARTUP:
		return "startup";
	case PG_MSG_SSL_REQUEST:
		return "sslreq";
	case PG_MSG_GSS_REQUEST:
		return "gssreq";
	case PG_MSG_CANCEL:
		return "cancel";
	case PG_MSG_SSL_REPLY:
		return "reply";
	}
	c[0] = (char)type;
	return c;
}

/* "Q:9 " for a whole message, "D:100~20 " for one that kept only 20 body bytes. */
static void rec_cb(void *ctx, const struct pg_msg *m)
{
	struct rec *r = ctx;
	struct rmsg *rm;

	assert_true(m->body_len <= m->len);
	assert_true(m->body_len <= PG_MSG_KEEP);
	rec_put(r, "%s:%u", type_name(m->type), m->len);
	if (m->body_len < m->len)
		rec_put(r, "~%zu", m->body_len);
	rec_put(r, " ");
	assert_true(r->n < REC_MAX);
	rm = &r->msgs[r->n++];
	rm->m = *m;
	memcpy(rm->body, m->body, m->body_len);
	rm->m.body = rm->body;
}

/* Also a hash of each body, for comparing runs that cut the bytes differently. */
static void rec_hash_cb(void *ctx, const struct pg_msg *m)
{
	struct rec *r = ctx;

	rec_cb(ctx, m);
	rec_put(r, "#%08x ", fnv32(m->body, m->body_len));
}

static struct rec *rec_new(void)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	return r;
}

static void rec_reset(struct rec *r)
{
	memset(r, 0, sizeof(*r));
}

static struct pg_stream *stream_new(enum pg_dir dir, bool untyped)
{
	struct pg_stream *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	pg_stream_init(s, dir, untyped);
	return s;
}

static size_t feed(struct pg_stream *s, struct rec *r, const struct bytes *b)
{
	return pg_stream_feed(s, b->d, b->n, b->n, rec_cb, r);
}

static size_t feed_part(struct pg_stream *s, struct rec *r, const void *d, size_t len,
			uint64_t total)
{
	return pg_stream_feed(s, d, len, total, rec_cb, r);
}

static const struct pg_msg *rec_msg(const struct rec *r, size_t i)
{
	assert_true(i < r->n);
	return &r->msgs[i].m;
}

static void expect_log(const struct rec *r, const char *log)
{
	if (strcmp(r->log, log))
		fail_msg("got \"%s\", want \"%s\"", r->log, log);
}

UNIT_TEST(test_startup)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, true);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_startup st;
	uint32_t pid, key;
	char status;

	(void)state;
	msg_startup(b, "bench", "pgbench", "pgbench");
	msg_text(b, 'Q', "BEGIN");
	assert_int_equal(feed(fe, r, b), 2);
	assert_true(r->log[0] == 's');
	assert_int_equal(pg_decode_startup(rec_msg(r, 0), &st), 0);
	assert_int_equal(st.protocol, PG_PROTO_V3);
	assert_string_equal(st.user, "bench");
	assert_string_equal(st.database, "pgbench");
	assert_string_equal(st.application, "pgbench");
	assert_int_equal(rec_msg(r, 1)->type, 'Q');
	assert_false(fe->untyped);
	assert_int_equal(fe->stats.messages, 2);

	/* database defaults to user, as the server does it. */
	rec_reset(r);
	b->n = 0;
	msg_startup(b, "alice", NULL, NULL);
	pg_stream_init(fe, PG_FRONTEND, true);
	assert_int_equal(feed(fe, r, b), 1);
	assert_int_equal(pg_decode_startup(rec_msg(r, 0), &st), 0);
	assert_string_equal(st.user, "alice");
	assert_string_equal(st.database, "alice");
	assert_string_equal(st.application, "");
	rec_reset(r);
	b->n = 0;
	msg_startup(b, "bob", "", "psql");
	pg_stream_init(fe, PG_FRONTEND, true);
	feed(fe, r, b);
	assert_int_equal(pg_decode_startup(rec_msg(r, 0), &st), 0);
	assert_string_equal(st.database, "bob");
	assert_string_equal(st.application, "psql");

	/* The backend's side of the startup. */
	rec_reset(r);
	b->n = 0;
	msg_auth_ok(b);
	msg_param(b, "server_version", "16.4");
	msg_param(b, "application_name", "pgbench");
	msg_key(b, 4242, 0xdeadbeef);
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 5);
	expect_log(r, "R:4 S:20 S:25 K:8 Z:1 ");
	assert_int_equal(pg_decode_key(rec_msg(r, 3), &pid, &key), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(key, 0xdeadbeef);
	assert_int_equal(pg_decode_ready(rec_msg(r, 4), &status), 0);
	assert_int_equal(status, 'I');
	assert_int_equal(be->stats.lost, 0);

	/* Names longer than PG_NAME_MAX are cut and stay NUL-terminated. */
	{
		char longname[200];

		memset(longname, 'u', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		rec_reset(r);
		b->n = 0;
		msg_startup(b, longname, NULL, longname);
		pg_stream_init(fe, PG_FRONTEND, true);
		feed(fe, r, b);
		assert_int_equal(pg_decode_startup(rec_msg(r, 0), &st), 0);
		assert_int_equal(strlen(st.user), PG_NAME_MAX - 1);
		assert_int_equal(strlen(st.database), PG_NAME_MAX - 1);
		assert_int_equal(strlen(st.application), PG_NAME_MAX - 1);
	}
	free(b);
	free(r);
	free(fe);
	free(be);
}

UNIT_TEST(test_ssl_refused)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, true);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_startup st;

	(void)state;
	put_untyped(b, PG_CODE_SSL, NULL);
	assert_int_equal(feed(fe, r, b), 1);
	expect_log(r, "sslreq:4 ");
	assert_true(fe->untyped); /* a startup-phase message comes next, whatever the answer */

	/* The tracker tells the backend stream; the answer is one byte, no length. */
	pg_stream_expect_ssl_reply(be);
	rec_reset(r);
	assert_int_equal(feed_part(be, r, "N", 1, 1), 1);
	expect_log(r, "reply:1 ");
	assert_int_equal(rec_msg(r, 0)->body[0], 'N');
	assert_false(be->ssl_reply);

	rec_reset(r);
	b->n = 0;
	msg_startup(b, "postgres", "app", NULL);
	msg_empty(b, 'X');
	assert_int_equal(feed(fe, r, b), 2);
	assert_int_equal(rec_msg(r, 0)->type, PG_MSG_STARTUP);
	assert_int_equal(pg_decode_startup(rec_msg(r, 0), &st), 0);
	assert_string_equal(st.database, "app");
	assert_int_equal(rec_msg(r, 1)->type, 'X');

	/* An 'N' followed by more in the same capture: the rest is typed again. */
	rec_reset(r);
	pg_stream_init(be, PG_BACKEND, false);
	pg_stream_expect_ssl_reply(be);
	b->n = 0;
	put_u8(b, 'N');
	msg_auth_ok(b);
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 3);
	expect_log(r, "reply:1 R:4 Z:1 ");

	/* Without the tracker's word, a lone 'N' is the start of a NoticeResponse. */
	rec_reset(r);
	pg_stream_init(be, PG_BACKEND, false);
	assert_int_equal(feed_part(be, r, "N", 1, 1), 0);
	assert_int_equal(be->hdr_len, 1);
	free(b);
	free(r);
	free(fe);
	free(be);
}

UNIT_TEST(test_ssl_accepted)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, true);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();

	(void)state;
	/* libpq with gssencmode=prefer: GSSENC refused, then SSL accepted. */
	put_untyped(b, PG_CODE_GSSENC, NULL);
	assert_int_equal(feed(fe, r, b), 1);
	pg_stream_expect_ssl_reply(be);
	assert_int_equal(feed_part(be, r, "N", 1, 1), 1);
	b->n = 0;
	put_untyped(b, PG_CODE_SSL, NULL);
	assert_int_equal(feed(fe, r, b), 1);
	pg_stream_expect_ssl_reply(be);
	assert_int_equal(feed_part(be, r, "S", 1, 1), 1);
	/* What follows comes decrypted from the TLS library: a StartupMessage, then typed. */
	b->n = 0;
	msg_startup(b, "u", "d", NULL);
	msg_text(b, 'Q', "SELECT 1");
	assert_int_equal(feed(fe, r, b), 2);
	b->n = 0;
	msg_auth_ok(b);
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 2);
	expect_log(r, "gssreq:4 reply:1 sslreq:4 reply:1 startup:44 Q:9 R:4 Z:1 ");
	assert_int_equal(rec_msg(r, 3)->body[0], 'S');
	assert_int_equal(fe->stats.lost + be->stats.lost, 0);

	/* A server too old for SSLRequest answers with an ErrorResponse instead. */
	rec_reset(r);
	pg_stream_init(be, PG_BACKEND, false);
	pg_stream_expect_ssl_reply(be);
	b->n = 0;
	msg_error(b, 'E', "FATAL", NULL, "08P01", "unsupported frontend protocol");
	assert_int_equal(feed(be, r, b), 1);
	assert_int_equal(rec_msg(r, 0)->type, 'E');
	assert_false(be->ssl_reply);
	free(b);
	free(r);
	free(fe);
	free(be);
}

UNIT_TEST(test_cancel)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, true);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	uint32_t pid, key;

	(void)state;
	msg_cancel(b, 31337, 0x01020304);
	assert_int_equal(feed(fe, r, b), 1);
	expect_log(r, "cancel:12 ");
	assert_false(fe->untyped);
	assert_int_equal(pg_decode_key(rec_msg(r, 0), &pid, &key), 0);
	assert_int_equal(pid, 31337);
	assert_int_equal(key, 0x01020304);
	/* The request code is not a key: the startup message cannot be read as one. */
	assert_int_equal(pg_decode_startup(rec_msg(r, 0), &(struct pg_startup){ 0 }), -1);
	free(b);
	free(r);
	free(fe);
}

UNIT_TEST(test_simple_query)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_complete c;
	char sql[PG_SQL_MAX], status;
	bool cut = true;

	(void)state;
	msg_text(b, 'Q', "SELECT 1");
	assert_int_equal(feed(fe, r, b), 1);
	assert_int_equal(pg_decode_query(rec_msg(r, 0), sql, sizeof(sql), &cut), 0);
	assert_string_equal(sql, "SELECT 1");
	assert_false(cut);

	b->n = 0;
	msg_rowdesc(b, "?column?");
	msg_datarow(b, "1");
	msg_text(b, 'C', "SELECT 1");
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 4);
	expect_log(r, "Q:9 T:29 D:7 C:9 Z:1 ");
	assert_int_equal(pg_decode_complete(rec_msg(r, 3), &c), 0);
	assert_string_equal(c.tag, "SELECT 1");
	assert_string_equal(c.verb, "SELECT");
	assert_int_equal(c.rows, 1);
	assert_int_equal(pg_decode_ready(rec_msg(r, 4), &status), 0);
	assert_int_equal(status, 'I');

	/* SQL longer than the caller's buffer is cut, and says so. */
	rec_reset(r);
	assert_int_equal(pg_decode_query(NULL, sql, sizeof(sql), &cut), -1);
	b->n = 0;
	msg_text(b, 'Q', "SELECT 12345");
	feed(fe, r, b);
	assert_int_equal(pg_decode_query(rec_msg(r, 0), sql, 7, &cut), 0);
	assert_string_equal(sql, "SELECT");
	assert_true(cut);
	assert_int_equal(pg_decode_query(rec_msg(r, 0), sql, sizeof(sql), NULL), 0);
	assert_string_equal(sql, "SELECT 12345");
	free(b);
	free(r);
	free(fe);
	free(be);
}

static const char pgbench_sql[] = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;";

/* pgbench -M extended, the select-only script: one feed each way. */
UNIT_TEST(test_extended)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	char portal[PG_NAME_MAX], stmt[PG_NAME_MAX], what;
	struct pg_parse p;
	struct pg_complete c;
	uint32_t rows;

	(void)state;
	msg_parse(b, "", pgbench_sql, 1);
	msg_bind(b, "", "", "74233");
	msg_target(b, 'D', 'P', "");
	msg_execute(b, "", 0);
	msg_empty(b, 'S');
	assert_int_equal(feed(fe, r, b), 5);
	expect_log(r, "P:61 B:17 D:2 E:5 S:0 ");
	assert_int_equal(pg_decode_parse(rec_msg(r, 0), &p), 0);
	assert_string_equal(p.stmt, "");
	assert_string_equal(p.sql, pgbench_sql);
	assert_false(p.cut);
	assert_int_equal(pg_decode_bind(rec_msg(r, 1), portal, stmt), 0);
	assert_string_equal(portal, "");
	assert_string_equal(stmt, "");
	assert_int_equal(pg_decode_target(rec_msg(r, 2), &what, portal), 0);
	assert_int_equal(what, 'P');
	assert_string_equal(portal, "");
	assert_int_equal(pg_decode_execute(rec_msg(r, 3), portal, &rows), 0);
	assert_int_equal(rows, 0);

	rec_reset(r);
	b->n = 0;
	msg_empty(b, '1');
	msg_empty(b, '2');
	msg_rowdesc(b, "abalance");
	msg_datarow(b, "0");
	msg_text(b, 'C', "SELECT 1");
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 6);
	expect_log(r, "1:0 2:0 T:29 D:7 C:9 Z:1 ");
	assert_int_equal(pg_decode_complete(rec_msg(r, 4), &c), 0);
	assert_int_equal(c.rows, 1);
	assert_int_equal(be->stats.messages, 6);
	free(b);
	free(r);
	free(fe);
	free(be);
}

/* pgbench -M prepared: Parse names the statement once, later Binds refer to it. */
UNIT_TEST(test_prepared)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	char portal[PG_NAME_MAX], stmt[PG_NAME_MAX], what, name[PG_NAME_MAX];
	struct pg_parse p;
	uint32_t rows;

	(void)state;
	msg_parse(b, "P0_1", pgbench_sql, 1);
	msg_bind(b, "", "P0_1", "1");
	msg_execute(b, "", 0);
	msg_empty(b, 'S');
	assert_int_equal(feed(fe, r, b), 4);
	assert_int_equal(pg_decode_parse(rec_msg(r, 0), &p), 0);
	assert_string_equal(p.stmt, "P0_1");
	assert_string_equal(p.sql, pgbench_sql);

	b->n = 0;
	msg_bind(b, "c1", "P0_1", "99");
	msg_execute(b, "c1", 10);
	msg_target(b, 'C', 'S', "P0_1");
	msg_empty(b, 'S');
	assert_int_equal(feed(fe, r, b), 4);
	expect_log(r, "P:65 B:17 E:5 S:0 B:20 E:7 C:6 S:0 ");
	assert_int_equal(pg_decode_bind(rec_msg(r, 4), portal, stmt), 0);
	assert_string_equal(portal, "c1");
	assert_string_equal(stmt, "P0_1");
	assert_int_equal(pg_decode_execute(rec_msg(r, 5), portal, &rows), 0);
	assert_string_equal(portal, "c1");
	assert_int_equal(rows, 10);
	assert_int_equal(pg_decode_target(rec_msg(r, 6), &what, name), 0);
	assert_int_equal(what, 'S');
	assert_string_equal(name, "P0_1");

	/* The parameter's bytes are never copied out of the message. */
	assert_null(memmem(stmt, sizeof(stmt), "99", 2));
	assert_null(memmem(portal, sizeof(portal), "99", 2));
	free(b);
	free(r);
	free(fe);
}

/* Two Parse/Bind/Execute before one Sync; the backend answers each in order. */
UNIT_TEST(test_pipelined)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_parse p;
	struct pg_complete c;

	(void)state;
	msg_parse(b, "", "INSERT INTO t VALUES ($1)", 1);
	msg_bind(b, "", "", "1");
	msg_execute(b, "", 0);
	msg_parse(b, "", "UPDATE t SET a = $1", 1);
	msg_bind(b, "", "", "2");
	msg_execute(b, "", 0);
	msg_empty(b, 'S');
	assert_int_equal(feed(fe, r, b), 7);
	assert_int_equal(pg_decode_parse(rec_msg(r, 3), &p), 0);
	assert_string_equal(p.sql, "UPDATE t SET a = $1");

	rec_reset(r);
	b->n = 0;
	msg_empty(b, '1');
	msg_empty(b, '2');
	msg_text(b, 'C', "INSERT 0 1");
	msg_empty(b, '1');
	msg_empty(b, '2');
	msg_text(b, 'C', "UPDATE 3");
	msg_ready(b, 'T');
	assert_int_equal(feed(be, r, b), 7);
	expect_log(r, "1:0 2:0 C:11 1:0 2:0 C:9 Z:1 ");
	assert_int_equal(pg_decode_complete(rec_msg(r, 2), &c), 0);
	assert_string_equal(c.verb, "INSERT");
	assert_int_equal(c.rows, 1);
	assert_int_equal(pg_decode_complete(rec_msg(r, 5), &c), 0);
	assert_string_equal(c.verb, "UPDATE");
	assert_int_equal(c.rows, 3);
	free(b);
	free(r);
	free(fe);
	free(be);
}

UNIT_TEST(test_complete_tags)
{
	static const struct {
		const char *tag, *verb;
		int64_t rows;
	} cases[] = {
		{ "INSERT 0 1", "INSERT", 1 },
		{ "SELECT 5", "SELECT", 5 },
		{ "UPDATE 3", "UPDATE", 3 },
		{ "DELETE 0", "DELETE", 0 },
		{ "COPY 2", "COPY", 2 },
		{ "MERGE 12", "MERGE", 12 },
		{ "BEGIN", "BEGIN", -1 },
		{ "CREATE TABLE", "CREATE", -1 },
		{ "SELECT 9223372036854775807", "SELECT", INT64_MAX },
		{ "SELECT 9223372036854775808", "SELECT", -1 },
		{ "SELECT 1x", "SELECT", -1 },
		{ "SELECT ", "SELECT", -1 },
		{ "", "", -1 },
		/* The verb is cut to 31 characters; the count is still read. */
		{ "VERBWITHMORETHANTHIRTYTWOLETTERS 7", "VERBWITHMORETHANTHIRTYTWOLETTER", 7 },
	};
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_complete c;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		msg_text(b, 'C', cases[i].tag);
	assert_int_equal(feed(be, r, b), ARRAY_SIZE(cases));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(pg_decode_complete(rec_msg(r, i), &c), 0);
		assert_string_equal(c.verb, cases[i].verb);
		if (c.rows != cases[i].rows)
			fail_msg("\"%s\": rows %lld", cases[i].tag, (long long)c.rows);
		assert_int_equal(strncmp(c.tag, cases[i].tag, sizeof(c.tag) - 1), 0);
	}
	free(b);
	free(r);
	free(be);
}

UNIT_TEST(test_errors)
{
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_error e;

	(void)state;
	msg_error(b, 'E', "ERROR", "ERROR", "42601", "syntax error at or near \"SELEC\"");
	msg_ready(b, 'I');
	/* A localised server: 'V' wins over 'S', in either order. */
	msg_error(b, 'E', "FEHLER", "ERROR", "23505",
		  "doppelter Schlüsselwert verletzt Unique-Constraint");
	msg_error(b, 'E', NULL, "ERROR", NULL, NULL);
	/* Before 9.6 there is no 'V'. */
	msg_error(b, 'E', "FATAL", NULL, "28P01", "password authentication failed");
	/* A malformed SQLSTATE is left out rather than exported. */
	msg_error(b, 'E', "ERROR", NULL, "4260", "short code");
	msg_error(b, 'N', "HINWEIS", "NOTICE", "42P07", "relation \"t\" already exists, skipping");
	msg_ready(b, 'E');
	assert_int_equal(feed(be, r, b), 8);
	assert_int_equal(be->stats.lost, 0);

	assert_int_equal(pg_decode_error(rec_msg(r, 0), &e), 0);
	assert_string_equal(e.severity, "ERROR");
	assert_string_equal(e.sqlstate, "42601");
	assert_string_equal(e.message, "syntax error at or near \"SELEC\"");
	assert_int_equal(pg_decode_error(rec_msg(r, 2), &e), 0);
	assert_string_equal(e.severity, "ERROR");
	assert_string_equal(e.sqlstate, "23505");
	assert_int_equal(pg_decode_error(rec_msg(r, 3), &e), 0);
	assert_string_equal(e.severity, "ERROR");
	assert_string_equal(e.sqlstate, "");
	assert_string_equal(e.message, "");
	assert_int_equal(pg_decode_error(rec_msg(r, 4), &e), 0);
	assert_string_equal(e.severity, "FATAL");
	assert_string_equal(e.sqlstate, "28P01");
	assert_int_equal(pg_decode_error(rec_msg(r, 5), &e), 0);
	assert_string_equal(e.sqlstate, "");
	assert_string_equal(e.message, "short code");
	assert_int_equal(pg_decode_error(rec_msg(r, 6), &e), 0);
	assert_int_equal(rec_msg(r, 6)->type, 'N');
	assert_string_equal(e.severity, "NOTICE");
	assert_string_equal(e.sqlstate, "42P07");
	assert_string_equal(e.message, "relation \"t\" already exists, skipping");

	/* 'V' after 'S' as well as before it. */
	{
		struct pg_msg m = { .type = 'E' };
		static const uint8_t vs[] = "VERROR\0SFEHLER\0C42601\0\0";

		m.body = vs;
		m.len = m.body_len = sizeof(vs) - 1;
		assert_int_equal(pg_decode_error(&m, &e), 0);
		assert_string_equal(e.severity, "ERROR");
		/* Nothing at all: -1. */
		m.len = m.body_len = 1;
		m.body = (const uint8_t *)"";
		assert_int_equal(pg_decode_error(&m, &e), -1);
	}

	/* A long message is cut to PG_ERRMSG_MAX. */
	{
		char msg[1000];

		memset(msg, 'm', sizeof(msg) - 1);
		msg[sizeof(msg) - 1] = '\0';
		rec_reset(r);
		b->n = 0;
		msg_error(b, 'E', "ERROR", "ERROR", "XX000", msg);
		feed(be, r, b);
		assert_int_equal(pg_decode_error(rec_msg(r, 0), &e), 0);
		assert_int_equal(strlen(e.message), PG_ERRMSG_MAX - 1);
		assert_string_equal(e.sqlstate, "XX000");
	}
	free(b);
	free(r);
	free(be);
}

UNIT_TEST(test_copy)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();
	struct pg_complete c;

	(void)state;
	/* COPY FROM STDIN: the server asks (G), the client sends rows (d) and ends (c). */
	msg_text(b, 'Q', "COPY t FROM STDIN");
	assert_int_equal(feed(fe, r, b), 1);
	b->n = 0;
	msg_copy_response(b, 'G');
	assert_int_equal(feed(be, r, b), 1);
	b->n = 0;
	msg_copy_data(b, "1\tone\n");
	msg_copy_data(b, "2\ttwo\n");
	msg_empty(b, 'c');
	assert_int_equal(feed(fe, r, b), 3);
	b->n = 0;
	msg_text(b, 'C', "COPY 2");
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 2);
	expect_log(r, "Q:18 G:5 d:6 d:6 c:0 C:7 Z:1 ");
	assert_int_equal(pg_decode_complete(rec_msg(r, 5), &c), 0);
	assert_int_equal(c.rows, 2);

	/* COPY TO STDOUT: the server sends H, rows, c; a client's CopyFail ('f') in between. */
	rec_reset(r);
	b->n = 0;
	msg_copy_response(b, 'H');
	msg_copy_data(b, "1\tone\n");
	msg_empty(b, 'c');
	msg_text(b, 'C', "COPY 1");
	msg_ready(b, 'I');
	msg_copy_response(b, 'W');
	assert_int_equal(feed(be, r, b), 6);
	expect_log(r, "H:5 d:6 c:0 C:7 Z:1 W:5 ");
	b->n = 0;
	msg_text(b, 'f', "client gave up");
	msg_text(b, 'p', "secret");
	msg_empty(b, 'H');
	msg_empty(b, 'X');
	assert_int_equal(feed(fe, r, b), 4);
	assert_int_equal(fe->stats.lost + be->stats.lost, 0);
	free(b);
	free(r);
	free(fe);
	free(be);
}

/* A connection's two directions from its first byte, as representative bytes to cut. */
static void build_session(struct bytes *fe, struct bytes *be)
{
	put_untyped(fe, PG_CODE_SSL, NULL);
	msg_startup(fe, "bench", "pgbench", "pgbench");
	msg_text(fe, 'p', "SCRAM-SHA-256");
	msg_parse(fe, "P0_1", pgbench_sql, 1);
	msg_bind(fe, "", "P0_1", "74233");
	msg_target(fe, 'D', 'P', "");
	msg_execute(fe, "", 0);
	msg_empty(fe, 'S');
	msg_text(fe, 'Q', "BEGIN;");
	msg_empty(fe, 'X');

	put_u8(be, 'N');
	msg_auth_ok(be);
	msg_param(be, "server_version", "16.4");
	msg_key(be, 77, 88);
	msg_ready(be, 'I');
	msg_empty(be, '1');
	msg_empty(be, '2');
	msg_rowdesc(be, "abalance");
	msg_datarow(be, "-4711");
	msg_text(be, 'C', "SELECT 1");
	msg_ready(be, 'I');
	msg_error(be, 'N', "WARNING", "WARNING", "01000", "a notice");
	msg_text(be, 'C', "BEGIN");
	msg_ready(be, 'T');
}

static void start(struct pg_stream *s, enum pg_dir dir, struct rec *r)
{
	rec_reset(r);
	pg_stream_init(s, dir, true);
	if (dir == PG_BACKEND)
		pg_stream_expect_ssl_reply(s);
}

static void feed_hash(struct pg_stream *s, struct rec *r, const uint8_t *d, size_t n)
{
	pg_stream_feed(s, d, n, n, rec_hash_cb, r);
}

/* Wherever the bytes are cut, the same messages come out, in the same order. */
UNIT_TEST(test_every_split)
{
	struct bytes *dirs[2] = { body_new(), body_new() };
	struct pg_stream *s = stream_new(PG_FRONTEND, true);
	struct rec *r = rec_new();
	char *want = malloc(sizeof(r->log));
	size_t i, k, want_n;
	int d;

	(void)state;
	assert_non_null(want);
	build_session(dirs[PG_FRONTEND], dirs[PG_BACKEND]);
	for (d = PG_FRONTEND; d <= PG_BACKEND; d++) {
		const struct bytes *b = dirs[d];

		start(s, d, r);
		feed_hash(s, r, b->d, b->n);
		want_n = r->n;
		assert_int_equal(want_n, d == PG_FRONTEND ? 10 : 14);
		assert_int_equal(s->stats.lost, 0);
		memcpy(want, r->log, sizeof(r->log));

		start(s, d, r);
		for (i = 0; i < b->n; i++)
			feed_hash(s, r, b->d + i, 1);
		if (strcmp(r->log, want))
			fail_msg("one byte at a time: %s", r->log);

		for (k = 0; k <= b->n; k++) {
			start(s, d, r);
			feed_hash(s, r, b->d, k);
			feed_hash(s, r, b->d + k, b->n - k);
			if (strcmp(r->log, want))
				fail_msg("dir %d split at %zu: %s", d, k, r->log);
			assert_int_equal(s->stats.messages, want_n);
			assert_int_equal(s->stats.lost, 0);
			assert_int_equal(s->hdr_len, 0);
			assert_int_equal(s->type, 0);
		}
		for (k = 2; k <= 17; k++) {
			start(s, d, r);
			for (i = 0; i < b->n; i += k)
				feed_hash(s, r, b->d + i, b->n - i < k ? b->n - i : k);
			if (strcmp(r->log, want))
				fail_msg("dir %d feeds of %zu: %s", d, k, r->log);
		}
	}
	free(want);
	free(dirs[0]);
	free(dirs[1]);
	free(r);
	free(s);
}

/* Uncaptured bytes inside a body: the message comes out cut, the stream keeps its sync. */
UNIT_TEST(test_gap_in_body)
{
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new(), *row = body_new();
	struct rec *r = rec_new();
	char big[1000];
	size_t cap;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	msg_rowdesc(b, "v");
	msg_datarow(row, big); /* 1 + 4 + 2 + 4 + 999 bytes */
	cap = b->n + 20;
	put(b, row->d, row->n);
	/* The capture stopped 20 bytes into the DataRow; the rest of it moved uncaptured. */
	assert_int_equal(feed_part(be, r, b->d, cap, b->n), 2);
	expect_log(r, "T:22 D:1005~15 ");
	assert_memory_equal(rec_msg(r, 1)->body, row->d + 5, 15);
	assert_false(be->lost);

	b->n = 0;
	msg_text(b, 'C', "SELECT 1");
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 2);
	expect_log(r, "T:22 D:1005~15 C:9 Z:1 ");

	/* A header at the end of the capture, its whole body uncaptured. */
	assert_int_equal(feed_part(be, r, row->d, 5, row->n), 1);
	expect_log(r, "T:22 D:1005~15 C:9 Z:1 D:1005~0 ");
	/* The gap covers part of the body; the next feeds carry on in it, then a gap ends it. */
	assert_int_equal(feed_part(be, r, row->d, 10, 100), 0);
	assert_int_equal(feed_part(be, r, row->d + 100, 100, 200), 0);
	assert_int_equal(feed_part(be, r, row->d + 300, 10, row->n - 300), 1);
	expect_log(r, "T:22 D:1005~15 C:9 Z:1 D:1005~0 D:1005~115 ");
	assert_int_equal(be->stats.lost, 0);
	assert_int_equal(be->stats.messages, 6);

	/* Nothing captured at all, the gap exactly a whole body. */
	assert_int_equal(feed_part(be, r, row->d, 5, 5), 0);
	assert_int_equal(feed_part(be, r, NULL, 0, row->n - 5), 1);
	assert_false(be->lost);
	free(b);
	free(row);
	free(r);
	free(be);
}

UNIT_TEST(test_gap_past_message)
{
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct bytes *b = body_new(), *tail = body_new();
	struct rec *r = rec_new();

	(void)state;
	msg_datarow(b, "hello world");
	msg_text(b, 'C', "SELECT 1");
	msg_ready(b, 'I');
	/* 8 bytes of the DataRow captured; the gap runs through C and Z: sync is gone. */
	assert_int_equal(feed_part(be, r, b->d, 8, b->n), 1);
	expect_log(r, "D:17~3 ");
	assert_true(be->lost);
	assert_int_equal(be->stats.lost, 1);

	/* A feed that starts inside some message: skipped, not counted as another loss. */
	assert_int_equal(feed_part(be, r, b->d + 3, 10, 10), 0);
	assert_true(be->lost);
	assert_int_equal(be->stats.lost, 1);
	assert_int_equal(be->stats.resync, 0);

	/* A feed that starts with a plausible header: parsing restarts there. */
	assert_int_equal(feed(be, r, b), 3);
	expect_log(r, "D:17~3 D:17 C:9 Z:1 ");
	assert_false(be->lost);
	assert_int_equal(be->stats.resync, 1);

	/* Lost again; then a fully captured write that ends in ReadyForQuery. */
	assert_int_equal(feed_part(be, r, b->d, 2, 1000), 0);
	assert_int_equal(be->stats.lost, 2);
	put(tail, b->d + 7, b->n - 7); /* starts mid-DataRow */
	assert_int_equal(feed_part(be, r, tail->d, tail->n, tail->n + 1), 0);
	assert_true(be->lost); /* not fully captured: its end cannot be trusted */
	assert_int_equal(feed(be, r, tail), 1);
	expect_log(r, "D:17~3 D:17 C:9 Z:1 Z:1 ");
	assert_false(be->lost);
	assert_int_equal(be->stats.resync, 2);
	assert_int_equal(rec_msg(r, 4)->body[0], 'I');
	assert_int_equal(feed(be, r, b), 3);

	/* Only the backend ends its writes with ReadyForQuery. */
	assert_int_equal(feed_part(fe, r, LIT("Q\0\0"), 1000), 0);
	assert_true(fe->lost);
	assert_int_equal(feed(fe, r, tail), 0);
	assert_true(fe->lost);

	/* A gap where a header would start loses sync too, even with nothing in progress. */
	pg_stream_init(be, PG_BACKEND, false);
	rec_reset(r);
	assert_int_equal(feed_part(be, r, b->d, b->n, b->n + 1), 3);
	assert_true(be->lost);
	assert_int_equal(be->stats.lost, 1);
	/* ... and a gap inside a header. */
	pg_stream_init(be, PG_BACKEND, false);
	assert_int_equal(feed_part(be, r, b->d, 3, b->n), 0);
	assert_true(be->lost);
	free(b);
	free(tail);
	free(r);
	free(be);
	free(fe);
}

/* Lengths and types no peer sends: sync is lost once, nothing is read out of bounds. */
UNIT_TEST(test_lying_lengths)
{
	static const struct {
		enum pg_dir dir;
		bool untyped;
		const uint8_t *d;
		size_t n;
	} cases[] = {
		{ PG_BACKEND, false, LIT("D\0\0\0\x03xyz") },
		{ PG_BACKEND, false, LIT("D\0\0\0\0") },
		{ PG_BACKEND, false, LIT("D\x40\0\0\x01") }, /* PG_MSG_MAX + 1 */
		{ PG_BACKEND, false, LIT("D\xff\xff\xff\xff") },
		{ PG_BACKEND, false, LIT("x\0\0\0\x04") },
		{ PG_BACKEND, false, LIT("Q\0\0\0\x05\0") }, /* a frontend type */
		{ PG_FRONTEND, false, LIT("Z\0\0\0\x05I") }, /* a backend type */
		{ PG_FRONTEND, false, LIT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") },
		{ PG_FRONTEND, false, LIT("GET / HTTP/1.1\r\n") },
		{ PG_FRONTEND, true, LIT("\0\0\0\x07\0\x03\0\0") },
		{ PG_FRONTEND, true, LIT("\0\0\x27\x11\0\x03\0\0") },	  /* 10001 */
		{ PG_FRONTEND, true, LIT("\0\0\0\x09\x04\xd2\x16\x2f") }, /* SSL, length 9 */
		{ PG_FRONTEND, true, LIT("\0\0\0\x0c\x04\xd2\x16\x2e") }, /* cancel, length 12 */
		{ PG_FRONTEND, true, LIT("\0\0\0\x10\0\x02\0\0") },	  /* protocol 2 */
		{ PG_FRONTEND, true, LIT("\x16\x03\x01\x02\x00\x01\x00\x01") },
	};
	struct pg_stream *s = stream_new(PG_FRONTEND, false);
	struct rec *r = rec_new();
	uint8_t junk[64];
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pg_stream_init(s, cases[i].dir, cases[i].untyped);
		rec_reset(r);
		/* Bytes in a malloc'd block of their size: ASan sees any read past them. */
		{
			uint8_t *d = malloc(cases[i].n);

			assert_non_null(d);
			memcpy(d, cases[i].d, cases[i].n);
			assert_int_equal(feed_part(s, r, d, cases[i].n, cases[i].n), 0);
			free(d);
		}
		if (!s->lost)
			fail_msg("case %zu kept its sync", i);
		for (j = 0; j < sizeof(junk); j++)
			junk[j] = (uint8_t)(j * 37 + 1) | 0x80;
		feed_part(s, r, junk, sizeof(junk), sizeof(junk));
		feed_part(s, r, junk, sizeof(junk), 1 << 20);
		assert_int_equal(s->stats.lost, 1);
		assert_int_equal(s->stats.messages, 0);
	}

	/* The unknown type is seen at its first byte, before the length arrives. */
	pg_stream_init(s, PG_BACKEND, false);
	feed_part(s, r, LIT("x"), 1);
	assert_true(s->lost);
	/* A bad length split across feeds is still one loss. */
	pg_stream_init(s, PG_BACKEND, false);
	feed_part(s, r, LIT("D\0"), 2);
	assert_false(s->lost);
	feed_part(s, r, LIT("\0\0\x02zz"), 5);
	assert_true(s->lost);
	assert_int_equal(s->stats.lost, 1);
	free(r);
	free(s);
}

UNIT_TEST(test_keep_limit)
{
	struct pg_stream *be = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new(), *row = body_new();
	struct rec *r = rec_new();
	size_t i;

	(void)state;
	for (i = 0; i < 10000; i++)
		put_u8(row, (uint8_t)i);
	put_msg(b, 'd', row);
	msg_ready(b, 'I');
	assert_int_equal(feed(be, r, b), 2);
	expect_log(r, "d:10000~4096 Z:1 ");
	assert_int_equal(rec_msg(r, 0)->body_len, PG_MSG_KEEP);
	assert_memory_equal(rec_msg(r, 0)->body, row->d, PG_MSG_KEEP);

	/* The same, one byte at a time. */
	rec_reset(r);
	for (i = 0; i < b->n; i++)
		feed_part(be, r, b->d + i, 1, 1);
	expect_log(r, "d:10000~4096 Z:1 ");
	assert_memory_equal(rec_msg(r, 0)->body, row->d, PG_MSG_KEEP);
	assert_int_equal(be->stats.lost, 0);
	free(b);
	free(row);
	free(r);
	free(be);
}

UNIT_TEST(test_expect_startup)
{
	struct pg_stream *fe = stream_new(PG_FRONTEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();

	(void)state;
	/* Told by the tracker that the client starts over with a startup message. */
	pg_stream_expect_startup(fe);
	assert_true(fe->untyped);
	msg_startup(b, "u", NULL, NULL);
	msg_empty(b, 'S');
	assert_int_equal(feed(fe, r, b), 2);
	assert_false(fe->untyped);

	/* A lost frontend stream that expects a startup message resyncs on one. */
	rec_reset(r);
	pg_stream_init(fe, PG_FRONTEND, true);
	feed_part(fe, r, LIT("\0\0\0\x05\0\x03\0\0"), 8);
	assert_true(fe->lost);
	pg_stream_expect_startup(fe);
	assert_int_equal(feed(fe, r, b), 2);
	assert_int_equal(fe->stats.resync, 1);

	/* The backend takes no notice of either call meant for the frontend. */
	pg_stream_init(fe, PG_BACKEND, true);
	assert_false(fe->untyped);
	pg_stream_expect_startup(fe);
	assert_false(fe->untyped);
	pg_stream_init(fe, PG_FRONTEND, false);
	pg_stream_expect_ssl_reply(fe);
	assert_false(fe->ssl_reply);
	free(b);
	free(r);
	free(fe);
}

UNIT_TEST(test_bad_input)
{
	struct pg_stream *s = stream_new(PG_BACKEND, false);
	struct bytes *b = body_new();
	struct rec *r = rec_new();

	(void)state;
	assert_int_equal(pg_stream_feed(NULL, LIT("Z\0\0\0\x05I"), 6, rec_cb, r), 0);
	pg_stream_init(NULL, PG_BACKEND, false);
	pg_stream_expect_ssl_reply(NULL);
	pg_stream_expect_startup(NULL);
	/* No callback: messages are still counted. */
	msg_ready(b, 'I');
	assert_int_equal(pg_stream_feed(s, b->d, b->n, b->n, NULL, NULL), 1);
	assert_int_equal(s->stats.messages, 1);
	/* total < len counts as total == len. */
	assert_int_equal(pg_stream_feed(s, b->d, b->n, 2, rec_cb, r), 1);
	assert_false(s->lost);
	/* Empty feeds change nothing. */
	assert_int_equal(pg_stream_feed(s, NULL, 0, 0, rec_cb, r), 0);
	assert_int_equal(pg_stream_feed(s, b->d, 0, 0, rec_cb, r), 0);
	assert_false(s->lost);
	assert_false(pg_sniff_frontend(NULL, 10));
	assert_false(pg_sniff_backend(NULL, 10));
	free(b);
	free(r);
	free(s);
}

/* One decoder call on a body of exactly n bytes; strings must be terminated in any case. */
typedef int (*decode_fn)(const struct pg_msg *m);

static struct {
	struct pg_startup st;
	char sql[PG_SQL_MAX];
	bool cut;
	struct pg_parse p;
	char portal[PG_NAME_MAX], stmt[PG_NAME_MAX], what;
	uint32_t rows, pid, key;
	struct pg_complete c;
	struct pg_error e;
	char status;
} out;

static void check_str(const char *s, size_t size)
{
	assert_non_null(memchr(s, '\0', size));
}

static int d_startup(const struct pg_msg *m)
{
	int rc = pg_decode_startup(m, &out.st);

	check_str(out.st.user, sizeof(out.st.user));
	check_str(out.st.database, sizeof(out.st.database));
	check_str(out.st.application, sizeof(out.st.application));
	return rc;
}

static int d_query(const struct pg_msg *m)
{
	int rc = pg_decode_query(m, out.sql, sizeof(out.sql), &out.cut);

	check_str(out.sql, sizeof(out.sql));
	return rc;
}

static int d_parse(const struct pg_msg *m)
{
	int rc = pg_decode_parse(m, &out.p);

	check_str(out.p.stmt, sizeof(out.p.stmt));
	check_str(out.p.sql, sizeof(out.p.sql));
	return rc;
}

static int d_bind(const struct pg_msg *m)
{
	int rc = pg_decode_bind(m, out.portal, out.stmt);

	check_str(out.portal, sizeof(out.portal));
	check_str(out.stmt, sizeof(out.stmt));
	return rc;
}

static int d_execute(const struct pg_msg *m)
{
	int rc = pg_decode_execute(m, out.portal, &out.rows);

	check_str(out.portal, sizeof(out.portal));
	return rc;
}

static int d_target(const struct pg_msg *m)
{
	int rc = pg_decode_target(m, &out.what, out.portal);

	check_str(out.portal, sizeof(out.portal));
	return rc;
}

static int d_complete(const struct pg_msg *m)
{
	int rc = pg_decode_complete(m, &out.c);

	check_str(out.c.tag, sizeof(out.c.tag));
	check_str(out.c.verb, sizeof(out.c.verb));
	assert_true(out.c.rows >= -1);
	return rc;
}

static int d_error(const struct pg_msg *m)
{
	int rc = pg_decode_error(m, &out.e);

	check_str(out.e.severity, sizeof(out.e.severity));
	check_str(out.e.sqlstate, sizeof(out.e.sqlstate));
	check_str(out.e.message, sizeof(out.e.message));
	assert_true(strlen(out.e.sqlstate) == 0 || strlen(out.e.sqlstate) == 5);
	return rc;
}

static int d_ready(const struct pg_msg *m)
{
	return pg_decode_ready(m, &out.status);
}

static int d_key(const struct pg_msg *m)
{
	return pg_decode_key(m, &out.pid, &out.key);
}

/*
 * Each decoder on every prefix of a real message: the prefix lives in a malloc'd block of its
 * own size, so ASan catches a read past body_len. want_at: the shortest prefix that decodes.
 */
static void every_prefix(const struct bytes *wire, size_t hdr, int type, decode_fn fn, int want_at,
			 const char *name)
{
	size_t blen = wire->n - hdr, k;
	struct pg_msg m = { .type = type, .len = (uint32_t)blen };
	int rc;

	for (k = 0; k <= blen; k++) {
		uint8_t *body = malloc(k ? k : 1);

		assert_non_null(body);
		memcpy(body, wire->d + hdr, k);
		m.body = body;
		m.body_len = k;
		rc = fn(&m);
		assert_true(rc == 0 || rc == -1);
		if (k < (size_t)want_at && rc != -1)
			fail_msg("%s: %zu bytes of %zu decoded", name, k, blen);
		if (k >= (size_t)want_at && rc != 0)
			fail_msg("%s: %zu bytes of %zu not decoded", name, k, blen);
		free(body);
	}
	/* The wrong type is refused, even with the right bytes. */
	m.type = 'x';
	m.body = wire->d + hdr;
	m.body_len = blen;
	assert_int_equal(fn(&m), -1);
	/* A body_len beyond len is not believed. */
	m.type = type;
	m.len = 0;
	assert_int_equal(fn(&m), -1);
	/* Leaves the whole message's result in out. */
	m.len = (uint32_t)blen;
	assert_int_equal(fn(&m), 0);
}

UNIT_TEST(test_decode_truncated)
{
	struct bytes *b = body_new();

	(void)state;
	/* Decoded from the code on: a cut user list is still a startup. */
	msg_startup(b, "bench", "pgbench", "app");
	every_prefix(b, 4, PG_MSG_STARTUP, d_startup, 4, "startup");
	assert_string_equal(out.st.user, "bench");
	assert_string_equal(out.st.database, "pgbench");
	b->n = 0;
	/* The query is text at any length, cut unless its NUL is there. */
	msg_text(b, 'Q', "SELECT 1");
	every_prefix(b, 5, 'Q', d_query, 0, "query");
	assert_string_equal(out.sql, "SELECT 1");
	assert_false(out.cut);
	b->n = 0;
	/* Parse needs its statement name whole: "P0_1\0" is 5 bytes. */
	msg_parse(b, "P0_1", "SELECT $1", 1);
	every_prefix(b, 5, 'P', d_parse, 5, "parse");
	assert_string_equal(out.p.sql, "SELECT $1");
	assert_false(out.p.cut);
	b->n = 0;
	msg_bind(b, "c1", "P0_1", "42");
	every_prefix(b, 5, 'B', d_bind, 8, "bind");
	assert_string_equal(out.stmt, "P0_1");
	b->n = 0;
	msg_execute(b, "c1", 7);
	every_prefix(b, 5, 'E', d_execute, 7, "execute");
	assert_int_equal(out.rows, 7);
	b->n = 0;
	msg_target(b, 'D', 'S', "P0_1");
	every_prefix(b, 5, 'D', d_target, 6, "describe");
	assert_int_equal(out.what, 'S');
	b->n = 0;
	msg_target(b, 'C', 'P', "c1");
	every_prefix(b, 5, 'C', d_target, 4, "close");
	b->n = 0;
	msg_text(b, 'C', "INSERT 0 1");
	every_prefix(b, 5, 'C', d_complete, 11, "complete");
	assert_int_equal(out.c.rows, 1);
	b->n = 0;
	/* The first field is read once its NUL is there: 'S' "ERROR\0" is 7 bytes. */
	msg_error(b, 'E', "ERROR", "ERROR", "23505", "duplicate key");
	every_prefix(b, 5, 'E', d_error, 7, "error");
	assert_string_equal(out.e.sqlstate, "23505");
	b->n = 0;
	msg_error(b, 'N', NULL, NULL, NULL, "notice");
	/* A message field counts from its first byte. */
	every_prefix(b, 5, 'N', d_error, 2, "notice");
	assert_string_equal(out.e.message, "notice");
	b->n = 0;
	msg_ready(b, 'T');
	every_prefix(b, 5, 'Z', d_ready, 1, "ready");
	assert_int_equal(out.status, 'T');
	b->n = 0;
	msg_key(b, 1, 2);
	every_prefix(b, 5, 'K', d_key, 8, "key");
	assert_int_equal(out.key, 2);
	b->n = 0;
	msg_cancel(b, 3, 4);
	every_prefix(b, 4, PG_MSG_CANCEL, d_key, 12, "cancel");
	assert_int_equal(out.pid, 3);

	/* What a cut body decodes to. */
	{
		struct pg_msg m = { .type = 'Q', .len = 100 };

		m.body = (const uint8_t *)"SELECT * FR";
		m.body_len = 11;
		assert_int_equal(d_query(&m), 0);
		assert_string_equal(out.sql, "SELECT * FR");
		assert_true(out.cut);
		m.type = 'P';
		m.body = (const uint8_t *)"s1\0SELECT * FR";
		m.body_len = 14;
		assert_int_equal(d_parse(&m), 0);
		assert_string_equal(out.p.stmt, "s1");
		assert_string_equal(out.p.sql, "SELECT * FR");
		assert_true(out.p.cut);
		m.type = 'E';
		m.body = (const uint8_t *)"SERROR\0VERR";
		m.body_len = 11;
		assert_int_equal(d_error(&m), 0);
		assert_string_equal(out.e.severity, "ERROR");
		m.body = (const uint8_t *)"SERROR\0C4260";
		m.body_len = 12;
		assert_int_equal(d_error(&m), 0);
		assert_string_equal(out.e.sqlstate, "");
		m.body = (const uint8_t *)"SERROR\0Msyntax err";
		m.body_len = 18;
		assert_int_equal(d_error(&m), 0);
		assert_string_equal(out.e.message, "syntax err");
		m.type = 'Z';
		m.body = (const uint8_t *)"X";
		m.body_len = m.len = 1;
		assert_int_equal(d_ready(&m), -1);
		m.type = 'D';
		m.body = (const uint8_t *)"Xname";
		m.body_len = m.len = 6;
		assert_int_equal(d_target(&m), -1);
		/* NULL outputs are refused. */
		assert_int_equal(pg_decode_startup(&m, NULL), -1);
		assert_int_equal(pg_decode_query(&m, NULL, 10, NULL), -1);
		assert_int_equal(pg_decode_bind(&m, NULL, out.stmt), -1);
		assert_int_equal(pg_decode_key(NULL, &out.pid, &out.key), -1);
	}

	/* SQL longer than PG_SQL_MAX is cut to it, and flagged. */
	{
		static char sql[5000];
		struct pg_msg m = { .type = 'P' };

		memset(sql, 'a', sizeof(sql) - 1);
		b->n = 0;
		msg_parse(b, "", sql, 0);
		m.body = b->d + 5;
		m.len = (uint32_t)(b->n - 5);
		m.body_len = m.len;
		assert_int_equal(d_parse(&m), 0);
		assert_int_equal(strlen(out.p.sql), PG_SQL_MAX - 1);
		assert_true(out.p.cut);
	}
	free(b);
}

UNIT_TEST(test_sniff)
{
	static const struct {
		const uint8_t *d;
		size_t n;
	} fe_yes[] = {
		{ LIT("\0\0\0\x08\x04\xd2\x16\x2f") },		   /* SSLRequest */
		{ LIT("\0\0\0\x08\x04\xd2\x16\x30") },		   /* GSSENCRequest */
		{ LIT("\0\0\0\x10\x04\xd2\x16\x2e\0\0\x01\x02") }, /* CancelRequest */
		{ LIT("\0\0\0\x29\0\x03\0\0user\0bench\0databa") },
		{ LIT("\0\0\0\x08\0\x03\0\x02") },
		{ LIT("Q\0\0\0\x0eSELECT 1;\0") },
		{ LIT("Q\0\0\0\x0d\n  select") },
		{ LIT("Q\0\0\0\x05\0") },
		{ LIT("P\0\0\0\x2bP0_1\0SELECT") },
		{ LIT("P\0\0\0\x2b\0SELECT ab") },
		{ LIT("B\0\0\0\x13\0P0_1\0\0\0\0\x01") },
		{ LIT("E\0\0\0\x09\0\0\0\0\0") },
		{ LIT("S\0\0\0\x04") },
		{ LIT("X\0\0\0\x04") },
		{ LIT("D\0\0\0\x06P\0") },
		{ LIT("p\0\0\0\x0bsecret\0") },
	};
	static const struct {
		const uint8_t *d;
		size_t n;
	} fe_no[] = {
		{ LIT("GET / HTTP/1.1\r\n") },
		{ LIT("HTTP/1.1 200 OK\r\n") },
		{ LIT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") },
		{ LIT("\x17\x03\x03\x00\x20") },
		{ LIT("hello\n") },
		{ LIT("SSH-2.0-OpenSSH_9.2") },
		{ LIT("PRI * HTTP/2.0\r\n") },
		{ LIT("Q\0\0\0\x03") },
		{ LIT("Q\0\0\0\x04") },
		{ LIT("Q\0\0\0\x0dSEL\0CT 1;\0") },
		{ LIT("Q\0\0\0\x0d\x01\x02\x03") },
		{ LIT("Q\x40\0\0\x01SELECT") },
		{ LIT("P\0\0\0\x2b\x01\x02") },
		{ LIT("S\0\0\0\x05\0") },
		{ LIT("D\0\0\0\x06X\0") },
		{ LIT("Z\0\0\0\x05I") },
		{ LIT("Q\0\0\0") }, /* not a whole header */
		{ LIT("\0\0\0\x09\x04\xd2\x16\x2f") },
		{ LIT("\0\0\0\x07\0\x03\0\0") },
		{ LIT("\0\0\x27\x11\0\x03\0\0") },
		{ LIT("\0\0\0\x20\0\x02\0\0") },
		{ LIT("\0\0\0\x29\0\x03\0\0us\x01r\0") },
		{ LIT("") },
	};
	static const struct {
		const uint8_t *d;
		size_t n;
	} be_yes[] = {
		{ LIT("R\0\0\0\x08\0\0\0\0") },
		{ LIT("R\0\0\0\x17\0\0\0\x0aSCRAM-SHA-256\0\0") },
		{ LIT("S\0\0\0\x18server_version\0") },
		{ LIT("K\0\0\0\x0c\0\0\x10\x92\x12\x34") },
		{ LIT("Z\0\0\0\x05I") },
		{ LIT("Z\0\0\0\x05") },
		{ LIT("E\0\0\0\x40SERROR\0VERROR\0") },
		{ LIT("N\0\0\0\x40SNOTICE\0") },
		{ LIT("C\0\0\0\x0fINSERT 0 1\0") },
		{ LIT("1\0\0\0\x04") },
		{ LIT("2\0\0\0\x04") },
		{ LIT("T\0\0\0\x21\0\x01"
		      "abalance\0") },
		{ LIT("D\0\0\0\x0b\0\x01\0\0\0\x01\x31") },
		{ LIT("G\0\0\0\x07\0\0\0") },
		{ LIT("v\0\0\0\x0c\0\0\0\x02\0\0\0\0") },
	};
	static const struct {
		const uint8_t *d;
		size_t n;
	} be_no[] = {
		{ LIT("GET / HTTP/1.1\r\n") },
		{ LIT("HTTP/1.1 200 OK\r\n") },
		{ LIT("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") },
		{ LIT("\x16\x03\x03\x00\x7a\x02\x00\x00\x76") },
		{ LIT("hello\n") },
		{ LIT("N") },
		{ LIT("S") },
		{ LIT("G") },
		{ LIT("Error: x\n") },
		{ LIT("Z\0\0\0\x06I\0") },
		{ LIT("Z\0\0\0\x05X") },
		{ LIT("R\0\0\0\x04") },
		{ LIT("R\0\0\x27\x11") },
		{ LIT("S\0\0\0\x16\x01\x02") },
		{ LIT("S\0\0\0\x16\0x") },
		{ LIT("E\0\0\0\x40Xoops") },
		{ LIT("C\0\0\0\x0dinsert 0 1\0") },
		{ LIT("1\0\0\0\x05") },
		{ LIT("Q\0\0\0\x0dSELECT 1;\0") },
		{ LIT("D\x40\0\0\x01") },
		{ LIT("D\0\0\0\x03") },
		{ LIT("\0\0\0\x08\x04\xd2\x16\x2f") },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fe_yes); i++)
		if (!pg_sniff_frontend(fe_yes[i].d, fe_yes[i].n))
			fail_msg("frontend yes %zu", i);
	for (i = 0; i < ARRAY_SIZE(fe_no); i++)
		if (pg_sniff_frontend(fe_no[i].d, fe_no[i].n))
			fail_msg("frontend no %zu", i);
	for (i = 0; i < ARRAY_SIZE(be_yes); i++)
		if (!pg_sniff_backend(be_yes[i].d, be_yes[i].n))
			fail_msg("backend yes %zu", i);
	for (i = 0; i < ARRAY_SIZE(be_no); i++)
		if (pg_sniff_backend(be_no[i].d, be_no[i].n))
			fail_msg("backend no %zu", i);

	/* Real sessions start the way the sniffers expect. */
	{
		struct bytes *fe = body_new(), *be = body_new();

		build_session(fe, be);
		assert_true(pg_sniff_frontend(fe->d, fe->n));
		assert_true(pg_sniff_backend(be->d + 1, be->n - 1)); /* after the SSL reply */
		free(fe);
		free(be);
	}
}

UNIT_MAIN(NULL, NULL)
