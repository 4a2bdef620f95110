// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Who serves which request: threads, goroutines, spawns and handed-on HTTP calls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "pipeline/actors.h"

#define PID 4242
#define OTHER_PID 4343

static int setup(void **state)
{
	*state = actors_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	actors_free(*state);
	return 0;
}

/* ---- threads ---- */

static const uint8_t trace_a[16] = { 0xa1, [15] = 0xa1 }, span_a[8] = { 0xa2, [7] = 0xa2 };
static const uint8_t trace_b[16] = { 0xb1, [15] = 0xb1 }, span_b[8] = { 0xb2, [7] = 0xb2 };
static const uint8_t trace_c[16] = { 0xc1, [15] = 0xc1 }, span_c[8] = { 0xc2, [7] = 0xc2 };

static void assert_parent(struct actors *f, uint64_t key, const uint8_t *trace, const uint8_t *span)
{
	uint8_t tr[16], sp[8];

	assert_true(actors_parent(f, PID, key, 0, tr, sp));
	assert_memory_equal(tr, trace, 16);
	assert_memory_equal(sp, span, 8);
}

static void assert_no_parent(struct actors *f, uint64_t key)
{
	uint8_t tr[16], sp[8];

	memset(tr, 0x5a, sizeof(tr));
	memset(sp, 0x5a, sizeof(sp));
	assert_false(actors_parent(f, PID, key, 0, tr, sp));
	/* and the outputs are left alone */
	assert_int_equal(tr[0], 0x5a);
	assert_int_equal(sp[7], 0x5a);
}

UNIT_TEST_FIXTURE(test_span_one_request_per_thread, setup, teardown)
{
	struct actors *f = *state;

	assert_no_parent(f, 7);
	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	assert_parent(f, 7, trace_a, span_a);
	/* other threads, in the same bucket or not, serve nothing */
	assert_no_parent(f, 8);
	assert_no_parent(f, 7 + 1024);
	actors_span_leave(f, PID, 7, span_a);
	assert_no_parent(f, 7);
	/* leaving what was never entered, or twice, is nothing */
	actors_span_leave(f, PID, 7, span_a);
	actors_span_leave(f, PID, 9, span_a);
	assert_no_parent(f, 7);
	/* the next request of the thread */
	actors_span_enter(f, PID, 7, trace_b, span_b, 0, 0);
	assert_parent(f, 7, trace_b, span_b);
}

UNIT_TEST_FIXTURE(test_span_threads_apart, setup, teardown)
{
	struct actors *f = *state;

	/* 7 and 7 + 1024 may share a bucket; 1 is a thread id like any other */
	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, 7 + 1024, trace_b, span_b, 0, 0);
	actors_span_enter(f, PID, 1, trace_b, span_a, 0, 0);
	assert_parent(f, 7, trace_a, span_a);
	assert_parent(f, 7 + 1024, trace_b, span_b);
	assert_parent(f, 1, trace_b, span_a);
	actors_span_leave(f, PID, 7, span_a);
	assert_no_parent(f, 7);
	assert_parent(f, 7 + 1024, trace_b, span_b);
	assert_parent(f, 1, trace_b, span_a);
	actors_span_leave(f, PID, 7 + 1024, span_b);
	actors_span_leave(f, PID, 1, span_a);
	assert_no_parent(f, 7 + 1024);
	assert_no_parent(f, 1);
}

UNIT_TEST_FIXTURE(test_span_two_requests_no_parent, setup, teardown)
{
	struct actors *f = *state;

	/* an event loop serving two requests on one thread: a call could be either's */
	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, 7, trace_b, span_b, 0, 0);
	assert_no_parent(f, 7);
	actors_span_enter(f, PID, 7, trace_c, span_a, 0, 0);
	actors_span_leave(f, PID, 7, span_b);
	assert_no_parent(f, 7);
	actors_span_leave(f, PID, 7, span_a);
	actors_span_leave(f, PID, 7, span_a);
	assert_no_parent(f, 7);
	/* all left: the thread starts afresh */
	actors_span_enter(f, PID, 7, trace_c, span_b, 0, 0);
	assert_parent(f, 7, trace_c, span_b);
}

