// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/actors.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096
#define MAX_ACTORS 65536
#define CALL_SLOTS 1024
/* server spans in flight on one actor whose ids are kept (an event loop serves many) */
#define MAX_INFLIGHT 256
/* Actors kept for reuse once settled: a thread serving one request at a time gets one, and
 * frees it, per request (with its in-flight array, up to SPARE_INFLIGHT entries). */
#define SPARE_ACTORS 64
#define SPARE_INFLIGHT 8

struct inflight {
	uint8_t trace_id[16], span_id[8];
	uint64_t sig; /* actors_sig() of its request, 0 when none */
	uint64_t tp;  /* actors_sig() of its incoming traceparent, 0 when none */
};

struct actor {
	struct actor *next; /* hash chain */
	uint32_t pid;
	uint64_t key;
	/* server spans in flight on it: n with their ids, extra beyond MAX_INFLIGHT without */
	struct inflight *fl;
	unsigned int n, cap, extra;
	/* Go: the span for_span of owner it works for (owner is a goroutine with that span in
	 * flight; this one is in owner's followers until the span ends); borrowed: for one call */
	struct actor *owner;
	uint8_t for_span[8];
	bool borrowed;
	uint64_t unborn; /* the gopc a goroutine told in advance must show; 0: seen */
	struct actor *fnext, **fprev;
	struct actor *followers;
};

/* An HTTP request a goroutine handed on to the writer of socket fd (its slot's). */
struct call {
	uint32_t pid;
	int fd;		/* -1: free */
	uint64_t owner; /* key of the goroutine whose span it was made for */
	uint8_t span_id[8];
};

struct actors {
	struct actor *buckets[BUCKETS];
	struct call calls[CALL_SLOTS];
	struct actors_stats stats;
	struct actor *spare; /* chained by next */
	unsigned int nspare;
};

static const char *const unlinked_names[ACTOR_UNLINKED__COUNT] = {
	[ACTOR_NO_REQUEST] = "no_request",
	[ACTOR_AMBIGUOUS] = "ambiguous",
	[ACTOR_NO_GOROUTINE] = "no_goroutine",
};

const char *actor_unlinked_name(enum actor_unlinked r)
{
	return r < ACTOR_UNLINKED__COUNT ? unlinked_names[r] : "?";
}

static size_t bucket(uint32_t pid, uint64_t key)
{
	return (size_t)(((key ^ ((uint64_t)pid << 40)) * 0x9e3779b97f4a7c15ull) >> 40) % BUCKETS;
}

struct actors *actors_new(void)
{
	struct actors *t = calloc(1, sizeof(struct actors));
	size_t i;

	for (i = 0; t && i < CALL_SLOTS; i++)
		t->calls[i].fd = -1;
	return t;
}

/* a, out of the table, freed or kept for get() */
static void release(struct actors *t, struct actor *a)
{
	if (t->nspare < SPARE_ACTORS && a->cap <= SPARE_INFLIGHT) {
		a->next = t->spare;
		t->spare = a;
		t->nspare++;
		return;
	}
	free(a->fl);
	free(a);
}

void actors_free(struct actors *t)
{
	struct actor *a;
	size_t i;

	if (!t)
		return;
	while ((a = t->spare)) {
		t->spare = a->next;
		free(a->fl);
		free(a);
	}
	for (i = 0; i < BUCKETS; i++) {
		struct actor *a, *n;

		for (a = t->buckets[i]; a; a = n) {
			n = a->next;
			free(a->fl);
			free(a);
		}
	}
	free(t);
}

static struct actor **slot(struct actors *t, uint32_t pid, uint64_t key)
{
	struct actor **pp = &t->buckets[bucket(pid, key)];

	while (*pp && ((*pp)->pid != pid || (*pp)->key != key))
		pp = &(*pp)->next;
	return pp;
}

static struct actor *find(struct actors *t, uint32_t pid, uint64_t key)
{
	return *slot(t, pid, key);
}

