/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PostgreSQL frontend/backend protocol (v3) as pure functions over bytes: no I/O, no globals,
 * no allocation. One pg_stream frames one direction of one connection into messages; the
 * pg_decode_* functions read the fields obsprobe uses out of one message. Input comes from
 * partial captures of a process's socket traffic, so nothing in it is trusted: no length field
 * is believed beyond the bytes at hand, every copy is bounded, every string NUL-terminated.
 */
#ifndef OBSPROBE_PG_PARSER_H
#define OBSPROBE_PG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PG_MSG_KEEP 4096       /* body bytes of one message kept for decoding */
#define PG_MSG_MAX 0x40000000u /* a declared length above this (1 GiB) is a lost stream */
#define PG_NAME_MAX 64	       /* statement, portal, user and database names kept */
#define PG_SQL_MAX 2048	       /* SQL text kept */
#define PG_ERRMSG_MAX 256

/* Protocol codes of the untyped first messages (a 4-byte length, then this int32). */
#define PG_PROTO_V3 0x00030000u
#define PG_CODE_CANCEL 80877102u
#define PG_CODE_SSL 80877103u
#define PG_CODE_GSSENC 80877104u

enum pg_dir {
	PG_FRONTEND = 0, /* client to server */
	PG_BACKEND = 1,	 /* server to client */
};

/* Pseudo types for the messages that carry no type byte. */
#define PG_MSG_STARTUP 0x100 /* StartupMessage (protocol 3.x) */
#define PG_MSG_SSL_REQUEST 0x101
#define PG_MSG_GSS_REQUEST 0x102
#define PG_MSG_CANCEL 0x103    /* CancelRequest */
#define PG_MSG_SSL_REPLY 0x104 /* the backend's one byte answer to SSL/GSSENC: 'S', 'G' or 'N' */

/* One framed message. body holds the first body_len bytes of the body (the bytes after the
 * length field; for the untyped startup messages, after the length too, so a StartupMessage's
 * body begins with the protocol code). For PG_MSG_SSL_REPLY, body is the reply byte. */
struct pg_msg {
	int type;     /* the type byte ('Q', 'Z', ...) or a PG_MSG_* pseudo type */
	uint32_t len; /* body length the message declared */
	const uint8_t *body;
	size_t body_len; /* <= len; < len when the capture or PG_MSG_KEEP cut it */
};

typedef void (*pg_msg_cb)(void *ctx, const struct pg_msg *m);

struct pg_stream_stats {
	uint64_t messages; /* delivered */
	uint64_t lost;	   /* times sync was lost: a gap past a message end, a length that lies */
	uint64_t resync;   /* times sync was found again */
};

/* One direction of one connection. Zero it with pg_stream_init. */
struct pg_stream {
	enum pg_dir dir;
	bool untyped;	/* frontend: the next message is a startup-phase one (no type byte) */
	bool ssl_reply; /* backend: the next byte is the answer to an SSL/GSSENC request */
	bool lost;	/* out of sync: skip until a message start is recognised */
	uint8_t hdr[8]; /* a header split across feeds */
	size_t hdr_len;
	int type;     /* message in progress */
	uint32_t len; /* its declared body length */
	uint32_t got; /* body bytes of it consumed so far (captured or skipped) */
	size_t kept;  /* body bytes of it in buf */
	bool cut;     /* part of its body was not captured */
	struct pg_stream_stats stats;
	uint8_t buf[PG_MSG_KEEP];
};

/* untyped: the frontend stream starts at a connection's beginning (its first message is a
 * startup-phase one). Ignored for the backend. */
void pg_stream_init(struct pg_stream *s, enum pg_dir dir, bool untyped);

/* Feeds the next bytes of the stream: the first len of total bytes that moved, the other
 * total - len having not been captured (they come after the captured ones). Calls cb for each
 * message whose end is reached, in order; a message whose body was not all captured is still
 * delivered (body_len < len) as long as the stream kept its sync. Returns the messages
 * delivered. A gap that runs past the end of the message in progress, or a length that cannot
 * be, loses sync; sync is found again at the start of a later feed that begins with a
 * plausible message header, or at a ReadyForQuery that ends a fully captured backend feed. */
