// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "protocols/pg_parser.h"

#include <string.h>

/* pg_sniff_* and the resync test look at no more than this: a header and the start of a body. */
#define SNIFF_LEN 16
/* The server refuses a startup packet above this (MAX_STARTUP_PACKET_LENGTH in pqcomm.h). */
#define STARTUP_MAX 10000
/* Protocol 3.2 (PostgreSQL 18) lets the cancel key grow from 4 bytes to up to 256. */
#define CANCEL_KEY_MAX 256
#define TYPED_HDR 5   /* type byte, int32 length */
#define UNTYPED_HDR 8 /* int32 length, int32 code */

static const bool frontend_type[256] = {
	['Q'] = true, ['P'] = true, ['B'] = true, ['E'] = true, ['S'] = true,
	['D'] = true, ['C'] = true, ['H'] = true, ['F'] = true, ['X'] = true,
	['d'] = true, ['c'] = true, ['f'] = true, ['p'] = true,
};

static const bool backend_type[256] = {
	['R'] = true, ['S'] = true, ['K'] = true, ['Z'] = true, ['T'] = true, ['D'] = true,
	['C'] = true, ['E'] = true, ['N'] = true, ['1'] = true, ['2'] = true, ['3'] = true,
	['n'] = true, ['I'] = true, ['s'] = true, ['t'] = true, ['G'] = true, ['H'] = true,
	['W'] = true, ['A'] = true, ['v'] = true, ['c'] = true, ['d'] = true, ['V'] = true,
};

/* Field codes of ErrorResponse and NoticeResponse ("Error and Notice Message Fields"). */
static const bool error_field[256] = {
	['S'] = true, ['V'] = true, ['C'] = true, ['M'] = true, ['D'] = true, ['H'] = true,
	['P'] = true, ['p'] = true, ['q'] = true, ['W'] = true, ['s'] = true, ['t'] = true,
	['c'] = true, ['d'] = true, ['n'] = true, ['F'] = true, ['L'] = true, ['R'] = true,
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static bool valid_type(enum pg_dir dir, uint8_t t)
{
	return dir == PG_FRONTEND ? frontend_type[t] : backend_type[t];
}

/* The body length a typed message's header (type byte, int32 length) declares, into *body;
 * false for a length no message can have. */
static bool typed_body_len(const uint8_t *hdr, uint32_t *body)
{
	uint32_t len = be32(hdr + 1);

	if (len < 4 || len > PG_MSG_MAX)
		return false;
	*body = len - 4;
	return true;
}

/* Text as SQL and names carry it: printable ASCII, whitespace, or UTF-8 (any byte >= 0x80). */
static bool is_text(uint8_t c)
{
	return (c >= 0x20 && c != 0x7f) || (c >= '\t' && c <= '\r');
}

/* A name's captured bytes: text up to its NUL; what follows the NUL is not looked at. */
static bool name_ok(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i]; i++)
		if (!is_text(p[i]))
			return false;
	return true;
}

/* A command tag: upper-case words and numbers ("INSERT 0 1"), up to its NUL. */
static bool tag_ok(const uint8_t *p, size_t n)
{
	size_t i;

	if (n && !(p[0] >= 'A' && p[0] <= 'Z'))
		return false;
	for (i = 0; i < n && p[i]; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == ' '))
			return false;
	return true;
}

/*
 * The pseudo type of a startup-phase header (int32 length, int32 code), or 0 when no client
 * sends that: the length must fit what the code announces.
 */
static int untyped_kind(const uint8_t *h)
{
	uint32_t len = be32(h), code = be32(h + 4);

	if (code == PG_CODE_SSL)
		return len == 8 ? PG_MSG_SSL_REQUEST : 0;
	if (code == PG_CODE_GSSENC)
		return len == 8 ? PG_MSG_GSS_REQUEST : 0;
	if (code == PG_CODE_CANCEL)
		return len >= 16 && len <= 12 + CANCEL_KEY_MAX ? PG_MSG_CANCEL : 0;
	if (code >> 16 == PG_PROTO_V3 >> 16)
		return len >= 8 && len <= STARTUP_MAX ? PG_MSG_STARTUP : 0;
	return 0;
}

