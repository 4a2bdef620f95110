// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* stdout/stderr lines: split from write() chunks however they are cut, with gaps and long
 * lines; parsed as the JSON loggers write them (slog, zap, zerolog, logrus, structlog, pino) or
 * as plain text, with the arena's bounds, invalid UTF-8 and redaction. */
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

#include "pipeline/logline.h"
#include "util/utf8.h"

#define MAX_GOT 64

struct got {
	size_t n;
	char line[MAX_GOT][LOG_LINE_MAX + 1];
	size_t len[MAX_GOT];
	bool trunc[MAX_GOT];
};

static void collect(void *ctx, const char *line, size_t len, bool truncated)
{
	struct got *g = ctx;

	assert_true(g->n < MAX_GOT);
	assert_true(len <= LOG_LINE_MAX);
	assert_int_equal(line[len], '\0');
	memcpy(g->line[g->n], line, len);
	g->line[g->n][len] = '\0';
	g->len[g->n] = len;
	g->trunc[g->n] = truncated;
	g->n++;
}

static struct got *got_new(void)
{
	struct got *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	return g;
}

static void feed(struct log_lines *l, const char *s, uint64_t gap, struct got *g)
{
	log_lines_feed(l, (const uint8_t *)s, strlen(s), gap, collect, g);
}

UNIT_TEST(test_split_every_point)
{
	static const char text[] = "first line\r\n\n   \r\nsecond\n\t\nthird one\nlast";
	size_t a, b, n = strlen(text);

	(void)state;
	/* every way to cut the text into three chunks gives the same lines */
	for (a = 0; a <= n; a++) {
		for (b = a; b <= n; b++) {
			struct log_lines *l = log_lines_new();
			struct got *g = got_new();

			log_lines_feed(l, (const uint8_t *)text, a, 0, collect, g);
			log_lines_feed(l, (const uint8_t *)text + a, b - a, 0, collect, g);
			log_lines_feed(l, (const uint8_t *)text + b, n - b, 0, collect, g);
			assert_int_equal(g->n, 3);
			log_lines_flush(l, collect, g);
			assert_int_equal(g->n, 4);
			assert_string_equal(g->line[0], "first line");
			assert_string_equal(g->line[1], "second");
			assert_string_equal(g->line[2], "third one");
			assert_string_equal(g->line[3], "last");
			assert_false(g->trunc[0] || g->trunc[1] || g->trunc[2] || g->trunc[3]);
			log_lines_free(l);
			free(g);
		}
	}
}

UNIT_TEST(test_split_crlf_nul_flush)
{
	struct log_lines *l = log_lines_new();
	struct got *g = got_new();

	(void)state;
	log_lines_feed(l, (const uint8_t *)"a\0b\r\n\r\n", 7, 0, collect, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], 3);
	assert_memory_equal(g->line[0], "a\0b", 3);
	/* only a '\r' just before the newline goes */
	feed(l, "x\ry\r\r\n", 0, g);
	assert_int_equal(g->len[1], 4);
	assert_memory_equal(g->line[1], "x\ry\r", 4);
	/* flush: a partial line is whole, not truncated; an empty stream gives nothing */
	feed(l, "tail", 0, g);
	log_lines_flush(l, collect, g);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->line[2], "tail");
	assert_false(g->trunc[2]);
	log_lines_flush(l, collect, g);
	feed(l, "  \t ", 0, g);
	log_lines_flush(l, collect, g);
	assert_int_equal(g->n, 3);
	log_lines_free(l);
	log_lines_free(NULL);
	free(g);
}