UNIT_TEST_FIXTURE(test_span_retrace, setup, teardown)
{
	struct actors *f = *state;

	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	/* the server span joined its client's trace: calls made now belong to that trace */
	actors_span_retrace(f, PID, 7, span_a, trace_c);
	assert_parent(f, 7, trace_c, span_a);
	/* a span that is not the thread's active one changes nothing */
	actors_span_retrace(f, PID, 7, span_b, trace_b);
	assert_parent(f, 7, trace_c, span_a);
	/* nor does a thread that serves nothing */
	actors_span_retrace(f, PID, 8, span_a, trace_b);
	assert_no_parent(f, 8);
	actors_span_leave(f, PID, 7, span_a);
	actors_span_retrace(f, PID, 7, span_a, trace_b);
	assert_no_parent(f, 7);
}

/* A thread that served A, then B, and finished B first: A is left, the parent of what follows. */
UNIT_TEST_FIXTURE(test_span_newer_request_done_first, setup, teardown)
{
	struct actors *f = *state;

	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, 7, trace_b, span_b, 0, 0);
	actors_span_leave(f, PID, 7, span_b);
	assert_parent(f, 7, trace_a, span_a);
	actors_span_leave(f, PID, 7, span_a);
	assert_no_parent(f, 7);
}

/* ... and finished A first: B, the one entered last, is still in flight and is the parent. */
UNIT_TEST_FIXTURE(test_span_older_request_done_first, setup, teardown)
{
	struct actors *f = *state;

	actors_span_enter(f, PID, 7, trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, 7, trace_b, span_b, 0, 0);
	actors_span_leave(f, PID, 7, span_a);
	assert_parent(f, 7, trace_b, span_b);
	actors_span_leave(f, PID, 7, span_b);
	assert_no_parent(f, 7);
}

/* ---- goroutines ---- */

#define G(goid) ((goid) | ACTOR_GO)

static void stats(struct actors *f, struct actors_stats *st)
{
	actors_get_stats(f, st);
}

UNIT_TEST(test_actor_key)
{
	(void)state;
	assert_int_equal(actor_key(7, false, 99), 7);
	assert_int_equal(actor_key(7, true, 99), G(99));
	/* a Go program's event made outside any goroutine: nobody */
	assert_int_equal(actor_key(7, true, 0), 0);
	assert_string_equal(actor_unlinked_name(ACTOR_AMBIGUOUS), "ambiguous");
	assert_string_equal(actor_unlinked_name(ACTOR_UNLINKED__COUNT), "?");
}

UNIT_TEST_FIXTURE(test_go_goroutine_not_thread, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	/* goroutine 20 serves a; goroutine 21 of the same process, on whatever thread, does not */
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	assert_parent(f, G(20), trace_a, span_a);
	assert_no_parent(f, G(21));
	/* the same goroutine id in another process is another goroutine */
	{
		uint8_t tr[16], sp[8];

		assert_false(actors_parent(f, OTHER_PID, G(20), 0, tr, sp));
	}
	/* nobody: a call of the Go runtime's own, counted apart */
	assert_no_parent(f, 0);
	stats(f, &st);
	assert_int_equal(st.linked, 1);
	assert_int_equal(st.unlinked[ACTOR_NO_REQUEST], 2);
	assert_int_equal(st.unlinked[ACTOR_NO_GOROUTINE], 1);
	actors_span_leave(f, PID, G(20), span_a);
	stats(f, &st);
	assert_int_equal(st.actors, 0);
}

UNIT_TEST_FIXTURE(test_go_spawn_follows_while_in_flight, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_go_spawn(f, PID, 20, 30, 0);
	/* a goroutine spawned by one that a spawned: still a's */
	actors_go_spawn(f, PID, 30, 31, 0);
	assert_parent(f, G(30), trace_a, span_a);
	assert_parent(f, G(31), trace_a, span_a);
	/* the request joined its caller's trace: its followers do too */
	actors_span_retrace(f, PID, G(20), span_a, trace_c);
	assert_parent(f, G(31), trace_c, span_a);
	stats(f, &st);
	assert_int_equal(st.spawns_followed, 2);
	assert_int_equal(st.actors, 3);
	/* a is over: what its goroutines do later is no child of it */
	actors_span_leave(f, PID, G(20), span_a);
	assert_no_parent(f, G(30));
	assert_no_parent(f, G(31));
	stats(f, &st);
	assert_int_equal(st.actors, 0);
	/* the next request on goroutine 20 is not the old followers' */
	actors_span_enter(f, PID, G(20), trace_b, span_b, 0, 0);
	assert_no_parent(f, G(30));
	assert_parent(f, G(20), trace_b, span_b);
}

