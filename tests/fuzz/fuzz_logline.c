// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Input: byte 0 is the size of the pieces the rest is fed in (1..256; a piece whose first byte
 * is 0xff is followed by a gap of its second byte's count of uncaptured bytes), the rest a
 * stream's bytes, split into lines, each parsed; the whole input (up to LOG_LINE_MAX) is also
 * parsed as one line.
 *
 * Besides the sanitizers, it checks that every line is short enough, holds no newline and is
 * not blank, and that every record's offsets lie within its arena's used part, its strings are
 * NUL-terminated valid UTF-8, and nattrs and severity are within bounds. Without gaps, the lines
 * must be the same as when the stream comes in one write.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/logline.h"
#include "util/utf8.h"

static void check_str(const struct log_record *r, uint16_t off)
{
	const char *s;
	size_t n, i, k;

	assert(off < r->arena_used);
	s = log_record_str(r, off);
	assert(memchr(s, '\0', r->arena_used - off));
	n = strlen(s);
	for (i = 0; i < n; i += k) {
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		assert(k);
	}
}

static void check(const struct log_record *r)
{
	size_t i;

	assert(r->arena_used >= 1 && r->arena_used <= LOG_ARENA);
	assert(r->arena[r->arena_used - 1] == '\0');
	assert(r->nattrs <= LOG_MAX_ATTRS);
	assert(r->severity <= 24);
	assert(memchr(r->severity_text, '\0', sizeof(r->severity_text)));
	check_str(r, r->body_off);
	for (i = 0; i < r->nattrs; i++) {
		const struct log_attr *a = &r->attrs[i];

		check_str(r, a->koff);
		assert(a->type <= LOG_VAL_BOOL);
		if (a->type == LOG_VAL_STR)
			check_str(r, a->soff);
		assert(log_record_attr(r, log_record_str(r, a->koff)));
	}
}

struct seen {
	struct log_record *r;
	size_t n;
	uint64_t hash; /* FNV-1a of every line and its truncated flag */
};

static void on_line(void *ctx, const char *line, size_t len, bool truncated)
{
	struct seen *s = ctx;
	struct log_record *r = s->r;
	size_t i;

	assert(len <= LOG_LINE_MAX && line[len] == '\0');
	assert(!memchr(line, '\n', len));
	for (i = 0; i < len && strchr(" \t\r\v\f", line[i]) && line[i]; i++)
		;
	assert(i < len);
	for (i = 0; i < len; i++)
		s->hash = (s->hash ^ (uint8_t)line[i]) * 0x100000001b3ull;
	s->hash = (s->hash ^ (truncated ? 2 : 1)) * 0x100000001b3ull;
	s->n++;
	log_parse_line(r, line, len, truncated);
	assert(r->truncated == truncated);
	check(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct log_record rec; /* 12 KiB: not on the stack */
	struct seen a = { &rec, 0, 0 }, b = { &rec, 0, 0 };
	struct log_lines *l;
	size_t piece, i;
	bool gaps = false;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	data++;
	size--;
	log_record_init(&rec);
	log_parse_line(&rec, (const char *)data, size < LOG_LINE_MAX ? size : LOG_LINE_MAX, false);
	check(&rec);
	l = log_lines_new();
	assert(l);
	for (i = 0; i < size; i += piece) {
		size_t n = size - i < piece ? size - i : piece;

		if (data[i] == 0xff && n > 1) {
			log_lines_feed(l, data + i + 2, n - 2, data[i + 1], on_line, &a);
			gaps = true;
		} else {
			log_lines_feed(l, data + i, n, 0, on_line, &a);
		}
	}
	log_lines_flush(l, on_line, &a);
	log_lines_free(l);
	if (gaps)
		return 0;
	l = log_lines_new();
	assert(l);
	log_lines_feed(l, data, size, 0, on_line, &b);
	log_lines_flush(l, on_line, &b);
	log_lines_free(l);
	assert(a.n == b.n && a.hash == b.hash);
	return 0;
}