static bool plausible_untyped(const uint8_t *d, size_t n)
{
	int kind;
	size_t i;

	n = min_size(n, SNIFF_LEN);
	if (n < UNTYPED_HDR)
		return false;
	kind = untyped_kind(d);
	if (kind != PG_MSG_STARTUP)
		return kind != 0;
	/* Parameter names and values, NUL-separated. */
	n = min_size(n, be32(d));
	for (i = UNTYPED_HDR; i < n; i++)
		if (d[i] && !is_text(d[i]))
			return false;
	return true;
}

/*
 * Could d start a typed message of this direction? Beyond the type and a length the stream
 * accepts, each type must have the length it can have and, where its body starts with text,
 * text there: random bytes, HTTP and TLS rarely pass all three.
 */
static bool plausible_typed(enum pg_dir dir, const uint8_t *d, size_t n)
{
	const uint8_t *b = d + TYPED_HDR;
	uint32_t body, len;
	size_t bn, i;

	n = min_size(n, SNIFF_LEN);
	if (n < TYPED_HDR || !valid_type(dir, d[0]))
		return false;
	if (!typed_body_len(d, &body))
		return false;
	len = body + 4; /* the length as declared, which the checks below read */
	bn = min_size(n - TYPED_HDR, body); /* body bytes at hand, not the next message's */

	if (dir == PG_FRONTEND) {
		switch (d[0]) {
		case 'Q':
			/* SQL text; its NUL can only be the body's last byte. */
			for (i = 0; i < bn; i++)
				if (!is_text(b[i]) && !(b[i] == 0 && i == len - 5))
					return false;
			return len >= 5;
		case 'P': /* statement, SQL, int16 count */
			return len >= 8 && name_ok(b, bn);
		case 'B': /* portal, statement, three int16 counts */
			return len >= 12 && name_ok(b, bn);
		case 'E': /* portal, int32 rows */
			return len >= 9 && name_ok(b, bn);
		case 'D':
		case 'C':
			return len >= 6 &&
			       (!bn || ((b[0] == 'S' || b[0] == 'P') && name_ok(b + 1, bn - 1)));
		case 'S':
		case 'H':
		case 'X':
		case 'c':
			return len == 4;
		case 'F':
			return len >= 14;
		case 'f':
			return len >= 5 && name_ok(b, bn);
		default: /* 'd' and 'p' carry any bytes */
			return true;
		}
	}
	switch (d[0]) {
	case 'R':
		return len >= 8 && len <= STARTUP_MAX;
	case 'Z':
		return len == 5 && (!bn || b[0] == 'I' || b[0] == 'T' || b[0] == 'E');
	case 'S': /* ParameterStatus: a GUC name, its value */
		return len >= 6 && len <= STARTUP_MAX && (!bn || (b[0] && name_ok(b, bn)));
	case 'K':
		return len >= 12 && len <= 8 + CANCEL_KEY_MAX;
	case 'E':
	case 'N':
		return len >= 5 && (!bn || error_field[b[0]]);
	case 'C':
		return len >= 5 && tag_ok(b, bn);
	case '1':
	case '2':
	case '3':
	case 'n':
	case 'I':
	case 's':
	case 'c':
		return len == 4;
	case 'T':
	case 'D':
	case 't':
		return len >= 6;
	case 'G':
	case 'H':
	case 'W':
		return len >= 7;
	case 'A':
		return len >= 10;
	case 'v':
		return len >= 12;
	case 'V':
		return len >= 8;
	default: /* 'd' */
		return true;
	}
}

bool pg_sniff_frontend(const uint8_t *d, size_t n)
{
	if (!d)
		return false;
	return plausible_untyped(d, n) || plausible_typed(PG_FRONTEND, d, n);
}

bool pg_sniff_backend(const uint8_t *d, size_t n)
{
	if (!d)
		return false;
	return plausible_typed(PG_BACKEND, d, n);
}

void pg_stream_init(struct pg_stream *s, enum pg_dir dir, bool untyped)
{
	if (!s)
		return;
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->untyped = dir == PG_FRONTEND && untyped;
}

void pg_stream_expect_ssl_reply(struct pg_stream *backend)
{
	if (backend && backend->dir == PG_BACKEND)
		backend->ssl_reply = true;
}

