// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/pg.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/pg_parser.h"
#include "protocols/sql.h"
#include "pipeline/route.h"
#include "pipeline/semconv.h"
#include "util/hash.h"
#include "util/str.h"

#define TID_BUCKETS 1024
#define PG_SPARE_OPS 4 /* ops kept per connection for reuse */
/* The summary memo: a text's hash picks one of SUM_MEMO_SETS sets of SUM_MEMO_WAYS entries
 * (~2 KiB each, an entry's pages resident only once used). pgbench's script alone has 13
 * redacted texts ("+ ?" and "+ -?" differ), more than the 8 entries this had in one set. */
#define SUM_MEMO_SETS 16
#define SUM_MEMO_WAYS 4
#define POOL_MAX (CONN_ADDR_MAX + 16)

enum op_kind {
	OP_SIMPLE,  /* 'Q': one span, ended by ReadyForQuery */
	OP_PARSE,   /* 'P': no span unless it fails with no Execute after it */
	OP_EXECUTE, /* 'E': one span, ended by CommandComplete (or what stands for it) */
	OP_SYNC,    /* 'S': ends an extended-query batch at ReadyForQuery */
};

/* A message awaiting its answer. */
struct pg_op {
	struct pg_op *next;
	enum op_kind kind;
	uint32_t tid;
	uint64_t start_ns;
	bool error, cancel;
	bool empty; /* an empty query (a driver's ping, ";"): no statement ran, no span */
	bool has_parent;
	uint8_t trace_id[16], parent_id[8];
	int64_t rows;
	char verb[32]; /* of the CommandComplete tag */
	char sqlstate[6];
	/* last, and only their first bytes set by op_push() */
	char stmt[PG_NAME_MAX]; /* the prepared statement it runs, "" for the unnamed one */
	char sql[PG_SQL_MAX];
};

/* A prepared statement or a portal: its name and SQL text. */
struct named_sql {
	struct named_sql *next;
	char name[PG_NAME_MAX];
	char stmt[PG_NAME_MAX]; /* a portal's statement */
	char sql[PG_SQL_MAX];
};

enum conn_role {
	ROLE_UNKNOWN, /* no verdict yet */
	ROLE_CLIENT,  /* the watched process is the client: spans */
	ROLE_SERVER,  /* the watched process is a PostgreSQL server: not ours to report */
	ROLE_CANCEL,  /* a connection that carried a CancelRequest */
};

/* A connection's PostgreSQL state, hung off its entry in the connection table. */
struct pg_conn {
	struct conn *conn; /* identity and ends */
	enum conn_role role;
	bool ssl_accepted; /* the server said 'S': bytes not from a TLS library are ciphertext */
	bool encrypted;	   /* ... and such bytes came: nothing more to read here */
	char txn;	   /* last ReadyForQuery status: 'I', 'T', 'E'; 0 before the first */
	uint32_t key_pid, key_secret; /* BackendKeyData, for CancelRequest */
	char db[PG_NAME_MAX];
	char address[CONN_ADDR_MAX]; /* server.address */
	int port;		     /* server.port, 0 unknown */
	bool is_unix;
	struct pg_op *head, *tail;
	unsigned nops;
	struct pg_op *spare; /* ops done with, kept for the next (a statement takes up to 3) */
	unsigned nspare;
	struct named_sql *stmts, *portals;
	unsigned nstmts, nportals;
	struct pg_stream st[2]; /* [PG_FRONTEND], [PG_BACKEND] */
	uint64_t msg_ts[2];	/* when the message in progress in st[] began */
};

struct pq_call {
	uint8_t call;
	uint64_t ts;
	char name[PG_NAME_MAX];
	char sql[LIBPQ_TEXT_MAX];
};

/* What libpq told about a thread's calls that its wire messages have not claimed yet. */
struct pq_thread {
	struct pq_thread *next;
	uint32_t tid, pid;
	struct pq_call calls[PG_MAX_CALLS];
	unsigned first, n;
	/* the last connection started on it, for the startup message that follows */
	uint64_t connect_ts;
	char host[LIBPQ_VALUE_MAX], port[16], db[LIBPQ_VALUE_MAX];
};

struct pg_tracker {
	struct pg_tracker_ops ops;
	struct conn_table *conns;
	struct conn_proto proto;
	struct pq_thread *tids[TID_BUCKETS];
	size_t nthreads;
	struct pg_tracker_stats stats;
	/* summaries of recent statements, by their redacted text: a statement run again with
	 * other values is summarized once */
	struct sum_memo {
		uint64_t hash;
		size_t len; /* 0: empty */
		bool clean; /* text is also a statement's own, which redaction left as it was */
		struct sql_summary sum;
		char text[PG_SQL_MAX];
	} * memo; /* SUM_MEMO_SETS * SUM_MEMO_WAYS, allocated when first needed; NULL: none */
	unsigned char memo_next[SUM_MEMO_SETS]; /* each set's next way to replace */
	/* the collections span names have held: a name is "op collection" for the first
	 * PG_MAX_COLLECTIONS of them, "op" after (span names stay few, whatever the tables) */
	struct route_set *collections;
	struct span *span; /* the span finish_op builds and hands on; NULL until the first */
};

