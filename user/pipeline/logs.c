// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "pipeline/logs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "obsprobe/sock.h"
#include "pipeline/logline.h"

#define BUCKETS 1024
#define NS_PER_S 1000000000ull

struct stream {
	struct stream *next;
	uint32_t pid;
	uint8_t fd;	    /* 1 stdout, 2 stderr */
	bool partial;	    /* the last write did not end its line */
	uint64_t last_ts;   /* of the last write */
	uint64_t win_start; /* the budget's second */
	unsigned long win_lines;
	struct log_lines *lines;
};

/* What the write being fed has given so far. */
struct feed {
	struct log_tracker *t;
	struct stream *st;
	const struct sock_data_event *e;
	unsigned int nlines;
	bool held; /* t->rec holds its first line, not sent yet: linked if it stays the only one */
};

struct log_tracker {
	struct actors *actors;
	unsigned long lines_per_s;
	void (*emit)(void *ctx, const struct log_record *r);
	void *ctx;
	struct stream *buckets[BUCKETS];
	struct log_stats stats;
	struct log_record rec; /* large: one, reused */
};

struct log_tracker *log_tracker_new(struct actors *actors, unsigned long lines_per_s,
				    void (*emit)(void *ctx, const struct log_record *r), void *ctx)
{
	struct log_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->actors = actors;
	t->lines_per_s = lines_per_s;
	t->emit = emit;
	t->ctx = ctx;
	return t;
}

static struct stream **slot(struct log_tracker *t, uint32_t pid, uint8_t fd)
{
	struct stream **pp = &t->buckets[(pid * 2654435761u + fd) % BUCKETS];

	while (*pp && ((*pp)->pid != pid || (*pp)->fd != fd))
		pp = &(*pp)->next;
	return pp;
}

static void stream_free(struct stream *st)
{
	log_lines_free(st->lines);
	free(st);
}

void log_tracker_free(struct log_tracker *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < BUCKETS; i++) {
		while (t->buckets[i]) {
			struct stream *st = t->buckets[i];

			t->buckets[i] = st->next;
			stream_free(st);
		}
	}
	free(t);
}

/* The record in t->rec is done: budgeted, then sent. */
static void finish(struct log_tracker *t, struct stream *st, uint64_t ts_ns)
{
	if (ts_ns - st->win_start >= NS_PER_S) {
		st->win_start = ts_ns;
		st->win_lines = 0;
	}
	if (t->lines_per_s && st->win_lines >= t->lines_per_s) {
		t->stats.rate_dropped++;
		return;
	}
	st->win_lines++;
	t->stats.records++;
	t->stats.linked += t->rec.has_span;
	t->stats.truncated += t->rec.truncated;
	t->emit(t->ctx, &t->rec);
}

static void parse(struct log_tracker *t, const struct stream *st, const struct sock_data_event *e,
		  const char *line, size_t len, bool truncated)
{
	log_record_init(&t->rec);
	log_parse_line(&t->rec, line, len, truncated);
	t->rec.pid = st->pid;
	t->rec.tid = e ? e->hdr.tid : 0;
	t->rec.ts_ns = e ? e->hdr.ts_ns : 0;
	t->rec.stream = st->fd;
}

static void on_line(void *ctx, const char *line, size_t len, bool truncated)
{
	struct feed *f = ctx;

	if (f->nlines++ == 0) {
		parse(f->t, f->st, f->e, line, len, truncated);
		f->held = true;
		return;
	}
	if (f->held) {
		f->held = false;
		finish(f->t, f->st, f->e->hdr.ts_ns);
	}
	parse(f->t, f->st, f->e, line, len, truncated);
	finish(f->t, f->st, f->e->hdr.ts_ns);
}

/* A line flushed at the end of its process: no write to tie it to. */
static void on_last_line(void *ctx, const char *line, size_t len, bool truncated)
{
	struct feed *f = ctx;

	parse(f->t, f->st, NULL, line, len, truncated);
	f->t->rec.ts_ns = f->st->last_ts;
	finish(f->t, f->st, f->st->last_ts);
}

static struct stream *stream_get(struct log_tracker *t, uint32_t pid, uint8_t fd)
{
	struct stream **pp = slot(t, pid, fd), *st = *pp;

	if (st)
		return st;
	if (t->stats.streams >= LOG_MAX_STREAMS || !(st = calloc(1, sizeof(*st))) ||
	    !(st->lines = log_lines_new())) {
		free(st);
		t->stats.full++;
		return NULL;
	}
	st->pid = pid;
	st->fd = fd;
	*pp = st;
	t->stats.streams++;
	return st;
}

int log_tracker_event(struct log_tracker *t, const void *data, size_t size)
{
	const struct sock_data_event *e = data;
	struct feed f = { .t = t, .e = e };
	uint64_t gap;
	bool partial_before, ends_line;

	if (size < SOCK_DATA_HDR_SIZE || e->captured > size - SOCK_DATA_HDR_SIZE ||
	    e->captured > e->bytes || e->lead || (e->fd != 1 && e->fd != 2))
		return -EINVAL;
	f.st = stream_get(t, e->hdr.pid, (uint8_t)e->fd);
	if (!f.st)
		return 0;
	f.st->last_ts = e->hdr.ts_ns;
	gap = e->bytes - e->captured;
	t->stats.gaps += gap != 0;
	partial_before = f.st->partial;
	ends_line = e->captured && !gap && e->data[e->captured - 1] == '\n';
	log_lines_feed(f.st->lines, e->data, e->captured, gap, on_line, &f);
	f.st->partial = !ends_line;
	if (f.held) {
		/* one whole line in one write: made by the code that wrote it, just now */
		struct log_record *r = &t->rec;

		r->has_span = !partial_before && ends_line && f.nlines == 1 &&
			      actors_serving(t->actors, e->hdr.pid,
					     actor_key(e->hdr.tid, e->go, e->goid), r->trace_id,
					     r->span_id);
		finish(t, f.st, e->hdr.ts_ns);
	}
	return 0;
}

void log_tracker_proc_exit(struct log_tracker *t, uint32_t pid)
{
	uint8_t fd;

	for (fd = 1; fd <= 2; fd++) {
		struct stream **pp = slot(t, pid, fd), *st = *pp;
		struct feed f = { .t = t, .st = st };

		if (!st)
			continue;
		log_lines_flush(st->lines, on_last_line, &f);
		*pp = st->next;
		stream_free(st);
		t->stats.streams--;
	}
}

void log_tracker_get_stats(const struct log_tracker *t, struct log_stats *out)
{
	*out = t->stats;
}
