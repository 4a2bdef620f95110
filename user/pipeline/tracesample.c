// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/tracesample.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A held span: the process it came from, and the span up to the end of its arena's used part
 * (most of a struct span is arena, most of the arena unused). */
struct held_span {
	struct held_span *next;
	bool has_proc;
	struct proc_info proc;
	_Alignas(struct span) unsigned char span[]; /* read as a struct span */
};

enum { LINK_AGE, LINK_ROOT };

struct link {
	struct trace *prev, *next;
};

/* Held traces in the order their first span came (LINK_AGE), those whose root has ended in the
 * order their root came (LINK_ROOT): the grace and the hold limit are constants, so each list
 * expires from its head. */
struct list {
	struct trace *head, *tail;
	size_t n;
	int which;
};

/* A held trace. */
struct trace {
	uint8_t id[16];
	struct trace *hnext; /* hash chain */
	struct link links[2];
	bool rooted; /* the local root has ended */
	/* the sampler's answer, once known: from the first span's trace id (traceidratio,
	 * always_*) or from the root (parentbased_*) */
	bool verdict_known, verdict_keep;
	uint8_t verdict_reason;
	bool error;
	uint64_t since;	  /* when the first span came */
	uint64_t root_at; /* when the root came */
	uint64_t first_start, last_end;
	struct held_span *spans, *spans_tail;
	size_t nspans, bytes;
};

/* A decision remembered: what the trace's later spans get. */
struct decision {
	uint8_t id[16];
	uint64_t since; /* when it was taken */
	uint32_t hash;	/* the low half of id_hash(id): its slot, without hashing it again */
	bool keep;
	uint8_t reason; /* enum tracesample_keep or _drop */
};

/* Where the decision of one trace id is: its index in the ring + 1 (0: a free slot) and the
 * low half of the id's hash, whose low bits are its home slot. */
struct decision_slot {
	uint32_t pos1;
	uint32_t hash;
};

/*
 * Decisions, one for each of up to max_decided traces, in the order they were taken: a ring
 * (the oldest is forgotten first, for age or for room) and an open-addressed index of it. A
 * busy server decides as many traces a second as it serves requests: a span must not cost more
 * than the index slot it looks at (a trace of its own, hashed in a chain, cost 3-4 cache
 * misses a span and 20% of obsprobe's CPU under load with the export on).
 */
struct decisions {
	struct decision *ring;
	size_t cap, head, n;
	struct decision_slot *slots;
	size_t mask;
};

#define MAX_SPARE 256

struct tracesample {
	struct tracesample_config c;
	bool parentbased;
	tracesample_release_fn fn;
	void *ctx;
	struct trace **buckets; /* the held traces */
	size_t mask;
	struct list held, rooted;
	struct decisions decided;
	size_t nspans, bytes;
	uint64_t now; /* the latest time handed in */
	struct trace *spare;
	size_t nspare;
	uint64_t kept[TS_KEEP__COUNT];
	uint64_t dropped[TS_DROP__COUNT];
	struct span scratch; /* a held span, whole again, for the release callback */
};

struct verdict {
	bool keep;
	uint8_t reason;
};

static const char *const keep_names[TS_KEEP__COUNT] = {
	[TS_KEEP_RATIO] = "ratio",
	[TS_KEEP_PARENT_SAMPLED] = "parent_sampled",
	[TS_KEEP_ERROR] = "error",
	[TS_KEEP_SLOW] = "slow",
};

static const char *const drop_names[TS_DROP__COUNT] = {
	[TS_DROP_RATIO] = "ratio",
	[TS_DROP_PARENT_NOT_SAMPLED] = "parent_not_sampled",
	[TS_DROP_BUFFER_FULL] = "buffer_full",
};

const char *tracesample_keep_name(enum tracesample_keep r)
{
	return (unsigned)r < TS_KEEP__COUNT ? keep_names[r] : "unknown";
}

const char *tracesample_drop_name(enum tracesample_drop r)
{
	return (unsigned)r < TS_DROP__COUNT ? drop_names[r] : "unknown";
}

static void list_push(struct list *l, struct trace *t)
{
	struct link *k = &t->links[l->which];

	k->prev = l->tail;
	k->next = NULL;
	if (l->tail)
		l->tail->links[l->which].next = t;
	else
		l->head = t;
	l->tail = t;
	l->n++;
}