/* What the parser callbacks need to know about the bytes being fed. */
struct feed {
	struct pg_tracker *t;
	struct pg_conn *c;
	uint32_t tid;
	uint64_t actor; /* conn_data_actor() of the event */
	uint64_t ts;
	uint64_t msg_ts; /* when the message being delivered began: its first byte's feed */
};

/* Could the first bytes of a connection, read or written by the watched process, be
 * PostgreSQL's (either end)? */
static bool sniff(enum conn_dir dir, const uint8_t *data, size_t len)
{
	(void)dir; /* either end may be watched: a client writes what a server reads */
	return pg_sniff_frontend(data, len) || pg_sniff_backend(data, len);
}

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d);
static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns);
static void on_proc_exit(void *tracker, uint32_t pid);

struct pg_tracker *pg_tracker_new(const struct pg_tracker_ops *ops, struct conn_table *conns)
{
	struct pg_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->conns = conns;
	t->proto = (struct conn_proto){ .name = "postgresql",
					.sniff = sniff,
					.data = on_data,
					.close = on_close,
					.proc_exit = on_proc_exit,
					.tracker = t };
	if (conn_table_register(conns, &t->proto)) {
		free(t);
		return NULL;
	}
	return t;
}

/* ---- names: prepared statements and portals ---- */

static void names_free(struct named_sql **list, unsigned *n)
{
	struct named_sql *e, *next;

	for (e = *list; e; e = next) {
		next = e->next;
		free(e);
	}
	*list = NULL;
	*n = 0;
}

static struct named_sql **names_find(struct named_sql **list, const char *name)
{
	while (*list && strcmp((*list)->name, name))
		list = &(*list)->next;
	return list;
}

static void names_remove(struct named_sql **list, unsigned *n, const char *name)
{
	struct named_sql **pp = names_find(list, name), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	free(e);
	(*n)--;
}

/* Sets name's SQL, newest first; beyond max the oldest is forgotten. An entry is ~2 KiB: the
 * name's old entry (else the oldest, when full) is taken again rather than freed, and only the
 * used part of each string is written (a Parse and a Bind per extended statement set one). */
static void names_set(struct named_sql **list, unsigned *n, unsigned max, const char *name,
		      const char *sql)
{
	struct named_sql **pp = names_find(list, name), *e = *pp;

	if (e) {
		*pp = e->next;
	} else if (*n >= max) {
		for (pp = list; (*pp)->next;)
			pp = &(*pp)->next;
		e = *pp;
		*pp = NULL;
	} else {
		e = malloc(sizeof(*e));
		if (!e)
			return;
		(*n)++;
	}
	str_copy(e->name, sizeof(e->name), name);
	e->stmt[0] = '\0';
	str_copy(e->sql, sizeof(e->sql), sql);
	e->next = *list;
	*list = e;
}

static const char *names_get(struct named_sql **list, const char *name)
{
	struct named_sql *e = *names_find(list, name);

	return e ? e->sql : NULL;
}

/* ---- libpq calls by thread ---- */

static struct pq_thread **thread_slot(struct pg_tracker *t, uint32_t tid)
{
	struct pq_thread **pp = &t->tids[tid % TID_BUCKETS];

	while (*pp && (*pp)->tid != tid)
		pp = &(*pp)->next;
	return pp;
}

static struct pq_thread *thread_get(struct pg_tracker *t, uint32_t pid, uint32_t tid)
{
	struct pq_thread **pp = thread_slot(t, tid), *th = *pp;

	if (th) {
		if (th->pid != pid) { /* the tid was reused by another process */
			memset(&th->calls, 0, sizeof(*th) - offsetof(struct pq_thread, calls));
			th->pid = pid;
		}
		return th;
	}
	if (t->nthreads >= PG_MAX_THREADS)
		return NULL;
	th = calloc(1, sizeof(*th));
	if (!th)
		return NULL;
	th->tid = tid;
	th->pid = pid;
	*pp = th;
	t->nthreads++;
	return th;
}

static void thread_drop(struct pg_tracker *t, struct pq_thread **pp)
{
	struct pq_thread *th = *pp;

	t->stats.libpq_unjoined += th->n;
	*pp = th->next;
	free(th);
	t->nthreads--;
}

/* Reads the conninfo value at p (quoted with '..' and backslash escapes, or up to blank space)
 * into out (outsz > 0), or skips it when out is NULL; returns where it ends. */