UNIT_TEST(test_split_long_lines)
{
	struct log_lines *l = log_lines_new();
	struct got *g = got_new();
	char *big = malloc(3 * LOG_LINE_MAX);
	size_t i;

	(void)state;
	assert_non_null(big);
	for (i = 0; i < 3 * LOG_LINE_MAX; i++)
		big[i] = (char)('a' + i % 26);
	/* exactly LOG_LINE_MAX is whole */
	log_lines_feed(l, (const uint8_t *)big, LOG_LINE_MAX, 0, collect, g);
	assert_int_equal(g->n, 0);
	feed(l, "\n", 0, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], LOG_LINE_MAX);
	assert_false(g->trunc[0]);
	/* one byte more, in pieces: cut, the rest up to the newline skipped */
	for (i = 0; i < 2 * LOG_LINE_MAX + 1; i += 1000) {
		size_t n = 2 * LOG_LINE_MAX + 1 - i < 1000 ? 2 * LOG_LINE_MAX + 1 - i : 1000;

		log_lines_feed(l, (const uint8_t *)big + i, n, 0, collect, g);
	}
	assert_int_equal(g->n, 2);
	assert_int_equal(g->len[1], LOG_LINE_MAX);
	assert_true(g->trunc[1]);
	assert_memory_equal(g->line[1], big, LOG_LINE_MAX);
	feed(l, "still the long one\nnext\n", 0, g);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->line[2], "next");
	assert_false(g->trunc[2]);
	/* LOG_LINE_MAX and CRLF is whole however it is cut; one byte more and CRLF is not */
	big[LOG_LINE_MAX] = '\r';
	big[LOG_LINE_MAX + 1] = '\n';
	for (i = LOG_LINE_MAX - 2; i <= LOG_LINE_MAX + 2; i++) {
		log_lines_feed(l, (const uint8_t *)big, i, 0, collect, g);
		log_lines_feed(l, (const uint8_t *)big + i, LOG_LINE_MAX + 2 - i, 0, collect, g);
		assert_int_equal(g->len[g->n - 1], LOG_LINE_MAX);
		assert_false(g->trunc[g->n - 1]);
		g->n--;
	}
	big[LOG_LINE_MAX] = 'x';
	big[LOG_LINE_MAX + 1] = '\r';
	big[LOG_LINE_MAX + 2] = '\n';
	for (i = LOG_LINE_MAX - 2; i <= LOG_LINE_MAX + 3; i++) {
		log_lines_feed(l, (const uint8_t *)big, i, 0, collect, g);
		log_lines_feed(l, (const uint8_t *)big + i, LOG_LINE_MAX + 3 - i, 0, collect, g);
		assert_int_equal(g->len[g->n - 1], LOG_LINE_MAX);
		assert_true(g->trunc[g->n - 1]);
		g->n--;
	}
	/* flushed at LOG_LINE_MAX + 1 bytes: cut */
	log_lines_feed(l, (const uint8_t *)big, LOG_LINE_MAX + 1, 0, collect, g);
	log_lines_flush(l, collect, g);
	assert_int_equal(g->len[g->n - 1], LOG_LINE_MAX);
	assert_true(g->trunc[g->n - 1]);
	g->n--;
	big[LOG_LINE_MAX + 1] = 'y';
	big[LOG_LINE_MAX + 2] = 'z';
	assert_int_equal(g->n, 3);
	/* a long line and its newline in one chunk */
	memcpy(big + LOG_LINE_MAX + 5, "\nafter\n", 7);
	log_lines_feed(l, (const uint8_t *)big, LOG_LINE_MAX + 12, 0, collect, g);
	assert_int_equal(g->n, 5);
	assert_true(g->trunc[3]);
	assert_string_equal(g->line[4], "after");
	log_lines_free(l);
	free(big);
	free(g);
}

UNIT_TEST(test_split_gaps)
{
	struct log_lines *l = log_lines_new();
	struct got *g = got_new();

	(void)state;
	/* the gap cuts "partial", and what follows it up to a newline is a lost line's rest */
	feed(l, "whole\npartial", 100, g);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->line[1], "partial");
	assert_true(g->trunc[1]);
	feed(l, "rest of a lost line", 0, g);
	feed(l, " still\nfresh\n", 0, g);
	assert_int_equal(g->n, 3);
	assert_string_equal(g->line[2], "fresh");
	assert_false(g->trunc[2]);
	/* a gap right after a newline delivers nothing, but still skips */
	feed(l, "done\n", 7, g);
	feed(l, "tail\nok\n", 0, g);
	assert_int_equal(g->n, 5);
	assert_string_equal(g->line[3], "done");
	assert_string_equal(g->line[4], "ok");
	/* a gap-only write, then flush: nothing pending */
	log_lines_feed(l, NULL, 0, 50, collect, g);
	log_lines_flush(l, collect, g);
	assert_int_equal(g->n, 5);
	/* after a flush the stream starts afresh */
	feed(l, "new\n", 0, g);
	assert_string_equal(g->line[5], "new");
	log_lines_free(l);
	free(g);
}