void pg_stream_expect_startup(struct pg_stream *frontend)
{
	if (frontend && frontend->dir == PG_FRONTEND)
		frontend->untyped = true;
}

/* Back to a message boundary, nothing in progress. */
static void reset_msg(struct pg_stream *s)
{
	s->hdr_len = 0;
	s->type = 0;
	s->len = 0;
	s->got = 0;
	s->kept = 0;
	s->cut = false;
}

/* A message is delivered: its body_len bytes at body (kept: no more than PG_MSG_KEEP). */
static void deliver_msg(struct pg_stream *s, int type, uint32_t len, const uint8_t *body,
			size_t body_len, pg_msg_cb cb, void *ctx, size_t *count)
{
	struct pg_msg m = { .type = type, .len = len, .body = body, .body_len = body_len };

	s->stats.messages++;
	(*count)++;
	if (cb)
		cb(ctx, &m);
}

/* The message in progress, whose end was reached, is delivered from what buf kept. */
static void deliver(struct pg_stream *s, pg_msg_cb cb, void *ctx, size_t *count)
{
	deliver_msg(s, s->type, s->len, s->buf, s->kept, cb, ctx, count);
	reset_msg(s);
}

static void lose(struct pg_stream *s)
{
	reset_msg(s);
	s->lost = true;
	s->stats.lost++;
}

/* s->hdr holds a whole header: begins its message, or returns false if the header lies. */
static bool start_msg(struct pg_stream *s)
{
	uint32_t len;
	int kind;

	if (s->untyped) {
		kind = untyped_kind(s->hdr);
		if (!kind)
			return false;
		s->type = kind;
		s->len = be32(s->hdr) - 4;
		/* The body of an untyped message begins with its code, as the header promises. */
		memcpy(s->buf, s->hdr + 4, 4);
		s->got = 4;
		s->kept = 4;
		/* Whatever the answer to SSL/GSSENC, the next message has no type byte either: a
		 * StartupMessage after 'N', or after 'S' the same inside TLS (which reaches us
		 * decrypted), or another request (libpq tries GSSENC, then SSL). */
		s->untyped = kind == PG_MSG_SSL_REQUEST || kind == PG_MSG_GSS_REQUEST;
	} else {
		if (!typed_body_len(s->hdr, &len))
			return false;
		s->type = s->hdr[0];
		s->len = len;
		s->got = 0;
		s->kept = 0;
	}
	s->cut = false;
	s->hdr_len = 0;
	return true;
}

/* Is d (a whole feed) a place where a lost stream can pick up the thread? */
static bool resync_at(struct pg_stream *s, const uint8_t *d, size_t n)
{
	if (s->dir == PG_BACKEND && s->ssl_reply && n &&
	    (d[0] == 'S' || d[0] == 'G' || d[0] == 'N'))
		return true;
	if (plausible_typed(s->dir, d, n)) {
		s->untyped = false;
		return true;
	}
	return s->dir == PG_FRONTEND && s->untyped && plausible_untyped(d, n);
}

/* A backend write ends with ReadyForQuery after each query cycle: a fully captured write that
 * ends in one tells where the next message starts even when its beginning is unknown. */
static bool ready_at_end(const uint8_t *d, size_t n)
{
	const uint8_t *z;

	if (n < 6)
		return false;
	z = d + n - 6;
	return z[0] == 'Z' && be32(z + 1) == 5 && (z[5] == 'I' || z[5] == 'T' || z[5] == 'E');
}

