/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A line a watched process wrote to its stdout or stderr, as obsprobe exports it (OTLP's
 * LogRecord): the line's message, severity and fields, and the span of the request its thread or
 * goroutine was serving when it wrote it. Strings live in the record's arena and are named by
 * offset, so records copy safely (queues).
 */
#ifndef OBSPROBE_LOGREC_H
#define OBSPROBE_LOGREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define LOG_LINE_MAX 8192 /* bytes of one line kept; a longer line is cut and marked truncated */
#define LOG_MAX_ATTRS 24
#define LOG_ARENA (LOG_LINE_MAX + 4096)
#define LOG_SEVERITY_TEXT_MAX 16

enum log_stream {
	LOG_STREAM_STDOUT = 1,
	LOG_STREAM_STDERR = 2,
};

enum log_value_type {
	LOG_VAL_STR = 0,
	LOG_VAL_INT = 1,
	LOG_VAL_DOUBLE = 2,
	LOG_VAL_BOOL = 3,
};

struct log_attr {
	uint16_t koff; /* key: offset into the record's arena */
	uint16_t soff; /* LOG_VAL_STR: the value, offset into the arena */
	uint8_t type;  /* enum log_value_type */
	int64_t i;     /* LOG_VAL_INT; LOG_VAL_BOOL: 0 or 1 */
	double d;      /* LOG_VAL_DOUBLE */
};

struct log_record {
	uint64_t ts_ns;	       /* CLOCK_MONOTONIC of the write that ended the line */
	uint64_t time_unix_ns; /* the time the line itself gives (JSON time, ts, ...); 0: none */
	uint32_t pid, tid;
	uint8_t stream;	  /* enum log_stream */
	uint8_t severity; /* OTLP SeverityNumber: 0 unspecified, 1-4 TRACE, 5-8 DEBUG, 9-12 INFO,
			   * 13-16 WARN, 17-20 ERROR, 21-24 FATAL */
	bool truncated;	  /* the line was longer than LOG_LINE_MAX, or part of it was lost */
	bool json;	  /* the line was a JSON object */
	bool has_span;	  /* written while its thread or goroutine served the span below */
	uint8_t trace_flags;
	uint8_t trace_id[16];
	uint8_t span_id[8];
	char severity_text[LOG_SEVERITY_TEXT_MAX]; /* as the line spells it ("" when none) */
	uint16_t body_off; /* the message (a JSON line's msg/message/event), else the whole line */
	size_t nattrs;
	struct log_attr attrs[LOG_MAX_ATTRS];
	size_t arena_used;
	char arena[LOG_ARENA];
};

/* The arena's string at off ("" when off is out of bounds). */
static inline const char *log_record_str(const struct log_record *r, uint16_t off)
{
	return off < r->arena_used ? r->arena + off : "";
}

static inline const char *log_record_body(const struct log_record *r)
{
	return log_record_str(r, r->body_off);
}

/* The attribute named key, NULL when none. */
static inline const struct log_attr *log_record_attr(const struct log_record *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->nattrs && i < LOG_MAX_ATTRS; i++)
		if (!strcmp(log_record_str(r, r->attrs[i].koff), key))
			return &r->attrs[i];
	return NULL;
}

#endif /* OBSPROBE_LOGREC_H */
