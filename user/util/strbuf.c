// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "util/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

void strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void strbuf_free(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->buf);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->oom = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

static bool strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *nb;

	if (sb->oom)
		return false;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 256;
	while (cap < need)
		cap *= 2;
	nb = realloc(sb->buf, cap);
	if (!nb) {
		sb->oom = true;
		return false;
	}
	sb->buf = nb;
	sb->cap = cap;
	return true;
}

void strbuf_append(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_grow(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !strbuf_grow(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void strbuf_json_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };

			strbuf_append(sb, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_printf(sb, "\\u%04x", c);
		} else if (c < 0x80) {
			strbuf_append(sb, (const char *)&c, 1);
		} else {
			size_t n = utf8_seq_len((const unsigned char *)s, SIZE_MAX);

			/* JSON must be valid UTF-8: a byte that starts no sequence becomes U+FFFD */
			if (n) {
				strbuf_append(sb, s, n);
				s += n - 1;
			} else {
				strbuf_append(sb, "\xef\xbf\xbd", 3);
			}
		}
	}
}

/* Invalid UTF-8 becomes U+FFFD: label values come from observed traffic, and one bad byte makes
 * Prometheus reject the scrape. Runs of bytes that need nothing are appended whole. */
void strbuf_prom_escape(struct strbuf *sb, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	const char *esc;
	size_t n;

	while (*p) {
		if (*p == '\\') {
			esc = "\\\\";
		} else if (*p == '\n') {
			esc = "\\n";
		} else if (*p == '"' && quote) {
			esc = "\\\"";
		} else if (*p < 0x80) {
			p++;
			continue;
		} else {
			n = utf8_seq_len(p, SIZE_MAX);
			if (n) {
				p += n;
				continue;
			}
			esc = "\xef\xbf\xbd";
		}
		strbuf_append(sb, (const char *)run, (size_t)(p - run));
		strbuf_puts(sb, esc);
		run = ++p;
	}
	strbuf_append(sb, (const char *)run, (size_t)(p - run));
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *b;

	if (sb->oom) {
		strbuf_free(sb);
		return NULL;
	}
	if (!sb->buf)
		strbuf_grow(sb, 0), sb->buf ? sb->buf[0] = '\0' : 0;
	b = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb);
	return b;
}
