// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Log records from stdout/stderr writes: which line is tied to which request (one whole line in
 * one write, by an actor serving one request), gaps, budgets, bounds, process exit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit.h"

#include "obsprobe/common.h"
#include "obsprobe/sock.h"
#include "pipeline/logline.h"
#include "pipeline/logs.h"

#define PID 4242
#define MAX_RECS 64

struct fixture {
	struct actors *actors;
	struct log_tracker *t;
	size_t n;
	struct log_record *recs; /* MAX_RECS */
	struct sock_data_event ev;
};

static void emit(void *ctx, const struct log_record *r)
{
	struct fixture *f = ctx;

	if (f->n < MAX_RECS)
		f->recs[f->n] = *r;
	f->n++;
}

static struct fixture *make(unsigned long lines_per_s)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->recs = calloc(MAX_RECS, sizeof(*f->recs));
	f->actors = actors_new();
	f->t = log_tracker_new(f->actors, lines_per_s, emit, f);
	assert_non_null(f->recs);
	assert_non_null(f->t);
	return f;
}

static int setup(void **state)
{
	*state = make(0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	log_tracker_free(f->t);
	actors_free(f->actors);
	free(f->recs);
	free(f);
	return 0;
}

/* A write of s (captured whole, then gap bytes not) to fd by tid (go: goroutine goid) at ts. */
static int write_ex(struct fixture *f, uint32_t pid, uint32_t tid, uint64_t goid, int fd,
		    uint64_t ts, const char *s, uint64_t gap)
{
	size_t len = strlen(s);

	memset(&f->ev, 0, SOCK_DATA_HDR_SIZE);
	f->ev.hdr.type = OBS_EV_LOG;
	f->ev.hdr.pid = pid;
	f->ev.hdr.tid = tid;
	f->ev.hdr.ts_ns = ts;
	f->ev.fd = fd;
	f->ev.dir = SOCK_DIR_EGRESS;
	f->ev.syscall = SOCK_SC_WRITE;
	f->ev.go = goid != 0;
	f->ev.goid = goid;
	f->ev.captured = (uint32_t)len;
	f->ev.bytes = len + gap;
	memcpy(f->ev.data, s, len);
	return log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE + len);
}

static int write_line(struct fixture *f, uint32_t tid, int fd, uint64_t ts, const char *s)
{
	return write_ex(f, PID, tid, 0, fd, ts, s, 0);
}

