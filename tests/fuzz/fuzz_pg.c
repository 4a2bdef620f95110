// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: byte 0 picks the start of each direction (frontend untyped, backend waiting for an
 * SSL reply) and how the payload is cut into feeds, byte 1 which feeds claim more bytes than
 * were captured, byte 2 seeds the rest; the rest is the payload. The payload goes through a
 * frontend and a backend stream interleaved as one connection (the frontend's SSL request
 * telling the backend, as the tracker does), then through each direction alone, cut in one
 * feed and cut at random, and through pg_sniff_*.
 *
 * Besides the sanitizers, it checks that every message is within its limits and of a type its
 * direction sends, that every decoder (run on every message, whatever its type, from a copy of
 * exactly body_len bytes) leaves its strings NUL-terminated and its SQLSTATE "" or five
 * characters, and that without gaps the way the bytes are cut does not change what is
 * delivered up to the first loss of sync.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "protocols/pg_parser.h"

#define MAX_RECS 4096
#define LOSS (-1) /* a record that marks where sync was lost */

struct rec {
	int type;
	uint32_t len;
	size_t body_len;
	uint64_t hash;
};

struct fz {
	enum pg_dir dir;
	struct pg_stream *peer; /* the backend, told of the frontend's SSL requests */
	struct rec recs[MAX_RECS];
	size_t nrecs;
	bool full;
};

static void put(struct fz *f, int type, uint32_t len, size_t body_len, uint64_t hash)
{
	if (f->nrecs == MAX_RECS) {
		f->full = true;
		return;
	}
	f->recs[f->nrecs].type = type;
	f->recs[f->nrecs].len = len;
	f->recs[f->nrecs].body_len = body_len;
	f->recs[f->nrecs].hash = hash;
	f->nrecs++;
}

static void check_str(const char *s, size_t size)
{
	assert(memchr(s, '\0', size));
}

static bool one_of(int c, const char *set)
{
	return c > 0 && c < 0x100 && strchr(set, c);
}

/* Every decoder on m, whatever its type: none may read or write out of bounds. */
static void decode_all(const struct pg_msg *m)
{
	struct pg_startup st;
	struct pg_parse p;
	struct pg_complete c;
	struct pg_error e;
	char sql[PG_SQL_MAX], small[7], portal[PG_NAME_MAX], stmt[PG_NAME_MAX], what, status;
	uint32_t rows, pid, key;
	bool cut;

	if (!pg_decode_startup(m, &st))
		assert(m->type == PG_MSG_STARTUP);
	check_str(st.user, sizeof(st.user));
	check_str(st.database, sizeof(st.database));
	check_str(st.application, sizeof(st.application));
	if (st.user[0])
		assert(st.database[0]);

	if (!pg_decode_query(m, sql, sizeof(sql), &cut))
		assert(m->type == 'Q' && (cut || strlen(sql) < m->body_len));
	check_str(sql, sizeof(sql));
	pg_decode_query(m, small, sizeof(small), NULL);
	check_str(small, sizeof(small));

	if (!pg_decode_parse(m, &p))
		assert(m->type == 'P');
	check_str(p.stmt, sizeof(p.stmt));
	check_str(p.sql, sizeof(p.sql));

	if (!pg_decode_bind(m, portal, stmt))
		assert(m->type == 'B');
	check_str(portal, sizeof(portal));
	check_str(stmt, sizeof(stmt));

	if (!pg_decode_execute(m, portal, &rows))
		assert(m->type == 'E');
	check_str(portal, sizeof(portal));

	if (!pg_decode_target(m, &what, portal))
		assert((m->type == 'C' || m->type == 'D') && (what == 'S' || what == 'P'));
	check_str(portal, sizeof(portal));

	if (!pg_decode_complete(m, &c))
		assert(m->type == 'C');
	check_str(c.tag, sizeof(c.tag));
	check_str(c.verb, sizeof(c.verb));
	assert(c.rows >= -1);
	assert(strlen(c.verb) <= strlen(c.tag) || strlen(c.tag) == sizeof(c.tag) - 1);

	if (!pg_decode_error(m, &e))
		assert(m->type == 'E' || m->type == 'N');
	check_str(e.severity, sizeof(e.severity));
	check_str(e.sqlstate, sizeof(e.sqlstate));
	check_str(e.message, sizeof(e.message));
	assert(strlen(e.sqlstate) == 0 || strlen(e.sqlstate) == 5);

	if (!pg_decode_ready(m, &status))
		assert(m->type == 'Z' && one_of(status, "ITE"));

	if (!pg_decode_key(m, &pid, &key))
		assert(m->type == 'K' || m->type == PG_MSG_CANCEL);
}