static struct log_record *parse(const char *line)
{
	static struct log_record r;

	log_record_init(&r);
	r.pid = 7;
	log_parse_line(&r, line, strlen(line), false);
	assert_int_equal(r.pid, 7);
	return &r;
}

static const char *sattr(const struct log_record *r, const char *key)
{
	const struct log_attr *a = log_record_attr(r, key);

	assert_non_null(a);
	assert_int_equal(a->type, LOG_VAL_STR);
	return log_record_str(r, a->soff);
}

static int64_t iattr(const struct log_record *r, const char *key, int type)
{
	const struct log_attr *a = log_record_attr(r, key);

	assert_non_null(a);
	assert_int_equal(a->type, type);
	return a->i;
}

UNIT_TEST(test_slog)
{
	struct log_record *r = parse("{\"time\":\"2024-05-01T10:00:00.123456789+02:00\","
				     "\"level\":\"INFO\",\"msg\":\"hello\",\"user\":42}");

	(void)state;
	assert_true(r->json);
	assert_string_equal(log_record_body(r), "hello");
	assert_int_equal(r->severity, 9);
	assert_string_equal(r->severity_text, "INFO");
	assert_int_equal(r->time_unix_ns, 1714550400123456789ull);
	assert_int_equal(r->nattrs, 1);
	assert_int_equal(iattr(r, "user", LOG_VAL_INT), 42);
	assert_null(log_record_attr(r, "msg"));
	assert_null(log_record_attr(r, "level"));
	assert_null(log_record_attr(r, "time"));

	r = parse("{\"time\":\"2024-05-01T08:00:00Z\",\"level\":\"INFO+2\",\"msg\":\"m\"}");
	assert_int_equal(r->severity, 11);
	assert_string_equal(r->severity_text, "INFO+2");
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull);
	r = parse("{\"level\":\"WARN+9\",\"msg\":\"m\"}");
	assert_int_equal(r->severity, 16);
	r = parse("{\"level\":\"DEBUG-4\",\"msg\":\"m\"}");
	assert_int_equal(r->severity, 5);
	r = parse("{\"time\":\"2024-05-01T10:00:00.5-01:30\",\"level\":\"ERROR\",\"msg\":\"m\"}");
	assert_int_equal(r->severity, 17);
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull + 12600500000000ull);
}

UNIT_TEST(test_zap)
{
	struct log_record *r = parse("{\"level\":\"info\",\"ts\":1714550400.123456,"
				     "\"caller\":\"app/main.go:12\",\"msg\":\"hello\"}");

	(void)state;
	assert_string_equal(log_record_body(r), "hello");
	assert_int_equal(r->severity, 9);
	assert_string_equal(r->severity_text, "info");
	assert_int_equal(r->time_unix_ns, 1714550400123456000ull);
	assert_int_equal(r->nattrs, 1);
	assert_string_equal(sattr(r, "caller"), "app/main.go:12");

	r = parse("{\"level\":\"dpanic\",\"ts\":\"2024-05-01T08:00:00.000Z\",\"msg\":\"x\","
		  "\"stacktrace\":\"main.main\\n\\tmain.go:3\"}");
	assert_int_equal(r->severity, 17);
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull);
	assert_string_equal(sattr(r, "stacktrace"), "main.main\n\tmain.go:3");
}