size_t pg_stream_feed(struct pg_stream *s, const uint8_t *data, size_t len, uint64_t total,
		      pg_msg_cb cb, void *ctx)
{
	size_t count = 0, off = 0, take, keep, need;
	uint64_t gap;

	if (!s)
		return 0;
	if (!data)
		len = 0;
	if (total < len)
		total = len;
	gap = total - len;

	if (s->lost) {
		if (!resync_at(s, data, len)) {
			if (s->dir != PG_BACKEND || gap || !ready_at_end(data, len))
				return 0;
			reset_msg(s);
			s->lost = false;
			s->stats.resync++;
			s->type = 'Z';
			s->len = 1;
			s->got = 1;
			s->kept = 1;
			s->buf[0] = data[len - 1];
			deliver(s, cb, ctx, &count);
			return count;
		}
		reset_msg(s);
		s->lost = false;
		s->stats.resync++;
	}

	while (off < len) {
		/* A typed message whole in this feed, its header at the start of what is left (most
		 * are): delivered from data itself, without going through hdr and buf. Anything else,
		 * a header that lies included, takes the way below. */
		if (!s->type && !s->hdr_len && !s->untyped && !s->ssl_reply &&
		    len - off >= TYPED_HDR && valid_type(s->dir, data[off])) {
			uint32_t body;

			if (typed_body_len(data + off, &body) && body <= len - off - TYPED_HDR) {
				deliver_msg(s, data[off], body, data + off + TYPED_HDR,
					    min_size(body, PG_MSG_KEEP), cb, ctx, &count);
				off += TYPED_HDR + body;
				continue;
			}
		}
		if (!s->type) {
			if (!s->hdr_len && s->ssl_reply) {
				uint8_t c = data[off];

				s->ssl_reply = false;
				if (c == 'S' || c == 'G' || c == 'N') {
					s->type = PG_MSG_SSL_REPLY;
					s->len = 1;
					s->got = 1;
					s->kept = 1;
					s->buf[0] = c;
					off++;
					deliver(s, cb, ctx, &count);
					continue;
				}
				/* Else a server that does not know the request answered with an
				 * ErrorResponse: an ordinary typed message. */
			}
			need = s->untyped ? UNTYPED_HDR : TYPED_HDR;
			/* untyped only turns off at a message boundary, so a header never holds
			 * more than it needs; the copy below must not trust that blindly. */
			if (s->hdr_len >= need) {
				lose(s);
				return count;
			}
			take = min_size(need - s->hdr_len, len - off);
			memcpy(s->hdr + s->hdr_len, data + off, take);
			s->hdr_len += take;
			off += take;
			/* An unknown type is known from its first byte: lose sync now, not after
			 * four more bytes that may never come. */
			if (!s->untyped && !valid_type(s->dir, s->hdr[0])) {
				lose(s);
				return count;
			}
			if (s->hdr_len < need)
				break;
			if (!start_msg(s)) {
				lose(s);
				return count;
			}
		} else {
			take = min_size(s->len - s->got, len - off);
			keep = min_size(take, PG_MSG_KEEP - s->kept);
			memcpy(s->buf + s->kept, data + off, keep);
			s->kept += keep;
			s->got += take;
			off += take;
		}
		if (s->type && s->got == s->len)
			deliver(s, cb, ctx, &count);
	}

	if (!gap)
		return count;
	/* The uncaptured bytes are the rest of a body: skip them and stay in sync. */
	if (s->type && gap <= s->len - s->got) {
		s->got += gap;
		s->cut = true;
		if (s->got == s->len)
			deliver(s, cb, ctx, &count);
		return count;
	}
	/* They hold a header we cannot read. A message that ends inside them is still whole
	 * in its framing, only its body was cut. */
	if (s->type) {
		s->cut = true;
		deliver(s, cb, ctx, &count);
	}
	lose(s);
	return count;
}

/* ---- decoders ---- */

/* The body of m if its type is one of the two asked for (-1 for none), its bytes at hand in *n. */
static bool body_of(const struct pg_msg *m, int type, int type2, const uint8_t **b, size_t *n)
{
	if (!m || (m->type != type && m->type != type2))
		return false;
	if (!m->body && m->body_len)
		return false;
	*b = m->body;
	/* Bytes past the declared length are not this message's, whatever the caller says. */
	*n = m->body_len < m->len ? m->body_len : m->len;
	return true;
}

/* Length of the string at p with its NUL, or 0 when the NUL is not among the n bytes. */
static size_t str_span(const uint8_t *p, size_t n)
{
	const uint8_t *nul;

	if (!n)
		return 0;
	nul = memchr(p, 0, n);
	return nul ? (size_t)(nul - p) + 1 : 0;
}