static void on_msg(void *ctx, const struct pg_msg *m)
{
	struct fz *f = ctx;
	struct pg_msg copy = *m;
	uint8_t *body;

	assert(m->body_len <= m->len);
	assert(m->body_len <= PG_MSG_KEEP);
	assert(m->body || !m->body_len);
	switch (m->type) {
	case PG_MSG_SSL_REPLY:
		assert(f->dir == PG_BACKEND);
		assert(m->len == 1 && m->body_len == 1 && one_of(m->body[0], "SGN"));
		break;
	case PG_MSG_STARTUP:
	case PG_MSG_SSL_REQUEST:
	case PG_MSG_GSS_REQUEST:
	case PG_MSG_CANCEL:
		assert(f->dir == PG_FRONTEND);
		assert(m->len >= 4 && m->body_len >= 4); /* the code is always there */
		if (m->type == PG_MSG_SSL_REQUEST || m->type == PG_MSG_GSS_REQUEST)
			assert(m->len == 4);
		if ((m->type == PG_MSG_SSL_REQUEST || m->type == PG_MSG_GSS_REQUEST) && f->peer)
			pg_stream_expect_ssl_reply(f->peer);
		break;
	default:
		assert(one_of(m->type, f->dir == PG_FRONTEND ? "QPBESDCHFXdcfp"
							     : "RSKZTDCEN123nIstGHWAvcdV"));
		break;
	}
	put(f, m->type, m->len, m->body_len, fnv1a(m->body, m->body_len));

	/* A copy of exactly body_len bytes: a decoder reading past it is caught by ASan. */
	body = malloc(m->body_len ? m->body_len : 1);
	if (!body)
		return;
	if (m->body_len)
		memcpy(body, m->body, m->body_len);
	copy.body = body;
	decode_all(&copy);
	free(body);
}