UNIT_TEST(test_zerolog_logrus)
{
	struct log_record *r = parse("{\"level\":\"warn\",\"service\":\"api\",\"latency\":0.25,"
				     "\"ok\":false,\"time\":\"2024-05-01T08:00:00Z\","
				     "\"message\":\"slow request\"}");

	(void)state;
	assert_string_equal(log_record_body(r), "slow request");
	assert_int_equal(r->severity, 13);
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull);
	assert_int_equal(r->nattrs, 3);
	assert_string_equal(sattr(r, "service"), "api");
	assert_true(log_record_attr(r, "latency")->type == LOG_VAL_DOUBLE);
	assert_true(log_record_attr(r, "latency")->d == 0.25);
	assert_int_equal(iattr(r, "ok", LOG_VAL_BOOL), 0);
	/* zerolog's unix time */
	r = parse("{\"level\":\"debug\",\"time\":1714550400,\"message\":\"m\"}");
	assert_int_equal(r->severity, 5);
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull);

	r = parse(
		"{\"level\":\"warning\",\"msg\":\"disk low\",\"time\":\"2024-05-01T10:00:00+02:00\","
		"\"free\":12}");
	assert_int_equal(r->severity, 13);
	assert_string_equal(r->severity_text, "warning");
	assert_int_equal(r->time_unix_ns, 1714550400000000000ull);
	r = parse("{\"level\":\"fatal\",\"msg\":\"bye\"}");
	assert_int_equal(r->severity, 21);
	r = parse("{\"level\":\"panic\",\"msg\":\"bye\"}");
	assert_int_equal(r->severity, 21);
}

UNIT_TEST(test_structlog_pino_others)
{
	struct log_record *r = parse("{\"event\": \"user logged in\", \"user_id\": 7, "
				     "\"level\": \"info\", \"timestamp\": "
				     "\"2024-05-01T08:00:00.250000Z\"}");

	(void)state;
	assert_string_equal(log_record_body(r), "user logged in");
	assert_int_equal(r->severity, 9);
	assert_int_equal(r->time_unix_ns, 1714550400250000000ull);
	assert_int_equal(iattr(r, "user_id", LOG_VAL_INT), 7);
	assert_int_equal(r->nattrs, 1);

	r = parse("{\"level\":30,\"time\":1714550400123,\"pid\":12,\"hostname\":\"h\","
		  "\"msg\":\"request completed\"}");
	assert_int_equal(r->severity, 9);
	assert_string_equal(r->severity_text, "30");
	assert_int_equal(r->time_unix_ns, 1714550400123000000ull);
	assert_int_equal(r->nattrs, 2);
	assert_int_equal(parse("{\"level\":10,\"msg\":\"m\"}")->severity, 1);
	assert_int_equal(parse("{\"level\":20,\"msg\":\"m\"}")->severity, 5);
	assert_int_equal(parse("{\"level\":40,\"msg\":\"m\"}")->severity, 13);
	assert_int_equal(parse("{\"level\":50,\"msg\":\"m\"}")->severity, 17);
	assert_int_equal(parse("{\"level\":60,\"msg\":\"m\"}")->severity, 21);
	assert_int_equal(parse("{\"level\":99,\"msg\":\"m\"}")->severity, 0);

	/* epoch ns; ECS and Python's keys */
	r = parse("{\"@timestamp\":1714550400123456789,\"log.level\":\"ERROR\",\"message\":\"m\"}");
	assert_int_equal(r->time_unix_ns, 1714550400123456789ull);
	assert_int_equal(r->severity, 17);
	assert_int_equal(r->nattrs, 0);
	r = parse("{\"levelname\":\"CRITICAL\",\"message\":\"m\"}");
	assert_int_equal(r->severity, 21);
	r = parse("{\"severity\":\"NOTICE\",\"message\":\"m\"}");
	assert_int_equal(r->severity, 9);
	/* unknown level: its text is kept, severity stays unspecified */
	r = parse("{\"level\":\"verbose\",\"msg\":\"m\"}");
	assert_int_equal(r->severity, 0);
	assert_string_equal(r->severity_text, "verbose");
}