static const char *conninfo_value(const char *p, char *out, size_t outsz)
{
	bool quoted = *p == '\'';
	size_t n = 0;

	for (p += quoted; *p && (quoted ? *p != '\'' : !strchr(" \t\n", *p)); p++) {
		if (quoted && *p == '\\' && p[1])
			p++;
		if (out && n + 1 < outsz)
			out[n++] = *p;
	}
	if (out)
		out[n] = '\0';
	return quoted && *p ? p + 1 : p;
}

/* The value of keyword key in a conninfo string ("host=/tmp port=5432 dbname='a b'"); URIs
 * (postgresql://user@host:port/db) are read for host, port and dbname. */
static void conninfo_get(const char *ci, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);
	const char *p = ci;

	out[0] = '\0';
	if (!strncmp(ci, "postgresql://", 13) || !strncmp(ci, "postgres://", 11)) {
		const char *h = strstr(ci, "://") + 3, *at = strchr(h, '@'), *end;

		if (at && (!strchr(h, '/') || at < strchr(h, '/')))
			h = at + 1;
		end = h + strcspn(h, ":/?,");
		if (!strcmp(key, "host"))
			snprintf(out, outsz, "%.*s", (int)(end - h), h);
		else if (!strcmp(key, "port") && *end == ':')
			snprintf(out, outsz, "%.*s", (int)strcspn(end + 1, "/?,"), end + 1);
		else if (!strcmp(key, "dbname") && (end = strchr(end, '/')))
			snprintf(out, outsz, "%.*s", (int)strcspn(end + 1, "?"), end + 1);
		return;
	}
	while (*p) {
		bool match;

		p += strspn(p, " \t\n");
		match = !strncmp(p, key, klen) && (p[klen] == '=' || p[klen] == ' ');
		/* keyword, '=', a value quoted or not */
		p += strcspn(p, "= \t");
		p += strspn(p, " \t");
		if (*p != '=')
			return;
		p++;
		p += strspn(p, " \t");
		p = conninfo_value(p, match ? out : NULL, outsz);
		if (match)
			return;
	}
}

/* The host, port and database of conninfo string ci that th does not have yet. */
static void take_conninfo(struct pq_thread *th, const char *ci)
{
	if (!th->host[0])
		conninfo_get(ci, "host", th->host, sizeof(th->host));
	if (!th->port[0])
		conninfo_get(ci, "port", th->port, sizeof(th->port));
	if (!th->db[0])
		conninfo_get(ci, "dbname", th->db, sizeof(th->db));
}

/* tlen: the bytes of e->text the event holds */
static void note_connect(struct pq_thread *th, const struct libpq_event *e, size_t tlen)
{
	char text[LIBPQ_TEXT_MAX];
	unsigned i;

	th->connect_ts = e->hdr.ts_ns;
	th->host[0] = th->port[0] = th->db[0] = '\0';
	if (e->call == LIBPQ_CONNECT_START) {
		str_ncopy(text, sizeof(text), e->text, tlen);
		take_conninfo(th, text);
		return;
	}
	for (i = 0; i < e->nparams && i < LIBPQ_PARAM_SLOTS && (i + 1) * LIBPQ_SLOT <= tlen; i++) {
		const char *slot = e->text + i * LIBPQ_SLOT;
		char key[LIBPQ_KEY_MAX + 1], val[LIBPQ_VALUE_MAX + 1];

		snprintf(key, sizeof(key), "%.*s", LIBPQ_KEY_MAX, slot);
		snprintf(val, sizeof(val), "%.*s", LIBPQ_VALUE_MAX, slot + LIBPQ_KEY_MAX);
		if (!val[0])
			continue;
		if (!strcmp(key, "host") && !th->host[0])
			snprintf(th->host, sizeof(th->host), "%s", val);
		else if (!strcmp(key, "port") && !th->port[0])
			snprintf(th->port, sizeof(th->port), "%s", val);
		else if (!strcmp(key, "dbname") && (strchr(val, '=') || strstr(val, "://")))
			take_conninfo(th, val); /* expand_dbname: a whole conninfo string */
		else if (!strcmp(key, "dbname") && !th->db[0])
			snprintf(th->db, sizeof(th->db), "%s", val);
	}
}

int pg_tracker_libpq(struct pg_tracker *t, const void *event, size_t size)
{
	const struct libpq_event *e = event;
	struct pq_thread *th;
	struct pq_call *c;
	size_t tlen;

	if (size < LIBPQ_EVENT_HDR || size > sizeof(*e))
		return -EINVAL;
	tlen = size - LIBPQ_EVENT_HDR;
	/* PQfinish: its connection's close() ends it on the wire */
	if (e->call == LIBPQ_FINISH)
		return 0;
	th = thread_get(t, e->hdr.pid, e->hdr.tid);
	if (!th)
		return 0;
	if (e->call == LIBPQ_CONNECT_START || e->call == LIBPQ_CONNECT_START_PARAMS) {
		note_connect(th, e, tlen);
		return 0;
	}
	if (e->call < LIBPQ_SEND_QUERY || e->call > LIBPQ_SEND_QUERY_PREPARED)
		return 0;
	t->stats.libpq_calls++;
	if (th->n == PG_MAX_CALLS) { /* the oldest never met its wire message */
		th->first = (th->first + 1) % PG_MAX_CALLS;
		th->n--;
		t->stats.libpq_unjoined++;
	}
	c = &th->calls[(th->first + th->n) % PG_MAX_CALLS];
	th->n++;
	c->call = e->call;
	c->ts = e->hdr.ts_ns;
	str_ncopy(c->name, sizeof(c->name), e->name, sizeof(e->name));
	str_ncopy(c->sql, sizeof(c->sql), e->text, tlen);
	return 0;
}