/* Copies n bytes of text into dst (size > 0), cut to fit and NUL-terminated; true if cut. */
static bool copy_str(char *dst, size_t size, const uint8_t *src, size_t n)
{
	bool cut = n > size - 1;

	if (cut)
		n = size - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return cut;
}

static bool key_is(const uint8_t *k, size_t span, const char *name)
{
	return span == strlen(name) + 1 && !memcmp(k, name, span - 1);
}

int pg_decode_startup(const struct pg_msg *m, struct pg_startup *out)
{
	const uint8_t *b;
	size_t n, off, k, v;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!body_of(m, PG_MSG_STARTUP, -1, &b, &n) || n < 4)
		return -1;
	out->protocol = be32(b);
	/* Pairs until the empty name that ends the list; a value cut short is not taken: a
	 * prefix of a user name names someone else. */
	for (off = 4; off < n && b[off]; off += k + v) {
		char *dst = NULL;

		k = str_span(b + off, n - off);
		if (!k)
			break;
		v = str_span(b + off + k, n - off - k);
		if (!v)
			break;
		if (key_is(b + off, k, "user"))
			dst = out->user;
		else if (key_is(b + off, k, "database"))
			dst = out->database;
		else if (key_is(b + off, k, "application_name"))
			dst = out->application;
		if (dst)
			copy_str(dst, PG_NAME_MAX, b + off + k, v - 1);
	}
	/* The server does the same with an absent or empty database. */
	if (!out->database[0])
		memcpy(out->database, out->user, sizeof(out->database));
	return 0;
}

int pg_decode_query(const struct pg_msg *m, char *sql, size_t sqlsz, bool *cut)
{
	const uint8_t *b;
	size_t n, span;
	bool c;

	if (cut)
		*cut = false;
	if (!sql || !sqlsz)
		return -1;
	sql[0] = '\0';
	if (!body_of(m, 'Q', -1, &b, &n) || !m->len)
		return -1;
	span = str_span(b, n);
	c = copy_str(sql, sqlsz, b, span ? span - 1 : n);
	if (cut)
		*cut = c || !span;
	return 0;
}

int pg_decode_parse(const struct pg_msg *m, struct pg_parse *out)
{
	const uint8_t *b;
	size_t n, k, q;

	if (!out)
		return -1;
	/* as a memset would leave it, but for the bytes past each string's NUL: 2 KiB spared on
	 * every statement of the extended protocol */
	_Static_assert(sizeof(*out) == PG_NAME_MAX + PG_SQL_MAX + sizeof(bool),
		       "struct pg_parse changed: reset its new fields here, then update the size");
	out->stmt[0] = out->sql[0] = '\0';
	out->cut = false;
	/* Without its NUL the statement name may be a prefix of another: not worth a guess. */
	if (!body_of(m, 'P', -1, &b, &n) || !(k = str_span(b, n)))
		return -1;
	copy_str(out->stmt, sizeof(out->stmt), b, k - 1);
	q = str_span(b + k, n - k);
	out->cut = copy_str(out->sql, sizeof(out->sql), b + k, q ? q - 1 : n - k) || !q;
	return 0;
}

int pg_decode_bind(const struct pg_msg *m, char *portal, char *stmt)
{
	const uint8_t *b;
	size_t n, p, st;

	if (!portal || !stmt)
		return -1;
	portal[0] = stmt[0] = '\0';
	if (!body_of(m, 'B', -1, &b, &n) || !(p = str_span(b, n)) || !(st = str_span(b + p, n - p)))
		return -1;
	copy_str(portal, PG_NAME_MAX, b, p - 1);
	copy_str(stmt, PG_NAME_MAX, b + p, st - 1);
	return 0;
}

int pg_decode_execute(const struct pg_msg *m, char *portal, uint32_t *max_rows)
{
	const uint8_t *b;
	size_t n, p;

	if (!portal)
		return -1;
	portal[0] = '\0';
	if (max_rows)
		*max_rows = 0;
	if (!body_of(m, 'E', -1, &b, &n) || !(p = str_span(b, n)) || n - p < 4)
		return -1;
	copy_str(portal, PG_NAME_MAX, b, p - 1);
	if (max_rows)
		*max_rows = be32(b + p);
	return 0;
}