UNIT_TEST(test_json_body_and_nested)
{
	struct log_record *r = parse("  {\"a\":{\"b\":[1,2,{\"c\":\"/x\"}]},\"n\":null,"
				     "\"msg\":{\"not\":\"a string\"}} ");

	(void)state;
	/* no string message: the body is the whole line; nested values as compact JSON */
	assert_true(r->json);
	assert_string_equal(log_record_body(r), "  {\"a\":{\"b\":[1,2,{\"c\":\"/x\"}]},\"n\":null,"
						"\"msg\":{\"not\":\"a string\"}} ");
	assert_string_equal(sattr(r, "a"), "{\"b\":[1,2,{\"c\":\"/x\"}]}");
	assert_string_equal(sattr(r, "msg"), "{\"not\":\"a string\"}");
	assert_null(log_record_attr(r, "n"));
	assert_int_equal(r->nattrs, 2);
	/* a time that does not parse stays a field */
	r = parse("{\"time\":\"yesterday\",\"msg\":\"m\"}");
	assert_int_equal(r->time_unix_ns, 0);
	assert_string_equal(sattr(r, "time"), "yesterday");
	/* not one JSON object: plain */
	assert_true(parse("{\"msg\":\"m\"}\r\n")->json);
	assert_false(parse("{\"a\":1} trailing")->json);
	assert_false(parse("{\"a\":1")->json);
	assert_false(parse("[1,2]")->json);
	assert_false(parse("{not json}")->json);
	assert_string_equal(log_record_body(parse("{\"a\":1} trailing")), "{\"a\":1} trailing");
}

UNIT_TEST(test_redaction)
{
	struct log_record *r = parse("{\"msg\":\"token=abc in body stays\",\"Authorization\":"
				     "\"Bearer x\",\"db_password\":\"p\",\"API_KEY\":12,"
				     "\"session_cookie\":{\"a\":1},\"aws_secret\":true,"
				     "\"refresh_token\":\"t\",\"apikey\":\"k\",\"passwd\":\"p\","
				     "\"credentials\":[1],\"user\":\"bob\"}");

	(void)state;
	assert_string_equal(log_record_body(r), "token=abc in body stays");
	assert_string_equal(sattr(r, "Authorization"), "[REDACTED]");
	assert_string_equal(sattr(r, "db_password"), "[REDACTED]");
	assert_string_equal(sattr(r, "API_KEY"), "[REDACTED]");
	assert_string_equal(sattr(r, "session_cookie"), "[REDACTED]");
	assert_string_equal(sattr(r, "aws_secret"), "[REDACTED]");
	assert_string_equal(sattr(r, "refresh_token"), "[REDACTED]");
	assert_string_equal(sattr(r, "apikey"), "[REDACTED]");
	assert_string_equal(sattr(r, "passwd"), "[REDACTED]");
	assert_string_equal(sattr(r, "credentials"), "[REDACTED]");
	assert_string_equal(sattr(r, "user"), "bob");
}

static void check_utf8(const char *s)
{
	size_t n = strlen(s), i, k;

	for (i = 0; i < n; i += k) {
		k = utf8_seq_len((const unsigned char *)s + i, n - i);
		assert_true(k > 0);
	}
}

static void check_record(const struct log_record *r)
{
	size_t i;

	assert_true(r->arena_used >= 1 && r->arena_used <= LOG_ARENA);
	assert_int_equal(r->arena[r->arena_used - 1], '\0');
	assert_true(r->nattrs <= LOG_MAX_ATTRS);
	check_utf8(log_record_body(r));
	check_utf8(r->severity_text);
	for (i = 0; i < r->nattrs; i++) {
		assert_true(r->attrs[i].koff < r->arena_used);
		check_utf8(log_record_str(r, r->attrs[i].koff));
		if (r->attrs[i].type == LOG_VAL_STR) {
			assert_true(r->attrs[i].soff < r->arena_used);
			check_utf8(log_record_str(r, r->attrs[i].soff));
		}
	}
}