/* Would the libpq call `call` have written a message that makes an op of this kind? */
static bool call_makes(uint8_t call, enum op_kind kind)
{
	switch (kind) {
	case OP_SIMPLE:
		return call == LIBPQ_SEND_QUERY;
	case OP_EXECUTE: /* PQsendQuery too: in pipeline mode it uses the extended protocol */
		return call != LIBPQ_SEND_PREPARE;
	case OP_PARSE:
		return call == LIBPQ_SEND_PREPARE;
	default:
		return false;
	}
}

/* Joins op with the libpq call of its thread that made it: the first matching call not newer
 * than the op; calls before that one met no wire message of theirs and are dropped. */
static void join_libpq(struct pg_tracker *t, struct pg_conn *c, struct pg_op *op)
{
	struct pq_thread *th = *thread_slot(t, op->tid);
	unsigned i;

	if (!th || th->pid != c->conn->pid)
		return;
	for (i = 0; i < th->n; i++) {
		struct pq_call *call = &th->calls[(th->first + i) % PG_MAX_CALLS];

		if (call->ts > op->start_ns || op->start_ns - call->ts > PG_JOIN_NS ||
		    !call_makes(call->call, op->kind))
			continue;
		t->stats.libpq_unjoined += i;
		t->stats.libpq_joined++;
		op->start_ns = call->ts; /* the API call began before its bytes left */
		if (!op->sql[0] && call->sql[0])
			str_copy(op->sql, sizeof(op->sql), call->sql);
		if (!op->stmt[0] && call->name[0])
			str_copy(op->stmt, sizeof(op->stmt), call->name);
		th->first = (th->first + i + 1) % PG_MAX_CALLS;
		th->n -= i + 1;
		return;
	}
}

/* The connection parameters of the libpq connect this thread made last, for its startup. */
static void adopt_connect(struct pg_tracker *t, struct pg_conn *c, uint32_t tid, uint64_t ts)
{
	struct pq_thread *th = *thread_slot(t, tid);

	if (!th || th->pid != c->conn->pid || !th->connect_ts ||
	    ts - th->connect_ts > 30000000000ull)
		return;
	th->connect_ts = 0;
	if (!c->db[0] && th->db[0])
		snprintf(c->db, sizeof(c->db), "%s", th->db);
	/* over a unix socket the host is the socket's directory: the only address there is */
	if (c->is_unix && th->host[0] == '/')
		snprintf(c->address, sizeof(c->address), "%s", th->host);
	if (!c->port && th->port[0])
		c->port = atoi(th->port);
}

/* ---- spans ---- */

/* The memo's entry for text (len bytes, hash h), or NULL. */
static struct sum_memo *memo_find(struct pg_tracker *t, const char *text, size_t len, uint64_t h)
{
	struct sum_memo *m;
	size_t i;

	for (i = 0; t->memo && i < SUM_MEMO_WAYS; i++) {
		m = &t->memo[h % SUM_MEMO_SETS * SUM_MEMO_WAYS + i];
		if (m->len == len && m->hash == h && !memcmp(m->text, text, len))
			return m;
	}
	return NULL;
}

static void memo_put(struct pg_tracker *t, const char *text, size_t len, uint64_t h,
		     const struct sql_summary *sum, bool clean)
{
	size_t set = h % SUM_MEMO_SETS;
	struct sum_memo *m;

	if (!t->memo)
		t->memo = calloc(SUM_MEMO_SETS * SUM_MEMO_WAYS, sizeof(*t->memo));
	if (!t->memo || len >= sizeof(m->text))
		return;
	m = &t->memo[set * SUM_MEMO_WAYS + t->memo_next[set]++ % SUM_MEMO_WAYS];
	m->hash = h;
	m->len = len;
	m->clean = clean;
	m->sum = *sum;
	memcpy(m->text, text, len + 1);
}

/*
 * sql redacted, into text (textsz bytes), and summarized (the operation and the collection) into
 * out; returns the redacted text: text, or sql itself. Through the tracker's memo of recent
 * redacted texts: literals are all that redaction takes away, and a summary names no literal,
 * so a statement run again with other values is summarized once. An entry whose text was also
 * a statement's own, found unchanged by redaction, is marked clean: that statement run again (a
 * prepared or parameterized one, BEGIN) is not redacted again. Its text is compared whole.
 */
