/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * libpq calls of watched processes, from entry uprobes: the query a PGconn is sent (its text,
 * or the name of its prepared statement), the connection parameters a connection starts with,
 * and its end. User space joins them with the wire messages the same thread writes next.
 */
#ifndef OBSPROBE_LIBPQ_H
#define OBSPROBE_LIBPQ_H

#include "obsprobe/common.h"

#define LIBPQ_TEXT_MAX 1024
#define LIBPQ_NAME_MAX 64
/* PQconnectStartParams: keyword/value pairs in fixed slots of text */
#define LIBPQ_PARAM_SLOTS 10
#define LIBPQ_KEY_MAX 16
#define LIBPQ_VALUE_MAX 80
#define LIBPQ_SLOT (LIBPQ_KEY_MAX + LIBPQ_VALUE_MAX)

enum libpq_call {
	LIBPQ_SEND_QUERY = 1,	     /* PQsendQuery(conn, query); PQexec calls it */
	LIBPQ_SEND_QUERY_PARAMS = 2, /* PQsendQueryParams(conn, command, ...); PQexecParams */
	LIBPQ_SEND_PREPARE = 3,	     /* PQsendPrepare(conn, stmtName, query, ...); PQprepare */
	LIBPQ_SEND_QUERY_PREPARED =
		4,		 /* PQsendQueryPrepared(conn, stmtName, ...); PQexecPrepared */
	LIBPQ_CONNECT_START = 5, /* PQconnectStart(conninfo); PQconnectdb */
	LIBPQ_CONNECT_START_PARAMS = 6, /* PQconnectStartParams(keywords, values, expand_dbname) */
	LIBPQ_FINISH = 7,		/* PQfinish(conn) */
};

/* OBS_EV_LIBPQ */
struct libpq_event {
	struct obs_event_hdr hdr;
	__u64 conn;   /* the PGconn *; 0 for the connect calls, which return it */
	__u8 call;    /* enum libpq_call */
	__u8 nparams; /* LIBPQ_CONNECT_START_PARAMS: slots filled */
	__u16 pad;
	__u32 pad2;
	char name[LIBPQ_NAME_MAX]; /* the prepared statement's name */
	/* the SQL text or the conninfo string, NUL-terminated; LIBPQ_CONNECT_START_PARAMS:
	 * nparams slots of LIBPQ_SLOT bytes, a keyword then its value (a password's value is
	 * never read) */
	char text[LIBPQ_TEXT_MAX];
};
_Static_assert(sizeof(struct libpq_event) == 40 + LIBPQ_NAME_MAX + LIBPQ_TEXT_MAX,
	       "libpq_event layout");
/* An event is sent as long as its text is: this header, then the text's bytes up to its NUL
 * (at least the NUL); LIBPQ_CONNECT_START_PARAMS, its nparams slots. A pgbench statement's event
 * was 1,128 bytes through the ring buffer, where its SQL is ~100. */
#define LIBPQ_EVENT_HDR (40 + LIBPQ_NAME_MAX)
_Static_assert(LIBPQ_PARAM_SLOTS *LIBPQ_SLOT <= LIBPQ_TEXT_MAX, "libpq param slots fit");

#endif /* OBSPROBE_LIBPQ_H */