static const uint8_t trace_a[16] = { 0xa1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t span_a[8] = { 0xa2, 1, 2, 3, 4, 5, 6, 7 };
static const uint8_t trace_b[16] = { 0xb1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
static const uint8_t span_b[8] = { 0xb2, 1, 2, 3, 4, 5, 6, 7 };

UNIT_TEST_FIXTURE(test_one_line_one_write_linked, setup, teardown)
{
	struct fixture *f = *state;

	actors_span_enter(f->actors, PID, actor_key(11, false, 0), trace_a, span_a, 0, 0);
	actors_span_enter(f->actors, PID, actor_key(12, false, 0), trace_b, span_b, 0, 0);
	assert_int_equal(write_line(f, 11, 2, 100, "{\"level\":\"info\",\"msg\":\"a\"}\n"), 0);
	assert_int_equal(write_line(f, 12, 1, 200, "INFO:root:b\n"), 0);
	assert_int_equal(f->n, 2);
	assert_true(f->recs[0].has_span);
	assert_memory_equal(f->recs[0].trace_id, trace_a, 16);
	assert_memory_equal(f->recs[0].span_id, span_a, 8);
	assert_int_equal(f->recs[0].pid, PID);
	assert_int_equal(f->recs[0].tid, 11);
	assert_int_equal(f->recs[0].ts_ns, 100);
	assert_int_equal(f->recs[0].stream, LOG_STREAM_STDERR);
	assert_string_equal(log_record_body(&f->recs[0]), "a");
	assert_true(f->recs[1].has_span);
	assert_memory_equal(f->recs[1].span_id, span_b, 8);
	assert_int_equal(f->recs[1].stream, LOG_STREAM_STDOUT);
	/* a thread serving nothing: no span */
	assert_int_equal(write_line(f, 13, 2, 300, "c\n"), 0);
	assert_int_equal(f->n, 3);
	assert_false(f->recs[2].has_span);
	/* the request is over: no span */
	actors_span_leave(f->actors, PID, actor_key(11, false, 0), span_a);
	assert_int_equal(write_line(f, 11, 2, 400, "d\n"), 0);
	assert_false(f->recs[3].has_span);
}

UNIT_TEST_FIXTURE(test_goroutine_keyed, setup, teardown)
{
	struct fixture *f = *state;

	actors_span_enter(f->actors, PID, actor_key(0, true, 77), trace_a, span_a, 0, 0);
	/* another thread, the same goroutine: linked; another goroutine on that thread: not */
	assert_int_equal(write_ex(f, PID, 31, 77, 2, 1, "x\n", 0), 0);
	assert_int_equal(write_ex(f, PID, 31, 78, 2, 2, "y\n", 0), 0);
	assert_int_equal(f->n, 2);
	assert_true(f->recs[0].has_span);
	assert_memory_equal(f->recs[0].span_id, span_a, 8);
	assert_false(f->recs[1].has_span);
}

UNIT_TEST_FIXTURE(test_flushed_buffer_not_linked, setup, teardown)
{
	struct fixture *f = *state;
	struct log_stats st;

	actors_span_enter(f->actors, PID, actor_key(11, false, 0), trace_a, span_a, 0, 0);
	/* two lines in one write: a buffer flushed later than they were made */
	assert_int_equal(write_line(f, 11, 1, 1, "one\ntwo\n"), 0);
	/* a line split over two writes */
	assert_int_equal(write_line(f, 11, 1, 2, "thr"), 0);
	assert_int_equal(write_line(f, 11, 1, 3, "ee\n"), 0);
	/* a write that ends with the start of the next line */
	assert_int_equal(write_line(f, 11, 1, 4, "four\nfi"), 0);
	assert_int_equal(f->n, 4);
	assert_string_equal(log_record_body(&f->recs[0]), "one");
	assert_string_equal(log_record_body(&f->recs[1]), "two");
	assert_string_equal(log_record_body(&f->recs[2]), "three");
	assert_string_equal(log_record_body(&f->recs[3]), "four");
	for (size_t i = 0; i < f->n; i++)
		assert_false(f->recs[i].has_span);
	/* the end of that line: it began in another write */
	assert_int_equal(write_line(f, 11, 1, 5, "ve\n"), 0);
	assert_int_equal(f->n, 5);
	assert_string_equal(log_record_body(&f->recs[4]), "five");
	assert_false(f->recs[4].has_span);
	/* and now a whole one again */
	assert_int_equal(write_line(f, 11, 1, 6, "six\n"), 0);
	assert_true(f->recs[5].has_span);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.linked, 1);
	assert_int_equal(st.streams, 1);
}

UNIT_TEST_FIXTURE(test_gap_cuts_the_line, setup, teardown)
{
	struct fixture *f = *state;
	struct log_stats st;

	actors_span_enter(f->actors, PID, actor_key(11, false, 0), trace_a, span_a, 0, 0);
	/* a write whose end was not captured, then the rest of its last line */
	assert_int_equal(write_ex(f, PID, 11, 0, 2, 1, "whole\ncut", 5000), 0);
	assert_int_equal(write_line(f, 11, 2, 2, "rest of it\nnext\n"), 0);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.gaps, 1);
	assert_true(st.truncated >= 1);
	/* whole, then what was kept of the cut line (truncated), then next; never "rest of it"
	 * glued to "cut" */
	assert_string_equal(log_record_body(&f->recs[0]), "whole");
	assert_false(f->recs[0].has_span);
	for (size_t i = 1; i < f->n; i++) {
		assert_true(strcmp(log_record_body(&f->recs[i]), "cutrest of it") != 0);
		if (!strcmp(log_record_body(&f->recs[i]), "cut"))
			assert_true(f->recs[i].truncated);
	}
	assert_string_equal(log_record_body(&f->recs[f->n - 1]), "next");
	/* an over-budget marker: nothing captured */
	assert_int_equal(write_ex(f, PID, 11, 0, 2, 3, "", 1 << 20), 0);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.gaps, 2);
}