static const char *redact_summarize(struct pg_tracker *t, const char *sql, char *text,
				    size_t textsz, struct sql_summary *out)
{
	size_t len = strlen(sql), rlen;
	struct sum_memo *m = NULL;
	bool clean;
	uint64_t h;

	text[0] = '\0';
	if (len) {
		h = hash_words(sql, len);
		m = memo_find(t, sql, len, h);
		if (m && m->clean) {
			*out = m->sum;
			return sql;
		}
	}
	rlen = len ? sql_redact(sql, len, text, textsz) : 0;
	if (!rlen) {
		sql_summarize(sql, len, out);
		return text;
	}
	clean = rlen == len && !memcmp(text, sql, len);
	if (!clean) {
		h = hash_words(text, rlen);
		m = memo_find(t, text, rlen, h);
	}
	if (m) {
		*out = m->sum;
		m->clean |= clean;
		return text;
	}
	sql_summarize(sql, len, out);
	memo_put(t, text, rlen, h, out, clean);
	return text;
}

/* Whether span names may hold collection: one seen before, or room for one more. */
static bool collection_named(struct pg_tracker *t, const char *collection)
{
	unsigned long long before;

	if (!t->collections && !(t->collections = route_set_new(PG_MAX_COLLECTIONS)))
		return false;
	before = route_set_overflows(t->collections);
	route_set_intern(t->collections, collection);
	return route_set_overflows(t->collections) == before;
}

static void finish_op(struct feed *f, struct pg_op *op, uint64_t end_ns)
{
	struct pg_conn *c = f->c;
	struct sql_summary sum;
	struct span *s;
	char text[PG_SQL_MAX];
	const char *redacted;

	if (op->empty && !op->error)
		return;
	if (!f->t->span && !(f->t->span = malloc(sizeof(*f->t->span))))
		return;
	s = f->t->span;
	span_init(s, SPAN_KIND_CLIENT); /* with new trace and span ids */
	if (op->has_parent)
		span_make_child(s, op->trace_id, op->parent_id);
	s->pid = c->conn->pid;
	s->tid = op->tid;
	s->start_ns = op->start_ns;
	s->end_ns = end_ns > op->start_ns ? end_ns : op->start_ns;
	s->error = op->error;
	redacted = redact_summarize(f->t, op->sql, text, sizeof(text), &sum);
	if (!sum.op[0] && op->verb[0])
		str_copy(sum.op, sizeof(sum.op), op->verb);
	if (sum.op[0] && sum.collection[0] && collection_named(f->t, sum.collection))
		str_words(s->name, sizeof(s->name), sum.op, sum.collection);
	else
		str_copy(s->name, sizeof(s->name), sum.op[0] ? sum.op : "postgresql");
	span_set_str(s, SC_DB_SYSTEM_NAME, "postgresql");
	if (c->db[0])
		span_set_str(s, SC_DB_NAMESPACE, c->db);
	if (sum.op[0])
		span_set_str(s, SC_DB_OPERATION_NAME, sum.op);
	if (sum.collection[0])
		span_set_str(s, SC_DB_COLLECTION_NAME, sum.collection);
	if (op->sql[0])
		span_set_str(s, SC_DB_QUERY_TEXT, redacted);
	if (op->stmt[0])
		span_set_str(s, SC_DB_POSTGRESQL_STATEMENT_NAME, op->stmt);
	if (op->rows >= 0 && !strcmp(op->verb, "SELECT"))
		span_set_int(s, SC_DB_RESPONSE_RETURNED_ROWS, op->rows);
	if (op->sqlstate[0]) {
		span_set_str(s, SC_DB_RESPONSE_STATUS_CODE, op->sqlstate);
		if (op->error)
			span_set_str(s, SC_ERROR_TYPE, op->sqlstate);
	}
	if (op->cancel)
		span_set_int(s, SC_DB_POSTGRESQL_CANCEL_REQUESTED, 1);
	if (c->address[0])
		span_set_str(s, SC_SERVER_ADDRESS, c->address);
	if (c->port)
		span_set_int(s, SC_SERVER_PORT, c->port);
	if (c->is_unix)
		span_set_str(s, SC_NETWORK_TRANSPORT, "unix");
	f->t->ops.span(f->t->ops.ctx, s);
}

/* ---- ops in flight ---- */

static struct pg_op *op_push(struct feed *f, enum op_kind kind)
{
	struct pg_conn *c = f->c;
	struct pg_op *op;

