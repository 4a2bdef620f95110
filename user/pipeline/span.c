// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/span.h"

#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "util/clock.h"
#include "util/hex.h"

size_t span_used_size(const struct span *s)
{
	size_t used = s->arena_used < SPAN_ARENA ? s->arena_used : SPAN_ARENA;

	return s->exc_ns ? sizeof(*s) : offsetof(struct span, arena) + used;
}

void span_copy(struct span *dst, const struct span *s)
{
	const size_t attrs_end = offsetof(struct span, attrs) + sizeof(s->attrs);
	size_t nattrs = s->nattrs < SPAN_MAX_ATTRS ? s->nattrs : SPAN_MAX_ATTRS;

	memcpy(dst, s, offsetof(struct span, attrs) + nattrs * sizeof(s->attrs[0]));
	memcpy((char *)dst + attrs_end, (const char *)s + attrs_end, span_used_size(s) - attrs_end);
}

void span_init(struct span *s, enum span_kind kind)
{
	s->kind = kind;
	s->has_parent = false;
	s->remote_parent = false;
	s->trace_flags = 1;
	s->error = false;
	s->pid = s->tid = 0;
	s->actor = 0;
	s->start_ns = s->end_ns = 0;
	s->name[0] = '\0';
	s->nattrs = 0;
	s->kmask = 0;
	s->arena_used = 0;
	s->arena[SPAN_ARENA - 1] = '\0';
	s->exc_ns = 0;
	memset(s->parent_id, 0, sizeof(s->parent_id));
	span_new_trace_id(s->trace_id);
	span_new_span_id(s->span_id);
}

/* The bit of s->kmask a signature sets. */
static uint64_t sig_bit(uint32_t sig)
{
	return 1ull << ((sig * 0x9e3779b1u) >> 26);
}

/* The attribute named key (its signature sig), or NULL. A span gets ~12 attributes, each a new
 * key: the mask answers "not there" for most without a scan of the others, and only keys whose
 * signatures agree are compared as strings (keys are mostly the same literal: the pointer
 * first). */
static struct span_attr *attr_find(const struct span *s, const char *key, uint32_t sig)
{
	size_t i;

	if (!(s->kmask & sig_bit(sig)))
		return NULL;
	for (i = 0; i < s->nattrs; i++)
		if (s->attrs[i].ksig == sig &&
		    (s->attrs[i].key == key || !strcmp(s->attrs[i].key, key)))
			return (struct span_attr *)&s->attrs[i];
	return NULL;
}

static struct span_attr *attr_slot(struct span *s, const char *key, uint32_t sig)
{
	struct span_attr *a = attr_find(s, key, sig);

	if (a)
		return a;
	if (s->nattrs == SPAN_MAX_ATTRS)
		return NULL;
	a = &s->attrs[s->nattrs++];
	a->key = key;
	a->ksig = sig;
	s->kmask |= sig_bit(sig);
	return a;
}

void span_make_child(struct span *s, const uint8_t trace_id[16], const uint8_t span_id[8])
{
	memcpy(s->trace_id, trace_id, 16);
	memcpy(s->parent_id, span_id, 8);
	s->has_parent = true;
}

void span_set_str_sig(struct span *s, const char *key, uint32_t sig, const char *val)
{
	struct span_attr *a = attr_slot(s, key, sig);
	size_t room = SPAN_ARENA - s->arena_used, n;
	char *dst;

	if (!a)
		return;
	n = strlen(val);
	a->is_int = false;
	if (room <= 1) {
		/* the arena's last byte stays '\0' for exactly this */
		a->soff = SPAN_ARENA - 1;
		a->slen = 0;
		return;
	}
	if (n >= room - 1)
		n = room - 2;
	dst = s->arena + s->arena_used;
	memcpy(dst, val, n);
	dst[n] = '\0';
	a->soff = (uint16_t)s->arena_used;
	a->slen = (uint32_t)n;
	s->arena_used += n + 1;
}

/* Appends the first n bytes of v (less when they do not fit, cut after a line's end when
 * whole_lines) and a NUL to s->exc at *used: the offset of the string. */
static uint16_t exc_put(struct span *s, size_t *used, const char *v, bool whole_lines)
{
	size_t room = SPAN_EXC_ARENA - *used, n = strlen(v);
	uint16_t off = (uint16_t)*used;

	if (room < 1)
		return SPAN_EXC_ARENA - 1;
	if (n > room - 1) {
		n = room - 1;
		if (whole_lines)
			while (n && v[n - 1] != '\n')
				n--;
	}
	memcpy(s->exc + *used, v, n);
	s->exc[*used + n] = '\0';
	*used += n + 1;
	return off;
}

void span_set_exception(struct span *s, uint64_t ts_ns, const char *type, const char *message,
			const char *stacktrace, bool escaped)
{
	size_t used = 0;

	s->exc[SPAN_EXC_ARENA - 1] = '\0';
	exc_put(s, &used, type, false);
	s->exc_msg_off = exc_put(s, &used, message, false);
	s->exc_stack_off = exc_put(s, &used, stacktrace ? stacktrace : "", true);
	s->exc_ns = ts_ns ? ts_ns : 1;
	s->exc_escaped = escaped;
	s->error = true;
}

void span_set_int_sig(struct span *s, const char *key, uint32_t sig, int64_t v)
{
	struct span_attr *a = attr_slot(s, key, sig);

	if (!a)
		return;
	a->is_int = true;
	a->ival = v;
}

const struct span_attr *span_get_sig(const struct span *s, const char *key, uint32_t sig)
{
	return attr_find(s, key, sig);
}

const char *span_attr_str(const struct span *s, const struct span_attr *a)
{
	return a->is_int ? "" : s->arena + a->soff;
}

/* xoshiro256** per thread, seeded from getrandom(): ids must be unpredictable enough not to
 * collide across hosts, and cheap, since every request makes one. */
static __thread uint64_t rng_state[4];
static __thread bool rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
	uint64_t *st = rng_state, res, t;

	if (!rng_seeded) {
		if (getrandom(st, sizeof(rng_state), 0) != sizeof(rng_state)) {
			uint64_t now = clock_mono_ns();

			st[0] = (now % 1000000000ull) ^ 0x9e3779b97f4a7c15ull;
			st[1] = (now / 1000000000ull) ^ (uint64_t)pthread_self();
			st[2] = 0xbf58476d1ce4e5b9ull;
			st[3] = 0x94d049bb133111ebull;
		}
		rng_seeded = true;
	}
	res = rotl(st[1] * 5, 7) * 9;
	t = st[1] << 17;
	st[2] ^= st[0];
	st[3] ^= st[1];
	st[1] ^= st[2];
	st[0] ^= st[3];
	st[2] ^= t;
	st[3] = rotl(st[3], 45);
	return res;
}

void span_new_trace_id(uint8_t id[16])
{
	uint64_t a, b;

	do {
		a = rng_next();
		b = rng_next();
	} while (!a && !b);
	memcpy(id, &a, 8);
	memcpy(id + 8, &b, 8);
}

void span_new_span_id(uint8_t id[8])
{
	uint64_t a;

	do
		a = rng_next();
	while (!a);
	memcpy(id, &a, 8);
}

void span_hex(const uint8_t *id, size_t n, char *out)
{
	hex_encode(id, n, out);
}

const char *span_kind_name(enum span_kind k)
{
	switch (k) {
	case SPAN_KIND_SERVER:
		return "SERVER";
	case SPAN_KIND_CLIENT:
		return "CLIENT";
	}
	return "INTERNAL";
}
