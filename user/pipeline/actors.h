/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Who serves which request, so that a call made while serving it becomes its child. An actor is
 * what runs the code: an OS thread, or in a Go program a goroutine (goroutines move between
 * threads, so there a thread says nothing). Per actor: the server spans in flight on it; for a
 * goroutine also the span it works for on evidence: the one in flight on the goroutine that
 * spawned it (`go` statement) while that span lasts, or, for one HTTP call, the one of the
 * goroutine that handed the request to it (net/http's client writes requests on a connection's
 * own goroutine). A thread serving several requests at once (an event loop) links a call only
 * to the one request whose method and target it forwards (a proxy). Nothing else links: other
 * calls of such a thread, a goroutine obsprobe could not name, give no parent, counted by
 * reason. Pure: events in, no I/O.
 */
#ifndef OBSPROBE_ACTORS_H
#define OBSPROBE_ACTORS_H

#include <stdbool.h>
#include <stdint.h>

/* An actor's key within its process: a thread id, or a goroutine id with this bit set. 0: a
 * Go program's event made outside any goroutine (the runtime's own): nobody. */
#define ACTOR_GO (1ull << 63)

static inline uint64_t actor_key(uint32_t tid, bool go, uint64_t goid)
{
	if (!go)
		return tid;
	return goid ? goid | ACTOR_GO : 0;
}

enum actor_unlinked {
	ACTOR_NO_REQUEST,   /* nothing in flight on that thread or goroutine: a root */
	ACTOR_AMBIGUOUS,    /* several requests in flight on that thread: no guess */
	ACTOR_NO_GOROUTINE, /* a Go program's call whose goroutine is unknown */
	ACTOR_UNLINKED__COUNT,
};

const char *actor_unlinked_name(enum actor_unlinked r);

struct actors_stats {
	uint64_t linked;
	uint64_t matched;   /* of them: by the request a proxy forwards (several in flight) */
	uint64_t forwarded; /* of them: by the traceparent a proxy forwards */
	uint64_t unlinked[ACTOR_UNLINKED__COUNT];
	uint64_t spawns_followed; /* goroutines that took their spawner's request */
	uint64_t spawns_refuted;  /* told in advance, shown otherwise: not followed */
	uint64_t handoffs;	  /* HTTP calls written on another goroutine, linked */
	uint64_t full;		  /* what could not be kept: the table was full */
	uint64_t actors;	  /* entries now */
};

struct actors;

struct actors *actors_new(void);
void actors_free(struct actors *t); /* NULL ok */

/* What identifies a request a proxy forwards: its method and target (path and query). Never 0. */
uint64_t actors_sig(const char *method, const char *target);

/* A server span starts or ends on actor key of pid; sig: actors_sig() of its request, tp: of
 * the traceparent it came with (actors_sig(value, "")); 0 for none. */
void actors_span_enter(struct actors *t, uint32_t pid, uint64_t key, const uint8_t trace_id[16],
		       const uint8_t span_id[8], uint64_t sig, uint64_t tp);
/* A call of actor key sends on the traceparent tp it did not make: a proxy forwarding what came
 * in. True with the ids of the one request in flight on that actor that came with it. */
bool actors_forwarded(struct actors *t, uint32_t pid, uint64_t key, uint64_t tp,
		      uint8_t trace_id[16], uint8_t span_id[8]);
void actors_span_leave(struct actors *t, uint32_t pid, uint64_t key, const uint8_t span_id[8]);
/* The in-flight span span_id joined another trace (its caller's): what follows it does too. */
void actors_span_retrace(struct actors *t, uint32_t pid, uint64_t key, const uint8_t span_id[8],
			 const uint8_t trace_id[16]);
/* The parent of a call actor key of pid makes now (sig: actors_sig() of the request it sends, 0
 * for none): true with the ids, else false and the reason counted. */
bool actors_parent(struct actors *t, uint32_t pid, uint64_t key, uint64_t sig, uint8_t trace_id[16],
		   uint8_t span_id[8]);

/* The request actor key of pid serves now, for what it writes (a log line): a thread or
 * goroutine serving one request, or a goroutine spawned for one while it lasts. Counts nothing,
 * uses up no hand-over. */
bool actors_serving(struct actors *t, uint32_t pid, uint64_t key, uint8_t trace_id[16],
		    uint8_t span_id[8]);

/* Go: goroutine parent spawned child (goroutine ids, not keys). gopc 0: seen done; else child
 * was told in advance, and works for parent's request only once actors_go_born() shows it
 * with that gopc. */
void actors_go_spawn(struct actors *t, uint32_t pid, uint64_t parent, uint64_t child,
		     uint64_t gopc);
/* Go: goroutine goid, told in advance, shows with gopc (0: told for two spawns). */
void actors_go_born(struct actors *t, uint32_t pid, uint64_t goid, uint64_t gopc);
/* Go: goroutine goid has the next HTTP request on socket fd written by another goroutine (the
 * connection's writer) and waits for the answer. */
void actors_go_call(struct actors *t, uint32_t pid, uint64_t goid, int fd);
/* The parent of the request now going out on socket fd of pid, when a goroutine handed it over
 * (actors_go_call()) and still serves the span it was made for: true with the ids, counted as
 * linked; the hand-over is used up either way. */
bool actors_call_parent(struct actors *t, uint32_t pid, int fd, uint8_t trace_id[16],
			uint8_t span_id[8]);

/* pid is gone: everything of it goes. */
void actors_proc_exit(struct actors *t, uint32_t pid);
void actors_get_stats(const struct actors *t, struct actors_stats *out);

#endif /* OBSPROBE_ACTORS_H */