UNIT_TEST_FIXTURE(test_go_spawn_without_request, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	/* spawned by a goroutine that serves nothing, or by one never seen: nothing to follow */
	actors_go_spawn(f, PID, 20, 30, 0);
	assert_no_parent(f, G(30));
	/* by a goroutine that serves two (not Go's way, but then no guess) */
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, G(20), trace_b, span_b, 0, 0);
	actors_go_spawn(f, PID, 20, 30, 0);
	assert_no_parent(f, G(30));
	assert_no_parent(f, G(20));
	stats(f, &st);
	assert_int_equal(st.spawns_followed, 0);
	assert_int_equal(st.unlinked[ACTOR_AMBIGUOUS], 1);
	/* a goroutine that serves its own request is its own parent, not its spawner's */
	actors_span_leave(f, PID, G(20), span_b);
	actors_span_leave(f, PID, G(20), span_a);
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_go_spawn(f, PID, 20, 30, 0);
	actors_span_enter(f, PID, G(30), trace_b, span_b, 0, 0);
	assert_parent(f, G(30), trace_b, span_b);
	actors_span_leave(f, PID, G(30), span_b);
	assert_parent(f, G(30), trace_a, span_a);
}

/* Spawns told in advance at the `go` statement: followed only once the goroutine shows with
 * the `go` statement's pc. */
UNIT_TEST_FIXTURE(test_go_spawn_told_in_advance, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;
	const uint64_t pc = 0x6d2a45, other_pc = 0x4f2156;

	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, G(21), trace_b, span_b, 0, 0);
	actors_go_spawn(f, PID, 20, 30, pc);
	actors_go_spawn(f, PID, 21, 31, pc);
	actors_go_spawn(f, PID, 20, 32, pc);
	/* not before it shows */
	assert_no_parent(f, G(30));
	/* shown where told: a's */
	actors_go_born(f, PID, 30, pc);
	assert_parent(f, G(30), trace_a, span_a);
	/* 31 shows with another gopc: the id went to another `go` statement's goroutine */
	actors_go_born(f, PID, 31, other_pc);
	assert_no_parent(f, G(31));
	/* 32 was told twice (gopc 0): neither */
	actors_go_born(f, PID, 32, 0);
	assert_no_parent(f, G(32));
	/* a birth nobody told of changes nothing; nor does a second one */
	actors_go_born(f, PID, 33, pc);
	assert_no_parent(f, G(33));
	actors_go_born(f, PID, 30, other_pc);
	assert_parent(f, G(30), trace_a, span_a);
	stats(f, &st);
	assert_int_equal(st.spawns_followed, 1);
	assert_int_equal(st.spawns_refuted, 2);
}

UNIT_TEST_FIXTURE(test_go_spawn_told_twice, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;
	const uint64_t pc = 0x6d2a45;

	/* two spawners told the same id (one was preempted and its P handed the id on): the
	 * second claim drops the first, and the birth changes nothing */
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, G(21), trace_b, span_b, 0, 0);
	actors_go_spawn(f, PID, 20, 30, pc);
	actors_go_spawn(f, PID, 21, 30, pc);
	actors_go_born(f, PID, 30, pc);
	assert_no_parent(f, G(30));
	/* a spawn told in advance whose spawner's request ends before it shows: nothing */
	actors_go_spawn(f, PID, 21, 34, pc);
	actors_span_leave(f, PID, G(21), span_b);
	actors_go_born(f, PID, 34, pc);
	assert_no_parent(f, G(34));
	stats(f, &st);
	assert_int_equal(st.spawns_followed, 0);
	assert_int_equal(st.spawns_refuted, 1);
	assert_int_equal(st.actors, 1); /* 20 alone */
}

static void assert_call_parent(struct actors *f, int fd, const uint8_t *trace, const uint8_t *span)
{
	uint8_t tr[16], sp[8];

	assert_true(actors_call_parent(f, PID, fd, tr, sp));
	assert_memory_equal(tr, trace, 16);
	assert_memory_equal(sp, span, 8);
}

static void assert_no_call_parent(struct actors *f, uint32_t pid, int fd)
{
	uint8_t tr[16], sp[8];

	memset(sp, 0x5a, sizeof(sp));
	assert_false(actors_call_parent(f, pid, fd, tr, sp));
	assert_int_equal(sp[0], 0x5a);
}