size_t pg_stream_feed(struct pg_stream *s, const uint8_t *data, size_t len, uint64_t total,
		      pg_msg_cb cb, void *ctx);

/* The frontend answer to the backend's SSL reply: after 'N' the client sends a startup message
 * again. pg_stream_feed does this itself for a frontend stream; the tracker calls these to tell
 * the other direction. */
void pg_stream_expect_ssl_reply(struct pg_stream *backend);
void pg_stream_expect_startup(struct pg_stream *frontend);

/* Could these bytes (the first of a stream seen, up to 16 used) start a frontend message of a
 * PostgreSQL client: a startup-phase message, or a typed message (Q, P, B, E, S, D, C, H, F, X,
 * d, c, f) with a plausible length and, for Q and P, text where text goes? */
bool pg_sniff_frontend(const uint8_t *d, size_t n);
/* ... a backend message (R, S, K, Z, T, D, C, E, N, 1, 2, 3, n, I, s, t, G, H, W, A, v, c,
 * d) with a plausible length? */
bool pg_sniff_backend(const uint8_t *d, size_t n);

/* ---- decoding one message; each returns 0, or -1 when the body is malformed ---- */

struct pg_startup {
	uint32_t protocol; /* 0x00030000 */
	char user[PG_NAME_MAX];
	char database[PG_NAME_MAX]; /* defaults to user when absent, as the server does */
	char application[PG_NAME_MAX];
};
int pg_decode_startup(const struct pg_msg *m, struct pg_startup *out);

/* 'Q' Query: the SQL text (truncated to PG_SQL_MAX - 1; *cut set when the text does not end in
 * what was captured). */
int pg_decode_query(const struct pg_msg *m, char *sql, size_t sqlsz, bool *cut);

/* 'P' Parse: statement name ("" is the unnamed statement) and its SQL. */
struct pg_parse {
	char stmt[PG_NAME_MAX];
	char sql[PG_SQL_MAX];
	bool cut; /* the SQL did not fit or was not all captured */
};
int pg_decode_parse(const struct pg_msg *m, struct pg_parse *out);

/* 'B' Bind: portal and statement names (parameters are not read: they are the literals). */
int pg_decode_bind(const struct pg_msg *m, char *portal, char *stmt); /* PG_NAME_MAX each */

/* 'E' Execute (frontend): portal name and row limit. */
int pg_decode_execute(const struct pg_msg *m, char *portal, uint32_t *max_rows);

/* 'C' Close and 'D' Describe (frontend): 'S' statement or 'P' portal, and its name. */
int pg_decode_target(const struct pg_msg *m, char *what, char *name);

/* 'C' CommandComplete (backend): the command tag ("INSERT 0 1", "SELECT 5", "BEGIN"). Also
 * its first word, and the row count when the tag ends in one (-1 otherwise). */
struct pg_complete {
	char tag[PG_NAME_MAX];
	char verb[32];
	int64_t rows;
};
int pg_decode_complete(const struct pg_msg *m, struct pg_complete *out);

/* 'E' ErrorResponse and 'N' NoticeResponse (backend): the fields obsprobe exports. Missing
 * fields are "". */
struct pg_error {
	char severity[16];	     /* 'V' (non-localised), else 'S' */
	char sqlstate[6];	     /* 'C', five characters */
	char message[PG_ERRMSG_MAX]; /* 'M' */
};
int pg_decode_error(const struct pg_msg *m, struct pg_error *out);

/* 'Z' ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
int pg_decode_ready(const struct pg_msg *m, char *status);

/* 'K' BackendKeyData and PG_MSG_CANCEL: the backend's pid and secret key. */
int pg_decode_key(const struct pg_msg *m, uint32_t *pid, uint32_t *key);

#endif /* OBSPROBE_PG_PARSER_H */