static void check_stream(const struct pg_stream *s)
{
	assert(s->hdr_len < sizeof(s->hdr));
	assert(s->kept <= PG_MSG_KEEP);
	assert(s->kept <= s->got);
	if (s->type) {
		assert(s->got < s->len);
		assert(!s->hdr_len);
	} else {
		assert(!s->got && !s->kept);
	}
	if (s->lost)
		assert(!s->type && !s->hdr_len);
	assert(s->stats.resync <= s->stats.lost);
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Feed sizes: pattern 0 one feed, 1 one byte each, else random up to 64 * pattern. */
static size_t next_size(unsigned pattern, size_t left, uint32_t *x)
{
	if (pattern == 0 || left <= 1)
		return left;
	if (pattern == 1)
		return 1;
	return 1 + rnd(x) % (left < 64 * pattern ? left : 64 * pattern);
}

static uint64_t gap_size(uint32_t *x)
{
	static const uint64_t extra[] = { 1, 2, 3, 5, 100, 4096, 1ULL << 40, UINT64_MAX / 2 };

	return extra[rnd(x) % 8];
}

static struct pg_stream fe_stream, be_stream;
static struct fz fa, fb, fc;

/* One connection: each feed goes to one direction or the other, some with gaps. */
static void run_connection(const uint8_t *data, size_t size, unsigned pattern, uint8_t gaps,
			   bool untyped, bool ssl, uint32_t seed)
{
	uint32_t x = seed | 1;
	size_t off = 0, ev = 0;

	memset(&fa, 0, sizeof(fa));
	memset(&fb, 0, sizeof(fb));
	fa.dir = PG_FRONTEND;
	fa.peer = &be_stream;
	fb.dir = PG_BACKEND;
	pg_stream_init(&fe_stream, PG_FRONTEND, untyped);
	pg_stream_init(&be_stream, PG_BACKEND, true);
	if (ssl)
		pg_stream_expect_ssl_reply(&be_stream);
	while (off < size) {
		bool backend = rnd(&x) & 1;
		struct pg_stream *s = backend ? &be_stream : &fe_stream;
		size_t n = next_size(pattern ? pattern : 2, size - off, &x);
		uint64_t total = n, before = s->stats.messages;
		size_t got;

		if ((gaps >> (ev++ & 7)) & 1) {
			total += gap_size(&x);
			if (rnd(&x) % 4 == 0)
				n = 0; /* nothing captured at all */
		}
		got = pg_stream_feed(s, data + off, n, total, on_msg, backend ? &fb : &fa);
		assert(s->stats.messages == before + got);
		check_stream(s);
		/* The backend's 'N' sends the client back to a startup message. */
		if (backend && rnd(&x) % 8 == 0)
			pg_stream_expect_startup(&fe_stream);
		off += n ? n : 1;
	}
}

/* One direction alone, without gaps; a LOSS record after the feed that lost sync. */
static void run_alone(struct fz *f, enum pg_dir dir, const uint8_t *data, size_t size,
		      unsigned pattern, bool untyped, bool ssl, uint32_t seed)
{
	struct pg_stream *s = dir == PG_FRONTEND ? &fe_stream : &be_stream;
	uint32_t x = seed | 1;
	size_t off = 0;

	memset(f, 0, sizeof(*f));
	f->dir = dir;
	pg_stream_init(s, dir, untyped);
	if (ssl)
		pg_stream_expect_ssl_reply(s);
	while (off < size) {
		size_t n = next_size(pattern, size - off, &x);
		uint64_t lost = s->stats.lost;

		pg_stream_feed(s, data + off, n, n, on_msg, f);
		check_stream(s);
		if (s->stats.lost != lost)
			put(f, LOSS, 0, 0, 0);
		off += n;
	}
}

/* Records up to and including the first loss. */
static size_t until_loss(const struct fz *f)
{
	size_t i;

	for (i = 0; i < f->nrecs; i++)
		if (f->recs[i].type == LOSS)
			return i + 1;
	return f->nrecs;
}

static void same_until_loss(const struct fz *a, const struct fz *b)
{
	size_t na = until_loss(a), nb = until_loss(b);

	if (a->full || b->full)
		return;
	assert(na == nb);
	assert(!memcmp(a->recs, b->recs, na * sizeof(a->recs[0])));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool untyped, ssl;
	unsigned pattern;
	const uint8_t *p;
	uint32_t seed;
	uint8_t gaps;
	size_t n;
	int dir;

	if (size < 3)
		return 0;
	untyped = data[0] & 1;
	ssl = data[0] & 2;
	pattern = (data[0] >> 2) & 7;
	gaps = data[1];
	seed = data[2] | (uint32_t)data[0] << 8 | (uint32_t)data[1] << 16;
	p = data + 3;
	n = size - 3;

	pg_sniff_frontend(p, n);
	pg_sniff_backend(p, n);

	run_connection(p, n, pattern, gaps, untyped, ssl, seed);

	/* Without gaps, the cut into feeds must not change what is delivered. */
	for (dir = PG_FRONTEND; dir <= PG_BACKEND; dir++) {
		run_alone(&fa, dir, p, n, 0, untyped, ssl, 0);
		run_alone(&fc, dir, p, n, n <= 256 ? 1 : 2 + pattern % 6, untyped, ssl,
			  seed ^ 0x9e3779b9);
		same_until_loss(&fa, &fc);
	}
	return 0;
}