int pg_decode_target(const struct pg_msg *m, char *what, char *name)
{
	const uint8_t *b;
	size_t n, k;

	if (!what || !name)
		return -1;
	*what = '\0';
	name[0] = '\0';
	if (!body_of(m, 'C', 'D', &b, &n) || n < 1 || (b[0] != 'S' && b[0] != 'P') ||
	    !(k = str_span(b + 1, n - 1)))
		return -1;
	*what = (char)b[0];
	copy_str(name, PG_NAME_MAX, b + 1, k - 1);
	return 0;
}

int pg_decode_complete(const struct pg_msg *m, struct pg_complete *out)
{
	const uint8_t *b;
	size_t n, t, i, last;
	int64_t rows = 0;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	out->rows = -1;
	/* A tag cut short could turn "SELECT 12" into "SELECT 1": only a whole tag is read. */
	if (!body_of(m, 'C', -1, &b, &n) || !(t = str_span(b, n)))
		return -1;
	t--;
	copy_str(out->tag, sizeof(out->tag), b, t);
	for (i = 0; i < t && b[i] != ' '; i++)
		;
	copy_str(out->verb, sizeof(out->verb), b, i);
	if (i == t)
		return 0; /* one word: BEGIN, COMMIT, ... */
	for (last = t; last > 0 && b[last - 1] != ' '; last--)
		;
	if (last == t)
		return 0;
	for (i = last; i < t; i++) {
		if (b[i] < '0' || b[i] > '9' || rows > (INT64_MAX - (b[i] - '0')) / 10)
			return 0;
		rows = rows * 10 + (b[i] - '0');
	}
	out->rows = rows;
	return 0;
}

static bool is_sqlstate(const uint8_t *p, size_t n)
{
	size_t i;

	if (n != 5)
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'Z')))
			return false;
	return true;
}

int pg_decode_error(const struct pg_msg *m, struct pg_error *out)
{
	const uint8_t *b;
	size_t n, off = 0, v;
	bool have_v = false;
	int fields = 0;

	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!body_of(m, 'E', 'N', &b, &n))
		return -1;
	while (off < n && b[off]) {
		uint8_t code = b[off++];

		v = str_span(b + off, n - off);
		if (!v) {
			/* Cut in its last field: a message's first bytes still say what went
			 * wrong, a cut severity or SQLSTATE says nothing. */
			if (code == 'M' && off < n) {
				copy_str(out->message, sizeof(out->message), b + off, n - off);
				fields++;
			}
			break;
		}
		switch (code) {
		case 'V':
			have_v = true;
			copy_str(out->severity, sizeof(out->severity), b + off, v - 1);
			break;
		case 'S':
			/* 'S' is translated to the server's language; 'V' (9.6+) is not. */
			if (!have_v)
				copy_str(out->severity, sizeof(out->severity), b + off, v - 1);
			break;
		case 'C':
			if (is_sqlstate(b + off, v - 1))
				copy_str(out->sqlstate, sizeof(out->sqlstate), b + off, v - 1);
			break;
		case 'M':
			copy_str(out->message, sizeof(out->message), b + off, v - 1);
			break;
		}
		fields++;
		off += v;
	}
	return fields ? 0 : -1;
}

int pg_decode_ready(const struct pg_msg *m, char *status)
{
	const uint8_t *b;
	size_t n;

	if (!status)
		return -1;
	*status = '\0';
	if (!body_of(m, 'Z', -1, &b, &n) || n < 1 || (b[0] != 'I' && b[0] != 'T' && b[0] != 'E'))
		return -1;
	*status = (char)b[0];
	return 0;
}

int pg_decode_key(const struct pg_msg *m, uint32_t *pid, uint32_t *key)
{
	const uint8_t *b;
	size_t n, off;

	if (!pid || !key)
		return -1;
	*pid = *key = 0;
	if (!body_of(m, 'K', PG_MSG_CANCEL, &b, &n))
		return -1;
	off = m->type == PG_MSG_CANCEL ? 4 : 0; /* after the request code */
	if (n < off + 8)
		return -1;
	*pid = be32(b + off);
	/* Protocol 3.2 keys are longer: their first four bytes still tell cancels apart. */
	*key = be32(b + off + 4);
	return 0;
}