	if (c->nops >= PG_MAX_OPS) {
		f->t->stats.ops_full++;
		return NULL;
	}
	/* the SQL and statement buffers are 2 KiB: an empty string is enough */
	if ((op = c->spare)) {
		c->spare = op->next;
		c->nspare--;
	} else if (!(op = malloc(sizeof(*op)))) {
		return NULL;
	}
	memset(op, 0, offsetof(struct pg_op, stmt));
	op->stmt[0] = op->sql[0] = '\0';
	op->kind = kind;
	op->tid = f->tid;
	op->start_ns = f->msg_ts;
	op->rows = -1;
	if (kind != OP_SYNC && f->t->ops.parent)
		op->has_parent = f->t->ops.parent(f->t->ops.ctx, c->conn->pid, f->actor,
						  op->trace_id, op->parent_id);
	if (c->tail)
		c->tail->next = op;
	else
		c->head = op;
	c->tail = op;
	c->nops++;
	return op;
}

static void op_pop(struct pg_conn *c)
{
	struct pg_op *op = c->head;

	c->head = op->next;
	if (!c->head)
		c->tail = NULL;
	c->nops--;
	if (c->nspare < PG_SPARE_OPS) {
		op->next = c->spare;
		c->spare = op;
		c->nspare++;
	} else {
		free(op);
	}
}

static void ops_abort(struct pg_tracker *t, struct pg_conn *c)
{
	while (c->head) {
		if (c->head->kind == OP_SIMPLE || c->head->kind == OP_EXECUTE)
			t->stats.aborted++;
		op_pop(c);
	}
}

/* ---- messages ---- */

struct cancel_key {
	uint32_t pid, secret;
};

/* A CancelRequest names its target by BackendKeyData: the query in flight there. */
static void mark_cancelled(void *ctx, const struct conn *cn)
{
	const struct cancel_key *k = ctx;
	struct pg_conn *o = cn->state;

	if (o && o->key_pid == k->pid && o->key_secret == k->secret && o->head)
		o->head->cancel = true;
}

static void on_frontend(struct feed *f, const struct pg_msg *m)
{
	struct pg_conn *c = f->c;
	char portal[PG_NAME_MAX], stmt[PG_NAME_MAX], what;
	struct pg_op *op;
	bool cut;

	switch (m->type) {
	case PG_MSG_STARTUP: {
		struct pg_startup su;

		if (pg_decode_startup(m, &su) == 0)
			snprintf(c->db, sizeof(c->db), "%s", su.database);
		adopt_connect(f->t, c, f->tid, f->ts);
		break;
	}
	case PG_MSG_SSL_REQUEST:
	case PG_MSG_GSS_REQUEST:
		pg_stream_expect_ssl_reply(&c->st[PG_BACKEND]);
		break;
	case PG_MSG_CANCEL: {
		struct cancel_key k;

		c->role = ROLE_CANCEL;
		if (pg_decode_key(m, &k.pid, &k.secret))
			break;
		conn_table_visit(f->t->conns, &f->t->proto, mark_cancelled, &k);
		break;
	}
	case 'Q':
		op = op_push(f, OP_SIMPLE);
		if (op && pg_decode_query(m, op->sql, sizeof(op->sql), &cut))
			op->sql[0] = '\0';
		if (op)
			join_libpq(f->t, c, op);
		break;
	case 'P': {
		struct pg_parse p;

		if (pg_decode_parse(m, &p))
			break;
		names_set(&c->stmts, &c->nstmts, PG_MAX_STMTS, p.stmt, p.sql);
		op = op_push(f, OP_PARSE);
		if (!op)
			break;
		str_copy(op->sql, sizeof(op->sql), p.sql);
		str_copy(op->stmt, sizeof(op->stmt), p.stmt);
		join_libpq(f->t, c, op);
		break;
	}
	case 'B': {
		const char *sql;

		if (pg_decode_bind(m, portal, stmt))
			break;
		sql = names_get(&c->stmts, stmt);
		/* the portal runs the statement: its name travels in the portal's entry too */
		names_set(&c->portals, &c->nportals, PG_MAX_PORTALS, portal, sql ? sql : "");
		/* the portal runs the statement: its name goes with the portal */
		if (c->portals && !strcmp(c->portals->name, portal))
			str_copy(c->portals->stmt, sizeof(c->portals->stmt), stmt);
		break;
	}
	case 'E': {
		struct named_sql *p;
		uint32_t max_rows;

		if (pg_decode_execute(m, portal, &max_rows))
			break;
		op = op_push(f, OP_EXECUTE);
		if (!op)
			break;
		p = *names_find(&c->portals, portal);
		if (p) {
			str_copy(op->sql, sizeof(op->sql), p->sql);
			str_copy(op->stmt, sizeof(op->stmt), p->stmt);
		}
		join_libpq(f->t, c, op);
		break;
	}
	case 'S':
		op_push(f, OP_SYNC);
		break;
	case 'C':
		if (pg_decode_target(m, &what, stmt) == 0) {
			if (what == 'S')
				names_remove(&c->stmts, &c->nstmts, stmt);
			else
				names_remove(&c->portals, &c->nportals, stmt);
		}
		break;
	}
}

