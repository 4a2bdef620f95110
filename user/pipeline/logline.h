/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a watched process writes to stdout/stderr, from captured write() chunks to log records:
 * a line splitter per stream (bounded, gap-aware) and a parser that reads one line's message,
 * severity, time and fields, as JSON loggers (slog, zap, zerolog, logrus, structlog, pino,
 * bunyan) write them, or from a plain line's leading level word or logfmt level=. Pure: no I/O,
 * no globals.
 */
#ifndef OBSPROBE_LOGLINE_H
#define OBSPROBE_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/logrec.h"

/* Called once per complete line: without its '\n' or a '\r' before it, never empty or only
 * whitespace, at most LOG_LINE_MAX bytes; line[len] is '\0' but the line may hold NULs. */
typedef void (*log_line_fn)(void *ctx, const char *line, size_t len, bool truncated);

/* One stream's partial line: at most LOG_LINE_MAX bytes buffered, and the '\r' that may follow
 * them (a LOG_LINE_MAX line ending in CRLF is whole). */
struct log_lines;

struct log_lines *log_lines_new(void);
void log_lines_free(struct log_lines *l);

/*
 * Feeds one write: len captured bytes at data, then gap bytes that were not captured. A line
 * longer than LOG_LINE_MAX is delivered cut, truncated, and the rest of it skipped. A gap cuts
 * the current line (delivered truncated) and skips captured bytes up to the first newline after
 * it: the gap may have held newlines, so what follows it may be a line whose start is lost.
 */
void log_lines_feed(struct log_lines *l, const uint8_t *data, size_t len, uint64_t gap,
		    log_line_fn fn, void *ctx);
/* The stream ended: a buffered partial line is delivered, not truncated. */
void log_lines_flush(struct log_lines *l, log_line_fn fn, void *ctx);

/* Zeroes r: empty arena, body "". */
void log_record_init(struct log_record *r);
/*
 * Fills r's body, severity, severity_text, time_unix_ns, json, truncated and attrs from one line
 * (len bytes, NULs allowed); the other fields (pid, stream, span, ...) are left as they are.
 * Every string in the arena is valid UTF-8 (invalid bytes and NULs become U+FFFD) and is cut,
 * never overflowed, when the arena is full.
 */
void log_parse_line(struct log_record *r, const char *line, size_t len, bool truncated);
/* Sets r's body to len bytes at s, kept as log_parse_line() keeps text (valid UTF-8, cut when
 * the arena is full). For records built by hand: errors, events. */
void log_record_set_body(struct log_record *r, const char *s, size_t len);
/* Bytes of text one more string fits in r's arena (its NUL aside). */
size_t log_record_room(const struct log_record *r);
/* Adds the attribute key = value (a string as set_body keeps it). 0, or -ENOSPC when attrs are
 * full or the key does not fit whole: nothing added. */
int log_record_add_str(struct log_record *r, const char *key, const char *s, size_t len);
int log_record_add_int(struct log_record *r, const char *key, int64_t v);
int log_record_add_bool(struct log_record *r, const char *key, bool v);

/* OTLP SeverityNumber of a level as loggers spell it ("warn", "ERROR", slog's "INFO+2", pino's
 * "30"), 0 when it is no level word. */
uint8_t log_severity_of(const char *s, size_t len);

#endif /* OBSPROBE_LOGLINE_H */