static void list_remove(struct list *l, struct trace *t)
{
	struct link *k = &t->links[l->which];

	if (k->prev)
		k->prev->links[l->which].next = k->next;
	else
		l->head = k->next;
	if (k->next)
		k->next->links[l->which].prev = k->prev;
	else
		l->tail = k->prev;
	k->prev = k->next = NULL;
	l->n--;
}

/* Trace ids come from the wire too (traceparent), so tables use a seeded mix of both halves,
 * not the id's bytes as they are. */
static uint64_t id_hash(const struct tracesample *t, const uint8_t id[16])
{
	uint64_t a, b, h;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	h = (a ^ t->c.hash_seed) * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h = (h ^ b) * 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static struct trace **bucket_of(const struct tracesample *t, const uint8_t id[16])
{
	return &t->buckets[id_hash(t, id) & t->mask];
}

/* The held trace id (NULL: none). */
static struct trace *find(const struct tracesample *t, const uint8_t id[16])
{
	struct trace *tr;

	if (!t->held.n)
		return NULL;
	for (tr = *bucket_of(t, id); tr; tr = tr->hnext)
		if (!memcmp(tr->id, id, 16))
			return tr;
	return NULL;
}

static void unhash(struct tracesample *t, struct trace *tr)
{
	struct trace **pp = bucket_of(t, tr->id);

	while (*pp != tr)
		pp = &(*pp)->hnext;
	*pp = tr->hnext;
}

static struct trace *trace_alloc(struct tracesample *t, const uint8_t id[16])
{
	struct trace *tr = t->spare, **b;

	if (tr) {
		t->spare = tr->hnext;
		t->nspare--;
	} else {
		tr = malloc(sizeof(*tr));
		if (!tr)
			return NULL;
	}
	memset(tr, 0, sizeof(*tr));
	memcpy(tr->id, id, 16);
	b = bucket_of(t, id);
	tr->hnext = *b;
	*b = tr;
	return tr;
}

/* tr leaves the table: it holds no span by now. */
static void trace_recycle(struct tracesample *t, struct trace *tr)
{
	unhash(t, tr);
	if (t->nspare < MAX_SPARE) {
		tr->hnext = t->spare;
		t->spare = tr;
		t->nspare++;
		return;
	}
	free(tr);
}

/* The decision on trace id (NULL: none remembered). */
static const struct decision *recall(const struct tracesample *t, const uint8_t id[16])
{
	const struct decisions *d = &t->decided;
	uint32_t h = (uint32_t)id_hash(t, id);
	size_t i;

	for (i = h & d->mask; d->slots[i].pos1; i = (i + 1) & d->mask) {
		const struct decision *e = &d->ring[d->slots[i].pos1 - 1];

		if (d->slots[i].hash == h && !memcmp(e->id, id, 16))
			return e;
	}
	return NULL;
}

/* The oldest decision is forgotten: its slot is freed, and the slots after it in its run move
 * back to where a lookup starting at their home finds them (linear probing's deletion). */
static void forget_oldest(struct tracesample *t)
{
	struct decisions *d = &t->decided;
	uint32_t pos1 = (uint32_t)d->head + 1;
	size_t i = d->ring[d->head].hash & d->mask, j, home;

	while (d->slots[i].pos1 != pos1)
		i = (i + 1) & d->mask;
	for (j = i;;) {
		d->slots[i].pos1 = 0;
		for (;;) {
			j = (j + 1) & d->mask;
			if (!d->slots[j].pos1)
				goto done;
			home = d->slots[j].hash & d->mask;
			/* stays when its home is cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			d->slots[i] = d->slots[j];
			i = j;
			break;
		}
	}
done:
	d->head = d->head + 1 == d->cap ? 0 : d->head + 1;
	d->n--;
}

/* The trace's decision, for its later spans to get the same answer: the oldest one is
 * forgotten when max_decided are remembered. */
static void remember(struct tracesample *t, const uint8_t id[16], bool keep, uint8_t reason,
		     uint64_t now)
{
	struct decisions *d = &t->decided;
	uint32_t h = (uint32_t)id_hash(t, id);
	struct decision *e;
	size_t pos, i;

	if (d->n == d->cap)
		forget_oldest(t);
	pos = d->head + d->n < d->cap ? d->head + d->n : d->head + d->n - d->cap;
	e = &d->ring[pos];
	memcpy(e->id, id, 16);
	e->since = now;
	e->hash = h;
	e->keep = keep;
	e->reason = reason;
	for (i = h & d->mask; d->slots[i].pos1; i = (i + 1) & d->mask)
		;
	d->slots[i].pos1 = (uint32_t)pos + 1;
	d->slots[i].hash = h;
	d->n++;
	/* full: the next decision forgets the oldest, whose ring entry and slot are cache misses
	 * unless fetched ahead, in the time until that decision comes: its slot now (its entry
	 * was fetched by the decision before), and the entry after it */
	if (d->n == d->cap) {
		__builtin_prefetch(&d->slots[d->ring[d->head].hash & d->mask], 1);
		__builtin_prefetch(&d->ring[d->head + 1 < d->cap ? d->head + 1 : 0]);
	}
}

static void release(struct tracesample *t, const struct span *s, const struct proc_info *proc,
		    uint8_t reason)
{
	t->kept[reason]++;
	if (t->fn)
		t->fn(t->ctx, s, proc);
}

static void release_held(struct tracesample *t, const struct held_span *h, uint8_t reason)
{
	span_copy(&t->scratch, (const struct span *)h->span);
	/* a full arena's attributes point at its last byte, which was not copied */
	t->scratch.arena[SPAN_ARENA - 1] = '\0';
	release(t, &t->scratch, h->has_proc ? &h->proc : NULL, reason);
}

/* The held trace tr is decided: its spans go out (keep) or are counted dropped, in the order
 * they came, and the decision is remembered for its later spans. tr is not to be used after. */
static void decide(struct tracesample *t, struct trace *tr, bool keep, uint8_t reason)
{
	struct held_span *h = tr->spans, *next;

	list_remove(&t->held, tr);
	if (tr->rooted)
		list_remove(&t->rooted, tr);
	t->nspans -= tr->nspans;
	t->bytes -= tr->bytes;
	remember(t, tr->id, keep, reason, t->now);
	trace_recycle(t, tr);
	for (; h; h = next) {
		next = h->next;
		if (keep)
			release_held(t, h, reason);
		else
			t->dropped[reason]++;
		free(h);
	}
}

/* The sampler's own answer without the trace's spans: the root sampler of OTEL_TRACES_SAMPLER
 * on the trace id (for parentbased_*, the one for roots without a remote parent). */
static struct verdict root_sampler(const struct tracesample *t, const uint8_t id[16])
{
	struct verdict v;

	switch (t->c.sampler) {
	case OTEL_SAMPLER_ALWAYS_ON:
	case OTEL_SAMPLER_PARENTBASED_ALWAYS_ON:
		v.keep = true;
		break;
	case OTEL_SAMPLER_ALWAYS_OFF:
	case OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF:
		v.keep = false;
		break;
	default:
		v.keep = otel_ratio_sample(id, t->c.ratio);
	}
	v.reason = v.keep ? TS_KEEP_RATIO : TS_DROP_RATIO;
	return v;
}

/* The sampler's answer for the trace of s, when s tells enough: false for a child under a
 * parentbased sampler, whose trace is decided by its root (which may have a remote parent). */
static bool verdict_of(const struct tracesample *t, const struct span *s, bool root,
		       struct verdict *v)
{
	if (t->parentbased && !root)
		return false;
	if (t->parentbased && s->has_parent && s->remote_parent) {
		v->keep = s->trace_flags & 1;
		v->reason = v->keep ? TS_KEEP_PARENT_SAMPLED : TS_DROP_PARENT_NOT_SAMPLED;
		return true;
	}
	*v = root_sampler(t, s->trace_id);
	return true;
}

static bool slow(const struct tracesample *t, uint64_t start, uint64_t end)
{
	return t->c.keep_slower_than_ns && end > start && end - start > t->c.keep_slower_than_ns;
}

/* A held trace whose wait is over, or cut short (evicted: the buffer is full): what the sampler
 * says, or the root sampler when no root came. An evicted trace whose root has ended only loses
 * the rest of its grace, and is counted as the sampler's drop; one still waiting for its root
 * (an ERROR or a slow root may have been on its way) as buffer_full. */
static void settle(struct tracesample *t, struct trace *tr, bool evicted)
{
	struct verdict v;

	if (tr->verdict_known) {
		v.keep = tr->verdict_keep;
		v.reason = tr->verdict_reason;
	} else {
		v = root_sampler(t, tr->id);
	}
	if (v.keep)
		decide(t, tr, true, v.reason);
	else
		decide(t, tr, false, evicted && !tr->rooted ? TS_DROP_BUFFER_FULL : v.reason);
}

static bool hold_span(struct tracesample *t, struct trace *tr, const struct span *s,
		      const struct proc_info *proc)
{
	size_t size = span_used_size(s);
	struct held_span *h = malloc(sizeof(*h) + size);

	if (!h)
		return false;
	h->next = NULL;
	h->has_proc = proc != NULL;
	if (proc)
		h->proc = *proc;
	span_copy((struct span *)h->span, s);
	if (tr->spans_tail)
		tr->spans_tail->next = h;
	else
		tr->spans = h;
	tr->spans_tail = h;
	if (!tr->nspans || s->start_ns < tr->first_start)
		tr->first_start = s->start_ns;
	if (!tr->nspans || s->end_ns > tr->last_end)
		tr->last_end = s->end_ns;
	tr->nspans++;
	tr->bytes += sizeof(*h) + size;
	t->nspans++;
	t->bytes += sizeof(*h) + size;
	tr->error |= s->error;
	return true;
}

/* Over a cap: held traces are decided early, first those whose root has ended (their decision
 * stands bar a late child), oldest root first, then the oldest of those still waiting for it. */
static void enforce_caps(struct tracesample *t)
{
	const struct tracesample_limits *l = &t->c.limits;

	while (t->held.head &&
	       (t->held.n > l->max_traces || t->nspans > l->max_spans || t->bytes > l->max_bytes))
		settle(t, t->rooted.head ? t->rooted.head : t->held.head, true);
}

void tracesample_prefetch(const struct tracesample *t, const uint8_t trace_id[16])
{
	uint64_t h = id_hash(t, trace_id);

	__builtin_prefetch(&t->decided.slots[(uint32_t)h & t->decided.mask]);
	if (t->held.n)
		__builtin_prefetch(&t->buckets[h & t->mask]);
}

void tracesample_add(struct tracesample *t, const struct span *s, const struct proc_info *proc,
		     uint64_t now_ns)
{
	bool root = !s->has_parent || s->remote_parent, known;
	struct trace *tr = find(t, s->trace_id);
	const struct decision *d = tr ? NULL : recall(t, s->trace_id);
	struct verdict v;

	if (now_ns > t->now)
		t->now = now_ns;
	if (d && d->keep) {
		release(t, s, proc, d->reason);
		return;
	}
	if (d) {
		t->dropped[d->reason]++;
		return;
	}
	if (!tr) {
		known = verdict_of(t, s, root, &v);
		/* remembered before the release: the exporter copies the span into cold lines of its
		 * queue, whose stores would hold the decision table's loads behind them */
		if (known && v.keep) {
			/* under parentbased_*, a late child cannot tell what its root said */
			if (root && t->parentbased)
				remember(t, s->trace_id, true, v.reason, t->now);
			release(t, s, proc, v.reason);
			return;
		}
		if (s->error || slow(t, s->start_ns, s->end_ns)) {
			v.reason = s->error ? TS_KEEP_ERROR : TS_KEEP_SLOW;
			remember(t, s->trace_id, true, v.reason, t->now);
			release(t, s, proc, v.reason);
			return;
		}
		tr = trace_alloc(t, s->trace_id);
		if (!tr) {
			t->dropped[TS_DROP_BUFFER_FULL]++;
			return;
		}
		tr->since = t->now;
		list_push(&t->held, tr);
		if (known) {
			tr->verdict_known = true;
			tr->verdict_keep = false;
			tr->verdict_reason = v.reason;
		}
	}
	if (!hold_span(t, tr, s, proc)) {
		t->dropped[TS_DROP_BUFFER_FULL]++;
		if (!tr->nspans) {
			list_remove(&t->held, tr);
			if (tr->rooted)
				list_remove(&t->rooted, tr);
			trace_recycle(t, tr);
		}
		return;
	}
	if (root && !tr->rooted) {
		tr->rooted = true;
		tr->root_at = t->now;
		list_push(&t->rooted, tr);
	}
	/* A trace may have more than one local root (a proxy that forwards traceparent: its
	 * client span and the upstream's server span); under parentbased_* the caller's flag, on
	 * any of them, outweighs the root sampler's answer for another. */
	if (root && (!tr->verdict_known || (t->parentbased && s->has_parent && s->remote_parent)) &&
	    verdict_of(t, s, true, &v)) {
		tr->verdict_known = true;
		tr->verdict_keep = v.keep;
		tr->verdict_reason = v.reason;
	}
	if (tr->verdict_known && tr->verdict_keep)
		decide(t, tr, true, tr->verdict_reason);
	else if (tr->error)
		decide(t, tr, true, TS_KEEP_ERROR);
	else if (slow(t, tr->first_start, tr->last_end))
		decide(t, tr, true, TS_KEEP_SLOW);
	else
		enforce_caps(t);
}

/* now - then >= d, for times that may go backwards */
static bool waited(uint64_t now, uint64_t then, uint64_t d)
{
	return now >= then && now - then >= d;
}

void tracesample_tick(struct tracesample *t, uint64_t now_ns)
{
	const struct tracesample_limits *l = &t->c.limits;

	if (now_ns > t->now)
		t->now = now_ns;
	while (t->rooted.head && waited(now_ns, t->rooted.head->root_at, l->grace_ns))
		settle(t, t->rooted.head, false);
	while (t->held.head && waited(now_ns, t->held.head->since, l->max_hold_ns))
		settle(t, t->held.head, false);
	while (t->decided.n &&
	       waited(now_ns, t->decided.ring[t->decided.head].since, l->remember_ns))
		forget_oldest(t);
}

void tracesample_flush(struct tracesample *t)
{
	while (t->held.head)
		settle(t, t->held.head, false);
}

void tracesample_get_stats(const struct tracesample *t, struct tracesample_stats *out)
{
	memcpy(out->kept, t->kept, sizeof(out->kept));
	memcpy(out->dropped, t->dropped, sizeof(out->dropped));
	out->held_traces = t->held.n;
	out->held_spans = t->nspans;
	out->held_bytes = t->bytes;
	out->decided = t->decided.n;
}

struct tracesample *tracesample_new(const struct tracesample_config *c, tracesample_release_fn fn,
				    void *ctx)
{
	struct tracesample *t = calloc(1, sizeof(*t));
	struct tracesample_limits *l;
	size_t n = 1;

	if (!t)
		return NULL;
	t->c = *c;
	l = &t->c.limits;
	l->max_traces = l->max_traces ? l->max_traces : TS_MAX_TRACES;
	l->max_spans = l->max_spans ? l->max_spans : TS_MAX_SPANS;
	l->max_bytes = l->max_bytes ? l->max_bytes : TS_MAX_BYTES;
	l->max_decided = l->max_decided ? l->max_decided : TS_MAX_DECIDED;
	l->grace_ns = l->grace_ns ? l->grace_ns : TS_GRACE_NS;
	l->max_hold_ns = l->max_hold_ns ? l->max_hold_ns : TS_MAX_HOLD_NS;
	l->remember_ns = l->remember_ns ? l->remember_ns : TS_REMEMBER_NS;
	t->parentbased = c->sampler == OTEL_SAMPLER_PARENTBASED_ALWAYS_ON ||
			 c->sampler == OTEL_SAMPLER_PARENTBASED_ALWAYS_OFF ||
			 c->sampler == OTEL_SAMPLER_PARENTBASED_TRACEIDRATIO;
	t->fn = fn;
	t->ctx = ctx;
	t->held.which = LINK_AGE;
	t->rooted.which = LINK_ROOT;
	/* a bucket per trace held, rounded up to a power of 2 */
	while (n < l->max_traces && n < ((size_t)1 << 24))
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	t->mask = n - 1;
	/* the index at most half full: runs stay short */
	if (l->max_decided > ((size_t)1 << 24))
		l->max_decided = (size_t)1 << 24;
	for (n = 2; n < 2 * l->max_decided; n <<= 1)
		;
	t->decided.cap = l->max_decided;
	t->decided.ring = calloc(l->max_decided, sizeof(*t->decided.ring));
	t->decided.slots = calloc(n, sizeof(*t->decided.slots));
	t->decided.mask = n - 1;
	if (!t->buckets || !t->decided.ring || !t->decided.slots) {
		tracesample_free(t);
		return NULL;
	}
	return t;
}

static void free_trace(struct trace *tr)
{
	struct held_span *h, *next;

	for (h = tr->spans; h; h = next) {
		next = h->next;
		free(h);
	}
	free(tr);
}

void tracesample_free(struct tracesample *t)
{
	struct trace *tr, *next;

	if (!t)
		return;
	for (tr = t->held.head; tr; tr = next) {
		next = tr->links[LINK_AGE].next;
		free_trace(tr);
	}
	for (tr = t->spare; tr; tr = next) {
		next = tr->hnext;
		free(tr);
	}
	free(t->buckets);
	free(t->decided.ring);
	free(t->decided.slots);
	free(t);
}