/* The Execute (else the Parse) of the batch an ErrorResponse ends: the server skips the rest of
 * the batch up to its Sync, so the error is that statement's, and what follows it never ran. */
static void batch_error(struct feed *f, const struct pg_error *err)
{
	struct pg_conn *c = f->c;
	struct pg_op *o, *target = NULL;

	for (o = c->head; o && o->kind != OP_SYNC && !target; o = o->next)
		if (o->kind == OP_EXECUTE)
			target = o;
	for (o = c->head; o && o->kind != OP_SYNC && !target; o = o->next)
		if (o->kind == OP_PARSE)
			target = o;
	if (target) {
		target->error = true;
		str_copy(target->sqlstate, sizeof(target->sqlstate), err->sqlstate);
		finish_op(f, target, f->ts);
	} else if (c->head) {
		f->t->stats.unpaired++;
	}
	while (c->head && c->head->kind != OP_SYNC)
		op_pop(c);
}

static void on_backend(struct feed *f, const struct pg_msg *m)
{
	struct pg_conn *c = f->c;
	struct pg_op *op;

	switch (m->type) {
	case PG_MSG_SSL_REPLY:
		/* 'G': GSSAPI encryption, which no hooked library decrypts either */
		c->ssl_accepted = m->body_len == 1 && (m->body[0] == 'S' || m->body[0] == 'G');
		break;
	case 'K':
		pg_decode_key(m, &c->key_pid, &c->key_secret);
		break;
	case '1': /* ParseComplete */
		if (c->head && c->head->kind == OP_PARSE)
			op_pop(c);
		break;
	case 'C': /* CommandComplete */
	case 'I': /* EmptyQueryResponse */
	case 's': /* PortalSuspended: the row limit was reached */
		while (c->head && c->head->kind == OP_PARSE) /* its ParseComplete went unseen */
			op_pop(c);
		op = c->head;
		if (!op || op->kind == OP_SYNC) {
			f->t->stats.unpaired++;
			break;
		}
		if (m->type == 'I' && !op->verb[0])
			op->empty = true;
		if (m->type == 'C' && !op->verb[0]) {
			struct pg_complete cc;

			if (pg_decode_complete(m, &cc) == 0) {
				str_copy(op->verb, sizeof(op->verb), cc.verb);
				op->rows = cc.rows;
			}
		}
		if (op->kind == OP_EXECUTE) {
			finish_op(f, op, f->ts);
			op_pop(c);
		}
		break;
	case 'E': { /* ErrorResponse */
		struct pg_error err;

		if (pg_decode_error(m, &err))
			memset(&err, 0, sizeof(err));
		op = c->head;
		if (op && op->kind == OP_SIMPLE) { /* its ReadyForQuery ends it */
			op->error = true;
			if (!op->sqlstate[0])
				str_copy(op->sqlstate, sizeof(op->sqlstate), err.sqlstate);
		} else {
			batch_error(f, &err);
		}
		break;
	}
	case 'Z': /* ReadyForQuery: everything before it is answered */
		pg_decode_ready(m, &c->txn);
		while ((op = c->head)) {
			enum op_kind k = op->kind;

			if (k == OP_SIMPLE || k == OP_EXECUTE)
				finish_op(f, op, f->ts);
			op_pop(c);
			if (k == OP_SIMPLE || k == OP_SYNC)
				break;
		}
		break;
	}
}

struct msg_ctx {
	struct feed *f;
	enum pg_dir dir;
};

static void on_msg(void *ctx, const struct pg_msg *m)
{
	struct msg_ctx *mc = ctx;

	if (mc->dir == PG_FRONTEND)
		on_frontend(mc->f, m);
	else
		on_backend(mc->f, m);
	mc->f->msg_ts = mc->f->ts; /* a next message in this feed begins in it */
}

/* ---- connections ---- */

static void conn_free(struct pg_tracker *t, struct pg_conn *c)
{
	struct pg_op *op;

	ops_abort(t, c);
	while ((op = c->spare)) {
		c->spare = op->next;
		free(op);
	}
	names_free(&c->stmts, &c->nstmts);
	names_free(&c->portals, &c->nportals);
	free(c);
	t->stats.conns--;
}

static struct pg_conn *conn_new(struct pg_tracker *t, struct conn *cn)
{
	struct pg_conn *c = calloc(1, sizeof(*c));
	const struct conn_meta *meta = &cn->meta;

	if (!c)
		return NULL;
	c->conn = cn;
	if (cn->have_meta) {
		c->is_unix = meta->is_unix;
		/* the watched process is the client: the server is the far end */
		if (!meta->is_unix && meta->remote_addr[0]) {
			snprintf(c->address, sizeof(c->address), "%s", meta->remote_addr);
			c->port = meta->remote_port;
		}
	}
	cn->state = c;
	t->stats.conns++;
	return c;
}