static struct actor *get(struct actors *t, uint32_t pid, uint64_t key)
{
	struct actor **pp = slot(t, pid, key), *a = *pp;

	if (a)
		return a;
	if (t->stats.actors >= MAX_ACTORS) {
		t->stats.full++;
		return NULL;
	}
	if ((a = t->spare)) {
		struct inflight *fl = a->fl;
		unsigned int cap = a->cap;

		t->spare = a->next;
		t->nspare--;
		memset(a, 0, sizeof(*a));
		a->fl = fl;
		a->cap = cap;
	} else if (!(a = calloc(1, sizeof(*a)))) {
		t->stats.full++;
		return NULL;
	}
	a->pid = pid;
	a->key = key;
	*pp = a;
	t->stats.actors++;
	return a;
}

/* Frees a when nothing is left on it. */
static void settle(struct actors *t, struct actor *a)
{
	struct actor **pp;

	if (a->n || a->extra || a->owner || a->followers)
		return;
	pp = slot(t, a->pid, a->key);
	if (*pp == a) {
		*pp = a->next;
		release(t, a);
		t->stats.actors--;
	}
}

/* Out of its owner's followers (still in the table). */
static void detach(struct actor *f)
{
	if (!f->owner)
		return;
	*f->fprev = f->fnext;
	if (f->fnext)
		f->fnext->fprev = f->fprev;
	f->owner = NULL;
	f->borrowed = false;
	f->unborn = 0;
}

static void unfollow(struct actors *t, struct actor *f)
{
	detach(f);
	settle(t, f);
}

static void follow(struct actor *f, struct actor *owner, const uint8_t span_id[8], bool borrowed)
{
	detach(f);
	f->owner = owner;
	memcpy(f->for_span, span_id, 8);
	f->borrowed = borrowed;
	f->fnext = owner->followers;
	if (f->fnext)
		f->fnext->fprev = &f->fnext;
	f->fprev = &owner->followers;
	owner->followers = f;
}

uint64_t actors_sig(const char *method, const char *target)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *parts[2] = { method, target };
	int k;

	for (k = 0; k < 2; k++) {
		const unsigned char *p = (const unsigned char *)parts[k];

		for (; p && *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull; /* "GE" + "T /" differs from "GET" + " /" */
	}
	return h ? h : 1;
}

void actors_span_enter(struct actors *t, uint32_t pid, uint64_t key, const uint8_t trace_id[16],
		       const uint8_t span_id[8], uint64_t sig, uint64_t tp)
{
	struct inflight *e;
	struct actor *a;

	if (!key || !(a = get(t, pid, key)))
		return;
	if (a->n == a->cap) {
		unsigned int cap = a->cap ? 2 * a->cap : 2;
		struct inflight *fl = cap <= MAX_INFLIGHT ? realloc(a->fl, cap * sizeof(*fl))
							  : NULL;

		if (!fl) {
			a->extra++; /* in flight, ids unknown: it makes the actor ambiguous */
			return;
		}
		a->fl = fl;
		a->cap = cap;
	}
	e = &a->fl[a->n++];
	memcpy(e->trace_id, trace_id, 16);
	memcpy(e->span_id, span_id, 8);
	e->sig = sig;
	e->tp = tp;
}

bool actors_forwarded(struct actors *t, uint32_t pid, uint64_t key, uint64_t tp,
		      uint8_t trace_id[16], uint8_t span_id[8])
{
	struct actor *a = key && tp ? find(t, pid, key) : NULL;
	struct inflight *m = NULL;
	unsigned int i;

	for (i = 0; a && i < a->n; i++) {
		if (a->fl[i].tp != tp)
			continue;
		if (m)
			return false; /* two requests came with it: no guess */
		m = &a->fl[i];
	}
	if (!m)
		return false;
	memcpy(trace_id, m->trace_id, 16);
	memcpy(span_id, m->span_id, 8);
	t->stats.linked++;
	t->stats.forwarded++;
	return true;
}