UNIT_TEST_FIXTURE(test_go_http_handoff, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	/* goroutines 20 and 21 serve a and b and call out on sockets 9 and 10, whose writer
	 * goroutines write the requests */
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, G(21), trace_b, span_b, 0, 0);
	actors_go_call(f, PID, 21, 10);
	actors_go_call(f, PID, 20, 9);
	assert_call_parent(f, 10, trace_b, span_b);
	/* for one request only */
	assert_no_call_parent(f, PID, 10);
	assert_call_parent(f, 9, trace_a, span_a);
	/* a socket nobody handed a call to, another process's, a bad one: nothing */
	actors_go_call(f, PID, 20, 11);
	assert_no_call_parent(f, OTHER_PID, 11);
	assert_no_call_parent(f, PID, 12);
	actors_go_call(f, PID, 20, -1);
	assert_no_call_parent(f, PID, -1);
	/* the next call on a socket replaces the one before (that one never went out) */
	actors_go_call(f, PID, 21, 11);
	assert_call_parent(f, 11, trace_b, span_b);
	stats(f, &st);
	assert_int_equal(st.handoffs, 3);
	assert_int_equal(st.linked, 3);
}

UNIT_TEST_FIXTURE(test_go_handoff_caller_done, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_go_call(f, PID, 20, 9);
	/* the caller gave up (its request ended) before the writer got to it */
	actors_span_leave(f, PID, G(20), span_a);
	assert_no_call_parent(f, PID, 9);
	/* and a later request of that goroutine is not the one the call was made for */
	actors_go_call(f, PID, 20, 9);
	actors_span_enter(f, PID, G(20), trace_b, span_b, 0, 0);
	assert_no_call_parent(f, PID, 9);
	actors_go_call(f, PID, 20, 9);
	actors_span_leave(f, PID, G(20), span_b);
	actors_span_enter(f, PID, G(20), trace_c, span_c, 0, 0);
	assert_no_call_parent(f, PID, 9);
	actors_span_leave(f, PID, G(20), span_c);
	stats(f, &st);
	assert_int_equal(st.actors, 0);
	/* a call from a goroutine that serves nothing, or from one serving two, records nothing */
	actors_go_call(f, PID, 50, 9);
	assert_no_call_parent(f, PID, 9);
	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_span_enter(f, PID, G(20), trace_b, span_b, 0, 0);
	actors_go_call(f, PID, 20, 9);
	assert_no_call_parent(f, PID, 9);
	/* a goroutine following its spawner's request calls for it */
	actors_span_leave(f, PID, G(20), span_b);
	actors_go_spawn(f, PID, 20, 30, 0);
	actors_go_call(f, PID, 30, 9);
	assert_call_parent(f, 9, trace_a, span_a);
}

UNIT_TEST_FIXTURE(test_go_proc_exit, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;

	actors_span_enter(f, PID, G(20), trace_a, span_a, 0, 0);
	actors_go_spawn(f, PID, 20, 30, 0);
	actors_go_call(f, PID, 20, 9);
	actors_span_enter(f, OTHER_PID, 7, trace_b, span_b, 0, 0);
	actors_proc_exit(f, PID);
	stats(f, &st);
	assert_int_equal(st.actors, 1);
	assert_no_parent(f, G(30));
	assert_no_call_parent(f, PID, 9);
	{
		uint8_t tr[16], sp[8];

		assert_true(actors_parent(f, OTHER_PID, 7, 0, tr, sp));
	}
	actors_free(NULL);
}

/* Many requests, goroutines and calls come and go: nothing is left behind. */
UNIT_TEST_FIXTURE(test_go_churn_leaves_nothing, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;
	uint8_t span[8] = { 0 };
	uint64_t i;

	for (i = 1; i <= 100000; i++) {
		uint64_t g = 1000000 + i;

		memcpy(span, &i, sizeof(i));
		actors_span_enter(f, PID, G(g), trace_a, span, 0, 0);
		actors_go_spawn(f, PID, g, g + 500000000, 0);
		actors_go_call(f, PID, g, (int)(i % 1000) + 3);
		{
			uint8_t tr[16], sp[8];

			assert_true(actors_call_parent(f, PID, (int)(i % 1000) + 3, tr, sp));
		}
		actors_span_leave(f, PID, G(g), span);
	}
	stats(f, &st);
	assert_int_equal(st.actors, 0);
	assert_int_equal(st.spawns_followed, 100000);
	assert_int_equal(st.handoffs, 100000);
	assert_int_equal(st.full, 0);
}

