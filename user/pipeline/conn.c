// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define CONN_BUCKETS 4096
_Static_assert(CONN_BUCKETS <= 65536, "struct conn keeps a bucket in a uint16_t");

struct conn_table {
	size_t max_conns;
	struct conn *buckets[CONN_BUCKETS];
	/* connections by (local, remote) address: both ends of a loopback or same-host connection
	 * may be watched, and then the server's span belongs to the client's trace */
	struct conn *tuples[CONN_BUCKETS];
	struct conn lru; /* sentinel: lru.lru_next is the least recently used */
	struct actors *actors;
	uint64_t close_grace;
	struct conn *closing, **closing_tail; /* closed, oldest first */
	struct conn *unseen;		      /* the first of them the reaper has not seen */
	const struct conn_proto *protos[CONN_MAX_PROTOS];
	size_t nprotos;
	struct conn_table_stats stats;
};

static size_t conn_bucket(uint64_t id)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 52) % CONN_BUCKETS;
}

/* The addresses hashed a word at a time; once per connection (tuple_link), which keeps its
 * bucket and its other end's for the lookups of each request (a span's peer). */
static size_t tuple_bucket(const char *la, int lp, const char *ra, int rp)
{
	uint64_t h = hash_words(la, strlen(la));

	h = (h ^ hash_words(ra, strlen(ra)) * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
	h ^= ((uint64_t)(uint32_t)lp << 32 | (uint32_t)rp) * 0xc4ceb9fe1a85ec53ull;
	return (size_t)((h ^ h >> 29) % CONN_BUCKETS);
}

static void lru_unlink(struct conn *c)
{
	c->lru_prev->lru_next = c->lru_next;
	c->lru_next->lru_prev = c->lru_prev;
}

static void lru_push(struct conn_table *t, struct conn *c)
{
	c->lru_prev = t->lru.lru_prev;
	c->lru_next = &t->lru;
	t->lru.lru_prev->lru_next = c;
	t->lru.lru_prev = c;
}

static struct conn **conn_slot(struct conn_table *t, uint64_t id)
{
	struct conn **pp = &t->buckets[conn_bucket(id)];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->hnext;
	return pp;
}

static void tuple_unlink(struct conn_table *t, struct conn *c)
{
	struct conn **pp;

	if (!c->in_tuples)
		return;
	pp = &t->tuples[c->tuple_b];
	while (*pp && *pp != c)
		pp = &(*pp)->tnext;
	if (*pp)
		*pp = c->tnext;
	c->in_tuples = false;
}

static void tuple_link(struct conn_table *t, struct conn *c)
{
	size_t b;

	if (c->meta.is_unix || !c->meta.local_addr[0] || !c->meta.remote_addr[0])
		return;
	b = tuple_bucket(c->meta.local_addr, c->meta.local_port, c->meta.remote_addr,
			 c->meta.remote_port);
	c->tuple_b = (uint16_t)b;
	c->peer_b = (uint16_t)tuple_bucket(c->meta.remote_addr, c->meta.remote_port,
					   c->meta.local_addr, c->meta.local_port);
	c->tnext = t->tuples[b];
	t->tuples[b] = c;
	c->in_tuples = true;
}

bool conn_meta_other_end(const struct conn_meta *a, const struct conn_meta *b)
{
	return a->local_port == b->remote_port && a->remote_port == b->local_port &&
	       !strcmp(a->local_addr, b->remote_addr) && !strcmp(a->remote_addr, b->local_addr);
}

struct conn *conn_table_peer(struct conn_table *t, const struct conn *c)
{
	const struct conn_meta *m = &c->meta;
	struct conn *p;

	if (!c->in_tuples)
		return NULL;
	for (p = t->tuples[c->peer_b]; p; p = p->tnext)
		if (p != c && conn_meta_other_end(&p->meta, m))
			return p;
	return NULL;
}

/* Ends c: its protocol finishes and frees its state, then the entry goes. */
static void closing_unlink(struct conn_table *t, struct conn *c)
{
	if (!c->cprev)
		return;
	if (t->unseen == c)
		t->unseen = c->cnext;
	*c->cprev = c->cnext;
	if (c->cnext)
		c->cnext->cprev = c->cprev;
	else
		t->closing_tail = c->cprev;
	c->cprev = NULL;
}

static void conn_remove(struct conn_table *t, struct conn *c, uint64_t ts_ns)
{
	struct conn **pp = conn_slot(t, c->id);

	closing_unlink(t, c);
	if (c->proto)
		c->proto->close(c->proto->tracker, c, ts_ns);
	tuple_unlink(t, c);
	if (*pp == c)
		*pp = c->hnext;
	lru_unlink(c);
	t->stats.conns--;
	free(c);
}

struct conn *conn_table_get(struct conn_table *t, uint64_t id, uint32_t pid)
{
	struct conn **pp = conn_slot(t, id), *c = *pp;

	if (c) {
		lru_unlink(c);
		lru_push(t, c);
		return c;
	}
	if (t->stats.conns >= t->max_conns && t->lru.lru_next != &t->lru) {
		t->stats.evicted++;
		/* what it had in flight ends unanswered, as if it closed now */
		conn_remove(t, t->lru.lru_next, 0);
		pp = conn_slot(t, id);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->pid = pid;
	*pp = c;
	lru_push(t, c);
	t->stats.conns++;
	return c;
}

struct conn_table *conn_table_new(size_t max_conns)
{
	struct conn_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max_conns = max_conns ? max_conns : 1;
	t->lru.lru_next = t->lru.lru_prev = &t->lru;
	t->closing_tail = &t->closing;
	t->actors = actors_new();
	if (!t->actors) {
		free(t);
		return NULL;
	}
	return t;
}

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	while (t->lru.lru_next != &t->lru)
		conn_remove(t, t->lru.lru_next, 0);
	actors_free(t->actors);
	free(t);
}

int conn_table_register(struct conn_table *t, const struct conn_proto *p)
{
	if (t->nprotos == CONN_MAX_PROTOS)
		return -ENOSPC;
	t->protos[t->nprotos++] = p;
	return 0;
}

void conn_table_open(struct conn_table *t, const struct conn_meta *m)
{
	struct conn *c = conn_table_get(t, m->conn_id, m->pid);

	if (!c)
		return;
	tuple_unlink(t, c);
	c->meta = *m;
	c->have_meta = true;
	tuple_link(t, c);
}

/* The first registered protocol whose sniffer takes these bytes; the fallback takes any. */
static const struct conn_proto *choose(const struct conn_table *t, const struct conn_data *d)
{
	size_t i;

	for (i = 0; i < t->nprotos; i++)
		if (!t->protos[i]->sniff || t->protos[i]->sniff(d->dir, d->data, d->len))
			return t->protos[i];
	return NULL;
}

void conn_table_data(struct conn_table *t, uint64_t conn_id, uint32_t pid,
		     const struct conn_data *d)
{
	struct conn *c = conn_table_get(t, conn_id, pid);

	if (!c)
		return;
	if (d->from_tls && !c->tls) {
		c->tls = true;
		/* bytes seen before the TLS library's (a handshake read or written before its
		 * socket was tied to the library's calls): the plaintext decides */
		if (c->proto)
			c->proto->close(c->proto->tracker, c, 0);
		c->proto = NULL;
		c->undecided = false;
	}
	/* nothing captured (sendfile, a failed copy) shows no protocol: the first bytes decide */
	if (!c->proto && !d->len)
		return;
	if (!c->proto && !c->undecided) {
		c->proto = choose(t, d);
		c->undecided = !c->proto;
	}
	if (c->proto)
		c->proto->data(c->proto->tracker, c, d);
}

void conn_table_close(struct conn_table *t, uint64_t conn_id, uint64_t ts_ns)
{
	struct conn *c = *conn_slot(t, conn_id);

	if (!c || c->cprev)
		return;
	if (!t->close_grace) {
		conn_remove(t, c, ts_ns);
		return;
	}
	c->closed_ns = ts_ns ? ts_ns : 1;
	c->reap_at = 0;
	if (!t->unseen)
		t->unseen = c;
	c->cnext = NULL;
	c->cprev = t->closing_tail;
	*t->closing_tail = c;
	t->closing_tail = &c->cnext;
}

void conn_table_set_close_grace(struct conn_table *t, uint64_t ns)
{
	t->close_grace = ns;
}

void conn_table_reap(struct conn_table *t, uint64_t now_ns)
{
	struct conn *c;

	/* The grace runs from when the close was read, not from its timestamp: a reader that
	 * lags behind would otherwise end a connection before a writer descheduled between its
	 * send and its syscall's exit has reported the bytes. Later closes get later deadlines:
	 * the list stays in deadline order. */
	for (c = t->unseen; c; c = c->cnext)
		c->reap_at = now_ns == UINT64_MAX ? now_ns : now_ns + t->close_grace;
	t->unseen = NULL;
	while (t->closing && (now_ns == UINT64_MAX || t->closing->reap_at <= now_ns))
		conn_remove(t, t->closing, t->closing->closed_ns);
}

void conn_table_proc_exit(struct conn_table *t, uint32_t pid, uint64_t ts_ns)
{
	struct conn *c, *n;

	size_t i;

	for (c = t->lru.lru_next; c != &t->lru; c = n) {
		n = c->lru_next;
		if (c->pid == pid)
			conn_remove(t, c, ts_ns);
	}
	for (i = 0; i < t->nprotos; i++)
		if (t->protos[i]->proc_exit)
			t->protos[i]->proc_exit(t->protos[i]->tracker, pid);
	actors_proc_exit(t->actors, pid);
}

void conn_table_visit(const struct conn_table *t, const struct conn_proto *p,
		      void (*fn)(void *ctx, const struct conn *c), void *ctx)
{
	const struct conn *c;

	for (c = t->lru.lru_next; c != &t->lru; c = c->lru_next)
		if (c->proto == p)
			fn(ctx, c);
}

void conn_table_get_stats(const struct conn_table *t, struct conn_table_stats *out)
{
	*out = t->stats;
}

struct actors *conn_table_actors(struct conn_table *t)
{
	return t->actors;
}
