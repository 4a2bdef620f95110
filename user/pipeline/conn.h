/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The table of connections every protocol shares, owned by none: each connection's identity
 * (id, process), both ends, whether its bytes come from a TLS library, and which protocol reads
 * it (decided once, by the registered sniffers, on the first bytes it moves). A protocol is a
 * sniffer, a feeder and a closer registered here; its per-connection state hangs off the
 * connection and goes when the connection does (close, process exit, eviction of the least
 * recently used when the table is full). Also who serves which request (threads and goroutines),
 * which child spans use to find their parent. Pure: events in as plain values, no I/O.
 */
#ifndef OBSPROBE_CONN_H
#define OBSPROBE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/actors.h"

#define CONN_ADDR_MAX 64
#define CONN_MAX_PROTOS 8

enum conn_dir {
	CONN_DIR_IN = 0,  /* the watched process read these bytes */
	CONN_DIR_OUT = 1, /* the watched process wrote these bytes */
};

/* What is known of a connection's ends when it opened. */
struct conn_meta {
	uint64_t conn_id;
	uint32_t pid;
	int fd;
	bool accepted;	/* the process accepted it: it is the server end */
	bool connected; /* the process connected it: it is the client end */
	bool is_unix;
	char local_addr[CONN_ADDR_MAX];
	int local_port;
	char remote_addr[CONN_ADDR_MAX];
	int remote_port;
};

struct conn_proto;

struct conn {
	uint64_t id;
	uint32_t pid;
	bool have_meta; /* its opening was seen: meta holds its ends */
	bool tls;	/* its bytes come decrypted from a TLS library */
	struct conn_meta meta;
	const struct conn_proto *proto; /* NULL until its first bytes chose one */
	void *state;			/* the protocol's own, freed by its close() */
	/* the table's */
	struct conn *hnext, *lru_prev, *lru_next, *tnext;
	/* closed at closed_ns, kept a grace period for events still on their way (closing list):
	 * until reap_at, the grace after the reaper first saw it (0: not yet) */
	uint64_t closed_ns, reap_at;
	struct conn *cnext, **cprev;
	bool in_tuples;
	uint16_t tuple_b, peer_b; /* while in_tuples: its bucket of tuples, its other end's */
	bool undecided;		  /* its first bytes were taken by no protocol */
};

/* Bytes one syscall or TLS call moved: `len` of them captured, of `total`. */
struct conn_data {
	uint32_t tid;
	bool go;       /* made by a Go program whose goroutines are followed */
	uint64_t goid; /* then: the goroutine that made it, 0 when unknown */
	int fd;	       /* the socket's descriptor in its process, -1 when unknown */
	uint64_t ts_ns;
	enum conn_dir dir;
	bool from_tls;
	const uint8_t *data;
	size_t len;
	uint64_t total;
};

struct conn_proto {
	const char *name;
	/* Could these first bytes of a connection be this protocol's? NULL: takes any (the
	 * fallback; register it last). */
	bool (*sniff)(enum conn_dir dir, const uint8_t *data, size_t len);
	void (*data)(void *tracker, struct conn *c, const struct conn_data *d);
	/* The connection ends: finish what is in flight at ts_ns (0: it was dropped from the table,
	 * nothing more is known), free c->state. */
	void (*close)(void *tracker, struct conn *c, uint64_t ts_ns);
	/* The process is gone (its connections were closed first); NULL: nothing to do. */
	void (*proc_exit)(void *tracker, uint32_t pid);
	void *tracker;
};

struct conn_table_stats {
	uint64_t conns;	  /* connections tracked now */
	uint64_t evicted; /* connections dropped: the table was full */
};

struct conn_table;

struct conn_table *conn_table_new(size_t max_conns);
void conn_table_free(struct conn_table *t); /* closes every connection; NULL ok */

/* Sniffers are tried in the order protocols register. 0, or -ENOSPC. */
int conn_table_register(struct conn_table *t, const struct conn_proto *p);

void conn_table_open(struct conn_table *t, const struct conn_meta *m);
/* Bytes of conn_id: to its protocol, chosen on the first call. */
void conn_table_data(struct conn_table *t, uint64_t conn_id, uint32_t pid,
		     const struct conn_data *d);
void conn_table_close(struct conn_table *t, uint64_t conn_id, uint64_t ts_ns);
/* How long a closed connection still takes events (0, the default: none). Two threads of a
 * process: the one that reads the answer and closes can be reported before the one whose write
 * asked for it. conn_table_reap() ends connections whose grace is over. */
void conn_table_set_close_grace(struct conn_table *t, uint64_t ns);
/* Ends the connections closed more than the grace before now_ns (UINT64_MAX: all closed). */
void conn_table_reap(struct conn_table *t, uint64_t now_ns);
/* The process is gone: close every connection of it. */
void conn_table_proc_exit(struct conn_table *t, uint32_t pid, uint64_t ts_ns);
/* The entry of conn_id, made when new (NULL when it cannot be); moves it to most recent. */
struct conn *conn_table_get(struct conn_table *t, uint64_t conn_id, uint32_t pid);
/* The other end of c's TCP connection, when a watched process holds it too. */
struct conn *conn_table_peer(struct conn_table *t, const struct conn *c);
/* Whether a and b are the two ends of one TCP connection. */
bool conn_meta_other_end(const struct conn_meta *a, const struct conn_meta *b);
/* Every connection whose protocol is p. */
void conn_table_visit(const struct conn_table *t, const struct conn_proto *p,
		      void (*fn)(void *ctx, const struct conn *c), void *ctx);
void conn_table_get_stats(const struct conn_table *t, struct conn_table_stats *out);

/* Who made the bytes d: its thread, or in a Go program its goroutine (actors.h). */
static inline uint64_t conn_data_actor(const struct conn_data *d)
{
	return actor_key(d->tid, d->go, d->goid);
}

/* Who serves which request (threads, goroutines): what a call made while serving one is the
 * child of (pipeline/actors.h). */
struct actors *conn_table_actors(struct conn_table *t);

#endif /* OBSPROBE_CONN_H */