/* An event loop (nginx) serving several requests: a call that forwards exactly one of them (same
 * method and target) is its child; a call that forwards none, or one of two alike, is nobody's. */
UNIT_TEST_FIXTURE(test_proxy_match, setup, teardown)
{
	struct actors *f = *state;
	struct actors_stats st;
	uint64_t r1 = actors_sig("GET", "/req/1001"), r2 = actors_sig("GET", "/req/2001");
	uint8_t tr[16], sp[8];

	assert_int_not_equal(r1, r2);
	assert_int_not_equal(actors_sig("GE", "T /x"), actors_sig("GET", " /x"));
	assert_int_not_equal(actors_sig("", ""), 0);
	actors_span_enter(f, PID, 7, trace_a, span_a, r1, 0);
	actors_span_enter(f, PID, 7, trace_b, span_b, r2, 0);
	assert_true(actors_parent(f, PID, 7, r2, tr, sp));
	assert_memory_equal(tr, trace_b, 16);
	assert_memory_equal(sp, span_b, 8);
	assert_true(actors_parent(f, PID, 7, r1, tr, sp));
	assert_memory_equal(sp, span_a, 8);
	/* a call that forwards neither, or carries no request (a query) */
	assert_false(actors_parent(f, PID, 7, actors_sig("POST", "/req/1001"), tr, sp));
	assert_false(actors_parent(f, PID, 7, 0, tr, sp));
	/* two alike in flight: no guess */
	actors_span_enter(f, PID, 7, trace_c, span_c, r1, 0);
	assert_false(actors_parent(f, PID, 7, r1, tr, sp));
	assert_true(actors_parent(f, PID, 7, r2, tr, sp));
	actors_span_leave(f, PID, 7, span_a);
	assert_true(actors_parent(f, PID, 7, r1, tr, sp));
	assert_memory_equal(sp, span_c, 8);
	actors_get_stats(f, &st);
	assert_int_equal(st.matched, 4);
	assert_int_equal(st.unlinked[ACTOR_AMBIGUOUS], 3);
}

/* Beyond the ids it keeps per actor, spans in flight still count: no match is trusted then. */
UNIT_TEST_FIXTURE(test_inflight_overflow, setup, teardown)
{
	struct actors *f = *state;
	uint64_t r1 = actors_sig("GET", "/one");
	uint8_t tr[16], sp[8], id[8] = { 0 };
	int i;

	actors_span_enter(f, PID, 7, trace_a, span_a, r1, 0);
	for (i = 1; i <= 300; i++) {
		memcpy(id, &i, sizeof(i));
		actors_span_enter(f, PID, 7, trace_b, id, actors_sig("GET", "/other"), 0);
	}
	assert_false(actors_parent(f, PID, 7, r1, tr, sp));
	for (i = 1; i <= 300; i++) {
		memcpy(id, &i, sizeof(i));
		actors_span_leave(f, PID, 7, id);
	}
	assert_true(actors_parent(f, PID, 7, r1, tr, sp));
	actors_span_leave(f, PID, 7, span_a);
	assert_false(actors_parent(f, PID, 7, r1, tr, sp));
}

/* A proxy's call that passes on a traceparent one request in flight came with is that request's
 * child; two that came with it, or none: no guess. */
UNIT_TEST_FIXTURE(test_forwarded_traceparent, setup, teardown)
{
	struct actors *f = *state;
	uint64_t t1 = actors_sig("00-aa-01", ""), t2 = actors_sig("00-bb-01", "");
	uint8_t tr[16], sp[8];

	assert_false(actors_forwarded(f, PID, 7, t1, tr, sp));
	actors_span_enter(f, PID, 7, trace_a, span_a, 0, t1);
	actors_span_enter(f, PID, 7, trace_b, span_b, 0, t2);
	assert_true(actors_forwarded(f, PID, 7, t2, tr, sp));
	assert_memory_equal(sp, span_b, 8);
	assert_false(actors_forwarded(f, PID, 7, 0, tr, sp));
	assert_false(actors_forwarded(f, PID, 8, t1, tr, sp));
	actors_span_enter(f, PID, 7, trace_c, span_c, 0, t1);
	assert_false(actors_forwarded(f, PID, 7, t1, tr, sp));
	actors_span_leave(f, PID, 7, span_a);
	assert_true(actors_forwarded(f, PID, 7, t1, tr, sp));
	assert_memory_equal(sp, span_c, 8);
}

UNIT_MAIN(NULL, NULL)