UNIT_TEST(test_lines_budget)
{
	struct fixture *f = make(3);
	struct log_stats st;
	void *s = f;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(write_line(f, 11, 2, 1000 + i, "x\n"), 0);
	/* the next second: three more */
	for (i = 0; i < 5; i++)
		assert_int_equal(write_line(f, 11, 2, 1000000000ull + 2000 + i, "y\n"), 0);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(f->n, 6);
	assert_int_equal(st.records, 6);
	assert_int_equal(st.rate_dropped, 4);
	teardown(&s);
}

UNIT_TEST_FIXTURE(test_proc_exit_flushes, setup, teardown)
{
	struct fixture *f = *state;
	struct log_stats st;

	assert_int_equal(write_line(f, 11, 2, 10, "no newline at the end"), 0);
	assert_int_equal(write_line(f, 11, 1, 20, "out\n"), 0);
	assert_int_equal(f->n, 1);
	log_tracker_proc_exit(f->t, PID);
	assert_int_equal(f->n, 2);
	assert_string_equal(log_record_body(&f->recs[1]), "no newline at the end");
	assert_int_equal(f->recs[1].ts_ns, 10);
	assert_false(f->recs[1].has_span);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.streams, 0);
	/* nothing left of it */
	log_tracker_proc_exit(f->t, PID);
	assert_int_equal(f->n, 2);
}

UNIT_TEST_FIXTURE(test_streams_bounded, setup, teardown)
{
	struct fixture *f = *state;
	struct log_stats st;
	uint32_t pid;

	for (pid = 1; pid <= LOG_MAX_STREAMS / 2 + 10; pid++) {
		assert_int_equal(write_ex(f, pid, pid, 0, 1, 1, "a", 0), 0);
		assert_int_equal(write_ex(f, pid, pid, 0, 2, 1, "b", 0), 0);
	}
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.streams, LOG_MAX_STREAMS);
	assert_int_equal(st.full, 20);
	for (pid = 1; pid <= LOG_MAX_STREAMS / 2 + 10; pid++)
		log_tracker_proc_exit(f->t, pid);
	log_tracker_get_stats(f->t, &st);
	assert_int_equal(st.streams, 0);
	assert_int_equal(st.records, LOG_MAX_STREAMS);
}

UNIT_TEST_FIXTURE(test_malformed, setup, teardown)
{
	struct fixture *f = *state;

	write_line(f, 11, 2, 1, "x\n");
	assert_int_equal(f->n, 1);
	/* short, claims more than it holds, captured more than moved, a lead, not fd 1 or 2 */
	assert_int_equal(log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE - 1), -EINVAL);
	assert_int_equal(log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE + 1), -EINVAL);
	f->ev.bytes = 1;
	assert_int_equal(log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE + 2), -EINVAL);
	f->ev.bytes = 2;
	f->ev.lead = 1;
	assert_int_equal(log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE + 2), -EINVAL);
	f->ev.lead = 0;
	f->ev.fd = 3;
	assert_int_equal(log_tracker_event(f->t, &f->ev, SOCK_DATA_HDR_SIZE + 2), -EINVAL);
	assert_int_equal(f->n, 1);
}

UNIT_MAIN(NULL, NULL)