UNIT_TEST(test_arena_exhaustion)
{
	static struct log_record r;
	char *line = malloc(LOG_LINE_MAX + 1), *p = line;
	size_t i;

	(void)state;
	assert_non_null(line);
	/* an 8 KiB line of 40 fields of ~200 bytes, each value all invalid bytes (3x in UTF-8) */
	p += sprintf(p, "{\"level\":\"error\",\"msg\":\"big\"");
	for (i = 0; i < 40; i++) {
		p += sprintf(p, ",\"field_%02zu\":\"", i);
		memset(p, 0xff, 190);
		p += 190;
		*p++ = '"';
	}
	*p++ = '}';
	assert_true((size_t)(p - line) <= LOG_LINE_MAX);
	log_record_init(&r);
	log_parse_line(&r, line, (size_t)(p - line), false);
	assert_true(r.json);
	assert_int_equal(r.severity, 17);
	assert_string_equal(log_record_body(&r), "big");
	check_record(&r);
	/* 21 fields fit (9 + 571 bytes each after "" and "big"), the 22nd's value is cut at a
	 * character, and the arena is full: the rest are dropped, not overflowing */
	assert_int_equal(r.nattrs, 22);
	assert_int_equal(r.arena_used, LOG_ARENA);
	assert_int_equal(strlen(sattr(&r, "field_00")), 190 * 3);
	assert_int_equal(strlen(sattr(&r, "field_20")), 190 * 3);
	assert_int_equal(strlen(sattr(&r, "field_21")), 93);
	assert_null(log_record_attr(&r, "field_22"));

	/* 30 small fields: LOG_MAX_ATTRS are kept */
	p = line + sprintf(line, "{\"msg\":\"m\"");
	for (i = 0; i < 30; i++)
		p += sprintf(p, ",\"f%zu\":%zu", i, i);
	*p++ = '}';
	log_parse_line(&r, line, (size_t)(p - line), false);
	assert_int_equal(r.nattrs, LOG_MAX_ATTRS);
	assert_int_equal(iattr(&r, "f23", LOG_VAL_INT), 23);
	assert_null(log_record_attr(&r, "f24"));

	/* a plain line of invalid bytes: the body is cut at a character */
	memset(line, 0x80, LOG_LINE_MAX);
	log_parse_line(&r, line, LOG_LINE_MAX, true);
	assert_true(r.truncated);
	assert_false(r.json);
	assert_int_equal(strlen(log_record_body(&r)), (LOG_ARENA - 2) / 3 * 3);
	check_record(&r);
	free(line);
}