static struct inflight *inflight_of(struct actor *a, const uint8_t span_id[8])
{
	unsigned int i;

	for (i = 0; i < a->n; i++)
		if (!memcmp(a->fl[i].span_id, span_id, 8))
			return &a->fl[i];
	return NULL;
}

/* The one span in flight on a, when there is exactly one. */
static struct inflight *only(struct actor *a)
{
	return a->n == 1 && !a->extra ? &a->fl[0] : NULL;
}

void actors_span_leave(struct actors *t, uint32_t pid, uint64_t key, const uint8_t span_id[8])
{
	struct actor *a, *f, *n;
	struct inflight *e;

	if (!key || !(a = find(t, pid, key)))
		return;
	e = inflight_of(a, span_id);
	if (e)
		*e = a->fl[--a->n];
	else if (a->extra)
		a->extra--;
	else
		return;
	/* what worked for the span is done with it */
	for (f = a->followers; f; f = n) {
		n = f->fnext;
		if (!memcmp(f->for_span, span_id, 8))
			unfollow(t, f);
	}
	settle(t, a);
}

void actors_span_retrace(struct actors *t, uint32_t pid, uint64_t key, const uint8_t span_id[8],
			 const uint8_t trace_id[16])
{
	struct actor *a = key ? find(t, pid, key) : NULL;
	struct inflight *e = a ? inflight_of(a, span_id) : NULL;

	if (e)
		memcpy(e->trace_id, trace_id, 16);
}

/* The actor whose span a works for, and that span: its own, else its owner's. */
static struct actor *serving(struct actor *a, const uint8_t **span_id)
{
	struct inflight *e = only(a);

	if (e) {
		*span_id = e->span_id;
		return a;
	}
	if (!a->n && !a->extra && a->owner && !a->borrowed && !a->unborn) {
		*span_id = a->for_span;
		return a->owner;
	}
	return NULL;
}

/* The one span in flight on a whose request has signature sig; NULL for none or several. */
static struct inflight *matching(struct actor *a, uint64_t sig)
{
	struct inflight *m = NULL;
	unsigned int i;

	if (!sig || a->extra)
		return NULL;
	for (i = 0; i < a->n; i++) {
		if (a->fl[i].sig != sig)
			continue;
		if (m)
			return NULL;
		m = &a->fl[i];
	}
	return m;
}

/* The request a goroutine works for on its spawner's (or hand-over's) evidence while that lasts;
 * NULL for none, and for one with requests of its own in flight. */
static struct inflight *working_for(struct actor *a)
{
	struct inflight *e;
	struct actor *o;

	if (a->n || a->extra || !(o = a->owner) || a->unborn || !(e = only(o)) ||
	    memcmp(e->span_id, a->for_span, 8))
		return NULL;
	return e;
}

bool actors_parent(struct actors *t, uint32_t pid, uint64_t key, uint64_t sig, uint8_t trace_id[16],
		   uint8_t span_id[8])
{
	enum actor_unlinked why = ACTOR_NO_REQUEST;
	struct inflight *e;
	struct actor *a;

	if (!key) {
		why = ACTOR_NO_GOROUTINE;
		goto unlinked;
	}
	a = find(t, pid, key);
	if (!a)
		goto unlinked;
	if ((e = only(a))) {
		/* a thread or goroutine serving one request */
	} else if (a->n || a->extra) {
		/* an event loop: a proxy forwards the request it serves, so the one in flight with
		 * the same method and target is it; no such one, or several: no guess */
		e = matching(a, sig);
		if (!e) {
			why = ACTOR_AMBIGUOUS;
			goto unlinked;
		}
		t->stats.matched++;
	} else if ((e = working_for(a))) {
		if (a->borrowed)
			unfollow(t, a); /* one call: consumed */
	} else {
		goto unlinked;
	}
	memcpy(trace_id, e->trace_id, 16);
	memcpy(span_id, e->span_id, 8);
	t->stats.linked++;
	return true;
unlinked:
	t->stats.unlinked[why]++;
	return false;
}

