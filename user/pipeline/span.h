/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Spans as obsprobe assembles them: ids, kind, times, status and typed attributes. */
#ifndef OBSPROBE_SPAN_H
#define OBSPROBE_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/k8s_meta.h"
#include "util/prefetch.h"

/* Values as in OTLP's Span.SpanKind. */
enum span_kind {
	SPAN_KIND_SERVER = 2,
	SPAN_KIND_CLIENT = 3,
};

#define SPAN_NAME_MAX 160
#define SPAN_MAX_ATTRS 20
#define SPAN_ARENA 3072
#define SPAN_EXC_ARENA 1024 /* an exception's type, message and top frames */

struct span_attr {
	const char *key; /* a string literal: semconv keys are static */
	union {
		int64_t ival;  /* is_int */
		uint32_t slen; /* a string: its length in the arena (the OTLP encoder's) */
	};
	uint16_t soff; /* string value: offset into the span's arena, so spans copy safely */
	bool is_int;
	uint32_t ksig; /* span_key_sig(key): keys that differ mostly differ here (span.c) */
};

/* The process a span belongs to: the resource of OpenTelemetry. */
struct proc_info {
	uint32_t pid;
	/* what pipeline/targets.c numbers each set of names it writes with, never twice: two
	 * infos of one version say the same; 0: not numbered (compare the names) */
	uint64_t version;
	char service_name[128];
	char exe_name[64];
	char container_id[65]; /* from its cgroup: 64 hex digits, "" outside a container */
	/* its Kubernetes pod, from the API server (process/k8s_meta.h: k8s_pod_attrs() lists what
	 * is set); all "" outside Kubernetes */
	struct k8s_pod_info k8s;
};

struct span {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	uint8_t parent_id[8];
	bool has_parent;
	bool remote_parent; /* the parent came from an incoming traceparent */
	uint8_t trace_flags;
	enum span_kind kind;
	bool error;
	uint32_t pid, tid;
	uint64_t actor;		   /* the thread or goroutine that made it (pipeline/actors.h) */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC, as the kernel stamps events */
	char name[SPAN_NAME_MAX];
	size_t nattrs;
	uint64_t kmask; /* a bit per key_sig() set (span.c): most keys set are new ones */
	struct span_attr attrs[SPAN_MAX_ATTRS];
	/* an `exception` event (a crash or panic while it was served): type, message and stack
	 * trace as NUL-separated strings in exc[] ("" when absent); exc_ns 0: none. Copies of a
	 * span may stop at its arena's used end unless it has one (span_used_size()) */
	uint64_t exc_ns;
	bool exc_escaped; /* it left the span's scope: the process died of it */
	uint16_t exc_msg_off, exc_stack_off;
	size_t arena_used;
	char arena[SPAN_ARENA];
	char exc[SPAN_EXC_ARENA];
};

void span_init(struct span *s, enum span_kind kind);
/* The bytes of s that a copy of it needs: up to its arena's used end, or the whole of it when it
 * has an exception, whose strings follow the arena. */
size_t span_used_size(const struct span *s);
/* s into dst, which has span_used_size(s) bytes (s may be such a copy): what is read of it only,
 * leaving the attributes past nattrs and the arena past its used end as they were. */
void span_copy(struct span *dst, const struct span *s);
/*
 * Prefetching a copy of a span that another thread wrote, in two steps some spans apart:
 * span_prefetch_head() fetches the lines that say how much of it is used, then
 * span_prefetch_used() (which reads them) the lines of its attributes and of its arena's used
 * part. The OTLP encoder reads ~15 lines of each queued span, every one a cache miss otherwise.
 */
static inline void span_prefetch_head(const struct span *s)
{
	__builtin_prefetch(s);
	__builtin_prefetch(&s->nattrs);
	__builtin_prefetch(&s->arena_used);
}

static inline void span_prefetch_used(const struct span *s)
{
	size_t n = s->nattrs < SPAN_MAX_ATTRS ? s->nattrs : SPAN_MAX_ATTRS;
	size_t used = s->arena_used < SPAN_ARENA ? s->arena_used : SPAN_ARENA;

	/* the header past its first line (the name), then the attributes set */
	prefetch_range((const char *)s + 64, &s->attrs[n], false);
	prefetch_range(s->arena, s->arena + used, false);
}

/* s joins the trace trace_id as a child of the span span_id. */
void span_make_child(struct span *s, const uint8_t trace_id[16], const uint8_t span_id[8]);
/* Attributes: a key set twice keeps the last value; values that do not fit are truncated;
 * beyond SPAN_MAX_ATTRS new keys are dropped. Keys are found by their text; its signature, a
 * gate before comparing strings (span.c), is computed here, inline, so that the compiler
 * computes it for a literal key, as every semconv key is: ~16 keys are set or read a request. */
static inline uint32_t span_key_sig(const char *key)
{
	size_t n = __builtin_strlen(key);

	return (uint32_t)n << 16 | (uint32_t)(uint8_t)key[n ? n - 1 : 0] << 8 | (uint8_t)key[n / 2];
}

/* The length of a's key, which its signature holds: no strlen() of it where spans are encoded. */
static inline size_t span_attr_key_len(const struct span_attr *a)
{
	return a->ksig >> 16;
}

void span_set_str_sig(struct span *s, const char *key, uint32_t sig, const char *val);
void span_set_int_sig(struct span *s, const char *key, uint32_t sig, int64_t v);
const struct span_attr *span_get_sig(const struct span *s, const char *key, uint32_t sig);

static inline void span_set_str(struct span *s, const char *key, const char *val)
{
	span_set_str_sig(s, key, span_key_sig(key), val);
}

static inline void span_set_int(struct span *s, const char *key, int64_t v)
{
	span_set_int_sig(s, key, span_key_sig(key), v);
}

static inline const struct span_attr *span_get(const struct span *s, const char *key)
{
	return span_get_sig(s, key, span_key_sig(key));
}

/* The string value of an attribute of s; "" for an int. */
const char *span_attr_str(const struct span *s, const struct span_attr *a);

/* key's string value; NULL when s has none (or an int) */
static inline const char *span_get_str(const struct span *s, const char *key)
{
	const struct span_attr *a = span_get(s, key);

	return a && !a->is_int ? s->arena + a->soff : NULL;
}

static inline int64_t span_get_int(const struct span *s, const char *key, int64_t dflt)
{
	const struct span_attr *a = span_get(s, key);

	return a && a->is_int ? a->ival : dflt;
}

/* An exception at ts_ns while s was served: s fails (error), with an `exception` event. Strings
 * that do not fit are cut (the stack trace at a line's end). */
void span_set_exception(struct span *s, uint64_t ts_ns, const char *type, const char *message,
			const char *stacktrace, bool escaped);

/* Fresh random ids (never all zero). */
void span_new_trace_id(uint8_t id[16]);
void span_new_span_id(uint8_t id[8]);
void span_hex(const uint8_t *id, size_t n, char *out); /* out: 2n+1 bytes */
const char *span_kind_name(enum span_kind k);

/* Where finished spans go. */
struct span_sink {
	void (*on_span)(void *ctx, const struct span *s, const struct proc_info *proc);
	void *ctx;
};

#endif /* OBSPROBE_SPAN_H */