/* Which end the watched process is, from the first bytes it moved: a client writes frontend
 * messages and reads backend ones. Sets up the streams for a client. */
static void decide_role(struct pg_conn *c, enum conn_dir dir, const uint8_t *d, size_t n)
{
	bool out = dir == CONN_DIR_OUT, fe = pg_sniff_frontend(d, n), be = pg_sniff_backend(d, n);

	/* neither, or both (an ErrorResponse reads as an Execute too, CommandComplete "SET" as a
	 * Close): the next bytes tell */
	if (fe == be)
		return;
	c->role = fe == out ? ROLE_CLIENT : ROLE_SERVER;
	/* a typed message starts with a letter; a startup-phase one with its length's top byte,
	 * 0: the connection is seen from its start */
	pg_stream_init(&c->st[PG_FRONTEND], PG_FRONTEND, out && n > 0 && d[0] == 0);
	pg_stream_init(&c->st[PG_BACKEND], PG_BACKEND, false);
}

static void on_data(void *tracker, struct conn *cn, const struct conn_data *d)
{
	struct pg_tracker *t = tracker;
	struct pg_conn *c = cn->state ? cn->state : conn_new(t, cn);
	struct feed f = { .t = t, .tid = d->tid, .actor = conn_data_actor(d), .ts = d->ts_ns };
	struct msg_ctx mc = { .f = &f, .dir = d->dir == CONN_DIR_OUT ? PG_FRONTEND : PG_BACKEND };
	struct pg_stream *st;
	uint64_t lost;

	if (!c)
		return;
	if (c->role == ROLE_UNKNOWN)
		decide_role(c, d->dir, d->data, d->len);
	if (c->role != ROLE_CLIENT || c->encrypted)
		return;
	if (c->ssl_accepted && !d->from_tls) {
		/* TLS that no hooked library decrypts for us (a Go or Java driver) */
		c->encrypted = true;
		t->stats.encrypted++;
		ops_abort(t, c);
		return;
	}
	f.c = c;
	/* A client writes again once it has read the answers it waited for: when those went by in
	 * bytes the backend stream could not frame, they are not coming, and the next answer it
	 * frames is to what is written now. */
	if (mc.dir == PG_FRONTEND && c->st[PG_BACKEND].lost)
		ops_abort(t, c);
	st = &c->st[mc.dir];
	/* a message begun in an earlier feed began when that feed came */
	f.msg_ts = st->type || st->hdr_len ? c->msg_ts[mc.dir] : d->ts_ns;
	lost = st->stats.lost;
	pg_stream_feed(st, d->data, d->len, d->total, on_msg, &mc);
	if (st->type || st->hdr_len)
		c->msg_ts[mc.dir] = f.msg_ts;
	t->stats.lost += st->stats.lost - lost;
}

static void on_close(void *tracker, struct conn *cn, uint64_t ts_ns)
{
	(void)ts_ns;
	if (cn->state)
		conn_free(tracker, cn->state);
	cn->state = NULL;
}

/* Its connections went with the connection table; its threads' libpq calls go now. */
static void on_proc_exit(void *tracker, uint32_t pid)
{
	struct pg_tracker *t = tracker;
	size_t i;

	for (i = 0; i < TID_BUCKETS; i++) {
		struct pq_thread **pp = &t->tids[i];

		while (*pp)
			if ((*pp)->pid == pid)
				thread_drop(t, pp);
			else
				pp = &(*pp)->next;
	}
}

void pg_tracker_free(struct pg_tracker *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < TID_BUCKETS; i++)
		while (t->tids[i])
			thread_drop(t, &t->tids[i]);
	free(t->memo);
	free(t->span);
	route_set_free(t->collections);
	free(t);
}

void pg_tracker_get_stats(const struct pg_tracker *t, struct pg_tracker_stats *out)
{
	*out = t->stats;
	out->collection_overflows = route_set_overflows(t->collections);
}

struct visit_ctx {
	pg_conn_visit_fn fn;
	void *ctx;
};

static void visit_one(void *ctx, const struct conn *cn)
{
	const struct visit_ctx *v = ctx;
	const struct pg_conn *c = cn->state;
	char pool[POOL_MAX];

	if (!c || c->role != ROLE_CLIENT)
		return;
	/* semconv: server.address:server.port when the pool has no name */
	if (c->address[0] && c->port)
		snprintf(pool, sizeof(pool), "%s:%d", c->address, c->port);
	else
		snprintf(pool, sizeof(pool), "%s",
			 c->address[0] ? c->address
			 : c->is_unix  ? "unix"
				       : "unknown");
	v->fn(v->ctx, cn->pid, pool, c->head || c->txn == 'T' || c->txn == 'E');
}

void pg_tracker_visit_conns(const struct pg_tracker *t, pg_conn_visit_fn fn, void *ctx)
{
	struct visit_ctx v = { fn, ctx };

	conn_table_visit(t->conns, &t->proto, visit_one, &v);
}
