/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * PostgreSQL over connections: frames each client connection's two byte streams (pg_parser),
 * follows the queries in flight per connection (simple, extended, pipelined; prepared statements
 * by name), joins the libpq calls that started them, and makes one CLIENT span per executed
 * statement. Pure: events come in as plain values, spans leave through a callback.
 */
#ifndef OBSPROBE_PG_H
#define OBSPROBE_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "obsprobe/libpq.h"
#include "pipeline/conn.h"
#include "pipeline/span.h"

#define PG_MAX_OPS 64		 /* messages awaiting an answer on one connection */
#define PG_MAX_COLLECTIONS 1000	 /* distinct collections (tables) named in span names */
#define PG_MAX_STMTS 256	 /* prepared statements remembered per connection */
#define PG_MAX_PORTALS 16	 /* named portals remembered per connection */
#define PG_MAX_THREADS 4096	 /* threads with libpq calls not joined yet */
#define PG_MAX_CALLS 8		 /* libpq calls per thread awaiting their wire message */
#define PG_JOIN_NS 5000000000ull /* a libpq call older than this joins nothing (5 s) */

struct pg_tracker_ops {
	/* A finished span. */
	void (*span)(void *ctx, const struct span *s);
	/* The span a query made by actor (pipeline/actors.h) of pid belongs under (the request it
	 * serves), if any. */
	bool (*parent)(void *ctx, uint32_t pid, uint64_t actor, uint8_t trace_id[16],
		       uint8_t span_id[8]);
	void *ctx;
};

struct pg_tracker_stats {
	uint64_t conns;		 /* client connections tracked now */
	uint64_t lost;		 /* times a stream lost its sync (gaps, lengths that lie) */
	uint64_t unpaired;	 /* answers with no message of ours waiting for them */
	uint64_t aborted;	 /* queries whose connection ended before the answer */
	uint64_t ops_full;	 /* queries not followed: PG_MAX_OPS reached */
	uint64_t encrypted;	 /* connections gone TLS with no plaintext from a TLS library */
	uint64_t libpq_calls;	 /* libpq query calls seen */
	uint64_t libpq_joined;	 /* ... joined with their wire messages */
	uint64_t libpq_unjoined; /* ... that no wire message followed (TLS not decrypted, lost) */
	/* spans named by their operation alone: PG_MAX_COLLECTIONS distinct collections were
	 * named already */
	uint64_t collection_overflows;
};

struct pg_tracker;

/* Registers PostgreSQL with conns: a connection whose first bytes are PostgreSQL's (either end)
 * is read here. The tracker must be freed after conns. */
struct pg_tracker *pg_tracker_new(const struct pg_tracker_ops *ops, struct conn_table *conns);
void pg_tracker_free(struct pg_tracker *t); /* NULL ok */

/* A libpq call: an OBS_EV_LIBPQ event of size bytes (its hdr has pid, tid and time; its text
 * is as long as LIBPQ_EVENT_HDR says). 0, or -EINVAL for an event too short or too long. */
int pg_tracker_libpq(struct pg_tracker *t, const void *event, size_t size);
void pg_tracker_get_stats(const struct pg_tracker *t, struct pg_tracker_stats *out);

/* Each client connection: its process, pool name (server.address:server.port) and whether it
 * is in use (a query in flight or a transaction open) or idle. */
typedef void (*pg_conn_visit_fn)(void *ctx, uint32_t pid, const char *pool, bool used);
void pg_tracker_visit_conns(const struct pg_tracker *t, pg_conn_visit_fn fn, void *ctx);

#endif /* OBSPROBE_PG_H */