bool actors_serving(struct actors *t, uint32_t pid, uint64_t key, uint8_t trace_id[16],
		    uint8_t span_id[8])
{
	struct inflight *e;
	struct actor *a;

	if (!key || !(a = find(t, pid, key)) || !((e = only(a)) || (e = working_for(a))))
		return false;
	memcpy(trace_id, e->trace_id, 16);
	memcpy(span_id, e->span_id, 8);
	return true;
}

void actors_go_spawn(struct actors *t, uint32_t pid, uint64_t parent, uint64_t child, uint64_t gopc)
{
	struct actor *p = find(t, pid, parent | ACTOR_GO), *o, *c;
	const uint8_t *span_id;

	if (!p || !(o = serving(p, &span_id)) || !child)
		return;
	c = get(t, pid, child | ACTOR_GO);
	if (!c || c == o)
		return;
	if (c->owner) {
		/* an id told twice (or a goroutine seen before): neither spawner is trusted */
		t->stats.spawns_refuted++;
		unfollow(t, c);
		return;
	}
	follow(c, o, span_id, false);
	c->unborn = gopc;
	if (!gopc)
		t->stats.spawns_followed++;
}

void actors_go_born(struct actors *t, uint32_t pid, uint64_t goid, uint64_t gopc)
{
	struct actor *c = find(t, pid, goid | ACTOR_GO);

	if (!c || !c->unborn)
		return;
	if (gopc && gopc == c->unborn) {
		c->unborn = 0;
		t->stats.spawns_followed++;
		return;
	}
	t->stats.spawns_refuted++;
	unfollow(t, c);
}

static struct call *call_slot(struct actors *t, uint32_t pid, int fd)
{
	return &t->calls[(((uint64_t)pid << 32 | (uint32_t)fd) * 0x9e3779b97f4a7c15ull >> 40) %
			 CALL_SLOTS];
}

void actors_go_call(struct actors *t, uint32_t pid, uint64_t goid, int fd)
{
	struct actor *g = find(t, pid, goid | ACTOR_GO), *o;
	struct call *c;
	const uint8_t *span_id;

	if (fd < 0)
		return;
	c = call_slot(t, pid, fd);
	c->fd = -1; /* a call from nobody's request replaces an older hand-over */
	if (!g || !(o = serving(g, &span_id)))
		return;
	c->pid = pid;
	c->fd = fd;
	c->owner = o->key;
	memcpy(c->span_id, span_id, 8);
}

bool actors_call_parent(struct actors *t, uint32_t pid, int fd, uint8_t trace_id[16],
			uint8_t span_id[8])
{
	struct call *c = call_slot(t, pid, fd);
	struct inflight *e;
	struct actor *o;

	if (c->fd != fd || c->pid != pid)
		return false;
	c->fd = -1;
	o = find(t, pid, c->owner);
	/* the caller still serves that request: it waits for this call's answer */
	if (!o || !(e = only(o)) || memcmp(e->span_id, c->span_id, 8))
		return false;
	memcpy(trace_id, e->trace_id, 16);
	memcpy(span_id, e->span_id, 8);
	t->stats.handoffs++;
	t->stats.linked++;
	return true;
}

void actors_proc_exit(struct actors *t, uint32_t pid)
{
	size_t i;

	/* owners and followers are of one process: they all go together */
	for (i = 0; i < BUCKETS; i++) {
		struct actor **pp = &t->buckets[i], *a;

		while ((a = *pp)) {
			if (a->pid != pid) {
				pp = &a->next;
				continue;
			}
			*pp = a->next;
			release(t, a);
			t->stats.actors--;
		}
	}
	for (i = 0; i < CALL_SLOTS; i++)
		if (t->calls[i].pid == pid)
			t->calls[i].fd = -1;
}

void actors_get_stats(const struct actors *t, struct actors_stats *out)
{
	*out = t->stats;
}