UNIT_TEST(test_invalid_utf8)
{
	static const char line[] = "{\"msg\":\"caf\xc3\xa9 \xff\xfe\",\"k\\u0000x\":\"a\\u0000b\"}";
	struct log_record r;

	(void)state;
	log_record_init(&r);
	log_parse_line(&r, line, sizeof(line) - 1, false);
	assert_true(r.json);
	assert_string_equal(log_record_body(&r), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(sattr(&r, "k"), "a\xef\xbf\xbd"
					    "b");
	check_record(&r);
	/* plain, with a NUL and a cut sequence */
	log_parse_line(&r, "WARN x\0y \xe2\x82", 11, false);
	assert_int_equal(r.severity, 13);
	assert_string_equal(log_record_body(&r), "WARN x\xef\xbf\xbdy \xef\xbf\xbd\xef\xbf\xbd");
	check_record(&r);
	/* a level whose text is longer than severity_text: cut */
	log_parse_line(&r,
		       "{\"level\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		       "\xc3\xa9\"}",
		       28, false);
	assert_int_equal(r.severity, 0);
	assert_int_equal(strlen(r.severity_text), 14);
	check_record(&r);
}

static void plain(const char *line, uint8_t sev, const char *text)
{
	struct log_record *r = parse(line);

	assert_false(r->json);
	assert_string_equal(log_record_body(r), line);
	assert_int_equal(r->severity, sev);
	assert_string_equal(r->severity_text, text);
	assert_int_equal(r->nattrs, 0);
}

UNIT_TEST(test_plain_severity)
{
	(void)state;
	plain("2024-01-02 03:04:05,123 ERROR [main] db down", 17, "ERROR");
	plain("2024-01-02T03:04:05Z WARN retrying", 13, "WARN");
	plain("[2024-01-02T03:04:05Z INFO  app] started", 9, "INFO");
	plain("WARNING:root:disk almost full", 13, "WARNING");
	plain("error: file not found", 17, "error");
	plain("Error: file not found", 17, "Error");
	plain("[error] upstream timed out", 17, "error");
	plain("2024/01/02 03:04:05 [warn] 12#12: slow", 13, "warn");
	plain("DEBUG", 5, "DEBUG");
	plain("  info: listening on :8080", 9, "info");
	plain("time=2024-01-02T03:04:05Z level=WARN msg=\"slow request\" ms=900", 13, "WARN");
	plain("ts=1 lvl=err msg=x", 17, "err");
	plain("msg=x severity=\"critical\"", 21, "critical");
	plain("time=\"t\" level=INFO+2 msg=ok", 11, "INFO+2");
	/* nothing unambiguous: no severity */
	plain("no error here", 0, "");
	plain("Error connecting to the database", 0, "");
	plain("starting server, level=unknown", 0, "");
	plain("msg=\"bad level=error inside a quote\"", 0, "");
	plain("user said: ERROR", 0, "");
	plain("2024-01-02 03:04:05 12:00:00 ERROR three timestamps", 0, "");
	plain("42 ERROR pid first", 0, "");
	plain("[ERROR", 0, "");
	plain("ERRORS: 3", 0, "");
	plain("infoline", 0, "");
	plain("{\"level\":\"error\"", 0, "");
}

UNIT_TEST(test_record_lookups)
{
	struct log_record r;

	(void)state;
	log_record_init(&r);
	assert_string_equal(log_record_body(&r), "");
	assert_string_equal(log_record_str(&r, 5000), "");
	assert_null(log_record_attr(&r, "x"));
	assert_int_equal(log_severity_of("Warning", 7), 13);
	assert_int_equal(log_severity_of("INFO+", 5), 0);
	assert_int_equal(log_severity_of("5", 1), 0);
	assert_int_equal(log_severity_of("", 0), 0);
}

UNIT_TEST(test_record_by_hand)
{
	struct log_record *r = malloc(sizeof(*r));
	const struct log_attr *a;
	char big[LOG_ARENA];
	size_t i, room;

	(void)state;
	assert_non_null(r);
	log_record_init(r);
	log_record_set_body(r, "boom\xff", 5);
	assert_string_equal(log_record_body(r), "boom\xef\xbf\xbd");
	assert_int_equal(log_record_add_str(r, "k", "v", 1), 0);
	assert_int_equal(log_record_add_int(r, "n", -7), 0);
	assert_int_equal(log_record_add_bool(r, "b", true), 0);
	a = log_record_attr(r, "k");
	assert_non_null(a);
	assert_int_equal(a->type, LOG_VAL_STR);
	assert_string_equal(log_record_str(r, a->soff), "v");
	a = log_record_attr(r, "n");
	assert_int_equal(a->type, LOG_VAL_INT);
	assert_int_equal(a->i, -7);
	a = log_record_attr(r, "b");
	assert_int_equal(a->type, LOG_VAL_BOOL);
	assert_int_equal(a->i, 1);

	/* a value that fills the room exactly leaves none; a key that no longer fits is refused */
	room = log_record_room(r);
	assert_true(room > 3);
	memset(big, 'x', sizeof(big));
	assert_int_equal(log_record_add_str(r, "s", big, room - 2), 0);
	assert_int_equal(log_record_room(r), 0);
	assert_string_equal(log_record_str(r, log_record_attr(r, "s")->soff) + room - 3, "x");
	assert_int_equal(log_record_add_int(r, "late", 1), -ENOSPC);
	assert_null(log_record_attr(r, "late"));
	assert_int_equal(r->arena_used, LOG_ARENA);

	log_record_init(r);
	for (i = 0; i < LOG_MAX_ATTRS; i++)
		assert_int_equal(log_record_add_int(r, "i", (int64_t)i), 0);
	assert_int_equal(log_record_add_int(r, "j", 0), -ENOSPC);
	assert_int_equal(r->nattrs, LOG_MAX_ATTRS);
	free(r);
}

UNIT_MAIN(NULL, NULL)
