// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: ring-buffer records, each a 2-byte little-endian length and that many bytes (the last
 * one whatever is left). Each record is copied into a heap block of exactly its size, as
 * libbpf hands it over (8-byte aligned, nothing readable past its end), and dispatched as
 * app.c's handle_event does: OBS_EV_PROC_EXIT to conn_table_proc_exit and the log tracker,
 * OBS_EV_LIBPQ to the PostgreSQL tracker, OBS_EV_LOG to the log tracker (a lines budget of 8 a
 * second; its records checked whole), everything else to sock_event_decode. The connection table holds at most
 * MAX_CONNS connections, so eviction happens all the time, and has the real PostgreSQL and
 * HTTP trackers registered in the app's order, with the app's thread -> span wiring and a span
 * sink that checks each span. Held HTTP spans are flushed at each record's time.
 *
 * Besides the sanitizers, it checks that sock_event_decode returns 0 or -EINVAL, -EINVAL for
 * anything but a sock event, that the table never holds more than MAX_CONNS, and that spans are
 * whole: a known kind, an end not before their start, strings that end inside the span.
 * tests/fuzz/corpus/fuzz_events.py writes the seed corpus.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "obsprobe/libpq.h"
#include "pipeline/conn.h"
#include "pipeline/logline.h"
#include "pipeline/logs.h"
#include "probes/sock.h"
#include "protocols/http.h"
#include "protocols/pg.h"

#define MAX_CONNS 4

static void check_span(void *ctx, const struct span *s)
{
	size_t i;

	(void)ctx;
	assert(s->kind == SPAN_KIND_SERVER || s->kind == SPAN_KIND_CLIENT);
	assert(s->end_ns >= s->start_ns);
	assert(memchr(s->name, '\0', sizeof(s->name)));
	assert(s->nattrs <= SPAN_MAX_ATTRS);
	assert(s->arena_used <= SPAN_ARENA);
	for (i = 0; i < s->nattrs; i++) {
		const struct span_attr *a = &s->attrs[i];

		assert(a->key);
		if (!a->is_int) {
			assert(a->soff < SPAN_ARENA);
			assert(memchr(s->arena + a->soff, '\0', SPAN_ARENA - a->soff));
		}
	}
}

static void check_log(void *ctx, const struct log_record *r)
{
	size_t i;

	(void)ctx;
	assert(r->stream == LOG_STREAM_STDOUT || r->stream == LOG_STREAM_STDERR);
	assert(r->arena_used <= LOG_ARENA && r->body_off < LOG_ARENA);
	assert(memchr(r->arena + r->body_off, '\0', LOG_ARENA - r->body_off));
	assert(memchr(r->severity_text, '\0', sizeof(r->severity_text)));
	assert(r->nattrs <= LOG_MAX_ATTRS);
	for (i = 0; i < r->nattrs; i++) {
		assert(r->attrs[i].koff < LOG_ARENA);
		assert(r->attrs[i].type != LOG_VAL_STR || r->attrs[i].soff < LOG_ARENA);
	}
}

static bool parent(void *ctx, uint32_t pid, uint64_t actor, uint8_t trace_id[16],
		   uint8_t span_id[8])
{
	return actors_parent(conn_table_actors(ctx), pid, actor, 0, trace_id, span_id);
}

static bool is_sock_event(uint32_t type)
{
	return type == OBS_EV_SOCK_OPEN || type == OBS_EV_SOCK_DATA || type == OBS_EV_SOCK_CLOSE ||
	       type == OBS_EV_GO;
}

static void dispatch(struct conn_table *conns, struct pg_tracker *pg, struct http_tracker *http,
		     struct log_tracker *logs, const void *rec, size_t size)
{
	struct log_stats ls;
	const struct obs_event_hdr *h = rec;
	struct conn_table_stats st;
	struct actors_stats as;
	int ret;

	if (size >= sizeof(*h) && h->type == OBS_EV_PROC_EXIT) {
		log_tracker_proc_exit(logs, h->pid);
		conn_table_proc_exit(conns, h->pid, h->ts_ns);
	} else if (size >= sizeof(*h) && h->type == OBS_EV_LOG) {
		ret = log_tracker_event(logs, rec, size);
		assert(ret == 0 || ret == -EINVAL);
	} else if (size >= sizeof(*h) && h->type == OBS_EV_LIBPQ) {
		ret = pg_tracker_libpq(pg, rec, size);
		assert(ret == 0 || ret == -EINVAL);
		if (size < LIBPQ_EVENT_HDR || size > sizeof(struct libpq_event))
			assert(ret == -EINVAL);
	} else {
		ret = sock_event_decode(conns, rec, size);
		assert(ret == 0 || ret == -EINVAL);
		if (size < sizeof(*h) || !is_sock_event(h->type))
			assert(ret == -EINVAL);
	}
	if (size >= sizeof(*h)) {
		conn_table_reap(conns, h->ts_ns);
		http_tracker_flush_held(http, h->ts_ns);
	}
	conn_table_get_stats(conns, &st);
	assert(st.conns <= MAX_CONNS);
	actors_get_stats(conn_table_actors(conns), &as);
	assert(as.actors <= 65536);
	log_tracker_get_stats(logs, &ls);
	assert(ls.streams <= LOG_MAX_STREAMS && ls.linked <= ls.records);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_tracker_ops http_ops = { .span = check_span };
	struct pg_tracker_ops pg_ops = { .span = check_span, .parent = parent };
	struct conn_table *conns = conn_table_new(MAX_CONNS);
	struct http_tracker *http;
	struct log_tracker *logs;
	struct pg_tracker *pg;

	assert(conns);
	logs = log_tracker_new(conn_table_actors(conns), 8, check_log, NULL);
	assert(logs);
	/* as the app runs it: closed connections take late events for a while */
	conn_table_set_close_grace(conns, 20000000);
	pg_ops.ctx = conns;
	/* sniffers in the app's order: PostgreSQL, then HTTP, which takes any bytes */
	pg = pg_tracker_new(&pg_ops, conns);
	http = http_tracker_new(&http_ops, conns);
	assert(pg && http);

	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;
		uint8_t *rec;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		rec = malloc(len ? len : 1);
		assert(rec);
		memcpy(rec, data, len);
		dispatch(conns, pg, http, logs, rec, len);
		free(rec);
		data += len;
		size -= len;
	}

	http_tracker_flush_held(http, UINT64_MAX);
	log_tracker_free(logs);
	/* the app's teardown order: the trackers outlive the table, whose close reaches them */
	conn_table_free(conns);
	http_tracker_free(http);
	pg_tracker_free(pg);
	return 0;
}
