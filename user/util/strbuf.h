/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A growable byte buffer for text output (exposition, JSON, console lines). */
#ifndef OBSPROBE_STRBUF_H
#define OBSPROBE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	bool oom; /* an append failed: the content is incomplete */
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
__attribute__((format(printf, 2, 3))) void strbuf_printf(struct strbuf *sb, const char *fmt, ...);
/* Appends s as the inside of a JSON string (quotes not included). */
void strbuf_json_escape(struct strbuf *sb, const char *s);
/* Appends s as the inside of a Prometheus text-format label value (quote: '"' escaped too) or as
 * HELP text (quote false): backslash and newline escaped, invalid UTF-8 as U+FFFD. */
void strbuf_prom_escape(struct strbuf *sb, const char *s, bool quote);
/* Detaches the buffer; the caller frees it. Never NULL unless oom. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif /* OBSPROBE_STRBUF_H */
